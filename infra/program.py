"""Declare many functions at once: checked together, built in one cargo run, sharing things.

What they share is declared once: the ACR namespace, the alert contacts.

`from_config()` is a whole Pulumi program's body: the stack's `functions` map, declared.
"""

from __future__ import annotations

from collections import defaultdict
from typing import TYPE_CHECKING, cast

import pulumi

from infra import config as _config
from infra.alerts import AlertContacts
from infra.bootstrap import Builder
from infra.container import RegistryNamespace
from infra.domains import CustomDomain, CustomDomainArgs, domain_problems
from infra.errors import ConfigError
from infra.function import RustFunction
from infra.limits import check_region
from infra.sharing import CONFIG_KEYS as SHARING_KEYS
from infra.sharing import Sharing, share, sharing_from_config, stack_problems
from infra.spec import FunctionSpec, resolve

if TYPE_CHECKING:
    from collections.abc import Callable, Iterable, Mapping, Sequence
    from pathlib import Path

    from infra.args import RustFunctionArgs
    from infra.bootstrap import Package

CONFIG_KEYS = (
    *_config.PROJECT_KEYS,
    _config.FUNCTIONS_KEY,
    "logRetentionDays",
    "alertContactGroup",
    "alertEmails",
    *_config.REGISTRY_KEYS,
    "registryExisting",
    *SHARING_KEYS,
)
"""The stack config keys the library reads (`registryPassword` aside: it is read as a secret)."""


def build_all(specs: Iterable[FunctionSpec]) -> dict[str, Package]:
    """The zips of `specs` by function name, from one cargo run per workspace and runtime.

    Only a function whose inputs changed is compiled and packaged again.
    """
    groups: dict[tuple[Path, str], list[FunctionSpec]] = defaultdict(list)
    for spec in specs:
        if spec.variant == "zip":
            groups[spec.workspace, spec.runtime].append(spec)
    packages: dict[str, Package] = {}
    for (workspace, runtime), members in groups.items():
        budgets = {spec.crate: spec.size_budget for spec in members}
        built = Builder(workspace).package_many(
            list(budgets), runtime=runtime, size_budgets=budgets
        )
        packages |= {spec.name: built[spec.crate] for spec in members}
    return packages


def declare_functions(
    functions: Mapping[str, RustFunctionArgs],
    subject: str | None = None,
    sharing: Sharing | None = None,
) -> dict[str, RustFunction]:
    """A `RustFunction` for each entry, after every entry is checked and every zip is built.

    A `ConfigError` lists the problems of all entries before anything is registered. Functions
    whose registry creates the same ACR namespace share one `RegistryNamespace`; those that name
    no bucket or log project of their own share the stack's (`infra.sharing`, unless `sharing`
    turns it off).
    """
    sharing = sharing if sharing is not None else Sharing()
    region = pulumi.Config("alicloud").get("region") or ""
    specs: dict[str, FunctionSpec] = {}
    problems: list[str] = []
    for name, args in functions.items():
        try:
            specs[name] = resolve(
                name, args, project=pulumi.get_project(), stack=pulumi.get_stack(), region=region
            )
        except ConfigError as error:
            problems += [f"{name}: {problem}" for problem in error.problems]
    if not problems:
        problems += stack_problems(functions, specs, sharing, "functions")
    if problems:
        raise ConfigError(subject or f"stack {pulumi.get_stack()}", problems)
    packages = build_all(specs.values())
    shared, waits = share(_share_namespace(functions), specs, sharing)
    return {
        name: RustFunction(name, args, package=packages.get(name), waits_for=waits.get(name, ()))
        for name, args in shared.items()
    }


def _share_namespace(
    functions: Mapping[str, RustFunctionArgs],
) -> dict[str, RustFunctionArgs]:
    """The functions, those that create an ACR namespace pointed at one declared for all.

    A namespace is an id of its own, so declaring it per function would fail on the second
    create; each function creates only its repository.
    """
    creating = {
        name: args
        for name, args in functions.items()
        if "registry" in args and not args["registry"].get("existing", False)
    }
    if not creating:
        return dict(functions)
    first = next(iter(creating.values()))["registry"]
    namespace = RegistryNamespace("registry", {"namespace": str(first["namespace"])})
    return {
        name: (
            cast(
                "RustFunctionArgs",
                {**args, "registry": {**args["registry"], "namespace": namespace.name}},
            )
            if name in creating
            else args
        )
        for name, args in functions.items()
    }


