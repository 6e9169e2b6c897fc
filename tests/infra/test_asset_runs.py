"""The code asset `cdk deploy` uploads runs with only what Lambda provides.

The stack is synthesised with real bundling; each function's handler string and asset directory are read
from the template and the asset manifest, and each handler is imported and invoked in a fresh isolated
interpreter whose path holds only that asset, what the Powertools layer ships and what the runtime ships
(lambda_sandbox.py), against moto server: a few callbacks through ingest, the messages ingest queued
through archive (no media; MIDI notes written with mido; media downloaded with urllib3), then a sweep.
A file missing from the asset, or a dependency neither bundled nor provided, fails here.
"""

from __future__ import annotations

import json
import shutil
import threading
import urllib.parse
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import boto3
import pytest

from infra import constants
from infra.stack import build_app
from suno_callbacks.local.emulator import CREDENTIALS, REGION, LocalResources, MotoServer, create_resources
from suno_callbacks.local.http_adapter import http_api_event
from suno_callbacks.logic.signing import SigningKeys, signed_callback_url
from suno_callbacks.models.settings import PREFIX, ReaderSettings
from suno_callbacks.reader import Reader
from tests.conftest import FIXTURES, load_fixture
from tests.infra.conftest import ROOT
from tests.infra.lambda_sandbox import (
    LAYER_PACKAGES,
    RUNTIME_PACKAGES,
    RUNTIME_URLLIB3,
    DeployedFunction,
    deployed_functions,
    invoke,
    site_directory,
)

pytestmark = pytest.mark.slow

SECRET = "asset-test-signing-secret-0123456789abcdef"
API_ROOT = "https://api-id.execute-api.us-east-1.amazonaws.com"
# Served from 127.0.0.1; the sandbox lets archive fetch from it over http, as local mode does.
MEDIA = {
    "/song.mp3": (b"ID3" + bytes(range(256)) * 64, "audio/mpeg"),
    "/cover.jpeg": (b"\xff\xd8\xff\xe0" + bytes(range(256)) * 16, "image/jpeg"),
}
# Modules whose origin the test checks after each invocation.
PROBED = ("urllib3", "botocore", "boto3", "pydantic", "aws_lambda_powertools", "mido", "aws_xray_sdk")


def callbacks(media_base: str) -> list[tuple[str, dict[str, Any]]]:
    """(kind, body) posted to ingest; each ends in a task whose outcome archive settles."""
    music = {
        "code": 200,
        "msg": "All generated successfully.",
        "data": {
            "callbackType": "complete",
            "task_id": "asset-test-music",
            "data": [
                {
                    "id": "asset-test-track",
                    "audio_url": f"{media_base}/song.mp3",
                    "image_url": f"{media_base}/cover.jpeg",
                    "title": "Sandbox",
                    "duration": 1.5,
                }
            ],
        },
    }
    return [
        ("lyrics", load_fixture(FIXTURES / "examples" / "lyrics.success.json")),  # no media
        ("midi", load_fixture(FIXTURES / "examples" / "midi.success.json")),  # notes rendered with mido
        ("music", music),  # audio and cover downloaded with urllib3
    ]


# --- fixtures -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Synthesised:
    assembly_dir: Path
    functions: dict[str, DeployedFunction]  # by handler


@pytest.fixture(scope="module")
def synthesised(tmp_path_factory: pytest.TempPathFactory) -> Synthesised:
    # cdk.json's context as `cdk deploy` uses it: bundling included.
    context = json.loads((ROOT / "cdk.json").read_text())["context"]
    outdir = tmp_path_factory.mktemp("cdk.out")
    app, stack = build_app(context, outdir=str(outdir))
    assembly = app.synth()
    functions = deployed_functions(Path(assembly.directory), stack.stack_name)
    return Synthesised(Path(assembly.directory), {f.handler: f for f in functions})


@dataclass(frozen=True)
class Sandbox:
    layer: Path
    runtime: Path

    def path(self, function: DeployedFunction) -> list[Path]:
        # Lambda's order: /var/task, then /opt/python (layers), then the runtime's packages.
        return [function.asset, self.layer, self.runtime]


