"""The function's log destination: an SLS project and logstore that FC writes stdout to."""

from __future__ import annotations

import hashlib
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
    """An SLS project with one logstore for a function's output."""

    project: pulumi.Output[str]
    """The project name, for the function's log config."""
    logstore: pulumi.Output[str]
    """The logstore name, for the function's log config."""

    def __init__(
        self, name: str, args: FunctionLogsArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        """Create the project and its logstore."""
        super().__init__("fcrust:index:FunctionLogs", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        project_name: pulumi.Input[str] = args["project_name"]
        project_options = child
        if args.get("per_account", False):
            account = alicloud.get_caller_identity_output(
                opts=pulumi.InvokeOutputOptions(parent=self)
            )
            project_name = account.account_id.apply(
                lambda account_id: account_unique(args["project_name"], account_id)
            )
            # A project created under an earlier default name keeps it: renaming a project
            # replaces it, and its logs with it.
            project_options = pulumi.ResourceOptions(parent=self, ignore_changes=["projectName"])
        project = alicloud.log.Project(
            f"{name}-project",
            project_name=project_name,
            description="Function Compute logs (fc-rust)",
            tags=args.get("tags"),
            opts=project_options,
        )
        store = alicloud.log.Store(
            f"{name}-store",
            project_name=project.project_name,
            logstore_name=args["logstore_name"],
            retention_period=args.get("retention_days", DEFAULT_RETENTION_DAYS),
            shard_count=1,
            auto_split=True,
            max_split_shard_count=8,
            opts=child,
        )
        self.project = project.project_name
        self.logstore = store.logstore_name
        self.register_outputs({"project": self.project, "logstore": self.logstore})
