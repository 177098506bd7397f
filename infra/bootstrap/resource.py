"""RustBootstrap: the build as a node of the Pulumi resource tree."""

from __future__ import annotations

from pathlib import Path
from typing import NotRequired, TypedDict

import pulumi

from infra.bootstrap.build import DEFAULT_RUNTIME, DEFAULT_SIZE_BUDGET, Builder, Package


class RustBootstrapArgs(TypedDict):
    """What to build."""

    crate: str
    """The workspace crate whose binary becomes `bootstrap`, e.g. `sync-forks`."""
    runtime: NotRequired[str]
    """FC runtime whose glibc the binary targets: `custom.debian10` (default), `custom.debian11`,
    `custom.debian12` or `custom`."""
    workspace: NotRequired[str]
    """The Cargo workspace root; defaults to the current directory, which is the program's own:
    Pulumi runs a program in its project directory."""
    size_budget: NotRequired[int]
    """Largest zip in bytes that the build accepts (default 8 MiB)."""


class RustBootstrap(pulumi.ComponentResource):
    """Builds (or takes from the cache) a function's code package while the program runs.

    The build happens during evaluation, preview included, so a preview shows the exact new
    checksum and object key; an unchanged tree costs a hash of its sources, not a cargo run.
    """

    package: Package
    """The package, with plain values known at evaluation time."""
    zip_path: pulumi.Output[str]
    """The zip's path relative to the workspace root: the same on every machine."""
    sha256: pulumi.Output[str]
    """sha256 of the zip (hex): the content address of its OSS object."""
    crc64: pulumi.Output[str]
    """FC's code checksum (CRC-64/XZ, decimal)."""
    size: pulumi.Output[int]
    """The zip's size in bytes."""
    fingerprint: pulumi.Output[str]
    """sha256 of every build input."""

    def __init__(
        self,
        name: str,
        args: RustBootstrapArgs,
        opts: pulumi.ResourceOptions | None = None,
        *,
        package: Package | None = None,
    ) -> None:
        """Build now, unless `package` was built already (`infra.build_all` builds many at once).

        The outputs are known before any resource that uses them registers.
        """
        super().__init__("fcrust:index:RustBootstrap", name, None, opts)
        workspace = Path(args["workspace"]) if "workspace" in args else None
        self.package = package or Builder(workspace).package(
            args["crate"],
            runtime=args.get("runtime", DEFAULT_RUNTIME),
            size_budget=args.get("size_budget", DEFAULT_SIZE_BUDGET),
        )
        self.zip_path = pulumi.Output.from_input(self.package.relative_zip)
        self.sha256 = pulumi.Output.from_input(self.package.sha256)
        self.crc64 = pulumi.Output.from_input(self.package.crc64)
        self.size = pulumi.Output.from_input(self.package.size)
        self.fingerprint = pulumi.Output.from_input(self.package.fingerprint)
        self.register_outputs(
            {
                "zip_path": self.zip_path,
                "sha256": self.sha256,
                "crc64": self.crc64,
                "size": self.size,
                "fingerprint": self.fingerprint,
            }
        )
