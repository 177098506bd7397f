"""Files replaced atomically, alone or as a set: no reader sees half a package or a mixed one."""

from __future__ import annotations

import contextlib
import errno
import os
import secrets
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from pathlib import Path


def _stage(path: Path, data: bytes, mode: int) -> Path:
    """`data` in a new hidden file beside `path`, with `mode`, on disk."""
    temp = path.with_name(f".{path.name}.{secrets.token_hex(6)}")
    fd = os.open(temp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_CLOEXEC, 0o600)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        temp.chmod(mode)
    except BaseException:
        temp.unlink(missing_ok=True)
        raise
    return temp


def _backup(path: Path) -> tuple[bool, Path | None]:
    """Whether `path` exists, and a hard link to it to put back if the set cannot be completed.

    No link where the filesystem has no hard links: that target then cannot be rolled back.
    """
    if path.is_dir():
        raise IsADirectoryError(errno.EISDIR, os.strerror(errno.EISDIR), str(path))
    if not path.exists():
        return False, None
    link = path.with_name(f".{path.name}.{secrets.token_hex(6)}.old")
    try:
        os.link(path, link)
    except OSError:
        return True, None
    return True, link


def replace_together(files: list[tuple[Path, bytes, int]]) -> None:
    """Write each (path, data, mode), all or none: staged beside its target, then renamed.

    Raises OSError (the directory is read-only, the disk is full, a target is a directory...)
    with every target as it was: a target already renamed gets its old content back, and no
    staged or backup file is left behind.
    """
    staged: list[tuple[Path, Path]] = []
    done: list[tuple[Path, bool, Path | None]] = []
    try:
        for path, data, mode in files:
            path.parent.mkdir(parents=True, exist_ok=True)
            staged.append((_stage(path, data, mode), path))
        for temp, path in staged:
            existed, backup = _backup(path)
            done.append((path, existed, backup))
            temp.replace(path)
    except BaseException:
        for path, existed, backup in reversed(done):
            with contextlib.suppress(OSError):
                if backup is not None:
                    backup.replace(path)
                elif not existed:
                    path.unlink(missing_ok=True)
        raise
    finally:
        for temp, _ in staged:
            with contextlib.suppress(OSError):
                temp.unlink(missing_ok=True)
        for _, _, backup in done:
            if backup is not None:
                with contextlib.suppress(OSError):
                    backup.unlink(missing_ok=True)
