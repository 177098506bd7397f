"""Pulumi.yaml and the committed stack files, held to the Pulumi engine's own rules.

No Pulumi CLI runs on the test machines, so the rules are transcribed from Pulumi's Go source:
pulumi/pulumi at commit 1b5949891b3cefcb9974752b24a5ecef0acc86c8 (all `pulumi/...` paths below are
at that commit; line numbers are approximate anchors, the function names are the reference).
Every check is a pure function of a directory holding Pulumi.yaml and Pulumi.<stack>.yaml files,
so the negative cases run the very same functions on deliberately broken files in tmp_path.

Where a check is stricter than Pulumi (undeclared project keys, unknown stack-file keys, empty
values, one key set twice), its message says so.
"""

from __future__ import annotations

import datetime as dt
import math
import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Final, TypeAlias

import pytest
import yaml

if TYPE_CHECKING:
    from collections.abc import Callable, Iterator

pytestmark = pytest.mark.unit

REPO = Path(__file__).resolve().parent.parent
PULUMI_COMMIT = "1b5949891b3cefcb9974752b24a5ecef0acc86c8"

# Declared keys with no default that no committed stack sets, because the program cannot run without
# them and the user sets them per machine. Keep this list short and explain each entry.
REQUIRED_WITHOUT_DEFAULT: Final = frozenset(
    {
        # `pulumi config set --secret githubToken`: a personal token, never committed in clear.
        "githubToken",
    }
)

# ------------------------------------------------------------------------------------------------
# YAML as Pulumi reads it.
#
# Pulumi decodes both file kinds with gopkg.in/yaml.v3 (pulumi sdk/go/common/encoding/marshal.go,
# `yamlMarshaler.Unmarshal`; sdk/go.mod pins v3.0.1). PyYAML speaks YAML 1.1, which differs from
# yaml.v3's scalar resolution (go-yaml/yaml resolve.go, `resolve`) in ways that change a config
# value's type, so the loader below swaps the differing implicit resolvers:
# - booleans are only true/True/TRUE/false/False/FALSE (`yes`, `on`, `no`, `off` stay strings);
# - integers and floats have no base-60 form (`1:30` stays a string), `0o17` is an integer and a
#   float needs no dot (`1e3`, and `09`, which is not octal, are floats);
# - `=` is a plain string.
# yaml.v3's `Unmarshal` rejects a mapping key given twice ("mapping key ... already defined",
# go-yaml/yaml decode.go, `decoder.mapping` with uniqueKeys), which PyYAML silently accepts.
# ------------------------------------------------------------------------------------------------

_BOOL_TAG = "tag:yaml.org,2002:bool"
_INT_TAG = "tag:yaml.org,2002:int"
_FLOAT_TAG = "tag:yaml.org,2002:float"
_VALUE_TAG = "tag:yaml.org,2002:value"


class GoYamlLoader(yaml.SafeLoader):
    """PyYAML's safe loader, resolving plain scalars the way gopkg.in/yaml.v3 does."""


GoYamlLoader.yaml_implicit_resolvers = {
    first: [
        (tag, regexp)
        for tag, regexp in resolvers
        if tag not in {_BOOL_TAG, _INT_TAG, _FLOAT_TAG, _VALUE_TAG}
    ]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}
GoYamlLoader.add_implicit_resolver(
    _BOOL_TAG, re.compile(r"^(?:true|True|TRUE|false|False|FALSE)$"), list("tTfF")
)
GoYamlLoader.add_implicit_resolver(
    _INT_TAG,
    re.compile(r"^[-+]?(?:0b[01_]+|0o[0-7_]+|0x[0-9a-fA-F_]+|0[0-7_]*|[1-9][0-9_]*)$"),
    list("-+0123456789"),
)
GoYamlLoader.add_implicit_resolver(
    _FLOAT_TAG,
    re.compile(
        r"^(?:[-+]?(?:\.[0-9_]+|[0-9][0-9_]*(?:\.[0-9_]*)?)(?:[eE][-+]?[0-9]+)?"
        r"|[-+]?\.(?:inf|Inf|INF)|\.(?:nan|NaN|NAN))$"
    ),
    list("-+0123456789."),
)


def _duplicate_key_errors(node: yaml.Node, seen: set[int]) -> Iterator[str]:
    if id(node) in seen:
        return
    seen.add(id(node))
    if isinstance(node, yaml.MappingNode):
        first_line: dict[tuple[str, str], int] = {}
        for key, _ in node.value:
            if isinstance(key, yaml.ScalarNode):
                line, ident = key.start_mark.line + 1, (type(key).__name__, key.value)
                if ident in first_line:
                    where = first_line[ident]
                    yield f"line {line}: mapping key {key.value!r} already defined at line {where}"
                else:
                    first_line[ident] = line
        children = [child for pair in node.value for child in pair]
    elif isinstance(node, yaml.SequenceNode):
        children = list(node.value)
    else:
        children = []
    for child in children:
        yield from _duplicate_key_errors(child, seen)


def load_yaml(text: str) -> object:
    """The document as yaml.v3 would decode it; ValueError when yaml.v3 would refuse it."""
    loader = GoYamlLoader(text)
    try:
        node = loader.get_single_node()
        if node is None:
            return None
        duplicates = list(_duplicate_key_errors(node, set()))
        if duplicates:
            raise ValueError("; ".join(duplicates))
        data: object = loader.construct_document(node)
    except yaml.YAMLError as error:
        raise ValueError(str(error)) from error
    finally:
        loader.dispose()
    return data


def load_yaml_file(path: Path) -> object:
    try:
        return load_yaml(path.read_text(encoding="utf-8-sig"))
    except ValueError as error:
        raise ValueError(f"{path.name}: {error}") from error


def load_project(root: Path) -> dict[object, object]:
    project = load_yaml_file(root / "Pulumi.yaml")
    if not isinstance(project, dict):
        # pulumi sdk/go/common/workspace/project.go, `SimplifyMarshalledProject`.
        raise TypeError(f"expected project to be an object, was {type(project).__name__}")
    return project


def project_name(project: Mapping[object, object]) -> str:
    name = project.get("name")
    return name if isinstance(name, str) else ""


def stack_files(root: Path, project: Mapping[object, object]) -> list[Path]:
    """Pulumi.<stack>.yaml files, in `stackConfigDir` when the project sets one."""
    # pulumi sdk/go/common/workspace/project.go (`Project.StackConfigDir`): stack files live in
    # that directory, relative to Pulumi.yaml, when it is set.
    directory = project.get("stackConfigDir")
    where = root / directory if isinstance(directory, str) and directory else root
    return sorted(where.glob("Pulumi.*.yaml"))


def stack_name(path: Path) -> str:
    return path.name.removeprefix("Pulumi.").removesuffix(".yaml")