class StackSecrets:
    """Reads the stack's secret config keys as Pulumi secrets, noting any held in plain text.

    Unset and empty are the same: Pulumi.yaml declares a secret key that not every stack needs
    with the default "" (Pulumi refuses any default, even "", on a key declared `secret`). Which
    keys the stack file holds encrypted reaches the program as its secret keys: the engine takes
    them from `Config.SecureKeys()` (pulumi/pulumi pkg/resource/deploy/source_eval.go) and
    pulumi-language-python-exec hands them to `set_all_config`.
    """

    def __init__(self, config: pulumi.Config) -> None:
        """Read from `config`, the project's own."""
        self.config = config
        self.plaintext: list[str] = []

    def __call__(self, key: str) -> pulumi.Output[str] | None:
        """The value of `key` as a secret, or None when the stack does not set it."""
        if not self.config.get(key):
            return None
        if not pulumi.runtime.is_config_secret(self.config.full_key(key)):
            self.plaintext.append(key)
        return self.config.get_secret(key)

    def problems(self) -> list[str]:
        """A problem for each key read that the stack holds in plain text."""
        return [
            f"{self.config.full_key(key)} is in the stack file in plain text, but it is a "
            f"secret: set it encrypted with `pulumi config set --secret {key} <value>`"
            for key in dict.fromkeys(self.plaintext)
        ]


def from_config(
    checks: Sequence[Callable[[_config.StackFunctions], list[str]]] = (),
) -> dict[str, RustFunction]:
    """Declare the stack's `functions` from its config; every problem fails before any resource.

    `checks` add a program's own rules about its functions (each returns problems naming the
    config key to change).
    """
    config = pulumi.Config()
    project, stack = pulumi.get_project(), pulumi.get_stack()
    region = pulumi.Config("alicloud").get("region") or ""
    values = {key: config.get(key) for key in CONFIG_KEYS}
    secret = StackSecrets(config)
    stack_functions = _config.read_stack(
        values, project=project, stack=stack, region=region, secret=secret
    )
    problems = [
        f"{p} (set by alicloud:region; change it with `pulumi config set alicloud:region <region>`)"
        for p in check_region(region)
    ]
    problems += stack_functions.problems
    for name, variables in stack_functions.missing_secrets.items():
        for variable in variables:
            key = stack_functions.secret_variables[name][variable]
            problems.append(
                f"{name}: {variable} takes the secret {project}:{key}, which the stack does not "
                f"set: `pulumi config set --secret {key} <value>`"
            )
    sharing, found = sharing_from_config(values, project)
    problems += found
    pushing = [
        n for n, a in stack_functions.functions.items() if "username" in a.get("registry", {})
    ]
    if pushing and secret("registryPassword") is None:
        problems.append(
            f"{', '.join(pushing)}: the registry login needs its password, which the stack does "
            "not set: `pulumi config set --secret registryPassword <the fixed password set in "
            "the ACR console>`"
        )
    for check in checks:
        problems += check(stack_functions)
    domains, found = _domains(config.get_object(DOMAINS_KEY) or {}, stack_functions, secret)
    problems += found
    problems += secret.problems()
    if problems:
        raise ConfigError(f"stack {stack}", problems)
    functions = stack_functions.functions
    if stack_functions.alert_emails:
        contacts = AlertContacts(
            "alert-contacts",
            {
                "group_name": str(values["alertContactGroup"]),
                "emails": stack_functions.alert_emails,
                "owner": f"{project}/{stack}",
            },
        )
        for args in functions.values():
            if "alert" in args:
                args["alert"]["contact_group"] = contacts.group_name
    declared = declare_functions(functions, f"stack {stack}", sharing)
    for domain, settings in domains.items():
        routes = [
            {
                **route,
                "function_name": declared[str(route["function_name"])].function_name,
                "qualifier": declared[str(route["function_name"])].alias,
            }
            for route in settings["routes"]
        ]
        CustomDomain(f"domain-{domain}", cast("CustomDomainArgs", {**settings, "routes": routes}))
    return declared


