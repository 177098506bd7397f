"""The GitHub workflows and the deploy identity's RAM policy, checked offline.

Workflows: GitHub's workflow schema (the copy check-jsonschema bundles; the check runs with every
proxy pointed at a closed port, so it cannot download anything), then this project's rules: every
action pinned to a full commit SHA with its version in a comment, and to the same one in every
workflow; secrets only in the `env` of the steps that run pulumi (never in a `run:` line, never at
job or workflow level, never to the job that runs `.ci/run`); GITHUB_TOKEN only where a
pull-request comment is posted; minimal job permissions; every stack previewed, deployed and
drift-checked with the state backend's credentials. Each rule is a function of one workflow's
text, and each is shown to fail on a crafted workflow.

The RAM policy (`deploy/ram-policy.json`, what the deploy identity needs): RAM's policy shape and
size limit, no wildcard service access, names scoped where the service allows it, every action
the provider calls for each resource type the program declares granted, and nothing more.
"""

from __future__ import annotations

import fnmatch
import json
import os
import re
import subprocess
import sys
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any, NamedTuple

import pytest
import yaml

pytestmark = pytest.mark.unit

REPO = Path(__file__).resolve().parent.parent
WORKFLOW_DIR = REPO / ".github" / "workflows"
POLICY = REPO / "deploy" / "ram-policy.json"

PULUMI_ACTION = "pulumi/actions"
# What pulumi needs in its step's env: the provider's credentials, the OSS state backend's (Pulumi
# opens s3:// backends with the AWS SDK, which reads the AWS_* pair), the backend and the
# passphrase that decrypts the stack's secrets.
PULUMI_ENV = frozenset(
    {
        "ALIBABA_CLOUD_ACCESS_KEY_ID",
        "ALIBABA_CLOUD_ACCESS_KEY_SECRET",
        "AWS_ACCESS_KEY_ID",
        "AWS_SECRET_ACCESS_KEY",
        "PULUMI_BACKEND_URL",
        "PULUMI_CONFIG_PASSPHRASE",
    }
)
FORBIDDEN_TRIGGERS = frozenset({"pull_request_target", "workflow_run"})

SECRETS = re.compile(r"\bsecrets\b")
SECRET_NAME = re.compile(r"\bsecrets\.([A-Za-z_][A-Za-z0-9_]*)")
PLAIN_SECRET = re.compile(r"\$\{\{\s*secrets\.([A-Za-z_][A-Za-z0-9_]*)\s*\}\}")
TOKEN_EXPRESSION = re.compile(r"\bgithub\.token\b|\bsecrets\.GITHUB_TOKEN\b")
USES_LINE = re.compile(r"^\s*(?:-\s+)?uses:\s*(?P<ref>[^\s#]+)(?:\s+#\s*(?P<comment>.*?))?\s*$")
PINNED = re.compile(r"(?P<action>[\w.-]+/[\w./-]+)@(?P<sha>[0-9a-f]{40})")
VERSION = re.compile(r"v?\d+(?:\.\d+){1,2}")
EXACT_VERSION = re.compile(r"\d+\.\d+\.\d+")


# --- workflows ---------------------------------------------------------------------------------


def workflow_files() -> list[Path]:
    return sorted([*WORKFLOW_DIR.glob("*.yml"), *WORKFLOW_DIR.glob("*.yaml")])


def load_workflow(text: str) -> dict[str, Any]:
    """The workflow as a mapping; PyYAML reads the key `on` as True (YAML 1.1), GitHub does not."""
    loaded = yaml.safe_load(text)
    if not isinstance(loaded, dict):
        raise TypeError("a workflow is a mapping")
    return {("on" if key is True else str(key)): value for key, value in loaded.items()}


def stacks() -> set[str]:
    """The committed stacks, from their `Pulumi.<stack>.yaml` files."""
    return {path.name.split(".")[1] for path in REPO.glob("Pulumi.*.yaml")}


def _strings(node: object, path: tuple[str, ...] = ()) -> Iterator[tuple[tuple[str, ...], str]]:
    """Every string in a parsed workflow, with the path of keys and indices that leads to it."""
    if isinstance(node, str):
        yield path, node
    elif isinstance(node, Mapping):
        for key, value in node.items():
            yield from _strings(value, (*path, str(key)))
    elif isinstance(node, list):
        for index, value in enumerate(node):
            yield from _strings(value, (*path, str(index)))


def _jobs(workflow: Mapping[str, Any]) -> dict[str, dict[str, Any]]:
    jobs = workflow.get("jobs")
    return jobs if isinstance(jobs, dict) else {}


def _steps(job: Mapping[str, Any]) -> list[dict[str, Any]]:
    steps = job.get("steps")
    return [step for step in steps if isinstance(step, dict)] if isinstance(steps, list) else []


def _uses(step: Mapping[str, Any]) -> str:
    return str(step.get("uses", "")).split("@", 1)[0]


def _is_true(value: object) -> bool:
    return value is True or str(value).lower() == "true"


def _comments_on_pr(step: Mapping[str, Any]) -> bool:
    return _uses(step) == PULUMI_ACTION and _is_true(
        dict(step.get("with") or {}).get("comment-on-pr")
    )


def _runs_ci(job: Mapping[str, Any]) -> bool:
    return any(".ci/run" in str(step.get("run", "")) for step in _steps(job))


def _secret_allowed(path: tuple[str, ...], text: str, jobs: Mapping[str, Any]) -> bool:
    """Whether a string that names a secret or the token sits where this project allows one.

    Only two places: a variable in the `env` of a step that runs pulumi, holding exactly one
    secret; and the `github-token` input of the pulumi step that posts the pull-request comment.
    """
    if len(path) != 6 or path[0] != "jobs" or path[2] != "steps":
        return False
    steps = _steps(jobs.get(path[1]) or {})
    index = int(path[3])
    if index >= len(steps) or _uses(steps[index]) != PULUMI_ACTION:
        return False
    plain = PLAIN_SECRET.fullmatch(text.strip())
    if plain is None:
        return False
    if path[4] == "env":
        return plain.group(1) != "GITHUB_TOKEN"
    return (
        path[4:] == ("with", "github-token")
        and plain.group(1) == "GITHUB_TOKEN"
        and _comments_on_pr(steps[index])
    )


