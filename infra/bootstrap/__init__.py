"""The build resource: compile a Rust bootstrap, package it reproducibly, hash it, cache it."""

from __future__ import annotations

from infra.bootstrap.archive import build_zip, crc64_fc, sha256_hex
from infra.bootstrap.build import (
    DEFAULT_RUNTIME,
    DEFAULT_SIZE_BUDGET,
    FC_CODE_SIZE_LIMIT,
    Builder,
    Package,
    StaticBinary,
)
from infra.bootstrap.elf import RUNTIME_GLIBC, check_runtime_compatible, inspect_elf
from infra.bootstrap.errors import BuildError
from infra.bootstrap.resource import RustBootstrap, RustBootstrapArgs

__all__ = [
    "DEFAULT_RUNTIME",
    "DEFAULT_SIZE_BUDGET",
    "FC_CODE_SIZE_LIMIT",
    "RUNTIME_GLIBC",
    "BuildError",
    "Builder",
    "Package",
    "RustBootstrap",
    "RustBootstrapArgs",
    "StaticBinary",
    "build_zip",
    "check_runtime_compatible",
    "crc64_fc",
    "inspect_elf",
    "sha256_hex",
]
