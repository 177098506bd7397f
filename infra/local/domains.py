"""A stack's custom domains as the emulator serves them: each request matched to a route as FC does.

The domains come from the stack key `domains` (`infra.program`: `{<domain>: {protocol, routes:
[{path, function, methods}], certificate}}`), checked by `infra.domains.domain_problems` as the
program checks them. FC's route matching (FC doc "Configure a custom domain name", section
"Routing rules", https://www.alibabacloud.com/help/doc-detail/90763.htm, FC 2.0's page; FC 3.0's
PathConfig keeps the same `path` field, `/api/*` in its example):

- an exact path matches that path only (`/a` matches `/a`, not `/a/`);
- a path ending in `*` matches every path that starts with what comes before it (`/login/*`
  matches `/login/a` and `/login/b/c/d`, not `/login`; `/*` matches every path);
- an exact match wins over a `*` match, and of several `*` matches the longest prefix wins.

The path matched is the request's path without its query (the page's examples carry none;
whether FC decodes `%xx` before matching is not stated: the emulator matches the path as sent).
The request reaches the route's function with its path as it came: FC 3.0 strips no prefix (no
`rewriteConfig` is declared by `infra.domains`).

Unconfirmed, assumed here and named where the answer is made:
- what FC answers a path no route matches (assumed 404, `PathNotFound`), a method a route does not
  list (assumed 405, `MethodNotAllowed`, as the HTTP trigger answers) and a `Host` that names no
  domain served (assumed 404, `DomainNameNotFound`);
- a domain's own auth: `infra.domains` declares no `auth_config` (`alicloud_fcv3_custom_domain`'s
  `auth_config.auth_type`: anonymous, function or jwt), so FC's default applies, assumed to be
  `anonymous`; the function's HTTP trigger's `authType` and `methods` are the trigger's, not the
  domain's, and are not applied to a request that came through the domain.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import TYPE_CHECKING, cast

from infra.domains import domain_problems
from infra.errors import ConfigError, StackError
from infra.http_trigger import METHODS
from infra.local.http_invoke import Gate, Refusal
from infra.local.stack import stack_config

if TYPE_CHECKING:
    from collections.abc import Mapping, Sequence
    from pathlib import Path

    from infra.domains import CustomDomainArgs
    from infra.local.stack import LocalFunction

DOMAINS_KEY = "domains"
"""The stack key, as `infra.program.DOMAINS_KEY` (not imported: that module loads the provider)."""
DOMAIN_AUTH_TYPE = "anonymous"
"""A domain's auth type when `infra.domains` declares none: FC's default, assumed (see above)."""


@dataclass(frozen=True)
class Route:
    """One route of a domain: its path, the entry of `functions` it invokes, its methods."""

    path: str
    function: str
    methods: tuple[str, ...] = METHODS

    @property
    def prefix(self) -> str | None:
        """What a `*` route's paths start with; None for an exact route."""
        return self.path[:-1] if self.path.endswith("*") else None

    def matches(self, path: str) -> bool:
        """Whether a request's path (without its query) matches this route."""
        prefix = self.prefix
        return path == self.path if prefix is None else path.startswith(prefix)


@dataclass(frozen=True)
class Domain:
    """A custom domain of the stack and its routes."""

    name: str
    routes: tuple[Route, ...]
    auth_type: str = DOMAIN_AUTH_TYPE

    def route(self, target: str) -> Route | None:
        """The route FC picks for `target` (a path with its query), or None when none matches."""
        path = target.split("?", 1)[0]
        exact = [r for r in self.routes if r.prefix is None and r.matches(path)]
        if exact:
            return exact[0]
        wildcards = [r for r in self.routes if r.prefix is not None and r.matches(path)]
        return max(wildcards, key=lambda r: len(r.prefix or ""), default=None)

    def gate(self, route: Route) -> Gate:
        """What the domain checks before forwarding a request that matched `route`."""
        return Gate(
            methods=route.methods,
            auth_type=self.auth_type,
            name=f"route {route.path} of {self.name}",
            methods_from=f"the route's `methods` in the stack's `domains.{self.name}`",
            auth_from=f"the domain {self.name} (FC's default: `infra.domains` declares none)",
        )