def secret_problems(name: str, workflow: Mapping[str, Any]) -> list[str]:
    """Secrets and the token anywhere but in the env of a pulumi step (or its comment token)."""
    jobs = _jobs(workflow)
    problems = [
        f"{name}: jobs.{job_id} passes `secrets:` to a reusable workflow; give each secret to the "
        "step that needs it"
        for job_id, job in jobs.items()
        if "secrets" in job
    ]
    for path, text in _strings(workflow):
        if not (SECRETS.search(text) or TOKEN_EXPRESSION.search(text)):
            continue
        if _secret_allowed(path, text, jobs):
            continue
        where = ".".join(path)
        if path and path[-1] == "run":
            problems.append(f"{name}: {where} puts a secret in a shell command (echoed to the log)")
        elif TOKEN_EXPRESSION.search(text):
            problems.append(
                f"{name}: {where} hands out GITHUB_TOKEN; only the pulumi step that posts the "
                "pull-request comment (comment-on-pr: true) may have it, as its github-token"
            )
        else:
            problems.append(
                f"{name}: {where} gives a secret to more than the step that runs pulumi; put "
                "`NAME: ${{ secrets.NAME }}` in that step's env only"
            )
    return problems


def permission_problems(name: str, workflow: Mapping[str, Any]) -> list[str]:
    """Nothing by default; each job reads the repository, and only a commenting job writes."""
    problems = []
    if workflow.get("permissions") != {}:
        problems.append(
            f"{name}: the workflow's `permissions` must be {{}}; each job asks for its own"
        )
    triggers = workflow.get("on")
    names = {triggers} if isinstance(triggers, str) else set(triggers or ())
    problems += [
        f"{name}: `on: {trigger}` runs with secrets on code from forks"
        for trigger in sorted(names & FORBIDDEN_TRIGGERS)
    ]
    for job_id, job in _jobs(workflow).items():
        permissions = job.get("permissions")
        if not isinstance(permissions, dict):
            problems.append(f"{name}: jobs.{job_id} must declare its `permissions` as a mapping")
            continue
        comments = any(_comments_on_pr(step) for step in _steps(job))
        allowed = {"contents": {"read", "none"}, "pull-requests": {"write"} if comments else set()}
        problems += [
            f"{name}: jobs.{job_id} asks for {scope}: {level}, more than it needs"
            for scope, level in permissions.items()
            if level != "none" and level not in allowed.get(scope, set())
        ]
        if comments and permissions.get("pull-requests") != "write":
            problems.append(f"{name}: jobs.{job_id} comments on the pull request without write")
        if _runs_ci(job) and permissions != {"contents": "read"}:
            problems.append(f"{name}: jobs.{job_id} runs .ci/run and needs only contents: read")
    return problems


class Pin(NamedTuple):
    """One `uses:` line: the action, the commit it is pinned to and the version in its comment."""

    action: str
    sha: str
    version: str


def pins(text: str) -> list[Pin]:
    """The pinned actions of a workflow's text (comments carry the versions, so not the parse)."""
    found = []
    for line in text.splitlines():
        match = USES_LINE.match(line)
        pinned = PINNED.fullmatch(match.group("ref")) if match else None
        if match and pinned:
            found.append(Pin(pinned["action"], pinned["sha"], match.group("comment") or ""))
    return found


def pin_problems(name: str, text: str) -> list[str]:
    """Each `uses:` on a full commit SHA, with the exact version it was read from in a comment."""
    problems = []
    lines = [match for line in text.splitlines() if (match := USES_LINE.match(line))]
    jobs = _jobs(load_workflow(text)).values()
    parsed = [step for job in jobs for step in [job, *_steps(job)] if "uses" in step]
    if len(lines) != len(parsed):
        problems.append(
            f"{name}: a `uses:` is written in a form this check cannot read; one a line"
        )
    for match in lines:
        ref, comment = match.group("ref"), match.group("comment") or ""
        if PINNED.fullmatch(ref) is None:
            problems.append(f"{name}: `uses: {ref}` must name a full 40-hex commit SHA")
        elif VERSION.fullmatch(comment.split(" ")[0]) is None:
            problems.append(
                f"{name}: `uses: {ref}` needs the exact version it pins as a comment (# v1.2.3)"
            )
    return problems


def pin_consistency_problems(texts: Mapping[str, str]) -> list[str]:
    """One pin per action across the workflows (Rust above all: the packages depend on rustc)."""
    seen: dict[str, set[tuple[str, str]]] = {}
    for text in texts.values():
        for pin in pins(text):
            seen.setdefault(pin.action, set()).add((pin.sha, pin.version))
    return [
        f"{action} is pinned differently across workflows: {sorted(refs)}"
        for action, refs in sorted(seen.items())
        if len(refs) > 1
    ]


def _pulumi_step_problems(where: str, step: Mapping[str, Any]) -> list[str]:
    problems = []
    env = dict(step.get("env") or {})
    inputs = dict(step.get("with") or {})
    problems += [
        f"{where}: env {variable} must be `${{{{ secrets.<NAME> }}}}`"
        for variable in sorted(PULUMI_ENV)
        if PLAIN_SECRET.fullmatch(str(env.get(variable, "")).strip()) is None
    ]
    if EXACT_VERSION.fullmatch(str(inputs.get("pulumi-version", ""))) is None:
        problems.append(f"{where}: pulumi-version must be an exact version, e.g. 3.272.0")
    if _is_true(inputs.get("upsert")):
        problems.append(
            f"{where}: upsert would create a missing stack empty and deploy everything again; "
            "stacks are created by hand, once"
        )
    if str(inputs.get("stack-name", "")).replace(" ", "") != "${{matrix.stack}}":
        problems.append(f"{where}: stack-name must be ${{{{ matrix.stack }}}}")
    return problems