@pytest.fixture(scope="module")
def sandbox() -> Sandbox:
    return Sandbox(
        layer=site_directory("layer", LAYER_PACKAGES), runtime=site_directory("runtime", RUNTIME_PACKAGES)
    )


@dataclass(frozen=True)
class Emulated:
    endpoint_url: str
    resources: LocalResources
    media_base: str

    def aws(self, service: str) -> Any:
        return boto3.client(
            service,  # type: ignore[call-overload]
            endpoint_url=self.endpoint_url,
            region_name=REGION,
            aws_access_key_id=CREDENTIALS["AWS_ACCESS_KEY_ID"],
            aws_secret_access_key=CREDENTIALS["AWS_SECRET_ACCESS_KEY"],
        )

    def function_environment(self, function: DeployedFunction) -> dict[str, str]:
        """The function's variables from the template, each reference replaced by the emulated resource."""
        deployed = {
            constants.ENV_TABLE: self.resources.table_name,
            constants.ENV_BUCKET: self.resources.bucket_name,
            constants.ENV_QUEUE_URL: self.resources.queue_url,
            constants.ENV_SECRET_ID: self.resources.secret_id,
            constants.ENV_TOPIC_ARN: self.resources.topic_arn,
        }
        variables = {}
        for name, value in function.environment.items():
            if isinstance(value, str):
                variables[name] = value
            else:
                assert name in deployed, f"{name} refers to a resource: add its emulated value to `deployed`"
                variables[name] = deployed[name]
        return {
            **variables,
            **CREDENTIALS,
            "AWS_REGION": REGION,
            "AWS_DEFAULT_REGION": REGION,
            "AWS_ENDPOINT_URL": self.endpoint_url,
            # Test-only (the stack never sets it): archive may fetch over http from the loopback server.
            f"{PREFIX}LOCAL_MEDIA_HOSTS": "127.0.0.1",
        }


@pytest.fixture(scope="module")
def emulated() -> Iterator[Emulated]:
    server = MotoServer()
    server.start()
    try:
        with _media_server() as media_base:
            yield Emulated(server.endpoint_url, create_resources(server.endpoint_url, SECRET), media_base)
    finally:
        server.stop()


# --- the asset ------------------------------------------------------------------------------------


def test_one_asset_serves_every_function(synthesised: Synthesised) -> None:
    assert set(synthesised.functions) == {
        constants.INGEST_HANDLER,
        constants.ARCHIVE_HANDLER,
        constants.SWEEP_HANDLER,
    }
    (asset,) = {f.asset for f in synthesised.functions.values()}
    assert (asset / "suno_callbacks" / "handlers").is_dir()
    # Developer-only modules stay out.
    assert not list((asset / "suno_callbacks").glob("cli*"))
    assert not list((asset / "suno_callbacks").glob("console*"))
    assert not list((asset / "suno_callbacks").glob("local*"))
    assert not list((asset / "suno_callbacks").glob("examples*"))


def test_asset_has_no_bytecode_and_no_console_scripts(synthesised: Synthesised) -> None:
    (asset,) = {f.asset for f in synthesised.functions.values()}
    litter = [p for p in asset.rglob("*") if p.suffix == ".pyc" or p.name == "__pycache__"]
    assert litter == []
    assert not (asset / "bin").exists()


def test_asset_bundles_exactly_the_pinned_requirements(synthesised: Synthesised) -> None:
    (asset,) = {f.asset for f in synthesised.functions.values()}
    bundled = {
        path.name.removesuffix(".dist-info").replace("_", "-").lower() for path in asset.glob("*.dist-info")
    }
    pinned = {requirement.replace("==", "-").lower() for requirement in constants.BUNDLED_REQUIREMENTS}
    assert bundled == pinned
    assert all("==" in requirement for requirement in constants.BUNDLED_REQUIREMENTS)
    urllib3_version = next(r for r in constants.BUNDLED_REQUIREMENTS if r.startswith("urllib3=="))
    assert int(urllib3_version.split("==")[1].split(".")[0]) >= 2


