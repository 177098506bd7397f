"""Pulumi mocks that record every resource, and helpers that evaluate the program under them."""

from __future__ import annotations

import contextlib
import copy
import hashlib
import json
import os
import runpy
import shutil
import subprocess
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pulumi
import pytest
import yaml
from provider_contract import CONTRACT
from provider_contract.model import identity, violations
from pulumi.runtime import mocks as pulumi_mocks
from pulumi.runtime import rpc, settings
from pulumi.runtime.stack import run_in_stack
from pulumi.runtime.sync_await import _sync_await

if TYPE_CHECKING:
    from collections.abc import Callable, Iterator

REPO = Path(__file__).resolve().parent.parent
ACCOUNT_ID = "123456789"
REGION = "cn-hangzhou"
CALLER_IDENTITY = "alicloud:index/getCallerIdentity:getCallerIdentity"
"""The one call the library makes: the account's id, which default SLS project names carry."""
FAKE_TOKEN = "test-token-not-real"  # noqa: S105 - a fake value, the point of the tests
SECRET_SIG = rpc._special_secret_sig  # noqa: SLF001 - how the monitor marks secrets on the wire
SIG_KEY = rpc._special_sig_key  # noqa: SLF001


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


def is_secret(value: Any) -> bool:  # noqa: ANN401 - any JSON-like value
    """Whether `value` is marked secret on the wire."""
    return isinstance(value, dict) and value.get(SIG_KEY) == SECRET_SIG


def _short(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()[:6]


class ContractViolationError(AssertionError):
    """A resource the provider would refuse: the preview would fail with this."""


class CloudMocks(pulumi.runtime.Mocks):
    """Answers like Alibaba Cloud would (ARNs, ids, version numbers); refuses every call.

    Every custom resource is first held to the provider contract: an input the provider refuses,
    a type without a contract, or a second resource with the same id fails the registration, as
    the preview would.
    """

    def __init__(self, account_id: str = ACCOUNT_ID) -> None:
        """Start with no identities taken, as the account `account_id`."""
        self.account_id = account_id
        self.calls: list[str] = []
        """The calls nobody expected (each also failed the program)."""
        self.identities: dict[tuple[object, ...], str] = {}
        self.ignored: dict[str, list[str]] = {}
        """Each resource's `ignore_changes` (top-level inputs), by logical name."""

    def _enforce_contract(self, args: pulumi.runtime.MockResourceArgs) -> None:
        resource = CONTRACT.get(args.typ)
        if resource is None:
            message = f"{args.name}: no provider contract for {args.typ}; add it to the contract"
            raise ContractViolationError(message)
        inputs = unwrap(dict(args.inputs))
        problems = violations(resource, inputs)
        taken = identity(resource, inputs)
        if taken is not None and taken in self.identities:
            problems.append(
                f"its id {taken[1:]} is already taken by {self.identities[taken]}: "
                "the second create would fail"
            )
        if problems:
            lines = "\n".join(f"  - {p}" for p in problems)
            message = f"{args.name} ({resource.terraform}) breaks the provider contract:\n{lines}"
            raise ContractViolationError(message)
        if taken is not None:
            self.identities[taken] = args.name

    def _keep_ignored(self, args: pulumi.runtime.MockResourceArgs) -> None:
        prior = PRIOR.get(args.name)
        if prior is None:
            return
        for path in self.ignored.get(args.name, []):
            if path in prior.inputs:
                args.inputs[path] = prior.inputs[path]

    def new_resource(self, args: pulumi.runtime.MockResourceArgs) -> tuple[str, dict[str, Any]]:
        """Check the contract, then echo the inputs plus the outputs the cloud computes.

        An input the resource's `ignore_changes` names keeps its value from the prior
        evaluation (`prior_state`), as the engine keeps it from the state.
        """
        self._keep_ignored(args)
        if args.custom:
            self._enforce_contract(args)
        state = dict(args.inputs)
        name = args.name
        outputs: dict[str, Any] = {}
        if args.typ == "alicloud:fc/v3Function:V3Function":
            function_name = state["functionName"]
            outputs = {
                "functionArn": f"acs:fc:{REGION}:{self.account_id}:functions/{function_name}",
                "functionId": f"{_short(function_name)}-function-id",
            }
        elif args.typ == "alicloud:fc/v3FunctionVersion:V3FunctionVersion":
            # A new description is a new published version; derive a stable number from it.
            outputs = {"versionId": str(1 + int(_short(str(state.get("description"))), 16) % 997)}
        elif args.typ == "alicloud:fc/v3Trigger:V3Trigger":
            host = f"{state['functionName'].lower()}-{_short(name)}"
            outputs = {
                "httpTrigger": {
                    "urlInternet": f"https://{host}.{REGION}.fcapp.run",
                    "urlIntranet": f"https://{host}.{REGION}-vpc.fcapp.run",
                }
                if state.get("triggerType") == "http"
                else None,
                "triggerId": f"{_short(name)}-trigger-id",
                "targetArn": f"acs:fc:{REGION}:{self.account_id}:functions/{state['functionName']}",
            }
        elif args.typ == "alicloud:fc/function:Function":
            outputs = {
                "functionArn": (
                    f"acs:fc:{REGION}:{self.account_id}:services/{state['service']}.LATEST"
                    f"/functions/{state['name']}"
                ),
                "functionId": f"{_short(name)}-function-id",
            }
        elif args.typ == "alicloud:fc/service:Service":
            outputs = {"serviceId": f"{_short(name)}-service-id"}
        elif args.typ == "alicloud:ram/role:Role":
            outputs = {
                "arn": f"acs:ram::{self.account_id}:role/{state['roleName']}",
                "roleId": f"3{int(_short(name), 16)}",
            }
        elif args.typ == "alicloud:oss/bucket:Bucket":
            # The provider names an unnamed bucket `tf-oss-bucket-<unique id>` (PrefixedUniqueId,
            # resource_alicloud_oss_bucket.go:501): lower case, different for every stack.
            unique = _short(f"{pulumi.get_stack()}/{self.account_id}/{name}")
            outputs = {"bucket": state.get("bucket") or f"tf-oss-bucket-{unique}"}
        state.update(outputs)
        return f"{name}-id", state

    def call(
        self, args: pulumi.runtime.MockCallArgs
    ) -> tuple[dict[str, Any], list[tuple[str, str]] | None]:
        """Who the caller is (the account's id); any other call fails loudly."""
        if args.token == CALLER_IDENTITY:
            return {
                "accountId": self.account_id,
                "arn": f"acs:ram::{self.account_id}:root",
                "identityType": "Account",
                "id": self.account_id,
            }, []
        self.calls.append(args.token)
        message = f"unexpected call {args.token} with {args.args}"
        raise AssertionError(message)


class RecordingMonitor(pulumi_mocks.MockMonitor):
    """The mock monitor, also keeping each registration's parent, options and stack outputs."""

    def __init__(self, mocks: CloudMocks) -> None:
        """Record into empty lists."""
        super().__init__(mocks)
        self.mocks: CloudMocks = mocks
        self.registered: list[Registered] = []
        self.stack_outputs: dict[str, Any] = {}

    def RegisterResource(self, request: Any) -> Any:  # noqa: ANN401, N802 - gRPC method name
        """Record, then answer as the plain mock monitor does."""
        self.mocks.ignored[request.name] = list(request.ignoreChanges)
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
                )
            )
        return response

    def RegisterResourceOutputs(self, request: Any) -> Any:  # noqa: ANN401, N802 - gRPC method name
        """Keep the stack's exports exactly as serialized."""
        if "pulumi:pulumi:Stack" in request.urn:
            self.stack_outputs.update(rpc.deserialize_properties(request.outputs))
        return super().RegisterResourceOutputs(request)  # type: ignore[no-untyped-call]


