"""The container variant for real: build the FROM-scratch image, run it as FC would, push, pull."""

from __future__ import annotations

import http.client
import json
import shutil
import socket
import subprocess
import time
import uuid
from typing import TYPE_CHECKING

import pytest

from infra.bootstrap import Builder, inspect_elf
from infra.container import DOCKERFILE, image_tag, prepare_context
from infra.local.instance import free_port
from stack.github_double import demo_double

if TYPE_CHECKING:
    from collections.abc import Callable, Iterator
    from pathlib import Path

pytestmark = [pytest.mark.docker, pytest.mark.usefixtures("docker_engine")]

IMAGE_OVERHEAD_BUDGET = 64 * 1024
"""What the image may weigh beyond its bootstrap: FROM scratch adds nothing but metadata."""


def docker(*args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
    return subprocess.run(["docker", *args], capture_output=True, text=True, check=check)


def listening(port: int) -> bool:
    with socket.socket() as sock:
        return sock.connect_ex(("127.0.0.1", port)) == 0


def wait_for_port(port: int, what: str, limit: float = 30) -> None:
    deadline = time.monotonic() + limit
    while not listening(port):
        if time.monotonic() > deadline:
            pytest.fail(f"{what} never listened on {port}")
        time.sleep(0.05)


def invoke(port: int, body: bytes) -> tuple[int, dict[str, str], bytes]:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    headers = {
        "x-fc-request-id": str(uuid.uuid4()),
        "x-fc-function-name": "fn",
        "x-fc-region": "cn-hangzhou",
        "Content-Type": "application/octet-stream",
    }
    connection.request("POST", "/invoke", body=body, headers=headers)
    response = connection.getresponse()
    result = response.status, {k.lower(): v for k, v in response.getheaders()}, response.read()
    connection.close()
    return result


@pytest.fixture(scope="module")
def images() -> Iterator[dict[str, tuple[str, int]]]:
    """Image reference and bootstrap size for hello and sync-forks, built from the static build."""
    builder = Builder()
    built: dict[str, tuple[str, int]] = {}
    for crate in ("hello", "sync-forks"):
        binary, context = prepare_context(builder, crate)
        reference = f"fc-rust-test/{crate}:{image_tag(binary)}"
        docker("build", "--quiet", "-f", str(DOCKERFILE), "-t", reference, str(context))
        built[crate] = (reference, binary.size)
    yield built
    docker("rmi", "--force", *(ref for ref, _ in built.values()), check=False)


@pytest.fixture
def run_container() -> Iterator[Callable[..., tuple[str, int]]]:
    """Start a container on the host network with FC's environment; removed afterwards."""
    started: list[str] = []

    def run(image: str, *extra: str, env: dict[str, str] | None = None) -> tuple[str, int]:
        port = free_port()
        variables = {
            "FC_CUSTOM_LISTEN_PORT": str(port),
            "FC_FUNCTION_NAME": "fn",
            "FC_REGION": "cn-hangzhou",
            "FC_FUNCTION_MEMORY_SIZE": "128",
            **(env or {}),
        }
        flags = [arg for key, value in variables.items() for arg in ("-e", f"{key}={value}")]
        name = f"fc-rust-test-{uuid.uuid4().hex[:12]}"
        docker("run", "-d", "--name", name, "--network", "host", *flags, *extra, image)
        started.append(name)
        wait_for_port(port, f"container {name}")
        return name, port

    yield run
    for name in started:
        docker("rm", "--force", name, check=False)


def test_static_bootstrap_needs_no_library(images: dict[str, tuple[str, int]]) -> None:
    for crate in images:
        binary = Builder().static_binary(crate)
        report = inspect_elf(binary.path.read_bytes())
        assert report.static
        assert report.needed_libraries == ()


def test_image_weighs_little_more_than_its_bootstrap(
    images: dict[str, tuple[str, int]], capsys: pytest.CaptureFixture[str]
) -> None:
    for crate, (reference, binary_size) in images.items():
        size = int(docker("image", "inspect", "--format", "{{.Size}}", reference).stdout)
        with capsys.disabled():
            print(f"\n{crate}: image {size} bytes, bootstrap {binary_size} bytes")  # noqa: T201
        assert binary_size <= size <= binary_size + IMAGE_OVERHEAD_BUDGET


def test_container_answers_success_and_failure_as_fc_expects(
    images: dict[str, tuple[str, int]], run_container: Callable[..., tuple[str, int]]
) -> None:
    _, port = run_container(images["hello"][0])
    status, headers, body = invoke(port, b'{"name": "container"}')
    assert (status, headers["x-fc-status"]) == (200, "200"), body
    assert b"container" in body
    status, headers, body = invoke(port, b'{"fail": true}')
    assert (status, headers["x-fc-status"]) == (404, "404")
    assert json.loads(body)["errorType"]
    status, headers, _ = invoke(port, b'{"name": "still serving"}')
    assert (status, headers["x-fc-status"]) == (200, "200")


def test_container_stops_cleanly_on_sigterm(
    images: dict[str, tuple[str, int]], run_container: Callable[..., tuple[str, int]]
) -> None:
    name, port = run_container(images["hello"][0])
    assert invoke(port, b"{}")[0] == 200
    docker("kill", "--signal", "TERM", name)
    exit_code = docker("wait", name).stdout.strip()
    assert exit_code == "0"


def test_static_sync_forks_takes_a_timer_event_and_resolves_names_without_nss(
    images: dict[str, tuple[str, int]], run_container: Callable[..., tuple[str, int]]
) -> None:
    token = "test-token-not-real"  # noqa: S105 - a fake value
    with demo_double(token) as double:
        port_of_double = double.url.rsplit(":", 1)[1]
        _, port = run_container(
            images["sync-forks"][0],
            "--add-host",
            "github-double.test:127.0.0.1",
            env={
                "GITHUB_API_URL": f"http://github-double.test:{port_of_double}",
                "GITHUB_TOKEN": token,
                "SYNC_FORKS": " ".join(double.forks),
            },
        )
        timer = {"triggerTime": "2026-11-26T00:00:00Z", "triggerName": "daily", "payload": ""}
        status, headers, body = invoke(port, json.dumps(timer).encode())
        outcomes = {outcome.repo: outcome.status for outcome in double.outcomes}
    assert (status, headers["x-fc-status"]) == (404, "404")
    assert outcomes == {
        "newcomer/behind-fork": 200,
        "newcomer/current-fork": 200,
        "newcomer/conflicted-fork": 409,
    }
    summary = json.loads(body)["details"]
    assert (summary["synced"], summary["up_to_date"], summary["conflict"]) == (1, 1, 1)
    assert token not in body.decode()


@pytest.fixture
def registry(tmp_path: Path) -> Iterator[str]:
    """Debian's docker-registry on 127.0.0.1, storage in a temporary directory."""
    binary = shutil.which("docker-registry")
    if binary is None:
        pytest.skip(
            "docker-registry not installed: `apt-get install docker-registry` (.ci/run does)"
        )
    port = free_port()
    config = tmp_path / "registry.yml"
    config.write_text(
        "version: 0.1\n"
        f"storage:\n  filesystem:\n    rootdirectory: {tmp_path / 'storage'}\n"
        f"http:\n  addr: 127.0.0.1:{port}\n"
    )
    process = subprocess.Popen(
        [binary, "serve", str(config)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    try:
        wait_for_port(port, "docker-registry")
        yield f"127.0.0.1:{port}"
    finally:
        process.terminate()
        process.wait(timeout=30)


def test_push_to_a_registry_and_pull_back_by_digest(
    images: dict[str, tuple[str, int]], registry: str
) -> None:
    local = images["hello"][0]
    remote = f"{registry}/{local}"
    docker("tag", local, remote)
    docker("push", remote)
    digest_ref = docker("image", "inspect", "--format", "{{index .RepoDigests 0}}", remote).stdout
    digest_ref = digest_ref.strip()
    assert digest_ref.startswith(f"{registry}/fc-rust-test/hello@sha256:")
    image_id = docker("image", "inspect", "--format", "{{.Id}}", local).stdout
    docker("rmi", remote)
    docker("pull", digest_ref)
    try:
        assert docker("image", "inspect", "--format", "{{.Id}}", digest_ref).stdout == image_id
    finally:
        docker("rmi", digest_ref, check=False)
