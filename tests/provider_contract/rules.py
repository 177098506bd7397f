"""Builders of the cross-field `Rule`s the contract modules share: one builder a kind of rule.

A rule about an input says nothing when that input is not set or not of the kind it checks: the
field's own kind check (`model`) reports that. Paths name top-level inputs, or `.` into nested
objects (no list items). An input is set when it is not None; with `blank_is_unset=True` an empty
string counts as unset too (the FC 2.0 and OSS rules, whose provider code tests `!= ""`).

Each builder takes an optional `note`, appended in parentheses to the rule's description (why
the rule is there, or how it differs from the provider's own check); it never changes the check.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Mapping
from decimal import Decimal, InvalidOperation
from typing import Any

from provider_contract.model import Rule

Check = Callable[[Mapping[str, Any]], str | None]
"""What a `Rule` runs: the plain inputs in, a problem (or None) out."""


def rule(description: str, source: str) -> Callable[[Check], Rule]:
    """A decorator making a `Rule` of a check function that no builder here expresses."""

    def wrap(check: Check) -> Rule:
        return Rule(description, source, check)

    return wrap


def _described(description: str, note: str) -> str:
    return f"{description} ({note})" if note else description


def get(inputs: Mapping[str, Any], path: str) -> object:
    """The value at `path` (`.` into nested objects), or None when any part is missing."""
    value: object = inputs
    for part in path.split("."):
        if not isinstance(value, Mapping):
            return None
        value = value.get(part)
    return value


def is_set(inputs: Mapping[str, Any], path: str, *, blank_is_unset: bool = False) -> bool:
    """Whether `path` holds a value: not None, and not "" when `blank_is_unset`."""
    value = get(inputs, path)
    return value is not None and not (blank_is_unset and value == "")


def number(value: object) -> Decimal | None:
    """A plain finite number as a Decimal (so that 0.15 is a multiple of 0.05), else None."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    try:
        result = Decimal(str(value))
    except InvalidOperation:
        return None
    return result if result.is_finite() else None


def load_json_object(label: str, text: str) -> tuple[dict[str, object] | None, str | None]:
    """`text` parsed as a JSON object, or None and why it is not one (`label` names it)."""
    try:
        parsed = json.loads(text)
    except ValueError:
        return None, f"{label} must be JSON, got {text!r}"
    if not isinstance(parsed, dict):
        return None, f"{label} must be a JSON object, got {text!r}"
    return parsed, None


# --- presence across fields -----------------------------------------------------------------


def conflicts(
    path: str, others: tuple[str, ...], source: str, *, blank_is_unset: bool = False
) -> Rule:
    """ConflictsWith: `path` may not be set together with any of `others`."""

    def check(inputs: Mapping[str, Any]) -> str | None:
        if not is_set(inputs, path, blank_is_unset=blank_is_unset):
            return None
        clash = [other for other in others if is_set(inputs, other, blank_is_unset=blank_is_unset)]
        return f"{path} conflicts with {', '.join(clash)}" if clash else None

    return Rule(f"{path} conflicts with {', '.join(others)}", source, check)


def exactly_one(
    paths: tuple[str, ...], source: str, *, blank_is_unset: bool = False, note: str = ""
) -> Rule:
    """ExactlyOneOf: one, and only one, of `paths` is set."""

    def check(inputs: Mapping[str, Any]) -> str | None:
        found = [path for path in paths if is_set(inputs, path, blank_is_unset=blank_is_unset)]
        if len(found) == 1:
            return None
        return f"exactly one of {', '.join(paths)} must be set, got {found or 'none'}"

    return Rule(_described(f"exactly one of {', '.join(paths)}", note), source, check)


def at_least_one(paths: tuple[str, ...], source: str) -> Rule:
    """AtLeastOneOf: one or more of `paths` is set."""

    def check(inputs: Mapping[str, Any]) -> str | None:
        if any(is_set(inputs, path) for path in paths):
            return None
        return f"at least one of {', '.join(paths)} must be set, got none"

    return Rule(f"at least one of {', '.join(paths)}", source, check)


