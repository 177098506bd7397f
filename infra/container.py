"""ContainerImage: a function's static bootstrap as a `FROM scratch` image in Container Registry."""

from __future__ import annotations

from pathlib import Path
from typing import Literal, NotRequired, TypedDict

import pulumi
import pulumi_alicloud as alicloud
import pulumi_docker as docker

from infra.artifacts import program_relative
from infra.bootstrap import Builder, StaticBinary
from infra.bootstrap.build import write_atomic
from infra.errors import ConfigError
from infra.limits import check_acr_name

DOCKERFILE = Path(__file__).parent / "dockerfiles" / "Dockerfile"
"""The image definition: package data, so a `pip install` of the library has it too."""
TAG_LENGTH = 20
ENTRYPOINT = "/bootstrap"
"""Where DOCKERFILE puts the static bootstrap: the container's start command."""
CONTAINER_RUNTIME = "custom-container"


class RegistryArgs(TypedDict):
    """Where the image goes: Container Registry (ACR), personal or enterprise edition."""

    namespace: pulumi.Input[str]
    """ACR namespace (2-30 lower-case letters, digits, `.`, `_`, `-`; 2-120 for the enterprise
    edition). It is not created here: one namespace serves many functions, and the provider's
    create fails on a namespace that exists (`alicloud_cr_namespace` has no "already exists"
    handling). Give an existing one, or the `name` of a `RegistryNamespace` declared once."""
    repository: NotRequired[str]
    """Repository in the namespace; defaults to the crate name."""
    edition: NotRequired[Literal["personal", "enterprise"]]
    """`personal` (default) or `enterprise` (an existing instance: give `instance_id`)."""
    existing: NotRequired[bool]
    """The repository exists already: do not create it (default false)."""
    instance_id: NotRequired[str]
    """Enterprise edition: the instance ID (`cri-...`)."""
    instance_name: NotRequired[str]
    """Enterprise edition: the instance name, from which the registry addresses derive."""
    endpoint: NotRequired[str]
    """Registry host to push to; defaults from edition and region. Personal instances created
    since 2024-09 have their own host (`crpi-<id>.<region>.personal.cr.aliyuncs.com`): set it."""
    vpc_endpoint: NotRequired[str]
    """Registry host FC pulls from (VPC address); defaults from edition and region."""
    username: NotRequired[pulumi.Input[str]]
    """Registry login. Enterprise edition without it uses a temporary token (1 h)."""
    password: NotRequired[pulumi.Input[str]]
    """Registry password: pass a Pulumi secret (`config.require_secret`)."""


class ContainerImageArgs(TypedDict):
    """What to build and where to push it."""

    crate: str
    """The workspace crate whose static binary is the image's entrypoint."""
    registry: RegistryArgs
    """The registry, namespace and repository."""
    region: str
    """Alibaba Cloud region of the registry and the function (they must match)."""
    workspace: NotRequired[str]
    """The Cargo workspace root; defaults to the program's directory."""


def registry_hosts(registry: RegistryArgs, region: str) -> tuple[str, str]:
    """The (public, VPC) registry hosts: push over the first, give FC the second."""
    if registry.get("edition", "personal") == "enterprise":
        instance = registry.get("instance_name", "")
        public = f"{instance}-registry.{region}.cr.aliyuncs.com"
        vpc = f"{instance}-registry-vpc.{region}.cr.aliyuncs.com"
    else:
        public = f"registry.{region}.aliyuncs.com"
        vpc = f"registry-vpc.{region}.aliyuncs.com"
    return registry.get("endpoint", public), registry.get("vpc_endpoint", vpc)


PERSONAL_INSTANCE_PROBLEM = (
    "registry.endpoint {endpoint!r} is a personal instance created since 2024-09, whose "
    "namespaces and repositories the provider cannot create: alicloud_cr_namespace and "
    "alicloud_cr_repo call ACR's 2016-06-07 API, which serves only the older shared registry "
    "(terraform-provider-alicloud resource_alicloud_cr_namespace.go Create), and that the "
    "instance-scoped alicloud_cr_ee_* resources accept a personal instance is unconfirmed. "
    "Create the namespace and repository in the ACR console and set registry.existing (stack "
    "key registryExisting: true)"
)
"""Why a `crpi-` personal instance needs its namespace and repository made by hand."""


