"""The provider contract, by Pulumi type token: see `model` for what a rule says and where from."""

from __future__ import annotations

from typing import TYPE_CHECKING

from provider_contract import fc2, fc3, identity_access, logs, monitoring, registry, storage

if TYPE_CHECKING:
    from provider_contract.model import Resource

CONTRACT: dict[str, Resource] = {
    resource.type: resource
    for module in (fc3, fc2, storage, identity_access, logs, registry, monitoring)
    for resource in module.RESOURCES
}
"""Every resource type the library may declare; a type missing here fails the mocks."""