def pulumi_problems(name: str, workflow: Mapping[str, Any], expected: set[str]) -> list[str]:
    """Each pulumi step: every stack, its credentials, an exact CLI, no upsert, after setup."""
    problems = []
    for job_id, job in _jobs(workflow).items():
        steps = _steps(job)
        for index, step in enumerate(steps):
            if _uses(step) != PULUMI_ACTION:
                continue
            where = f"{name}: jobs.{job_id}.steps.{index}"
            problems += _pulumi_step_problems(where, step)
            if not any(
                str(before.get("run", "")).strip() == "make setup" for before in steps[:index]
            ):
                problems.append(
                    f"{where}: the program runs in .venv, so `make setup` must run first"
                )
            matrix = dict(dict(job.get("strategy") or {}).get("matrix") or {})
            if set(matrix.get("stack") or ()) != expected:
                problems.append(f"{where}: the matrix must hold every stack, {sorted(expected)}")
    return problems


def workflow_problems(name: str, text: str, expected: set[str]) -> list[str]:
    """Every per-workflow rule of this project (the schema is checked separately)."""
    workflow = load_workflow(text)
    return (
        pin_problems(name, text)
        + secret_problems(name, workflow)
        + permission_problems(name, workflow)
        + pulumi_problems(name, workflow, expected)
    )


def drift_problems(name: str, workflow: Mapping[str, Any]) -> list[str]:
    """A schedule, and per stack a refreshing preview that fails on any change."""
    problems = []
    triggers = workflow.get("on")
    schedule = triggers.get("schedule") if isinstance(triggers, dict) else None
    if not schedule or not all(isinstance(entry, dict) and entry.get("cron") for entry in schedule):
        problems.append(f"{name}: the drift check must run on a `schedule:` with a cron")
    checks = [
        step
        for job in _jobs(workflow).values()
        for step in _steps(job)
        if _uses(step) == PULUMI_ACTION
        and dict(step.get("with") or {}).get("command") == "preview"
        and _is_true(dict(step.get("with") or {}).get("refresh"))
        and _is_true(dict(step.get("with") or {}).get("expect-no-changes"))
    ]
    if not checks:
        problems.append(f"{name}: no `pulumi preview` with refresh and expect-no-changes")
    return problems


def schema_problems(paths: list[Path]) -> list[str]:
    """check-jsonschema with GitHub's workflow schema, as bundled: offline by construction."""
    closed = "http://127.0.0.1:9"
    env = {**os.environ, "HTTP_PROXY": closed, "HTTPS_PROXY": closed, "ALL_PROXY": closed}
    env |= {"http_proxy": closed, "https_proxy": closed, "all_proxy": closed, "NO_PROXY": ""}
    env["no_proxy"] = ""
    command = [sys.executable, "-m", "check_jsonschema"]
    command += ["--builtin-schema", "vendor.github-workflows", *map(str, paths)]
    result = subprocess.run(
        command, capture_output=True, text=True, env=env, timeout=300, check=False
    )
    if result.returncode == 0:
        return []
    return [line for line in (result.stdout + result.stderr).splitlines() if line.strip()]


# --- the RAM policy ----------------------------------------------------------------------------

POLICY_MAX_CHARS = 6144  # RAM CreatePolicy: PolicyDocument is 1 to 6,144 characters
STATEMENT_KEYS = frozenset({"Effect", "Action", "Resource", "Condition"})
ACTION = re.compile(r"[a-z][a-z0-9-]*:[A-Za-z*]+")
ARN = re.compile(r"acs:[a-z0-9-]+:[^:]*:[^:]*:.+")

