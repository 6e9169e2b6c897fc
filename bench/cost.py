"""What a million callbacks cost at AWS list prices (us-east-1, on-demand, arm64), measured on a typical task.

`measure()` plays the typical music task (bench/payloads.py: text, first, complete; four files) through the
real ingest and archive handlers against moto, and records every AWS request they make, with DynamoDB
capacity worked out from the items themselves: a write costs one unit per KB of the item (before or after,
whichever is larger), once for the table and once for each index whose projection of the item changes; a
strongly consistent Query costs one unit per 4 KB returned. `python bench/cost.py` prints the table the
README quotes; tests/infra/test_cost.py checks the counts and the receive-only target.

Scope: the per-callback work. Not included: the free tiers, storage (S3 per GB-month, listed apart),
data transfer, SNS deliveries (free to SQS and Lambda, priced per protocol otherwise), X-Ray (sampled),
and the fixed monthly cost (one secret $0.40, alarms $0.10 each, one dashboard $3 beyond the free three).
Lambda time is an estimate (below); everything else is counted.
"""

from __future__ import annotations

import contextlib
import io
import json
import math
import os
import sys
import threading
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT), str(ROOT / "functions")]

from bench.payloads import music_task, task_id_for  # noqa: E402

# --- list prices, USD (us-east-1, checked against the public price pages in 2026) -------------------
PRICE_HTTP_API_PER_MILLION = 1.00
PRICE_LAMBDA_REQUESTS_PER_MILLION = 0.20
PRICE_LAMBDA_ARM_PER_GB_SECOND = 0.0000133334
PRICE_DYNAMODB_WRITE_PER_MILLION = 0.625  # on-demand write request units
PRICE_DYNAMODB_READ_PER_MILLION = 0.125  # on-demand read request units
PRICE_SQS_FIFO_PER_MILLION = 0.50  # FIFO queue, per 64 KB request
PRICE_SNS_PUBLISH_PER_MILLION = 0.50
PRICE_S3_PUT_PER_THOUSAND = 0.005
PRICE_LOGS_INGEST_PER_GB = 0.50
PRICE_S3_STANDARD_PER_GB_MONTH = 0.023

# --- estimates: the functions' time and log volume (not measurable without AWS) -----------------------
# Ingest: ~1 ms of work (bench/ingest.py) and two in-region round trips of a few ms; billed per ms.
INGEST_SECONDS = 0.015
INGEST_MEMORY_GB = 0.25
ARCHIVE_SECONDS_PER_STAGE = 0.15
ARCHIVE_SECONDS_PER_ASSET = 0.6  # a 4 MB file from the provider's CDN at ~10 MB/s, hashed and uploaded
ARCHIVE_MEMORY_GB = 0.5
LOG_BYTES_PER_CALLBACK = 2_500  # access log, ingest and archive JSON logs
MEDIA_MB_PER_TASK = 2 * 4 + 2 * 0.3  # two ~4 MB MP3s and two cover images
# The event source mapping's receive and delete, shared by a batch of up to 10 (counted per message).
POLLER_SQS_REQUESTS_PER_MESSAGE = 0.4

# DynamoDB's capacity units.
_WRITE_UNIT_BYTES = 1024
_READ_UNIT_BYTES = 4096


def attribute_bytes(value: dict[str, Any]) -> int:
    """The stored size of one DynamoDB attribute value (wire format), by AWS's published rules."""
    ((kind, inner),) = value.items()
    if kind == "S":
        return len(inner.encode())
    if kind == "B":
        return len(inner)
    if kind == "N":
        digits = inner.lstrip("-").replace(".", "").strip("0") or "0"
        return math.ceil(len(digits) / 2) + 1
    if kind in ("BOOL", "NULL"):
        return 1
    if kind == "M":
        return 3 + sum(len(name.encode()) + attribute_bytes(v) + 1 for name, v in inner.items())
    if kind == "L":
        return 3 + sum(attribute_bytes(v) + 1 for v in inner)
    return sum(attribute_bytes({kind[0]: element}) for element in inner)  # SS, NS, BS


def item_bytes(item: dict[str, Any] | None) -> int:
    if not item:
        return 0
    return sum(len(name.encode()) + attribute_bytes(value) for name, value in item.items())


