"""Names that must be unique never collide: between the stacks of one project, nor between two
accounts deploying the same template, and they stay the same for one stack.

Where a name must be unique comes from the contract (`Resource.scope`): across Alibaba Cloud
(SLS projects, OSS buckets, personal ACR namespaces), in the account (RAM roles and policies,
CloudMonitor contacts and groups), in the account's region (FC functions and services), or only
inside what holds it (a trigger in its function).
"""

from __future__ import annotations

import runpy

import pytest
from conftest import REGION, REPO, Evaluation, committed_config, dev_config, entry, evaluate
from provider_contract import CONTRACT
from provider_contract.model import identity

pytestmark = pytest.mark.unit

ALERTS = {
    "alertContactGroup": "ops",
    "alertEmails": '["ops@example.com"]',
    "functions": entry("sync-forks", alert=True),
}
ALERTS_PROD = {
    "alertContactGroup": "ops",
    "alertEmails": '["ops@example.com"]',
}
SETTINGS = [
    pytest.param({}, id="FC 3.0"),
    pytest.param({"fcVersion": "2.0"}, id="FC 2.0"),
    pytest.param(
        {
            "variant": "container",
            "registryNamespace": "fcrust",
            "registryExisting": "true",
            "registryUsername": "someone@example.com",
            "registryPassword": "test-registry-password-not-real",
        },
        id="container",
    ),
]


@pytest.fixture(autouse=True)
def _in_repo(in_repo: object) -> None:
    del in_repo


def deploy(stack: str, account_id: str, **overrides: str) -> Evaluation:
    """The project's program as `stack` of `account_id`, with the dev stack's functions."""
    return evaluate(
        lambda: runpy.run_path(str(REPO / "__main__.py"), run_name="__main__"),
        dev_config(**ALERTS, **overrides),
        ["fc-rust:githubToken", "fc-rust:registryPassword"],
        stack=stack,
        account_id=account_id,
    )


def unique_names(
    evaluation: Evaluation,
    account_id: str,
    *,
    region: str = REGION,
) -> dict[tuple[object, ...], str]:
    """Each resource's identity where it must be unique, with the resource's logical name."""
    found = {}
    for resource in evaluation.resources:
        contract = CONTRACT.get(resource.type)
        key = identity(contract, resource.plain()) if contract is not None else None
        if contract is None or key is None:
            continue
        where: tuple[object, ...] = {
            "global": (),
            "account": (account_id,),
        }.get(contract.scope, (account_id, region))
        found[(*where, *key)] = resource.name
    return found


@pytest.mark.parametrize("overrides", SETTINGS)
def test_two_stacks_in_one_region_of_one_account_share_no_name(overrides: dict[str, str]) -> None:
    """Mutations: alert contacts named by address alone make staging take over dev's; a
    function named by its entry alone collides with dev's in the same region."""
    dev = unique_names(deploy("dev", "1111", **overrides), "1111")
    staging = unique_names(deploy("staging", "1111", **overrides), "1111")
    shared = sorted(f"{dev[key]} and {staging[key]}: {key}" for key in dev.keys() & staging.keys())
    assert shared == []
    assert len(dev) >= 15


def test_the_committed_stacks_share_no_name() -> None:
    """dev and prod, in one account: nothing either creates is the other's."""
    prod_config = committed_config("prod")
    prod_config.update(ALERTS_PROD)
    dev = unique_names(deploy("dev", "1111"), "1111")
    prod = unique_names(
        evaluate(
            lambda: runpy.run_path(str(REPO / "__main__.py"), run_name="__main__"),
            prod_config,
            ["fc-rust:githubToken"],
            stack="prod",
            account_id="1111",
        ),
        "1111",
        region=prod_config["alicloud:region"],
    )
    assert sorted(str(key) for key in dev.keys() & prod.keys()) == []


@pytest.mark.parametrize("overrides", SETTINGS)
def test_two_accounts_deploying_the_same_template_share_no_global_name(
    overrides: dict[str, str],
) -> None:
    """Mutation: a default SLS project name without the account's digest collides here."""
    first = unique_names(deploy("dev", "1111", **overrides), "1111")
    second = unique_names(deploy("dev", "2222", **overrides), "2222")
    shared = sorted(f"{first[key]}: {key}" for key in first.keys() & second.keys())
    assert shared == []


def test_one_stack_keeps_its_names() -> None:
    assert unique_names(deploy("dev", "1111"), "1111") == unique_names(
        deploy("dev", "1111"), "1111"
    )
