"""Mutation testing of infra/: cosmic-ray breaks each module one change at a time, in a copy.

    python -m mutants                     every module below; writes mutants/REPORT.md
    python -m mutants infra/limits.py     those modules; their sections of the report replaced
    python -m mutants --diff BASE         only changes on lines that differ from BASE (a commit);
                                          prints its report (`make mutants-diff` picks BASE)

Each mutant runs the module's tests (`-x`, a per-mutant timeout) in target/mutants/work, a copy
of the committed tree (target/mutants/diff, of the working tree, for --diff), so the working
tree is never changed; the tests first run once unmutated, and must pass. A surviving mutant is
listed in the report with its reason from mutants/explained.toml (equivalent, or not worth a
test), or as unexplained: kill it with a test or explain it there.

Two places are not mutated at all (`unmutated_spans`): annotations, and a parameter list's bare
`*`. The report gives two scores per module: every survivor counted, and the equivalent ones
left out (caught / (mutants - equivalents)).
"""

from __future__ import annotations

import argparse
import ast
import json
import os
import re
import shutil
import subprocess
import sys
import time
import tomllib
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from cosmic_ray.work_db import WorkDB, use_db  # type: ignore[import-untyped]
from cosmic_ray.work_item import TestOutcome, WorkerOutcome, WorkResult  # type: ignore[import-untyped]

ROOT = Path(__file__).resolve().parent.parent
HERE = ROOT / "mutants"
SCRATCH = ROOT / "target" / "mutants"
"""Where the copies are made: `work` for a full campaign, `diff` for a diff run."""
CACHE = SCRATCH / "cache"
"""The packages the tests build, kept from one module's run to the next (seeded from the
repository's cache): no module waits for a build another already made."""


@dataclass(frozen=True)
class Target:
    """A module, the tests that cover it, the seconds one mutant's run may take."""

    tests: tuple[str, ...]
    timeout: float = 60.0
    only: tuple[str, ...] = ()
    """Mutate only inside these top-level functions (all of the module when empty)."""


TARGETS: dict[str, Target] = {
    "infra/limits.py": Target(("tests/test_limits.py", "tests/test_config.py")),
    "infra/timer.py": Target(("tests/test_timer.py",)),
    "infra/config.py": Target(("tests/test_config.py",)),
    "infra/spec.py": Target(
        (
            "tests/test_spec.py",
            "tests/test_config.py",
            "tests/test_limits.py",
            "tests/test_async_invoke.py",
            "tests/test_components.py",
        )
    ),
    "infra/local/invocation.py": Target(
        ("tests/test_local_limits.py",),
        only=("payload_limit", "refused_payload", "read_event", "size_text"),
    ),
    "infra/bootstrap/archive.py": Target(("tests/test_bootstrap_archive.py",), timeout=120),
    "infra/fc3.py": Target(
        (
            "tests/test_backend_inputs.py",
            "tests/test_async_invoke.py",
            "tests/test_http_trigger.py",
        ),
        120,
    ),
    "infra/fc2.py": Target(
        (
            "tests/test_backend_inputs.py",
            "tests/test_async_invoke.py",
            "tests/test_http_trigger.py",
        ),
        120,
    ),
}
"""The modules mutated, with the tests that must catch each change (fast ones: a mutant runs
them all)."""

SKIPPED_OPERATORS = re.compile(
    r"core/ReplaceBinaryOperator_\w+_(Pow|RShift|LShift|BitXor|FloorDiv|Mod)$"
    r"|core/ReplaceBinaryOperator_(Add|Sub|Mul|Div|Mod|FloorDiv)_(BitOr|BitAnd)$"
    r"|core/ReplaceBinaryOperator_BitOr_(Add|Sub|Mul|Div)$"
    r"|core/ReplaceComparisonOperator_(Lt|LtE|Gt|GtE|Eq|NotEq)_(Is|IsNot)$"
)
"""Replacements left out: the eleven ways to replace one arithmetic operator differ little, so
`*` becomes `+`, `-` and `/` only; `<` never becomes `is`. A fifth of the mutants remain."""