def write_units(size: int) -> int:
    return max(1, math.ceil(size / _WRITE_UNIT_BYTES))


@dataclass
class Measured:
    """What one typical task cost the AWS APIs: request counts and DynamoDB capacity, per function."""

    callbacks: int
    assets: int
    ingest: Counter[str] = field(default_factory=Counter)
    archive: Counter[str] = field(default_factory=Counter)
    write_units: Counter[str] = field(default_factory=Counter)  # by function
    read_units: Counter[str] = field(default_factory=Counter)
    stage_item_bytes: list[int] = field(default_factory=list)

    def per_callback(self, function: str, request: str) -> float:
        calls = self.ingest if function == "ingest" else self.archive
        return calls[request] / self.callbacks


class _Capacity:
    """Event hooks on the DynamoDB client: every request counted, and the capacity it consumed."""

    def __init__(self, table: str, indexes: list[dict[str, Any]], measured: Measured) -> None:
        import boto3

        self.table = table
        self.indexes = indexes
        self.measured = measured
        self.function = "ingest"
        self.calls: Counter[str] = measured.ingest
        self.raw = boto3.client("dynamodb")  # no hooks: reads items around each write
        self._before: dict[str, Any] | None = None
        self._key: dict[str, Any] = {}

    def count(self, model: Any, **_: Any) -> None:
        self.calls[f"{model.service_model.service_name}:{model.name}"] += 1

    def before_write(self, params: dict[str, Any], **_: Any) -> None:
        self._key = params.get("Key") or {name: params["Item"][name] for name in ("pk", "sk")}
        self._before = self.raw.get_item(TableName=self.table, Key=self._key, ConsistentRead=True).get("Item")

    def after_write(self, **_: Any) -> None:
        after = self.raw.get_item(TableName=self.table, Key=self._key, ConsistentRead=True).get("Item")
        units = write_units(max(item_bytes(self._before), item_bytes(after)))
        for index in self.indexes:
            old, new = self._projected(index, self._before), self._projected(index, after)
            if old != new:
                units += write_units(max(item_bytes(old), item_bytes(new)))
        self.measured.write_units[self.function] += units

    def after_query(self, parsed: dict[str, Any], **_: Any) -> None:
        returned = sum(item_bytes(item) for item in parsed.get("Items", []))
        self.measured.read_units[self.function] += max(1, math.ceil(returned / _READ_UNIT_BYTES))

    @staticmethod
    def _projected(index: dict[str, Any], item: dict[str, Any] | None) -> dict[str, Any] | None:
        names = [part["AttributeName"] for part in index["KeySchema"]]
        if not item or any(name not in item for name in names):
            return None  # a sparse index holds no copy of this item
        projection = index["Projection"]
        if projection["ProjectionType"] == "ALL":
            return item
        kept = {"pk", "sk", *names, *projection.get("NonKeyAttributes", [])}
        return {name: value for name, value in item.items() if name in kept}


@contextmanager
def _media_server() -> Iterator[str]:
    class Media(BaseHTTPRequestHandler):
        def log_message(self, format: str, *args: Any) -> None:
            pass

        def do_GET(self) -> None:
            image = self.path.endswith(".jpeg")
            body = b"\xff\xd8" + os.urandom(3000) if image else b"ID3" + os.urandom(40_000)
            self.send_response(200)
            self.send_header("Content-Type", "image/jpeg" if image else "audio/mpeg")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

    server = ThreadingHTTPServer(("127.0.0.1", 0), Media)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


def measure() -> Measured:
    """Play the typical task through the real handlers against moto; count what they asked of AWS.

    The handlers' own output (JSON logs, metrics) goes nowhere: only the counts matter here.
    """
    with contextlib.redirect_stdout(io.StringIO()):
        return _measure()


