"""`python -m stack demo [--live]`: sync-forks's daily timer run once under the local emulator."""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from infra.errors import BuildError, ConfigError, StackError
from infra.local.instance import FC_HEALTH_CHECK_S
from infra.local.runner import say
from infra.local.stack import load_function
from stack.demo import run_demo, run_live

ROOT = Path(__file__).resolve().parents[1]
"""The repository: its `Pulumi.yaml`, its stacks and its Cargo workspace."""


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m stack",
        description="This repository's example: sync-forks run under the local FC emulator.",
    )
    commands = parser.add_subparsers(dest="command", required=True)
    demo = commands.add_parser("demo", help="what `make local` runs: sync-forks's daily timer once")
    demo.add_argument(
        "--live", action="store_true", help="talk to GitHub (needs GITHUB_TOKEN and forks)"
    )
    demo.add_argument("--forks", help="forks for --live, as owner/repo[:branch],...")
    demo.add_argument("--stack", default="dev", help="stack whose config to use (default: dev)")
    demo.add_argument("--zip", type=Path, help="run this code package instead of building")
    demo.add_argument(
        "--start-timeout",
        type=float,
        default=FC_HEALTH_CHECK_S,
        metavar="S",
        help=f"health check limit for the port (default: FC's {FC_HEALTH_CHECK_S:g} s)",
    )
    return parser


def main(argv: list[str] | None = None) -> int:
    """Run the demo; 0 when it ran as designed, 1 when it did not, 2 for a setup problem."""
    args = _parser().parse_args(argv)
    try:
        function = load_function("sync-forks", args.stack, ROOT, os.environ)
        if args.live:
            return run_live(
                function, forks=args.forks, zip_path=args.zip, start_timeout=args.start_timeout
            )
        return run_demo(function, zip_path=args.zip, start_timeout=args.start_timeout)
    except (StackError, ConfigError, BuildError) as error:
        say(str(error))
        return 2
    except KeyboardInterrupt:
        say("interrupted")
        return 130


if __name__ == "__main__":
    sys.exit(main())