# ------------------------------------------------------------------------------------------------
# Rule 1: Pulumi.yaml against Pulumi's project schema.
#
# `jsonschema` is not installed in .venv (and adding it is not this file's call), so the schema is
# transcribed from pulumi sdk/go/common/workspace/project.json (JSON Schema draft 2020-12) and
# evaluated by the small validator below, which implements exactly the keywords that file uses:
# type, minLength, const, enum, required, properties, additionalProperties, items, oneOf, $ref,
# if/then. The transcription is complete for the top level and everything under `config` and
# `runtime`; `template`, `packages` and `plugins` are checked for their type only, and
# test_pulumi_yaml_stays_within_the_transcribed_schema fails if Pulumi.yaml starts using them.
# ------------------------------------------------------------------------------------------------

Schema: TypeAlias = Mapping[str, object]

_NULLABLE_STRING: Final[Schema] = {"type": ["string", "null"]}
SHALLOW_TOP_LEVEL_KEYS: Final = frozenset({"template", "packages", "plugins"})

PROJECT_SCHEMA: Final[Schema] = {
    # project.json lines 1-267: the root.
    "type": "object",
    "required": ["name"],
    "additionalProperties": True,
    "properties": {
        "name": {"type": "string", "minLength": 1},
        "description": _NULLABLE_STRING,
        "author": _NULLABLE_STRING,
        "website": _NULLABLE_STRING,
        "license": _NULLABLE_STRING,
        "runtime": {
            "oneOf": [
                {"type": "string", "minLength": 1},
                {
                    "type": "object",
                    "properties": {
                        "name": {"type": "string", "minLength": 1},
                        "options": {"type": "object", "additionalProperties": True},
                    },
                    "additionalProperties": False,
                },
            ]
        },
        "main": _NULLABLE_STRING,
        "config": {
            "type": ["object", "string", "null"],
            # Sic: project.json types a config key literally named `secret` as a boolean.
            "properties": {"secret": {"type": "boolean"}},
            "additionalProperties": {
                "oneOf": [
                    {"type": "string"},
                    {"type": "integer"},
                    {"type": "boolean"},
                    {"type": "array"},
                    {"$ref": "#/$defs/configTypeDeclaration"},
                ]
            },
        },
        "stackConfigDir": _NULLABLE_STRING,
        "backend": {
            "type": ["object", "null"],
            "properties": {"url": {"type": "string"}},
            "additionalProperties": False,
        },
        "options": {
            "type": ["object", "null"],
            "properties": {"refresh": {"type": "string", "const": "always"}},
            "additionalProperties": False,
        },
        # Type only (see above).
        "template": {"type": ["object", "null"]},
        "packages": {"type": "object"},
        "plugins": {"type": "object"},
    },
    "$defs": {
        # project.json `$defs` (lines 268-400).
        "simpleConfigType": {"enum": ["string", "integer", "boolean", "array", "object"]},
        "configItemsType": {
            "type": "object",
            "required": ["type"],
            "properties": {
                "type": {
                    "oneOf": [
                        {"$ref": "#/$defs/simpleConfigType"},
                        {"$ref": "#/$defs/configItemsType"},
                    ]
                },
                "items": {"$ref": "#/$defs/configItemsType"},
            },
            "if": {"properties": {"type": {"const": "array"}}},
            "then": {"required": ["items"]},
        },
        "configTypeDeclaration": {
            "type": "object",
            "additionalProperties": False,
            "properties": {
                "type": {"$ref": "#/$defs/simpleConfigType"},
                "items": {"$ref": "#/$defs/configItemsType"},
                "description": {"type": "string"},
                "secret": {"type": "boolean"},
                "default": {},
                "value": {},
            },
        },
    },
}


_JSON_TYPES: Final = (
    (type(None), "null"),
    (bool, "boolean"),  # before int: a Python bool is an int
    (int, "integer"),
    (str, "string"),
    (list, "array"),
    (dict, "object"),
)


def json_type(value: object) -> str:
    """The JSON Schema type of a decoded YAML value (a whole float is an integer in 2020-12)."""
    if isinstance(value, float):
        return "integer" if value.is_integer() else "number"
    for python_type, name in _JSON_TYPES:
        if isinstance(value, python_type):
            return name
    return type(value).__name__


def _json_equal(left: object, right: object) -> bool:
    return json_type(left) == json_type(right) and left == right


def _strings(schema: Schema, keyword: str) -> list[str]:
    found = schema.get(keyword)
    if isinstance(found, str):
        return [found]
    return [item for item in found if isinstance(item, str)] if isinstance(found, list) else []


def _subschema(schema: Schema, keyword: str) -> Schema | None:
    found = schema.get(keyword)
    return found if isinstance(found, dict) else None


def _subschemas(schema: Schema, keyword: str) -> list[Schema]:
    found = schema.get(keyword)
    return [item for item in found if isinstance(item, dict)] if isinstance(found, list) else []


def _resolve(schema: Schema) -> Schema:
    ref = schema.get("$ref")
    if not isinstance(ref, str):
        return schema
    definitions = _subschema(PROJECT_SCHEMA, "$defs")
    target = _subschema(definitions or {}, ref.removeprefix("#/$defs/"))
    if target is None:
        raise KeyError(ref)
    return target


def _pointer(path: str, key: object) -> str:
    return f"{path}/{str(key).replace('~', '~0').replace('/', '~1')}"


def _type_error(value: object, schema: Schema, path: str) -> str | None:
    allowed = _strings(schema, "type")
    if not allowed or json_type(value) in allowed:
        return None
    return f"{path}: expected {' or '.join(allowed)}, but got {json_type(value)}"


def _value_errors(value: object, schema: Schema, path: str) -> list[str]:
    errors = []
    if "const" in schema and not _json_equal(value, schema["const"]):
        errors.append(f"{path}: value must be {schema['const']!r}")
    choices = schema.get("enum")
    if isinstance(choices, list) and not any(_json_equal(value, choice) for choice in choices):
        errors.append(f"{path}: value must be one of {choices!r}, got {value!r}")
    minimum = schema.get("minLength")
    if isinstance(value, str) and isinstance(minimum, int) and len(value) < minimum:
        errors.append(f"{path}: length must be >= {minimum}, but got {len(value)}")
    return errors


def _object_errors(value: object, schema: Schema, path: str) -> list[str]:
    if not isinstance(value, dict):
        return []
    errors = [
        f"{path}: missing properties: '{name}'"
        for name in _strings(schema, "required")
        if name not in value
    ]
    properties = _subschema(schema, "properties") or {}
    additional = schema.get("additionalProperties", True)
    for key, item in value.items():
        declared = properties.get(key) if isinstance(key, str) else None
        if isinstance(declared, dict):
            errors += schema_errors(item, declared, _pointer(path, key))
        elif additional is False:
            errors.append(f"{path}: additionalProperties '{key}' not allowed")
        elif isinstance(additional, dict):
            errors += schema_errors(item, additional, _pointer(path, key))
    return errors


