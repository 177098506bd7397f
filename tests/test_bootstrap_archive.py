"""The code package's bytes and checksums, and how its files are replaced, without a build."""

from __future__ import annotations

import errno
import hashlib
import io
import os
import shutil
import stat
import struct
import subprocess
import zipfile
import zlib
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
import zopfli.zlib  # type: ignore[import-untyped]
from elftools.elf.elffile import ELFFile

from infra.bootstrap import build_zip, crc64_fc, sha256_hex
from infra.bootstrap.archive import (
    ZIP_TIMESTAMP,
    _entry,
    deflate,
    dos_date_time,
    read_extra_files,
)
from infra.bootstrap.files import replace_together

if TYPE_CHECKING:
    from collections.abc import Callable


def _binary_like() -> bytes:
    """32 kB of short byte strings that recur, as in machine code; the same on every machine."""
    return b"".join(
        hashlib.sha256(str(i * i % 1009).encode()).digest()[: i % 7 + 1] for i in range(8_000)
    )


def _regions() -> bytes:
    """72 kB in 48 regions, each of a few byte values of its own, the same on every machine.

    The block splitter would cut it into more blocks than ZOPFLI_BLOCKSPLITTING_MAX allows, and
    one iteration more or fewer finds another parse: each setting shows in the bytes.
    """
    regions = []
    for region in range(48):
        values = bytes((region * 37 + k * 11) % 256 for k in range(2 + region % 13))
        noise = b"".join(
            hashlib.sha256(f"{region}:{i}".encode()).digest()[: i % 5 + 1] for i in range(512)
        )
        regions.append(bytes(values[b % len(values)] for b in noise)[:1536])
    return b"".join(regions)


def _machine_code() -> bytes:
    """128 KiB of real x86-64 code: the .text of the zopfli binding's own shared library."""
    library = next(Path(zopfli.zlib.__file__).parent.glob("zopfli*.so"))
    with library.open("rb") as file:
        text = ELFFile(file).get_section_by_name(".text")
        assert text is not None
        data: bytes = text.data()[: 128 * 1024]
    assert len(data) > 64 * 1024
    return data


def test_crc64_matches_the_check_value_of_crc64_xz() -> None:
    assert crc64_fc(b"123456789") == "11051210869376104954"


def test_crc64_of_empty_input_is_zero() -> None:
    assert crc64_fc(b"") == "0"


def test_crc64_of_a_zip_matches_a_bitwise_reference() -> None:
    data = build_zip(b"\x7fELF" + bytes(range(256)) * 40, {"config/a.toml": b"a = 1\n"})
    crc = 0xFFFFFFFFFFFFFFFF
    for byte in data:
        crc ^= byte
        for _ in range(8):
            crc = (crc >> 1) ^ (0xC96C5795D7870F42 if crc & 1 else 0)
    assert crc64_fc(data) == str(crc ^ 0xFFFFFFFFFFFFFFFF)


def test_zip_has_bootstrap_first_then_sorted_extras_with_exact_modes_and_times() -> None:
    data = build_zip(b"binary", {"z.txt": b"z", "config/a.toml": b"a", "b.json": b"{}"})
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        entries = archive.infolist()
        assert [e.filename for e in entries] == ["bootstrap", "b.json", "config/a.toml", "z.txt"]
        for entry in entries:
            mode = entry.external_attr >> 16
            assert stat.S_ISREG(mode)
            assert stat.S_IMODE(mode) == (0o755 if entry.filename == "bootstrap" else 0o644)
            assert entry.date_time == ZIP_TIMESTAMP
            assert entry.create_system == 3
            assert entry.extra == b""
            assert entry.compress_type == zipfile.ZIP_DEFLATED
        assert archive.read("bootstrap") == b"binary"


def test_zip_bytes_depend_only_on_content() -> None:
    first = build_zip(b"binary", {"b": b"2", "a": b"1"})
    second = build_zip(b"binary", {"a": b"1", "b": b"2"})
    assert first == second
    assert sha256_hex(first) == sha256_hex(second)
    assert build_zip(b"binarY", {"a": b"1", "b": b"2"}) != first


def test_zip_is_the_same_bytes_every_time() -> None:
    binary = _machine_code()
    assert build_zip(binary, {"config/a.toml": b"a = 1\n"}) == build_zip(
        binary, {"config/a.toml": b"a = 1\n"}
    )


