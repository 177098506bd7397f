"""The stand-in libgcc_s the bootstraps link against, and what the packaged binary then needs."""

from __future__ import annotations

import io
import zipfile
from pathlib import Path

import pytest
from elftools.elf.dynamic import DynamicSection
from elftools.elf.elffile import ELFFile
from elftools.elf.gnuversions import GNUVerDefSection, GNUVerNeedSection, GNUVerSymSection
from elftools.elf.sections import SymbolTableSection

from infra.bootstrap import Builder
from infra.bootstrap.build import tool_env
from infra.bootstrap.errors import BuildError
from infra.bootstrap.unwind import SONAME, SYMBOL_VERSIONS, stub_library

HOST_LIBGCC_S = Path("/lib/x86_64-linux-gnu/libgcc_s.so.1")
EXPECTED = {name: version for version, names in SYMBOL_VERSIONS for name in names}


def versioned_symbols(data: bytes, *, defined: bool) -> dict[str, str]:
    """Dynamic symbols (defined ones, or undefined ones) by name, with their symbol version."""
    elf = ELFFile(io.BytesIO(data))
    names: dict[int, str] = {}
    for section in elf.iter_sections():
        if isinstance(section, GNUVerDefSection):
            for verdef, auxiliaries in section.iter_versions():
                names[verdef.entry.vd_ndx] = next(auxiliaries).name
        elif isinstance(section, GNUVerNeedSection):
            for _, auxiliaries in section.iter_versions():
                for aux in auxiliaries:
                    names[aux.entry.vna_other] = aux.name
    versym = elf.get_section_by_name(".gnu.version")
    dynsym = elf.get_section_by_name(".dynsym")
    assert isinstance(versym, GNUVerSymSection)
    assert isinstance(dynsym, SymbolTableSection)
    found = {}
    for index, symbol in enumerate(dynsym.iter_symbols()):
        is_defined = symbol["st_shndx"] != "SHN_UNDEF"
        if symbol.name and is_defined == defined:
            index_of_version = versym.get_symbol(index).entry.ndx  # "VER_NDX_GLOBAL": none
            found[symbol.name] = (
                names.get(index_of_version & 0x7FFF, "")
                if isinstance(index_of_version, int)
                else ""
            )
    return found


def soname_and_needed(data: bytes) -> tuple[str | None, list[str]]:
    elf = ELFFile(io.BytesIO(data))
    soname, needed = None, []
    for section in elf.iter_sections():
        if isinstance(section, DynamicSection):
            for tag in section.iter_tags():
                if tag.entry.d_tag == "DT_SONAME":
                    soname = tag.soname  # type: ignore[attr-defined]
                elif tag.entry.d_tag == "DT_NEEDED":
                    needed.append(tag.needed)  # type: ignore[attr-defined]
    return soname, needed


@pytest.fixture(scope="module")
def stand_in(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return stub_library(tmp_path_factory.mktemp("unwind"), tool_env())


def test_the_stand_in_exports_the_unwinder_at_libgccs_versions(stand_in: Path) -> None:
    data = stand_in.read_bytes()
    assert soname_and_needed(data) == (SONAME, [])
    exported = versioned_symbols(data, defined=True)
    assert {name: exported.get(name) for name in EXPECTED} == EXPECTED


@pytest.mark.skipif(not HOST_LIBGCC_S.exists(), reason="no Debian libgcc_s.so.1 on this machine")
def test_every_symbol_of_the_stand_in_is_in_the_real_libgcc_s_at_the_same_version() -> None:
    # A version the real library lacks would stop the bootstrap at start, before main, on FC.
    real = versioned_symbols(HOST_LIBGCC_S.read_bytes(), defined=True)
    assert {name: real.get(name) for name in EXPECTED} == EXPECTED


def test_the_stand_in_is_made_once(stand_in: Path) -> None:
    made = stand_in.stat().st_mtime_ns
    assert stub_library(stand_in.parent, tool_env()) == stand_in
    assert stand_in.stat().st_mtime_ns == made
    assert sorted(p.name for p in stand_in.parent.iterdir()) == [stand_in.name]


def test_a_stand_in_zig_cannot_make_fails_the_build_and_leaves_nothing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("infra.bootstrap.unwind.SYMBOL_VERSIONS", (("GCC_3.0", ("not a C name",)),))
    with pytest.raises(BuildError, match=r"zig cc could not make the stand-in libgcc_s\.so\.1"):
        stub_library(tmp_path, tool_env())
    assert list(tmp_path.iterdir()) == []


def test_the_packaged_bootstrap_takes_its_unwinder_from_the_runtimes_libgcc_s() -> None:
    package = Builder().package("hello")
    with zipfile.ZipFile(package.zip_path) as archive:
        binary = archive.read("bootstrap")
    _, needed = soname_and_needed(binary)
    assert SONAME in needed
    defined = versioned_symbols(binary, defined=True)
    imported = versioned_symbols(binary, defined=False)
    # zig's own libunwind would define these in the binary instead (and need no libgcc_s).
    for name in ("_Unwind_RaiseException", "_Unwind_Resume", "_Unwind_GetIPInfo"):
        assert name not in defined
        assert imported.get(name) == EXPECTED[name], name
