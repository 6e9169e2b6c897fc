"""A stand-in for Lambda's Python runtime, to run the synthesised asset with only what Lambda provides.

Lambda puts the function's code first on the path, then its layers, then the runtime's own packages
(`/var/task`, `/opt/python`, the runtime's site-packages). The sandbox does the same with three
directories: the asset CDK synthesised, a "layer" holding what the AWS-managed Powertools v3 layer ships,
and a "runtime" holding what the Lambda Python runtime ships. Each handler runs in a fresh interpreter
started with `-I -S -B` (no environment, no site-packages, no bytecode written), so that anything the
asset does not carry and Lambda does not provide fails to import.

The layer and runtime directories are installed from PyPI once per set of versions, under `.build/`.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
import sys
import time
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tests.infra.conftest import ROOT

BUILD_DIR = ROOT / ".build" / "lambda-sandbox"
BOOTSTRAP = Path(__file__).with_name("lambda_bootstrap.py")

# What the AWS-managed layer AWSLambdaPowertoolsPythonV3-python314-arm64 ships: Powertools with its
# parser and tracer extras' dependencies, but not boto3, botocore or urllib3, which its build deletes.
# Layer versions advance by one per Powertools release; layer 36 carries 3.31.1, and PyPI's next releases
# are 3.34.0 and 3.35.0, so layer 38 (cdk.json's powertoolsLayerVersion) is taken as 3.35.0. The versions
# of pydantic and the X-Ray SDK inside the layer are not published; these are the development ones.
LAYER_PACKAGES = (
    "aws-lambda-powertools==3.35.0",
    "pydantic==2.14.3",
    "pydantic-core==2.50.4",
    "typing-extensions==4.16.0",
    "annotated-types==0.8.0",
    "typing-inspection==0.4.5",
    "aws-xray-sdk==2.15.0",
    "wrapt==2.5.2",
)
# What the Lambda Python runtime ships: boto3 with its dependencies. Which urllib3 it has is not
# documented; 1.26 is the worst case (urllib3 2 is what the functions need), so the sandbox has it, and the
# asset's own urllib3 must win.
RUNTIME_URLLIB3 = "1.26.20"
RUNTIME_PACKAGES = (
    "boto3==1.44.5",
    "botocore==1.44.5",
    "s3transfer==0.19.3",
    "jmespath==1.1.0",
    "python-dateutil==2.9.0.post0",
    "six==1.17.0",
    f"urllib3=={RUNTIME_URLLIB3}",
)


def site_directory(name: str, packages: tuple[str, ...]) -> Path:
    """`packages` (and nothing else) installed for this interpreter, built once per set of versions."""
    key = hashlib.sha256("\n".join((sys.version, *packages)).encode()).hexdigest()[:16]
    target = BUILD_DIR / f"{name}-{key}"
    if (target / ".complete").exists():
        return target
    staging = BUILD_DIR / f".{name}-{key}-{uuid.uuid4().hex}"
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "install",
            "--quiet",
            "--disable-pip-version-check",
            "--no-deps",  # exactly these packages: a missing one must show, not be resolved in
            "--no-compile",
            "--target",
            str(staging),
            *packages,
        ],
        check=True,
    )
    (staging / ".complete").write_text("\n".join(packages) + "\n")
    try:
        staging.rename(target)
    except OSError:  # another run built it meanwhile
        shutil.rmtree(staging, ignore_errors=True)
    return target


@dataclass(frozen=True)
class DeployedFunction:
    """One `AWS::Lambda::Function` of the synthesised template, with the directory of its code asset."""

    logical_id: str
    handler: str
    asset: Path
    timeout_seconds: int
    memory_mb: int
    environment: dict[str, Any]  # values are strings or unresolved CloudFormation references


def deployed_functions(assembly_dir: Path, stack_name: str) -> list[DeployedFunction]:
    """Each function's handler and asset, found the way the CDK CLI finds what to upload: the template's
    S3 key of the code, then the asset manifest's source for that object key."""
    template = json.loads((assembly_dir / f"{stack_name}.template.json").read_text())
    manifest = json.loads((assembly_dir / f"{stack_name}.assets.json").read_text())
    sources = {
        destination["objectKey"]: assembly_dir / asset["source"]["path"]
        for asset in manifest["files"].values()
        for destination in asset["destinations"].values()
    }
    functions = []
    for logical_id, resource in template["Resources"].items():
        if resource["Type"] != "AWS::Lambda::Function":
            continue
        properties = resource["Properties"]
        functions.append(
            DeployedFunction(
                logical_id=logical_id,
                handler=properties["Handler"],
                asset=sources[properties["Code"]["S3Key"]],
                timeout_seconds=properties["Timeout"],
                memory_mb=properties["MemorySize"],
                environment=properties.get("Environment", {}).get("Variables", {}),
            )
        )
    return functions