def registry_problems(registry: RegistryArgs, crate: str) -> list[tuple[str, str]]:
    """Every problem with the registry settings as (field, message): `registry.username`, ..."""
    problems: list[tuple[str, str]] = []
    edition = registry.get("edition", "personal")
    if edition not in ("personal", "enterprise"):
        problems.append(
            (
                "registry.edition",
                f"registry.edition must be 'personal' or 'enterprise', got {edition!r}",
            )
        )
    for field in ("namespace", "repository"):
        value = registry.get(field, crate if field == "repository" else "")
        if isinstance(value, pulumi.Output):
            continue  # a RegistryNamespace's name, checked where it is declared
        name = f"registry.{field}"
        problems += [(name, p) for p in check_acr_name(name, value, kind=field, edition=edition)]
    endpoint = registry.get("endpoint", "")
    if (
        edition == "personal"
        and isinstance(endpoint, str)
        and endpoint.startswith("crpi-")
        and not registry.get("existing", False)
    ):
        problems.append(("registry.existing", PERSONAL_INSTANCE_PROBLEM.format(endpoint=endpoint)))
    if edition == "enterprise":
        if "instance_id" not in registry:
            problems.append(
                (
                    "registry.instance_id",
                    "registry.instance_id is required for the enterprise edition",
                )
            )
        if "instance_name" not in registry and "endpoint" not in registry:
            problems.append(
                (
                    "registry.instance_name",
                    (
                        "registry.instance_name (or endpoint and vpc_endpoint) is required for "
                        "the enterprise edition"
                    ),
                )
            )
    elif "username" not in registry or "password" not in registry:
        problems.append(
            (
                "registry.username",
                (
                    "registry.username and registry.password are required for the personal "
                    "edition (the fixed registry password set in the ACR console, as a Pulumi "
                    "secret)"
                ),
            )
        )
    if ("username" in registry) != ("password" in registry):
        problems.append(
            (
                "registry.username",
                "registry.username and registry.password go together: set both or none",
            )
        )
    return problems


def check_registry(registry: RegistryArgs, crate: str) -> list[str]:
    """Every problem with the registry settings, each naming the field and what is allowed."""
    return [message for _, message in registry_problems(registry, crate)]


def image_tag(binary: StaticBinary) -> str:
    """A tag derived from the build's source fingerprint: same source, same tag, no diff."""
    return binary.fingerprint[:TAG_LENGTH]


def prepare_context(builder: Builder, crate: str) -> tuple[StaticBinary, Path]:
    """Build the static bootstrap and lay out the docker build context `dist/<crate>/image/`.

    The context holds the library's Dockerfile too, so the image's inputs are paths inside the
    program, the same on every machine wherever the library is installed.
    """
    binary = builder.static_binary(crate)
    context = builder.dist_dir(crate) / "image"
    context.mkdir(parents=True, exist_ok=True)
    for name, data, mode in (
        ("bootstrap", binary.path.read_bytes(), 0o755),
        ("Dockerfile", DOCKERFILE.read_bytes(), 0o644),
    ):
        target = context / name
        if not target.is_file() or target.read_bytes() != data:
            write_atomic(target, data, mode=mode)
    return binary, context