# Per pulumi-alicloud type the program declares (or is about to), the RAM actions its provider
# resource calls: create, read, update, delete and tags (terraform-provider-alicloud's resource and
# service files; the action names are the API names, as the services' RAM pages list them).
# Reads the provider makes of many bucket sub-resources are granted as oss:GetBucket*.
RAM_TAGS = frozenset({"ram:TagResources", "ram:UntagResources", "ram:ListTagResources"})
FC3_TAGS = frozenset({"fc:TagResources", "fc:UntagResources", "fc:ListTagResources"})
FC2_TAGS = frozenset({"fc:TagResource", "fc:UntagResource", "fc:GetResourceTags"})
LOG_TAGS = frozenset({"log:TagResources", "log:UntagResources", "log:ListTagResources"})
FC_ASYNC = frozenset(
    {
        "fc:PutFunctionAsyncInvokeConfig",
        "fc:GetFunctionAsyncInvokeConfig",
        "fc:DeleteFunctionAsyncInvokeConfig",
    }
)
FC_TRIGGER = frozenset(
    {"fc:CreateTrigger", "fc:GetTrigger", "fc:UpdateTrigger", "fc:DeleteTrigger"}
)
FC_FUNCTION = frozenset(
    {"fc:CreateFunction", "fc:GetFunction", "fc:UpdateFunction", "fc:DeleteFunction"}
)
CR_NAMESPACE = frozenset(
    {"cr:CreateNamespace", "cr:GetNamespace", "cr:UpdateNamespace", "cr:DeleteNamespace"}
)
CR_REPOSITORY = frozenset(
    {"cr:CreateRepository", "cr:GetRepository", "cr:UpdateRepository", "cr:DeleteRepository"}
    | {"cr:PushRepository", "cr:PullRepository"}  # the image push, with a RAM user's login
)
CMS_RULE = frozenset(
    {"cms:PutResourceMetricRule", "cms:DescribeMetricRuleList", "cms:DeleteMetricRules"}
    | {"cms:EnableMetricRules", "cms:DisableMetricRules"}
    | {"cms:PutMetricRuleTargets", "cms:DescribeMetricRuleTargets", "cms:DeleteMetricRuleTargets"}
)
OSS_BUCKET_READS = frozenset(
    f"oss:GetBucket{part}"
    for part in (
        *("Info", "Acl", "Cors", "Lifecycle", "Logging", "Referer", "ResourceGroup", "Tagging"),
        *("TransferAcceleration", "Website", "Encryption", "Versioning", "Policy"),
        *("AccessMonitor", "PublicAccessBlock"),
    )
)
REQUIRED_ACTIONS: dict[str, frozenset[str]] = {
    "ram.Role": frozenset(
        {"ram:CreateRole", "ram:GetRole", "ram:UpdateRole", "ram:DeleteRole"} | RAM_TAGS
    ),
    "ram.Policy": frozenset(
        {"ram:CreatePolicy", "ram:GetPolicy", "ram:CreatePolicyVersion"}
        | {"ram:UpdatePolicyDescription", "ram:DeletePolicy", "ram:ListTagResources"}
    ),
    "ram.RolePolicyAttachment": frozenset(
        {"ram:AttachPolicyToRole", "ram:DetachPolicyFromRole", "ram:ListPoliciesForRole"}
    ),
    "oss.Bucket": frozenset(
        {"oss:ListBuckets", "oss:PutBucket", "oss:DeleteBucket", "oss:PutBucketLifecycle"}
        | {"oss:DeleteBucketLifecycle", "oss:PutBucketEncryption", "oss:DeleteBucketEncryption"}
        | {"oss:PutBucketTagging", "oss:DeleteBucketTagging"}
        | {"oss:ListObjects", "oss:ListObjectVersions", "oss:DeleteObject"}
        | {"oss:DeleteObjectVersion"}  # force_destroy empties the bucket first
        | OSS_BUCKET_READS
    ),
    "oss.BucketAcl": frozenset({"oss:PutBucketAcl", "oss:GetBucketAcl"}),
    "oss.BucketPublicAccessBlock": frozenset(
        {"oss:PutBucketPublicAccessBlock", "oss:GetBucketPublicAccessBlock"}
        | {"oss:DeleteBucketPublicAccessBlock"}
    ),
    "oss.BucketObject": frozenset({"oss:PutObject", "oss:GetObject", "oss:DeleteObject"}),
    "log.Project": frozenset(
        {"log:CreateProject", "log:GetProject", "log:UpdateProject", "log:DeleteProject"}
        | {"log:GetProjectPolicy"}
        | LOG_TAGS
    ),
    "log.Store": frozenset(
        {"log:CreateLogStore", "log:GetLogStore", "log:UpdateLogStore", "log:DeleteLogStore"}
        | {"log:GetLogStoreMeteringMode", "log:ListShards"}
    ),
    # FC reads the code package from OSS as the caller, and takes the execution role from it.
    "fc.V3Function": FC_FUNCTION | FC3_TAGS | {"ram:PassRole", "oss:GetObject"},
    "fc.V3FunctionVersion": frozenset(
        {"fc:PublishFunctionVersion", "fc:DeleteFunctionVersion", "fc:GetFunction"}
    ),
    "fc.V3Alias": frozenset({"fc:CreateAlias", "fc:GetAlias", "fc:UpdateAlias", "fc:DeleteAlias"}),
    "fc.V3Trigger": FC_TRIGGER,
    "fc.V3AsyncInvokeConfig": FC_ASYNC,
    "fc.V3CustomDomain": frozenset(
        {"fc:CreateCustomDomain", "fc:GetCustomDomain", "fc:UpdateCustomDomain"}
        | {"fc:DeleteCustomDomain"}
    ),
    "fc.Service": frozenset(
        {"fc:CreateService", "fc:GetService", "fc:UpdateService", "fc:DeleteService"}
        | {"fc:ListServiceVersions", "fc:DeleteServiceVersion", "ram:PassRole"}
        | FC2_TAGS
    ),
    "fc.Function": FC_FUNCTION | {"oss:GetObject"},
    "fc.Trigger": FC_TRIGGER,
    "fc.FunctionAsyncInvokeConfig": FC_ASYNC,
    "cr.Namespace": CR_NAMESPACE,
    "cr.Repo": CR_REPOSITORY,
    "cs.RegistryEnterpriseNamespace": CR_NAMESPACE,
    "cs.RegistryEnterpriseRepo": CR_REPOSITORY,
    "cs.get_registry_enterprise_instances_output": frozenset(
        {"cr:ListInstance", "cr:GetInstance", "cr:GetInstanceEndpoint"}
        | {"cr:ListInstanceEndpoint", "cr:GetAuthorizationToken"}
    ),
    "cms.Alarm": CMS_RULE,
    "cms.AlarmContact": frozenset(
        {"cms:PutContact", "cms:DescribeContactList", "cms:DeleteContact"}
    ),
    "cms.AlarmContactGroup": frozenset(
        {"cms:PutContactGroup", "cms:DescribeContactGroupList", "cms:DeleteContactGroup"}
    ),
}
# Not tied to a declared type: the provider resolves the account (FC 2.0 without
# alicloud:accountId), and Pulumi's OSS state backend reads and writes its bucket (Pulumi's S3
# backend needs exactly ListBucket, GetObject, PutObject and DeleteObject).
PROGRAM_WIDE_ACTIONS = frozenset(
    {"sts:GetCallerIdentity", "oss:ListObjects", "oss:GetObject", "oss:PutObject"}
    | {"oss:DeleteObject"}
)
# Actions that may be granted on Resource "*": the service has no resource-level authorization
# for them (CloudMonitor, tagging, FC 3.0's async-invoke config, the caller's own identity, the
# bucket listing the provider does to check a name).
UNSCOPED = (
    {
        action
        for key, actions in REQUIRED_ACTIONS.items()
        if key.startswith("cms.")
        for action in actions
    }
    | RAM_TAGS
    | FC3_TAGS
    | FC2_TAGS
    | LOG_TAGS
    | FC_ASYNC
    | {"sts:GetCallerIdentity", "oss:ListBuckets"}
)
# Where the scoped services' actions may apply: names the program gives (<project>-<stack>-
# <function>: fc-rust-*), the bucket names the provider generates (tf-oss-bucket-*), the state
# bucket's documented prefix, and FC functions and services by any name (the program names them
# after the component).
SCOPES = {
    "ram": (
        "acs:ram:*:*:role/fc-rust-*",
        "acs:ram:*:*:policy/fc-rust-*",
        "acs:ram:*:*:policy/AliyunContainerRegistryReadOnlyAccess",
    ),
    "log": ("acs:log:*:*:project/fc-rust-*", "acs:log:*:*:project/fc-rust-*/logstore/*"),
    "oss": (
        "acs:oss:*:*:tf-oss-bucket-*",
        "acs:oss:*:*:tf-oss-bucket-*/*",
        "acs:oss:*:*:fcrust-state-*",
        "acs:oss:*:*:fcrust-state-*/*",
    ),
    "fc": ("acs:fc:*:*:functions/*", "acs:fc:*:*:services/*", "acs:fc:*:*:custom-domains/*"),
    "cr": ("acs:cr:*:*:*",),
}