def not_found(domain: Domain, method: str, target: str) -> Refusal:
    """FC's answer to a path no route of `domain` matches: assumed, see the module's notes."""
    paths = ", ".join(route.path for route in domain.routes)
    return Refusal(
        404,
        "PathNotFound",
        f"{method} {target.split('?', 1)[0]}: no route of {domain.name} matches ({paths})",
    )


def unknown_host(domains: Sequence[Domain], host: str | None) -> Refusal:
    """FC's answer to a `Host` that names no domain served: assumed, see the module's notes."""
    names = ", ".join(d.name for d in domains)
    return Refusal(
        404,
        "DomainNameNotFound",
        f"the Host header {host!r} names no domain served here ({names})",
    )


def pick_domain(domains: Sequence[Domain], host: str | None) -> Domain | None:
    """The domain a request's `Host` names; the one served, when only one is (any Host)."""
    if len(domains) == 1:
        return domains[0]
    name = (host or "").rsplit(":", 1)[0].rstrip(".").lower() if host else ""
    return next((d for d in domains if d.name == name), None)


def _route(raw: object, where: str, functions: Mapping[str, LocalFunction]) -> list[str]:
    if not isinstance(raw, dict):
        return [f"{where} must map path, function and methods"]
    entry = raw.get("function")
    function = functions.get(str(entry))
    if function is None:
        return [f"{where}.function must name an entry of functions, got {entry!r}"]
    if function.http is None:
        return [f"{where}.function {entry!r} needs an http setting"]
    return []


def load_domains(
    stack: str, root: Path, functions: Mapping[str, LocalFunction]
) -> dict[str, Domain]:
    """The stack's custom domains by name, checked as the program checks them."""
    raw = stack_config(stack, root).get(DOMAINS_KEY) or {}
    if isinstance(raw, str):
        raw = json.loads(raw or "{}")
    if not isinstance(raw, dict):
        raise StackError(f"{DOMAINS_KEY} must map each domain name to its settings, got {raw!r}")
    problems: list[str] = []
    domains = {}
    for name, settings in raw.items():
        key = f"{DOMAINS_KEY}.{name}"
        routes = settings.get("routes") if isinstance(settings, dict) else None
        if not isinstance(routes, list):
            problems.append(f"{key}.routes must list {{path, function, methods}}")
            continue
        found = [
            problem
            for index, route in enumerate(routes)
            for problem in _route(route, f"{key}.routes[{index}]", functions)
        ]
        args = {
            "domain_name": str(name),
            "protocol": settings.get("protocol", "HTTP"),
            # Only its presence is checked (HTTPS needs one); the emulator serves plain HTTP.
            **({"certificate": {}} if "certificate" in settings else {}),
            "routes": [
                {"path": r.get("path"), "function_name": r.get("function"), "qualifier": ""}
                | ({"methods": r["methods"]} if "methods" in r else {})
                for r in routes
                if isinstance(r, dict)
            ],
        }
        found += [f"{key}: {p}" for p in domain_problems(cast("CustomDomainArgs", args))]
        problems += found
        if not found:
            domains[str(name)] = Domain(
                str(name),
                tuple(
                    Route(
                        str(r["path"]),
                        str(r["function"]),
                        tuple(m for m in METHODS if m in r.get("methods", METHODS)),
                    )
                    for r in routes
                ),
            )
    if problems:
        raise ConfigError(f"stack {stack}", problems)
    return domains


def chosen_domains(
    names: Sequence[str], stack: str, root: Path, functions: Mapping[str, LocalFunction]
) -> list[Domain]:
    """The domains named on the command line; an unknown name lists the stack's domains."""
    domains = load_domains(stack, root, functions)
    unknown = [name for name in names if name not in domains]
    if unknown:
        known = ", ".join(sorted(domains)) or "none"
        raise StackError(
            f"stack {stack!r} has no domain {', '.join(map(repr, unknown))} (domains: {known}); "
            f"domains are the stack key `{DOMAINS_KEY}`"
        )
    return [domains[name] for name in dict.fromkeys(names)]