def _measure() -> Measured:
    import boto3
    from moto import mock_aws

    from suno_callbacks.dal.aws import client
    from suno_callbacks.dal.schema import table_definition
    from suno_callbacks.local.emulator import FIFO_ATTRIBUTES
    from suno_callbacks.local.http_adapter import http_api_event
    from suno_callbacks.logic.signing import SigningKeys, signed_callback_url
    from suno_callbacks.models.settings import load_settings

    secret, table = "cost-secret-0123456789abcdef", "suno-callbacks-cost"
    environment = {
        "AWS_DEFAULT_REGION": "us-east-1",
        "AWS_ACCESS_KEY_ID": "cost",
        "AWS_SECRET_ACCESS_KEY": "cost",
        "POWERTOOLS_TRACE_DISABLED": "1",
        "POWERTOOLS_METRICS_DISABLED": "1",
        "POWERTOOLS_LOG_LEVEL": "ERROR",
        "SUNO_CALLBACKS_TABLE": table,
        "SUNO_CALLBACKS_BUCKET": "suno-callbacks-cost",
        "SUNO_CALLBACKS_SECRET_ID": "signing",
        "SUNO_CALLBACKS_SECRET_MAX_AGE_SECONDS": "300",  # as deployed: read once per container
        "SUNO_CALLBACKS_LOCAL_MEDIA_HOSTS": "127.0.0.1",
    }
    saved = {name: os.environ.get(name) for name in [*environment, "AWS_ENDPOINT_URL"]}
    os.environ.update(environment)
    os.environ.pop("AWS_ENDPOINT_URL", None)
    try:
        with mock_aws(), _media_server() as media_base:
            definition = table_definition(table)
            boto3.client("dynamodb").create_table(**definition)
            boto3.client("s3").create_bucket(Bucket=environment["SUNO_CALLBACKS_BUCKET"])
            os.environ["SUNO_CALLBACKS_QUEUE_URL"] = queue_url = boto3.client("sqs").create_queue(
                QueueName="archive.fifo", Attributes={**FIFO_ATTRIBUTES, "VisibilityTimeout": "0"}
            )["QueueUrl"]
            os.environ["SUNO_CALLBACKS_TOPIC_ARN"] = boto3.client("sns").create_topic(Name="events")[
                "TopicArn"
            ]
            boto3.client("secretsmanager").create_secret(
                Name="signing", SecretString=json.dumps({"current": secret})
            )
            client.cache_clear()
            load_settings.cache_clear()
            return _play(
                queue_url, media_base, definition, secret, http_api_event, signed_callback_url, SigningKeys
            )
    finally:
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value
        client.cache_clear()
        load_settings.cache_clear()


