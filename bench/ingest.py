"""Ingest cost per callback and cold import, as ratios against baselines measured in the same run.

(a) The real `lambda_handler` (Powertools resolver, auth, normalisation, record building, logging and
    metrics) over >= 1,000 callbacks of mixed kinds, with the AWS calls stubbed: median time per callback,
    against the 1 ms target (ratio <= 1 passes).
(b) Cold import of the ingest handler module divided by the cold import of boto3 plus creating its
    DynamoDB and SQS clients, each in fresh interpreters, alternated (target <= 1.3). Printed beside it:
    the handler import plus the clients it creates on its first call, i.e. the whole cold path.

Run: `make bench` or `.venv/bin/python bench/ingest.py [--callbacks N] [--runs N]`.
"""

from __future__ import annotations

import argparse
import contextlib
import io
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path
from types import SimpleNamespace
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
FIXTURES = sorted((ROOT / "tests/fixtures/examples").glob("*.json")) + sorted(
    (ROOT / "tests/fixtures/seeds").glob("*.json")
)
SECRET = "bench-secret-0123456789abcdef"
ENVIRONMENT = {
    "AWS_DEFAULT_REGION": "us-east-1",
    "AWS_ACCESS_KEY_ID": "bench",
    "AWS_SECRET_ACCESS_KEY": "bench",
    "SUNO_CALLBACKS_TABLE": "table",
    "SUNO_CALLBACKS_BUCKET": "bucket",
    "SUNO_CALLBACKS_QUEUE_URL": "https://sqs.us-east-1.amazonaws.com/123456789012/archive",
    "SUNO_CALLBACKS_SECRET_ID": "secret",
    "SUNO_CALLBACKS_SECRET_MAX_AGE_SECONDS": "3600",
    "POWERTOOLS_TRACE_DISABLED": "1",
}


class StubAws:
    """Answers every call the ingest path makes, instantly and successfully."""

    def _ok(self, **_: Any) -> dict[str, Any]:
        return {}

    put_item = update_item = send_message = put_object = _ok

    def get_secret_value(self, **_: Any) -> dict[str, Any]:
        return {"SecretString": json.dumps({"current": SECRET})}


def handler_time_per_callback(count: int) -> tuple[float, float]:
    """Median and p95 seconds per callback through the real handler."""
    os.environ.update(ENVIRONMENT)
    sys.path.insert(0, str(ROOT / "functions"))
    from suno_callbacks.handlers import ingest as handler
    from suno_callbacks.local.http_adapter import http_api_event  # the event API Gateway sends
    from suno_callbacks.logic.signing import SigningKeys, signed_callback_url
    from suno_callbacks.observability import logger

    stub = StubAws()
    for module_name in ("records", "queue", "bodies", "secrets"):  # every data-access module gets the stub
        sys.modules[f"suno_callbacks.dal.{module_name}"].client = lambda _service: stub
    keys = SigningKeys(current=SECRET)  # type: ignore[arg-type]
    bodies = [(path.name.split(".")[0], json.loads(path.read_text())) for path in FIXTURES]
    urls = {kind: signed_callback_url("https://x", kind, keys, ref="job-1") for kind, _ in bodies}
    events = [
        http_api_event(
            method="POST",
            target=urls[kind].removeprefix("https://x"),
            headers={"content-type": "application/json"},
            body=json.dumps(payload).encode(),
            source_ip="203.0.113.10",
            kind=kind,
        )
        for kind, payload in (bodies[n % len(bodies)] for n in range(count))
    ]
    context = SimpleNamespace(
        function_name="ingest",
        aws_request_id="r",
        memory_limit_in_mb=256,
        invoked_function_arn="arn",
        function_version="1",
    )
    log_lines = io.StringIO()
    logger.registered_handler.setStream(log_lines)  # type: ignore[attr-defined]
    timings = []
    with contextlib.redirect_stdout(io.StringIO()):  # metrics (EMF) print to stdout
        for event in events[:50]:  # warm-up: first-call caches (secret, settings, resolver)
            handler.lambda_handler(event, context)
        for event in events:
            started = time.perf_counter()
            response = handler.lambda_handler(event, context)
            timings.append(time.perf_counter() - started)
            assert response["statusCode"] == 200, response
    timings.sort()
    return statistics.median(timings), timings[int(len(timings) * 0.95)]


def cold_import_seconds(code: str, runs: int) -> list[float]:
    env = {**ENVIRONMENT, "PATH": os.environ.get("PATH", ""), "PYTHONPATH": str(ROOT / "functions")}
    program = f"import time\nstarted = time.perf_counter()\n{code}\nprint(time.perf_counter() - started)"
    results = []
    for _ in range(runs):
        done = subprocess.run(
            [sys.executable, "-c", program], env=env, capture_output=True, text=True, check=True
        )
        results.append(float(done.stdout.strip().splitlines()[-1]))
    return results


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--callbacks", type=int, default=2000)
    parser.add_argument("--runs", type=int, default=9)
    args = parser.parse_args()

    baseline_code = "import boto3\nboto3.client('dynamodb')\nboto3.client('sqs')"
    handler_code = "import suno_callbacks.handlers.ingest"
    cold_path_code = (
        "import suno_callbacks.handlers.ingest\nfrom suno_callbacks.dal.aws import client\n"
        "client('dynamodb')\nclient('sqs')\nclient('secretsmanager')"
    )
    baseline, handler_import, cold_path = [], [], []
    for _ in range(args.runs):  # alternated, so that machine noise hits all three alike
        baseline += cold_import_seconds(baseline_code, 1)
        handler_import += cold_import_seconds(handler_code, 1)
        cold_path += cold_import_seconds(cold_path_code, 1)

    median, p95 = handler_time_per_callback(args.callbacks)
    b = statistics.median(baseline)
    print(f"ingest bench ({args.callbacks} callbacks of {len(FIXTURES)} kinds/outcomes, AWS stubbed)")
    print(f"(a) handler median per callback: {median * 1e3:.3f} ms (p95 {p95 * 1e3:.3f} ms)")
    print(f"    ratio to the 1 ms target: {median / 1e-3:.2f}  [target <= 1.00]")
    print(f"(b) cold import, median of {args.runs} fresh interpreters each:")
    print(f"    boto3 + DynamoDB and SQS clients (baseline): {b * 1e3:.0f} ms")
    print(
        f"    ingest handler module:                       {statistics.median(handler_import) * 1e3:.0f} ms"
    )
    print(f"    ratio handler / baseline: {statistics.median(handler_import) / b:.2f}  [target <= 1.30]")
    print(f"    whole cold path (handler + its 3 clients) / baseline: {statistics.median(cold_path) / b:.2f}")


if __name__ == "__main__":
    main()
