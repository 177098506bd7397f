"""A Pulumi program evaluated offline: what its stack declares, without a cloud, state or the CLI.

`evaluate` runs a program under Pulumi's mocks (`pulumi.runtime.set_mocks`) and records every
resource it registers with its inputs as the engine would receive them; `python -m infra plan`
prints that for a stack of a program directory, and compares it with a plan saved earlier. The
program's own checks run as under `pulumi preview`: a misconfigured stack fails with the same
errors, and the functions are built (their packages' hashes are part of the plan).

Values the cloud computes (ARNs, ids, generated names) are shown with placeholders, as in
`acs:ram::<account>:role/<name>` (a default SLS project name ends with the digest of the text
`<account>`, where `pulumi up` puts your account's); secrets as `[secret]` (a secure value of
the stack file cannot be decrypted offline: the program sees a placeholder).
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import runpy
import sys
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pulumi
from pulumi.runtime import mocks as pulumi_mocks
from pulumi.runtime import rpc, settings
from pulumi.runtime.proto import resource_pb2
from pulumi.runtime.stack import run_in_stack
from pulumi.runtime.sync_await import _sync_await

from infra.bootstrap import BuildError
from infra.config import project_defaults, project_name, read_yaml
from infra.errors import ConfigError, StackError
from infra.local.stack import stack_values

if TYPE_CHECKING:
    from collections.abc import Callable, Iterator

ACCOUNT = "<account>"
"""The account id in a computed ARN: the plan has no account."""
CALLER_IDENTITY = "alicloud:index/getCallerIdentity:getCallerIdentity"
"""The one call the library makes: the account's id, which default SLS project names carry."""
SECRET_SIG = rpc._special_secret_sig  # noqa: SLF001 - how the monitor marks secrets on the wire
SIG_KEY = rpc._special_sig_key  # noqa: SLF001
SECURE_PLACEHOLDER = "[secret: set in the stack, not decrypted offline]"
SHOWN_CHARS = 120
"""A longer input value is cut to this many characters in the text plan (never in --json)."""


@dataclass
class Registered:
    """One resource as the engine would see it: its inputs exactly as serialized, secrets marked."""

    type: str
    name: str
    urn: str
    parent: str
    inputs: dict[str, Any]
    retain_on_delete: bool
    replace_on_changes: list[str]
    dependencies: list[str]
    delete_before_replace: bool = False
    custom: bool = True
    ignore_changes: list[str] = field(default_factory=list)
    state: dict[str, Any] = field(default_factory=dict)
    """Inputs plus what the (mock) cloud computed: a generated bucket name, an ARN."""
    aliases: list[str] = field(default_factory=list)
    """URNs the resource had before (`aliases`, its own and those its parents' imply)."""

    @property
    def parent_name(self) -> str:
        """The logical name of the parent (the mock monitor's URNs carry no stack type)."""
        return self.parent.rsplit("::", 1)[-1]

    def plain(self) -> dict[str, Any]:
        """The inputs with secret markers removed."""
        plain: dict[str, Any] = unwrap(self.inputs)
        return plain


def unwrap(value: Any) -> Any:  # noqa: ANN401 - any JSON-like value
    """`value` with every secret marker replaced by its content."""
    if isinstance(value, dict):
        if value.get(SIG_KEY) == SECRET_SIG:
            return unwrap(value["value"])
        return {k: unwrap(v) for k, v in value.items()}
    if isinstance(value, list):
        return [unwrap(v) for v in value]
    return value


def masked(value: Any) -> Any:  # noqa: ANN401 - any JSON-like value
    """`value` with every secret replaced by `[secret]`, as Pulumi shows it."""
    if isinstance(value, dict):
        if value.get(SIG_KEY) == SECRET_SIG:
            return "[secret]"
        return {k: masked(v) for k, v in value.items()}
    if isinstance(value, list):
        return [masked(v) for v in value]
    return value