def _array_errors(value: object, schema: Schema, path: str) -> list[str]:
    items = _subschema(schema, "items")
    if not isinstance(value, list) or items is None:
        return []
    return [e for i, item in enumerate(value) for e in schema_errors(item, items, f"{path}/{i}")]


def _one_of_errors(value: object, schema: Schema, path: str) -> list[str]:
    alternatives = _subschemas(schema, "oneOf")
    if not alternatives:
        return []
    results = [schema_errors(value, alternative, path) for alternative in alternatives]
    valid = sum(not result for result in results)
    if valid == 1:
        return []
    if valid > 1:
        return [f"{path}: valid against {valid} oneOf alternatives, must be exactly one"]
    # Keep what went wrong inside the alternative of the right type, not "expected string" etc.
    specific = [e for result in results for e in result if not e.startswith(f"{path}: expected ")]
    return specific or [f"{path}: a(n) {json_type(value)} matches none of the oneOf alternatives"]


def _conditional_errors(value: object, schema: Schema, path: str) -> list[str]:
    condition, then = _subschema(schema, "if"), _subschema(schema, "then")
    if condition is None or then is None or schema_errors(value, condition, path):
        return []
    return schema_errors(value, then, path)


def schema_errors(value: object, schema: Schema, path: str = "#") -> list[str]:
    """Where `value` breaks `schema`, as `#/json/pointer: message` (Pulumi's own format)."""
    schema = _resolve(schema)
    type_error = _type_error(value, schema, path)
    if type_error is not None:
        return [type_error]
    return [
        *_value_errors(value, schema, path),
        *_object_errors(value, schema, path),
        *_array_errors(value, schema, path),
        *_one_of_errors(value, schema, path),
        *_conditional_errors(value, schema, path),
    ]


def _non_string_keys(value: object, path: str) -> Iterator[str]:
    # pulumi sdk/go/common/workspace/project.go, `SimplifyMarshalledValue`: every mapping key in
    # Pulumi.yaml must be a string.
    if isinstance(value, dict):
        for key, item in value.items():
            if not isinstance(key, str):
                yield f"{path}: expected only string keys, got {key!r}"
            yield from _non_string_keys(item, _pointer(path, key))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from _non_string_keys(item, f"{path}/{index}")


def _project_name_errors(project: Mapping[object, object]) -> list[str]:
    # pulumi sdk/go/common/workspace/project.go, `ValidateProject` (about line 577): a missing or
    # empty name is reported before the schema runs.
    if "name" not in project:
        return ["project is missing a 'name' attribute"]
    name = project["name"]
    if not isinstance(name, str) or not name:
        return ["project is missing a non-empty string 'name' attribute"]
    # pulumi sdk/go/common/tokens/project.go, `ValidateProjectName` (IsName: [A-Za-z0-9_.-]+),
    # enforced when a stack is created (pkg/backend/httpstate/backend.go, `validateProjectName`).
    if len(name) > 100:
        return ["project names are limited to 100 characters"]
    if re.fullmatch(r"[A-Za-z0-9_.-]+", name) is None:
        return ["project names may only contain alphanumerics, hyphens, underscores, and periods"]
    return []


def project_schema_errors(project: object) -> list[str]:
    """Rule 1 on a decoded Pulumi.yaml: what Pulumi's `ValidateProject` would refuse."""
    if not isinstance(project, dict):
        return [f"expected project to be an object, was {json_type(project)}"]
    errors = [*_non_string_keys(project, "#"), *_project_name_errors(project)]
    errors += schema_errors(project, PROJECT_SCHEMA)
    # pulumi sdk/go/common/workspace/project.go, `RewriteConfigPathIntoStackConfigDir`.
    if isinstance(project.get("config"), str) and "stackConfigDir" in project:
        errors.append(
            "Should not use both config and stackConfigDir to define the stack directory. "
            "Use only stackConfigDir instead."
        )
    return errors


def check_project_schema(root: Path) -> list[str]:
    """Rule 1: Pulumi.yaml in `root` decodes and matches Pulumi's project schema."""
    try:
        project = load_yaml_file(root / "Pulumi.yaml")
    except ValueError as error:
        return [str(error)]
    return project_schema_errors(project)


# ------------------------------------------------------------------------------------------------
# Rule 2: the config declarations, as pulumi sdk/go/common/workspace/project.go `Project.Validate`
# checks them after `LoadProjectBytes` (sdk/go/common/workspace/loaders.go) rewrote the shorthand
# forms (`RewriteShorthandConfigValues`).
# ------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ItemsType:
    """`ProjectConfigItemsType` (project.go): an array's element type."""

    type: str
    items: ItemsType | None


@dataclass(frozen=True)
class Declaration:
    """`ProjectConfigType` (project.go). `None` means absent, as Go's nil `any` does."""

    key: str
    type: str | None
    items: ItemsType | None
    default: object
    value: object
    secret: bool


def namespaced_by_project(project: str, key: str) -> bool:
    # project.go, `configKeyIsNamespacedByProject`.
    return ":" not in key or key.startswith(f"{project}:")


def parse_config_key(project: str, key: str) -> tuple[str, str]:
    """(namespace, name) of a config key; ValueError when Pulumi cannot parse it."""
    # pulumi pkg/workspace/config.go `parseConfigKey` and sdk/go/common/workspace/loaders.go
    # `stackConfigNamespacedWithProject`: a key without a colon is in the project's namespace.
    # Otherwise sdk/go/common/resource/config/key.go `ParseKey`: `<namespace>:<name>`, or the
    # legacy `<namespace>:config:<name>`.
    parts = key.split(":")
    if len(parts) == 1:
        return project, key
    if len(parts) == 2:
        return parts[0], parts[1]
    if len(parts) == 3 and parts[1] == "config":
        return parts[0], parts[2]
    raise ValueError(
        f"could not parse {key} as a configuration key "
        "(configuration keys should be of the form `<namespace>:<name>`)"
    )


def _items_type(raw: object) -> ItemsType | None:
    if not isinstance(raw, dict):
        return None
    kind = raw.get("type")
    return ItemsType(kind if isinstance(kind, str) else "", _items_type(raw.get("items")))


