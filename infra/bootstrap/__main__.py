"""`python -m infra.bootstrap package ...`: build code packages from scripts and CI."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from infra.bootstrap.build import DEFAULT_RUNTIME, DEFAULT_SIZE_BUDGET, Builder
from infra.bootstrap.elf import RUNTIME_GLIBC
from infra.bootstrap.errors import BuildError


def main(argv: list[str] | None = None) -> int:
    """Build the named functions (or, with --all, every one in `functions/`); print manifests."""
    parser = argparse.ArgumentParser(prog="python -m infra.bootstrap")
    commands = parser.add_subparsers(dest="command", required=True)
    package = commands.add_parser("package", help="write dist/<function>/bootstrap.zip")
    package.add_argument("functions", nargs="*", help="crate names")
    package.add_argument("--all", action="store_true", help="every crate under functions/")
    package.add_argument("--runtime", default=DEFAULT_RUNTIME, choices=sorted(RUNTIME_GLIBC))
    package.add_argument("--size-budget", type=int, default=DEFAULT_SIZE_BUDGET, metavar="BYTES")
    package.add_argument("--workspace", type=Path, default=None)
    args = parser.parse_args(argv)
    if bool(args.functions) == args.all:
        parser.error("give crate names or --all, not both and not neither")

    try:
        builder = Builder(args.workspace)
        names = builder.workspace.functions() if args.all else args.functions
        for name in names:
            built = builder.package(name, runtime=args.runtime, size_budget=args.size_budget)
            print(json.dumps(built.manifest(), sort_keys=True))  # noqa: T201 - the CLI's output
    except BuildError as error:
        print(f"error: {error}", file=sys.stderr)  # noqa: T201
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
