"""The container variant's resource graph under mocks, for FC 3.0 and 2.0.

The image tag comes from the real static build of the workspace's crates (a cache hit after the
first build), so "same source, same tag" and "one byte, new tag" are checked for real.
"""

from __future__ import annotations

import json
import runpy
from typing import TYPE_CHECKING

import conftest
import pytest
from conftest import REPO, Evaluation, dev_config, entry, evaluate, is_secret, run_main

from infra import ConfigError, RustFunction
from infra.access import IMAGE_PULL_POLICY
from infra.bootstrap import Builder
from infra.container import DOCKERFILE, TAG_LENGTH

if TYPE_CHECKING:
    from pathlib import Path

    from infra.container import RegistryArgs

FAKE_PASSWORD = "test-registry-password-not-real"  # noqa: S105 - a fake value
PUBLIC = "registry.cn-hangzhou.aliyuncs.com"
VPC = "registry-vpc.cn-hangzhou.aliyuncs.com"


def run_container_stack(workspace: Path = REPO, **overrides: str) -> Evaluation:
    """Evaluate `__main__.py` with both functions as containers in a personal ACR namespace."""
    config = dev_config(
        variant="container",
        registryNamespace="fcrust",
        registryUsername="someone@example.com",
        registryPassword=FAKE_PASSWORD,
        workspace=str(workspace),
        **overrides,
    )
    return evaluate(
        lambda: runpy.run_path(str(REPO / "__main__.py"), run_name="__main__"),
        config,
        ["fc-rust:githubToken", "fc-rust:registryPassword"],
    )


def tag_of(workspace: Path, crate: str) -> str:
    return Builder(workspace).static_binary(crate).fingerprint[:TAG_LENGTH]


@pytest.fixture(autouse=True)
def _in_repo(in_repo: Path) -> None:
    """Run from the project directory, as the Pulumi CLI does."""


def test_fc3_container_graph() -> None:
    evaluation = run_container_stack()
    assert evaluation.calls == []
    assert evaluation.of_type("alicloud:oss/bucket:Bucket") == []
    assert evaluation.of_type("alicloud:oss/bucketObject:BucketObject") == []
    # One namespace for the stack: the provider's create fails on a namespace that exists, so a
    # namespace declared per function would fail for the second function.
    (namespace,) = evaluation.of_type("alicloud:cr/namespace:Namespace")
    assert namespace.name == "registry-namespace"
    assert namespace.plain()["name"] == "fcrust"
    assert namespace.plain()["defaultVisibility"] == "PRIVATE"
    for crate in ("hello", "sync-forks"):
        tag = tag_of(REPO, crate)
        repository = evaluation.by_name(f"{crate}-image-repository")
        assert namespace.urn in repository.dependencies
        assert repository.type == "alicloud:cr/repo:Repo"
        assert repository.plain()["name"] == crate
        assert repository.plain()["repoType"] == "PRIVATE"

        image = evaluation.by_name(f"{crate}-image-image")
        assert image.type == "docker:index/image:Image"
        inputs = image.plain()
        assert inputs["imageName"] == f"{PUBLIC}/fcrust/{crate}:{tag}"
        assert inputs["build"] == {
            "context": f"dist/{crate}/image",
            "dockerfile": f"dist/{crate}/image/Dockerfile",
            "platform": "linux/amd64",
        }
        # The library's Dockerfile (package data), copied into the build context.
        context = REPO / "dist" / crate / "image"
        assert (context / "Dockerfile").read_bytes() == DOCKERFILE.read_bytes()
        assert inputs["registry"]["server"] == PUBLIC
        assert inputs["registry"]["password"] == FAKE_PASSWORD
        assert is_secret(image.inputs["registry"])
        assert inputs["buildOnPreview"] is False
        assert repository.urn in image.dependencies

        function = evaluation.by_name(f"{crate}-function")
        assert function.type == "alicloud:fc/v3Function:V3Function"
        config = function.plain()
        assert config["runtime"] == "custom-container"
        assert config["customContainerConfig"] == {
            "image": f"{VPC}/fcrust/{crate}:{tag}",
            "port": 9000,
            "entrypoints": ["/bootstrap"],
        }
        assert "code" not in config
        assert "customRuntimeConfig" not in config
        # The function waits for the push: it depends on the image component's resources.
        assert any(urn.endswith(f"::{crate}-image-image") for urn in function.dependencies)
        assert evaluation.outputs[crate]["image"] == f"{VPC}/fcrust/{crate}:{tag}"

        pull = evaluation.by_name(f"{crate}-role-image-pull-attachment").plain()
        assert (pull["policyName"], pull["policyType"]) == (IMAGE_PULL_POLICY, "System")