def _declaration(project: str, key: str, raw: object) -> Declaration | str:
    # loaders.go/project.go `RewriteShorthandConfigValues`: a bare string, integer, boolean or list
    # is a `default` for a project key and a `value` for another namespace's key. Anything else
    # (a float) is left alone and then fails to decode into `ProjectConfigType`.
    if isinstance(raw, str | int | list):
        raw = {"default": raw} if namespaced_by_project(project, key) else {"value": raw}
    if raw is None:
        raw = {}  # yaml.v3 leaves the struct at its zero value
    if not isinstance(raw, dict):
        return (
            f"Configuration key '{key}': Pulumi cannot load the shorthand value {raw!r} "
            f"(a {type(raw).__name__}); write a string, an integer, a boolean or a list"
        )
    kind = raw.get("type")
    return Declaration(
        key=key,
        type=kind if isinstance(kind, str) else None,
        items=_items_type(raw.get("items")),
        default=raw.get("default"),
        value=raw.get("value"),
        secret=raw.get("secret") is True,
    )


def declarations(project: Mapping[object, object]) -> tuple[list[Declaration], list[str]]:
    """The config declarations after Pulumi's rewrites, and those Pulumi could not load."""
    config = project.get("config")
    if not isinstance(config, dict):  # a string is the deprecated stackConfigDir; null is none
        return [], []
    found: list[Declaration] = []
    errors: list[str] = []
    for key, raw in config.items():
        parsed = _declaration(project_name(project), str(key), raw)
        if isinstance(parsed, str):
            errors.append(parsed)
        else:
            found.append(parsed)
    return found, errors


_GO_DECIMAL = re.compile(r"[+-]?[0-9]+")


def _go_atoi(text: str) -> bool:
    """Whether Go's strconv.Atoi accepts `text` (64-bit int)."""
    return _GO_DECIMAL.fullmatch(text) is not None and -(2**63) <= int(text) < 2**63


def _is_go_integer(value: object) -> bool:
    if isinstance(value, bool):
        return False
    if isinstance(value, int):
        return True
    if isinstance(value, float):
        # Go accepts f == math.Trunc(f), which holds for the infinities too.
        return math.isinf(value) or value.is_integer()
    return isinstance(value, str) and _go_atoi(value)


def _is_go_boolean(value: object) -> bool:
    return isinstance(value, bool) or (isinstance(value, str) and value in {"true", "false"})


_SCALAR_CHECKS: Final[Mapping[str, Callable[[object], bool]]] = {
    "string": lambda value: isinstance(value, str),
    "integer": _is_go_integer,
    "boolean": _is_go_boolean,
    "object": lambda value: isinstance(value, dict),
}


def validate_config_value(kind: str, items: ItemsType | None, value: object) -> bool:
    """project.go `ValidateConfigValue`, for defaults and (decoded) stack values alike."""
    if isinstance(value, _Unknown):
        return True  # an encrypted stack value: its plaintext is not known here
    scalar_check = _SCALAR_CHECKS.get(kind)
    if scalar_check is not None:
        return scalar_check(value)
    # Any other type name, "array" included, must be a list whose items have `items`' type.
    if not isinstance(value, list) or items is None:
        return False
    return all(validate_config_value(items.type, items.items, item) for item in value)


def full_type_name(kind: str, items: ItemsType | None) -> str:
    # project.go, `InferFullTypeName`.
    return f"array<{full_type_name(items.type, items.items)}>" if items else kind


def _project_key_errors(declaration: Declaration) -> list[str]:
    key, kind = declaration.key, declaration.type
    errors = []
    if kind == "array" and declaration.items is None:
        errors.append(
            f"The configuration key '{key}' declares an array but does not specify the "
            "underlying type via the 'items' attribute"
        )
    default = declaration.default
    if kind is not None and default is not None:  # noqa: SIM102 - the nesting mirrors project.go
        if not validate_config_value(kind, declaration.items, default):
            errors.append(
                f"The default value specified for configuration key '{key}' is not of the "
                f"expected type '{full_type_name(kind, declaration.items)}' (got {default!r})"
            )
    return errors


def _foreign_key_errors(declaration: Declaration) -> list[str]:
    key = declaration.key
    errors = []
    if declaration.type is not None:
        errors.append(
            f"Configuration key '{key}' is not namespaced by the project and should not define "
            "a type"
        )
    if declaration.default is not None:
        errors.append(
            f"Configuration key '{key}' is not namespaced by the project and should not define "
            "a default value. Did you mean to use the 'value' attribute instead of 'default'?"
        )
    if declaration.value is None:
        errors.append(
            f"Configuration key '{key}' is namespaced and must provide an attribute 'value'"
        )
    return errors


def declaration_errors(project: str, declaration: Declaration) -> list[str]:
    """project.go `Project.Validate` for one key (Pulumi stops at the first; this lists all)."""
    errors = []
    if declaration.default is not None and declaration.value is not None:
        errors.append(
            f"project config '{declaration.key}' cannot have both a 'default' and 'value' attribute"
        )
    if namespaced_by_project(project, declaration.key):
        errors += _project_key_errors(declaration)
    else:
        errors += _foreign_key_errors(declaration)
    return errors


def check_config_declarations(root: Path) -> list[str]:
    """Rule 2: every declaration in root/Pulumi.yaml passes Pulumi's project validation."""
    project = load_project(root)
    found, errors = declarations(project)
    for declaration in found:
        errors += declaration_errors(project_name(project), declaration)
    return errors


# ------------------------------------------------------------------------------------------------
# Stack files, as sdk/go/common/workspace/loaders.go `LoadProjectStackBytes` reads them.
# ------------------------------------------------------------------------------------------------

# project.go, `ProjectStack`: the fields a stack file has. yaml.v3 ignores any other key, so a typo
# such as `confg:` silently drops the whole config; this test is stricter and rejects it.
STACK_FILE_KEYS: Final = frozenset(
    {"secretsprovider", "encryptedkey", "encryptionsalt", "config", "environment"}
)


@dataclass(frozen=True)
class StackEntry:
    raw_key: str
    value: object


@dataclass(frozen=True)
class Stack:
    name: str
    file: str
    entries: dict[tuple[str, str], StackEntry]
    has_environment: bool


def _read_entries(
    project: str, config: Mapping[object, object], file: str
) -> tuple[dict[tuple[str, str], StackEntry], list[str]]:
    entries: dict[tuple[str, str], StackEntry] = {}
    errors = []
    for raw, value in config.items():
        raw_key = str(raw)
        try:
            key = parse_config_key(project, raw_key)
        except ValueError as error:
            errors.append(f"{file}: {error}")
            continue
        if key in entries:
            # loaders.go `stackConfigNamespacedWithProject` namespaces bare keys into a Go map,
            # so which of the two wins is random. Pulumi does not report it; this test does.
            errors.append(
                f"{file}: '{raw_key}' and '{entries[key].raw_key}' set the same key "
                "(stricter than Pulumi, which keeps one of them at random)"
            )
        entries[key] = StackEntry(raw_key, value)
    return entries, errors


