"""What either FC backend declares a function from: its spec, code source and dependencies."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import pulumi

if TYPE_CHECKING:
    import pulumi_alicloud as alicloud

    from infra.args import AsyncInvokeArgs
    from infra.bootstrap import Package
    from infra.spec import FunctionSpec

HANDLER = "index.handler"
"""FC requires a handler; custom runtimes ignore it (Serverless Devs writes the same)."""
BOOTSTRAP_COMMAND = "/code/bootstrap"
"""Where FC unpacks the zip's `bootstrap`; stated explicitly so a console edit cannot drift."""


@dataclass(frozen=True)
class Source:
    """Where the function's code comes from: a zip in OSS, or a container image."""

    revision: pulumi.Input[str]
    """Short content id of the code, part of the published version's description."""
    package: Package | None = None
    code: alicloud.oss.BucketObject | None = None
    image: pulumi.Input[str] | None = None
    acr_instance_id: str | None = None
    depends_on: list[pulumi.Resource] = field(default_factory=list)
    """Resources FC needs before the function: the pushed image."""


@dataclass(frozen=True)
class Plan:
    """Everything either FC backend declares the function from."""

    spec: FunctionSpec
    source: Source
    environment: dict[str, pulumi.Input[str]]
    """Plain and secret variables together; the secret ones as Pulumi secrets."""
    role_arn: pulumi.Input[str] | None
    log_project: pulumi.Input[str] | None
    logstore: pulumi.Input[str] | None
    depends_on: list[pulumi.Resource]
    """What FC needs in place before the function: the pushed image, the role's policies."""


@dataclass(frozen=True)
class Declared:
    """What a backend declared, as the component's outputs."""

    function_name: pulumi.Output[str]
    function_arn: pulumi.Output[str]
    alias: pulumi.Output[str]
    version: pulumi.Output[str]
    published_version: pulumi.Output[str]
    http_url: pulumi.Output[str]
    """The HTTP trigger's public URL ("" without one, or where the provider gives none)."""
    http_internal_url: pulumi.Output[str]
    """Its URL inside the region's VPC."""


def failure_destination(retries: AsyncInvokeArgs) -> Any:  # noqa: ANN401 - each FC version types it apart
    """The asynchronous invocation config's `destination_config`: where failed events go."""
    if "on_failure" not in retries:
        return None
    return {"on_failure": {"destination": retries["on_failure"]}}


def known(output: pulumi.Output[str | None], default: str) -> pulumi.Output[str]:
    """`output`, typed as always set: the provider fills these in, `default` covers a None."""

    def or_default(value: str | None) -> str:
        return value if value is not None else default

    return output.apply(or_default)


def trigger_options(
    parent: pulumi.Resource, async_config: pulumi.Resource | None
) -> pulumi.ResourceOptions:
    """Options of a timer trigger: after the retry settings, delete before replace.

    The first tick must already find the retry settings in place. A trigger's name is unique
    within its function and some of its inputs are ForceNew (FC 3.0 `qualifier`, FC 2.0
    `service` and `function`), so a create-before-delete replacement would collide with the
    trigger it replaces.
    """
    return pulumi.ResourceOptions(
        parent=parent,
        delete_before_replace=True,
        depends_on=[async_config] if async_config is not None else [],
    )
