"""Pulumi.yaml and the committed stack files, held to the rules the Pulumi engine applies to them.

No Pulumi CLI runs on the test machines, so each rule is a short check of our own; its comment names
the Pulumi source it comes from (pulumi/pulumi at 1b5949891b3cefcb9974752b24a5ecef0acc86c8). Each
check is a pure function of a directory, so the negative cases run it on broken copies in tmp_path.
Where a check is stricter than Pulumi, its message says so.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
import yaml

from infra.limits import DEFAULT_FC_VERSION, DEFAULT_RUNTIME
from infra.logs import DEFAULT_RETENTION_DAYS
from infra.program import CONFIG_KEYS, DOMAINS_KEY
from infra.spec import ALIAS

if TYPE_CHECKING:
    from collections.abc import Callable

pytestmark = pytest.mark.unit

REPO = Path(__file__).resolve().parent.parent

# sdk/go/common/workspace/project.json, top-level "properties", and project.go, Project
# (requiredPulumiVersion). project.json allows other keys too; we reject them as typos.
PROJECT_KEYS = frozenset(
    {"name", "runtime", "main", "description", "author", "website", "license", "config", "backend"}
    | {"stackConfigDir", "template", "options", "packages", "plugins", "requiredPulumiVersion"}
)
# project.json, $defs.configTypeDeclaration (additionalProperties: false).
DECLARATION_KEYS = frozenset({"type", "items", "description", "secret", "default", "value"})
# project.json, $defs.simpleConfigType.
CONFIG_TYPES = frozenset({"string", "integer", "boolean", "array", "object"})
# project.go, ProjectStack: the fields of a stack file (go-yaml ignores any other key).
STACK_KEYS = frozenset(
    {"secretsprovider", "encryptedkey", "encryptionsalt", "config", "environment"}
)

# Pulumi reads both files with go-yaml v3 (sdk/go/common/encoding/marshal.go), which resolves plain
# scalars by YAML 1.2; PyYAML's safe_load resolves them by YAML 1.1. The two agree as long as the
# files avoid the plain scalars they read apart: YAML-1.1-only booleans (yes/no/on/off) and base-60
# numbers, and YAML-1.2-only 0o octals and exponent floats (check_yaml_portable).
YAML_11_VS_12 = re.compile(
    r"[Yy]es|YES|[Nn]o|NO|[Oo]n|ON|[Oo]ff|OFF|[-+]?[0-9][0-9_]*(?::[0-5]?[0-9])+(?:\.[0-9_]*)?"
    r"|[-+]?0o[0-7_]+|[-+]?[0-9][0-9_]*(?:\.[0-9_]*)?[eE][-+]?[0-9]+"
)


def load(path: Path) -> object:
    return yaml.safe_load(path.read_text(encoding="utf-8"))


def stacks(root: Path) -> dict[str, Path]:
    files = sorted(root.glob("Pulumi.*.yaml"))
    return {path.name.removeprefix("Pulumi.").removesuffix(".yaml"): path for path in files}


def mapping(value: object) -> dict[str, object]:
    """`value` with string keys if it is a mapping, else empty (check_project reports the shape)."""
    return {str(key): item for key, item in value.items()} if isinstance(value, dict) else {}


def full_key(project: str, key: str) -> str:
    # pkg/workspace/config.go, parseConfigKey, and sdk/go/common/resource/config/key.go, ParseKey:
    # a bare key is in the project's namespace; `ns:config:name` is the legacy form of `ns:name`.
    parts = key.split(":")
    if len(parts) == 1:
        return f"{project}:{key}"
    return f"{parts[0]}:{parts[2]}" if len(parts) == 3 and parts[1] == "config" else key


def declarations(root: Path) -> tuple[str, dict[str, tuple[str, dict[str, object]]]]:
    """The project name, and each config declaration by full key, with its key as written."""
    project = mapping(load(root / "Pulumi.yaml"))
    name = str(project.get("name"))
    config = mapping(project.get("config"))
    return name, {full_key(name, key): (key, mapping(decl)) for key, decl in config.items()}


def without_default(root: Path) -> set[str]:
    """The keys Pulumi.yaml declares with neither a default nor a value, without namespace."""
    _, declared = declarations(root)
    return {
        full.partition(":")[2]
        for full, (_, decl) in declared.items()
        if decl.get("default") is decl.get("value") is None
    }


def of_type(kind: object, items: object, value: object) -> bool:
    # sdk/go/common/workspace/project.go, ValidateConfigValue.
    if kind == "string":
        return isinstance(value, str)
    if kind == "integer":  # an int, a whole float, or text that strconv.Atoi parses
        if isinstance(value, str):
            value = int(value) if re.fullmatch(r"[+-]?[0-9]+", value) else None
        return type(value) is int or (isinstance(value, float) and value.is_integer())
    if kind == "boolean":
        return isinstance(value, bool) or value in {"true", "false"}
    if kind == "object":
        return isinstance(value, dict)
    element = mapping(items)  # any other type: a list whose items are of the `items` type
    kind, items = element.get("type"), element.get("items")
    return isinstance(value, list) and bool(element) and all(of_type(kind, items, v) for v in value)


def type_name(kind: object, items: object) -> str:
    # project.go, InferFullTypeName.
    element = mapping(items)
    return f"array<{type_name(element['type'], element.get('items'))}>" if element else str(kind)


def declaration_problems(in_project: bool, decl: object) -> list[str]:  # noqa: FBT001
    if not isinstance(decl, dict):
        return ["must be a mapping (stricter than Pulumi, which also takes a bare default)"]
    problems = [f"has unknown attribute '{key}'" for key in decl if key not in DECLARATION_KEYS]
    kind, items, default = decl.get("type"), decl.get("items"), decl.get("default")
    # project.go, Project.Validate (the rest of this function too).
    if default is not None and decl.get("value") is not None:
        problems.append("cannot have both a 'default' and 'value' attribute")
    if not in_project:
        if kind is not None or default is not None or decl.get("value") is None:
            problems.append("is another namespace's key: it takes a 'value', no type or default")
    elif kind not in CONFIG_TYPES:  # project.json, simpleConfigType
        problems.append(
            f"has 'type' {kind!r}, not one of {sorted(CONFIG_TYPES)} (stricter than Pulumi, where "
            "'type' is optional and an untyped key goes unchecked)"
        )
    elif kind == "array" and mapping(items).get("type") not in CONFIG_TYPES:
        problems.append("declares an array but does not give the element type in 'items'")
    elif default is not None and not of_type(kind, items, default):
        problems.append(f"has default {default!r}, not of type '{type_name(kind, items)}'")
    return problems


def check_project(root: Path) -> list[str]:
    """Rule 1: the shape of Pulumi.yaml and of each config declaration."""
    project = load(root / "Pulumi.yaml")
    if not isinstance(project, dict):
        return ["Pulumi.yaml: expected a mapping"]
    errors = [
        f"Pulumi.yaml: unknown top-level key '{key}' (stricter than Pulumi: project.json allows it)"
        for key in project
        if key not in PROJECT_KEYS
    ]
    name = project.get("name")
    # project.go, ValidateProject, and sdk/go/common/tokens/project.go, ValidateProjectName.
    if not isinstance(name, str) or re.fullmatch(r"[A-Za-z0-9_.-]{1,100}", name) is None:
        errors.append(f"Pulumi.yaml: 'name' {name!r} is not a valid project name")
    # project.json, runtime: a name, or {name, options} (required here: the program needs one).
    runtime = project.get("runtime")
    runtime_name = runtime.get("name") if isinstance(runtime, dict) else runtime
    if (
        not (isinstance(runtime_name, str) and runtime_name)
        or not set(mapping(runtime)) <= {"name", "options"}
        or not isinstance(mapping(runtime).get("options", {}), dict)
    ):
        errors.append(f"Pulumi.yaml: 'runtime' {runtime!r} is not a name or {{name, options}}")
    config = project.get("config")
    if not isinstance(config, dict | None):
        return [*errors, "Pulumi.yaml: 'config' must be a mapping of declarations"]
    for key, decl in (config or {}).items():
        in_project = full_key(str(name), str(key)).startswith(f"{name}:")
        errors += [f"Pulumi.yaml: '{key}' {p}" for p in declaration_problems(in_project, decl)]
    return errors


def read_stack(path: Path, project: str) -> tuple[dict[str, object], list[str]]:
    """The stack's config values by full key, and what is wrong with the file's shape."""
    raw = load(path)
    stack = {} if raw is None else raw  # an empty file is an empty stack
    config = stack.get("config") if isinstance(stack, dict) else []
    if not isinstance(stack, dict) or not isinstance(config, dict | None):
        return {}, [f"{path.name}: expected a mapping whose 'config' is a mapping"]
    errors = [
        f"{path.name}: unknown top-level key '{key}' (stricter than Pulumi, which ignores it)"
        for key in stack
        if key not in STACK_KEYS
    ]
    return {full_key(project, str(key)): value for key, value in (config or {}).items()}, errors


def check_missing(root: Path) -> list[str]:
    """Rule 2: each stack sets each project key declared without a default."""
    # pkg/workspace/config.go, mergeConfig: "Stack '...' is missing configuration value ...".
    name, _ = declarations(root)
    errors = []
    for stack, path in stacks(root).items():
        values, _ = read_stack(path, name)
        errors += [
            f"Stack '{stack}' is missing configuration value '{key}': give it a default or set "
            f"it in {path.name}"
            for key in sorted(without_default(root))
            if f"{name}:{key}" not in values
        ]
    return errors


def encrypted(value: object) -> bool:
    # sdk/go/common/resource/config/object.go, object.Secure: `{secure: <ciphertext>}`, or a list or
    # mapping with such a part (`pulumi config set --secret --path`).
    if isinstance(value, dict):
        return list(value) == ["secure"] or any(encrypted(item) for item in value.values())
    return isinstance(value, list) and any(encrypted(item) for item in value)


def as_config(value: object) -> object:
    # config/object.go (stack values) and pkg/workspace/config.go, createConfigValue (defaults):
    # a scalar becomes its text (`256` -> "256", null -> ""); a list or mapping stays structured.
    if isinstance(value, bool) or value is None:
        return {True: "true", False: "false", None: ""}[value]
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return value if isinstance(value, str | list | dict) else str(value)


def check_stack_values(root: Path) -> list[str]:
    """Rule 3: each stack value is declared, of its declared type, and encrypted if secret."""
    name, declared = declarations(root)
    errors = []
    for stack, path in stacks(root).items():
        values, problems = read_stack(path, name)
        errors += problems
        errors += [
            f"{path.name}: '{key}' is not declared in Pulumi.yaml (stricter than Pulumi, which "
            "passes undeclared keys to the program)"
            for key in values
            if key.startswith(f"{name}:") and key not in declared
        ]
        # pkg/workspace/config.go, mergeConfig: an unset key gets its default (or value) as a
        # plaintext value, and only then does validateStackConfigValue check each typed key.
        for full, (key, decl) in declared.items():
            kind, items = decl.get("type"), decl.get("items")
            applied = decl.get("value") if decl.get("default") is None else decl.get("default")
            if kind is None or (full not in values and applied is None):
                continue  # untyped (Pulumi checks nothing), or unset without default (rule 2)
            value, src = (values[full], path.name) if full in values else (applied, "Pulumi.yaml")
            where = f"Stack '{stack}' with configuration key '{key}' must be"
            if decl.get("secret") is True and not encrypted(values.get(full)):  # a default never is
                errors.append(f"{where} encrypted as it's secret (from {src})")
            # Pulumi checks the decrypted value; an encrypted part is unknown here, so unchecked.
            elif not encrypted(value) and not of_type(kind, items, as_config(value)):
                errors.append(f"{where} of type '{type_name(kind, items)}' (from {src})")
    return errors


def check_yaml_portable(root: Path) -> list[str]:
    """go-yaml reads the files as PyYAML does: no scalar they resolve apart, no key given twice."""
    errors = []
    for path in [root / "Pulumi.yaml", *stacks(root).values()]:
        nodes = [node for node in [yaml.compose(path.read_text(encoding="utf-8"))] if node]
        while nodes:
            node = nodes.pop()
            at = f"{path.name}:{node.start_mark.line + 1}"
            if isinstance(node, yaml.ScalarNode) and not node.style:
                if YAML_11_VS_12.fullmatch(node.value):
                    errors.append(f"{at}: quote {node.value!r}, YAML 1.1 and 1.2 read it apart")
            elif isinstance(node, yaml.MappingNode):
                keys = [str(key.value) for key, _ in node.value]
                errors += [f"{at}: key {k!r} given twice" for k in set(keys) if keys.count(k) > 1]
                nodes += [child for pair in node.value for child in pair]
            elif isinstance(node, yaml.SequenceNode):
                nodes += node.value
    return errors


CHECKS = (check_project, check_missing, check_stack_values, check_yaml_portable)


@pytest.mark.parametrize("check", CHECKS, ids=lambda check: check.__name__)
def test_the_repo_passes(check: Callable[[Path], list[str]]) -> None:
    assert stacks(REPO), "no Pulumi.<stack>.yaml next to Pulumi.yaml"
    assert check(REPO) == []


# A small project that passes every check, and broken copies of it.
PROJECT = """\
name: demo
runtime: python
config:
  size: {type: integer, default: 1}
  enabled: {type: boolean, default: true}
  names: {type: array, items: {type: string}, default: []}
  tags: {type: object, default: {}}
  label: {type: string, value: 'on'}  # quoted, 'on' is a string in YAML 1.1 and 1.2
  githubToken: {type: string, secret: true}
  aws:region: {value: us-west-2}
