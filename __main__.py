"""The fc-rust stack: sync-forks on a daily timer and hello, from the stack's config."""

from __future__ import annotations

from typing import TYPE_CHECKING, Literal, cast

import pulumi

from infra import ConfigError, RustFunction, RustFunctionArgs, validate
from infra.limits import check_region

if TYPE_CHECKING:
    from infra.timer import TimerArgs

CONFIG_DEFAULTS: dict[str, object] = {
    "fcVersion": "3.0",
    "runtime": "custom.debian10",
    "alias": "live",
    "forks": [],
    "syncSchedule": "0 0 0 * * *",
    "syncEnabled": True,
    "syncMemorySize": 128,
    "syncTimeout": 300,
    "syncPinnedVersion": "",
    "helloMemorySize": 128,
    "helloPinnedVersion": "",
    "logRetentionDays": 30,
    "workspace": "",
}
"""The defaults of Pulumi.yaml's config schema, for runs the CLI does not fill in (tests)."""


def _function_args(config: pulumi.Config) -> dict[str, RustFunctionArgs]:
    """The two functions' Args, keyed by component name."""

    def text(key: str) -> str:
        return config.get(key) or str(CONFIG_DEFAULTS[key])

    def number(key: str) -> int:
        value = config.get_int(key)
        return int(str(CONFIG_DEFAULTS[key])) if value is None else value

    def flag(key: str) -> bool:
        value = config.get_bool(key)
        return bool(CONFIG_DEFAULTS[key]) if value is None else value

    fc_version = text("fcVersion")
    common: RustFunctionArgs = {
        "crate": "",
        "runtime": text("runtime"),
        # validate() rejects anything but "3.0" and "2.0", naming the value.
        "fc_version": cast("Literal['3.0', '2.0']", fc_version),
        "logs": {"retention_days": number("logRetentionDays")},
        "tags": {"project": pulumi.get_project(), "stack": pulumi.get_stack()},
    }
    if text("workspace"):
        common["workspace"] = text("workspace")
    daily: TimerArgs = {
        "name": "daily",
        "cron": text("syncSchedule"),
        "enabled": flag("syncEnabled"),
    }
    forks = config.get_object("forks") or CONFIG_DEFAULTS["forks"]
    sync_forks: RustFunctionArgs = {
        **common,
        "crate": "sync-forks",
        "memory_size": number("syncMemorySize"),
        "timeout": number("syncTimeout"),
        "environment": {
            "SYNC_FORKS": ",".join(str(fork) for fork in forks)
            if isinstance(forks, list)
            else str(forks)
        },
        "secret_environment": {"GITHUB_TOKEN": config.require_secret("githubToken")},
        "timers": [daily],
    }
    hello: RustFunctionArgs = {
        **common,
        "crate": "hello",
        "memory_size": number("helloMemorySize"),
    }
    if fc_version == "3.0":
        for args, key in ((sync_forks, "syncPinnedVersion"), (hello, "helloPinnedVersion")):
            args["alias"] = text("alias")
            if text(key):
                args["pinned_version"] = text(key)
    return {"sync-forks": sync_forks, "hello": hello}


def main() -> None:
    """Validate the whole stack first, so a mistake fails before any resource registers."""
    functions = _function_args(pulumi.Config())
    problems = check_region(pulumi.Config("alicloud").get("region") or "")
    problems += [f"{name}: {p}" for name, args in functions.items() for p in validate(name, args)]
    if problems:
        raise ConfigError(f"stack {pulumi.get_stack()}", problems)
    for name, args in functions.items():
        function = RustFunction(name, args)
        pulumi.export(
            name,
            {
                "function_name": function.function_name,
                "function_arn": function.function_arn,
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