def declared_types(root: Path) -> set[str]:
    """The pulumi-alicloud resources and data sources the program's package declares."""
    pattern = re.compile(r"\balicloud\.([a-z]+)\.([A-Za-z0-9_]+)\(")
    return {
        f"{module}.{name}"
        for path in sorted((root / "infra").rglob("*.py"))
        for module, name in pattern.findall(path.read_text(encoding="utf-8"))
    }


def _as_list(value: object) -> list[object]:
    return list(value) if isinstance(value, list) else [value]


def _statements(policy: object) -> list[dict[str, Any]]:
    if not isinstance(policy, dict) or not isinstance(policy.get("Statement"), list):
        return []
    return [statement for statement in policy["Statement"] if isinstance(statement, dict)]


def _statement_shape(index: int, statement: object) -> list[str]:
    where = f"Statement[{index}]"
    if not isinstance(statement, dict):
        return [f"{where} must be an object"]
    problems = [
        f"{where} has {key}, which this policy does not use"
        for key in statement.keys() - STATEMENT_KEYS
    ]
    if statement.get("Effect") != "Allow":
        problems.append(f"{where}: Effect must be Allow (this policy grants; it denies nothing)")
    for key, pattern in (("Action", ACTION), ("Resource", ARN)):
        values = _as_list(statement.get(key))
        if not values or not all(isinstance(value, str) and value for value in values):
            problems.append(f"{where}: {key} must be a string or a non-empty list of strings")
            continue
        problems += [
            f"{where}: {key} {value!r} is not in RAM's form"
            for value in values
            if value != "*" and not pattern.fullmatch(str(value))
        ]
    return problems


def policy_shape_problems(text: str) -> list[str]:
    """RAM's policy shape: Version "1", a list of statements, each Effect, Action and Resource."""
    try:
        policy = json.loads(text)
    except json.JSONDecodeError as error:
        return [f"not JSON: {error}"]
    problems = []
    if len(text) > POLICY_MAX_CHARS:
        problems.append(f"{len(text)} characters; RAM takes at most {POLICY_MAX_CHARS}")
    if not isinstance(policy, dict) or set(policy) != {"Version", "Statement"}:
        return [*problems, "the policy must hold exactly Version and Statement"]
    if policy["Version"] != "1":
        problems.append('Version must be "1"')
    if not isinstance(policy["Statement"], list) or not policy["Statement"]:
        return [*problems, "Statement must be a non-empty list"]
    for index, statement in enumerate(policy["Statement"]):
        problems += _statement_shape(index, statement)
    return problems


def _granted(policy: object) -> list[tuple[str, str]]:
    """Every (action, resource) pair the policy allows, as written."""
    return [
        (str(action), str(resource))
        for statement in _statements(policy)
        for action in _as_list(statement.get("Action"))
        for resource in _as_list(statement.get("Resource"))
    ]


def policy_scope_problems(policy: object) -> list[str]:
    """No service-wide grants; "*" only where RAM has nothing finer; names scoped by service."""
    problems = []
    for action, resource in sorted(set(_granted(policy))):
        service = action.split(":", 1)[0]
        if action == "*" or action.endswith(":*"):
            problems.append(f"{action} grants a whole service")
        elif resource == "*":
            if action not in UNSCOPED:
                problems.append(f"{action} on * : scope it to the resources the program names")
        elif action in UNSCOPED:
            problems.append(f"{action} on {resource}: RAM authorizes it on * only")
        elif resource not in SCOPES.get(service, ()):
            problems.append(f"{action} on {resource}: outside {list(SCOPES.get(service, ()))}")
    passes = {resource for action, resource in _granted(policy) if action == "ram:PassRole"}
    if passes - {"acs:ram:*:*:role/fc-rust-*"}:
        problems.append(f"ram:PassRole on {sorted(passes)}: only the functions' roles, fcrust-*")
    return problems


def policy_coverage_problems(policy: object, declared: set[str]) -> list[str]:
    """Every action the declared resources need granted, and no action that none of them needs."""
    problems = [
        f"infra declares alicloud.{kind}, which REQUIRED_ACTIONS does not know: add the actions "
        "its provider resource calls to deploy/ram-policy.json and to REQUIRED_ACTIONS"
        for kind in sorted(declared - REQUIRED_ACTIONS.keys())
    ]
    patterns = {action for action, _ in _granted(policy)}
    needed = PROGRAM_WIDE_ACTIONS.union(*(REQUIRED_ACTIONS.get(kind, ()) for kind in declared))
    problems += [
        f"{action} is needed and not granted"
        for action in sorted(needed)
        if not any(fnmatch.fnmatchcase(action, pattern) for pattern in patterns)
    ]
    known = PROGRAM_WIDE_ACTIONS.union(*REQUIRED_ACTIONS.values())
    problems += [
        f"{pattern} is granted and nothing needs it"
        for pattern in sorted(patterns)
        if not any(fnmatch.fnmatchcase(action, pattern) for action in known)
    ]
    return problems


# --- the workflows of this repository ----------------------------------------------------------


@pytest.fixture(scope="module")
def texts() -> dict[str, str]:
    return {path.name: path.read_text(encoding="utf-8") for path in workflow_files()}


def test_the_three_workflows_exist(texts: dict[str, str]) -> None:
    assert {"preview.yml", "deploy.yml", "drift.yml"} <= texts.keys()


def test_workflows_match_githubs_workflow_schema() -> None:
    assert schema_problems(workflow_files()) == []