"""
STACK = """\
config:
  demo:githubToken: {secure: AAABAQ==}
  demo:size: 2
  alicloud:region: cn-hangzhou
"""


def write(root: Path, project: str = PROJECT, **stacks: str) -> Path:
    root.mkdir(exist_ok=True)
    (root / "Pulumi.yaml").write_text(project, encoding="utf-8")
    for name, text in (stacks or {"dev": STACK}).items():
        (root / f"Pulumi.{name}.yaml").write_text(text, encoding="utf-8")
    return root


def edit(text: str, old: str, new: str) -> str:
    assert text.count(old) == 1, f"{old!r} must occur once"  # a no-op edit would prove nothing
    return text.replace(old, new)


@pytest.mark.parametrize("check", CHECKS, ids=lambda check: check.__name__)
def test_the_unbroken_fixture_passes(tmp_path: Path, check: Callable[[Path], list[str]]) -> None:
    assert check(write(tmp_path)) == []


@pytest.mark.parametrize(
    ("old", "new", "expected"),
    [
        (PROJECT, "[demo]\n", "Pulumi.yaml: expected a mapping"),
        ("name: demo", "name: my demo", "'name' 'my demo' is not a valid project name"),
        ("name: demo\n", "", "'name' None is not a valid project name"),
        ("runtime: python", "runtime: ''", "'runtime' '' is not a name"),
        ("runtime: python", "runtime: {options: {}}", "'runtime' {'options': {}} is not"),
        ("runtime: python", "runtime: {name: python, option: {}}", "'runtime' {'name'"),
        ("runtime: python", "runtime: {name: python, options: x}", "'runtime' {'name'"),
        ("runtime: python", "runtime: python\nmian: x", "unknown top-level key 'mian'"),
        ("config:", "config: stacks\nold:", "'config' must be a mapping"),
        ("{type: integer, default: 1}", "1", "'size' must be a mapping"),
        ("default: 1}", "defualt: 1}", "'size' has unknown attribute 'defualt'"),
        ("type: integer", "type: int", "'size' has 'type' 'int', not one of ["),
        ("type: integer, ", "", "'size' has 'type' None, not one of"),
        ("items: {type: string}, ", "", "'names' declares an array but"),
        ("{type: string}", "{type: str}", "'names' declares an array but"),
        ("default: 1}", "default: 1, value: 2}", "'size' cannot have both"),
        ("default: 1}", "default: abc}", "'size' has default 'abc', not of type 'integer'"),
        ("default: 1}", "default: 1.5}", "not of type 'integer'"),
        ("default: 1}", "default: true}", "not of type 'integer'"),
        ("default: true", "default: 1", "not of type 'boolean'"),
        ("default: []", "default: [1]", "not of type 'array<string>'"),
        ("default: {}", "default: []", "not of type 'object'"),
        ("{value: us-west-2}", "{value: x, type: string}", "'aws:region' is another namespace's"),
        ("{value: us-west-2}", "{value: x, default: y}", "'aws:region' is another namespace's"),
        ("{value: us-west-2}", "{description: x}", "'aws:region' is another namespace's"),
    ],
)
def test_check_project_rejects(tmp_path: Path, old: str, new: str, expected: str) -> None:
    errors = check_project(write(tmp_path, edit(PROJECT, old, new)))
    assert any(expected in error for error in errors), errors


def test_check_missing_rejects_an_unset_key_without_default(tmp_path: Path) -> None:
    project = edit(PROJECT, "config:", "config:\n  zone: {type: string}")
    prod = edit(STACK, "config:", "config:\n  zone: a")  # a bare key is in the project's namespace
    (error,) = check_missing(write(tmp_path, project, dev=STACK, prod=prod))
    assert error.startswith("Stack 'dev' is missing configuration value 'zone':")
    (error,) = check_missing(write(tmp_path / "unset", dev=""))
    assert error.startswith("Stack 'dev' is missing configuration value 'githubToken':")


@pytest.mark.parametrize(
    ("old", "new", "expected"),
    [
        ("demo:size: 2", "size: x", "'size' must be of type 'integer' (from Pulumi.dev.yaml)"),
        ("demo:size: 2", "demo:size: 1.5", "'size' must be of type 'integer'"),
        ("demo:size: 2", "demo:size: true", "'size' must be of type 'integer'"),
        ("demo:size: 2", "demo:size:", "'size' must be of type 'integer'"),  # null reads as ""
        ("demo:size: 2", "demo:enabled: 1", "'enabled' must be of type 'boolean'"),
        ("demo:size: 2", "demo:names: a", "'names' must be of type 'array<string>'"),
        ("demo:size: 2", "demo:names: [a, 2]", "'names' must be of type 'array<string>'"),
        ("demo:size: 2", "demo:tags: [a]", "'tags' must be of type 'object'"),
        ("demo:size: 2", "demo:label: {a: 1}", "'label' must be of type 'string'"),
        ("demo:githubToken: {secure: AAABAQ==}", "githubToken: x", "encrypted as it's secret"),
        ("demo:size: 2", "demo:sise: 2", "'demo:sise' is not declared in Pulumi.yaml"),
        ("demo:size: 2", "sise: 2", "'demo:sise' is not declared in Pulumi.yaml"),
        ("config:", "confg:", "unknown top-level key 'confg'"),
        (STACK, "config: [a]\n", "expected a mapping whose 'config' is a mapping"),
    ],
)
def test_check_stack_values_rejects(tmp_path: Path, old: str, new: str, expected: str) -> None:
    errors = check_stack_values(write(tmp_path, dev=edit(STACK, old, new)))
    assert any(expected in error for error in errors), errors


# Pulumi reads a scalar stack value as text: an integer may be text that Atoi parses or a whole
# float, a boolean "true"/"false", a string any scalar; an encrypted value goes unchecked here.
@pytest.mark.parametrize(
    "lines",
    [
        "size: '12'\n  demo:label: 5\n  demo:config:enabled: 'false'",
        "demo:size: 3.0\n  demo:label: true\n  demo:names: [{secure: AAABAQ==}, b]",
        "demo:size: {secure: AAABAQ==}\n  demo:label:\n  demo:tags: {a: 1}",
        "demo:label: 3.0",
    ],
)
def test_check_stack_values_accepts_what_pulumi_accepts(tmp_path: Path, lines: str) -> None:
    assert check_stack_values(write(tmp_path, dev=edit(STACK, "demo:size: 2", lines))) == []


@pytest.mark.parametrize("default", ["''", "{secure: AAABAQ==}"])
def test_a_secret_keys_default_is_refused_as_plaintext(tmp_path: Path, default: str) -> None:
    # mergeConfig applies the default unencrypted (createConfigValue), and then
    # validateStackConfigValue refuses a plaintext value for a secret key.
    project = edit(PROJECT, "secret: true", f"secret: true, default: {default}")
    unset = edit(STACK, "  demo:githubToken: {secure: AAABAQ==}\n", "")
    errors = check_stack_values(write(tmp_path, project, dev=STACK, prod=unset))
    expected = "Stack 'prod' with configuration key 'githubToken' must be encrypted as it's secret"
    assert errors == [f"{expected} (from Pulumi.yaml)"]


# object.go, object.Secure: a list or mapping with an encrypted part counts as encrypted.
@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("names: [a, {secure: AAABAQ==}]", ""),
        ("tags: {a: {secure: AAABAQ==}}", ""),
        ("names: [a, b]", "'names' must be encrypted"),
        ("tags: {a: b}", "'tags' must be encrypted"),
    ],
)
def test_a_secret_may_be_encrypted_in_parts(tmp_path: Path, value: str, expected: str) -> None:
    project = edit(PROJECT, "{type: string}, default: []", "{type: string}, secret: true")
    project = edit(project, "{type: object, default: {}}", "{type: object, secret: true}")
    stack = edit(STACK, "demo:size: 2", f"demo:{value}")
    errors = check_stack_values(write(tmp_path, project, dev=stack))
    assert [expected in error for error in errors] == ([True] if expected else [])


def test_a_project_value_is_applied_and_checked_like_a_default(tmp_path: Path) -> None:
    (error,) = check_stack_values(write(tmp_path, edit(PROJECT, "value: 'on'}", "value: [x]}")))
    assert error.endswith("key 'label' must be of type 'string' (from Pulumi.yaml)")


def test_the_yaml_11_vs_12_pattern_knows_every_yaml_11_boolean() -> None:
    words = ["yes", "Yes", "YES", "no", "No", "NO", "on", "On", "ON", "off", "Off", "OFF"]
    assert all(isinstance(yaml.safe_load(w), bool) and YAML_11_VS_12.fullmatch(w) for w in words)


@pytest.mark.parametrize(
    ("new", "expected"),
    [
        ("demo:enabled: yes", "quote 'yes'"),
        ("demo:size: 1:30", "quote '1:30'"),
        ("demo:size: 0o17", "quote '0o17'"),
        ("demo:size: 1e3", "quote '1e3'"),
        ("demo:size: 2\n  demo:size: 3", "key 'demo:size' given twice"),
    ],
)
def test_check_yaml_portable_rejects(tmp_path: Path, new: str, expected: str) -> None:
    errors = check_yaml_portable(write(tmp_path, dev=edit(STACK, "demo:size: 2", new)))
    assert any(expected in error for error in errors), errors


# The project's own declarations: what the program reads, and the library's defaults.


def test_functions_is_an_object_every_committed_stack_sets() -> None:
    name, declared = declarations(REPO)
    _, functions = declared[f"{name}:functions"]
    assert functions.get("type") == "object"
    assert "default" not in functions, "a default would deploy functions the stack never named"
    for path in stacks(REPO).values():
        values, _ = read_stack(path, name)
        entries = values.get(f"{name}:functions")
        assert isinstance(entries, dict), f"{path.name} sets no functions"
        assert entries, f"{path.name}: an empty functions map deploys nothing"
        assert all(isinstance(entry, dict) for entry in entries.values()), path.name


def test_the_declared_keys_are_the_ones_the_program_reads() -> None:
    # A declared key the program ignores (a leftover of a removed setting) would take a value
    # silently; a key the program reads undeclared would escape the type checks above.
    name, declared = declarations(REPO)
    secrets = {
        str(key)
        for path in stacks(REPO).values()
        for entry in mapping(read_stack(path, name)[0].get(f"{name}:functions")).values()
        for key in mapping(mapping(entry).get("secretEnvironment")).values()
    }
    project_keys = {full.partition(":")[2] for full in declared if full.startswith(f"{name}:")}
    assert project_keys == {*CONFIG_KEYS, DOMAINS_KEY, "registryPassword", *secrets}
    # A secret that some stack may leave unset defaults to "", which Pulumi refuses on a key
    # declared `secret`; the program refuses it in plain text (infra.program.StackSecrets).
    for key in {*secrets, "registryPassword"}:
        assert declared[f"{name}:{key}"][1].get("default") == "", key
        assert "secret" not in declared[f"{name}:{key}"][1], key


def test_the_project_defaults_are_the_librarys() -> None:
    # Pulumi applies these defaults to the program; the emulator, which reads the stack file
    # alone, and a program that declares none get the library's: all must run the same functions.
    name, declared = declarations(REPO)
    defaults = {
        full.partition(":")[2]: decl.get("default")
        for full, (_, decl) in declared.items()
        if full.startswith(f"{name}:")
    }
    assert {key: defaults[key] for key in ("fcVersion", "runtime", "alias")} == {
        "fcVersion": DEFAULT_FC_VERSION,
        "runtime": DEFAULT_RUNTIME,
        "alias": ALIAS,
    }
    assert defaults["logRetentionDays"] == DEFAULT_RETENTION_DAYS
    assert defaults["variant"] == "zip"
    assert defaults["workspace"] == ""  # the program's directory, as the library's "."
