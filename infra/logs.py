"""The function's log destination: an SLS project and logstore that FC writes stdout to."""

from __future__ import annotations

import hashlib
import re
from typing import NotRequired, TypedDict

import pulumi
import pulumi_alicloud as alicloud

DEFAULT_RETENTION_DAYS = 30
ACCOUNT_SUFFIX_LENGTH = 7
"""`-` and 6 hex digits of the account's digest, appended to a default project name."""


def account_unique(project_name: str, account_id: str) -> str:
    """`project_name` made unique to one Alibaba Cloud account.

    SLS project names are unique across all of Alibaba Cloud (terraform-provider-alicloud
    resource_alicloud_log_project.go, the project_name validation message: "The project name is
    globally unique in Alibaba Cloud"), so a default made of the project, stack and function
    names would be taken by the first account that deploys the same template.
    """
    digest = hashlib.sha256(account_id.encode()).hexdigest()[: ACCOUNT_SUFFIX_LENGTH - 1]
    return f"{project_name}-{digest}"


def function_logstore(name: str) -> str:
    """The logstore of the function `name` in a stack's shared project: `<name>-logs`.

    Lower case, `-` for anything else SLS refuses; SLS logstore names are 3-63 lower-case letters,
    digits, `-` and `_` (`limits.check_log_names`).
    """
    text = re.sub(r"[^a-z0-9_-]+", "-", name.lower()).strip("-_")
    return f"{text[:58].rstrip('-_')}-logs"


def _project(
    name: str, args: LogProjectArgs | FunctionLogsArgs, parent: pulumi.Resource
) -> alicloud.log.Project:
    """The SLS project `args` name; with `per_account`, made unique to the deploying account."""
    project_name = args["project_name"]
    name_input: pulumi.Input[str] = project_name
    options = pulumi.ResourceOptions(parent=parent)
    if args.get("per_account", False):
        invoke = pulumi.InvokeOutputOptions(parent=parent)
        account = alicloud.get_caller_identity_output(opts=invoke)
        name_input = account.account_id.apply(
            lambda account_id: account_unique(project_name, account_id)
        )
        # A project created under an earlier default name keeps it: renaming a project
        # replaces it, and its logs with it.
        options = pulumi.ResourceOptions(parent=parent, ignore_changes=["projectName"])
    return alicloud.log.Project(
        name,
        project_name=name_input,
        description="Function Compute logs (fc-rust)",
        tags=args.get("tags"),
        opts=options,
    )


def log_store(
    name: str,
    project: pulumi.Input[str],
    logstore_name: str,
    retention_days: int,
    parent: pulumi.Resource,
) -> alicloud.log.Store:
    """One function's logstore in `project`."""
    return alicloud.log.Store(
        name,
        project_name=project,
        logstore_name=logstore_name,
        retention_period=retention_days,
        shard_count=1,
        auto_split=True,
        max_split_shard_count=8,
        opts=pulumi.ResourceOptions(parent=parent),
    )


class LogProjectArgs(TypedDict):
    """Inputs of `LogProject`."""

    project_name: str
    """SLS project name (3-63 lowercase letters, digits and `-`)."""
    tags: NotRequired[dict[str, str]]
    """Tags on the project."""
    per_account: NotRequired[bool]
    """As `FunctionLogsArgs.per_account`."""


class LogProject(pulumi.ComponentResource):
    """An SLS project for a stack's functions, each writing to its own logstore (`log_store`)."""

    project: pulumi.Output[str]
    """The project's name."""

    def __init__(
        self, name: str, args: LogProjectArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        """Create the project."""
        super().__init__("fcrust:index:LogProject", name, None, opts)
        project = _project(f"{name}-project", args, self)
        self.project = project.project_name
        self.register_outputs({"project": self.project})


class FunctionLogsArgs(TypedDict):
    """Inputs of `FunctionLogs`."""

    project_name: str
    """SLS project name, unique in the region (3-63 lowercase letters, digits and `-`)."""
    logstore_name: str
    """Logstore name inside the project."""
    retention_days: NotRequired[int]
    """How long log entries are kept; default 30 days."""
    tags: NotRequired[dict[str, str]]
    """Tags on the project."""
    per_account: NotRequired[bool]
    """Append a digest of the deploying account to `project_name` (`account_unique`), and keep
    the name a deployed project has (state keeps it); default false: the name as given."""


class FunctionLogs(pulumi.ComponentResource):
    """An SLS project with one logstore, for one function's output."""

    project: pulumi.Output[str]
    """The project name, for the function's log config."""
    logstore: pulumi.Output[str]
    """The logstore name, for the function's log config."""

    def __init__(
        self, name: str, args: FunctionLogsArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        """Create the project and its logstore."""
        super().__init__("fcrust:index:FunctionLogs", name, None, opts)
        project = _project(f"{name}-project", args, self)
        store = log_store(
            f"{name}-store",
            project.project_name,
            args["logstore_name"],
            args.get("retention_days", DEFAULT_RETENTION_DAYS),
            self,
        )
        self.project = project.project_name
        self.logstore = store.logstore_name
        self.register_outputs({"project": self.project, "logstore": self.logstore})
