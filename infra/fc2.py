"""FC 2.0 (legacy API): a service named after the function, the function, timers on LATEST."""

from __future__ import annotations

import json

import pulumi
import pulumi_alicloud as alicloud

from infra import alerts, container, http_trigger, limits, timer
from infra.plan import HANDLER, Declared, Plan, failure_destination, known, trigger_options


def declare(parent: pulumi.Resource, plan: Plan) -> Declared:
    """Service, function, asynchronous invocation config, timers, alert."""
    spec, source = plan.spec, plan.source
    log_config: alicloud.fc.ServiceLogConfigArgsDict | None = None
    if plan.log_project is not None and plan.logstore is not None:
        log_config = {
            "project": plan.log_project,
            "logstore": plan.logstore,
            "enable_request_metrics": True,
            "enable_instance_metrics": True,
        }
    service = alicloud.fc.Service(
        f"{spec.name}-service",
        name=spec.function_name,
        description=spec.description,
        role=plan.role_arn,
        log_config=log_config,
        internet_access=True,
        publish=False,
        tags=dict(spec.tags) or None,
        # FC 2.0 checks the log config against the role when the service is created.
        opts=pulumi.ResourceOptions(parent=parent, depends_on=plan.depends_on),
    )
    function = alicloud.fc.Function(
        f"{spec.name}-function",
        service=service.name,
        name=spec.function_name,
        description=spec.description,
        runtime=spec.runtime,
        handler=HANDLER,
        oss_bucket=source.code.bucket if source.code else None,
        oss_key=source.code.key if source.code else None,
        code_checksum=source.package.crc64 if source.package else None,
        custom_container_config=(
            {"image": source.image, "command": json.dumps([container.ENTRYPOINT])}
            if source.image is not None
            else None
        ),
        # The provider sends ca_port on create only for the runtimes `custom` and
        # `custom-container` (tf resource_alicloud_fc_function.go:222-225); the other custom
        # runtimes get FC's default, 9000. Declaring exactly that default keeps the created
        # function, the state and the bootstrap's port in agreement.
        ca_port=limits.CUSTOM_RUNTIME_PORT,
        memory_size=spec.memory_size,
        timeout=spec.timeout,
        instance_concurrency=spec.instance_concurrency,
        environment_variables=plan.environment,
        opts=pulumi.ResourceOptions(parent=parent, depends_on=plan.depends_on),
    )
    retries = spec.async_invoke
    async_config = (
        alicloud.fc.FunctionAsyncInvokeConfig(
            f"{spec.name}-async-invoke",
            service_name=service.name,
            function_name=function.name,
            # FC 2.0 timers invoke LATEST; the qualifier is part of the config's id.
            qualifier="LATEST",
            maximum_retry_attempts=retries.get("max_retries"),
            maximum_event_age_in_seconds=retries.get("max_event_age"),
            destination_config=failure_destination(retries),
            opts=pulumi.ResourceOptions(parent=parent),
        )
        if retries is not None
        else None
    )
    options = trigger_options(parent, async_config)
    for settings in spec.timers:
        alicloud.fc.Trigger(
            f"{spec.name}-timer-{settings['name']}",
            service=service.name,
            function=function.name,
            name=settings["name"],
            type="timer",
            config=timer.trigger_config(settings),
            opts=options,
        )
    if spec.http is not None:
        alicloud.fc.Trigger(
            f"{spec.name}-http-trigger",
            service=service.name,
            function=function.name,
            name=http_trigger.TRIGGER_NAME,
            type="http",
            config=http_trigger.trigger_config(spec.http, fc_version="2.0"),
            opts=pulumi.ResourceOptions(parent=parent, delete_before_replace=True),
        )
    if spec.alert is not None:
        alerts.failure_alarm(
            spec.name,
            spec.alert,
            function_name=spec.function_name,
            # The service carries the function's name (see the Service above).
            dimensions=alerts.metric_dimensions(
                spec.region, spec.function_name, spec.function_name
            ),
            parent=parent,
        )
    latest = pulumi.Output.from_input("LATEST")
    return Declared(
        function_name=known(function.name, spec.function_name),
        function_arn=function.function_arn,
        alias=latest,
        version=latest,
        published_version=latest,
        # The FC 2.0 trigger resource gives no URL: FC 2.0 serves HTTP triggers at
        # https://<account>.<region>.fc.aliyuncs.com/2016-08-15/proxy/<service>/<function>/.
        http_url=pulumi.Output.from_input(""),
        http_internal_url=pulumi.Output.from_input(""),
    )
