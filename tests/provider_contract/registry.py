"""Container Registry (ACR) namespaces and repositories, and the image pushed into them.

Provider sources: `resource_alicloud_cr_namespace.go` and `resource_alicloud_cr_repo.go` (the
personal edition; both carry a DeprecationMessage since v1.276.0 pointing at the `cr_ee`
resources), `resource_alicloud_cr_ee_namespace.go` and `resource_alicloud_cr_ee_repo.go` (the
enterprise edition), at the commit named in `model`. pulumi-alicloud maps the enterprise pair to
the `cs` module: `"alicloud_cr_ee_repo": {Tok: resource(csMod, "RegistryEnterpriseRepo")}` and
`"alicloud_cr_ee_namespace": {Tok: resource(csMod, "RegistryEnterpriseNamespace")}`
(pulumi/pulumi-alicloud provider/resources.go). Since 1.280.0 only `alicloud_cr_ee_repo` changed:
2a7e5b12d added the optional `tag_immutability` and moved it to RPC calls.

Creating a personal namespace that already exists is not handled: Create calls CreateNamespace
and returns any error as it is (cr_namespace.go:57-62), with no "already exists" case:

    raw, err := client.WithCrClient(func(crClient *cr.Client) (interface{}, error) {
        return crClient.CreateNamespace(request)
    })
    if err != nil {
        return WrapErrorf(err, DefaultErrorMsg, "alicloud_cr_namespace", ...)
    }

so a namespace made earlier (by hand, another stack, or another function of the same stack with
the same name) fails the deployment; `existing: True` in the library is the way to reuse one. A
personal edition account may hold at most three namespaces (ACR "Manage namespaces",
alibabacloud.com/help/doc-detail/60765.htm). The enterprise Create (cr_ee_namespace.go:68-90)
has no "already exists" case either.

Deleting never refuses for what is inside: the ACR API deletes a namespace with all its
repositories and their images ("After you delete a namespace, all repositories in the namespace
and all images in the repositories are deleted": personal DeleteNamespace,
alibabacloud.com/help/doc-detail/72391.html; enterprise DeleteNamespace,
alibabacloud.com/help/en/acr/developer-reference/api-cr-2018-12-01-deletenamespace), and a
repository is deleted with its images (unconfirmed in the docs; the provider has no special case).
Note the enterprise deletes report any unsuccessful response as "not found"
(service_alicloud_cr_ee.go:275-279 and :426-431 wrap it with NotFoundMsg), and the resources'
Delete treats not-found as done (cr_ee_namespace.go:186, cr_ee_repo.go:209): a refused enterprise
delete would leave the namespace or repository behind silently.

The docker image is pulumi-docker's own (not bridged) resource; its rules come from the SDK's
docstrings and types (`pulumi_docker` 5.2.0, image.py and _inputs.py).
"""

from __future__ import annotations

from provider_contract.model import PROVIDER, Field, Resource
from provider_contract.rules import length, matches

NAMESPACE = PROVIDER + "resource_alicloud_cr_namespace.go:"
REPO = PROVIDER + "resource_alicloud_cr_repo.go:"
EE_NAMESPACE = PROVIDER + "resource_alicloud_cr_ee_namespace.go:"
EE_REPO = PROVIDER + "resource_alicloud_cr_ee_repo.go:"
DOCKER = "pulumi-docker 5.2.0 "
IMAGE = DOCKER + "image.py:"
DOCKER_INPUTS = DOCKER + "_inputs.py:"

REPO_TYPES = ("PUBLIC", "PRIVATE")
"""RepoTypePublic and RepoTypePrivate (service_alicloud_cr.go:57-58)."""

PERSONAL_NAMESPACE = r"[a-z0-9][a-z0-9_-]*"
"""Personal namespaces: lowercase letters, digits, `-` and `_`, not starting with `-` or `_`; no
`.` (the provider checks only the length, 2-30)."""
PERSONAL_NAMESPACE_DOC = (
    "ACR personal API DeleteNamespace (alibabacloud.com/help/doc-detail/72391.html) and ROS "
    "ALIYUN::CR::Namespace (doc-detail/137470.htm); not checked by the provider"
)
ENTERPRISE_NAMESPACE = r"[a-z0-9](?:[a-z0-9._-]{0,118}[a-z0-9])?"
"""Enterprise namespaces: 2-120 lowercase letters, digits, `_`, `-` and `.`, not starting or
ending with a delimiter (the length minimum is checked separately)."""
ENTERPRISE_NAMESPACE_DOC = (
    "pulumi-alicloud 4.0.0 cs/registry_enterprise_namespace.py:34 (the provider's docs); not "
    "checked by the provider"
)