def test_workflows_follow_this_projects_rules(texts: dict[str, str]) -> None:
    expected = stacks()
    assert expected == {"dev", "prod"}
    problems = [
        problem
        for name, text in texts.items()
        for problem in workflow_problems(name, text, expected)
    ]
    assert problems == []
    assert pin_consistency_problems(texts) == []


def test_deploy_runs_up_and_the_others_preview(texts: dict[str, str]) -> None:
    for name in ("preview.yml", "deploy.yml", "drift.yml"):
        commands = [
            dict(step.get("with") or {}).get("command")
            for job in _jobs(load_workflow(texts[name])).values()
            for step in _steps(job)
            if _uses(step) == PULUMI_ACTION
        ]
        assert commands == (["up"] if name == "deploy.yml" else ["preview"]), name


def test_drift_check_previews_every_stack_against_the_cloud_daily(texts: dict[str, str]) -> None:
    assert drift_problems("drift.yml", load_workflow(texts["drift.yml"])) == []


def test_the_tests_run_before_any_preview_or_deploy(texts: dict[str, str]) -> None:
    for name in ("preview.yml", "deploy.yml"):
        jobs = _jobs(load_workflow(texts[name]))
        ci = {job_id for job_id, job in jobs.items() if _runs_ci(job)}
        assert ci, name
        for job in jobs.values():
            if any(_uses(step) == PULUMI_ACTION for step in _steps(job)):
                assert set(_as_list(job.get("needs"))) & ci, name


def test_every_secret_the_workflows_use_is_documented(texts: dict[str, str]) -> None:
    used = {name for text in texts.values() for name in SECRET_NAME.findall(text)}
    assert used == {
        "ALIBABA_CLOUD_ACCESS_KEY_ID",
        "ALIBABA_CLOUD_ACCESS_KEY_SECRET",
        "PULUMI_BACKEND_URL",
        "PULUMI_CONFIG_PASSPHRASE",
        "GITHUB_TOKEN",
    }
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    assert [name for name in sorted(used - {"GITHUB_TOKEN"}) if name not in readme] == []


# --- each rule fails on a crafted workflow -----------------------------------------------------

CHECKOUT = "actions/checkout@3d3c42e5aac5ba805825da76410c181273ba90b1 # v7.0.1"
GOOD = f"""\
name: crafted
on:
  pull_request:
    branches: [main]
permissions: {{}}
jobs:
  test:
    runs-on: ubuntu-24.04
    permissions:
      contents: read
    steps:
      - uses: {CHECKOUT}
      - run: bash .ci/run
  preview:
    needs: test
    runs-on: ubuntu-24.04
    permissions:
      contents: read
      pull-requests: write
    strategy:
      matrix:
        stack: [dev, prod]
    steps:
      - uses: {CHECKOUT}
      - run: make setup
      - uses: pulumi/actions@8e5e406f4007fca908480587cb9893c07090f58d # v7.0.0
        env:
          ALIBABA_CLOUD_ACCESS_KEY_ID: ${{{{ secrets.ALIBABA_CLOUD_ACCESS_KEY_ID }}}}
          ALIBABA_CLOUD_ACCESS_KEY_SECRET: ${{{{ secrets.ALIBABA_CLOUD_ACCESS_KEY_SECRET }}}}
          AWS_ACCESS_KEY_ID: ${{{{ secrets.ALIBABA_CLOUD_ACCESS_KEY_ID }}}}
          AWS_SECRET_ACCESS_KEY: ${{{{ secrets.ALIBABA_CLOUD_ACCESS_KEY_SECRET }}}}
          PULUMI_BACKEND_URL: ${{{{ secrets.PULUMI_BACKEND_URL }}}}
          PULUMI_CONFIG_PASSPHRASE: ${{{{ secrets.PULUMI_CONFIG_PASSPHRASE }}}}
        with:
          command: preview
          stack-name: ${{{{ matrix.stack }}}}
          pulumi-version: 3.272.0
          comment-on-pr: true
          github-token: ${{{{ secrets.GITHUB_TOKEN }}}}
"""
TEST_JOB = "      - run: bash .ci/run\n"
PULUMI_ENV_BLOCK = "        env:\n          ALIBABA_CLOUD_ACCESS_KEY_ID"
PREVIEW_JOB = "    strategy:\n"