@dataclass
class Evaluation:
    """What one evaluation of a program registered."""

    resources: list[Registered]
    outputs: dict[str, Any]
    calls: list[str] = field(default_factory=list)

    def by_name(self, name: str) -> Registered:
        """The one resource with this logical name."""
        found = [r for r in self.resources if r.name == name]
        assert len(found) == 1, f"{name}: {len(found)} resources; have {self.names()}"
        return found[0]

    def of_type(self, type_: str) -> list[Registered]:
        """Every resource of this type token."""
        return [r for r in self.resources if r.type == type_]

    def names(self) -> list[str]:
        """All logical names, in registration order."""
        return [r.name for r in self.resources]

    def ancestors(self, name: str) -> list[str]:
        """Names of the parents of `name`, nearest first, up to the stack."""
        known = {r.name: r for r in self.resources}
        chain: list[str] = []
        current = known[name].parent_name
        while current in known:
            chain.append(current)
            current = known[current].parent_name
        return chain


PRIOR: dict[str, Registered] = {}
"""The previous evaluation's resources by name, while `prior_state` holds one."""


@contextlib.contextmanager
def prior_state(evaluation: Evaluation) -> Iterator[None]:
    """Evaluate as an update of `evaluation`: ignored inputs keep their earlier values."""
    PRIOR.update({r.name: r for r in evaluation.resources})
    try:
        yield
    finally:
        PRIOR.clear()


def _discard(_: object) -> None:
    """Programs return whatever they like; the stack runner wants nothing."""


LAST_EVALUATION = Evaluation([], {})
"""The most recent evaluation, kept also when the program raised."""