def read_stack(project: str, path: Path) -> tuple[Stack, list[str]]:
    """The stack in `path`, and what in the file Pulumi (or this test) rejects."""
    empty = Stack(stack_name(path), path.name, {}, has_environment=False)
    try:
        raw = load_yaml_file(path)
    except ValueError as error:
        return empty, [str(error)]
    if raw is None:  # loaders.go: an empty stack file is an empty stack
        return empty, []
    if not isinstance(raw, dict):
        return empty, [f"{path.name}: expected a mapping, was {json_type(raw)}"]
    errors = [
        f"{path.name}: unknown top-level key '{key}' (yaml.v3 ignores it; this test does not)"
        for key in raw
        if key not in STACK_FILE_KEYS
    ]
    config = raw.get("config")
    if config is None:
        config = {}
    if not isinstance(config, dict):
        return empty, [*errors, f"{path.name}: `config` must be a mapping"]
    entries, entry_errors = _read_entries(project, config, path.name)
    stack = Stack(stack_name(path), path.name, entries, has_environment="environment" in raw)
    return stack, errors + entry_errors


def read_stacks(root: Path) -> tuple[Mapping[object, object], list[Stack], list[str]]:
    project = load_project(root)
    stacks: list[Stack] = []
    errors: list[str] = []
    for path in stack_files(root, project):
        stack, stack_errors = read_stack(project_name(project), path)
        stacks.append(stack)
        errors += stack_errors
    return project, stacks, errors


# ------------------------------------------------------------------------------------------------
# Rule 3: pulumi pkg/workspace/config.go `mergeConfig` (called by
# `ValidateStackConfigAndApplyProjectConfig` before up/preview/refresh/destroy/import/watch/logs):
# a key in the project's namespace with neither `default` nor `value` that the stack does not set
# fails the run with "Stack '<stack>' is missing configuration value(s) ..."
# (`missingStackConfigurationKeysError`, `formatMissingKeys`).
# ------------------------------------------------------------------------------------------------


def _format_missing(keys: list[str]) -> str:
    # config.go, `formatMissingKeys`.
    if len(keys) == 1:
        return f"'{keys[0]}'"
    quoted = [f"'{key}'" for key in sorted(keys)]
    return f"{', '.join(quoted[:-1])} and {quoted[-1]}"


def missing_value_errors(
    project: Mapping[object, object],
    stacks: list[Stack],
    required: frozenset[str],
) -> list[str]:
    name = project_name(project)
    found, _ = declarations(project)
    errors = []
    for stack in stacks:
        missing = []
        for declaration in found:
            try:
                key = parse_config_key(name, declaration.key)
            except ValueError:
                continue  # rule 2's to report
            if declaration.default is not None or declaration.value is not None:
                continue
            if key[0] == name and key not in stack.entries and key[1] not in required:
                missing.append(declaration.key)
        if not missing:
            continue
        plural = "value" if len(missing) == 1 else "values"
        hint = " (its ESC environment may set it; this test cannot see that)"
        errors.append(
            f"Stack '{stack.name}' is missing configuration {plural} {_format_missing(missing)}: "
            f"declared in Pulumi.yaml without a default and not set in {stack.file}"
            f"{hint if stack.has_environment else ''}. Give it a default (a secret key's default "
            "is applied unencrypted and then refused, see the stack value check), set it in the "
            "stack file, or list it in REQUIRED_WITHOUT_DEFAULT if the program cannot run "
            "without it"
        )
    return errors


def check_missing_values(
    root: Path, required: frozenset[str] = REQUIRED_WITHOUT_DEFAULT
) -> list[str]:
    """Rule 3: every stack sets every project key that has no default (unless `required`)."""
    project, stacks, _ = read_stacks(root)
    return missing_value_errors(project, stacks, required)


# ------------------------------------------------------------------------------------------------
# Rule 4: stack values against their declarations, pulumi pkg/workspace/config.go
# `validateStackConfigValues` / `validateStackConfigValue` (run by `mergeConfig` after it applied
# the project defaults), with values decoded as sdk/go/common/resource/config/object.go
# (`unmarshalObject`, `MarshalString`) and value.go (`Value.Secure`, `Value.Object`) do:
# - `{secure: <ciphertext>}` is an encrypted value; its content cannot be checked without the key;
# - any other scalar becomes its text (`256` -> "256", `true` -> "true"), so a string key accepts
#   any scalar, an integer key any text strconv.Atoi parses, a boolean key only "true"/"false";
# - a list or mapping is JSON and checked structurally (an array's items by their own type).
# ------------------------------------------------------------------------------------------------


class _Unknown:
    """An encrypted value's content: not checkable here."""


UNKNOWN: Final = _Unknown()


def _is_secure(value: object) -> bool:
    # object.go, `isSecureValue`: a mapping with the single key `secure` holding a string.
    return isinstance(value, dict) and len(value) == 1 and isinstance(value.get("secure"), str)


def _contains_secure(value: object) -> bool:
    if _is_secure(value):
        return True
    if isinstance(value, dict):
        return any(_contains_secure(item) for item in value.values())
    return isinstance(value, list) and any(_contains_secure(item) for item in value)


def _as_json(value: object) -> object:
    # What json.Unmarshal gives back for an object value (object.go turns times into strings);
    # an encrypted part decrypts to text this test cannot know.
    if _is_secure(value):
        return UNKNOWN
    if isinstance(value, dict):
        return {str(key): _as_json(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_as_json(item) for item in value]
    if isinstance(value, dt.date):
        return str(value)
    return value


def _scalar_text(value: object) -> str:
    # object.go `MarshalString`: JSON text for bool/number, the string itself for a string; a null
    # is read as "" (loaders.go `checkForEmptyConfig`).
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float) and math.isfinite(value) and value.is_integer():
        return str(int(value)) if abs(value) < 1e21 else repr(value)
    return str(value)


def stack_value(value: object) -> tuple[bool, object]:
    """(secure, content as validateStackConfigValue sees it) for a raw stack-file value."""
    if isinstance(value, dict | list):
        return _contains_secure(value), _as_json(value)
    return False, _scalar_text(value)


def default_value(value: object) -> tuple[bool, object]:
    """(secure, content) of a project default/value that `mergeConfig` applies to a stack."""
    # config.go `createConfigValue`: a string, integer or boolean becomes its text; anything else
    # JSON. Never secure.
    if isinstance(value, str | int):
        return False, _scalar_text(value)
    return False, _as_json(value)


_PLAINTEXT_DEFAULT: Final = (
    "the project default, which Pulumi applies unencrypted: a secret key can only have a default "
    "if every stack sets it encrypted; otherwise drop `secret: true` (a value set with "
    "`pulumi config set --secret` stays accepted) or the default"
)