BAD_WORKFLOWS = {
    # secrets
    "secret echoed in run": (TEST_JOB, "      - run: echo ${{ secrets.PULUMI_BACKEND_URL }}\n"),
    "secret in a run line of the pulumi job": (
        "      - run: make setup\n",
        "      - run: make setup\n      - run: pulumi login ${{ secrets.PULUMI_BACKEND_URL }}\n",
    ),
    "secret in the test job's env": (
        "    steps:\n      - uses: " + CHECKOUT + "\n      - run: bash",
        "    env:\n      KEY: ${{ secrets.ALIBABA_CLOUD_ACCESS_KEY_ID }}\n"
        "    steps:\n      - uses: " + CHECKOUT + "\n      - run: bash",
    ),
    "secrets at job level": (
        PREVIEW_JOB,
        "    env:\n      PULUMI_CONFIG_PASSPHRASE: ${{ secrets.PULUMI_CONFIG_PASSPHRASE }}\n"
        + PREVIEW_JOB,
    ),
    "secrets at workflow level": (
        "permissions: {}\n",
        "permissions: {}\nenv:\n  PULUMI_BACKEND_URL: ${{ secrets.PULUMI_BACKEND_URL }}\n",
    ),
    "secret to setup": (
        "      - run: make setup\n",
        (
            "      - run: make setup\n        env:\n"
            "          KEY: ${{ secrets.ALIBABA_CLOUD_ACCESS_KEY_ID }}\n"
        ),
    ),
    "secret as another action's input": (
        f"      - uses: {CHECKOUT}\n      - run: make setup\n",
        (
            f"      - uses: {CHECKOUT}\n        with:\n          token: ${{{{ secrets.PAT }}}}\n"
            "      - run: make setup\n"
        ),
    ),
    "every secret at once": (
        "          PULUMI_CONFIG_PASSPHRASE: ${{ secrets.PULUMI_CONFIG_PASSPHRASE }}\n",
        (
            "          PULUMI_CONFIG_PASSPHRASE: ${{ secrets.PULUMI_CONFIG_PASSPHRASE }}\n"
            "          ALL: ${{ toJSON(secrets) }}\n"
        ),
    ),
    "inherited secrets": ("  preview:\n", "  preview:\n    secrets: inherit\n"),
    "token without a comment": ("          comment-on-pr: true\n", ""),
    "token in env": (
        "          PULUMI_BACKEND_URL:",
        "          GITHUB_TOKEN: ${{ secrets.GITHUB_TOKEN }}\n          PULUMI_BACKEND_URL:",
    ),
    "github.token in a run line": (
        TEST_JOB,
        "      - run: gh pr view --token ${{ github.token }}\n",
    ),
    # permissions
    "no default permissions": ("permissions: {}\n", ""),
    "write-all": ("permissions: {}\n", "permissions: write-all\n"),
    "job without permissions": (
        "    permissions:\n      contents: read\n    steps:",
        "    steps:",
    ),
    "test job writes": ("      contents: read\n    steps:", "      contents: write\n    steps:"),
    "test job may comment": (
        "      contents: read\n    steps:",
        "      contents: read\n      pull-requests: write\n    steps:",
    ),
    "extra scope": (
        "      pull-requests: write\n",
        "      pull-requests: write\n      actions: write\n",
    ),
    "pull_request_target": ("  pull_request:\n", "  pull_request_target:\n"),
    # pins
    "tag, not SHA": (
        f"      - uses: {CHECKOUT}\n      - run: bash",
        "      - uses: actions/checkout@v4\n      - run: bash",
    ),
    "short SHA": (CHECKOUT, "actions/checkout@3d3c42e # v7.0.1"),
    "no version comment": (CHECKOUT, CHECKOUT.split(" #", 1)[0]),
    "comment not a version": (CHECKOUT, CHECKOUT.split(" #", 1)[0] + " # latest"),
    "unreadable uses": (
        f"      - uses: {CHECKOUT}\n      - run: bash",
        "      - {uses: actions/checkout@v4}\n      - run: bash",
    ),
    # pulumi steps
    "no OSS backend credentials": (
        "          AWS_ACCESS_KEY_ID: ${{ secrets.ALIBABA_CLOUD_ACCESS_KEY_ID }}\n",
        "",
    ),
    "no passphrase": (
        "          PULUMI_CONFIG_PASSPHRASE: ${{ secrets.PULUMI_CONFIG_PASSPHRASE }}\n",
        "",
    ),
    "credential not a secret": (
        "AWS_SECRET_ACCESS_KEY: ${{ secrets.ALIBABA_CLOUD_ACCESS_KEY_SECRET }}",
        "AWS_SECRET_ACCESS_KEY: hunter2",
    ),
    "floating CLI": ("          pulumi-version: 3.272.0\n", "          pulumi-version: ^3\n"),
    "no CLI version": ("          pulumi-version: 3.272.0\n", ""),
    "upsert": (
        "          command: preview\n",
        "          command: preview\n          upsert: true\n",
    ),
    "fixed stack": ("          stack-name: ${{ matrix.stack }}\n", "          stack-name: dev\n"),
    "a stack left out": ("        stack: [dev, prod]\n", "        stack: [dev]\n"),
    "no setup before pulumi": ("      - run: make setup\n", ""),
}


# What each crafted workflow's problem says (so that it fails for the rule it was made for).
EXPECTED = {
    "secret echoed in run": "shell command",
    "secret in a run line of the pulumi job": "shell command",
    "secret in the test job's env": "jobs.test.env.KEY gives a secret",
    "secrets at job level": "jobs.preview.env.PULUMI_CONFIG_PASSPHRASE gives a secret",
    "secrets at workflow level": "env.PULUMI_BACKEND_URL gives a secret",
    "secret to setup": "steps.1.env.KEY gives a secret",
    "secret as another action's input": "steps.0.with.token gives a secret",
    "every secret at once": "env.ALL gives a secret",
    "inherited secrets": "passes `secrets:` to a reusable workflow",
    "token without a comment": "with.github-token hands out GITHUB_TOKEN",
    "token in env": "env.GITHUB_TOKEN hands out GITHUB_TOKEN",
    "github.token in a run line": "shell command",
    "no default permissions": "`permissions` must be {}",
    "write-all": "`permissions` must be {}",
    "job without permissions": "jobs.test must declare its `permissions`",
    "test job writes": "contents: write, more than it needs",
    "test job may comment": "jobs.test asks for pull-requests: write",
    "extra scope": "actions: write, more than it needs",
    "pull_request_target": "on: pull_request_target",
    "tag, not SHA": "must name a full 40-hex commit SHA",
    "short SHA": "must name a full 40-hex commit SHA",
    "no version comment": "needs the exact version it pins",
    "comment not a version": "needs the exact version it pins",
    "unreadable uses": "cannot read",
    "no OSS backend credentials": "env AWS_ACCESS_KEY_ID must be",
    "no passphrase": "env PULUMI_CONFIG_PASSPHRASE must be",
    "credential not a secret": "env AWS_SECRET_ACCESS_KEY must be",
    "floating CLI": "pulumi-version must be an exact version",
    "no CLI version": "pulumi-version must be an exact version",
    "upsert": "upsert would create",
    "fixed stack": "stack-name must be",
    "a stack left out": "the matrix must hold every stack",
    "no setup before pulumi": "`make setup` must run first",
}


def test_the_crafted_workflow_passes_every_rule(tmp_path: Path) -> None:
    assert schema_problems_of_text(GOOD, tmp_path) == []
    assert workflow_problems("crafted", GOOD, {"dev", "prod"}) == []


def schema_problems_of_text(text: str, directory: Path) -> list[str]:
    """The schema check on a workflow given as text."""
    target = directory / "crafted.yml"
    target.write_text(text, encoding="utf-8")
    return schema_problems([target])


def test_every_crafted_workflow_says_what_it_breaks() -> None:
    assert EXPECTED.keys() == BAD_WORKFLOWS.keys()


