"""Every rule of the provider contract has a negative case: an input that breaks it is refused by
the mocks, naming the rule and its source.

The cases are generated from the contract's own tables (`provider_contract.CONTRACT`), so a rule
added there gets its case here without a line written:
- each field's kind, `required`, allowed values, pattern, range, length and multiple-of: a value
  chosen by this module's own reading of the rule (not by the contract's checker), breaking that
  one rule where the field's other rules allow it; and for a range, a length or a step, the value
  at the limit, which must pass;
- each cross-field rule: an input found by trying, for every field of the resource, values of its
  kind and the literals its contract module spells (a runtime name, a trigger type), one field
  and then two at a time.

An input is handed to `CloudMocks.new_resource`, as every registration in the other tests is: the
refusal must be a `ContractViolationError` whose text has the rule's problem and its source.
`test_every_rule_table_entry_is_reached` counts the entries and names any that no generated input
reaches, so a new rule the generator cannot break fails there, asking for a way to break it.
"""

from __future__ import annotations

import ast
import functools
import inspect
import itertools
import re
from dataclasses import dataclass
from decimal import Decimal
from typing import TYPE_CHECKING, Any

import pulumi
import pytest
from conftest import CloudMocks, ContractViolationError
from provider_contract import CONTRACT, fc2, fc3, identity_access, logs, monitoring, registry
from provider_contract import storage as storage_contract
from provider_contract.model import Field

if TYPE_CHECKING:
    from collections.abc import Iterator, Mapping

    from provider_contract.model import Resource, Rule

pytestmark = pytest.mark.unit

CONSTRAINTS = (
    "kind",
    "required",
    "allowed",
    "pattern",
    "minimum",
    "maximum",
    "min_length",
    "max_length",
    "multiple_of",
)
"""The per-field rules `provider_contract.model.Field` can carry."""

WRONG_KIND: dict[str, object] = {
    "string": 7,
    "int": "7",
    "float": "0.5",
    "bool": "true",
    "list": "x",
    "map": "x",
    "object": "x",
}
"""A value of another kind for each field kind (the provider's schema types)."""

REFUSAL: dict[str, str] = {
    "kind": "{path} must be a {kind}, got",
    "required": "{path} is required",
    "allowed": "{path} must be one of",
    "pattern": "{path} must match {pattern}",
    "minimum": "{path} must be at least {minimum}",
    "maximum": "{path} must be at most {maximum}",
    "min_length": "{path} must have at least {min_length}",
    "max_length": "{path} must have at most {max_length}",
    "multiple_of": "{path} must be a multiple of {multiple_of}",
}
"""How the contract names each broken per-field rule; the field's source follows it."""

# --- this module's own reading of a field's rules -------------------------------------------


def kind_ok(kind: str, value: object) -> bool:
    """Whether `value` is of the schema kind `kind`."""
    if kind == "string":
        return isinstance(value, str)
    if kind in {"int", "float"}:
        if isinstance(value, bool) or not isinstance(value, int | float):
            return False
        return kind == "float" or float(value).is_integer()
    if kind == "bool":
        return isinstance(value, bool)
    if kind == "list":
        return isinstance(value, list)
    return isinstance(value, dict)


def broken(field: Field, value: object) -> set[str]:
    """The per-field rules of `field` that `value` breaks, by this module's reading of them."""
    if not kind_ok(field.kind, value):
        return {"kind"}
    found = set()
    if field.allowed is not None and value not in field.allowed:
        found.add("allowed")
    if field.pattern is not None and not (
        isinstance(value, str) and re.fullmatch(field.pattern, value)
    ):
        found.add("pattern")
    if isinstance(value, str | list):
        if field.min_length is not None and len(value) < field.min_length:
            found.add("min_length")
        if field.max_length is not None and len(value) > field.max_length:
            found.add("max_length")
    if isinstance(value, int | float) and not isinstance(value, bool):
        found |= _number_broken(field, value)
    return found