def is_secret(value: Any) -> bool:  # noqa: ANN401 - any JSON-like value
    """Whether `value` is marked secret on the wire."""
    return isinstance(value, dict) and value.get(SIG_KEY) == SECRET_SIG


def _short(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()[:6]


class CloudMocks(pulumi.runtime.Mocks):
    """Answers as Alibaba Cloud would (ARNs, ids, version numbers), with `account` in the ARNs."""

    def __init__(self, account: str = ACCOUNT, region: str = "<region>") -> None:
        """`account` and `region` go into the ARNs the mocks make up."""
        self.account = account
        self.region = region
        self.calls: list[str] = []

    def new_resource(self, args: pulumi.runtime.MockResourceArgs) -> tuple[str, dict[str, Any]]:
        """Echo the inputs plus the outputs the cloud computes."""
        state = dict(args.inputs)
        name, account, region = args.name, self.account, self.region
        outputs: dict[str, Any] = {}
        if args.typ == "alicloud:fc/v3Function:V3Function":
            function_name = state["functionName"]
            outputs = {
                "functionArn": f"acs:fc:{region}:{account}:functions/{function_name}",
                "functionId": f"{_short(function_name)}-function-id",
            }
        elif args.typ == "alicloud:fc/v3FunctionVersion:V3FunctionVersion":
            # A new description is a new published version; derive a stable number from it.
            outputs = {"versionId": str(1 + int(_short(str(state.get("description"))), 16) % 997)}
        elif args.typ == "alicloud:fc/v3Trigger:V3Trigger":
            host = f"{state['functionName'].lower()}-{_short(name)}"
            outputs = {
                "httpTrigger": {
                    "urlInternet": f"https://{host}.{region}.fcapp.run",
                    "urlIntranet": f"https://{host}.{region}-vpc.fcapp.run",
                }
                if state.get("triggerType") == "http"
                else None,
                "triggerId": f"{_short(name)}-trigger-id",
                "targetArn": f"acs:fc:{region}:{account}:functions/{state['functionName']}",
            }
        elif args.typ == "alicloud:fc/function:Function":
            outputs = {
                "functionArn": (
                    f"acs:fc:{region}:{account}:services/{state['service']}.LATEST"
                    f"/functions/{state['name']}"
                ),
                "functionId": f"{_short(name)}-function-id",
            }
        elif args.typ == "alicloud:fc/service:Service":
            outputs = {"serviceId": f"{_short(name)}-service-id"}
        elif args.typ == "alicloud:ram/role:Role":
            outputs = {
                "arn": f"acs:ram::{account}:role/{state['roleName']}",
                "roleId": f"3{int(_short(name), 16)}",
            }
        elif args.typ == "alicloud:oss/bucket:Bucket":
            # The provider names an unnamed bucket `tf-oss-bucket-<unique id>` (PrefixedUniqueId,
            # resource_alicloud_oss_bucket.go:501): lower case, different for every stack.
            unique = _short(f"{pulumi.get_stack()}/{account}/{name}")
            outputs = {"bucket": state.get("bucket") or f"tf-oss-bucket-{unique}"}
        state.update(outputs)
        return f"{name}-id", state

    def call(
        self, args: pulumi.runtime.MockCallArgs
    ) -> tuple[dict[str, Any], list[tuple[str, str]] | None]:
        """The caller's account (the one lookup the library makes); anything else is refused.

        Default SLS project names carry a digest of the account's id (`logs.account_unique`):
        offline, that is the digest of `account`.
        """
        if args.token == CALLER_IDENTITY:
            return {"accountId": self.account, "id": self.account}, []
        self.calls.append(args.token)
        message = f"{args.token} reads from the cloud, which an offline plan cannot"
        raise StackError(message)


class RecordingMonitor(pulumi_mocks.MockMonitor):
    """The mock monitor, also keeping each registration's parent, options and stack outputs.

    URNs are the engine's: a child's type is every ancestor's type but the stack's, joined by
    `$` (the plain mock monitor keeps the parent's alone). The monitor does not take alias specs,
    so the SDK sends every alias as a URN, those a parent's aliases imply included
    (`pulumi.runtime.resource.all_aliases`): a plan can match a moved resource to its old URN.
    """

    def __init__(self, mocks: pulumi.runtime.Mocks) -> None:
        """Record into empty lists."""
        super().__init__(mocks)
        self.registered: list[Registered] = []
        self.stack_outputs: dict[str, Any] = {}
        self.alias_urns: dict[str, list[str]] = {}

    def make_urn(self, parent: str, type_: str, name: str) -> str:
        """The engine's URN: `urn:pulumi:<stack>::<project>::<ancestors' types $ type>::<name>`."""
        if parent and not parent.split("::")[2].startswith("pulumi:pulumi:Stack"):
            type_ = f"{parent.split('::')[2]}${type_}"
        return "::".join([f"urn:pulumi:{pulumi.get_stack()}", pulumi.get_project(), type_, name])

    def GetDeploymentInfo(self, request: Any) -> Any:  # noqa: ANN401, N802 - gRPC method name
        """The mock monitor's features, alias specs aside (see the class)."""
        info = super().GetDeploymentInfo(request)  # type: ignore[no-untyped-call]
        features = [
            feature
            for feature in info.supportedFeatures
            if feature != resource_pb2.RESOURCE_MONITOR_FEATURE_ALIAS_SPECS
        ]
        del info.supportedFeatures[:]
        info.supportedFeatures.extend(features)
        return info

    def RegisterResource(self, request: Any) -> Any:  # noqa: ANN401, N802 - gRPC method name
        """Record, then answer as the plain mock monitor does."""
        response = super().RegisterResource(request)  # type: ignore[no-untyped-call]
        if request.type != "pulumi:pulumi:Stack":
            self.registered.append(
                Registered(
                    type=request.type,
                    name=request.name,
                    urn=response.urn,
                    parent=request.parent,
                    inputs=rpc.deserialize_properties(request.object),
                    retain_on_delete=bool(request.retainOnDelete),
                    replace_on_changes=list(request.replaceOnChanges),
                    dependencies=list(request.dependencies),
                    delete_before_replace=bool(request.deleteBeforeReplace),
                    custom=bool(request.custom),
                    ignore_changes=list(request.ignoreChanges),
                    state=rpc.deserialize_properties(response.object),
                    aliases=self._aliases(request, response.urn),
                )
            )
        return response

    def _aliases(self, request: Any, urn: str) -> list[str]:  # noqa: ANN401 - a gRPC request
        """The registration's alias URNs: its own, and one for each of its parent's.

        A child of an aliased parent was the same child of the parent's old URN, its name's
        prefix renamed as the parent was (`pulumi.runtime.resource.inherited_child_alias`).
        """
        own = [*request.aliasURNs, *(alias.urn for alias in request.aliases if alias.urn)]
        parent_name = request.parent.rsplit("::", 1)[-1]
        for parent_alias in self.alias_urns.get(request.parent, []):
            prefix, old_parent_name = parent_alias.rsplit("::", 1)
            name = request.name
            if name.startswith(parent_name):
                name = old_parent_name + name[len(parent_name) :]
            own.append(f"{prefix}${request.type}::{name}")
        self.alias_urns[urn] = own
        return own

    def RegisterResourceOutputs(self, request: Any) -> Any:  # noqa: ANN401, N802 - gRPC method name
        """Keep the stack's exports exactly as serialized."""
        if "pulumi:pulumi:Stack" in request.urn:
            self.stack_outputs.update(rpc.deserialize_properties(request.outputs))
        return super().RegisterResourceOutputs(request)  # type: ignore[no-untyped-call]


def _discard(_: object) -> None:
    """Programs return whatever they like; the stack runner wants nothing."""


def evaluate(  # noqa: PLR0913 - the program, its config and the stack it runs as
    program: Callable[[], object],
    config: dict[str, str],
    secret_keys: list[str],
    *,
    project: str,
    stack: str,
    mocks: pulumi.runtime.Mocks,
    monitor: RecordingMonitor,
) -> None:
    """Run `program` in a fresh stack under `mocks`, recorded by `monitor`; wait for all of it.

    What the program raises (a ConfigError, a BuildError) propagates; what it registered until
    then stays in `monitor`.
    """
    pulumi.runtime.set_mocks(mocks, project=project, stack=stack, preview=False, monitor=monitor)
    pulumi.runtime.set_all_config(config, secret_keys)
    settings.ROOT.set(None)  # set_mocks made a root stack; run_in_stack makes the real one
    settings.SETTINGS.rpc_manager.clear()
    settings.SETTINGS.outputs.clear()
    try:
        _sync_await(run_in_stack(lambda: _discard(program())))
    finally:
        pulumi.runtime.set_all_config({}, [])


# -- a program directory's stack ------------------------------------------------------------


def stack_config(root: Path, stack: str) -> tuple[dict[str, str], list[str]]:
    """The config the CLI would hand the program, and its secret keys.

    `Pulumi.yaml`'s defaults under the stack file's values, keys with their namespace, non-string
    values as JSON. A secure value cannot be decrypted offline: a placeholder, kept secret.
    """
    project = project_name(root)
    values = stack_values(stack, root)

    def full(key: str) -> str:
        return key if ":" in key else f"{project}:{key}"

    config: dict[str, str] = {}
    secrets: list[str] = []
    for key, value in [*project_defaults(root).items(), *values.items()]:
        if isinstance(value, dict) and "secure" in value:
            config[full(key)] = SECURE_PLACEHOLDER
            secrets.append(full(key))
        else:
            config[full(key)] = value if isinstance(value, str) else json.dumps(value)
    return config, secrets


def _main_file(root: Path) -> Path:
    """The program's entry point: `main` in Pulumi.yaml (a file or a directory), else root."""
    main = read_yaml(root / "Pulumi.yaml").get("main")
    path = root / main if isinstance(main, str) and main else root
    return path / "__main__.py" if path.is_dir() else path


@contextlib.contextmanager
def _in_program(root: Path) -> Iterator[None]:
    """Run as the Pulumi CLI runs a Python program: in its directory, importable from there."""
    previous = Path.cwd()
    os.chdir(root)
    sys.path.insert(0, str(root))
    try:
        yield
    finally:
        with contextlib.suppress(ValueError):
            sys.path.remove(str(root))
        os.chdir(previous)


@dataclass
class Plan:
    """What a stack declares."""

    project: str
    stack: str
    resources: list[dict[str, Any]]
    """Each resource: type, name, parent and inputs (secrets as `[secret]`)."""
    outputs: dict[str, Any]
    packages: dict[str, str]
    """Per code package object (`<stack>/<function>/<sha256>.zip`): the function and its hash."""


def plan(root: Path, stack: str) -> Plan:
    """Evaluate the program in `root` for `stack` offline; its errors propagate."""
    project = project_name(root)
    config, secrets = stack_config(root, stack)
    mocks = CloudMocks(region=config.get("alicloud:region") or "<region>")
    monitor = RecordingMonitor(mocks)
    main = _main_file(root)
    if not main.is_file():
        raise StackError(f"{main} not found: the program's entry point (`main` in Pulumi.yaml)")
    with _in_program(root):
        evaluate(
            lambda: runpy.run_path(str(main), run_name="__main__"),
            config,
            secrets,
            project=project,
            stack=stack,
            mocks=mocks,
            monitor=monitor,
        )
    resources = [
        {"type": r.type, "name": r.name, "parent": r.parent_name, "inputs": masked(r.inputs)}
        for r in monitor.registered
    ]
    packages = {}
    for resource in monitor.registered:
        key = str(resource.plain().get("key", ""))
        if resource.type == "alicloud:oss/bucketObject:BucketObject" and key.endswith(".zip"):
            *_, function, digest = key[: -len(".zip")].split("/")
            packages[function] = digest
    return Plan(project, stack, resources, masked(monitor.stack_outputs), packages)


# -- against an earlier plan ----------------------------------------------------------------


@dataclass
class Changes:
    """A plan beside an earlier one, resource by resource (by type and name)."""

    created: list[str]
    deleted: list[str]
    changed: dict[str, list[str]]
    """Resource -> the inputs that differ."""
    same: int


def compare(earlier: dict[str, Any], now: Plan) -> Changes:
    """What would be created, deleted or changed going from `earlier` (a saved plan) to `now`.

    Whether a change updates in place or replaces the resource depends on the provider's
    ForceNew fields, which the library does not hold (the tests' provider contract does): it is
    not told here.
    """

    def index(resources: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
        return {f"{r['type']} {r['name']}": r.get("inputs", {}) for r in resources}

    before, after = index(earlier.get("resources", [])), index(now.resources)
    changed = {
        key: sorted(
            k for k in {*before[key], *after[key]} if before[key].get(k) != after[key].get(k)
        )
        for key in before.keys() & after.keys()
        if before[key] != after[key]
    }
    return Changes(
        created=sorted(after.keys() - before.keys()),
        deleted=sorted(before.keys() - after.keys()),
        changed=dict(sorted(changed.items())),
        same=len(before.keys() & after.keys()) - len(changed),
    )


# -- the command ----------------------------------------------------------------------------


def _shown(value: Any) -> str:  # noqa: ANN401 - any JSON-like value
    text = value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)
    return text if len(text) <= SHOWN_CHARS else f"{text[:SHOWN_CHARS]}... ({len(text)} chars)"


def _text(found: Plan) -> list[str]:
    header = f"stack {found.stack} of {found.project}: {len(found.resources)} resources"
    lines = [f"{header} (offline: no cloud, no state; computed values are placeholders)"]
    for resource in found.resources:
        lines.append(f"  {resource['type']}  {resource['name']}")
        lines += [f"      {key}: {_shown(value)}" for key, value in resource["inputs"].items()]
    if found.packages:
        lines.append("code packages:")
        lines += [f"  {name}: sha256 {digest}" for name, digest in sorted(found.packages.items())]
    if found.outputs:
        lines.append("outputs:")
        lines += [f"  {key}: {_shown(value)}" for key, value in found.outputs.items()]
    return lines


def _changes_text(changes: Changes) -> list[str]:
    lines = [f"  + create {key}" for key in changes.created]
    lines += [f"  - delete {key}" for key in changes.deleted]
    lines += [f"  ~ change {key}: {', '.join(keys)}" for key, keys in changes.changed.items()]
    lines.append(
        f"{len(changes.created)} to create, {len(changes.changed)} to change, "
        f"{len(changes.deleted)} to delete, {changes.same} unchanged. Whether a change replaces "
        "the resource (a ForceNew input) is not told offline: `pulumi preview` says so"
    )
    return lines


def plan_command(root: Path, stack: str, *, as_json: bool, against: Path | None) -> int:
    """`python -m infra plan`: print the plan (or its changes); 2 when the stack is refused."""
    earlier = None
    if against is not None:
        try:
            earlier = json.loads(against.read_text(encoding="utf-8"))
        except (OSError, ValueError) as error:
            raise StackError(f"cannot read the earlier plan {against}: {error}") from error
    try:
        found = plan(root, stack)
    except (ConfigError, BuildError, StackError):
        raise
    except pulumi.RunError as error:  # what `pulumi preview` prints without a traceback
        raise StackError(str(error)) from error
    if earlier is not None:
        changes = compare(earlier, found)
        if as_json:
            print(json.dumps(asdict(changes), indent=2))  # noqa: T201 - the CLI's output
        else:
            print("\n".join(_changes_text(changes)))  # noqa: T201
        return 0
    if as_json:
        print(json.dumps(asdict(found), indent=2, ensure_ascii=False))  # noqa: T201
    else:
        print("\n".join(_text(found)))  # noqa: T201
    return 0