@pytest.mark.parametrize("case", sorted(BAD_WORKFLOWS))
def test_each_rule_fails_on_a_crafted_workflow(case: str) -> None:
    old, new = BAD_WORKFLOWS[case]
    assert old in GOOD, case
    problems = workflow_problems("crafted", GOOD.replace(old, new, 1), {"dev", "prod"})
    assert any(EXPECTED[case] in problem for problem in problems), problems


def test_schema_check_fails_on_an_invalid_workflow(tmp_path: Path) -> None:
    bad = GOOD.replace("    runs-on: ubuntu-24.04\n", "    runs_on: ubuntu-24.04\n", 1)
    problems = schema_problems_of_text(bad, tmp_path)
    assert problems != []
    assert any("runs_on" in problem or "runs-on" in problem for problem in problems)


def test_pins_must_agree_across_workflows() -> None:
    other = GOOD.replace(CHECKOUT, "actions/checkout@" + "0" * 40 + " # v6.0.0")
    assert pin_consistency_problems({"a.yml": GOOD, "b.yml": GOOD}) == []
    assert pin_consistency_problems({"a.yml": GOOD, "b.yml": other}) != []


@pytest.mark.parametrize(
    ("old", "new"),
    [
        ("          refresh: true\n", ""),
        ("          expect-no-changes: true\n", "          expect-no-changes: false\n"),
        ('  schedule:\n    - cron: "23 2 * * *"\n', ""),
        ("          command: preview\n", "          command: up\n"),
    ],
)
def test_drift_rule_fails_on_a_crafted_workflow(texts: dict[str, str], old: str, new: str) -> None:
    drift = texts["drift.yml"]
    assert old in drift
    assert drift_problems("crafted", load_workflow(drift.replace(old, new, 1))) != []


# --- the RAM policy ----------------------------------------------------------------------------


def test_policy_is_a_ram_policy_within_rams_size_limit() -> None:
    assert policy_shape_problems(POLICY.read_text(encoding="utf-8")) == []


def test_policy_is_scoped() -> None:
    assert policy_scope_problems(json.loads(POLICY.read_text(encoding="utf-8"))) == []


def test_policy_grants_what_the_program_declares_and_nothing_else() -> None:
    declared = declared_types(REPO)
    assert {"ram.Role", "fc.V3Function", "oss.BucketObject", "log.Store"} <= declared
    policy = json.loads(POLICY.read_text(encoding="utf-8"))
    assert policy_coverage_problems(policy, declared) == []
    # Whatever infra does not declare yet (the alerts, say) is granted all the same.
    assert policy_coverage_problems(policy, set(REQUIRED_ACTIONS)) == []


def _policy_with(change: dict[str, Any]) -> dict[str, Any]:
    policy: dict[str, Any] = json.loads(POLICY.read_text(encoding="utf-8"))
    policy["Statement"].append(change)
    return policy


ONE = {"Effect": "Allow", "Action": "fc:GetFunction", "Resource": "*"}
BAD_POLICIES = [
    {"Version": "2", "Statement": [ONE]},
    {"Version": "1", "Statement": []},
    {"Version": "1", "Statement": ONE},
    {"Version": "1", "Statement": [ONE], "Id": "extra"},
    {"Version": "1", "Statement": [{**ONE, "Effect": "Maybe"}]},
    {"Version": "1", "Statement": [{**ONE, "Effect": "Deny"}]},
    {"Version": "1", "Statement": [{**ONE, "Action": []}]},
    {"Version": "1", "Statement": [{**ONE, "Action": "GetFunction"}]},
    {"Version": "1", "Statement": [{"Effect": "Allow", "Action": "fc:GetFunction"}]},
    {"Version": "1", "Statement": [{**ONE, "Resource": "functions/x"}]},
    {"Version": "1", "Statement": [{"Effect": "Allow", "NotAction": "fc:A", "Resource": "*"}]},
    {"Version": "1", "Statement": [{**ONE, "Resource": ["*"] * 2000}]},
]


@pytest.mark.parametrize("text", ["{", *map(json.dumps, BAD_POLICIES)])
def test_policy_shape_check_fails_on_a_crafted_policy(text: str) -> None:
    assert policy_shape_problems(text) != []


@pytest.mark.parametrize(
    "statement",
    [
        {"Effect": "Allow", "Action": "*", "Resource": "*"},
        {"Effect": "Allow", "Action": "oss:*", "Resource": "acs:oss:*:*:tf-oss-bucket-*"},
        {"Effect": "Allow", "Action": "ram:PassRole", "Resource": "*"},
        {"Effect": "Allow", "Action": "ram:PassRole", "Resource": "acs:ram:*:*:role/*"},
        {"Effect": "Allow", "Action": "ram:CreateRole", "Resource": "acs:ram:*:*:role/*"},
        {"Effect": "Allow", "Action": "log:DeleteProject", "Resource": "*"},
        {"Effect": "Allow", "Action": "oss:DeleteBucket", "Resource": "acs:oss:*:*:*"},
        {"Effect": "Allow", "Action": "fc:DeleteFunction", "Resource": "*"},
        {"Effect": "Allow", "Action": "cms:PutContact", "Resource": "acs:cms:*:*:*"},
    ],
)
def test_policy_scope_check_fails_on_a_crafted_policy(statement: dict[str, Any]) -> None:
    assert policy_scope_problems(_policy_with(statement)) != []


def test_policy_coverage_check_fails_on_a_crafted_policy() -> None:
    policy = json.loads(POLICY.read_text(encoding="utf-8"))
    declared = declared_types(REPO)
    for statement in policy["Statement"]:
        statement["Action"] = [a for a in statement["Action"] if a != "fc:CreateFunction"]
    assert policy_coverage_problems(policy, declared) == [
        "fc:CreateFunction is needed and not granted"
    ]
    extra = _policy_with({"Effect": "Allow", "Action": "ecs:RunInstances", "Resource": "*"})
    assert policy_coverage_problems(extra, declared) == [
        "ecs:RunInstances is granted and nothing needs it"
    ]
    assert policy_coverage_problems(extra, declared | {"ecs.Instance"})[0].startswith(
        "infra declares alicloud.ecs.Instance"
    )