@pytest.mark.parametrize(
    ("content", "digest"),
    [
        (_binary_like, "bb4a2586db30d2b8dd13ef5582e33be40f580417da3a141e71612dfe5ea4c599"),
        (_regions, "b7b47fc01021fee0be71dcf6b65439e01ce34240c4f4b163a0d8eacff1eec43a"),
    ],
)
def test_zip_bytes_are_the_ones_every_machine_builds(
    content: Callable[[], bytes], digest: str
) -> None:
    """The digests other clones and machines got for these inputs.

    If one changes, every function's package changes on the next build: intended only with a new
    zopfli pin or new settings in archive.py, and then BUILDER_VERSION in build.py must change
    too. Mutations caught (by `_regions`): ZOPFLI_ITERATIONS or ZOPFLI_BLOCKSPLITTING_MAX moved
    by one, block splitting turned off.
    """
    data = build_zip(content(), {"config/a.toml": b"a = 1\n"})
    assert sha256_hex(data) == digest


@pytest.mark.parametrize(
    "moment",
    [
        (2026, 12, 7, 14, 37, 58),
        (2107, 12, 31, 23, 59, 59),
        (1980, 1, 1, 0, 0, 0),
        (1999, 2, 3, 4, 5, 7),
    ],
)
def test_a_time_is_written_as_zipfile_writes_it(
    moment: tuple[int, int, int, int, int, int],
) -> None:
    """The MS-DOS date and time fields, as zipfile encodes them in a local header (time, then
    date, at bytes 10-13). Mutations caught: a shift or field of either changed, the seconds
    not halved (1980-01-01 00:00, the package's own time, is all zeros but the day and month,
    where most changes show nothing)."""
    written = io.BytesIO()
    with zipfile.ZipFile(written, "w") as archive:
        archive.writestr(zipfile.ZipInfo("x", date_time=moment), b"")
    time, date = struct.unpack("<HH", written.getvalue()[10:14])
    assert dos_date_time(moment) == (date, time)


def test_zip_passes_zipfile_and_unzip_crc_checks_and_keeps_modes(tmp_path: Path) -> None:
    binary = _machine_code()
    data = build_zip(binary, {"config/a.toml": b"a = 1\n", "b.json": b"{}"})
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        assert archive.testzip() is None
        assert archive.read("bootstrap") == binary
    unzip = shutil.which("unzip")
    if unzip is None:
        pytest.skip("unzip (Debian package unzip) is not installed: only zipfile checked the zip")
    package = tmp_path / "bootstrap.zip"
    package.write_bytes(data)
    subprocess.run([unzip, "-tq", package], check=True, capture_output=True)
    subprocess.run([unzip, "-q", package, "-d", tmp_path / "code"], check=True)
    code = tmp_path / "code"
    assert (code / "bootstrap").read_bytes() == binary
    assert stat.S_IMODE((code / "bootstrap").stat().st_mode) == 0o755
    assert stat.S_IMODE((code / "config" / "a.toml").stat().st_mode) == 0o644


def test_zopfli_beats_zlib_level_9_on_real_machine_code() -> None:
    code = _machine_code()
    zlib_9 = zlib.compressobj(9, zlib.DEFLATED, -zlib.MAX_WBITS)
    assert len(deflate(code)) < len(zlib_9.compress(code) + zlib_9.flush())


def test_a_name_that_is_not_ascii_is_stored_as_utf8() -> None:
    data = build_zip(b"binary", {"config/größe.toml": b"x"})
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        assert archive.namelist() == ["bootstrap", "config/größe.toml"]
        assert archive.read("config/größe.toml") == b"x"


@pytest.mark.parametrize(
    "compress",
    [
        lambda data: zlib.compress(data + b"!"),
        lambda data: zlib.compress(data[:-1]),
        lambda data: zlib.compress(data) + b"tail",
    ],
    ids=["more", "less", "bytes-after-its-end"],
)
def test_a_stream_that_does_not_inflate_to_its_input_is_refused(
    monkeypatch: pytest.MonkeyPatch, compress: Callable[[bytes], bytes]
) -> None:
    """Mutations caught: `!=` made `>` (a stream that inflates to less), the `or` before
    `unused_data` made `and` (a whole stream with bytes after its end)."""
    monkeypatch.setattr(zopfli.zlib, "compress", lambda data, **_: compress(data))
    with pytest.raises(RuntimeError, match="does not inflate to its input"):
        deflate(b"binary")


def test_a_size_or_offset_of_0xffffffff_is_left_to_zip64() -> None:
    """0xFFFFFFFF in a 32-bit size or offset means "in the zip64 extra field" (APPNOTE 4.4.8,
    4.4.16), so the largest written is 0xFFFFFFFE. Mutations caught: the limit moved by one,
    `>` made `>=` or `==`."""
    _entry("a", 0o644, b"", 0xFFFFFFFE)
    with pytest.raises(ValueError, match=r"a \(0 bytes at offset 4294967295\) needs zip64"):
        _entry("a", 0o644, b"", 0xFFFFFFFF)


