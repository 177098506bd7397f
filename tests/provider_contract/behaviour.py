"""What the provider does after it accepts an input: its Read, its Update, its id and its Delete.

The schema rules (`model.Resource`) say which inputs the provider accepts. These say what happens
next, for one resource type each:

- `reads`: the state fields the provider's Read writes from something other than the value that
  was sent (another resource, the API's normalised form, a default). Every input path not listed
  is read back as sent, or not read at all (the state keeps the planned value): either way it
  cannot differ from the input. Read runs at the end of every Create and Update and on refresh, so
  a field listed here that differs from the input is a diff at the next preview.
- `equivalent`: paths whose difference the provider suppresses (DiffSuppressFunc), with the
  comparison it makes.
- `updates`: the input paths whose change the provider's Update sends to the API. A changed input
  that is neither ForceNew nor here changes the state and nothing in the cloud: a silent update.
- `read_after_create`: why the Read that ends Create would not find what Create made (a
  not-found while the resource is new is an error that fails the `up`), or None.
- `id_format`, `delete_tolerates_missing`: how the id is formed, and whether Delete treats an
  already missing object as done (a delete that cannot, fails `destroy` after a manual cleanup or
  a second stack's delete).

Each entry names its provider file and function, at the commit in `model.PROVIDER`.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

World = Callable[[str, Mapping[str, object]], Mapping[str, Any] | None]
"""Looks up another declared resource: (type token, {input path: value}) -> its plain inputs."""


@dataclass(frozen=True)
class Read:
    """One state field the provider's Read writes from something other than the sent value."""

    path: str
    """The input path (Pulumi's camelCase, `.` into objects) that Read overwrites."""
    api: str
    """Where Read takes it from: the API call and field."""
    source: str
    """Provider file and function."""
    value: Callable[[Mapping[str, Any], World], object]
    """The value Read writes, from the resource's own inputs and the rest of the stack."""


@dataclass(frozen=True)
class Equivalent:
    """A difference the provider's plan suppresses (DiffSuppressFunc or a normalising StateFunc)."""

    path: str
    source: str
    same: Callable[[object, object], bool]
    """(state value, new input value) -> whether the provider sees no change."""


@dataclass(frozen=True)
class Behaviour:
    """Read, Update, id and Delete of one resource type."""

    type: str
    """The Pulumi type token, as in `model.Resource.type`."""
    read_source: str
    """The Read function (provider file and function)."""
    update_source: str
    """The Update function, or why there is none (every input ForceNew)."""
    updates: frozenset[str]
    """Top-level input paths whose change Update sends to the API."""
    id_format: str
    """How the id is formed, with its source."""
    delete_tolerates_missing: bool
    delete_source: str
    reads: tuple[Read, ...] = ()
    equivalent: tuple[Equivalent, ...] = ()
    read_after_create: Callable[[Mapping[str, Any], World], str | None] | None = None
    notes: tuple[str, ...] = field(default=())
    """Other facts found on the way that a user of the library should know."""


def top(path: str) -> str:
    """The top-level input of a path: `code.checksum` -> `code`, `tags[0]` -> `tags`."""
    return path.split(".", 1)[0].split("[", 1)[0]
