"""HTTP triggers: the settings of a function's one HTTP trigger, their rules and the config JSON.

FC forwards an HTTP-trigger request to the function's server as it came (method, path, query,
headers, body) with `x-fc-control-path: /http-invoke`; fc-runtime hands it to the function's
router. Sources:

- FC 3.0 `HTTPTriggerConfig` (`authType` `anonymous` or `function`, default `function`;
  `methods` among HEAD, DELETE, POST, GET, OPTIONS, PUT, PATCH; `disableURLInternet`):
  https://www.alibabacloud.com/help/en/functioncompute/fc/developer-reference/api-fc-2023-03-30-struct-httptriggerconfig
  and the provider's own HTTP trigger test
  (terraform-provider-alicloud resource_alicloud_fcv3_trigger_test.go:257, `{"methods": [...],
  "authType": "anonymous", "disableURLInternet": false}`).
- One HTTP trigger per version or alias (FC "HTTP trigger" overview, as read by an earlier review
  and not re-checked here): the library declares at most one per function, on its alias.
- FC 2.0's HTTP trigger config is `{"authType", "methods"}` (FC 2.0 "HTTP trigger"
  configuration; `disableURLInternet` is FC 3.0's).
- CORS: FC 3.0's trigger takes no CORS settings that could be confirmed here; a router answers
  its own preflight (tower-http's CorsLayer).
"""

from __future__ import annotations

import json
from typing import NotRequired, TypedDict

AUTH_TYPES = ("anonymous", "function")
METHODS = ("GET", "POST", "PUT", "DELETE", "PATCH", "HEAD", "OPTIONS")
"""What FC 3.0's HTTPTriggerConfig allows, in the order the config lists them."""
TRIGGER_NAME = "http"
"""The trigger's name in its function (one HTTP trigger per alias)."""
HTTP_KEYS = frozenset({"auth_type", "methods", "disable_url_internet"})


class HttpArgs(TypedDict):
    """The function's HTTP trigger: how it is called over HTTP."""

    auth_type: NotRequired[str]
    """`function` (default: requests are signed with an AccessKey) or `anonymous` (anyone)."""
    methods: NotRequired[list[str]]
    """Methods the trigger passes on; default all of `METHODS`."""
    disable_url_internet: NotRequired[bool]
    """Serve only on the internal (VPC) URL; default false. FC 3.0 only."""


def methods_problems(field: str, methods: object) -> list[str]:
    """`methods` is a non-empty list of FC's HTTP methods, each once; `field` names it."""
    if (
        isinstance(methods, list)
        and methods
        and all(method in METHODS for method in methods)
        and len(set(methods)) == len(methods)
    ):
        return []
    return [f"{field} must list some of {', '.join(METHODS)}, each once, got {methods!r}"]


def check_http(settings: HttpArgs, *, fc_version: str) -> list[str]:
    """Problems with the HTTP trigger's settings, each naming the field and what is allowed."""
    problems = []
    unknown = sorted(set(settings) - HTTP_KEYS)
    if unknown:
        problems.append(
            f"http has unknown settings {', '.join(map(repr, unknown))}; "
            f"allowed: {', '.join(sorted(HTTP_KEYS))}"
        )
    auth = settings.get("auth_type", "function")
    if auth not in AUTH_TYPES:
        problems.append(f"http.auth_type must be 'anonymous' or 'function', got {auth!r}")
    problems += methods_problems("http.methods", settings.get("methods", list(METHODS)))
    internal = settings.get("disable_url_internet", False)
    if not isinstance(internal, bool):
        problems.append(f"http.disable_url_internet must be true or false, got {internal!r}")
    elif internal and fc_version == "2.0":
        problems.append("http.disable_url_internet is an FC 3.0 setting")
    return problems


def trigger_config(settings: HttpArgs, *, fc_version: str) -> str:
    """The trigger's config JSON, methods in FC's order (so reordering them is no change)."""
    methods = [m for m in METHODS if m in settings.get("methods", list(METHODS))]
    config: dict[str, object] = {
        "authType": settings.get("auth_type", "function"),
        "methods": methods,
    }
    if fc_version != "2.0":
        config["disableURLInternet"] = settings.get("disable_url_internet", False)
    return json.dumps(config, separators=(",", ":"))
