"""A program's functions as the emulator runs them, from `Pulumi.yaml` + `Pulumi.<stack>.yaml`.

The config is read by `infra.config.read_stack` and resolved by `infra.spec.resolve`, as the
Pulumi program does, without the Pulumi runtime, so `python -m infra.local` works with no CLI and
no state, in any program's directory. Secrets are encrypted in the stack file and never read
here: each secret variable comes from the process environment under its own name.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from infra.config import project_defaults, project_name, read_stack, read_yaml
from infra.errors import ConfigError, StackError
from infra.spec import FunctionSpec, resolve

if TYPE_CHECKING:
    from collections.abc import Mapping
    from pathlib import Path

    from infra.http_trigger import HttpArgs
    from infra.timer import TimerArgs

DEFAULT_REGION = "cn-hangzhou"
"""The region the emulator reports when the stack sets none."""
ASYNC_DEFAULT_RETRIES = 3
"""FC's retries of a failed asynchronous invocation when a function sets none (FC 3.0 API
PutAsyncInvokeConfigInput.maxAsyncRetryAttempts: "the default number of retries is 3")."""


@dataclass(frozen=True)
class LocalFunction:
    """One function as the emulator runs it: taken from its resolved `FunctionSpec`."""

    name: str
    """The function's entry in the stack's `functions` (what the command line names)."""
    crate: str
    """The Rust crate that is the bootstrap."""
    workspace: Path
    """The Cargo workspace root the crate builds in."""
    runtime: str
    memory_size: int
    """MB."""
    timeout: int
    """Seconds."""
    region: str
    environment: dict[str, str] = field(default_factory=dict)
    """The function's own variables: plain ones from the stack, secrets from the process env."""
    timers: list[TimerArgs] = field(default_factory=list)
    missing_secrets: list[str] = field(default_factory=list)
    """Secret variables the stack declares that the process environment does not provide."""
    retries: int = ASYNC_DEFAULT_RETRIES
    """How often FC retries a failed asynchronous (timer) invocation of this function."""
    alert_group: str | None = None
    """The CloudMonitor contact group told when it fails, if any."""
    http: HttpArgs | None = None
    """Its HTTP trigger, if it has one: `serve` forwards requests to it as FC's trigger does."""
    function_name: str = ""
    """Its name on FC (`<entry>-<stack>` by default); empty: the entry's name."""

    @property
    def fc_name(self) -> str:
        """The name FC gives the function in its headers and environment."""
        return self.function_name or self.name

    @classmethod
    def from_spec(
        cls, spec: FunctionSpec, secrets: Mapping[str, str], missing: list[str]
    ) -> LocalFunction:
        """The emulator's view of `spec`, with the secret variables' local values."""
        retries = (spec.async_invoke or {}).get("max_retries", ASYNC_DEFAULT_RETRIES)
        return cls(
            name=spec.name,
            function_name=spec.function_name,
            crate=spec.crate,
            workspace=spec.workspace,
            runtime=spec.runtime,
            memory_size=spec.memory_size,
            timeout=spec.timeout,
            region=spec.region,
            environment={**spec.environment, **secrets},
            timers=list(spec.timers),
            missing_secrets=missing,
            retries=retries,
            alert_group=str(spec.alert["contact_group"]) if spec.alert else None,
            http=spec.http,
        )


def stack_values(stack: str, root: Path) -> dict[str, object]:
    """The `config` mapping of `Pulumi.<stack>.yaml`, keys as written; a StackError if none."""
    stack_file = root / f"Pulumi.{stack}.yaml"
    if not stack_file.is_file():
        stacks = sorted(p.name[len("Pulumi.") : -len(".yaml")] for p in root.glob("Pulumi.*.yaml"))
        raise StackError(
            f"no stack {stack!r}: {stack_file} is missing (stacks: {', '.join(stacks) or 'none'})"
        )
    values = read_yaml(stack_file).get("config") or {}
    if not isinstance(values, dict):
        raise StackError(f"{stack_file}: `config` must be a mapping")
    return values


def stack_config(stack: str, root: Path) -> dict[str, object]:
    """The config the stack's program sees: the stack file's values over `Pulumi.yaml`'s defaults.

    Keys lose the project's prefix (`functions`; `alicloud:region` keeps its own). Secure values
    (`{"secure": ...}`) are dropped: they are ciphertext.
    """
    values = stack_values(stack, root)
    prefix = f"{project_name(root)}:"
    return {
        **{key.removeprefix(prefix): value for key, value in project_defaults(root).items()},
        **{
            key.removeprefix(prefix): value
            for key, value in values.items()
            if not (isinstance(value, dict) and "secure" in value)
        },
    }


def load_functions(
    stack: str, root: Path, environ: Mapping[str, str] | None = None
) -> dict[str, LocalFunction]:
    """The stack's functions by name, read and resolved exactly as the Pulumi program does."""
    environ = os.environ if environ is None else environ
    project = project_name(root)
    values = stack_config(stack, root)
    region = str(values.get("alicloud:region") or DEFAULT_REGION)
    found = read_stack(
        values, project=project, stack=stack, region=None, secret=lambda _: None, cwd=root
    )
    if found.problems:
        raise ConfigError(f"stack {stack}", found.problems)
    functions = {}
    for name, args in found.functions.items():
        spec = resolve(name, args, project=project, stack=stack, region=region, cwd=root)
        variables = found.secret_variables.get(name, {})
        secrets = {variable: environ[variable] for variable in variables if environ.get(variable)}
        missing = [variable for variable in variables if variable not in secrets]
        functions[name] = LocalFunction.from_spec(spec, secrets, missing)
    return functions


def load_function(
    name: str, stack: str, root: Path, environ: Mapping[str, str] | None = None
) -> LocalFunction:
    """One function of the stack; an unknown name lists the known ones."""
    functions = load_functions(stack, root, environ)
    if name not in functions:
        known = ", ".join(sorted(functions))
        raise StackError(f"stack {stack!r} has no function {name!r} (functions: {known})")
    return functions[name]
