"""The functions' code asset, built on the host without Docker.

One asset serves every function (the handlers share one package): the `suno_callbacks` package without
its developer-only modules, plus the few third-party wheels the Powertools layer and the runtime do not
guarantee, which `pip` downloads for Lambda's platform (`manylinux2014_aarch64`, `--only-binary`) whatever
the host is. No bytecode: pip would compile it for the build host's Python, whose .pyc files Lambda's
Python 3.14 never reads. Each package's `.dist-info` stays (its licence; mido reads its version from it).
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import jsii
from aws_cdk import BundlingOptions, DockerImage, ILocalBundling
from aws_cdk import aws_lambda as lambda_

from infra import constants


@jsii.implements(ILocalBundling)
class PipLocalBundling:
    """Copies the package and `pip install`s the bundled requirements for arm64 into the asset."""

    def __init__(self, source: Path, requirements: tuple[str, ...], python_version: str) -> None:
        self._source = source
        self._requirements = requirements
        self._python_version = python_version

    def try_bundle(self, output_dir: str, *_options: Any, **_keyword_options: Any) -> bool:
        # jsii also hands over the BundlingOptions, which local bundling does not need.
        output = Path(output_dir)
        shutil.copytree(
            self._source / constants.PACKAGE,
            output / constants.PACKAGE,
            ignore=_ignore_developer_modules(self._source / constants.PACKAGE),
            dirs_exist_ok=True,
        )
        if self._requirements:
            self._pip_install(output)
        return True

    def _pip_install(self, output: Path) -> None:
        subprocess.run(  # noqa: S603 - a fixed argument list, no shell
            [
                sys.executable,
                "-m",
                "pip",
                "install",
                "--quiet",
                "--disable-pip-version-check",
                "--platform",
                "manylinux2014_aarch64",
                "--implementation",
                "cp",
                "--python-version",
                self._python_version,
                "--only-binary=:all:",
                # The pins are the complete list (constants.BUNDLED_REQUIREMENTS): nothing unpinned comes in.
                "--no-deps",
                # .pyc files for the build host's interpreter would be dead weight in the asset.
                "--no-compile",
                "--target",
                str(output),
                *self._requirements,
            ],
            check=True,
        )
        # Console scripts point at the build host's interpreter; the functions never run them.
        shutil.rmtree(output / "bin", ignore_errors=True)


def _ignore_developer_modules(package_root: Path) -> Callable[[str, list[str]], set[str]]:
    """The developer modules at the package's top level, and bytecode everywhere."""

    def ignore(directory: str, names: list[str]) -> set[str]:
        ignored = {n for n in names if n == "__pycache__" or n.endswith(".pyc")}
        if Path(directory) == package_root:
            ignored |= {n for n in names if n.startswith(constants.DEVELOPER_MODULES)}
        return ignored

    return ignore


def function_code() -> lambda_.Code:
    """The shared code asset. With `aws:cdk:bundling-stacks: []` (tests) CDK skips bundling altogether."""
    return lambda_.Code.from_asset(
        str(constants.FUNCTIONS_DIR),
        exclude=list(constants.ASSET_EXCLUDES),
        bundling=BundlingOptions(
            # Never pulled: local bundling always succeeds, and there is no Docker on the build host.
            image=DockerImage.from_registry("public.ecr.aws/sam/build-python3.14"),
            local=PipLocalBundling(
                constants.FUNCTIONS_DIR, constants.BUNDLED_REQUIREMENTS, constants.PYTHON_VERSION
            ),
        ),
    )
