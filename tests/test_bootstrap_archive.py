"""The code package's bytes and checksums, and how its files are replaced, without a build."""

from __future__ import annotations

import errno
import io
import os
import stat
import zipfile
from pathlib import Path

import pytest

from infra.bootstrap import build_zip, crc64_fc, sha256_hex
from infra.bootstrap.archive import ZIP_TIMESTAMP
from infra.bootstrap.files import replace_together


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
