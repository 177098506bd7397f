"""FC 3.0: the function, its published version and alias, the timers on the alias."""

from __future__ import annotations

import hashlib
import json
from typing import TYPE_CHECKING

import pulumi
import pulumi_alicloud as alicloud

from infra import alerts, container, limits, timer
from infra.plan import (
    BOOTSTRAP_COMMAND,
    HANDLER,
    Declared,
    Plan,
    failure_destination,
    known,
    trigger_options,
)

if TYPE_CHECKING:
    from infra.spec import FunctionSpec


def digest(document: object) -> str:
    """sha256 (hex) of `document` as canonical JSON."""
    return hashlib.sha256(json.dumps(document, sort_keys=True).encode()).hexdigest()


def config_digest(plan: Plan) -> pulumi.Output[str]:
    """A digest of everything a published version snapshots besides the code.

    Secret values take part (a rotated token must reach the alias), so the digest of a function
    with secret environment is itself a secret: nothing derived from a secret is ever stored in
    plain text.
    """
    spec, environment = plan.spec, plan.environment
    keys = sorted(environment)
    settings = {
        "cpu": spec.cpu,
        "runtime": spec.runtime,
        "memory_size": spec.memory_size,
        "disk_size": spec.disk_size,
        "timeout": spec.timeout,
        "instance_concurrency": spec.instance_concurrency,
        "description": spec.description,
    }
    return pulumi.Output.all(
        plan.role_arn, plan.log_project, plan.logstore, *[environment[k] for k in keys]
    ).apply(
        lambda values: digest(
            {
                "settings": settings,
                "role": values[0],
                "logs": [values[1], values[2]],
                "environment": dict(zip(keys, values[3:], strict=True)),
            }
        )
    )


def _function(parent: pulumi.Resource, plan: Plan) -> alicloud.fc.V3Function:
    spec, source = plan.spec, plan.source
    log_config: alicloud.fc.V3FunctionLogConfigArgsDict | None = None
    if plan.log_project is not None and plan.logstore is not None:
        log_config = {
            "project": plan.log_project,
            "logstore": plan.logstore,
            "enable_request_metrics": True,
            "enable_instance_metrics": True,
            "log_begin_rule": "None",
        }
    return alicloud.fc.V3Function(
        f"{spec.name}-function",
        function_name=spec.function_name,
        description=spec.description,
        runtime=spec.runtime,
        handler=HANDLER,
        code=(
            {
                "oss_bucket_name": source.code.bucket,
                "oss_object_name": source.code.key,
                "checksum": source.package.crc64,
            }
            if source.code and source.package
            else None
        ),
        custom_runtime_config=(
            {"port": limits.CUSTOM_RUNTIME_PORT, "commands": [BOOTSTRAP_COMMAND]}
            if source.code
            else None
        ),
        custom_container_config=(
            {
                "image": source.image,
                "port": limits.CUSTOM_RUNTIME_PORT,
                "entrypoints": [container.ENTRYPOINT],
                "acr_instance_id": source.acr_instance_id,
            }
            if source.image is not None
            else None
        ),
        memory_size=spec.memory_size,
        cpu=spec.cpu,
        disk_size=spec.disk_size,
        timeout=spec.timeout,
        instance_concurrency=spec.instance_concurrency,
        environment_variables=plan.environment,
        internet_access=True,
        role=plan.role_arn,
        log_config=log_config,
        tags=dict(spec.tags) or None,
        opts=pulumi.ResourceOptions(parent=parent, depends_on=plan.depends_on),
    )


def _async_config(
    parent: pulumi.Resource,
    spec: FunctionSpec,
    function_name: pulumi.Input[str],
    alias: pulumi.Input[str],
) -> alicloud.fc.V3AsyncInvokeConfig | None:
    retries = spec.async_invoke
    if retries is None:
        return None
    return alicloud.fc.V3AsyncInvokeConfig(
        f"{spec.name}-async-invoke",
        function_name=function_name,
        # Timers invoke the alias, and FC keeps one such config per qualifier.
        qualifier=alias,
        max_async_retry_attempts=retries.get("max_retries"),
        max_async_event_age_in_seconds=retries.get("max_event_age"),
        destination_config=failure_destination(retries),
        opts=pulumi.ResourceOptions(parent=parent),
    )


def declare(parent: pulumi.Resource, plan: Plan) -> Declared:
    """Function, published version, alias, asynchronous invocation config, timers, alert."""
    spec = plan.spec
    child = pulumi.ResourceOptions(parent=parent)
    function = _function(parent, plan)
    config = config_digest(plan)
    published = alicloud.fc.V3FunctionVersion(
        f"{spec.name}-version",
        function_name=function.function_name,
        description=pulumi.Output.all(plan.source.revision, config).apply(
            lambda parts: f"{spec.crate} code {parts[0]} config {parts[1][:16]}"
        ),
        # A version is immutable: new code or config publishes a new one (replace) and the
        # superseded one is deleted once the alias has moved on. Versions are not retained:
        # the provider's delete sends DeleteFunction alone, and FC refuses a function that
        # still has versions (Serverless Devs deletes them first; FC's FunctionNotEmpty; not
        # stated on FC 3.0's DeleteFunction page), so a retained version would make
        # `pulumi destroy` and a rename fail. While the alias is pinned, the
        # version held is kept as it is (ignore_changes), so that the version the alias may
        # point at is never deleted under it.
        opts=pulumi.ResourceOptions(
            parent=parent,
            replace_on_changes=["*"],
            ignore_changes=["description"] if spec.pinned_version is not None else None,
            depends_on=[function],
        ),
    )
    pinned = spec.pinned_version
    alias = alicloud.fc.V3Alias(
        f"{spec.name}-alias",
        function_name=function.function_name,
        alias_name=spec.alias,
        version_id=pinned if pinned is not None else published.version_id,
        description=f"pinned to version {pinned}" if pinned else "newest published version",
        opts=child,
    )
    async_config = _async_config(parent, spec, function.function_name, alias.alias_name)
    options = trigger_options(parent, async_config)
    for settings in spec.timers:
        alicloud.fc.V3Trigger(
            f"{spec.name}-timer-{settings['name']}",
            function_name=function.function_name,
            trigger_name=settings["name"],
            trigger_type="timer",
            qualifier=alias.alias_name,
            trigger_config=timer.trigger_config(settings),
            opts=options,
        )
    if spec.alert is not None:
        alerts.failure_alarm(
            spec.name,
            spec.alert,
            function_name=spec.function_name,
            dimensions=alerts.metric_dimensions(spec.region, spec.function_name),
            parent=parent,
        )
    return Declared(
        function_name=function.function_name,
        function_arn=function.function_arn,
        alias=alias.alias_name,
        version=known(alias.version_id, pinned or ""),
        published_version=known(published.version_id, ""),
    )