def together(
    first: str, second: str, source: str, *, blank_is_unset: bool = False, note: str = ""
) -> Rule:
    """RequiredWith both ways: `first` and `second` are both set or both unset."""

    def check(inputs: Mapping[str, Any]) -> str | None:
        has_first = is_set(inputs, first, blank_is_unset=blank_is_unset)
        if has_first == is_set(inputs, second, blank_is_unset=blank_is_unset):
            return None
        return (
            f"{first} and {second} must be set together, got only {first if has_first else second}"
        )

    return Rule(_described(f"{first} and {second} go together", note), source, check)


# --- one field's value ------------------------------------------------------------------------


def is_json(path: str, source: str, *, object_only: bool = False) -> Rule:
    """validation.StringIsJSON: a string `path` parses as JSON (as an object: `object_only`)."""

    def check(inputs: Mapping[str, Any]) -> str | None:
        value = get(inputs, path)
        if not isinstance(value, str):
            return None
        if object_only:
            return load_json_object(path, value)[1]
        try:
            json.loads(value)
        except ValueError:
            return f"{path} must be JSON, got {value!r}"
        return None

    return Rule(f"{path} is {'a JSON object' if object_only else 'JSON'}", source, check)


def matches(path: str, pattern: str, what: str, source: str, *, note: str = "") -> Rule:
    """A string `path` matches `pattern` as a whole; `what` says the pattern in words."""

    def check(inputs: Mapping[str, Any]) -> str | None:
        value = get(inputs, path)
        if not isinstance(value, str) or re.fullmatch(pattern, value) is not None:
            return None
        return f"{path} must be {what}, got {value!r}"

    return Rule(_described(f"{path}: {what}", note), source, check)


def length(path: str, low: int, high: int, source: str, *, note: str = "") -> Rule:
    """A string `path` has from `low` to `high` characters."""

    def check(inputs: Mapping[str, Any]) -> str | None:
        value = get(inputs, path)
        if not isinstance(value, str) or low <= len(value) <= high:
            return None
        return f"{path} must be {low}-{high} characters, got {len(value)}"

    return Rule(_described(f"{path} is {low}-{high} characters", note), source, check)


HTTP_METHODS = ("HEAD", "DELETE", "POST", "GET", "OPTIONS", "PUT", "PATCH")
"""FC's HTTP trigger methods (FC 3.0 HTTPTriggerConfig; FC 2.0 "HTTP trigger")."""


def http_trigger_config(
    type_path: str, config_path: str, keys: frozenset[str], source: str
) -> Rule:
    """An HTTP trigger's config: a JSON object of `keys`, `authType` anonymous or function, and
    `methods` a non-empty list of FC's methods."""

    def check(inputs: Mapping[str, Any]) -> str | None:
        text = get(inputs, config_path)
        if get(inputs, type_path) != "http" or not isinstance(text, str):
            return None
        config, problem = load_json_object(f"http {config_path}", text)
        if config is None:
            return problem
        unknown = sorted(set(config) - keys)
        methods = config.get("methods")
        if unknown:
            return f"http {config_path} has keys {unknown} besides {sorted(keys)}"
        if config.get("authType") not in ("anonymous", "function"):
            return f"http {config_path}.authType must be anonymous or function"
        if not isinstance(methods, list) or not methods or set(methods) - set(HTTP_METHODS):
            return f"http {config_path}.methods must list some of {list(HTTP_METHODS)}"
        return None

    return Rule(f"an http trigger's {config_path}: authType, methods from FC's", source, check)


def between(path: str, low: int, high: int, source: str, *, note: str = "") -> Rule:
    """A number `path` lies in [low, high]."""

    def check(inputs: Mapping[str, Any]) -> str | None:
        value = number(get(inputs, path))
        if value is None or low <= value <= high:
            return None
        return f"{path} must be in [{low}, {high}], got {value}"

    return Rule(_described(f"{path} in [{low}, {high}]", note), source, check)
