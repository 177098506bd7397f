"""Custom domains: a domain's routes to the stack's HTTP functions, over HTTP or HTTPS.

FC 3.0's `alicloud_fcv3_custom_domain` (terraform-provider-alicloud
resource_alicloud_fcv3_custom_domain.go): `custom_domain_name` (ForceNew), `protocol` HTTP, HTTPS
or "HTTP,HTTPS" (StringInSlice, :133), `route_config.routes[]` (path, function_name, qualifier,
methods), `cert_config` (cert_name, certificate, private_key; the private key is never read back,
Read keeps the one given, :546), `auth_config.auth_type` anonymous, function or jwt.

What FC needs outside Pulumi (FC 3.0 "Configure a custom domain name"): a CNAME from the domain to
`<account id>.<region>.fc.aliyuncs.com`, made before the domain is created (FC checks it), and in
mainland China regions an ICP filing for the domain. The default `fcapp.run` domain adds
`content-disposition: attachment` to every answer, so browsers download instead of showing it;
a custom domain serves answers as they are.
"""

from __future__ import annotations

import re
from typing import NotRequired, TypedDict

import pulumi
import pulumi_alicloud as alicloud

from infra.errors import ConfigError
from infra.http_trigger import METHODS, methods_problems

PROTOCOLS = ("HTTP", "HTTPS", "HTTP,HTTPS")
_DOMAIN = re.compile(r"(?=.{1,253}\Z)(?:[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}\Z")


class RouteArgs(TypedDict):
    """One path of the domain, served by one function."""

    path: str
    """`/`-rooted path; `*` matches the rest (`/api/*`)."""
    function_name: pulumi.Input[str]
    """The FC function that serves it (a `RustFunction`'s `function_name`)."""
    qualifier: pulumi.Input[str]
    """The alias (or version) it invokes."""
    methods: NotRequired[list[str]]
    """Methods routed; default all."""


class CertificateArgs(TypedDict):
    """The HTTPS certificate: pass the PEM texts as Pulumi secrets."""

    name: str
    certificate: pulumi.Input[str]
    private_key: pulumi.Input[str]


class CustomDomainArgs(TypedDict):
    """A domain and its routes."""

    domain_name: str
    routes: list[RouteArgs]
    protocol: NotRequired[str]
    """`HTTP` (default), `HTTPS` or `HTTP,HTTPS`; HTTPS needs `certificate`."""
    certificate: NotRequired[CertificateArgs]


def domain_problems(args: CustomDomainArgs) -> list[str]:
    """Problems with a domain's settings, each naming the field and what is allowed."""
    name = args.get("domain_name")
    problems = []
    if not isinstance(name, str) or not _DOMAIN.match(name):
        problems.append(f"the domain name must be a lower-case DNS name, got {name!r}")
    protocol = args.get("protocol", "HTTP")
    if protocol not in PROTOCOLS:
        problems.append(f"protocol must be one of {', '.join(PROTOCOLS)}, got {protocol!r}")
    elif "HTTPS" in protocol and "certificate" not in args:
        problems.append(f"protocol {protocol} needs a certificate (name, certificate, privateKey)")
    routes = args.get("routes")
    if not isinstance(routes, list) or not routes:
        return [*problems, "routes must list at least one {path, function}"]
    paths = [route.get("path") for route in routes]
    problems += [
        f"a route's path must start with '/', got {path!r}"
        for path in paths
        if not isinstance(path, str) or not path.startswith("/")
    ]
    if len(set(map(str, paths))) != len(paths):
        problems.append(f"each route's path must be different, got {paths}")
    for route in routes:
        field = f"route {route.get('path')!r}: methods"
        problems += methods_problems(field, route.get("methods", list(METHODS)))
    return problems


class CustomDomain(pulumi.ComponentResource):
    """A custom domain of FC 3.0 routing paths to functions."""

    domain_name: pulumi.Output[str]
    """The domain, once FC has it."""

    def __init__(
        self, name: str, args: CustomDomainArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        """Check the settings, then declare the domain."""
        problems = domain_problems(args)
        if problems:
            raise ConfigError(f"domain {args.get('domain_name')}", problems)
        super().__init__("fcrust:index:CustomDomain", name, None, opts)
        certificate = args.get("certificate")
        domain = alicloud.fc.V3CustomDomain(
            f"{name}-domain",
            custom_domain_name=args["domain_name"],
            protocol=args.get("protocol", "HTTP"),
            route_config={
                "routes": [
                    {
                        "path": route["path"],
                        "function_name": route["function_name"],
                        "qualifier": route["qualifier"],
                        "methods": [m for m in METHODS if m in route.get("methods", METHODS)],
                    }
                    for route in args["routes"]
                ]
            },
            cert_config=(
                {
                    "cert_name": certificate["name"],
                    "certificate": pulumi.Output.secret(certificate["certificate"]),
                    "private_key": pulumi.Output.secret(certificate["private_key"]),
                }
                if certificate is not None
                else None
            ),
            opts=pulumi.ResourceOptions(parent=self),
        )
        self.domain_name = domain.custom_domain_name.apply(lambda value: value or "")
        self.register_outputs({"domain_name": self.domain_name})