def test_fc2_container_graph() -> None:
    evaluation = run_container_stack(fcVersion="2.0")
    for crate in ("hello", "sync-forks"):
        tag = tag_of(REPO, crate)
        function = evaluation.by_name(f"{crate}-function")
        assert function.type == "alicloud:fc/function:Function"
        config = function.plain()
        assert config["runtime"] == "custom-container"
        assert config["caPort"] == 9000
        assert config["customContainerConfig"] == {
            "image": f"{VPC}/fcrust/{crate}:{tag}",
            "command": json.dumps(["/bootstrap"]),
        }
        assert "ossKey" not in config
        assert "codeChecksum" not in config
        service = evaluation.by_name(f"{crate}-service").plain()
        role = evaluation.by_name(f"{crate}-role-role").plain()
        assert service["role"].endswith(f":role/{role['roleName']}")
        pull = evaluation.by_name(f"{crate}-role-image-pull-attachment").plain()
        assert pull["roleName"] == role["roleName"]
        assert pull["policyName"] == IMAGE_PULL_POLICY


def test_an_entry_with_an_image_is_pulled_as_it_is() -> None:
    # Before: the config path gave every container entry the stack's registry, so an entry
    # naming an image FC can pull already failed "needs exactly one of registry or image".
    image = f"{VPC}/team/prebuilt:1.2.0"
    evaluation = run_main(functions=entry("hello", variant="container", image=image))
    function = evaluation.by_name("hello-function").plain()
    assert function["customContainerConfig"]["image"] == image
    assert evaluation.by_name("hello-role-image-pull-attachment").plain()["policyName"] == (
        IMAGE_PULL_POLICY
    )
    built = {r.name for r in evaluation.resources if r.type == "docker:index/image:Image"}
    assert built == set(), "nothing is built or pushed for a function that names its image"


def test_registry_password_is_secret_everywhere() -> None:
    evaluation = run_container_stack()
    for resource in evaluation.resources:
        raw = json.dumps(resource.inputs)
        if FAKE_PASSWORD in raw:
            assert resource.type == "docker:index/image:Image"
            assert is_secret(resource.inputs["registry"])
    assert FAKE_PASSWORD not in json.dumps(evaluation.outputs)


def test_same_source_same_tag_and_one_byte_a_new_tag(workspace_copy: Path) -> None:
    first = run_container_stack(workspace_copy)
    second = run_container_stack(workspace_copy)
    image_name = first.by_name("hello-image-image").plain()["imageName"]
    assert second.by_name("hello-image-image").plain()["imageName"] == image_name
    # The provider resolves both paths from the program's directory: they must reach the copy.
    build = first.by_name("hello-image-image").plain()["build"]
    image_dir = workspace_copy / "dist" / "hello" / "image"
    assert (REPO / build["context"]).resolve() == image_dir.resolve()
    assert (REPO / build["dockerfile"]).resolve() == (image_dir / "Dockerfile").resolve()
    assert image_name.endswith(f":{tag_of(REPO, 'hello')}")

    source = workspace_copy / "functions" / "hello" / "src" / "main.rs"
    source.write_text(source.read_text().replace("Hello, {name}!", "Hello, {name}."))
    changed = run_container_stack(workspace_copy)
    new_tag = tag_of(workspace_copy, "hello")
    assert new_tag != image_name.rsplit(":", 1)[1]
    assert changed.by_name("hello-image-image").plain()["imageName"].endswith(f":{new_tag}")
    assert (
        changed.by_name("hello-function")
        .plain()["customContainerConfig"]["image"]
        .endswith(f":{new_tag}")
    )
    for name in ("sync-forks-image-image", "sync-forks-function"):
        assert changed.by_name(name).inputs == first.by_name(name).inputs