def test_the_sandbox_runtime_has_the_worst_case_urllib3(sandbox: Sandbox) -> None:
    # Otherwise the proof that the asset's urllib3 wins would prove nothing.
    assert RUNTIME_URLLIB3.startswith("1.")
    assert (sandbox.runtime / f"urllib3-{RUNTIME_URLLIB3}.dist-info").is_dir()
    assert not list(sandbox.layer.glob("urllib3*")) and not list(sandbox.layer.glob("boto*"))


# --- the handlers ---------------------------------------------------------------------------------


def test_every_handler_runs_from_the_asset_with_only_what_lambda_provides(
    synthesised: Synthesised, sandbox: Sandbox, emulated: Emulated, monkeypatch: pytest.MonkeyPatch
) -> None:
    functions = synthesised.functions

    def run(handler: str, events: list[dict[str, Any]]) -> list[Any]:
        function = functions[handler]
        invocation = invoke(
            function,
            events,
            path=sandbox.path(function),
            environment=emulated.function_environment(function),
            probe=PROBED,
        )
        # Only the asset, the layer, the runtime and the standard library were importable.
        path = sandbox.path(function)
        assert invocation.sys_path[: len(path)] == [str(p) for p in path]
        assert not [entry for entry in invocation.sys_path if "site-packages" in entry]
        _assert_lambda_like_imports(invocation.modules, function.asset, sandbox)
        return invocation.results

    # WHEN the provider calls back (a signed URL per kind)
    posted = callbacks(emulated.media_base)
    answers = run(constants.INGEST_HANDLER, [_ingest_event(kind, body) for kind, body in posted])
    # THEN ingest records and queues each one
    bodies = [json.loads(answer["body"]) for answer in answers]
    assert [answer["statusCode"] for answer in answers] == [200] * len(posted), bodies
    assert [body["status"] for body in bodies] == ["received"] * len(posted)
    task_ids = [body["task_id"] for body in bodies]

    # WHEN archive gets the batch ingest queued
    batch = _sqs_event(emulated, expected=len(posted))
    (report,) = run(constants.ARCHIVE_HANDLER, [batch])
    # THEN no record fails, and every task is settled with its files in S3
    assert report == {"batchItemFailures": []}
    monkeypatch.setenv("AWS_ENDPOINT_URL", emulated.endpoint_url)  # for the reader, in this process
    reader = Reader(
        ReaderSettings.model_validate(
            {
                f"{PREFIX}TABLE": emulated.resources.table_name,
                f"{PREFIX}BUCKET": emulated.resources.bucket_name,
            }
        )
    )
    views = {kind: reader.get_task(task_id) for (kind, _), task_id in zip(posted, task_ids, strict=True)}
    assert {kind: view and view.outcome for kind, view in views.items()} == dict.fromkeys(views, "completed")
    archived = {
        kind: [a.field for a in view.assets if a.state == "archived"] for kind, view in views.items() if view
    }
    assert archived["lyrics"] == []
    assert len(archived["midi"]) >= 2  # the notes as JSON and as a MIDI file
    assert len(archived["music"]) == 2  # audio and cover
    keys = {
        o["Key"]
        for o in emulated.aws("s3").list_objects_v2(Bucket=emulated.resources.bucket_name)["Contents"]
    }
    assert any(key.endswith(".mid") for key in keys)
    assert any(key.endswith(".mp3") for key in keys)

    # WHEN the schedule runs the sweep
    (sweep_report,) = run(constants.SWEEP_HANDLER, [_scheduled_event()])
    # THEN it reports what it did (nothing is unsettled)
    assert isinstance(sweep_report, dict) and "requeued" in sweep_report
    assert all(isinstance(count, int) for count in sweep_report.values())
    assert sweep_report["requeued"] == 0


def test_without_the_bundled_urllib3_archive_cannot_import(
    synthesised: Synthesised, sandbox: Sandbox, emulated: Emulated, tmp_path: Path
) -> None:
    """The control: with the runtime's urllib3 (1.26 here) instead of the asset's, the sandbox fails."""
    function = synthesised.functions[constants.ARCHIVE_HANDLER]
    stripped = tmp_path / "asset"
    shutil.copytree(function.asset, stripped, ignore=shutil.ignore_patterns("urllib3", "urllib3-*"))
    with pytest.raises(AssertionError, match="BaseHTTPResponse"):
        invoke(
            function,
            [],
            path=[stripped, sandbox.layer, sandbox.runtime],
            environment=emulated.function_environment(function),
        )


