"""`python -m infra new NAME` and `remove NAME`: add a function to a program, or take it out.

`new` writes `functions/NAME/` from the template, makes it a member of the Cargo workspace, brings
`Cargo.lock` up to date and adds `NAME: {}` to the stack's `functions` map, so that
`python -m infra.local invoke NAME` runs it at once and `pulumi up` deploys it. `remove` undoes
each of these.

Both change everything or nothing. Before the first change a journal (`JOURNAL` in the workspace
root) records every file's bytes and every directory to undo; new file contents are written to
temporary files and renamed into place. An error, Ctrl-C or SIGTERM rolls back from the journal
(stopping `cargo update`'s whole process group first); after a SIGKILL or a power cut, the next
`new` or `remove` finds the journal, stops the cargo it names and rolls back before it starts.
"""

from __future__ import annotations

import base64
import contextlib
import io
import json
import os
import re
import shutil
import signal
import sys
import tempfile
import threading
import tomllib
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING

import yaml

from infra.bootstrap.process import CommandFailedError, run_streamed
from infra.config import project_name, read_yaml
from infra.errors import StackError
from infra.limits import check_function_name

if TYPE_CHECKING:
    from collections.abc import Iterator
    from types import FrameType

_NAME = re.compile(r"[a-z][a-z0-9-]{0,62}")
FUNCTIONS_DIR = "functions"
JOURNAL = ".fc-rust-scaffold.json"
"""In the workspace root while `new` or `remove` changes the program; gone once it is done."""


class Interrupted(BaseException):
    """SIGTERM reached the scaffold: roll back, then end."""


@dataclass(frozen=True)
class Scaffolded:
    """What `new` or `remove` changed."""

    crate_dir: Path
    stack_files: list[Path]
    recovered: str | None = None
    """What an interrupted earlier run was doing, rolled back first; None if there was none."""


def _template(name: str) -> str:
    return (resources.files("infra") / "template" / name).read_text(encoding="utf-8")


def check_name(name: str) -> list[str]:
    """A name that is at once a crate, binary, FC function and Pulumi resource name."""
    if not _NAME.fullmatch(name):
        return [
            (
                f"function name {name!r} must be 1-63 lower-case letters, digits and '-', "
                "starting with a letter (it names the crate, its binary and the FC function)"
            )
        ]
    return check_function_name(name)


# -- text files, as they are written --------------------------------------------------------


@dataclass
class TextFile:
    """A file's text with its line ending, to be written back with the same one."""

    path: Path
    text: str
    newline: str = "\n"

    @classmethod
    def read(cls, path: Path) -> TextFile:
        """The file's text (LF inside; CRLF remembered), or a StackError saying why not."""
        try:
            raw = path.read_bytes()
        except OSError as error:
            raise StackError(f"cannot read {path}: {error.strerror}") from error
        try:
            text = raw.decode("utf-8")
        except UnicodeDecodeError as error:
            raise StackError(
                f"{path} is not UTF-8 text (byte {error.start}): save it as UTF-8"
            ) from error
        newline = "\r\n" if "\r\n" in text else "\n"
        return cls(path, text.replace("\r\n", "\n"), newline)

    def data(self) -> bytes:
        """The bytes to write: the text with the file's own line ending."""
        return self.text.replace("\n", self.newline).encode("utf-8")


# -- the journal ----------------------------------------------------------------------------