NAMESPACE_RESOURCE = Resource(
    type="alicloud:cr/namespace:Namespace",
    terraform="alicloud_cr_namespace",
    fields=(
        Field(
            "name",
            "string",
            NAMESPACE + "23 (StringLenBetween(2, 30) at :27; Pulumi autonames it when omitted)",
            required=True,
            force_new=True,
            min_length=2,
            max_length=30,
        ),
        Field("autoCreate", "bool", NAMESPACE + "29", required=True),
        Field(
            "defaultVisibility",
            "string",
            NAMESPACE + "33 (StringInSlice at :36)",
            required=True,
            allowed=REPO_TYPES,
        ),
    ),
    identity=("name",),
    # A personal namespace is a path on the region's shared registry host
    # (registry.<region>.aliyuncs.com/<namespace>/...), so its name is taken for every account
    # there; unconfirmed in ACR's docs, which say only that a name must be unique.
    scope="global",
    identity_source=NAMESPACE + "65 d.SetId(namespaceName); Create has no 'already exists' case",
    rules=(
        matches(
            "name",
            PERSONAL_NAMESPACE,
            "lowercase letters, digits, `-` and `_`, not starting with `-` or `_` (no `.`)",
            PERSONAL_NAMESPACE_DOC,
        ),
    ),
)

REPO_RESOURCE = Resource(
    type="alicloud:cr/repo:Repo",
    terraform="alicloud_cr_repo",
    fields=(
        Field(
            "namespace",
            "string",
            REPO + "25 (StringLenBetween(2, 30) at :29)",
            required=True,
            force_new=True,
            min_length=2,
            max_length=30,
        ),
        Field(
            "name",
            "string",
            REPO + "31 (StringLenBetween(2, 30) at :35; Pulumi autonames it when omitted)",
            required=True,
            force_new=True,
            min_length=2,
            max_length=30,
        ),
        Field(
            "summary",
            "string",
            REPO + "37 (StringLenBetween(1, 100) at :40; the SDK docs say 1-80)",
            required=True,
            min_length=1,
            max_length=100,
        ),
        Field(
            "repoType",
            "string",
            REPO + "42 (StringInSlice at :45)",
            required=True,
            allowed=REPO_TYPES,
        ),
        Field("detail", "string", REPO + "47 (StringLenBetween(0, 2000) at :50)", max_length=2000),
    ),
    identity=("namespace", "name"),
    identity_source=REPO + "105 d.SetId('<namespace>/<name>')",
)

EE_NAMESPACE_RESOURCE = Resource(
    type="alicloud:cs/registryEnterpriseNamespace:RegistryEnterpriseNamespace",
    terraform="alicloud_cr_ee_namespace",
    fields=(
        Field("instanceId", "string", EE_NAMESPACE + "25", required=True, force_new=True),
        Field(
            "name",
            "string",
            EE_NAMESPACE + "30 (no ValidateFunc; Pulumi autonames it when omitted)",
            required=True,
            force_new=True,
        ),
        Field("autoCreate", "bool", EE_NAMESPACE + "35"),
        Field(
            "defaultVisibility",
            "string",
            EE_NAMESPACE + "39 (StringInSlice at :43)",
            allowed=REPO_TYPES,
        ),
    ),
    identity=("instanceId", "name"),
    identity_source=EE_NAMESPACE + "92 d.SetId('<instance_id>:<name>')",
    rules=(
        length("name", 2, 120, ENTERPRISE_NAMESPACE_DOC),
        matches(
            "name",
            ENTERPRISE_NAMESPACE,
            "lowercase letters, digits, `_`, `-` and `.`, not starting or ending with a delimiter",
            ENTERPRISE_NAMESPACE_DOC,
        ),
    ),
)

