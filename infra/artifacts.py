"""Code delivery: a private OSS bucket and one content-addressed object per code package."""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING, NotRequired, TypedDict

import pulumi
import pulumi_alicloud as alicloud

if TYPE_CHECKING:
    from infra.bootstrap import Package

DEFAULT_RETENTION_DAYS = 90


def object_key(package: Package) -> str:
    """`<function>/<sha256>.zip`: the same bytes always land on the same key."""
    return f"{package.function}/{package.sha256}.zip"


def program_relative(path: Path, base: Path | None = None) -> str:
    """`path` relative to `base` (default: the working directory), for a provider to read.

    Pulumi runs the program and the providers in the project directory, so a relative path
    resolves there and the same tree gives the same input on every machine.
    """
    start = base if base is not None else Path.cwd()
    return Path(os.path.relpath(path, start)).as_posix()


def upload_source(package: Package, base: Path | None = None) -> str:
    """The package's immutable cache copy, relative to `base` (default: the working directory)."""
    return program_relative(package.cached_zip, base)


class ArtifactBucketArgs(TypedDict):
    """Inputs of `ArtifactBucket`; every key is optional."""

    bucket_name: NotRequired[str]
    """Bucket name (globally unique); default: a unique name chosen by the provider."""
    retention_days: NotRequired[int]
    """Packages older than this are deleted by OSS; default 90. FC keeps its own copy."""
    tags: NotRequired[dict[str, str]]
    """Tags on the bucket."""


class ArtifactBucket(pulumi.ComponentResource):
    """A private, encrypted OSS bucket for code packages, with old packages expiring."""

    bucket_name: pulumi.Output[str]
    """The bucket's name, for `code.oss_bucket_name`."""

    def __init__(
        self,
        name: str,
        args: ArtifactBucketArgs | None = None,
        opts: pulumi.ResourceOptions | None = None,
    ) -> None:
        """Create the bucket, its private ACL and its public-access block."""
        super().__init__("fcrust:index:ArtifactBucket", name, None, opts)
        settings: ArtifactBucketArgs = args if args is not None else {}
        child = pulumi.ResourceOptions(parent=self)
        bucket = alicloud.oss.Bucket(
            f"{name}-bucket",
            bucket=settings.get("bucket_name"),
            storage_class="Standard",
            server_side_encryption_rule={"sse_algorithm": "AES256"},
            lifecycle_rules=[
                {
                    "id": "expire-old-packages",
                    "enabled": True,
                    "prefix": "",
                    "expirations": [
                        {"days": settings.get("retention_days", DEFAULT_RETENTION_DAYS)}
                    ],
                    "abort_multipart_uploads": [{"days": 1}],
                }
            ],
            tags=settings.get("tags"),
            opts=child,
        )
        alicloud.oss.BucketAcl(f"{name}-acl", bucket=bucket.bucket, acl="private", opts=child)
        alicloud.oss.BucketPublicAccessBlock(
            f"{name}-public-access-block",
            bucket=bucket.bucket,
            block_public_access=True,
            opts=child,
        )
        self.bucket_name = bucket.bucket
        self.register_outputs({"bucket_name": self.bucket_name})


def code_object(
    name: str, bucket_name: pulumi.Input[str], package: Package, parent: pulumi.Resource
) -> alicloud.oss.BucketObject:
    """Upload one package under its content key.

    New code means a new key, so the object is replaced; the old one is retained (FC versions
    may still be rolled back to) and expires through the bucket's lifecycle rule.
    """
    return alicloud.oss.BucketObject(
        f"{name}-code",
        bucket=bucket_name,
        key=object_key(package),
        source=upload_source(package),
        content_type="application/zip",
        opts=pulumi.ResourceOptions(parent=parent, retain_on_delete=True),
    )
