"""RAM: the function's role, its log-write policy and the attachments between them.

Provider sources: `resource_alicloud_ram_role.go`, `resource_alicloud_ram_policy.go` and
`resource_alicloud_ram_role_policy_attachment.go` at the commit named in `model`. Since 1.280.0
only the delete paths of the role and the policy changed (ef7aa4886: `force` now detaches every
entity instead of stopping at the first one already detached); no schema change.

The provider does not validate role or policy names at all (no ValidateFunc): the RAM API does,
at create time. Those API rules are `Rule`s sourced from the RAM API reference, not the provider.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from provider_contract.model import PROVIDER, Field, Resource, Rule
from provider_contract.rules import at_least_one, between, conflicts, is_json, length, matches

if TYPE_CHECKING:
    from collections.abc import Mapping

ROLE = PROVIDER + "resource_alicloud_ram_role.go:"
POLICY = PROVIDER + "resource_alicloud_ram_policy.go:"
ATTACHMENT = PROVIDER + "resource_alicloud_ram_role_policy_attachment.go:"

CREATE_ROLE_DOC = "RAM API CreateRole (alibabacloud.com/help/doc-detail/159988.htm)"
CREATE_POLICY_DOC = "RAM API CreatePolicy (alibabacloud.com/help/doc-detail/159976.htm)"
ROLE_API = CREATE_ROLE_DOC + "; not checked by the provider"
"""The source of the CreateRole rules the provider does not check."""
POLICY_API = CREATE_POLICY_DOC + "; not checked by the provider"
"""The source of the CreatePolicy rules the provider does not check."""

ROLE_NAME = r"[A-Za-z0-9.-]{1,64}"
"""RAM role names: 1-64 letters, digits, `.` and `-` (CreateRole)."""
POLICY_NAME = r"[A-Za-z0-9-]{1,128}"
"""RAM policy names: 1-128 letters, digits and `-`, no `.` (CreatePolicy)."""


def _role_refuses_delete(inputs: Mapping[str, object], attached: int) -> str | None:
    """`attached`: policies still attached to the role when it is deleted."""
    if attached == 0 or inputs.get("force") is True:
        return None
    return (
        f"DeleteRole fails with DeleteConflict.Role.Policy while {attached} policies are "
        "attached; the provider retries that error until the 5-minute delete timeout "
        f"({ROLE}422, {ROLE}28). Only force=true detaches them first ({ROLE}351-415)"
    )


def _policy_refuses_delete(inputs: Mapping[str, object], attached: int) -> str | None:
    """`attached`: users, groups and roles the policy is still attached to.

    Non-default versions never block: the provider always sends CascadingDelete=true
    (ram_policy.go:375), which deletes every version of the policy (RAM API DeletePolicy,
    help.aliyun.com/zh/ram/developer-reference/api-ram-2015-05-01-deletepolicy).
    """
    if attached == 0 or inputs.get("force") is True:
        return None
    return (
        f"DeletePolicy fails with DeleteConflict.Policy.User/Group or DeleteConflict.Role.Policy "
        f"while it is attached to {attached} principals; the provider retries until the 26-minute "
        f"delete timeout ({POLICY}581, {POLICY}28). Only force=true detaches it first "
        f"({POLICY}377-509)"
    )


ROLE_RESOURCE = Resource(
    type="alicloud:ram/role:Role",
    terraform="alicloud_ram_role",
    fields=(
        Field("assumeRolePolicyDocument", "string", ROLE + "35"),
        Field("description", "string", ROLE + "50"),
        Field("maxSessionDuration", "int", ROLE + "54"),
        Field("roleName", "string", ROLE + "63", force_new=True),
        Field("tags", "map", ROLE + "70 (tagsSchema, tags.go:28)"),
        Field(
            "name",
            "string",
            ROLE + "71 (Deprecated since 1.252.0: use role_name)",
            force_new=True,
        ),
        Field("document", "string", ROLE + "79 (Deprecated since 1.252.0)"),
        Field(
            "version",
            "string",
            ROLE + "91 (Deprecated since 1.49.0; Default '1')",
            allowed=("1",),
        ),
        Field("ramUsers", "list", ROLE + "100 (Deprecated since 1.49.0; a set)"),
        Field("ramUsers[]", "string", ROLE + "105"),
        Field("services", "list", ROLE + "109 (Deprecated since 1.49.0; a set)"),
        Field("services[]", "string", ROLE + "114"),
        Field("force", "bool", ROLE + "118 (delete detaches all policies first)"),
    ),
    identity=("roleName",),
    scope="account",
    identity_source=ROLE + "202 d.SetId(RoleName): a role name is unique in the account",
    rules=(
        conflicts(
            "assumeRolePolicyDocument",
            ("document", "version", "ramUsers", "services"),
            ROLE + "44",
        ),
        conflicts("roleName", ("name",), ROLE + "68"),
        conflicts("name", ("roleName",), ROLE + "77"),
        conflicts(
            "document", ("assumeRolePolicyDocument", "version", "ramUsers", "services"), ROLE + "89"
        ),
        conflicts("version", ("assumeRolePolicyDocument", "document"), ROLE + "98"),
        conflicts("ramUsers", ("assumeRolePolicyDocument", "document"), ROLE + "107"),
        conflicts("services", ("assumeRolePolicyDocument", "document"), ROLE + "116"),
        at_least_one(
            ("assumeRolePolicyDocument", "document", "ramUsers", "services"),
            ROLE + "164-166 (Create)",
        ),
        is_json("assumeRolePolicyDocument", ROLE + "39 (validation.StringIsJSON)"),
        is_json("document", ROLE + "83 (validation.StringIsJSON)"),
        *(
            matches(path, ROLE_NAME, "1-64 letters, digits, `.` and `-`", ROLE_API)
            for path in ("roleName", "name")
        ),
        length("description", 1, 1024, ROLE_API),
        between("maxSessionDuration", 3600, 43200, ROLE_API),
    ),
    refuses_delete=_role_refuses_delete,
)


ROTATE_OLDEST = "DeleteOldestNonDefaultVersionWhenLimitExceeded"


def _policy_rotates(inputs: Mapping[str, Any]) -> str | None:
    strategy = inputs.get("rotateStrategy")
    if strategy == ROTATE_OLDEST:
        return None
    return f"rotateStrategy must be {ROTATE_OLDEST}, got {strategy!r}"


POLICY_RESOURCE = Resource(
    type="alicloud:ram/policy:Policy",
    terraform="alicloud_ram_policy",
    fields=(
        Field("description", "string", POLICY + "35"),
        Field("policyDocument", "string", POLICY + "39"),
        Field("policyName", "string", POLICY + "50", force_new=True),
        Field(
            "rotateStrategy",
            "string",
            POLICY + "57",
            allowed=("None", "DeleteOldestNonDefaultVersionWhenLimitExceeded"),
        ),
        Field("tags", "map", POLICY + "62 (tagsSchema, tags.go:28)"),
        Field("force", "bool", POLICY + "63 (delete detaches it from every principal first)"),
        Field(
            "name",
            "string",
            POLICY + "83 (Deprecated since 1.114.0: use policy_name)",
            force_new=True,
        ),
        Field(
            "version",
            "string",
            POLICY + "91 (Deprecated since 1.49.0; Default '1')",
            allowed=("1",),
        ),
        Field("document", "string", POLICY + "100 (Deprecated since 1.114.0)"),
        Field("statements", "list", POLICY + "112 (`statement`, a set; Deprecated since 1.49.0)"),
        Field("statements[]", "object", POLICY + "117"),
        Field(
            "statements[].effect",
            "string",
            POLICY + "119",
            required=True,
            allowed=("Allow", "Deny"),
        ),
        Field("statements[].actions", "list", POLICY + "124 (`action`)", required=True),
        Field("statements[].actions[]", "string", POLICY + "127"),
        Field("statements[].resources", "list", POLICY + "131 (`resource`)", required=True),
        Field("statements[].resources[]", "string", POLICY + "134"),
    ),
    identity=("policyName",),
    scope="account",
    identity_source=POLICY + "209 d.SetId(PolicyName): a policy name is unique in the account",
    rules=(
        conflicts("policyDocument", ("document", "version", "statements"), POLICY + "48"),
        conflicts("policyName", ("name",), POLICY + "55"),
        conflicts("name", ("policyName",), POLICY + "89"),
        conflicts("version", ("document",), POLICY + "95"),
        conflicts("document", ("policyDocument", "version", "statements"), POLICY + "110"),
        conflicts("statements", ("document",), POLICY + "140"),
        at_least_one(("policyDocument", "document", "statements"), POLICY + "166-179 (Create)"),
        is_json("policyDocument", POLICY + "43 (validation.StringIsJSON)"),
        is_json("document", POLICY + "104 (validation.StringIsJSON)"),
        *(
            matches(path, POLICY_NAME, "1-128 letters, digits and `-` (no `.`)", POLICY_API)
            for path in ("policyName", "name")
        ),
        length(
            "policyDocument",
            1,
            6144,
            "RAM API CreatePolicy (alibabacloud.com/help/en/resource-management/api-createpolicy; "
            "the older page says 2048); not checked by the provider",
        ),
        length("description", 1, 1024, POLICY_API),
        Rule(
            "a policy whose document changes with the stack sets rotateStrategy "
            "DeleteOldestNonDefaultVersionWhenLimitExceeded: RAM keeps 5 versions and Update "
            "sends RotateStrategy only when set, so the sixth change would fail",
            POLICY + '302 (Update: `if v, ok := d.GetOk("rotate_strategy")`); RAM '
            "CreatePolicyVersion (alibabacloud.com/help/en/ram/developer-reference/"
            "api-ram-2015-05-01-createpolicyversion: at most 5 versions)",
            _policy_rotates,
        ),
    ),
    refuses_delete=_policy_refuses_delete,
)

ATTACHMENT_RESOURCE = Resource(
    type="alicloud:ram/rolePolicyAttachment:RolePolicyAttachment",
    terraform="alicloud_ram_role_policy_attachment",
    fields=(
        Field("policyName", "string", ATTACHMENT + "28", required=True, force_new=True),
        Field(
            "policyType",
            "string",
            ATTACHMENT + "33",
            required=True,
            force_new=True,
            allowed=("System", "Custom"),
        ),
        Field("roleName", "string", ATTACHMENT + "39", required=True, force_new=True),
    ),
    identity=("policyName", "policyType", "roleName"),
    identity_source=ATTACHMENT + "82 d.SetId('role:<policy_name>:<policy_type>:<role_name>')",
    # Delete is DetachPolicyFromRole; EntityNotExist.Role(.Policy) count as done (:158).
)

RESOURCES: tuple[Resource, ...] = (ROLE_RESOURCE, POLICY_RESOURCE, ATTACHMENT_RESOURCE)
"""The RAM resource types the library declares (infra/access.py)."""
