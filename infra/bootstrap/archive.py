"""The deterministic code package and its checksums."""

from __future__ import annotations

import hashlib
import struct
import zlib
from typing import TYPE_CHECKING

import fastcrc
import zopfli.zlib  # type: ignore[import-untyped]

if TYPE_CHECKING:
    from pathlib import Path

# 1980-01-01 00:00:00, the earliest time a zip entry can hold: no clock reaches the package.
ZIP_TIMESTAMP = (1980, 1, 1, 0, 0, 0)
# Zopfli (Google's deflate encoder that searches harder than zlib) makes the same standard deflate
# streams FC unzips, a few percent smaller. Its output depends only on the input, its version
# (pinned in pyproject.toml) and these settings: no clock, no entropy. Changing any of them changes
# every package, so the build cache's BUILDER_VERSION must change with them.
# Iterations and the number of blocks (each block gets its own Huffman codes) trade time for size;
# the binding's blocksplittinglast is left at its default, as zopfli no longer reads it.
# Measured on this project's bootstraps (rustc 1.95; hello 727,192 B, sync-forks 1,985,568 B),
# deflated bytes and CPU seconds on one core of a 2-core x86-64 machine:
#   iterations  2, blocks 15: hello 349,702 0.82 s, sync-forks 1,023,200 2.24 s
#   iterations  2, blocks 30: hello 348,212 1.14 s, sync-forks 1,017,280 3.24 s
#   iterations  3, blocks 35: hello 347,862 1.25 s, sync-forks 1,016,795 3.18 s
#   iterations  4, blocks 35: hello 347,833 1.37 s, sync-forks 1,016,776 3.46 s
#   iterations  3, blocks 40: hello 347,771 1.68 s, sync-forks 1,016,570 3.31 s
# (zlib level 9: hello 363,448 in 0.09 s, sync-forks 1,050,258 in 0.21 s.) Past 35 blocks and 3
# iterations each step buys under 0.05% for a tenth or more of the time; packages zip in parallel.
ZOPFLI_ITERATIONS = 3
ZOPFLI_BLOCKSPLITTING_MAX = 35

# The zip format, from PKWARE's APPNOTE.TXT: written here because zipfile cannot store a stream
# compressed by another library. Each entry is a local header (4.3.7) and its data; then one
# central directory record per entry (4.3.12); then the end record (4.3.16). No zip64, no data
# descriptors, no extra fields, no comments.
_LOCAL = struct.Struct("<IHHHHHIIIHH")
_CENTRAL = struct.Struct("<IHHHHHHIIIHHHHHII")
_END = struct.Struct("<IHHHHIIH")
_DEFLATED = 8  # method 8, the deflate FC unzips
_VERSION = 20  # 2.0, the version deflate needs (zipfile writes the same)
_MADE_BY_UNIX = 3 << 8 | _VERSION  # so unzip reads the Unix mode from the external attributes
_UTF8_NAME = 1 << 11  # general purpose flag bit 11, set only for a name that is not ASCII
_REGULAR_FILE = 0o100000
_MAX_SIZE = 0xFFFFFFFE  # a size or offset of 0xFFFFFFFF or more needs zip64
_MAX_ENTRIES = 0xFFFE  # so does a count of 0xFFFF or more


def dos_date_time(moment: tuple[int, int, int, int, int, int]) -> tuple[int, int]:
    """A zip entry's date and time fields (APPNOTE 4.4.6, MS-DOS format): seconds are halved."""
    year, month, day, hour, minute, second = moment
    return (year - 1980) << 9 | month << 5 | day, hour << 11 | minute << 5 | second // 2


_DOS_DATE, _DOS_TIME = dos_date_time(ZIP_TIMESTAMP)


def deflate(data: bytes) -> bytes:
    """`data` as a raw deflate stream (RFC 1951) compressed by zopfli: the same bytes every time.

    The binding returns a zlib container (RFC 1950): a 2-byte header, the raw stream, a 4-byte
    Adler-32. The stream between is inflated again here, so a binding that changed what it
    returns fails the build instead of the upload.
    """
    container: bytes = zopfli.zlib.compress(
        data,
        numiterations=ZOPFLI_ITERATIONS,
        blocksplitting=True,
        blocksplittingmax=ZOPFLI_BLOCKSPLITTING_MAX,
    )
    stream = container[2:-4]
    inflater = zlib.decompressobj(wbits=-zlib.MAX_WBITS)
    if inflater.decompress(stream) != data or not inflater.eof or inflater.unused_data:
        msg = (
            f"zopfli {zopfli.__version__} returned a stream that does not inflate to its input: "
            "pin the `zopfli` dependency in pyproject.toml to a release that does"
        )
        raise RuntimeError(msg)
    return stream


def _entry(name: str, mode: int, data: bytes, offset: int) -> tuple[bytes, bytes]:
    """One file's local header and data, and its central directory record."""
    try:
        encoded, flags = name.encode("ascii"), 0
    except UnicodeEncodeError:
        encoded, flags = name.encode(), _UTF8_NAME
    stream = deflate(data)
    if max(len(data), len(stream), offset) > _MAX_SIZE:
        msg = f"{name} ({len(data)} bytes at offset {offset}) needs zip64, which is not written"
        raise ValueError(msg)
    # version needed, flags, method, time, date, CRC-32, compressed and uncompressed size, name
    sizes = (zlib.crc32(data), len(stream), len(data), len(encoded))
    common = (_VERSION, flags, _DEFLATED, _DOS_TIME, _DOS_DATE, *sizes)
    local = _LOCAL.pack(0x04034B50, *common, 0) + encoded + stream
    # extra and comment lengths, disk 0, internal attributes 0, the mode, the local header
    central = _CENTRAL.pack(
        0x02014B50, _MADE_BY_UNIX, *common, 0, 0, 0, 0, (_REGULAR_FILE | mode) << 16, offset
    )
    return local, central + encoded


def build_zip(bootstrap: bytes, extra_files: dict[str, bytes]) -> bytes:
    """A zip with `bootstrap` (0755) first, then the extra files (0644) sorted by name.

    Entries carry a fixed timestamp, explicit Unix modes, zopfli deflate with fixed iterations,
    no extra fields and no comment, so the same inputs give the same bytes on any machine, in any
    directory, at any time.
    """
    if "bootstrap" in extra_files:
        msg = "an extra file may not be called 'bootstrap': that name is the executable FC starts"
        raise ValueError(msg)
    files = [("bootstrap", 0o755, bootstrap)]
    files += [(name, 0o644, extra_files[name]) for name in sorted(extra_files)]
    if len(files) > _MAX_ENTRIES:
        msg = f"{len(files)} files need zip64, which is not written"
        raise ValueError(msg)
    entries: list[bytes] = []
    directory: list[bytes] = []
    offset = 0
    for name, mode, data in files:
        local, central = _entry(name, mode, data, offset)
        entries.append(local)
        directory.append(central)
        offset += len(local)
    records = b"".join(directory)
    if offset + len(records) > _MAX_SIZE:
        msg = f"a package of {offset + len(records)} bytes needs zip64, which is not written"
        raise ValueError(msg)
    end = _END.pack(0x06054B50, 0, 0, len(files), len(files), len(records), offset, 0)
    return b"".join(entries) + records + end


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
