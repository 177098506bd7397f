"""The unwinder a bootstrap links against: the runtime's libgcc_s, as rustc links it by default.

rustc links a linux-gnu binary's unwinder (what `panic = "unwind"` runs on) dynamically, with
`-lgcc_s`. libgcc_s.so.1 is on every FC runtime, as on every Debian with glibc: libc6 depends on
libgcc-s1 (checked here with `apt-cache depends libc6` on Debian 12; on libgcc1 in Debian 9 and
10, per Debian's package pages, not checked here). zig, which links for cargo-zigbuild, has no
libgcc_s and links its own copy of LLVM's libunwind into every binary instead: measured on hello
with rustc 1.95 and zig 0.17.1, 22,696 bytes of its 749,632, and 3.1% of its zip.

So the build hands the linker a stand-in libgcc_s.so.1 made here by `zig cc`: the same soname and
the same symbols at the same versions as the real one, and no code. The binary then needs
libgcc_s.so.1 (checked against `RUNTIME_LIBRARIES` with the rest) and the dynamic loader binds
the symbols to the runtime's own library at start. The stand-in is never packaged.
"""

from __future__ import annotations

import hashlib
import subprocess
import sys
import tempfile
from pathlib import Path

from infra.bootstrap.errors import BuildError

SONAME = "libgcc_s.so.1"

# The unwinder's symbols by the version libgcc_s.so.1 exports them at, oldest first, from GCC's
# libgcc/libgcc-std.ver.in (the same since GCC 4.2, 2007; Debian 9's libgcc1 is GCC 6). Versions
# chain: each inherits the one before. They end up in every binary's version needs, so a change
# here is a change of the packaging: bump build.BUILDER_VERSION with it.
SYMBOL_VERSIONS: tuple[tuple[str, tuple[str, ...]], ...] = (
    (
        "GCC_3.0",
        (
            "_Unwind_DeleteException",
            "_Unwind_Find_FDE",
            "_Unwind_ForcedUnwind",
            "_Unwind_GetDataRelBase",
            "_Unwind_GetGR",
            "_Unwind_GetIP",
            "_Unwind_GetLanguageSpecificData",
            "_Unwind_GetRegionStart",
            "_Unwind_GetTextRelBase",
            "_Unwind_RaiseException",
            "_Unwind_Resume",
            "_Unwind_SetGR",
            "_Unwind_SetIP",
        ),
    ),
    (
        "GCC_3.3",
        (
            "_Unwind_Backtrace",
            "_Unwind_FindEnclosingFunction",
            "_Unwind_GetCFA",
            "_Unwind_Resume_or_Rethrow",
        ),
    ),
    ("GCC_4.2.0", ("_Unwind_GetIPInfo",)),
)


def stub_sources() -> tuple[str, str]:
    """The stand-in's C source (an empty function per symbol) and its linker version script."""
    source = "".join(f"void {name}(void) {{}}\n" for _, names in SYMBOL_VERSIONS for name in names)
    script = []
    for index, (version, names) in enumerate(SYMBOL_VERSIONS):
        exported = " ".join(f"{name};" for name in names)
        if index == 0:
            script.append(f"{version} {{ global: {exported} local: *; }};")
        else:
            script.append(f"{version} {{ global: {exported} }} {SYMBOL_VERSIONS[index - 1][0]};")
    return source, "\n".join(script) + "\n"


def stub_library(directory: Path, env: dict[str, str]) -> Path:
    """The stand-in libgcc_s under `directory`, made by `zig cc` unless it is already there.

    Its file name carries a hash of its sources, so a changed stand-in is a new file; it is made
    beside its final name and renamed into place, so concurrent builds each see a whole file.
    """
    source, script = stub_sources()
    digest = hashlib.sha256(f"{source}\0{script}".encode()).hexdigest()[:16]
    library = directory / f"libgcc_s-{digest}.so"
    if library.exists():
        return library
    try:
        directory.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryDirectory(dir=directory, prefix=".unwind-") as scratch:
            source_path, script_path = Path(scratch, "unwind.c"), Path(scratch, "unwind.map")
            output = Path(scratch, SONAME)
            source_path.write_text(source, encoding="utf-8")
            script_path.write_text(script, encoding="utf-8")
            command = [
                *(sys.executable, "-m", "ziglang", "cc"),
                *("-target", "x86_64-linux-gnu", "-shared", "-nostdlib", "-o", str(output)),
                f"-Wl,--version-script={script_path}",
                f"-Wl,-soname,{SONAME}",
                str(source_path),
            ]
            made = subprocess.run(command, env=env, capture_output=True, text=True, check=False)
            if made.returncode != 0:
                raise BuildError(
                    f"zig cc could not make the stand-in {SONAME} the bootstrap links against "
                    f"(exit {made.returncode}): {made.stderr.strip()[-2000:]}; run `make setup` "
                    "(it installs ziglang from PyPI)"
                )
            output.replace(library)
    except OSError as error:
        raise BuildError(
            f"cannot write the stand-in {SONAME} under {directory} ({error.strerror or error}): "
            "make the target directory writable"
        ) from error
    return library