def _typed_value_error(stack: Stack, declaration: Declaration, project: str) -> str | None:
    key = parse_config_key(project, declaration.key)
    entry = stack.entries.get(key)
    applied = declaration.value if declaration.default is None else declaration.default
    if entry is not None:
        (secure, content), origin = stack_value(entry.value), f"{stack.file} sets {entry.value!r}"
    elif applied is not None:
        (secure, content), origin = default_value(applied), _PLAINTEXT_DEFAULT
    else:
        return None  # missing: rule 3
    prefix = f"Stack '{stack.name}' with configuration key '{declaration.key}'"
    if declaration.secret and not secure:
        return f"{prefix} must be encrypted as it's secret ({origin})"
    if declaration.type is None:
        return None
    if not validate_config_value(declaration.type, declaration.items, content):
        kind = full_type_name(declaration.type, declaration.items)
        return f"{prefix} must be of type '{kind}' ({origin})"
    return None


def _entry_errors(stack: Stack, project: str, declared: set[tuple[str, str]]) -> list[str]:
    errors = []
    for key, entry in stack.entries.items():
        if key[0] == project and key not in declared:
            # Pulumi validates only the declared keys (config.go `validateStackConfigValues`
            # iterates project.Config) and passes an undeclared one to the program. This test
            # rejects it as a typo.
            errors.append(
                f"{stack.file}: '{entry.raw_key}' is not declared in Pulumi.yaml "
                "(Pulumi accepts undeclared project keys; this test rejects them as typos)"
            )
        if entry.value is None:
            # loaders.go `checkForEmptyConfig` warns and reads it as ""; this test rejects it.
            errors.append(
                f"{stack.file}: No value for configuration key '{entry.raw_key}' "
                '(Pulumi warns and reads it as ""; set a value or remove the key)'
            )
    return errors


def stack_value_errors(project: Mapping[object, object], stacks: list[Stack]) -> list[str]:
    name = project_name(project)
    found, _ = declarations(project)
    declared: set[tuple[str, str]] = set()
    for declaration in found:
        try:
            declared.add(parse_config_key(name, declaration.key))
        except ValueError:
            continue  # rule 2's to report
    errors = []
    for stack in stacks:
        errors += _entry_errors(stack, name, declared)
        for declaration in found:
            if declaration.type is None or not namespaced_by_project(name, declaration.key):
                continue  # config.go checks explicitly typed keys only
            error = _typed_value_error(stack, declaration, name)
            if error is not None:
                errors.append(error)
    return errors


def check_stack_values(root: Path) -> list[str]:
    """Rule 4: the stack files decode, and each value has its declared type and secrecy."""
    project, stacks, errors = read_stacks(root)
    return errors + stack_value_errors(project, stacks)


# ------------------------------------------------------------------------------------------------
# The project's own files.
# ------------------------------------------------------------------------------------------------


def test_the_project_has_committed_stacks() -> None:
    assert stack_files(REPO, load_project(REPO)), "no Pulumi.<stack>.yaml next to Pulumi.yaml"


def test_pulumi_yaml_matches_pulumis_project_schema() -> None:
    assert check_project_schema(REPO) == []


def test_pulumi_yaml_stays_within_the_transcribed_schema() -> None:
    used = SHALLOW_TOP_LEVEL_KEYS & load_project(REPO).keys()
    assert not used, f"transcribe project.json's rules for {sorted(used)} into PROJECT_SCHEMA"


def test_config_declarations_pass_pulumis_project_validation() -> None:
    assert check_config_declarations(REPO) == []


def test_every_key_without_a_default_is_set_by_every_stack() -> None:
    assert check_missing_values(REPO) == []


def test_required_keys_are_declared_without_a_default() -> None:
    project = load_project(REPO)
    found, _ = declarations(project)
    without_default = {
        parse_config_key(project_name(project), d.key)[1]
        for d in found
        if d.default is None and d.value is None
    }
    assert without_default >= REQUIRED_WITHOUT_DEFAULT


def test_stack_values_match_their_declarations() -> None:
    assert check_stack_values(REPO) == []


# ------------------------------------------------------------------------------------------------
# The same checks on deliberately wrong files.
# ------------------------------------------------------------------------------------------------

BASE_PROJECT = """\
name: demo
runtime: python
config:
  size:
    type: integer
    default: 1
"""

TYPED_PROJECT = """\
name: demo
runtime: python
config:
  size:
    type: integer
    default: 1
  enabled:
    type: boolean
    default: true
  label:
    type: string
    default: x
  names:
    type: array
    items:
      type: string
    default: []
  tags:
    type: object
    default: {}
  token:
    type: string
    secret: true
"""


def write_project(root: Path, project: str, stacks: Mapping[str, str]) -> Path:
    (root / "Pulumi.yaml").write_text(project, encoding="utf-8")
    for name, text in stacks.items():
        (root / f"Pulumi.{name}.yaml").write_text(text, encoding="utf-8")
    return root


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("v: yes", "yes"),
        ("v: on", "on"),
        ("v: No", "No"),
        ("v: true", True),
        ("v: FALSE", False),
        ("v: 1:30", "1:30"),
        ("v: 1e3", 1000.0),
        ("v: 09", 9.0),
        ("v: 0o17", 15),
        ("v: 0x1f", 31),
        ("v: 1_000", 1000),
        ("v: =", "="),
        ("v: ~", None),
        ("v: '7'", "7"),
        ("v: 2024-01-02", dt.date(2024, 1, 2)),
    ],
)
def test_yaml_scalars_resolve_as_in_go_yaml_v3(text: str, expected: object) -> None:
    loaded = load_yaml(text)
    assert isinstance(loaded, dict)
    assert loaded["v"] == expected
    assert type(loaded["v"]) is type(expected)


@pytest.mark.parametrize(
    "text", ["a: 1\nb: 2\na: 3\n", "{a: 1, b: 2, a: 3}\n", "x:\n  - {b: 1}\n  - {a: 1, a: 2}\n"]
)
def test_yaml_rejects_a_key_given_twice(text: str) -> None:
    with pytest.raises(ValueError, match=r"mapping key '[ab]' already defined at line"):
        load_yaml(text)