def _number_broken(field: Field, value: float) -> set[str]:
    """The range and step rules of `field` that the number `value` breaks."""
    found = set()
    if field.minimum is not None and value < field.minimum:
        found.add("minimum")
    if field.maximum is not None and value > field.maximum:
        found.add("maximum")
    if field.multiple_of is not None and Decimal(str(value)) % Decimal(str(field.multiple_of)):
        found.add("multiple_of")
    return found


def _strings(field: Field) -> Iterator[str]:
    """Strings of every length the field's rules mention, in characters its pattern may take."""
    limits = [field.min_length, field.max_length]
    lengths = {1, 2, 3, 8, 64, *(n + d for n in limits if n is not None for d in (-1, 0, 1))}
    yield from (str(a) for a in field.allowed or ())
    for length in sorted(n for n in lengths if n >= 0):
        for head, fill in itertools.product("aA1_-!, /\\", "a1A_-.!, "):
            yield (head + fill * length)[:length]


def _numbers(field: Field) -> Iterator[float]:
    """Numbers at, just inside and just outside each limit and step of the field."""
    step = field.multiple_of or (1 if field.kind == "int" else 0.01)
    marks = [0, 1, step, *(m for m in (field.minimum, field.maximum) if m is not None)]
    marks += [a for a in field.allowed or () if isinstance(a, int | float)]
    for mark in marks:
        for delta in (0, -step, step, step / 2):
            value = mark + delta
            yield int(value) if field.kind == "int" and float(value).is_integer() else value


def candidates(field: Field, item: object = "x") -> Iterator[object]:
    """Values of the field's kind, and one of another kind; a list's items are `item`."""
    if field.kind == "string":
        yield from _strings(field)
    elif field.kind in {"int", "float"}:
        yield from _numbers(field)
    elif field.kind == "list":
        limits = (field.min_length, field.max_length)
        lengths = {0, 1, 2, *(n + d for n in limits if n is not None for d in (-1, 0, 1))}
        yield from ([item] * n for n in sorted(lengths) if n >= 0)
    elif field.kind == "bool":
        yield from (True, False)
    else:
        yield {}
    yield WRONG_KIND[field.kind]


def breaking_value(field: Field, constraint: str) -> tuple[object, bool] | None:
    """A value breaking `constraint`, and whether it breaks that rule alone; None if none does."""
    found = None
    for value in candidates(field):
        rules = broken(field, value)
        if rules == {constraint}:
            return value, True
        if constraint in rules and found is None:
            found = value
    return None if found is None else (found, False)


def limit_value(field: Field, constraint: str) -> object | None:
    """A value at the limit of a range, length or step constraint, which does not break it.

    It may break another rule of the field where they overlap (a pattern allowing 64 characters
    under a maximum length of 128).
    """
    if constraint in {"kind", "required", "allowed", "pattern"}:
        return None
    limit = getattr(field, constraint)
    for value in candidates(field):
        at_limit = (
            len(value) == limit
            if constraint in {"min_length", "max_length"} and isinstance(value, str | list)
            else value == limit
            if constraint in {"minimum", "maximum"}
            else constraint == "multiple_of" and kind_ok(field.kind, value) and value != 0
        )
        if at_limit and kind_ok(field.kind, value) and constraint not in broken(field, value):
            return value
    return None


# --- inputs and the mocks -------------------------------------------------------------------


def nest(path: str, value: object) -> dict[str, Any]:
    """An input holding `value` at `path` (`.` into objects, `[]` into a list's one item)."""
    for part in reversed(path.split(".")):
        value = {part[:-2]: [value]} if part.endswith("[]") else {part: value}
    assert isinstance(value, dict)
    return value


def merge(first: Mapping[str, Any], second: Mapping[str, Any]) -> dict[str, Any]:
    """`first` with `second` laid over it, objects merged key by key."""
    merged = dict(first)
    for key, value in second.items():
        if isinstance(merged.get(key), dict) and isinstance(value, dict):
            merged[key] = merge(merged[key], value)
        else:
            merged[key] = value
    return merged


def refusal(resource: Resource, inputs: dict[str, Any]) -> str:
    """The text of the mocks' refusal to register `inputs`; fails the test if they accept it."""
    args = pulumi.runtime.MockResourceArgs(resource.type, "negative-case", inputs, custom=True)
    with pytest.raises(ContractViolationError) as refused:
        CloudMocks().new_resource(args)
    return str(refused.value)


