"""Pulumi mocks that record every resource, and helpers that evaluate the program under them."""

from __future__ import annotations

import contextlib
import copy
import json
import os
import runpy
import shutil
import signal
import subprocess
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest
import yaml
from provider_contract import CONTRACT
from provider_contract.model import identity, violations

from infra import offline
from infra.offline import RecordingMonitor, Registered, is_secret, unwrap

if TYPE_CHECKING:
    from collections.abc import Callable, Iterator

    import pulumi

__all__ = ["Registered", "is_secret", "unwrap"]
"""The recording mocks are the library's (`infra.offline`, which `python -m infra plan` runs);
the provider contract is the tests' own."""

REPO = Path(__file__).resolve().parent.parent
ACCOUNT_ID = "123456789"
REGION = "cn-hangzhou"
CALLER_IDENTITY = offline.CALLER_IDENTITY
FAKE_TOKEN = "test-token-not-real"  # noqa: S105 - a fake value, the point of the tests


def pytest_configure(config: pytest.Config) -> None:
    """Give the processes the tests start Ctrl-C back when pytest itself was started without it.

    A shell without job control starts a background job (`make test &`) with SIGINT ignored,
    and an ignored signal stays ignored across exec: the tests that interrupt a build, a
    scaffold or the stress harness with SIGINT would then interrupt nothing. A handler, unlike
    SIG_IGN, is reset to the default at exec.
    """
    del config
    if signal.getsignal(signal.SIGINT) is signal.SIG_IGN:
        signal.signal(signal.SIGINT, signal.default_int_handler)


class ContractViolationError(AssertionError):
    """A resource the provider would refuse: the preview would fail with this."""


class CloudMocks(offline.CloudMocks):
    """Answers like Alibaba Cloud would (ARNs, ids, version numbers); refuses every call.

    Every custom resource is first held to the provider contract: an input the provider refuses,
    a type without a contract, or a second resource with the same id fails the registration, as
    the preview would.
    """

    def __init__(self, account_id: str = ACCOUNT_ID) -> None:
        """Start with no identities taken, as the account `account_id`."""
        super().__init__(account_id, REGION)
        self.identities: dict[tuple[object, ...], str] = {}
        self.ignored: dict[str, list[str]] = {}
        """Each resource's `ignore_changes` (top-level inputs), by logical name."""
        self.prior: dict[str, Registered] = {}
        """Each resource's state in the prior evaluation (`prior_state`), by logical name: found
        by its URN or, for a moved resource, one of its aliases."""

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
        prior = self.prior.get(args.name)
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
        prior = self.prior.get(args.name)
        if prior is not None and prior.name != args.name:
            # A moved resource keeps its id and what the cloud named it.
            args.name = prior.name
        return super().new_resource(args)

    def call(
        self, args: pulumi.runtime.MockCallArgs
    ) -> tuple[dict[str, Any], list[tuple[str, str]] | None]:
        """Who the caller is (the account's id); any other call fails loudly."""
        if args.token == offline.CALLER_IDENTITY:
            return super().call(args)
        self.calls.append(args.token)
        message = f"unexpected call {args.token} with {args.args}"
        raise AssertionError(message)


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


class PriorMonitor(RecordingMonitor):
    """The recording monitor, telling the mocks each resource's `ignore_changes` first."""

    def __init__(self, mocks: CloudMocks) -> None:
        """Record for `mocks`."""
        super().__init__(mocks)
        self.cloud = mocks

    def RegisterResource(self, request: Any) -> Any:  # noqa: ANN401, N802 - gRPC method name
        """Note what the resource ignores and what it was before, then record it."""
        self.cloud.ignored[request.name] = list(request.ignoreChanges)
        urn = self.make_urn(request.parent, request.type, request.name)
        for known in (urn, *self._aliases(request, urn)):
            if known in PRIOR:
                self.cloud.prior[request.name] = PRIOR[known]
                break
        return super().RegisterResource(request)


PRIOR: dict[str, Registered] = {}
"""The previous evaluation's resources by URN, while `prior_state` holds one."""


@contextlib.contextmanager
def prior_state(evaluation: Evaluation) -> Iterator[None]:
    """Evaluate as an update of `evaluation`: ignored inputs keep their earlier values."""
    PRIOR.update({r.urn: r for r in evaluation.resources})
    try:
        yield
    finally:
        PRIOR.clear()


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
    monitor = PriorMonitor(mocks)
    global LAST_EVALUATION  # noqa: PLW0603 - lets a test see what a failed run registered
    LAST_EVALUATION = Evaluation(monitor.registered, monitor.stack_outputs, mocks.calls)
    offline.evaluate(
        program,
        config or {},
        secret_keys or [],
        project="fc-rust",
        stack=stack,
        mocks=mocks,
        monitor=monitor,
    )
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