SCHEMA_CASES = [
    ("runtime: python\n", "project is missing a 'name' attribute"),
    ('name: ""\n', "project is missing a non-empty string 'name' attribute"),
    ("name: my project\n", "project names may only contain alphanumerics"),
    ("name: [demo]\n", "#/name: expected string, but got array"),
    ("name: demo\ndescription: 5\n", "#/description: expected string or null"),
    ("name: demo\nruntime: ''\n", "#/runtime: length must be >= 1"),
    (
        "name: demo\nruntime:\n  name: python\n  option: {}\n",
        "#/runtime: additionalProperties 'option' not allowed",
    ),
    ("name: demo\noptions:\n  refresh: sometimes\n", "#/options/refresh: value must be 'always'"),
    (
        "name: demo\nbackend:\n  uri: file://.\n",
        "#/backend: additionalProperties 'uri' not allowed",
    ),
    (
        "name: demo\nconfig:\n  size:\n    type: integer\n    defualt: 1\n",
        "#/config/size: additionalProperties 'defualt' not allowed",
    ),
    ("name: demo\nconfig:\n  size:\n    type: int\n", "#/config/size/type: value must be one of"),
    ("name: demo\nconfig:\n  ratio: 1.5\n", "#/config/ratio: a(n) number matches none"),
    ("name: demo\nconfig:\n  size:\n", "#/config/size: a(n) null matches none"),
    (
        "name: demo\nconfig:\n  token:\n    type: string\n    secret: yes\n",
        "#/config/token/secret: expected boolean, but got string",
    ),
    (
        "name: demo\nconfig:\n  names:\n    type: array\n    items: {}\n",
        "#/config/names/items: missing properties: 'type'",
    ),
    (
        "name: demo\nconfig:\n  names:\n    type: array\n    items:\n      type: array\n",
        "#/config/names/items: missing properties: 'items'",
    ),
    (
        "name: demo\nconfig:\n  names:\n    type: array\n    items:\n      type: strings\n",
        "#/config/names/items/type: value must be one of",
    ),
    ("name: demo\nconfig:\n  secret: on\n", "#/config/secret: expected boolean, but got string"),
    ("name: demo\nconfig:\n  1: x\n", "#/config: expected only string keys, got 1"),
    ("name: demo\nconfig: cfg\nstackConfigDir: cfg\n", "Should not use both config and"),
    ("name: demo\nconfig:\n  a: 1\n  a: 2\n", "mapping key 'a' already defined at line 3"),
    ("- name: demo\n", "expected project to be an object, was array"),
]


@pytest.mark.parametrize(("project", "expected"), SCHEMA_CASES)
def test_schema_check_reports_a_bad_pulumi_yaml(
    tmp_path: Path, project: str, expected: str
) -> None:
    errors = check_project_schema(write_project(tmp_path, project, {}))
    assert any(expected in error for error in errors), errors


@pytest.mark.parametrize("project", [BASE_PROJECT, TYPED_PROJECT])
def test_schema_check_accepts_a_good_pulumi_yaml(tmp_path: Path, project: str) -> None:
    assert check_project_schema(write_project(tmp_path, project, {})) == []


def _config(body: str) -> str:
    return f"name: demo\nruntime: python\nconfig:\n{body}"


DECLARATION_CASES = [
    (
        _config("  size:\n    type: integer\n    default: 1\n    value: 2\n"),
        "project config 'size' cannot have both a 'default' and 'value' attribute",
    ),
    (
        _config("  names:\n    type: array\n    default: []\n"),
        "The configuration key 'names' declares an array but does not specify",
    ),
    (
        _config("  size:\n    type: integer\n    default: abc\n"),
        (
            "default value specified for configuration key 'size' is not of the expected type "
            "'integer'"
        ),
    ),
    (_config("  size:\n    type: integer\n    default: 1.5\n"), "expected type 'integer'"),
    (_config("  size:\n    type: integer\n    default: true\n"), "expected type 'integer'"),
    (_config("  label:\n    type: string\n    default: 5\n"), "expected type 'string'"),
    (_config("  label:\n    type: string\n    default: []\n"), "expected type 'string'"),
    (_config("  on:\n    type: boolean\n    default: yes\n"), "expected type 'boolean'"),
    (_config("  on:\n    type: boolean\n    default: 1\n"), "expected type 'boolean'"),
    (
        _config("  names:\n    type: array\n    items:\n      type: string\n    default: [1]\n"),
        "expected type 'array<string>'",
    ),
    (
        _config("  names:\n    type: array\n    items:\n      type: string\n    default: a\n"),
        "expected type 'array<string>'",
    ),
    (_config("  tags:\n    type: object\n    default: []\n"), "expected type 'object'"),
    (_config("  size: 2.0\n"), "Pulumi cannot load the shorthand value 2.0 (a float)"),
    (
        _config("  aws:region:\n    type: string\n    value: x\n"),
        "'aws:region' is not namespaced by the project and should not define a type",
    ),
    (
        _config("  aws:region:\n    default: x\n"),
        "'aws:region' is not namespaced by the project and should not define a default value",
    ),
    (
        _config("  aws:region:\n    description: x\n"),
        "Configuration key 'aws:region' is namespaced and must provide an attribute 'value'",
    ),
]


@pytest.mark.parametrize(("project", "expected"), DECLARATION_CASES)
def test_declaration_check_reports_a_bad_declaration(
    tmp_path: Path, project: str, expected: str
) -> None:
    errors = check_config_declarations(write_project(tmp_path, project, {}))
    assert any(expected in error for error in errors), errors


@pytest.mark.parametrize(
    "body",
    [
        # Accepted by project.go `ValidateConfigValue`, odd as some look.
        "  size:\n    type: integer\n    default: '12'\n",
        "  size:\n    type: integer\n    default: 3.0\n",
        "  on:\n    type: boolean\n    default: 'true'\n",
        "  names:\n    type: array\n    items:\n      type: integer\n    default: [1, '2']\n",
        "  size: 3\n",
        "  aws:region: us-west-2\n",
        "  demo:size:\n    type: integer\n    default: 1\n",
    ],
)
def test_declaration_check_accepts_what_pulumi_accepts(tmp_path: Path, body: str) -> None:
    assert check_config_declarations(write_project(tmp_path, _config(body), {})) == []


MISSING_CASES = [
    (
        _config("  size:\n    type: integer\n"),
        {"dev": "config: {}\n"},
        ["Stack 'dev' is missing configuration value 'size'"],
    ),
    (
        _config("  b:\n    type: string\n  a:\n    type: string\n  c:\n    type: string\n"),
        {"dev": ""},
        ["Stack 'dev' is missing configuration values 'a', 'b' and 'c'"],
    ),
    (
        _config("  size:\n    type: integer\n"),
        {"dev": "config:\n  demo:size: 3\n", "prod": "config:\n  other:size: 3\n"},
        ["Stack 'prod' is missing configuration value 'size'"],
    ),
    (
        _config("  size:\n    type: integer\n  other:thing:\n    value: 1\n"),
        {"dev": "config:\n  size: 3\n", "prod": "config:\n  demo:config:size: 3\n"},
        [],
    ),
    (_config("  size:\n    type: integer\n    default: 1\n"), {"dev": ""}, []),
    (_config("  size:\n    type: integer\n    value: 1\n"), {"dev": ""}, []),
    (
        _config("  token:\n    type: string\n    secret: true\n"),
        {"dev": ""},
        [],  # allowed by `required` below
    ),
]


