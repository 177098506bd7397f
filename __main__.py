"""The fc-rust stack: the functions its config declares (sync-forks and hello), deployed."""

from __future__ import annotations

import pulumi

from infra import from_config
from stack.forks import forks_problems
from stack.retired import retired_problems


def main() -> None:
    """Check the whole stack first, so a mistake fails before any resource registers."""
    project = pulumi.get_project()
    config = pulumi.Config()
    functions = from_config(
        checks=[
            lambda found: forks_problems(found, project),
            lambda _: retired_problems(config.get, project),
        ]
    )
    for name, function in functions.items():
        pulumi.export(
            name,
            {
                "function_name": function.function_name,
                "function_arn": function.function_arn,
                "image": function.image,
                "alias": function.alias,
                "version": function.version,
                "code_sha256": function.code_sha256,
                "code_checksum": function.code_checksum,
                "code_size": function.code_size,
                "trigger_names": function.trigger_names,
                "log_project": function.log_project,
                "logstore": function.logstore,
                "http_url": function.http_url,
                "http_internal_url": function.http_internal_url,
            },
        )


if __name__ == "__main__":  # Pulumi runs this file as __main__; tests import it too
    main()