def _play(
    queue_url: str,
    media_base: str,
    definition: dict[str, Any],
    secret: str,
    http_api_event: Any,
    signed_callback_url: Any,
    signing_keys: Any,
) -> Measured:
    from types import SimpleNamespace

    from suno_callbacks.dal.aws import client
    from suno_callbacks.handlers import archive, ingest

    archive.archiver.cache_clear()
    callbacks = music_task(task_id_for("cost"), media_base=media_base)
    measured = Measured(callbacks=len(callbacks), assets=4)
    capacity = _Capacity(definition["TableName"], definition["GlobalSecondaryIndexes"], measured)
    dynamodb = client("dynamodb")
    for operation in ("PutItem", "UpdateItem"):
        dynamodb.meta.events.register(f"before-parameter-build.dynamodb.{operation}", capacity.before_write)
        dynamodb.meta.events.register(f"after-call.dynamodb.{operation}", capacity.after_write)
    dynamodb.meta.events.register("after-call.dynamodb.Query", capacity.after_query)
    for service in ("dynamodb", "sqs", "s3", "sns", "secretsmanager"):
        client(service).meta.events.register("before-call", capacity.count)

    context = SimpleNamespace(
        function_name="f",
        aws_request_id="r",
        memory_limit_in_mb=256,
        invoked_function_arn="arn",
        function_version="1",
        get_remaining_time_in_millis=lambda: 10_000,
    )
    url = signed_callback_url("https://x", "music", signing_keys(current=secret), ref="job-1").removeprefix(
        "https://x"
    )
    # A warm container: the secret is read once per container, not per callback (an unsigned request
    # reads it, and is refused before anything is written).
    warm = http_api_event(
        method="POST",
        target="/callbacks/music",
        headers={},
        body=b"{}",
        source_ip="203.0.113.1",
        kind="music",
    )
    assert ingest.lambda_handler(warm, context)["statusCode"] == 401
    measured.ingest.clear()
    archive_context = SimpleNamespace(**{**vars(context), "get_remaining_time_in_millis": lambda: 600_000})
    sqs = client("sqs")
    for body in callbacks:
        capacity.function, capacity.calls = "ingest", measured.ingest
        event = http_api_event(
            method="POST",
            target=url,
            headers={},
            body=json.dumps(body).encode(),
            source_ip="203.0.113.1",
            kind="music",
        )
        assert json.loads(ingest.lambda_handler(event, context)["body"])["status"] == "received"
        capacity.function, capacity.calls = "archive", measured.archive
        # As Lambda's event source mapping: its receive and delete are SQS requests of the poller.
        messages = sqs.receive_message(QueueUrl=queue_url, MaxNumberOfMessages=10, AttributeNames=["All"])[
            "Messages"
        ]
        measured.archive.subtract({"sqs:ReceiveMessage": 1})
        records = [
            {
                "messageId": m["MessageId"],
                "receiptHandle": m["ReceiptHandle"],
                "body": m["Body"],
                "attributes": m["Attributes"],
                "messageAttributes": {},
                "md5OfBody": m["MD5OfBody"],
                "eventSource": "aws:sqs",
                "eventSourceARN": "arn:aws:sqs:us-east-1:123456789012:archive.fifo",
                "awsRegion": "us-east-1",
            }
            for m in messages
        ]
        assert archive.lambda_handler({"Records": records}, archive_context)["batchItemFailures"] == []
        for m in messages:
            sqs.delete_message(QueueUrl=queue_url, ReceiptHandle=m["ReceiptHandle"])
        measured.archive.subtract({"sqs:DeleteMessage": 1})
    measured.archive += Counter()  # drop the zeroed poller entries
    for item in capacity.raw.query(
        TableName=definition["TableName"],
        KeyConditionExpression="pk = :pk",
        ExpressionAttributeValues={":pk": {"S": f"TASK#{task_id_for('cost')}"}},
    )["Items"]:
        if item["type"]["S"] == "stage":
            measured.stage_item_bytes.append(item_bytes(item))
    return measured


@dataclass(frozen=True)
class Line:
    item: str
    usd_per_million_callbacks: float


def per_million_callbacks(measured: Measured) -> list[Line]:
    m, million = measured, 1e6
    per_callback = 1 / m.callbacks
    assets = m.assets * per_callback
    lambda_gb_seconds = INGEST_SECONDS * INGEST_MEMORY_GB + ARCHIVE_MEMORY_GB * (
        ARCHIVE_SECONDS_PER_STAGE + assets * ARCHIVE_SECONDS_PER_ASSET
    )
    sqs_requests = (
        m.per_callback("ingest", "sqs:SendMessage")
        + m.per_callback("archive", "sqs:SendMessage")
        + POLLER_SQS_REQUESTS_PER_MESSAGE
    )
    s3_puts = sum(m.archive[f"s3:{op}"] for op in ("PutObject", "CreateMultipartUpload", "UploadPart"))
    return [
        Line("API Gateway HTTP API requests", PRICE_HTTP_API_PER_MILLION),
        # Archive is invoked per batch of up to 10; counted as one invocation per callback (quiet traffic).
        Line("Lambda requests (ingest + archive)", 2 * PRICE_LAMBDA_REQUESTS_PER_MILLION),
        Line("Lambda compute (arm64)", million * lambda_gb_seconds * PRICE_LAMBDA_ARM_PER_GB_SECOND),
        Line(
            "DynamoDB writes", sum(m.write_units.values()) * per_callback * PRICE_DYNAMODB_WRITE_PER_MILLION
        ),
        Line("DynamoDB reads", sum(m.read_units.values()) * per_callback * PRICE_DYNAMODB_READ_PER_MILLION),
        Line("SQS FIFO requests", sqs_requests * PRICE_SQS_FIFO_PER_MILLION),
        Line("SNS publishes", m.per_callback("archive", "sns:Publish") * PRICE_SNS_PUBLISH_PER_MILLION),
        Line("S3 PUTs", s3_puts * per_callback * 1000 * PRICE_S3_PUT_PER_THOUSAND),
        Line("CloudWatch Logs ingestion", LOG_BYTES_PER_CALLBACK * million / 1e9 * PRICE_LOGS_INGEST_PER_GB),
    ]


