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
from infra.errors import ConfigError
from infra.function import RustFunction
from infra.limits import check_region
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
    functions: Mapping[str, RustFunctionArgs], subject: str | None = None
) -> dict[str, RustFunction]:
    """A `RustFunction` for each entry, after every entry is checked and every zip is built.

    A `ConfigError` lists the problems of all entries before anything is registered. Functions
    whose registry creates the same ACR namespace share one `RegistryNamespace`.
    """
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
    if problems:
        raise ConfigError(subject or f"stack {pulumi.get_stack()}", problems)
    packages = build_all(specs.values())
    shared = _share_namespace(functions)
    return {
        name: RustFunction(name, args, package=packages.get(name)) for name, args in shared.items()
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
    stack_functions = _config.read_stack(
        values, project=project, stack=stack, region=region, secret=config.get_secret
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
    for check in checks:
        problems += check(stack_functions)
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
    return declare_functions(functions, f"stack {stack}")
