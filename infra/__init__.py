"""fc-rust: Pulumi components that deploy Rust functions to Alibaba Cloud Function Compute."""

from __future__ import annotations

from infra.access import FunctionRole, FunctionRoleArgs
from infra.alerts import AlertArgs, AlertContacts, AlertContactsArgs
from infra.args import AsyncInvokeArgs, BucketArgs, LogsArgs, RoleArgs, RustFunctionArgs
from infra.artifacts import ArtifactBucket, ArtifactBucketArgs
from infra.container import (
    ContainerImage,
    ContainerImageArgs,
    RegistryArgs,
    RegistryNamespace,
    RegistryNamespaceArgs,
)
from infra.errors import BuildError, ConfigError, StackError
from infra.function import RustFunction
from infra.logs import FunctionLogs, FunctionLogsArgs, LogProject, LogProjectArgs
from infra.program import build_all, declare_functions, from_config
from infra.sharing import Sharing
from infra.spec import FunctionSpec, resolve, validate
from infra.timer import TimerArgs, next_fire_times, trigger_config

__version__ = "0.3.0"

__all__ = [
    "AlertArgs",
    "AlertContacts",
    "AlertContactsArgs",
    "ArtifactBucket",
    "ArtifactBucketArgs",
    "AsyncInvokeArgs",
    "BucketArgs",
    "BuildError",
    "ConfigError",
    "ContainerImage",
    "ContainerImageArgs",
    "FunctionLogs",
    "FunctionLogsArgs",
    "FunctionRole",
    "FunctionRoleArgs",
    "FunctionSpec",
    "LogProject",
    "LogProjectArgs",
    "LogsArgs",
    "RegistryArgs",
    "RegistryNamespace",
    "RegistryNamespaceArgs",
    "RoleArgs",
    "RustFunction",
    "RustFunctionArgs",
    "Sharing",
    "StackError",
    "TimerArgs",
    "__version__",
    "build_all",
    "declare_functions",
    "from_config",
    "next_fire_times",
    "resolve",
    "trigger_config",
    "validate",
]