def problems_of(resource: Resource, inputs: dict[str, Any]) -> str:
    """The mocks' refusal text, or "" when they register `inputs`."""
    args = pulumi.runtime.MockResourceArgs(resource.type, "limit-case", inputs, custom=True)
    try:
        CloudMocks().new_resource(args)
    except ContractViolationError as error:
        return str(error)
    return ""


# --- per-field cases ------------------------------------------------------------------------


@dataclass(frozen=True)
class FieldCase:
    """One per-field rule of one resource type."""

    resource: Resource
    field: Field
    constraint: str

    def __str__(self) -> str:
        return f"{self.resource.type}:{self.field.path}:{self.constraint}"

    def named(self) -> str:
        """How the contract names this rule when it is broken."""
        return REFUSAL[self.constraint].format(**vars(self.field))

    def inputs(self) -> dict[str, Any] | None:
        """An input breaking this rule (None: no value does)."""
        if self.constraint == "required":
            parent = self.field.path.rpartition(".")[0]
            return nest(parent, {}) if parent else {}
        found = breaking_value(self.field, self.constraint)
        return None if found is None else nest(self.field.path, found[0])


def field_cases() -> list[FieldCase]:
    """Every per-field rule of every resource type in the contract."""
    return [
        FieldCase(resource, field, constraint)
        for resource in CONTRACT.values()
        for field in resource.fields
        for constraint in CONSTRAINTS
        if constraint == "kind"
        or (constraint == "required" and field.required)
        or (constraint not in {"kind", "required"} and getattr(field, constraint) is not None)
    ]


FIELD_CASES = field_cases()


@pytest.mark.parametrize("case", FIELD_CASES, ids=str)
def test_a_value_breaking_a_field_rule_is_refused_naming_it(case: FieldCase) -> None:
    inputs = case.inputs()
    assert inputs is not None, f"{case}: no value of the generator breaks it; teach it one"
    refused = refusal(case.resource, inputs)
    assert case.named() in refused, refused
    assert f"({case.field.source})" in refused, refused


@pytest.mark.parametrize(
    "case",
    [c for c in FIELD_CASES if c.constraint in {"minimum", "maximum", "min_length", "max_length"}]
    + [c for c in FIELD_CASES if c.constraint == "multiple_of"],
    ids=str,
)
def test_a_value_at_a_fields_limit_passes_that_rule(case: FieldCase) -> None:
    value = limit_value(case.field, case.constraint)
    assert value is not None, f"{case}: the generator has no value at the limit"
    assert case.named() not in problems_of(case.resource, nest(case.field.path, value))


def test_a_broken_field_rule_is_the_only_problem_of_that_field() -> None:
    """Each value breaks its one rule and no other of its field, where the field allows that."""
    not_alone = []
    for case in FIELD_CASES:
        if case.constraint == "required":
            continue
        found = breaking_value(case.field, case.constraint)
        if found is None or not found[1]:
            not_alone.append(case)
            continue
        lines = refusal(case.resource, nest(case.field.path, found[0])).splitlines()
        own = [line for line in lines if line.endswith(f"({case.field.source})")]
        assert len(own) == 1, (str(case), own)
    # Where a field's pattern bounds the length itself (`[a-z]{0,127}` under max_length 128), a
    # value of the wrong length breaks the pattern too; nothing else may stop a value breaking
    # one rule alone.
    assert [str(c) for c in not_alone if c.field.pattern is None] == []
    assert [c for c in not_alone if c.constraint not in {"min_length", "max_length"}] == []


# --- cross-field rules ----------------------------------------------------------------------

MODULES = (fc3, fc2, storage_contract, identity_access, logs, registry, monitoring)


def _module_literals(resource: Resource) -> list[object]:
    """The short strings and the numbers spelled in the contract module that declares it."""
    module = next(m for m in MODULES if resource in m.RESOURCES)
    literals: list[object] = []
    for node in ast.walk(ast.parse(inspect.getsource(module))):
        if isinstance(node, ast.Constant) and not isinstance(node.value, bool):
            value = node.value
            short_text = isinstance(value, str) and len(value) <= 64 and " " not in value
            if (short_text or isinstance(value, int | float)) and value not in literals:
                literals.append(value)
    return literals


