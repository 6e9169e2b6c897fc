"""`make run` installs only what local mode needs, says so while it installs, and passes PORT through."""

from __future__ import annotations

import os
import shutil
import subprocess
import tomllib
from pathlib import Path

import pytest

ROOT = Path(__file__).parents[2]

pytestmark = pytest.mark.skipif(shutil.which("make") is None, reason="needs make")


def planned(target: str, *variables: str, venv: Path) -> list[str]:
    """The commands `make` would run for `target` in a checkout with no venv yet (`make -n`)."""
    # Under `make test` this is a sub-make: without the outer make's variables it plans as a user's would.
    environment = {k: v for k, v in os.environ.items() if k not in ("MAKEFLAGS", "MFLAGS", "MAKELEVEL")}
    result = subprocess.run(
        ["make", "--no-print-directory", "-n", target, f"VENV={venv}", *variables],
        cwd=ROOT,
        env=environment,
        capture_output=True,
        text=True,
        timeout=30,
        check=True,
    )
    return result.stdout.splitlines()


def test_make_run_installs_local_mode_only_and_says_so(tmp_path: Path) -> None:
    commands = planned("run", venv=tmp_path / "venv")

    installs = [c for c in commands if " install " in c and "--upgrade pip" not in c]
    assert installs == [f"{tmp_path}/venv/bin/pip install --quiet -e '.[local]'"]
    progress = commands.index(next(c for c in commands if c.startswith("echo ")))
    assert progress < commands.index(installs[0])
    assert "installing local mode's packages" in commands[progress]
    assert commands[-1].split() == [f"{tmp_path}/venv/bin/suno-callbacks", "local"]


def test_the_local_extra_is_moto_server_and_nothing_of_the_dev_tools() -> None:
    extras = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["optional-dependencies"]
    assert [r.split(">")[0] for r in extras["local"]] == ["moto[server]"]
    assert "suno-callbacks[local]" in extras["dev"]
    assert {"aws-cdk-lib", "mypy", "pytest"} <= {r.split("=")[0].split(">")[0] for r in extras["dev"]}


def test_make_test_and_synth_install_the_dev_tools(tmp_path: Path) -> None:
    for target in ("test", "synth"):
        assert f"{tmp_path}/venv/bin/pip install --quiet -e '.[dev]'" in planned(
            target, venv=tmp_path / "venv"
        )


def test_make_run_passes_port_through(tmp_path: Path) -> None:
    commands = planned("run", "PORT=8788", venv=tmp_path / "venv")
    assert commands[-1].split() == [f"{tmp_path}/venv/bin/suno-callbacks", "local", "--port", "8788"]