EQUIVALENT_KINDS = (
    (
        re.compile(r"\bkind == (bool|int|float|dict|list|str)\b"),
        "equivalent: a type is compared with a type, where `==` is `is`",
    ),
    (
        re.compile(r"^if not TYPE_CHECKING:$"),
        "equivalent: the imports under it are for type hints, and import at run time too",
    ),
)
"""Kinds of mutant that cannot change behaviour, by the mutated line: no entry each needed."""


Span = tuple[tuple[int, int], tuple[int, int]]
"""From (line, column) to (line, column), as cosmic-ray places a mutant: lines from 1, columns
in characters from 0."""


def unmutated_spans(source: str) -> list[Span]:
    """Where in `source` no mutant is made: annotations, and a parameter list's bare `*`.

    In a module with `from __future__ import annotations` an annotation is a string that no code
    evaluates (nothing in infra/ calls get_type_hints), so `int | None` made `int & None`
    changes nothing. A bare `*` made `/` (the one change cosmic-ray makes there that still
    parses) lets callers pass by position what each passes by keyword: no call that works changes,
    and mypy checks the calls. mutmut, for one, mutates neither. In a module without that import
    annotations are evaluated, and mutated like any code.
    """
    tree = ast.parse(source)
    lines = source.splitlines()

    def position(line: int, byte: int) -> tuple[int, int]:
        """A column as cosmic-ray (parso) counts it, in characters; ast counts UTF-8 bytes."""
        return line, len(lines[line - 1].encode()[:byte].decode())

    def span(node: ast.expr | ast.arg) -> Span:
        end = position(node.end_lineno or node.lineno, node.end_col_offset or 0)
        return position(node.lineno, node.col_offset), end

    future = any(
        isinstance(node, ast.ImportFrom)
        and node.module == "__future__"
        and any(alias.name == "annotations" for alias in node.names)
        for node in tree.body
    )
    spans = []
    for node in ast.walk(tree):
        annotation = (
            node.annotation
            if isinstance(node, ast.arg | ast.AnnAssign)
            else node.returns
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef)
            else None
        )
        if future and annotation is not None:
            spans.append(span(annotation))
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.Lambda):
            arguments = node.args
            if arguments.kwonlyargs and arguments.vararg is None:
                # The bare `*` is all there is between the last positional parameter (or its
                # default) and the first keyword-only one, besides commas and comments.
                before: list[ast.arg | ast.expr] = [*arguments.posonlyargs, *arguments.args]
                before += arguments.defaults
                opening = position(node.lineno, node.col_offset)  # `def` or `lambda`
                start = max((span(n)[1] for n in before), default=opening)
                spans.append((start, span(arguments.kwonlyargs[0])[0]))
    return spans


@dataclass
class Survivor:
    """A mutant no test caught."""

    line: int
    operator: str
    original: str
    mutated: str
    reason: str = ""


@dataclass
class Result:
    """One module's campaign."""

    module: str
    tests: list[str]
    mutants: int
    killed: int
    timeouts: int
    incompetent: int
    seconds: float
    survivors: list[Survivor] = field(default_factory=list)

    @property
    def score(self) -> float:
        """Caught over caught and survived (a mutant that cannot even import is not counted)."""
        counted = self.killed + len(self.survivors)
        return self.killed / counted if counted else 1.0

    @property
    def equivalents(self) -> int:
        """Survivors explained as equivalent: no test could catch them."""
        return sum(s.reason.startswith("equivalent") for s in self.survivors)

    @property
    def score_without_equivalents(self) -> float:
        """The mutation score: caught over caught and survived, equivalent survivors left out.

        Those not worth a test stay counted.
        """
        counted = self.killed + len(self.survivors) - self.equivalents
        return self.killed / counted if counted else 1.0


