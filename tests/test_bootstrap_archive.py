"""The code package's bytes and checksums, without a build."""

from __future__ import annotations

import io
import stat
import zipfile

import pytest

from infra.bootstrap import build_zip, crc64_fc, sha256_hex
from infra.bootstrap.archive import ZIP_TIMESTAMP


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


def test_an_extra_file_cannot_shadow_bootstrap() -> None:
    with pytest.raises(ValueError, match="may not be called 'bootstrap'"):
        build_zip(b"binary", {"bootstrap": b"other"})