EE_REPO_RESOURCE = Resource(
    type="alicloud:cs/registryEnterpriseRepo:RegistryEnterpriseRepo",
    terraform="alicloud_cr_ee_repo",
    fields=(
        Field("instanceId", "string", EE_REPO + "22", required=True, force_new=True),
        Field("namespace", "string", EE_REPO + "27", required=True, force_new=True),
        Field(
            "name",
            "string",
            EE_REPO + "32 (no ValidateFunc; Pulumi autonames it when omitted)",
            required=True,
            force_new=True,
        ),
        Field(
            "repoType",
            "string",
            EE_REPO + "37 (StringInSlice at :40)",
            required=True,
            allowed=REPO_TYPES,
        ),
        Field("summary", "string", EE_REPO + "42", required=True),
        Field("detail", "string", EE_REPO + "46"),
        Field("tagImmutability", "bool", EE_REPO + "50 (added after 1.280.0, 2a7e5b12d)"),
    ),
    identity=("instanceId", "namespace", "name"),
    identity_source=EE_REPO + "107 d.SetId('<instance_id>:<namespace>:<name>')",
)

IMAGE_RESOURCE = Resource(
    type="docker:index/image:Image",
    terraform="(none: pulumi-docker's native docker:index/image:Image)",
    fields=(
        Field("imageName", "string", IMAGE + "24 (required; repository[:tag], :32)", required=True),
        Field("build", "object", IMAGE + "25 (DockerBuildArgs, _inputs.py:8998)"),
        Field("build.addHosts", "list", DOCKER_INPUTS + "9043"),
        Field("build.addHosts[]", "string", DOCKER_INPUTS + "9043 ('host:ip')"),
        Field("build.args", "map", DOCKER_INPUTS + "9055"),
        Field(
            "build.builderVersion",
            "string",
            DOCKER_INPUTS + "9067 (BuilderVersion, _enums.py:19-23)",
            allowed=("BuilderV1", "BuilderBuildKit"),
        ),
        Field("build.cacheFrom", "object", DOCKER_INPUTS + "9079 (CacheFromArgs, :8932)"),
        Field("build.cacheFrom.images", "list", DOCKER_INPUTS + "8945"),
        Field("build.cacheFrom.images[]", "string", DOCKER_INPUTS + "8945"),
        Field("build.context", "string", DOCKER_INPUTS + "9091"),
        Field("build.dockerfile", "string", DOCKER_INPUTS + "9103"),
        Field("build.network", "string", DOCKER_INPUTS + "9115"),
        Field(
            "build.platform",
            "string",
            DOCKER_INPUTS + "9127; one os/arch only, e.g. linux/amd64 (image.py:149)",
            pattern=r"[^,\s]+",
        ),
        Field("build.target", "string", DOCKER_INPUTS + "9139"),
        Field("buildOnPreview", "bool", IMAGE + "26 (default false)"),
        Field("registry", "object", IMAGE + "27 (RegistryArgs, _inputs.py:9236)"),
        Field("registry.password", "string", DOCKER_INPUTS + "9257"),
        Field("registry.server", "string", DOCKER_INPUTS + "9269"),
        Field("registry.username", "string", DOCKER_INPUTS + "9281"),
        Field("skipPush", "bool", IMAGE + "28 (default false)"),
    ),
    # No field replaces the image: every change rebuilds and pushes in place, and a change of
    # registry username or password alone is no diff (pulumi-docker provider/provider.go Diff;
    # read at a recent commit, not pinned to 5.2.0).
    identity=(),
    identity_source=(
        IMAGE + "33 ('This reference is not unique to each build and push'): the id is made by "
        "the provider; pushing the same tag twice overwrites it in the registry, and deleting "
        "the resource leaves the tag there (image.py:135 'does not delete tags, locally or "
        "remotely')"
    ),
    rules=(
        matches(
            "imageName",
            r"[^@\s]+",
            "repository[:tag] (no digest, no whitespace)",
            IMAGE + "32",
        ),
    ),
)

RESOURCES: tuple[Resource, ...] = (
    NAMESPACE_RESOURCE,
    REPO_RESOURCE,
    EE_NAMESPACE_RESOURCE,
    EE_REPO_RESOURCE,
    IMAGE_RESOURCE,
)
"""The registry resource types the library declares (infra/container.py)."""
