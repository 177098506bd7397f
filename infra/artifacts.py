"""Code delivery: a private OSS bucket and one content-addressed object per code package."""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING, NotRequired, TypedDict

import pulumi
import pulumi_alicloud as alicloud

if TYPE_CHECKING:
    from infra.bootstrap import Package


def object_key(package: Package, *, stack: str, function_name: str) -> str:
    """`<stack>/<function_name>/<sha256>.zip`: the same bytes land on the same key.

    `function_name` is the function's name in the stack (its entry), unique there.

    The object id is bucket + key (`alicloud_oss_bucket_object`), so the key names its owner:
    two functions built from one crate, or two stacks sharing a bucket, never declare the same
    object, and one deleting a superseded package never removes another's current one.
    """
    return f"{stack}/{function_name}/{package.sha256}.zip"


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
    tags: NotRequired[dict[str, str]]
    """Tags on the bucket."""


class ArtifactBucket(pulumi.ComponentResource):
    """A private, encrypted OSS bucket for code packages.

    Each function's current package stays as long as the function uses it: FC 2.0's update sends
    the package's location again on every change (`alicloud_fc_function` Update), so an expiry
    rule would leave a later environment change pointing at a missing object. A superseded
    package is deleted when its replacement is in place. `pulumi destroy` empties the bucket
    (`force_destroy`): it holds nothing but packages, and OSS refuses to delete a non-empty one.
    """

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
            force_destroy=True,
            server_side_encryption_rule={"sse_algorithm": "AES256"},
            lifecycle_rules=[
                {
                    "id": "abort-incomplete-uploads",
                    "enabled": True,
                    "prefix": "",
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
    name: str, bucket_name: pulumi.Input[str], key: str, package: Package, parent: pulumi.Resource
) -> alicloud.oss.BucketObject:
    """Upload one package under its content key.

    New code means a new key, so the object is replaced: the new one is uploaded, the function
    updated to it, and only then the old one deleted. FC copies the code when the function is
    created or updated, so published versions do not need the object.
    """
    return alicloud.oss.BucketObject(
        f"{name}-code",
        bucket=bucket_name,
        key=key,
        source=upload_source(package),
        content_type="application/zip",
        opts=pulumi.ResourceOptions(parent=parent),
    )
