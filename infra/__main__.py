"""`python -m infra new|remove NAME` and `python -m infra plan`, in the program's directory."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from infra.bootstrap.errors import BuildError
from infra.errors import ConfigError, StackError
from infra.scaffold import Interrupted, interpreter, new_function, remove_function

SIGTERM_EXIT = 143
"""The exit status after SIGTERM, as a shell reports a process ended by it (128 + 15)."""


def _say(text: str) -> None:
    print(text, file=sys.stderr)  # noqa: T201 - the CLI's output


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m infra")
    commands = parser.add_subparsers(dest="command", required=True)

    def program(sub: argparse.ArgumentParser) -> None:
        sub.add_argument(
            "--dir", type=Path, default=Path(), help="the Pulumi program (default: here)"
        )

    for command, title, what, stacks in (
        (
            "new",
            "create functions/NAME from the template and add it to the stack's config",
            "the function's name: its crate, binary and FC function name",
            "stack whose functions map gets the entry (repeatable; default: dev)",
        ),
        (
            "remove",
            "the inverse of new: delete functions/NAME and its stack entries",
            "the function to remove",
            "stack to remove the entry from (repeatable; default: every stack listing it)",
        ),
    ):
        sub = commands.add_parser(command, help=title)
        sub.add_argument("name", help=what)
        program(sub)
        sub.add_argument(
            "--workspace", type=Path, help="the Cargo workspace root (default: the program's)"
        )
        sub.add_argument("--stack", action="append", help=stacks)
        if command == "new":
            sub.add_argument(
                "--http",
                action="store_true",
                help="an HTTP function (axum) with an anonymous HTTP trigger, not an event handler",
            )
    plan = commands.add_parser(
        "plan", help="what the stack declares, evaluated offline (no cloud, no Pulumi CLI)"
    )
    program(plan)
    plan.add_argument("--stack", default="dev", help="the stack to plan (default: dev)")
    plan.add_argument("--json", action="store_true", help="one JSON document, for tools")
    plan.add_argument(
        "--against",
        type=Path,
        metavar="PLAN.json",
        help="a plan saved with --json: say what would be created, changed or deleted",
    )
    return parser


def main(argv: list[str] | None = None) -> int:
    """Run one command; 0 on success, 2 when nothing was changed because of a problem."""
    args = _parser().parse_args(argv)
    program = args.dir.resolve()
    try:
        if args.command == "plan":
            from infra.offline import plan_command  # noqa: PLC0415 - loads Pulumi's runtime

            return plan_command(program, args.stack, as_json=args.json, against=args.against)
        workspace = (args.workspace or program).resolve()
        if args.command == "new":
            made = new_function(
                args.name,
                program=program,
                workspace=workspace,
                stacks=args.stack or ["dev"],
                http=args.http,
            )
        else:
            made = remove_function(
                args.name, program=program, workspace=workspace, stacks=args.stack
            )
    except (StackError, ConfigError, BuildError) as error:
        _say(f"error: {error}")
        return 2
    except KeyboardInterrupt:
        _say("interrupted: nothing was changed")
        return 130
    except Interrupted:
        _say("stopped by SIGTERM: nothing was changed")
        return SIGTERM_EXIT
    if made.recovered is not None:
        _say(f"rolled back an interrupted `python -m infra {made.recovered}` first")
    stacks = ", ".join(path.name for path in made.stack_files) or "no stack"
    if args.command == "remove":
        print(f"removed {made.crate_dir} and {args.name} from {stacks}")  # noqa: T201
        return 0
    print(  # noqa: T201 - the CLI's output
        f"created {made.crate_dir}; added {args.name} to {stacks}\n"
        f"run it: {interpreter()} -m infra.local invoke {args.name} --event - "
        f'<<< \'{{"name": "Ada"}}\''
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