@dataclass(frozen=True)
class Invocation:
    results: list[Any]
    # For each probed module: where it was imported from and its version.
    modules: dict[str, dict[str, str | None]]
    sys_path: list[str]
    stdout: str
    stderr: str


def invoke(
    function: DeployedFunction,
    events: list[dict[str, Any]],
    *,
    path: list[Path],
    environment: dict[str, str],
    probe: tuple[str, ...] = (),
    timeout_seconds: float = 120,
) -> Invocation:
    """Import `function.handler` from `path` alone in a fresh interpreter and call it with each event in
    turn (one cold start, then warm invocations), as Lambda's runtime would."""
    BUILD_DIR.mkdir(parents=True, exist_ok=True)
    exchange = BUILD_DIR / f".invoke-{uuid.uuid4().hex}"
    exchange.mkdir()
    try:
        request = {
            "path": [str(p) for p in path],
            "handler": function.handler,
            "events": events,
            "context": {
                "function_name": function.logical_id,
                "memory_limit_in_mb": function.memory_mb,
                "timeout_ms": function.timeout_seconds * 1000,
            },
            "probe": list(probe),
        }
        (exchange / "request.json").write_text(json.dumps(request))
        completed = subprocess.run(
            [
                sys.executable,
                "-I",  # isolated: no PYTHON* variables, no user site, not the script's directory
                "-S",  # no site module: no site-packages, no .pth files
                "-B",  # write no bytecode into the asset
                str(BOOTSTRAP),
                str(exchange / "request.json"),
                str(exchange / "response.json"),
            ],
            env=lambda_environment(function, environment),
            capture_output=True,
            text=True,
            timeout=timeout_seconds,
            check=False,
        )
        if completed.returncode != 0:
            raise AssertionError(
                f"{function.handler} failed in the sandbox (exit {completed.returncode}):\n"
                f"{completed.stderr[-6000:]}\n--- stdout ---\n{completed.stdout[-3000:]}"
            )
        response = json.loads((exchange / "response.json").read_text())
    finally:
        shutil.rmtree(exchange, ignore_errors=True)
    return Invocation(
        results=response["results"],
        modules=response["modules"],
        sys_path=response["sys_path"],
        stdout=completed.stdout,
        stderr=completed.stderr,
    )


def lambda_environment(function: DeployedFunction, variables: dict[str, str]) -> dict[str, str]:
    """The variables Lambda sets for every function (so that Powertools and the X-Ray SDK behave as they do
    there), plus the function's own: nothing is inherited from the test process."""
    name = function.logical_id
    trace_id = f"1-{int(time.time()):08x}-{uuid.uuid4().hex[:24]}"
    return {
        "PATH": os.defpath,
        "LANG": "en_US.UTF-8",
        "TZ": ":UTC",
        "LAMBDA_TASK_ROOT": str(function.asset),
        "_HANDLER": function.handler,
        "AWS_EXECUTION_ENV": "AWS_Lambda_python3.14",
        "AWS_LAMBDA_FUNCTION_NAME": name,
        "AWS_LAMBDA_FUNCTION_VERSION": "$LATEST",
        "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": str(function.memory_mb),
        "AWS_LAMBDA_LOG_GROUP_NAME": f"/aws/lambda/{name}",
        "AWS_LAMBDA_LOG_STREAM_NAME": "sandbox",
        "AWS_LAMBDA_LOG_FORMAT": "JSON",
        "_X_AMZN_TRACE_ID": f"Root={trace_id};Parent={uuid.uuid4().hex[:16]};Sampled=1",
        "AWS_XRAY_CONTEXT_MISSING": "LOG_ERROR",
        **variables,
    }