DOMAINS_KEY = "domains"
"""Stack key: custom domains, each `{protocol, routes: [{path, function, methods}], certificate:
{name, certificate, privateKey}}` (the certificate's two values name secret config keys)."""


def _domains(
    raw: object, stack_functions: _config.StackFunctions, secret: StackSecrets
) -> tuple[dict[str, CustomDomainArgs], list[str]]:
    """The stack's custom domains (routes naming entries) and every problem, naming its key."""
    if not isinstance(raw, dict):
        return {}, [f"{DOMAINS_KEY} must map each domain name to its settings, got {raw!r}"]
    domains: dict[str, CustomDomainArgs] = {}
    problems: list[str] = []
    for domain, settings in raw.items():
        key = f"{DOMAINS_KEY}.{domain}"
        if not isinstance(settings, dict):
            problems.append(f"{key} must map protocol, routes and certificate")
            continue
        args, found = _domain(str(domain), settings, stack_functions.functions, secret)
        problems += [f"{key}{problem}" for problem in found]
        domains[str(domain)] = args
    return domains, problems


def _route(index: int, route: object, functions: Mapping[str, RustFunctionArgs]) -> list[str]:
    """Problems of one route (each starting with its key below the domain's)."""
    where = f".routes[{index}]"
    if not isinstance(route, dict):
        return [f"{where} must map path, function and methods"]
    problems = [f"{where}: unknown setting {k!r}" for k in sorted(set(route) - ROUTE_KEYS)]
    entry = route.get("function")
    args = functions.get(str(entry))
    if args is None:
        problems.append(f"{where}.function must name an entry of functions, got {entry!r}")
    elif "http" not in args or args.get("fc_version") == "2.0":
        problems.append(f"{where}.function {entry!r} needs an http setting, on FC 3.0")
    return problems


def _domain(
    domain: str,
    settings: Mapping[str, object],
    functions: Mapping[str, RustFunctionArgs],
    secret: StackSecrets,
) -> tuple[CustomDomainArgs, list[str]]:
    """One domain's arguments, its routes' `function_name` still naming entries."""
    problems = [f": unknown setting {k!r}" for k in sorted(set(settings) - DOMAIN_KEYS)]
    raw_routes = settings.get("routes")
    routes = raw_routes if isinstance(raw_routes, list) else []
    for index, route in enumerate(routes):
        problems += _route(index, route, functions)
    args: dict[str, object] = {
        "domain_name": domain,
        "routes": [
            {
                "path": route.get("path"),
                "function_name": route.get("function"),
                "qualifier": "",
                **({"methods": route["methods"]} if "methods" in route else {}),
            }
            for route in routes
            if isinstance(route, dict)
        ],
    }
    if "protocol" in settings:
        args["protocol"] = settings["protocol"]
    certificate = settings.get("certificate")
    if isinstance(certificate, dict):
        values = {}
        for part in ("certificate", "privateKey"):
            secret_key = str(certificate.get(part) or "")
            values[part] = secret(secret_key) if secret_key else None
            if values[part] is None:
                problems.append(
                    f".certificate.{part} must name a secret config key the stack sets "
                    f"(`pulumi config set --secret <key>`), got {secret_key!r}"
                )
        args["certificate"] = {
            "name": str(certificate.get("name") or domain),
            "certificate": values["certificate"],
            "private_key": values["privateKey"],
        }
    domain_args = cast("CustomDomainArgs", args)
    problems += [f": {problem}" for problem in domain_problems(domain_args)]
    return domain_args, problems


DOMAIN_KEYS = frozenset({"protocol", "routes", "certificate"})
ROUTE_KEYS = frozenset({"path", "function", "methods"})