# --- helpers --------------------------------------------------------------------------------------


def _assert_lambda_like_imports(
    modules: dict[str, dict[str, str | None]], asset: Path, sandbox: Sandbox
) -> None:
    """Each probed package came from where it does in Lambda; urllib3 from the asset, not the runtime."""
    origin = {"asset": asset, "layer": sandbox.layer, "runtime": sandbox.runtime}
    expected = {
        "urllib3": "asset",
        "mido": "asset",
        "pydantic": "layer",
        "aws_lambda_powertools": "layer",
        "aws_xray_sdk": "layer",
        "boto3": "runtime",
        "botocore": "runtime",
    }
    for name, where in expected.items():
        module = modules.get(name) or {}
        if module.get("file") is None:
            continue  # this handler does not import it
        assert Path(str(module["file"])).is_relative_to(origin[where]), (name, module["file"])
    urllib3 = modules.get("urllib3") or {}
    if urllib3.get("version"):
        assert int(str(urllib3["version"]).split(".")[0]) >= 2


def _ingest_event(kind: str, body: dict[str, Any]) -> dict[str, Any]:
    url = signed_callback_url(API_ROOT, kind, SigningKeys(current=SECRET), ref=f"asset-test-{kind}")  # type: ignore[arg-type]
    parts = urllib.parse.urlsplit(url)
    return http_api_event(
        method="POST",
        target=f"{parts.path}?{parts.query}",
        headers={"content-type": "application/json", "host": parts.netloc, "user-agent": "suno-callback"},
        body=json.dumps(body).encode(),
        source_ip="203.0.113.10",
        kind=kind,
    )


def _sqs_event(emulated: Emulated, expected: int) -> dict[str, Any]:
    """The batch the SQS poller would hand archive: the messages ingest sent, as Lambda records."""
    sqs = emulated.aws("sqs")
    queue_url = emulated.resources.queue_url
    queue_arn = sqs.get_queue_attributes(QueueUrl=queue_url, AttributeNames=["QueueArn"])["Attributes"][
        "QueueArn"
    ]
    messages: list[dict[str, Any]] = []
    for _ in range(10):
        response = sqs.receive_message(
            QueueUrl=queue_url,
            MaxNumberOfMessages=10,
            AttributeNames=["All"],
            MessageAttributeNames=["All"],
            WaitTimeSeconds=1,
        )
        messages += response.get("Messages", [])
        if len(messages) >= expected:
            break
    assert len(messages) == expected
    return {
        "Records": [
            {
                "messageId": m["MessageId"],
                "receiptHandle": m["ReceiptHandle"],
                "body": m["Body"],
                "attributes": m.get("Attributes", {}),
                "messageAttributes": m.get("MessageAttributes", {}),
                "md5OfBody": m["MD5OfBody"],
                "eventSource": "aws:sqs",
                "eventSourceARN": queue_arn,
                "awsRegion": REGION,
            }
            for m in messages
        ]
    }


def _scheduled_event() -> dict[str, Any]:
    return {
        "version": "0",
        "id": str(uuid.uuid4()),
        "detail-type": "Scheduled Event",
        "source": "aws.events",
        "account": "123456789012",
        "time": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "region": REGION,
        "resources": ["arn:aws:events:us-east-1:123456789012:rule/sweep"],
        "detail": {},
    }


@contextmanager
def _media_server() -> Iterator[str]:
    class MediaHandler(BaseHTTPRequestHandler):
        def log_message(self, format: str, *args: Any) -> None:
            """Quiet."""

        def do_GET(self) -> None:
            if self.path not in MEDIA:
                self.send_error(404)
                return
            body, content_type = MEDIA[self.path]
            self.send_response(200)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

    httpd = ThreadingHTTPServer(("127.0.0.1", 0), MediaHandler)
    httpd.daemon_threads = True
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{httpd.server_address[1]}"
    finally:
        httpd.shutdown()
        httpd.server_close()
        thread.join()