def test_existing_enterprise_repository_creates_no_registry_resources() -> None:
    evaluation = evaluate(
        lambda: RustFunction(
            "hello",
            {
                "crate": "hello",
                "variant": "container",
                "registry": {
                    "edition": "enterprise",
                    "existing": True,
                    "instance_id": "cri-example",
                    "instance_name": "acme",
                    "namespace": "team",
                    "repository": "hello-fn",
                    "username": "robot",
                    "password": FAKE_PASSWORD,
                },
            },
        ),
        {"alicloud:region": "cn-hangzhou"},
    )
    types = {r.type for r in evaluation.resources}
    assert not {t for t in types if t.startswith(("alicloud:cr/", "alicloud:cs/"))}
    tag = tag_of(REPO, "hello")
    image = evaluation.by_name("hello-image-image").plain()
    assert image["imageName"] == f"acme-registry.cn-hangzhou.cr.aliyuncs.com/team/hello-fn:{tag}"
    config = evaluation.by_name("hello-function").plain()["customContainerConfig"]
    assert config["image"] == f"acme-registry-vpc.cn-hangzhou.cr.aliyuncs.com/team/hello-fn:{tag}"
    assert config["acrInstanceId"] == "cri-example"


def test_a_prebuilt_image_is_used_as_given() -> None:
    given = f"{VPC}/team/prebuilt:v1"
    evaluation = evaluate(
        lambda: RustFunction("hello", {"crate": "hello", "variant": "container", "image": given}),
        {"alicloud:region": "cn-hangzhou"},
    )
    assert evaluation.of_type("docker:index/image:Image") == []
    config = evaluation.by_name("hello-function").plain()["customContainerConfig"]
    assert config["image"] == given


@pytest.mark.parametrize(
    ("registry", "message"),
    [
        ({"namespace": "Bad_Namespace!"}, "registry.namespace must be 2-30 lower-case letters"),
        ({"namespace": "ok"}, "registry.username and registry.password are required"),
        (
            {"namespace": "ok", "edition": "enterprise"},
            "registry.instance_id is required for the enterprise edition",
        ),
        (
            {
                "namespace": "ok",
                "username": "u",
                "password": "p",
                "endpoint": "crpi-abc123.cn-hangzhou.personal.cr.aliyuncs.com",
            },
            "is a personal instance created since 2024-09, whose namespaces and repositories",
        ),
    ],
)
def test_bad_registry_settings_fail_before_anything_registers(
    registry: RegistryArgs, message: str
) -> None:
    with pytest.raises(ConfigError, match=message):
        evaluate(
            lambda: RustFunction(
                "hello", {"crate": "hello", "variant": "container", "registry": registry}
            ),
            {"alicloud:region": "cn-hangzhou"},
        )
    assert conftest.LAST_EVALUATION.resources == []


def test_container_registry_without_a_region_fails_before_anything_registers() -> None:
    with pytest.raises(ConfigError, match="needs the stack's region"):
        evaluate(
            lambda: RustFunction(
                "hello",
                {
                    "crate": "hello",
                    "variant": "container",
                    "registry": {"namespace": "ok", "username": "u", "password": "p"},
                },
            )
        )
    assert conftest.LAST_EVALUATION.resources == []


def test_a_registry_login_without_its_password_fails_at_preview() -> None:
    # Before: the push ran with an empty password, and failed only in `pulumi up`.
    config = dev_config(
        variant="container", registryNamespace="fcrust", registryUsername="someone@example.com"
    )
    with pytest.raises(ConfigError) as raised:
        evaluate(
            lambda: runpy.run_path(str(REPO / "__main__.py"), run_name="__main__"),
            config,
            ["fc-rust:githubToken"],
        )
    (problem,) = raised.value.problems
    assert problem.startswith("sync-forks, hello, hello-http: the registry login needs its")
    assert "pulumi config set --secret registryPassword" in problem