@dataclass
class Journal:
    """What to undo: files' previous bytes (None: did not exist), created and moved directories."""

    path: Path
    operation: str
    files: dict[Path, bytes | None] = field(default_factory=dict)
    created: list[Path] = field(default_factory=list)
    moved: list[tuple[Path, Path]] = field(default_factory=list)
    """(where it was, where it is now) of each directory set aside until the end."""
    cargo: int | None = None
    """The process group of the cargo that runs, if one does."""
    recovered: str | None = None
    """What an interrupted earlier run was doing, rolled back before this one (not saved)."""

    def save(self) -> None:
        """Write the journal (atomically): from here on, a later run can undo this one."""
        data = {
            "pid": os.getpid(),
            "operation": self.operation,
            "files": {
                str(path): None if data is None else base64.b64encode(data).decode()
                for path, data in self.files.items()
            },
            "created": [str(path) for path in self.created],
            "moved": [[str(a), str(b)] for a, b in self.moved],
            "cargo": self.cargo,
        }
        write_atomic(self.path, json.dumps(data).encode())

    @classmethod
    def load(cls, path: Path) -> tuple[Journal, int]:
        """The journal at `path` and the pid that wrote it."""
        data = json.loads(path.read_text(encoding="utf-8"))
        journal = cls(
            path,
            data["operation"],
            {Path(p): None if d is None else base64.b64decode(d) for p, d in data["files"].items()},
            [Path(p) for p in data["created"]],
            [(Path(a), Path(b)) for a, b in data["moved"]],
            data["cargo"],
        )
        return journal, int(data["pid"])

    def roll_back(self) -> None:
        """Put everything back as it was, then remove the journal."""
        if self.cargo is not None:  # an orphaned cargo would keep rewriting Cargo.lock
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.killpg(self.cargo, signal.SIGKILL)
        for path in reversed(self.created):
            if path.is_dir():
                shutil.rmtree(path, ignore_errors=True)
        for origin, now in reversed(self.moved):
            if now.exists() and not origin.exists():
                now.rename(origin)
        for path, data in self.files.items():
            if data is None:
                path.unlink(missing_ok=True)
            elif _bytes(path) != data:  # a file never written is left alone
                write_atomic(path, data)
        self.path.unlink(missing_ok=True)

    def commit(self) -> None:
        """Keep the changes: drop what was set aside, then the journal."""
        for _, now in self.moved:
            shutil.rmtree(now, ignore_errors=True)
        self.path.unlink(missing_ok=True)


def write_atomic(path: Path, data: bytes) -> None:
    """Write `data` to a temporary file beside `path`, then rename it over `path`.

    The mode of an existing file is kept. A StackError says why the file cannot be written.
    """
    try:
        if path.exists() and not os.access(path, os.W_OK):
            raise PermissionError(13, "Permission denied", str(path))
        mode = path.stat().st_mode & 0o777 if path.exists() else 0o644
        descriptor, temporary = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
        try:
            with os.fdopen(descriptor, "wb") as stream:
                stream.write(data)
            Path(temporary).chmod(mode)
            Path(temporary).replace(path)
        except BaseException:
            Path(temporary).unlink(missing_ok=True)
            raise
    except OSError as error:
        raise StackError(
            f"cannot write {path} ({error.strerror}): make it and its directory writable, then "
            "run this again; nothing was changed"
        ) from error


def _bytes(path: Path) -> bytes | None:
    try:
        return path.read_bytes()
    except OSError:
        return None


def recover(workspace: Path) -> str | None:
    """Roll back what an interrupted `new` or `remove` left; what it was doing, if anything."""
    path = workspace / JOURNAL
    if not path.exists():
        return None
    try:
        journal, pid = Journal.load(path)
    except (OSError, ValueError, KeyError, TypeError) as error:
        raise StackError(
            f"{path} is unreadable ({error}): an interrupted `python -m infra new` or `remove` "
            "left it; check the functions directory, Cargo.toml, Cargo.lock and the stack "
            "files with `git status`, then delete it"
        ) from error
    if pid != os.getpid() and _running(pid):
        raise StackError(
            f"another `python -m infra {journal.operation}` is running (pid {pid}): wait for it "
            f"to finish (if no such process runs, delete {path})"
        )
    journal.roll_back()
    return journal.operation