def receive_only_per_million_callbacks(measured: Measured) -> float:
    """The receiving part, comparable to a gateway: API, ingest invocation and compute, its writes and
    its enqueue (what ingest itself asks of DynamoDB and SQS, measured)."""
    lambda_ingest = 1e6 * INGEST_SECONDS * INGEST_MEMORY_GB * PRICE_LAMBDA_ARM_PER_GB_SECOND
    per_callback = 1 / measured.callbacks
    return (
        PRICE_HTTP_API_PER_MILLION
        + PRICE_LAMBDA_REQUESTS_PER_MILLION
        + lambda_ingest
        + measured.write_units["ingest"] * per_callback * PRICE_DYNAMODB_WRITE_PER_MILLION
        + measured.per_callback("ingest", "sqs:SendMessage") * PRICE_SQS_FIFO_PER_MILLION
    )


def storage_per_million_callbacks_per_month(measured: Measured) -> float:
    """S3 Standard storage of the media a million callbacks archive, per month they are kept."""
    gigabytes = 1e6 / measured.callbacks * MEDIA_MB_PER_TASK / 1024
    return gigabytes * PRICE_S3_STANDARD_PER_GB_MONTH


# Webhook gateways' list prices per million events, as quoted in the proof issue (not re-checked here):
# they receive and forward webhooks; they do not archive media, keep records or dedupe per stage.
GATEWAYS_PER_MILLION = (("Hookdeck", 3.30, 10.00), ("Svix", 100.00, 100.00))
RECEIVE_ONLY_TARGET = 3.30


def main() -> None:
    measured = measure()
    per_task = measured.callbacks
    print(
        f"measured on the typical task ({per_task} callbacks: text, first, complete; {measured.assets} files)"
    )
    print("per callback, ingest:", _calls(measured.ingest, per_task))
    print(f"    DynamoDB write units: {measured.write_units['ingest'] / per_task:.2f}")
    print(f"    stage item sizes (bytes): {measured.stage_item_bytes}")
    print("per callback, archive:", _calls(measured.archive, per_task))
    print(
        f"    DynamoDB write units: {measured.write_units['archive'] / per_task:.2f}, "
        f"read units: {measured.read_units['archive'] / per_task:.2f}"
    )
    print()
    lines = per_million_callbacks(measured)
    print("| per million callbacks | USD |")
    print("|---|---:|")
    for line in lines:
        print(f"| {line.item} | {line.usd_per_million_callbacks:.2f} |")
    total = sum(line.usd_per_million_callbacks for line in lines)
    print(f"| **total** | **{total:.2f}** |")
    storage = storage_per_million_callbacks_per_month(measured)
    print(f"\nS3 storage of their media: {storage:.2f} USD per month kept")
    receive = receive_only_per_million_callbacks(measured)
    print(f"receive only: {receive:.2f} USD per million  [target <= {RECEIVE_ONLY_TARGET:.2f}]")
    print("\nAgainst webhook gateways' list prices per million events (baseline; ratio = ours / theirs):")
    print("| per million callbacks | USD | ratio to Hookdeck ($3.30-10) | ratio to Svix ($100) |")
    print("|---|---:|---:|---:|")
    for name, usd in (
        ("suno-callbacks, receive only (API, ingest, stage write, enqueue)", receive),
        ("suno-callbacks, whole pipeline (media archived, events)", total),
    ):
        hookdeck = f"{usd / GATEWAYS_PER_MILLION[0][2]:.2f}-{usd / GATEWAYS_PER_MILLION[0][1]:.2f}"
        print(f"| {name} | {usd:.2f} | {hookdeck} | {usd / GATEWAYS_PER_MILLION[1][1]:.2f} |")


def _calls(calls: Counter[str], per_task: int) -> str:
    return ", ".join(f"{name} {count / per_task:.2f}" for name, count in sorted(calls.items()) if count)


if __name__ == "__main__":
    main()
