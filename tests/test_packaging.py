"""What `pip install` of the repository gives another program: the library with its data files."""

from __future__ import annotations

import importlib.util
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

import infra
from infra.container import DOCKERFILE

REPO = Path(__file__).resolve().parents[1]
PACKAGE_ROOT = Path(infra.__file__).resolve().parent.parent


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The wheel pip builds from this checkout, offline, with the hatchling of this venv."""
    if importlib.util.find_spec("hatchling") is None:
        pytest.fail(
            "hatchling (the build backend in pyproject.toml's [build-system]) is not installed in "
            "this venv, so the wheel cannot be built offline: add it to [dependency-groups] dev "
            "and run `make setup`"
        )
    out = tmp_path_factory.mktemp("wheel")
    command = [sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation"]
    command += ["--no-index", "--disable-pip-version-check", "--quiet", "-w", str(out), str(REPO)]
    result = subprocess.run(command, capture_output=True, text=True, check=False)
    assert result.returncode == 0, result.stderr
    (built,) = out.glob("*.whl")
    return built


def test_the_wheel_ships_the_dockerfile(wheel: Path) -> None:
    inside = DOCKERFILE.resolve().relative_to(PACKAGE_ROOT).as_posix()
    with zipfile.ZipFile(wheel) as archive:
        assert archive.read(inside) == DOCKERFILE.read_bytes()


def test_an_installed_library_finds_its_dockerfile(wheel: Path, tmp_path: Path) -> None:
    # A wheel of pure Python unpacked on sys.path is what pip installs; the import runs in a fresh
    # interpreter whose path puts the unpacked copy before this checkout.
    site = tmp_path / "site"
    with zipfile.ZipFile(wheel) as archive:
        archive.extractall(site)
    probe = (
        f"import sys; sys.path.insert(0, {str(site)!r}); "
        "from infra.container import DOCKERFILE; print(DOCKERFILE.resolve())"
    )
    result = subprocess.run(
        [sys.executable, "-I", "-c", probe], capture_output=True, text=True, check=False, cwd=site
    )
    assert result.returncode == 0, result.stderr
    found = Path(result.stdout.strip())
    assert found.is_relative_to(site.resolve())
    assert found.read_bytes() == DOCKERFILE.read_bytes()
