"""`python -m infra.bootstrap package ...`: build code packages from scripts and CI.

The workspace is the current directory unless `--workspace` names one. The crates named (or, with
`--all`, every crate under `functions/` with a binary) are built in one cargo run.

`python -m infra.bootstrap faults CRATE`: inject build faults into a copy of the workspace and
check each is handled (for `make stress`); the last line is `build faults injected and recovered`.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from infra.bootstrap.build import DEFAULT_RUNTIME, DEFAULT_SIZE_BUDGET, Builder
from infra.bootstrap.elf import RUNTIME_GLIBC
from infra.bootstrap.errors import INTERRUPTED_EXIT, BuildError
from infra.bootstrap.faults import FaultNotRecoveredError, drill


def _package(parser: argparse.ArgumentParser, args: argparse.Namespace) -> int:
    if bool(args.functions) == args.all:
        parser.error("give crate names or --all, not both and not neither")
    builder = Builder(args.workspace)
    names = builder.workspace.functions() if args.all else args.functions
    budgets = dict.fromkeys(names, args.size_budget)
    built = builder.package_many(names, runtime=args.runtime, size_budgets=budgets)
    for package in built.values():
        print(json.dumps(package.manifest(), sort_keys=True), flush=True)  # noqa: T201 - the CLI's output
    return 0


def _faults(args: argparse.Namespace) -> int:
    try:
        for line in drill(args.workspace or Path.cwd(), args.crate):
            print(line, flush=True)  # noqa: T201 - the CLI's output
    except FaultNotRecoveredError as error:
        print(f"error: fault not recovered: {error}", file=sys.stderr)  # noqa: T201
        return 1
    print("build faults injected and recovered")  # noqa: T201
    return 0


def main(argv: list[str] | None = None) -> int:
    """Build the named functions (or, with --all, every one in `functions/`); print manifests."""
    parser = argparse.ArgumentParser(prog="python -m infra.bootstrap")
    commands = parser.add_subparsers(dest="command", required=True)
    package = commands.add_parser("package", help="write dist/<function>/bootstrap.zip")
    package.add_argument("functions", nargs="*", help="crate names")
    package.add_argument(
        "--all", action="store_true", help="every crate under functions/ with a binary"
    )
    package.add_argument("--runtime", default=DEFAULT_RUNTIME, choices=sorted(RUNTIME_GLIBC))
    package.add_argument("--size-budget", type=int, default=DEFAULT_SIZE_BUDGET, metavar="BYTES")
    package.add_argument(
        "--workspace", type=Path, default=None, help="the Cargo workspace root (default: .)"
    )
    faults = commands.add_parser(
        "faults", help="inject build faults into a copy of the workspace; check each is handled"
    )
    faults.add_argument("crate", help="the crate to build, e.g. tiny")
    faults.add_argument(
        "--workspace", type=Path, default=None, help="the Cargo workspace root (default: .)"
    )
    args = parser.parse_args(argv)

    try:
        return _package(parser, args) if args.command == "package" else _faults(args)
    except BuildError as error:
        print(f"error: {error}", file=sys.stderr)  # noqa: T201
        return 1
    except KeyboardInterrupt:
        print(  # noqa: T201
            "error: interrupted; cargo and every process it started were stopped, "
            "and dist/ keeps its previous packages",
            file=sys.stderr,
        )
        return INTERRUPTED_EXIT


if __name__ == "__main__":
    sys.exit(main())
