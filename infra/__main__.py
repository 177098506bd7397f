"""`python -m infra new NAME`: add a function to the program in the current directory."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from infra.errors import StackError
from infra.scaffold import new_function


def main(argv: list[str] | None = None) -> int:
    """Run one command; 0 on success, 2 when nothing was changed because of a problem."""
    parser = argparse.ArgumentParser(prog="python -m infra")
    commands = parser.add_subparsers(dest="command", required=True)
    new = commands.add_parser(
        "new", help="create functions/NAME from the template and add it to the stack's config"
    )
    new.add_argument("name", help="the function's name: its crate, binary and FC function name")
    new.add_argument("--dir", type=Path, default=Path(), help="the Pulumi program (default: here)")
    new.add_argument(
        "--workspace", type=Path, help="the Cargo workspace root (default: the program's)"
    )
    new.add_argument(
        "--stack",
        action="append",
        help="stack whose functions map gets the entry (repeatable; default: dev)",
    )
    args = parser.parse_args(argv)
    program = args.dir.resolve()
    try:
        made = new_function(
            args.name,
            program=program,
            workspace=(args.workspace or program).resolve(),
            stacks=args.stack or ["dev"],
        )
    except StackError as error:
        print(f"error: {error}", file=sys.stderr)  # noqa: T201 - the CLI's output
        return 2
    stacks = ", ".join(path.name for path in made.stack_files)
    print(  # noqa: T201 - the CLI's output
        f"created {made.crate_dir}; added {args.name} to {stacks}\n"
        f'run it: python -m infra.local invoke {args.name} --event - <<< \'{{"name": "Ada"}}\''
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