def evaluate(
    program: Callable[[], object],
    config: dict[str, str] | None = None,
    secret_keys: list[str] | None = None,
    stack: str = "dev",
    account_id: str = ACCOUNT_ID,
) -> Evaluation:
    """Run `program` in a fresh stack under the recording mocks and wait for every resource."""
    mocks = CloudMocks(account_id)
    monitor = RecordingMonitor(mocks)
    pulumi.runtime.set_mocks(mocks, project="fc-rust", stack=stack, preview=False, monitor=monitor)
    pulumi.runtime.set_all_config(config or {}, secret_keys or [])
    global LAST_EVALUATION  # noqa: PLW0603 - lets a test see what a failed run registered
    LAST_EVALUATION = Evaluation(monitor.registered, monitor.stack_outputs, mocks.calls)
    settings.ROOT.set(None)  # set_mocks made a root stack; run_in_stack makes the real one
    settings.SETTINGS.rpc_manager.clear()
    settings.SETTINGS.outputs.clear()
    try:
        _sync_await(run_in_stack(lambda: _discard(program())))
    finally:
        pulumi.runtime.set_all_config({}, [])
    return LAST_EVALUATION


def dev_functions() -> dict[str, dict[str, Any]]:
    """The `functions` map of the committed dev stack."""
    stack = yaml.safe_load((REPO / "Pulumi.dev.yaml").read_text(encoding="utf-8"))
    return copy.deepcopy(stack["config"]["fc-rust:functions"])


def functions(**entries: dict[str, Any] | None) -> str:
    """The dev stack's `functions` as JSON, each named entry updated by its settings.

    A setting of None removes it; an entry of None removes the function.
    """
    merged = dev_functions()
    for name, changes in entries.items():
        if changes is None:
            merged.pop(name, None)
            continue
        entry = merged.setdefault(name, {})
        for key, value in changes.items():
            if value is None:
                entry.pop(key, None)
            else:
                entry[key] = value
    return json.dumps(merged)


def entry(name: str, **settings: object) -> str:
    """The dev stack's `functions` as JSON with the settings of one entry changed."""
    return functions(**{name: settings})


def dev_config(**overrides: str) -> dict[str, str]:
    """The dev stack's config as the CLI would hand it over (JSON for non-strings)."""
    config = {
        "alicloud:region": REGION,
        "fc-rust:githubToken": FAKE_TOKEN,
        "fc-rust:functions": functions(),
    }
    config.update({k if ":" in k else f"fc-rust:{k}": v for k, v in overrides.items()})
    return config


def committed_config(name: str) -> dict[str, str]:
    """A committed stack's config (`Pulumi.<name>.yaml`) as the CLI hands it over."""
    text = (REPO / f"Pulumi.{name}.yaml").read_text(encoding="utf-8")
    values = yaml.safe_load(text)["config"]
    config = {
        key: value if isinstance(value, str) else json.dumps(value) for key, value in values.items()
    }
    config["fc-rust:githubToken"] = FAKE_TOKEN
    return config


def run_main(**overrides: str) -> Evaluation:
    """Evaluate `__main__.py` with the dev config plus `overrides`."""
    return evaluate(
        lambda: runpy.run_path(str(REPO / "__main__.py"), run_name="__main__"),
        dev_config(**overrides),
        ["fc-rust:githubToken"],
    )


@pytest.fixture
def in_repo(monkeypatch: pytest.MonkeyPatch) -> Path:
    """Run from the project directory, as the Pulumi CLI does."""
    monkeypatch.chdir(REPO)
    return REPO


@pytest.fixture
def shared_cargo_target(monkeypatch: pytest.MonkeyPatch) -> None:
    """Builds of copied workspaces reuse the repository's compiled dependencies and its cache.

    The cache is content-addressed by fingerprint, and fingerprints use workspace-relative paths:
    an unchanged crate in a copy is a hit, a changed one is built.
    """
    monkeypatch.setenv("FCRUST_CARGO_TARGET_DIR", str(REPO / "target" / "fc-rust" / "cargo"))
    monkeypatch.setenv("FCRUST_CACHE_DIR", str(REPO / "target" / "fc-rust" / "cache"))


def copy_workspace(destination: Path) -> Path:
    """A copy of the Cargo workspace (manifests, lock file, crates, functions, build/)."""
    destination.mkdir(parents=True, exist_ok=True)
    for manifest in ("Cargo.toml", "Cargo.lock"):
        shutil.copy2(REPO / manifest, destination / manifest)
    ignore = shutil.ignore_patterns("target", "dist", "__pycache__")
    for tree in ("crates", "functions"):
        shutil.copytree(REPO / tree, destination / tree, ignore=ignore)
    return destination


@pytest.fixture
def workspace_copy(tmp_path: Path, shared_cargo_target: None) -> Path:
    """A private copy of the workspace that a test may edit."""
    del shared_cargo_target
    return copy_workspace(tmp_path / "workspace")


@pytest.fixture(scope="session")
def docker_engine() -> None:
    """Skip without a reachable Docker engine, except on CI, where the docker tests must run."""
    reachable = shutil.which("docker") is not None and (
        subprocess.run(["docker", "info"], capture_output=True, check=False, timeout=60).returncode
        == 0
    )
    if not reachable:
        reason = "no Docker engine reachable: the docker-marked tests need one"
        if os.environ.get("CI"):
            pytest.fail(f"{reason}, and CI must run them")
        pytest.skip(reason)
