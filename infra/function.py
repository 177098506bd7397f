"""RustFunction: a Rust bootstrap on Function Compute with its code, role, logs and timers."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pulumi

from infra import access, artifacts, container, fc2, fc3, logs
from infra import bootstrap as _bootstrap
from infra.plan import Plan, Source
from infra.spec import FunctionSpec, resolve

if TYPE_CHECKING:
    from collections.abc import Sequence

    from infra.args import RustFunctionArgs


class RustFunction(pulumi.ComponentResource):
    """A Rust function on FC: build, upload, function, version and alias, timers, role, logs."""

    function_name: pulumi.Output[str]
    """The FC function name."""
    function_arn: pulumi.Output[str]
    """The function's ARN."""
    alias: pulumi.Output[str]
    """The qualifier timers invoke: the alias (FC 3.0) or `LATEST` (FC 2.0)."""
    version: pulumi.Output[str]
    """The version the alias points at (FC 3.0), or `LATEST` (FC 2.0)."""
    published_version: pulumi.Output[str]
    """The newest version published for this code and config, even when the alias is pinned."""
    code_sha256: pulumi.Output[str]
    """SHA-256 (hex) of the code package; empty for the container variant."""
    code_checksum: pulumi.Output[str]
    """FC's checksum of the package: CRC-64/XZ as a decimal string; empty for containers."""
    code_size: pulumi.Output[int]
    """Size of the zip in bytes; 0 for the container variant."""
    object_key: pulumi.Output[str]
    """OSS key of the package: `<stack>/<function_name>/<sha256>.zip`; empty for containers."""
    bucket_name: pulumi.Output[str]
    """The bucket holding the package; empty for containers."""
    role_arn: pulumi.Output[str | None]
    """The execution role, if any."""
    log_project: pulumi.Output[str | None]
    """The SLS project the function logs to, if any."""
    logstore: pulumi.Output[str | None]
    """The logstore the function logs to, if any."""
    http_url: pulumi.Output[str]
    """The HTTP trigger's public URL; "" without an HTTP trigger, and on FC 2.0."""
    http_internal_url: pulumi.Output[str]
    """The HTTP trigger's URL inside the region's VPC; "" as `http_url`."""
    trigger_names: pulumi.Output[list[str]]
    """Names of the timer triggers."""
    image: pulumi.Output[str]
    """The image FC runs (its VPC address); empty for the zip variant."""
    package: _bootstrap.Package | None
    """The built zip package (plain values, known during preview); None for containers."""

    spec: FunctionSpec
    """The function's settings with every default applied."""

    def __init__(
        self,
        name: str,
        args: RustFunctionArgs,
        opts: pulumi.ResourceOptions | None = None,
        *,
        package: _bootstrap.Package | None = None,
        waits_for: Sequence[pulumi.Resource] = (),
    ) -> None:
        """Resolve `args` (raising `ConfigError` before anything is registered), then declare.

        `package` is the zip `infra.build_all` built for it already; without it, it is built here.
        `waits_for`: resources the function is created after, such as the shared role whose
        policy lets it write its logs (`role.existing_arn` names the role).
        """
        spec = resolve(
            name,
            args,
            project=pulumi.get_project(),
            stack=pulumi.get_stack(),
            region=pulumi.Config("alicloud").get("region") or "",
        )
        super().__init__("fcrust:index:RustFunction", name, None, opts)
        self.spec = spec
        log_project, logstore = self._logs(spec)
        role = self._role(spec, log_project, logstore)
        role_arn: pulumi.Input[str] | None = (
            role.arn if role is not None else spec.role.get("existing_arn")
        )
        source = (
            self._container_source(spec)
            if spec.variant == "container"
            else self._zip_source(spec, package)
        )
        self.package = source.package
        self.image = pulumi.Output.from_input(source.image or "")
        self.code_sha256 = pulumi.Output.from_input(source.package.sha256 if source.package else "")
        self.code_checksum = pulumi.Output.from_input(
            source.package.crc64 if source.package else ""
        )
        self.code_size = pulumi.Output.from_input(source.package.size if source.package else 0)
        self.object_key = source.code.key if source.code else pulumi.Output.from_input("")
        self.bucket_name = source.code.bucket if source.code else pulumi.Output.from_input("")
        self.role_arn = pulumi.Output.from_input(role_arn)
        self.log_project = pulumi.Output.from_input(log_project)
        self.logstore = pulumi.Output.from_input(logstore)
        self.trigger_names = pulumi.Output.from_input([t["name"] for t in spec.timers])

        environment: dict[str, pulumi.Input[str]] = dict(spec.environment)
        for key, value in spec.secret_environment.items():
            environment[key] = pulumi.Output.secret(value)
        plan = Plan(
            spec,
            source,
            environment,
            role_arn,
            log_project,
            logstore,
            # FC checks at create time that the role may write the logstore: the function waits
            # for the policy attachment (a child of the role component), not only for the ARN.
            depends_on=[*source.depends_on, *([role] if role is not None else []), *waits_for],
        )
        declared = (fc2 if spec.fc_version == "2.0" else fc3).declare(self, plan)
        self.function_name = declared.function_name
        self.function_arn = declared.function_arn
        self.alias = declared.alias
        self.version = declared.version
        self.published_version = declared.published_version
        self.http_url = declared.http_url
        self.http_internal_url = declared.http_internal_url
        self.register_outputs(
            {
                "function_name": self.function_name,
                "function_arn": self.function_arn,
                "image": self.image,
                "alias": self.alias,
                "version": self.version,
                "published_version": self.published_version,
                "code_sha256": self.code_sha256,
                "code_checksum": self.code_checksum,
                "code_size": self.code_size,
                "object_key": self.object_key,
                "bucket_name": self.bucket_name,
                "role_arn": self.role_arn,
                "log_project": self.log_project,
                "logstore": self.logstore,
                "trigger_names": self.trigger_names,
                "http_url": self.http_url,
                "http_internal_url": self.http_internal_url,
            }
        )

    def _zip_source(self, spec: FunctionSpec, package: _bootstrap.Package | None) -> Source:
        """Build the zip (unless `declare_functions` built it) and upload it."""
        child = pulumi.ResourceOptions(parent=self)
        package = _bootstrap.RustBootstrap(
            f"{spec.name}-bootstrap",
            {
                "crate": spec.crate,
                "runtime": spec.runtime,
                "workspace": str(spec.workspace),
                "size_budget": spec.size_budget,
            },
            opts=child,
            package=package,
        ).package
        bucket_name = self._bucket(spec)
        key = artifacts.object_key(package, stack=spec.stack, function_name=spec.name)
        code = artifacts.code_object(spec.name, bucket_name, key, package, self)
        return Source(revision=package.sha256[:16], package=package, code=code)

    def _container_source(self, spec: FunctionSpec) -> Source:
        """Build and push the crate's image, or take the image given."""
        if spec.image is not None:
            image = pulumi.Output.from_input(spec.image)
            return Source(revision=image.apply(lambda ref: fc3.digest(ref)[:16]), image=image)
        registry = spec.registry
        assert registry is not None  # noqa: S101 - resolve() requires one of image and registry
        built = container.ContainerImage(
            f"{spec.name}-image",
            {
                "crate": spec.crate,
                "registry": registry,
                "region": spec.region,
                "workspace": str(spec.workspace),
            },
            opts=pulumi.ResourceOptions(parent=self),
        )
        return Source(
            revision=built.tag,
            image=built.vpc_image,
            acr_instance_id=registry.get("instance_id"),
            depends_on=[built],
        )

    def _bucket(self, spec: FunctionSpec) -> pulumi.Input[str]:
        if "existing_name" in spec.bucket:
            return spec.bucket["existing_name"]
        bucket_args: artifacts.ArtifactBucketArgs = {"tags": dict(spec.tags)}
        if "bucket_name" in spec.bucket:
            bucket_args["bucket_name"] = spec.bucket["bucket_name"]
        bucket = artifacts.ArtifactBucket(
            f"{spec.name}-artifacts", bucket_args, opts=pulumi.ResourceOptions(parent=self)
        )
        return bucket.bucket_name

    def _logs(
        self, spec: FunctionSpec
    ) -> tuple[pulumi.Input[str] | None, pulumi.Input[str] | None]:
        setting = spec.logs
        if spec.logs_mode == "skip":
            return None, None
        if spec.logs_mode == "existing":
            return setting["existing_project"], setting["existing_logstore"]
        if "in_project" in setting:
            store = logs.log_store(
                f"{spec.name}-logstore",
                setting["in_project"],
                setting["logstore_name"],
                setting["retention_days"],
                self,
            )
            return setting["in_project"], store.logstore_name
        created = logs.FunctionLogs(
            f"{spec.name}-logs",
            {
                "project_name": setting["project_name"],
                "logstore_name": setting["logstore_name"],
                "retention_days": setting["retention_days"],
                "tags": dict(spec.tags),
                "per_account": spec.log_project_per_account,
            },
            opts=pulumi.ResourceOptions(parent=self),
        )
        return created.project, created.logstore

    def _role(
        self,
        spec: FunctionSpec,
        log_project: pulumi.Input[str] | None,
        logstore: pulumi.Input[str] | None,
    ) -> access.FunctionRole | None:
        """The role to create, or None when the function has none or uses an existing one."""
        if spec.role_mode != "create":
            return None
        role_args: access.FunctionRoleArgs = {
            "role_name": spec.role["role_name"],
            "description": f"Execution role of FC function {spec.function_name} (fc-rust)",
            "tags": dict(spec.tags),
            "image_pull": spec.variant == "container",
        }
        if log_project is not None and logstore is not None:
            role_args["log_project"] = log_project
            role_args["logstore"] = logstore
        return access.FunctionRole(
            f"{spec.name}-role", role_args, opts=pulumi.ResourceOptions(parent=self)
        )
