"""The fc-rust stack: sync-forks on a daily timer and hello, from the stack's config."""

from __future__ import annotations

import pulumi

from infra import ConfigError, RustFunction
from infra.stack import check_stack, config_defaults, declare_shared, function_args


def main() -> None:
    """Validate the whole stack first, so a mistake fails before any resource registers."""
    config = pulumi.Config()
    values = {key: config.get(key) for key in config_defaults()}
    functions = function_args(
        values,
        github_token=config.require_secret("githubToken"),
        registry_password=config.get_secret("registryPassword"),
        tags={"project": pulumi.get_project(), "stack": pulumi.get_stack()},
    )
    problems = check_stack(values, functions, pulumi.Config("alicloud").get("region") or "")
    if problems:
        raise ConfigError(f"stack {pulumi.get_stack()}", problems)
    declare_shared(functions, values)
    for name, args in functions.items():
        function = RustFunction(name, args)
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
            },
        )


if __name__ == "__main__":  # Pulumi runs this file as __main__; tests import it too
    main()
