"""fc-rust: Pulumi components that deploy Rust functions to Alibaba Cloud Function Compute."""

from __future__ import annotations

from infra.access import FunctionRole, FunctionRoleArgs
from infra.alerts import AlertArgs, AlertContacts, AlertContactsArgs
from infra.artifacts import ArtifactBucket, ArtifactBucketArgs
from infra.container import (
    ContainerImage,
    ContainerImageArgs,
    RegistryArgs,
    RegistryNamespace,
    RegistryNamespaceArgs,
)
from infra.function import (
    AsyncInvokeArgs,
    BucketArgs,
    LogsArgs,
    RoleArgs,
    RustFunction,
    RustFunctionArgs,
    validate,
)
from infra.limits import ConfigError
from infra.logs import FunctionLogs, FunctionLogsArgs
from infra.timer import TimerArgs, next_fire_times, trigger_config

__all__ = [
    "AlertArgs",
    "AlertContacts",
    "AlertContactsArgs",
    "ArtifactBucket",
    "ArtifactBucketArgs",
    "AsyncInvokeArgs",
    "BucketArgs",
    "ConfigError",
    "ContainerImage",
    "ContainerImageArgs",
    "FunctionLogs",
    "FunctionLogsArgs",
    "FunctionRole",
    "FunctionRoleArgs",
    "LogsArgs",
    "RegistryArgs",
    "RegistryNamespace",
    "RegistryNamespaceArgs",
    "RoleArgs",
    "RustFunction",
    "RustFunctionArgs",
    "TimerArgs",
    "next_fire_times",
    "trigger_config",
    "validate",
]