def _typical(resource: Resource, field: Field) -> list[object]:
    """A few values of the field's kind that its own rules take, where it has some."""
    good = [v for v in candidates(field, _item(resource, field)) if not broken(field, v)]
    return good[:2] or [WRONG_KIND[field.kind]]


def _item(resource: Resource, field: Field) -> object:
    """An item for a list field: an object when its items are objects."""
    items = [f for f in resource.fields if f.path == f"{field.path}[]"]
    return {} if items and items[0].kind in {"object", "map"} else "x"


def _pool(resource: Resource, field: Field, literals: list[object]) -> list[object]:
    """Everything tried for the field alone: its candidates, the module's literals, odd text."""
    kinds = [v for v in literals if kind_ok(field.kind, v)]
    extra: list[object] = ["", "not json {", "{}", "[]", "a" * 300, "\u00e9" * 1000, -1, 10**9]
    if field.kind == "map":
        extra += [{"k": str(v)} for v in literals if isinstance(v, str)]
    return [*candidates(field, _item(resource, field)), *kinds, *extra]


def cross_inputs(resource: Resource) -> Iterator[dict[str, Any]]:
    """Inputs to try against the cross-field rules: none set, one field, then two at a time."""
    literals = _module_literals(resource)
    yield {}
    for field in resource.fields:
        for value in _pool(resource, field, literals):
            yield nest(field.path, value)
    typical = [(f, v) for f in resource.fields for v in _typical(resource, f)]
    for (first, one), (second, other) in itertools.combinations(typical, 2):
        if first.path != second.path:
            yield merge(nest(first.path, one), nest(second.path, other))


TAUGHT: dict[str, dict[str, Any]] = {
    # The generator does not derive strings from a check's regular expression.
    "service tag values may not start with aliyun or acs:": {"tags": {"team": "acs:x"}},
    # An HTTP trigger's config: one input per way (keys, authType, methods).
    "an http trigger's triggerConfig: authType, methods from FC's": {
        "triggerType": "http",
        "triggerConfig": '{"authType":"jwt","methods":["GET"]}',
    },
    "an http trigger's config: authType, methods from FC's": {
        "type": "http",
        "config": '{"authType":"anonymous","methods":["TRACE"]}',
    },
}
"""Breaking inputs for rules no generated input reaches, by rule description."""


def _shape(problem: str) -> str:
    """A problem with its numbers and quoted values blanked: one kind of breaking it."""
    return re.sub(r"'[^']*'|\d+(\.\d+)?", "#", problem)


@functools.cache
def breaking_inputs(resource: Resource) -> dict[str, list[tuple[dict[str, Any], str]]]:
    """For each rule (by description), one generated or taught input per way of breaking it.

    A way is a shape of the rule's problem: `exactly one of a, b` broken by none set and by both
    set are two ways, each with its case.
    """
    found: dict[str, dict[str, tuple[dict[str, Any], str]]] = {
        r.description: {} for r in resource.rules
    }
    taught = [TAUGHT[r.description] for r in resource.rules if r.description in TAUGHT]
    for inputs in itertools.chain(cross_inputs(resource), taught):
        for rule in resource.rules:
            problem = rule.check(inputs)
            if problem is not None:
                found[rule.description].setdefault(_shape(problem), (inputs, problem))
    return {description: list(ways.values()) for description, ways in found.items()}


@dataclass(frozen=True)
class RuleCase:
    """One cross-field rule of one resource type."""

    resource: Resource
    rule: Rule

    def __str__(self) -> str:
        return f"{self.resource.type}:{self.rule.description}"

    def ways(self) -> list[tuple[dict[str, Any], str]]:
        """Inputs that break the rule, one per way, with the problem each gives."""
        return breaking_inputs(self.resource)[self.rule.description]


RULE_CASES = [RuleCase(r, rule) for r in CONTRACT.values() for rule in r.rules]