class ContainerImage(pulumi.ComponentResource):
    """The ACR namespace and repository (or existing ones) and the function's image in them."""

    image_name: pulumi.Output[str]
    """The reference pushed to, over the registry's public address."""
    vpc_image: pulumi.Output[str]
    """The same image by its VPC address: what FC pulls."""
    tag: pulumi.Output[str]
    """The content tag (from the source fingerprint)."""
    repo_digest: pulumi.Output[str]
    """The pushed image's digest reference."""

    def __init__(
        self, name: str, args: ContainerImageArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        """Validate, build the static binary, then declare the registry resources and image."""
        registry = args["registry"]
        problems = check_registry(registry, args["crate"])
        if problems:
            raise ConfigError(name, problems)
        super().__init__("fcrust:index:ContainerImage", name, None, opts)
        workspace = Builder(Path(args["workspace"]) if "workspace" in args else None)
        binary, context = prepare_context(workspace, args["crate"])
        public, vpc = registry_hosts(registry, args["region"])
        namespace = pulumi.Output.from_input(registry["namespace"])
        repository = registry.get("repository", args["crate"])
        tag = image_tag(binary)
        repo_resource = self._repository(name, registry, namespace, repository)

        username, password = self._credentials(registry)
        image = docker.Image(
            f"{name}-image",
            image_name=pulumi.Output.concat(public, "/", namespace, f"/{repository}:{tag}"),
            # pulumi-docker reads both paths relative to the program's directory, not the
            # workspace's: a workspace elsewhere must still give its own context.
            build=docker.DockerBuildArgs(
                context=program_relative(context),
                dockerfile=program_relative(context / "Dockerfile"),
                platform="linux/amd64",
            ),
            registry=docker.RegistryArgs(server=public, username=username, password=password),
            skip_push=False,
            build_on_preview=False,
            opts=pulumi.ResourceOptions(
                parent=self, depends_on=[repo_resource] if repo_resource else []
            ),
        )
        self.image_name = image.image_name
        self.vpc_image = pulumi.Output.concat(vpc, "/", namespace, f"/{repository}:{tag}")
        self.tag = pulumi.Output.from_input(tag)
        self.repo_digest = image.repo_digest
        self.register_outputs(
            {
                "image_name": self.image_name,
                "vpc_image": self.vpc_image,
                "tag": self.tag,
                "repo_digest": self.repo_digest,
            }
        )

    def _repository(
        self,
        name: str,
        registry: RegistryArgs,
        namespace: pulumi.Output[str],
        repository: str,
    ) -> pulumi.Resource | None:
        """The function's repository in the namespace, unless it exists already."""
        if registry.get("existing", False):
            return None
        child = pulumi.ResourceOptions(parent=self)
        if registry.get("edition", "personal") == "enterprise":
            return alicloud.cs.RegistryEnterpriseRepo(
                f"{name}-repository",
                instance_id=registry["instance_id"],
                namespace=namespace,
                name=repository,
                repo_type="PRIVATE",
                summary=f"fc-rust function {repository}",
                opts=child,
            )
        return alicloud.cr.Repo(
            f"{name}-repository",
            namespace=namespace,
            name=repository,
            repo_type="PRIVATE",
            summary=f"fc-rust function {repository}",
            opts=child,
        )

    @staticmethod
    def _credentials(
        registry: RegistryArgs,
    ) -> tuple[pulumi.Output[str], pulumi.Output[str]]:
        """Login for the push, always as secrets; enterprise without one gets a temporary token."""
        if "username" in registry and "password" in registry:
            return (
                pulumi.Output.secret(registry["username"]),
                pulumi.Output.secret(registry["password"]),
            )
        found = alicloud.cs.get_registry_enterprise_instances_output(
            ids=[registry["instance_id"]], enable_details=True
        )
        first = found.instances.apply(lambda instances: instances[0])
        return (
            pulumi.Output.secret(first.apply(lambda i: i.temp_username)),
            pulumi.Output.secret(first.apply(lambda i: i.authorization_token)),
        )


class RegistryNamespaceArgs(TypedDict):
    """The ACR namespace to create."""

    namespace: str
    """Its name: 2-30 lower-case letters, digits, single `.`, `_` or `-` between them (2-120
    for the enterprise edition)."""
    edition: NotRequired[Literal["personal", "enterprise"]]
    """`personal` (default) or `enterprise` (give `instance_id`)."""
    instance_id: NotRequired[str]
    """Enterprise edition: the instance ID (`cri-...`)."""


class RegistryNamespace(pulumi.ComponentResource):
    """One ACR namespace, private, for the repositories of every function of a stack.

    Declare it once and pass `name` as each function's `registry.namespace`: the namespace's id
    is its name, so a second declaration of the same namespace fails at create.
    """

    name: pulumi.Output[str]
    """The namespace's name, for `RegistryArgs.namespace`."""

    def __init__(
        self, name: str, args: RegistryNamespaceArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        """Validate the name, then declare the namespace of the edition given."""
        edition = args.get("edition", "personal")
        problems = check_acr_name(
            "registry namespace", args["namespace"], kind="namespace", edition=edition
        )
        if edition == "enterprise" and "instance_id" not in args:
            problems.append("instance_id is required for the enterprise edition")
        if problems:
            raise ConfigError(name, problems)
        super().__init__("fcrust:index:RegistryNamespace", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        if edition == "enterprise":
            created: alicloud.cs.RegistryEnterpriseNamespace | alicloud.cr.Namespace = (
                alicloud.cs.RegistryEnterpriseNamespace(
                    f"{name}-namespace",
                    instance_id=args["instance_id"],
                    name=args["namespace"],
                    auto_create=False,
                    default_visibility="PRIVATE",
                    opts=child,
                )
            )
        else:
            created = alicloud.cr.Namespace(
                f"{name}-namespace",
                name=args["namespace"],
                auto_create=False,
                default_visibility="PRIVATE",
                opts=child,
            )
        self.name = created.name
        self.register_outputs({"name": self.name})
