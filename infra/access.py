"""The function's RAM role: trusted by Function Compute only, with least privilege.

It may write its own logs and, for the container variant, pull its image.
"""

from __future__ import annotations

import json
from typing import NotRequired, TypedDict

import pulumi
import pulumi_alicloud as alicloud

FC_SERVICE_PRINCIPAL = "fc.aliyuncs.com"
IMAGE_PULL_POLICY = "AliyunContainerRegistryReadOnlyAccess"
"""The system policy that lets FC pull a custom-container function's image from ACR."""


ROTATE_OLDEST = "DeleteOldestNonDefaultVersionWhenLimitExceeded"
"""A policy's new version replaces its oldest one once RAM's 5 are kept (RAM CreatePolicyVersion,
https://www.alibabacloud.com/help/en/ram/developer-reference/api-ram-2015-05-01-createpolicyversion)."""


def trust_policy() -> str:
    """The assume-role document: only Function Compute may take this role."""
    return json.dumps(
        {
            "Version": "1",
            "Statement": [
                {
                    "Action": "sts:AssumeRole",
                    "Effect": "Allow",
                    "Principal": {"Service": [FC_SERVICE_PRINCIPAL]},
                }
            ],
        },
        sort_keys=True,
    )


def logstore_resource(project: str, logstore: str) -> str:
    """The RAM resource name of one SLS logstore, in any region of the account."""
    return f"acs:log:*:*:project/{project}/logstore/{logstore}"


def log_write_policy(project: str, *logstores: str) -> str:
    """A policy that allows writing log entries to these logstores and nothing else."""
    return json.dumps(
        {
            "Version": "1",
            "Statement": [
                {
                    "Action": ["log:PostLogStoreLogs"],
                    "Effect": "Allow",
                    "Resource": [logstore_resource(project, store) for store in logstores],
                }
            ],
        },
        sort_keys=True,
    )


class FunctionRoleArgs(TypedDict):
    """Inputs of `FunctionRole`."""

    role_name: str
    """RAM role name, unique in the account (1-64 letters, digits, `.` and `-`)."""
    log_project: NotRequired[pulumi.Input[str]]
    """SLS project of the logstore the function writes to; no log policy without it."""
    logstore: NotRequired[pulumi.Input[str]]
    """The logstore the function writes to."""
    logstores: NotRequired[list[str]]
    """The logstores of `log_project` that the functions sharing this role write to, each its
    own; instead of `logstore`."""
    description: NotRequired[str]
    """Shown in the RAM console."""
    tags: NotRequired[dict[str, str]]
    """Tags on the role."""
    image_pull: NotRequired[bool]
    """Allow pulling images from Container Registry (the container variant); default false."""


class FunctionRole(pulumi.ComponentResource):
    """A RAM role for one function: FC may assume it, and it may post to one logstore."""

    arn: pulumi.Output[str]
    """The role's ARN, as FC expects it in the function's `role`."""
    role_name: pulumi.Output[str]
    """The role's name."""

    def __init__(
        self, name: str, args: FunctionRoleArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        """Create the role and, when a logstore is given, its log-write policy."""
        super().__init__("fcrust:index:FunctionRole", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        role = alicloud.ram.Role(
            f"{name}-role",
            role_name=args["role_name"],
            assume_role_policy_document=trust_policy(),
            description=args.get("description", "Function Compute execution role (fc-rust)"),
            tags=args.get("tags"),
            opts=child,
        )
        project = args.get("log_project")
        stores = [args["logstore"]] if "logstore" in args else list(args.get("logstores", []))
        if project is not None and stores:
            policy = alicloud.ram.Policy(
                f"{name}-log-policy",
                policy_name=f"{args['role_name']}-logs",
                policy_document=pulumi.Output.all(project, *stores).apply(
                    lambda names: log_write_policy(*map(str, names))
                ),
                description="Write to the function's own logstore only (fc-rust)",
                # RAM keeps at most 5 versions of a policy, and a changed document is a new
                # version: without a rotate strategy the sixth change fails (LimitExceeded).
                # The provider sends RotateStrategy only when it is set
                # (terraform-provider-alicloud resource_alicloud_ram_policy.go Update).
                rotate_strategy=ROTATE_OLDEST,
                opts=child,
            )
            alicloud.ram.RolePolicyAttachment(
                f"{name}-log-policy-attachment",
                policy_name=policy.policy_name,
                policy_type="Custom",
                role_name=role.role_name,
                opts=child,
            )
        if args.get("image_pull", False):
            alicloud.ram.RolePolicyAttachment(
                f"{name}-image-pull-attachment",
                policy_name=IMAGE_PULL_POLICY,
                policy_type="System",
                role_name=role.role_name,
                opts=child,
            )
        self.arn = role.arn
        self.role_name = role.role_name
        self.register_outputs({"arn": self.arn, "role_name": self.role_name})