@pytest.mark.parametrize("case", RULE_CASES, ids=str)
def test_an_input_breaking_a_cross_field_rule_is_refused_naming_it(case: RuleCase) -> None:
    ways = case.ways()
    assert ways, f"{case}: no generated input breaks it; teach the generator one (TAUGHT)"
    for inputs, problem in ways:
        refused = refusal(case.resource, inputs)
        assert f"{problem} ({case.rule.source})" in refused, refused


def _value_for(resource: Resource, path: str) -> object:
    """A value the field at `path` takes by its own rules (text when the contract lacks it)."""
    fields = [f for f in resource.fields if f.path == path]
    return _typical(resource, fields[0])[0] if fields else "x"


def _set(resource: Resource, *paths: str) -> dict[str, Any]:
    """An input with each of `paths` set to a value of its own kind."""
    inputs: dict[str, Any] = {}
    for path in paths:
        inputs = merge(inputs, nest(path, _value_for(resource, path)))
    return inputs


def _outside(pattern: str) -> str:
    """A string `pattern` does not match as a whole."""
    texts = _strings(Field("", "string", ""))
    return next(t for t in texts if re.fullmatch(pattern, t) is None)


def builder_ways(  # noqa: PLR0911 - one return per builder
    resource: Resource, rule: Rule
) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """For a rule made by a builder of `provider_contract.rules`, the inputs its kind says must
    break it and those at its limits that must not, from the builder's own arguments.

    This reading is the module's own: a builder made more lenient (`exactly one` taking two)
    fails here even though the search above only finds what the check still refuses.
    """
    builder = rule.check.__qualname__.split(".")[0]
    given = inspect.getclosurevars(rule.check).nonlocals
    if builder == "exactly_one":
        first, second = given["paths"][:2]
        return [{}, _set(resource, first, second)], [_set(resource, first)]
    if builder == "at_least_one":
        return [{}], [_set(resource, given["paths"][0])]
    if builder == "conflicts":
        path = given["path"]
        return [_set(resource, path, other) for other in given["others"]], [_set(resource, path)]
    if builder == "together":
        first, second = given["first"], given["second"]
        return [_set(resource, first), _set(resource, second)], [_set(resource, first, second)]
    path = given.get("path", "")
    if builder == "is_json":
        good = "{}" if given["object_only"] else "[]"
        bad = ["not json {", *(["[]"] if given["object_only"] else [])]
        return [nest(path, b) for b in bad], [nest(path, good)]
    if builder == "matches":
        return [nest(path, _outside(given.get("pattern", "")))], []
    low, high = given.get("low", 0), given.get("high", 0)
    if builder == "length":
        bad = ["a" * (low - 1)] * (low > 0) + ["a" * (high + 1)]
        return [nest(path, b) for b in bad], [nest(path, "a" * low), nest(path, "a" * high)]
    if builder == "between":
        return [nest(path, low - 1), nest(path, high + 1)], [nest(path, low), nest(path, high)]
    return [], []


BUILT = [c for c in RULE_CASES if builder_ways(c.resource, c.rule)[0]]


@pytest.mark.parametrize("case", BUILT, ids=str)
def test_a_builder_rule_refuses_every_way_its_kind_names_and_takes_its_limits(
    case: RuleCase,
) -> None:
    refused, taken = builder_ways(case.resource, case.rule)
    for inputs in refused:
        problem = case.rule.check(inputs)
        assert problem is not None, (str(case), inputs)
        assert f"{problem} ({case.rule.source})" in refusal(case.resource, inputs)
    for inputs in taken:
        assert case.rule.check(inputs) is None, (str(case), inputs)


def test_every_rule_table_entry_is_reached() -> None:
    """Every per-field rule and every cross-field rule of every type gets a breaking input."""
    unreached = [str(c) for c in FIELD_CASES if c.inputs() is None]
    unreached += [str(c) for c in RULE_CASES if not c.ways()]
    assert unreached == []
    assert {c.resource.type for c in FIELD_CASES} == set(CONTRACT)
    assert len(RULE_CASES) == sum(len(r.rules) for r in CONTRACT.values())
    assert len(BUILT) > len(RULE_CASES) / 2, "the builders' rules are read from their arguments"