def _running(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    stat = Path(f"/proc/{pid}/stat")
    with contextlib.suppress(OSError):
        return stat.read_text().rsplit(")", 1)[1].split()[0] != "Z"
    return True


@contextlib.contextmanager
def _sigterm_interrupts() -> Iterator[None]:
    """While the program changes, SIGTERM raises `Interrupted`, so the rollback runs."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def interrupt(_signum: int, _frame: FrameType | None) -> None:
        signal.signal(signal.SIGTERM, signal.SIG_IGN)  # the rollback must not be cut short
        raise Interrupted

    previous = signal.signal(signal.SIGTERM, interrupt)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


@contextlib.contextmanager
def transaction(workspace: Path, operation: str) -> Iterator[Journal]:
    """A journal to record changes in; rolled back on any exception, committed otherwise."""
    recovered = recover(workspace)
    journal = Journal(workspace / JOURNAL, operation, recovered=recovered)
    with _sigterm_interrupts():
        try:
            yield journal
        except BaseException:
            journal.roll_back()
            raise
    journal.commit()


def _change(journal: Journal, files: list[TextFile | tuple[Path, bytes]]) -> None:
    """Record the files' present bytes in the journal, then write each new content."""
    writes = [(f.path, f.data()) if isinstance(f, TextFile) else f for f in files]
    for path, _ in writes:
        if path not in journal.files:
            journal.files[path] = path.read_bytes() if path.exists() else None
    journal.save()
    for path, data in writes:
        write_atomic(path, data)


# -- the workspace --------------------------------------------------------------------------


def _workspace_manifest(workspace: Path) -> tuple[TextFile, dict[str, object]]:
    manifest = workspace / "Cargo.toml"
    if not manifest.is_file():
        raise StackError(
            f"{manifest} not found: run `python -m infra new` in the Cargo workspace root (or "
            "give --workspace), which holds a Cargo.toml with a [workspace] table"
        )
    text = TextFile.read(manifest)
    try:
        data = tomllib.loads(text.text)
    except tomllib.TOMLDecodeError as error:
        raise StackError(f"{manifest} is not valid TOML: {error}") from error
    workspace_table = data.get("workspace")
    if not isinstance(workspace_table, dict):
        raise StackError(f"{manifest} has no [workspace] table")
    return text, workspace_table


def _check_fc_runtime(workspace_table: dict[str, object], manifest: Path) -> None:
    """The new crate takes fc-runtime from the workspace: it must declare it."""
    shared = workspace_table.get("dependencies")
    if isinstance(shared, dict) and "fc-runtime" in shared:
        return
    raise StackError(
        f"{manifest} does not declare fc-runtime in [workspace.dependencies]; add "
        '`fc-runtime = { git = "<fc-rust repository URL>", rev = "<commit>" }` there (see the '
        'README, "Use it from your own program"), then run this again'
    )


def _globbed(root: Path, members: object, member: str) -> bool:
    """Whether a glob among `members` (`functions/*`) makes `member` a member by being there."""
    return isinstance(members, list) and any(
        pattern != member and root / member in root.glob(str(pattern)) for pattern in members
    )


def _with_member(manifest: TextFile, workspace_table: dict[str, object], member: str) -> bool:
    """Add `member` to the manifest's members unless a glob covers it; whether it changed."""
    members = workspace_table.get("members", [])
    root = manifest.path.parent
    if _globbed(root, members, member) or (isinstance(members, list) and member in members):
        return False
    match = re.search(r"^members\s*=\s*\[", manifest.text, flags=re.MULTILINE)
    if match is None:
        raise StackError(
            f"{manifest.path}: cannot find `members = [` in [workspace]; add {member!r} to it "
            "by hand"
        )
    text = manifest.text
    manifest.text = f'{text[: match.end()]}"{member}", {text[match.end() :]}'
    return True


def _without_member(manifest: TextFile, member: str) -> bool:
    """Take `member` out of the manifest's members list; whether it was listed."""
    pattern = re.compile(rf"""\s*["']{re.escape(member)}["']\s*,?""")
    match = re.search(r"^members\s*=\s*\[[^\]]*\]", manifest.text, flags=re.MULTILINE)
    if match is None or not pattern.search(match[0]):
        return False
    listed = pattern.sub("", match[0], count=1)
    listed = re.sub(r",(\s*)\]$", r"\1]", listed).replace("[ ", "[")
    manifest.text = manifest.text[: match.start()] + listed + manifest.text[match.end() :]
    return True


def update_lock(workspace: Path, journal: Journal) -> None:
    """Bring Cargo.lock in line with the members (builds are `--locked`), moving no dependency.

    cargo runs in its own process group, recorded in the journal: Ctrl-C or SIGTERM stops the
    whole group before the rollback, and a later run stops it if this process was killed.
    """
    lock = workspace / "Cargo.lock"
    if lock not in journal.files:
        journal.files[lock] = _bytes(lock)
    journal.save()  # Cargo.lock's bytes are safe before cargo may change them

    def started(pid: int) -> None:
        journal.cargo = pid
        journal.save()

    output = io.StringIO()
    command = ["cargo", "update", "--workspace", "--quiet"]
    try:
        run_streamed(command, workspace, dict(os.environ), output, started)
    except FileNotFoundError:
        raise StackError("cargo not found: install Rust stable (https://rustup.rs)") from None
    except CommandFailedError as error:
        raise StackError(
            f"`cargo update --workspace` failed in {workspace}:\n{output.getvalue().strip()}"
        ) from error
    journal.cargo = None
    journal.save()


# -- the stack files ------------------------------------------------------------------------


def _key_line(key: str) -> re.Pattern[str]:
    """The line `key:` opens a mapping on, with an optional anchor, tag or comment after it."""
    quoted = rf"""(?:{re.escape(key)}|"{re.escape(key)}"|'{re.escape(key)}')"""
    return re.compile(rf"^(?P<indent> *){quoted}\s*:\s*(?:[&!]\S+\s*)*(?:#.*)?$")


def _child_indent(lines: list[str], at: int, indent: int, default_step: int) -> int:
    """The indentation of the block under line `at`; `indent + default_step` if it is empty."""
    for line in lines[at + 1 :]:
        stripped = line.strip()
        if not stripped or stripped.startswith("#"):
            continue
        below = len(line) - len(line.lstrip(" "))
        return below if below > indent else indent + default_step
    return indent + default_step


def _step(lines: list[str]) -> int:
    """The file's indentation step: the first indented line's indentation (2 if none)."""
    for line in lines:
        if line.strip() and not line.lstrip().startswith("#") and line.startswith(" "):
            return len(line) - len(line.lstrip(" "))
    return 2


def _stack_text(stack_file: Path) -> tuple[TextFile, dict[str, object] | None]:
    """The stack file's text (empty when missing) and its `config` mapping, if any."""
    if not stack_file.exists():
        return TextFile(stack_file, ""), None
    text = TextFile.read(stack_file)
    data = read_yaml(stack_file) if text.text.strip() else {}
    config = data.get("config")
    return text, config if isinstance(config, dict) else None


def _entries(text: str, key: str) -> object:
    data = yaml.safe_load(text) or {}
    config = data.get("config") if isinstance(data, dict) else None
    return config.get(key) if isinstance(config, dict) else None


def _set_command(name: str) -> str:
    return f"`pulumi config set --path 'functions.{name}.crate' {name}`"


def with_function(stack_file: Path, project: str, name: str, entry: str = "{}") -> TextFile | None:
    """The stack file with `name: <entry>` added to `<project>:functions`, comments kept.

    `entry` is the function's settings in YAML flow style. None when it is there already.
    """
    key = f"{project}:functions"
    text, config = _stack_text(stack_file)
    functions = config.get(key) if config is not None else None
    if isinstance(functions, dict) and name in functions:
        return None
    lines = text.text.splitlines()
    step = _step(lines)
    pattern = _key_line(key)
    at = next((i for i, line in enumerate(lines) if pattern.match(line)), None)
    if at is not None and (functions is None or isinstance(functions, dict)):
        indent = len(lines[at]) - len(lines[at].lstrip(" "))
        below = _child_indent(lines, at, indent, step)
        lines.insert(at + 1, f"{' ' * below}{name}: {entry}")
    elif functions is None:
        config_at = next((i for i, line in enumerate(lines) if line.rstrip() == "config:"), None)
        if config_at is None:
            lines.append("config:")
            config_at = len(lines) - 1
        below = _child_indent(lines, config_at, 0, step)
        lines[config_at + 1 : config_at + 1] = [
            f"{' ' * below}{key}:",
            f"{' ' * (below + step)}{name}: {entry}",
        ]
    else:
        raise StackError(
            f"{stack_file}: {key} is not a block mapping; add the function with "
            f"{_set_command(name)}"
        )
    text.text = "\n".join(lines) + "\n"
    entries = _parsed(text, key)
    if not isinstance(entries, dict) or name not in entries:
        raise StackError(
            f"{stack_file}: could not add {name} to {key}; add it with {_set_command(name)}"
        )
    return text


def without_function(stack_file: Path, project: str, name: str) -> TextFile | None:
    """The stack file without the `name` entry of `<project>:functions` and the lines under it.

    None when it has none.
    """
    key = f"{project}:functions"
    text, config = _stack_text(stack_file)
    functions = config.get(key) if config is not None else None
    if not isinstance(functions, dict) or name not in functions:
        return None
    lines = text.text.splitlines()
    pattern = _key_line(key)
    at = next((i for i, line in enumerate(lines) if pattern.match(line)), None)
    entry = _key_line(name)
    start = None
    if at is not None:
        indent = len(lines[at]) - len(lines[at].lstrip(" "))
        below = _child_indent(lines, at, indent, 2)
        start = next(
            (
                i
                for i in range(at + 1, len(lines))
                if len(lines[i]) - len(lines[i].lstrip(" ")) == below
                and (entry.match(lines[i]) or re.match(rf" *{re.escape(name)}\s*:", lines[i]))
            ),
            None,
        )
    if start is None:
        raise StackError(
            f"{stack_file}: cannot find the line of {name} in {key}; remove it with "
            f"`pulumi config rm --path 'functions.{name}'`"
        )
    end = start + 1
    entry_indent = len(lines[start]) - len(lines[start].lstrip(" "))
    while end < len(lines) and (
        not lines[end].strip() or len(lines[end]) - len(lines[end].lstrip(" ")) > entry_indent
    ):
        end += 1
    del lines[start:end]
    text.text = "\n".join(lines) + "\n"
    entries = _parsed(text, key)
    if isinstance(entries, dict) and name in entries:
        raise StackError(
            f"{stack_file}: could not remove {name} from {key}; remove it with "
            f"`pulumi config rm --path 'functions.{name}'`"
        )
    return text


def _parsed(text: TextFile, key: str) -> object:
    try:
        return _entries(text.text, key)
    except yaml.YAMLError as error:
        raise StackError(
            f"{text.path}: the edit would not be valid YAML ({error}); edit it by hand"
        ) from error


# -- the commands ---------------------------------------------------------------------------


HTTP_ENTRY = "{http: {authType: anonymous}}"
"""A new HTTP function's stack entry: an HTTP trigger anyone may call (`infra.http_trigger`)."""


def new_function(
    name: str, *, program: Path, workspace: Path, stacks: list[str], http: bool = False
) -> Scaffolded:
    """Create the function `name`; a StackError says what stopped it and changes nothing.

    `http`: an axum router behind an HTTP trigger (`template/http_*`) instead of an event handler.
    """
    problems = check_name(name)
    if problems:
        raise StackError("; ".join(problems))
    manifest, workspace_table = _workspace_manifest(workspace)
    _check_fc_runtime(workspace_table, manifest.path)
    project = project_name(program)
    with transaction(workspace, f"new {name}") as journal:
        crate_dir = workspace / FUNCTIONS_DIR / name
        if crate_dir.exists():
            raise StackError(f"{crate_dir} exists already; choose another name or remove it")
        # Every stack file's new text first: a problem in any one changes none.
        stack_files = [program / f"Pulumi.{stack}.yaml" for stack in stacks]
        entry = HTTP_ENTRY if http else "{}"
        edits = [
            e for f in stack_files if (e := with_function(f, project, name, entry)) is not None
        ]
        functions_dir = crate_dir.parent
        journal.created = [functions_dir] if not functions_dir.exists() else []
        journal.created.append(crate_dir)
        journal.save()
        (crate_dir / "src").mkdir(parents=True)
        member = f"{FUNCTIONS_DIR}/{name}"
        kind = "http_" if http else ""
        files: list[TextFile | tuple[Path, bytes]] = [
            (
                crate_dir / "Cargo.toml",
                _template(f"{kind}Cargo.toml.in").format(name=name).encode(),
            ),
            (crate_dir / "src" / "main.rs", _template(f"{kind}main.rs").format(name=name).encode()),
        ]
        if _with_member(manifest, workspace_table, member):
            files.append(manifest)
        _change(journal, files)
        update_lock(workspace, journal)
        _change(journal, list(edits))
    return Scaffolded(crate_dir, stack_files, journal.recovered)


def remove_function(
    name: str, *, program: Path, workspace: Path, stacks: list[str] | None
) -> Scaffolded:
    """Remove the function `name` (`new`'s inverse): its crate, member, lock entry, stack entries.

    `stacks` None means every stack file of the program that has the entry.
    """
    problems = check_name(name)
    if problems:
        raise StackError("; ".join(problems))
    manifest, _ = _workspace_manifest(workspace)
    project = project_name(program)
    with transaction(workspace, f"remove {name}") as journal:
        crate_dir = workspace / FUNCTIONS_DIR / name
        if stacks is None:
            stack_files = sorted(program.glob("Pulumi.*.yaml"))
        else:
            stack_files = [program / f"Pulumi.{stack}.yaml" for stack in stacks]
            missing = [path for path in stack_files if not path.is_file()]
            if missing:
                raise StackError(f"no stack file {missing[0]}")
        edits = [e for f in stack_files if (e := without_function(f, project, name)) is not None]
        if not crate_dir.is_dir() and not edits:
            raise StackError(
                f"there is no function {name} to remove: {crate_dir} does not exist and no "
                f"stack lists it"
            )
        if crate_dir.is_dir():
            aside = workspace / "target" / "fc-rust" / "removed" / f"{name}-{os.getpid()}"
            aside.parent.mkdir(parents=True, exist_ok=True)
            journal.moved.append((crate_dir, aside))
            journal.save()
            crate_dir.rename(aside)
        if _without_member(manifest, f"{FUNCTIONS_DIR}/{name}"):
            _change(journal, [manifest])
        update_lock(workspace, journal)
        _change(journal, list(edits))
    return Scaffolded(crate_dir, [edit.path for edit in edits], journal.recovered)


def interpreter() -> str:
    """How to name this Python in a hint: `.venv/bin/python` when it is the program's venv."""
    executable = Path(sys.executable)
    with contextlib.suppress(ValueError):
        return str(executable.relative_to(Path.cwd()))
    return str(executable)
