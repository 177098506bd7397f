"""The function's log destination: an SLS project and logstore that FC writes stdout to."""

from __future__ import annotations

from typing import NotRequired, TypedDict

import pulumi
import pulumi_alicloud as alicloud

DEFAULT_RETENTION_DAYS = 30


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
        project = alicloud.log.Project(
            f"{name}-project",
            project_name=args["project_name"],
            description="Function Compute logs (fc-rust)",
            tags=args.get("tags"),
            opts=child,
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