@pytest.mark.parametrize(("project", "stacks", "expected"), MISSING_CASES)
def test_missing_value_check_reports_unset_keys_exactly(
    tmp_path: Path, project: str, stacks: Mapping[str, str], expected: list[str]
) -> None:
    errors = check_missing_values(write_project(tmp_path, project, stacks), frozenset({"token"}))
    assert [error.split(":", 1)[0] for error in errors] == expected, errors


def _stack(body: str) -> dict[str, str]:
    # Every case sets the secret `token` encrypted, unless the case is about `token`.
    token = "" if "token" in body else "  demo:token:\n    secure: AAABAQ==\n"
    return {"dev": f"config:\n{token}{body}"}


STACK_CASES = [
    ("  demo:size: abc\n", "Stack 'dev' with configuration key 'size' must be of type 'integer'"),
    ("  demo:size: 1.5\n", "key 'size' must be of type 'integer'"),
    ("  demo:size: true\n", "key 'size' must be of type 'integer'"),
    ("  demo:size: [1]\n", "key 'size' must be of type 'integer'"),
    ("  size: '0x10'\n", "key 'size' must be of type 'integer'"),
    ("  demo:enabled: yes\n", "key 'enabled' must be of type 'boolean'"),
    ("  demo:enabled: 1\n", "key 'enabled' must be of type 'boolean'"),
    ("  demo:label: [a]\n", "key 'label' must be of type 'string'"),
    ("  demo:names: a\n", "key 'names' must be of type 'array<string>'"),
    ("  demo:names: [a, 2]\n", "key 'names' must be of type 'array<string>'"),
    ("  demo:tags: [a]\n", "key 'tags' must be of type 'object'"),
    ("  demo:token: plain\n", "key 'token' must be encrypted as it's secret"),
    ("  demo:token: [{secure: x}, b]\n", "key 'token' must be of type 'string'"),
    ("  demo:sise: 3\n", "'demo:sise' is not declared in Pulumi.yaml"),
    ("  sise: 3\n", "'sise' is not declared in Pulumi.yaml"),
    ("  demo:x:y: 3\n", "could not parse demo:x:y as a configuration key"),
    ("  demo:size:\n", "No value for configuration key 'demo:size'"),
    ("  size: 2\n  demo:size: 3\n", "'demo:size' and 'size' set the same key"),
    ("  demo:size: 2\n  demo:size: 3\n", "mapping key 'demo:size' already defined"),
]


@pytest.mark.parametrize(("body", "expected"), STACK_CASES)
def test_stack_value_check_reports_a_bad_stack_value(
    tmp_path: Path, body: str, expected: str
) -> None:
    stacks = _stack(body)
    errors = check_stack_values(write_project(tmp_path, TYPED_PROJECT, stacks))
    assert any(expected in error for error in errors), errors


@pytest.mark.parametrize(
    ("stack", "expected"),
    [
        ("confg:\n  demo:size: 3\n", "unknown top-level key 'confg'"),
        ("config: [a]\n", "`config` must be a mapping"),
        ("- a\n", "expected a mapping, was array"),
        ("config:\n  demo:size: [\n", "Pulumi.dev.yaml: while parsing"),
    ],
)
def test_stack_value_check_reports_a_bad_stack_file(
    tmp_path: Path, stack: str, expected: str
) -> None:
    errors = check_stack_values(write_project(tmp_path, BASE_PROJECT, {"dev": stack}))
    assert any(expected in error for error in errors), errors


def test_a_secret_key_with_a_default_fails_where_the_stack_does_not_encrypt_it(
    tmp_path: Path,
) -> None:
    # config.go `mergeConfig` applies the default as a plaintext value (`createConfigValue`),
    # and `validateStackConfigValue` then refuses any plaintext value of a secret key.
    project = _config("  password:\n    type: string\n    secret: true\n    default: ''\n")
    stacks = {"dev": "", "prod": "config:\n  demo:password:\n    secure: AAABAQ==\n"}
    assert check_stack_values(write_project(tmp_path, project, stacks)) == [
        (
            "Stack 'dev' with configuration key 'password' must be encrypted as it's secret "
            f"({_PLAINTEXT_DEFAULT})"
        )
    ]


@pytest.mark.parametrize(
    "body",
    [
        "  demo:size: '12'\n",  # text strconv.Atoi parses
        "  demo:size: 3.0\n",
        "  demo:size: -4\n",
        "  size: 5\n",
        "  demo:config:size: 5\n",
        "  demo:size:\n    secure: AAABAQ==\n",  # encrypted: its content is not checkable
        "  demo:enabled: 'false'\n",
        "  demo:enabled: True\n",
        "  demo:label: 5\n",  # any scalar is a string's text
        "  demo:label: true\n",
        "  demo:names: [a, b]\n",
        "  demo:names: []\n",
        "  demo:tags:\n    a: 1\n",
        "  demo:tags:\n    secure: AAABAQ==\n    b: 1\n",  # two keys: an object, not a secret
        "  aws:region: us-west-2\n",  # another namespace: not the project's to declare
        "  demo:token:\n    secure: AAABAQ==\n",
    ],
)
def test_stack_value_check_accepts_what_pulumi_accepts(tmp_path: Path, body: str) -> None:
    stacks = _stack(body)
    assert check_stack_values(write_project(tmp_path, TYPED_PROJECT, stacks)) == []


def test_stack_value_check_looks_in_stack_config_dir(tmp_path: Path) -> None:
    (tmp_path / "stacks").mkdir()
    write_project(tmp_path, BASE_PROJECT + "stackConfigDir: stacks\n", {})
    (tmp_path / "stacks" / "Pulumi.dev.yaml").write_text(
        "config:\n  demo:size: abc\n", encoding="utf-8"
    )
    assert check_stack_values(tmp_path) == [
        (
            "Stack 'dev' with configuration key 'size' must be of type 'integer' "
            "(Pulumi.dev.yaml sets 'abc')"
        )
    ]


CHECKS: Final[Mapping[str, Callable[[Path], list[str]]]] = {
    "schema": check_project_schema,
    "declarations": check_config_declarations,
    "missing": check_missing_values,
    "stack values": check_stack_values,
}


@pytest.mark.parametrize("check", sorted(CHECKS))
def test_every_check_passes_a_fully_valid_project(tmp_path: Path, check: str) -> None:
    stacks = {
        "dev": "config:\n  demo:token:\n    secure: AAABAQ==\n  demo:size: 2\n",
        "prod": "config:\n  token:\n    secure: AAABAQ==\n  aws:region: us-west-2\n",
    }
    assert CHECKS[check](write_project(tmp_path, TYPED_PROJECT, stacks)) == []
