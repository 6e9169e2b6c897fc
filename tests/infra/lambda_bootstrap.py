"""Runs one Lambda handler as Lambda's Python runtime would, inside the sandbox (lambda_sandbox.py).

Started as `python -I -S -B lambda_bootstrap.py REQUEST RESPONSE`: the path is the standard library only,
to which this prepends the request's directories (asset, layer, runtime, in Lambda's order). Standard
library only, here: nothing of the test environment may be importable.
"""

from __future__ import annotations

import importlib
import json
import sys
import time
import uuid
from pathlib import Path
from typing import Any


class LambdaContext:
    """The context object Lambda passes to a handler, with the function's real timeout."""

    def __init__(self, function_name: str, memory_limit_in_mb: int, timeout_ms: int) -> None:
        self.function_name = function_name
        self.function_version = "$LATEST"
        self.invoked_function_arn = f"arn:aws:lambda:us-east-1:123456789012:function:{function_name}"
        self.memory_limit_in_mb = memory_limit_in_mb
        self.aws_request_id = str(uuid.uuid4())
        self.log_group_name = f"/aws/lambda/{function_name}"
        self.log_stream_name = "sandbox"
        self._deadline = time.monotonic() + timeout_ms / 1000

    def get_remaining_time_in_millis(self) -> int:
        return max(0, int((self._deadline - time.monotonic()) * 1000))


def describe(name: str) -> dict[str, str | None]:
    module = sys.modules.get(name)
    if module is None:
        return {"file": None, "version": None}
    version = getattr(module, "__version__", None)
    return {"file": getattr(module, "__file__", None), "version": None if version is None else str(version)}


def main(request_path: Path, response_path: Path) -> None:
    request: dict[str, Any] = json.loads(request_path.read_text(encoding="utf-8"))
    if not (sys.flags.isolated and sys.flags.no_site):
        raise SystemExit("start with python -I -S")
    standard_library = [entry for entry in sys.path if entry and "site-packages" not in entry]
    sys.path[:] = request["path"] + standard_library

    module_name, _, function_name = request["handler"].rpartition(".")
    handler = getattr(importlib.import_module(module_name), function_name)
    results = []
    for event in request["events"]:
        context = LambdaContext(**request["context"])
        results.append(handler(event, context))
    response = {
        "results": results,
        "modules": {name: describe(name) for name in request["probe"]},
        "sys_path": sys.path,
    }
    response_path.write_text(json.dumps(response), encoding="utf-8")


if __name__ == "__main__":
    main(Path(sys.argv[1]), Path(sys.argv[2]))
