"""FC 3.0: the function, its published version and alias, the timers on the alias."""

from __future__ import annotations

import hashlib
import json
from typing import TYPE_CHECKING

import pulumi
import pulumi_alicloud as alicloud

from infra import alerts, container, http_trigger, limits, timer
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


def version_description(description: str, revision: str, config: str) -> str:
    """The function's description with the code revision and config digest it was published with.

    FC 3.0 allows 256 characters (CreateFunctionInput `description`); the user's part is checked
    against the room left (`limits.DESCRIPTION_ROOM`).
    """
    return f"{description} [code {revision[:16]} config {config[:16]}]"


def _function(
    parent: pulumi.Resource, plan: Plan, description: pulumi.Input[str]
) -> alicloud.fc.V3Function:
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
        description=description,
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


def _async_configs(
    parent: pulumi.Resource,
    spec: FunctionSpec,
    function_name: pulumi.Input[str],
    alias: pulumi.Input[str],
) -> list[alicloud.fc.V3AsyncInvokeConfig]:
    """The retry settings on LATEST and on the alias the timers invoke, or none.

    FC keeps one config per qualifier, and timers invoke the alias, so the alias needs its own.
    The provider cannot manage that one alone: its Read asks for the config of LATEST (no
    qualifier; terraform-provider-alicloud service_alicloud_fcv3_v2.go
    DescribeFcv3AsyncInvokeConfig), so a config created only on the alias is "not found" right
    after its create, and the create fails. With the same settings on LATEST, that Read finds
    them and writes back exactly what the alias was given. The alias's config is created after
    LATEST's, so an update reads LATEST's new values; and since the provider's Update sends
    nothing when only the qualifier changes (resource_alicloud_fcv3_async_invoke_config.go
    Update), a new alias gets a new config (replace) instead of a silent update.
    """
    retries = spec.async_invoke
    if retries is None:
        return []

    def config(
        name: str, qualifier: pulumi.Input[str] | None, opts: pulumi.ResourceOptions
    ) -> alicloud.fc.V3AsyncInvokeConfig:
        return alicloud.fc.V3AsyncInvokeConfig(
            name,
            function_name=function_name,
            qualifier=qualifier,
            max_async_retry_attempts=retries.get("max_retries"),
            max_async_event_age_in_seconds=retries.get("max_event_age"),
            destination_config=failure_destination(retries),
            opts=opts,
        )

    latest = config(f"{spec.name}-async-invoke-latest", None, pulumi.ResourceOptions(parent=parent))
    on_alias = config(
        f"{spec.name}-async-invoke",
        alias,
        pulumi.ResourceOptions(
            parent=parent, depends_on=[latest], replace_on_changes=["qualifier"]
        ),
    )
    return [latest, on_alias]


def declare(parent: pulumi.Resource, plan: Plan) -> Declared:
    """Function, published version, alias, asynchronous invocation config, timers, alert."""
    spec = plan.spec
    child = pulumi.ResourceOptions(parent=parent)
    # What a published version snapshots (code and config) is written into the function's
    # description, and the version is given that same description: the provider's Read sets a
    # version's description from the function's at that version (GetFunction?qualifier=<v>;
    # terraform-provider-alicloud resource_alicloud_fcv3_function_version.go Read,
    # service_alicloud_fcv3_v2.go DescribeFcv3FunctionVersion), and the field is ForceNew, so
    # any other text would replace the version at every preview.
    description = pulumi.Output.all(plan.source.revision, config_digest(plan)).apply(
        lambda parts: version_description(spec.description, parts[0], parts[1])
    )
    function = _function(parent, plan, description)
    published = alicloud.fc.V3FunctionVersion(
        f"{spec.name}-version",
        function_name=function.function_name,
        description=function.description.apply(lambda text: text or ""),
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
    async_configs = _async_configs(parent, spec, function.function_name, alias.alias_name)
    options = trigger_options(parent, async_configs[-1] if async_configs else None)
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
    http_url = http_internal_url = pulumi.Output.from_input("")
    if spec.http is not None:
        trigger = alicloud.fc.V3Trigger(
            f"{spec.name}-http-trigger",
            function_name=function.function_name,
            trigger_name=http_trigger.TRIGGER_NAME,
            trigger_type="http",
            qualifier=alias.alias_name,
            trigger_config=http_trigger.trigger_config(spec.http, fc_version="3.0"),
            # One HTTP trigger per alias, and its name is taken until it is gone.
            opts=pulumi.ResourceOptions(parent=parent, delete_before_replace=True),
        )
        urls = trigger.http_trigger
        http_url = urls.apply(lambda found: (found.url_internet if found else None) or "")
        http_internal_url = urls.apply(lambda found: (found.url_intranet if found else None) or "")
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
        version=known(alias.version_id, ""),
        published_version=known(published.version_id, ""),
        http_url=http_url,
        http_internal_url=http_internal_url,
    )