def copy_tree(work: Path, *, working: bool) -> None:
    """The tracked files under `work`; the repository's build cache added to CACHE.

    As committed (HEAD), or as they are in the working tree when `working`: a diff run checks
    the change being made.
    """
    shutil.rmtree(work, ignore_errors=True)
    work.mkdir(parents=True)
    if working:
        listed = subprocess.run(
            ["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
            cwd=ROOT,
            capture_output=True,
            check=True,
        ).stdout
        for name in filter(None, listed.decode().split("\0")):
            source = ROOT / name
            if source.is_file():
                (work / name).parent.mkdir(parents=True, exist_ok=True)
                shutil.copy2(source, work / name)
    else:
        archive = subprocess.run(
            ["git", "archive", "HEAD"], cwd=ROOT, capture_output=True, check=True
        )
        subprocess.run(["tar", "-x", "-C", str(work)], input=archive.stdout, check=True)
    cache = ROOT / "target" / "fc-rust" / "cache"
    if cache.is_dir():
        shutil.copytree(cache, CACHE, dirs_exist_ok=True)


def changed_lines(base: str) -> dict[str, set[int]]:
    """Lines of each file that differ from `base` (commits and the working tree)."""
    diff = subprocess.run(
        ["git", "diff", "-U0", base, "--", "infra"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    found: dict[str, set[int]] = {}
    current = ""
    for line in diff.splitlines():
        if line.startswith("+++ b/"):
            current = line[6:]
        elif hunk := re.match(r"@@ -\S+ \+(\d+)(?:,(\d+))? @@", line):
            start, count = int(hunk.group(1)), int(hunk.group(2) or 1)
            found.setdefault(current, set()).update(range(start, start + count))
    return found


def function_lines(work: Path, module: str, names: tuple[str, ...]) -> set[int]:
    """The lines of the named top-level functions of `module`."""
    tree = ast.parse((work / module).read_text(encoding="utf-8"))
    return {
        line
        for node in tree.body
        if isinstance(node, ast.FunctionDef) and node.name in names
        for line in range(node.lineno, (node.end_lineno or node.lineno) + 1)
    }


def run_module(work: Path, module: str, target: Target, lines: set[int] | None) -> Result:
    """Mutate `module` in `work` and run its tests for each mutant; `lines` limits where."""
    session = work / f"{module.replace('/', '.')}.sqlite"
    config = session.with_suffix(".toml")
    command = f"{sys.executable} -m pytest -x -q -p no:cacheprovider {' '.join(target.tests)}"
    config.write_text(
        "[cosmic-ray]\n"
        f'module-path = "{module}"\n'
        f"timeout = {target.timeout}\n"
        "excluded-modules = []\n"
        f'test-command = "{command}"\n'
        '[cosmic-ray.distributor]\nname = "local"\n',
        encoding="utf-8",
    )
    cosmic_ray = [sys.executable, "-m", "cosmic_ray.cli"]
    subprocess.run([*cosmic_ray, "init", str(config), str(session)], cwd=work, check=True)
    if target.only:
        inside = function_lines(work, module, target.only)
        lines = inside if lines is None else lines & inside
    _skip(session, lines, unmutated_spans((work / module).read_text(encoding="utf-8")))
    env = {
        **os.environ,
        "FCRUST_CACHE_DIR": str(CACHE),
        "FCRUST_CARGO_TARGET_DIR": str(ROOT / "target" / "fc-rust" / "cargo"),
    }
    # Unmutated first, without a time limit: the tests must pass, and any package they need is
    # built now, so that no mutant's run is spent (and timed out) building it.
    baseline = subprocess.run(command.split(), cwd=work, env=env, check=False)
    if baseline.returncode != 0:
        sys.exit(f"{module}: its tests fail without a mutant ({command}); fix them first")
    started = time.monotonic()
    subprocess.run([*cosmic_ray, "exec", str(config), str(session)], cwd=work, env=env, check=True)
    return _result(module, target, session, time.monotonic() - started)


def _skip(session: Path, lines: set[int] | None, spans: list[Span]) -> None:
    """Mark the left-out operators, mutants in `spans` and mutants off `lines` as skipped.

    `spans` are `unmutated_spans`; `lines`, when given, where a diff run mutates.
    """
    with use_db(str(session), WorkDB.Mode.open) as db:
        skipped = [
            item.job_id
            for item in db.pending_work_items
            for mutation in item.mutations
            if SKIPPED_OPERATORS.match(mutation.operator_name)
            or any(
                start <= tuple(mutation.start_pos) and tuple(mutation.end_pos) <= end
                for start, end in spans
            )
            or (lines is not None and mutation.start_pos[0] not in lines)
        ]
        if skipped:
            result = WorkResult(worker_outcome=WorkerOutcome.SKIPPED, output="left out")
            db.set_multiple_results(skipped, result)


def _result(module: str, target: Target, session: Path, seconds: float) -> Result:
    explained = _explained()
    result = Result(module, list(target.tests), 0, 0, 0, 0, round(seconds))
    with use_db(str(session), WorkDB.Mode.open) as db:
        for item, outcome in db.completed_work_items:
            if outcome.worker_outcome == WorkerOutcome.SKIPPED:
                continue
            result.mutants += 1
            if outcome.test_outcome == TestOutcome.INCOMPETENT:
                result.incompetent += 1
            elif outcome.test_outcome == TestOutcome.KILLED:
                result.killed += 1
                if outcome.output == "timeout":
                    result.timeouts += 1
            else:
                original, mutated = _changed(outcome.diff or "")
                reason = reason_for(explained, module, original, mutated)
                mutation = item.mutations[0]
                result.survivors.append(
                    Survivor(
                        mutation.start_pos[0], mutation.operator_name, original, mutated, reason
                    )
                )
    result.survivors.sort(key=lambda s: s.line)
    return result


def reason_for(
    explained: dict[tuple[str, str, str], str], module: str, original: str, mutated: str
) -> str:
    """Why a survivor is left: its entry in explained.toml, else its kind; "" if neither."""
    found = explained.get((module, original, mutated), "")
    return found or next((why for kind, why in EQUIVALENT_KINDS if kind.search(mutated)), "")


def _changed(diff: str) -> tuple[str, str]:
    """The first removed and added lines of a mutant's diff, stripped."""
    lines = diff.splitlines()
    removed = [line[1:].strip() for line in lines if line[:1] == "-" and line[:3] != "---"]
    added = [line[1:].strip() for line in lines if line[:1] == "+" and line[:3] != "+++"]
    return (removed[0] if removed else "", added[0] if added else "")


RUST_OUTCOMES = {"CaughtMutant": "caught", "MissedMutant": "missed", "Timeout": "timeouts"}


@dataclass
class RustFile:
    """cargo-mutants' outcomes in one source file."""

    caught: int = 0
    missed: int = 0
    timeouts: int = 0
    unviable: int = 0
    survivors: list[dict[str, str]] = field(default_factory=list)
    """Each missed mutant's name and the reason it is left (empty: unexplained)."""

    @property
    def score(self) -> float:
        """Caught (or timed out) over those and the missed; unviable mutants do not build."""
        caught = self.caught + self.timeouts
        return caught / (caught + self.missed) if caught + self.missed else 1.0


def read_rust(output: Path) -> dict[str, dict[str, str]]:
    """cargo-mutants' outcomes under `output` (its `-o`), by mutant.

    A mutant is named by its file and what it does, without its line, so a later run of the same
    mutant (say, with the whole workspace's tests) replaces the earlier outcome. Mutants that do
    the same in one function (two `*` in one expression) are told apart by their order in the
    file: the second is named `... #2`, and so on (so re-run such mutants together, as a name
    regex does).
    """
    outcomes = json.loads((output / "mutants.out" / "outcomes.json").read_text(encoding="utf-8"))
    mutants = [
        (outcome["scenario"]["Mutant"], outcome["summary"])
        for outcome in outcomes["outcomes"]
        if isinstance(outcome["scenario"], dict) and "Mutant" in outcome["scenario"]
    ]  # not the unmutated baseline
    mutants.sort(
        key=lambda m: (m[0]["file"], m[0]["span"]["start"]["line"], m[0]["span"]["start"]["column"])
    )
    found: dict[str, dict[str, str]] = {}
    for mutant, summary in mutants:
        what = mutant["name"].split(": ", 1)[1]
        name = f"{mutant['file']}: {what}"
        repeats = sum(key == name or key.startswith(f"{name} #") for key in found)
        if repeats:
            name = f"{name} #{repeats + 1}"
        kind = RUST_OUTCOMES.get(summary, "unviable")
        found[name] = {"file": mutant["file"], "what": what, "kind": kind}
    return found


def rust_files(mutants: dict[str, dict[str, str]]) -> dict[str, RustFile]:
    """The outcomes counted by file, each missed mutant with its reason from explained.toml."""
    explained = _explained()
    files: dict[str, RustFile] = {}
    for mutant in mutants.values():
        found = files.setdefault(mutant["file"], RustFile())
        setattr(found, mutant["kind"], getattr(found, mutant["kind"]) + 1)
        if mutant["kind"] == "missed":
            reason = explained.get((mutant["file"], mutant["what"], ""), "")
            found.survivors.append(
                {"name": f"{mutant['file']}: {mutant['what']}", "reason": reason}
            )
    return files


def _explained() -> dict[tuple[str, str, str], str]:
    """The reasons in explained.toml, by module, original line (or Rust mutant) and mutant."""
    entries = tomllib.loads((HERE / "explained.toml").read_text(encoding="utf-8"))["mutant"]
    return {(e["module"], e["original"], e["mutated"]): e["reason"] for e in entries}


def render_rust(files: dict[str, RustFile]) -> list[str]:
    """The Rust part of the report: a score per file, then every missed mutant."""
    lines = [
        "",
        "## Rust (cargo-mutants)",
        "",
        "| file | caught | timeouts | missed | unviable | score |",
        "| --- | ---: | ---: | ---: | ---: | ---: |",
    ]
    lines += [
        f"| {name} | {f.caught} | {f.timeouts} | {f.missed} | {f.unviable} | {f.score:.1%} |"
        for name, f in sorted(files.items())
    ]
    for f in files.values():
        lines += [f"- {s['name']}: {s['reason'] or '**unexplained**'}" for s in f.survivors]
    return lines


def render(results: dict[str, Result], rust: dict[str, RustFile] | None = None) -> str:
    """The report: a score per module, then every survivor with its reason; then the Rust."""
    killed = sum(r.killed for r in results.values())
    counted = killed + sum(len(r.survivors) for r in results.values())
    equivalents = sum(r.equivalents for r in results.values())
    lines = [
        "# Mutation testing report",
        "",
        "Written by `make mutants` (`python -m mutants`); do not edit by hand. A mutant is caught",
        "when a test fails (or runs out of time) with it in place; one whose code cannot import",
        "is incompetent and not counted. Survivors are explained in `mutants/explained.toml`.",
        "",
        "Not mutated, so not counted: annotations (`from __future__ import annotations` leaves",
        "them strings that no code evaluates, so `int | None` made `int & None` changes nothing),",
        "and a parameter list's bare `*` (made `/`, it lets callers pass by position what every",
        "caller passes by keyword). mutmut, for one, mutates neither. Some operator replacements",
        "are left out too (`SKIPPED_OPERATORS` in mutants/__main__.py).",
        "",
        "Two scores: *score* is caught / (caught + survived), every survivor counted; *without",
        "equivalents* is the textbook mutation score, the survivors explained as equivalent (no",
        "test could catch them) left out of the count. Survivors explained as not worth a test",
        "count as survivors in both.",
        "",
        (
            f"Overall: {killed} of {counted} caught ({killed / max(counted, 1):.1%}); "
            f"{equivalents} of the survivors equivalent, "
            f"{killed / max(counted - equivalents, 1):.1%} without them."
        ),
        "",
        (
            "| module | tests | mutants | caught | timeouts | incompetent | survived | equivalent "
            "| score | without equivalents | time |"
        ),
        "| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    for r in results.values():
        tests = ", ".join(Path(t).name for t in r.tests)
        lines.append(
            f"| {r.module} | {tests} | {r.mutants} | {r.killed} | {r.timeouts} | "
            f"{r.incompetent} | {len(r.survivors)} | {r.equivalents} | {r.score:.1%} | "
            f"{r.score_without_equivalents:.1%} | {r.seconds} s |"
        )
    for r in results.values():
        if not r.survivors:
            continue
        lines += ["", f"## Survivors in {r.module}", ""]
        for s in r.survivors:
            reason = s.reason or "**unexplained**"
            lines.append(
                f"- line {s.line}, {s.operator}: `{s.original}` -> `{s.mutated}`: {reason}"
            )
    if rust:
        lines += render_rust(rust)
    return "\n".join(lines) + "\n"


def main() -> None:
    """Run the campaign the arguments ask for and write or print its report."""
    parser = argparse.ArgumentParser(prog="python -m mutants", description=__doc__)
    parser.add_argument("modules", nargs="*", help="modules to mutate (default: all)")
    parser.add_argument("--diff", metavar="BASE", help="only lines changed since BASE")
    parser.add_argument(
        "--rust",
        metavar="DIR",
        type=Path,
        help="add the outcomes of `cargo mutants -o DIR` to the report",
    )
    args = parser.parse_args()
    if args.rust is not None:
        update(HERE / "rust-results.json", read_rust(args.rust))
        write_report({})
        return
    modules = args.modules or list(TARGETS)
    unknown = sorted(set(modules) - set(TARGETS))
    if unknown:
        parser.error(f"no target {', '.join(unknown)}; known: {', '.join(TARGETS)}")
    changed = None if args.diff is None else changed_lines(args.diff)
    if changed is not None:
        modules = [m for m in modules if m in changed]
        sys.stdout.write(f"changed modules: {', '.join(modules) or 'none'}\n")
    work = SCRATCH / ("work" if changed is None else "diff")
    copy_tree(work, working=changed is not None)
    results = {
        m: run_module(work, m, TARGETS[m], None if changed is None else changed[m]) for m in modules
    }
    if changed is not None:
        sys.stdout.write(render(results))
        return
    write_report(results)


def write_report(results: dict[str, Result]) -> None:
    """Store `results` beside the modules' earlier ones and write REPORT.md from them all."""
    known = update(HERE / "results.json", {m: asdict(r) for m, r in results.items()})
    explained = _explained()
    everything = {
        m: Result(**{**v, "survivors": [Survivor(**s) for s in v["survivors"]]})
        for m, v in known.items()
    }
    for module, result in everything.items():
        for s in result.survivors:  # explanations written since the run apply too
            s.reason = reason_for(explained, module, s.original, s.mutated)
    stored = HERE / "rust-results.json"
    rust = json.loads(stored.read_text(encoding="utf-8")) if stored.exists() else {}
    report = render(everything, rust_files(rust))
    (HERE / "REPORT.md").write_text(report, encoding="utf-8")
    sys.stdout.write(report)


def update(path: Path, entries: dict[str, Any]) -> dict[str, Any]:
    """The JSON object in `path` (if any) with `entries` laid over it, written back."""
    known = json.loads(path.read_text(encoding="utf-8")) if path.exists() else {}
    known.update(entries)
    path.write_text(json.dumps(known, indent=1) + "\n", encoding="utf-8")
    return known


if __name__ == "__main__":
    main()
