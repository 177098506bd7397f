"""The deterministic code package and its checksums."""

from __future__ import annotations

import hashlib
import io
import zipfile
from typing import TYPE_CHECKING

import fastcrc

if TYPE_CHECKING:
    from pathlib import Path

# 1980-01-01 00:00:00, the earliest time a zip entry can hold: no clock reaches the package.
ZIP_TIMESTAMP = (1980, 1, 1, 0, 0, 0)
ZIP_COMPRESSLEVEL = 9
_UNIX = 3
_REGULAR_FILE = 0o100000


def _entry(name: str, mode: int) -> zipfile.ZipInfo:
    info = zipfile.ZipInfo(name, date_time=ZIP_TIMESTAMP)
    info.create_system = _UNIX
    info.external_attr = (_REGULAR_FILE | mode) << 16
    info.compress_type = zipfile.ZIP_DEFLATED
    return info


def build_zip(bootstrap: bytes, extra_files: dict[str, bytes]) -> bytes:
    """A zip with `bootstrap` (0755) first, then the extra files (0644) sorted by name.

    Entries carry a fixed timestamp, explicit modes, a fixed compression level and no extra
    fields, so the same inputs give the same bytes on any machine, in any directory, at any time.
    """
    if "bootstrap" in extra_files:
        msg = "an extra file may not be called 'bootstrap': that name is the executable FC starts"
        raise ValueError(msg)
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr(_entry("bootstrap", 0o755), bootstrap, compresslevel=ZIP_COMPRESSLEVEL)
        for name in sorted(extra_files):
            archive.writestr(
                _entry(name, 0o644), extra_files[name], compresslevel=ZIP_COMPRESSLEVEL
            )
    return buffer.getvalue()


def crc64_fc(data: bytes) -> str:
    """FC's code checksum: CRC-64/XZ (Go's crc64.ECMA) as an unsigned decimal string."""
    return str(fastcrc.crc64.xz(data))


def sha256_hex(data: bytes) -> str:
    """The package's content address."""
    return hashlib.sha256(data).hexdigest()


def read_extra_files(crate_dir: Path, patterns: tuple[str, ...]) -> dict[str, bytes]:
    """The files a crate declares in `[package.metadata.fc] include`, keyed by relative path."""
    files: dict[str, bytes] = {}
    for pattern in patterns:
        matches = [p for p in crate_dir.glob(pattern) if p.is_file()]
        if not matches:
            msg = (
                f"[package.metadata.fc] include pattern {pattern!r} matches no file in {crate_dir}"
            )
            raise ValueError(msg)
        for path in matches:
            files[path.relative_to(crate_dir).as_posix()] = path.read_bytes()
    return files
