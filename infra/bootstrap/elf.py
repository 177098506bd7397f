"""Checks that a bootstrap binary can start on an FC runtime: architecture, libraries, glibc."""

from __future__ import annotations

import io
from dataclasses import dataclass

from elftools.common.exceptions import ELFError
from elftools.elf.dynamic import DynamicSection
from elftools.elf.elffile import ELFFile
from elftools.elf.gnuversions import GNUVerNeedSection, GNUVerSymSection
from elftools.elf.sections import SymbolTableSection

from infra.bootstrap.errors import BuildError

# The C library of every FC custom runtime: x86_64 Debian, glibc of its release.
RUNTIME_GLIBC: dict[str, str] = {
    "custom": "2.24",
    "custom.debian10": "2.28",
    "custom.debian11": "2.31",
    "custom.debian12": "2.36",
}

# Libraries every FC runtime (Debian's libc6 and libgcc-s1) has; anything else must be linked in.
RUNTIME_LIBRARIES = frozenset(
    {
        "ld-linux-x86-64.so.2",
        "libc.so.6",
        "libm.so.6",
        "libdl.so.2",
        "libpthread.so.0",
        "librt.so.1",
        "libutil.so.1",
        "libgcc_s.so.1",
    }
)


def glibc_tuple(version: str) -> tuple[int, ...]:
    """`"2.28"` -> `(2, 28)`, for ordering glibc versions."""
    return tuple(int(part) for part in version.split("."))


@dataclass(frozen=True)
class ElfReport:
    """What a binary needs from the system that runs it."""

    static: bool
    needed_libraries: tuple[str, ...]
    glibc_max: str | None
    """Highest `GLIBC_x.y` version the binary needs; None for a static binary."""
    glibc_symbols: dict[str, tuple[str, ...]]
    """For each needed `GLIBC_x.y`, the symbols that need it."""


def _glibc_symbols(elf: ELFFile) -> dict[str, set[str]]:
    """For each `GLIBC_x.y` version the binary needs, the dynamic symbols that need it."""
    versions: dict[int, str] = {}
    verneed = elf.get_section_by_name(".gnu.version_r")
    if isinstance(verneed, GNUVerNeedSection):
        for _, auxiliaries in verneed.iter_versions():
            for aux in auxiliaries:
                versions[aux.entry.vna_other] = aux.name
    symbols: dict[str, set[str]] = {v: set() for v in versions.values() if v.startswith("GLIBC_")}
    versym = elf.get_section_by_name(".gnu.version")
    dynsym = elf.get_section_by_name(".dynsym")
    if isinstance(versym, GNUVerSymSection) and isinstance(dynsym, SymbolTableSection):
        for index, symbol in enumerate(dynsym.iter_symbols()):
            version = versions.get(versym.get_symbol(index).entry.ndx)
            if version in symbols and symbol.name:
                symbols[version].add(symbol.name)
    return symbols


def inspect_elf(data: bytes) -> ElfReport:
    """Read the dynamic section and the GNU version needs of an x86_64 ELF executable."""
    try:
        elf = ELFFile(io.BytesIO(data))
        machine = elf["e_machine"]
        elf_class = elf.elfclass
    except ELFError as error:
        raise BuildError(f"the bootstrap is not an ELF executable: {error}") from error
    if machine != "EM_X86_64" or elf_class != 64:  # noqa: PLR2004
        raise BuildError(
            f"the bootstrap is built for {machine} ({elf_class}-bit); FC runs x86_64 (64-bit) only"
        )
    needed: list[str] = []
    for section in elf.iter_sections():
        if isinstance(section, DynamicSection):
            needed += [tag.needed for tag in section.iter_tags() if tag.entry.d_tag == "DT_NEEDED"]  # type: ignore[attr-defined]
    interp = any(seg["p_type"] == "PT_INTERP" for seg in elf.iter_segments())

    symbols = _glibc_symbols(elf)
    glibc = sorted(symbols, key=lambda v: glibc_tuple(v.removeprefix("GLIBC_")))
    return ElfReport(
        static=not interp and not needed,
        needed_libraries=tuple(sorted(needed)),
        glibc_max=glibc[-1].removeprefix("GLIBC_") if glibc else None,
        glibc_symbols={v: tuple(sorted(symbols[v])) for v in glibc},
    )


def check_runtime_compatible(data: bytes, runtime: str) -> ElfReport:
    """Fail, naming the library or symbol, unless the binary can start on `runtime`."""
    report = inspect_elf(data)
    foreign = [lib for lib in report.needed_libraries if lib not in RUNTIME_LIBRARIES]
    if foreign:
        raise BuildError(
            f"the bootstrap links against {', '.join(foreign)}, which FC runtime {runtime} "
            f"does not have; link it statically (available: {', '.join(sorted(RUNTIME_LIBRARIES))})"
        )
    floor = RUNTIME_GLIBC[runtime]
    too_new = [
        (version, names)
        for version, names in report.glibc_symbols.items()
        if glibc_tuple(version.removeprefix("GLIBC_")) > glibc_tuple(floor)
    ]
    if too_new:
        version, names = too_new[-1]
        shown = ", ".join(names[:5]) + (", ..." if len(names) > 5 else "")  # noqa: PLR2004
        raise BuildError(
            f"the bootstrap needs {version} (symbols: {shown}) but FC runtime {runtime} has "
            f"glibc {floor}; build with cargo zigbuild --target x86_64-unknown-linux-gnu.{floor}"
        )
    return report