def test_a_zip_holds_at_most_65534_files_without_zip64(monkeypatch: pytest.MonkeyPatch) -> None:
    """A count of 0xFFFF in the end record means "in the zip64 end record" (APPNOTE 4.4.21).
    zopfli is swapped for zlib: 65534 empty files take it nine seconds. Mutations caught: the
    limit moved by one, `>` made `>=` or `==`."""
    monkeypatch.setattr("infra.bootstrap.archive.deflate", lambda data: zlib.compress(data)[2:-4])
    extras = {f"{i:05}": b"" for i in range(65533)}
    with zipfile.ZipFile(io.BytesIO(build_zip(b"", extras))) as archive:
        assert len(archive.infolist()) == 65534
    with pytest.raises(ValueError, match="65535 files need zip64"):
        build_zip(b"", {**extras, "more": b""})


def test_a_package_past_the_32_bit_limit_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    """The central directory's end (entries and records) must be within the limit too: with the
    limit scaled down to this package's size (a package of 4 GiB is out of a test's reach).
    Mutations caught: the entries and records added otherwise, `>` made `>=` or `==`."""
    files = {"config/a.toml": b"a = 1\n"}
    size = len(build_zip(b"binary", files)) - 22  # all but the end record
    monkeypatch.setattr("infra.bootstrap.archive._MAX_SIZE", size)
    build_zip(b"binary", files)
    monkeypatch.setattr("infra.bootstrap.archive._MAX_SIZE", size - 1)
    with pytest.raises(ValueError, match=f"a package of {size} bytes needs zip64"):
        build_zip(b"binary", files)


def test_an_extra_file_cannot_shadow_bootstrap() -> None:
    with pytest.raises(ValueError, match="may not be called 'bootstrap'"):
        build_zip(b"binary", {"bootstrap": b"other"})


def _contents(directory: Path) -> dict[str, tuple[bytes, int]]:
    return {p.name: (p.read_bytes(), stat.S_IMODE(p.stat().st_mode)) for p in directory.iterdir()}


def test_files_are_replaced_together_with_their_modes(tmp_path: Path) -> None:
    (tmp_path / "a").write_bytes(b"old a")
    replace_together([(tmp_path / "a", b"new a", 0o755), (tmp_path / "b", b"new b", 0o644)])
    assert _contents(tmp_path) == {"a": (b"new a", 0o755), "b": (b"new b", 0o644)}


def test_a_target_that_cannot_be_replaced_rolls_back_the_others(tmp_path: Path) -> None:
    # "b" is a directory: "a" is renamed first, then "b" fails (EISDIR, root included).
    (tmp_path / "a").write_bytes(b"old a")
    (tmp_path / "a").chmod(0o644)
    (tmp_path / "b" / "in-the-way").mkdir(parents=True)
    with pytest.raises(IsADirectoryError):
        replace_together([(tmp_path / "a", b"new a", 0o644), (tmp_path / "b", b"new b", 0o644)])
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a", "b"]
    assert (tmp_path / "a").read_bytes() == b"old a"


def test_a_directory_that_refuses_new_files_changes_nothing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # What a 0555 directory does to a normal user, mocked: root (these tests' user here) ignores
    # modes. tests/test_bootstrap_build.py makes directories read-only for real (chattr +i).
    (tmp_path / "a").write_bytes(b"old a")
    real_open = os.open

    def refuse(path: str, flags: int, mode: int = 0o777, **kwargs: int) -> int:
        if Path(path).parent == tmp_path and flags & os.O_CREAT:
            raise PermissionError(errno.EACCES, os.strerror(errno.EACCES), str(path))
        return real_open(path, flags, mode, **kwargs)

    monkeypatch.setattr(os, "open", refuse)
    with pytest.raises(PermissionError):
        replace_together([(tmp_path / "a", b"new a", 0o644), (tmp_path / "b", b"new b", 0o644)])
    monkeypatch.undo()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a"]
    assert (tmp_path / "a").read_bytes() == b"old a"


def test_extra_files_are_read_by_pattern_keyed_by_relative_path(tmp_path: Path) -> None:
    """Mutation caught: the loop over patterns or over their matches made empty."""
    (tmp_path / "config" / "sub").mkdir(parents=True)
    (tmp_path / "config" / "a.toml").write_bytes(b"a")
    (tmp_path / "config" / "sub" / "b.toml").write_bytes(b"b")
    (tmp_path / "README.md").write_bytes(b"r")
    found = read_extra_files(tmp_path, ("config/**/*.toml", "README.md"))
    assert found == {"config/a.toml": b"a", "config/sub/b.toml": b"b", "README.md": b"r"}


def test_a_pattern_that_matches_no_file_is_refused(tmp_path: Path) -> None:
    """A directory is no match. Mutation caught: the `not` of `if not matches` dropped."""
    (tmp_path / "config").mkdir()
    with pytest.raises(ValueError, match=r"include pattern 'config' matches no file in "):
        read_extra_files(tmp_path, ("config",))
