"""Archive test set-up: moto (table, bucket, topic with an SQS subscriber, queue with DLQ), a media server on
127.0.0.1, stage records written the way ingest writes them, and a poller that plays Lambda's SQS trigger.

Tests never connect to anything but 127.0.0.1: other addresses are only ever handed to the policy by the
injected resolver, which refuses them before any connection is made.
"""

from __future__ import annotations

import contextlib
import hashlib
import itertools
import json
import socket
import struct
import threading
import time
import uuid
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import boto3
import pytest
from moto import mock_aws

from suno_callbacks.dal import keys
from suno_callbacks.dal.bodies import BodyStore
from suno_callbacks.dal.media_store import MediaStore, transfer_config
from suno_callbacks.dal.queue import ArchiveQueue
from suno_callbacks.dal.records import RecordStore
from suno_callbacks.dal.schema import table_definition
from suno_callbacks.dal.settlement import SettlementStore
from suno_callbacks.dal.topic import Topic
from suno_callbacks.handlers import archive as handler
from suno_callbacks.local.emulator import FIFO_ATTRIBUTES
from suno_callbacks.logic.archive import Archiver
from suno_callbacks.logic.ingest import Clock, Recorder
from suno_callbacks.logic.normalise import normalise_body
from suno_callbacks.logic.url_policy import UrlPolicy
from suno_callbacks.models.kinds import Kind
from suno_callbacks.models.messages import ArchiveRequest
from suno_callbacks.models.settings import ArchiveSettings
from suno_callbacks.timestamps import from_iso

FIXTURES = Path(__file__).parent / "fixtures"
EXAMPLES = Path(__file__).parents[1] / "fixtures" / "examples"
TABLE = "suno-callbacks-test"
BUCKET = "suno-callbacks-media-test"
RECEIVED_AT = "2026-11-22T05:30:00.123456Z"
MiB = 1024 * 1024
MAX_RECEIVES = 2  # the test queue's receive limit before the DLQ
PATTERN = bytes(range(256)) * 256  # what generated bodies repeat
# Small limits keep the tests fast; the multipart threshold is S3's minimum part size.
TEST_ENV = {
    "SUNO_CALLBACKS_TABLE": TABLE,
    "SUNO_CALLBACKS_BUCKET": BUCKET,
    "SUNO_CALLBACKS_LOCAL_MEDIA_HOSTS": "127.0.0.1",
    "SUNO_CALLBACKS_CONNECT_TIMEOUT_SECONDS": "1",
    "SUNO_CALLBACKS_READ_TIMEOUT_SECONDS": "0.3",
    "SUNO_CALLBACKS_MAX_AUDIO_BYTES": str(12 * MiB),
    "SUNO_CALLBACKS_MAX_IMAGE_BYTES": str(1 * MiB),
    "SUNO_CALLBACKS_UPLOAD_CHUNK_BYTES": str(5 * MiB),
    "SUNO_CALLBACKS_UPLOAD_CONCURRENCY": "2",
    "SUNO_CALLBACKS_UPLOAD_CHUNKS_IN_MEMORY": "2",
    "SUNO_CALLBACKS_MAX_ATTEMPTS": str(MAX_RECEIVES),
}


def load(name: str) -> dict[str, Any]:
    """A provider example (tests/fixtures/examples), or one of this suite's own payloads."""
    path = EXAMPLES / name if (EXAMPLES / name).exists() else FIXTURES / name
    value: dict[str, Any] = json.loads(path.read_text())
    return value


# --- media server -------------------------------------------------------------------------------------


@dataclass
class Route:
    body: bytes = b""
    status: int = 200
    content_type: str = "audio/mpeg"
    declare_length: bool = True
    # Generated bodies (for sizes we do not want to hold): this many bytes of a repeating pattern.
    generated_bytes: int | None = None
    stall_seconds: float = 0.0  # after the headers, before the body
    cut_after: int | None = None  # close the connection after this many body bytes
    drip_seconds: float = 0.0  # send the body one byte at a time, this long apart
    location: str | None = None

    @property
    def size(self) -> int:
        return self.generated_bytes if self.generated_bytes is not None else len(self.body)


@dataclass
class MediaServer:
    host: str
    port: int
    routes: dict[str, Route] = field(default_factory=dict)
    hits: Counter[str] = field(default_factory=Counter)
    sent: Counter[str] = field(default_factory=Counter)

    def url(self, path: str) -> str:
        return f"http://{self.host}:{self.port}{path}"

    def serve(self, path: str, route: Route) -> str:
        self.routes[path] = route
        return self.url(path)


def _handler_for(server: MediaServer) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, format: str, *args: Any) -> None:
            pass

        def do_GET(self) -> None:
            path = self.path
            server.hits[path] += 1
            route = server.routes.get(path)
            if route is None:
                self.send_error(404)
                return
            self.send_response(route.status)
            if route.location:
                self.send_header("Location", route.location)
            self.send_header("Content-Type", route.content_type)
            if route.declare_length:
                self.send_header("Content-Length", str(route.size))
            self.end_headers()
            if route.status != 200:
                return
            self.wfile.flush()
            time.sleep(route.stall_seconds)
            if route.drip_seconds:
                with contextlib.suppress(BrokenPipeError, ConnectionResetError):
                    for _ in range(route.size):
                        self.wfile.write(b"x")
                        self.wfile.flush()
                        time.sleep(route.drip_seconds)
                return
            # The client may stop reading: what it refused is then not sent.
            with contextlib.suppress(BrokenPipeError, ConnectionResetError):
                self._write_body(path, route)

        def _write_body(self, path: str, route: Route) -> None:
            limit = route.size if route.cut_after is None else min(route.cut_after, route.size)
            offset = 0  # each request gets the whole body; `sent` counts across requests
            while offset < limit:
                size = min(len(PATTERN), limit - offset)
                chunk = (
                    PATTERN[:size]
                    if route.generated_bytes is not None
                    else route.body[offset : offset + size]
                )
                self.wfile.write(chunk)
                offset += size
                server.sent[path] += size
            if route.cut_after is not None:
                # A reset, not a clean close: the peer sees the connection die mid-body.
                self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
                self.close_connection = True

    return Handler


@pytest.fixture
def media_server() -> Iterator[MediaServer]:
    state = MediaServer(host="127.0.0.1", port=0)
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), _handler_for(state))
    httpd.daemon_threads = True
    state.port = httpd.server_address[1]
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield state
    httpd.shutdown()
    httpd.server_close()


def generated_sha256(route: Route) -> str:
    digest = hashlib.sha256()
    remaining = route.size
    while remaining:
        chunk = PATTERN[: min(len(PATTERN), remaining)]
        digest.update(chunk)
        remaining -= len(chunk)
    return digest.hexdigest()


# --- AWS (moto) ------------------------------------------------------------------------------------------


@dataclass
class Aws:
    dynamodb: Any
    s3: Any
    sqs: Any
    topic_arn: str
    subscriber_url: str
    queue_url: str
    dlq_url: str

    def objects(self) -> dict[str, bytes]:
        listed = self.s3.list_objects_v2(Bucket=BUCKET).get("Contents", [])
        return {o["Key"]: self.s3.get_object(Bucket=BUCKET, Key=o["Key"])["Body"].read() for o in listed}

    def multipart_uploads(self) -> list[dict[str, Any]]:
        uploads: list[dict[str, Any]] = self.s3.list_multipart_uploads(Bucket=BUCKET).get("Uploads", [])
        return uploads

    def published(self) -> list[tuple[dict[str, Any], dict[str, str]]]:
        """Every SNS message the subscriber queue received so far: (message, attributes)."""
        received = []
        while True:
            batch = self.sqs.receive_message(QueueUrl=self.subscriber_url, MaxNumberOfMessages=10).get(
                "Messages", []
            )
            if not batch:
                return received
            for message in batch:
                envelope = json.loads(message["Body"])
                attributes = {k: v["Value"] for k, v in envelope.get("MessageAttributes", {}).items()}
                received.append((json.loads(envelope["Message"]), attributes))
                self.sqs.delete_message(QueueUrl=self.subscriber_url, ReceiptHandle=message["ReceiptHandle"])

    def assets(self, task_id: str) -> dict[tuple[str, str], dict[str, Any]]:
        items = RecordStore(TABLE).query_task(task_id)
        return {(i["item_id"], i["field"]): i for i in items if i.get("type") == "asset"}

    def item(self, task_id: str, sk: str) -> dict[str, Any] | None:
        return RecordStore(TABLE).get(keys.task_pk(task_id), sk)


@pytest.fixture
def aws(monkeypatch: pytest.MonkeyPatch) -> Iterator[Aws]:
    with mock_aws():
        dynamodb = boto3.client("dynamodb")
        dynamodb.create_table(**table_definition(TABLE))
        s3 = boto3.client("s3")
        s3.create_bucket(Bucket=BUCKET)
        sqs = boto3.client("sqs")
        sns = boto3.client("sns")
        topic_arn = sns.create_topic(Name="suno-callbacks-events")["TopicArn"]
        subscriber_url = sqs.create_queue(QueueName="subscriber")["QueueUrl"]
        subscriber_arn = sqs.get_queue_attributes(QueueUrl=subscriber_url, AttributeNames=["QueueArn"])[
            "Attributes"
        ]["QueueArn"]
        sns.subscribe(TopicArn=topic_arn, Protocol="sqs", Endpoint=subscriber_arn)
        dlq_url = sqs.create_queue(QueueName="archive-dlq.fifo", Attributes=FIFO_ATTRIBUTES)["QueueUrl"]
        dlq_arn = sqs.get_queue_attributes(QueueUrl=dlq_url, AttributeNames=["QueueArn"])["Attributes"][
            "QueueArn"
        ]
        queue_url = sqs.create_queue(
            QueueName="archive.fifo",
            Attributes={
                **FIFO_ATTRIBUTES,
                "VisibilityTimeout": "0",
                "RedrivePolicy": json.dumps(
                    {"deadLetterTargetArn": dlq_arn, "maxReceiveCount": str(MAX_RECEIVES)}
                ),
            },
        )["QueueUrl"]
        environment = {
            **TEST_ENV,
            "SUNO_CALLBACKS_TOPIC_ARN": topic_arn,
            "SUNO_CALLBACKS_QUEUE_URL": queue_url,
        }
        for name, value in environment.items():
            monkeypatch.setenv(name, value)
        handler.archiver.cache_clear()
        yield Aws(dynamodb, s3, sqs, topic_arn, subscriber_url, queue_url, dlq_url)


# --- the archiver, with an injected resolver ---------------------------------------------------------


class FakeDns:
    """Made-up names resolved to the addresses a test chooses; IP literals resolve to themselves."""

    def __init__(self) -> None:
        self.names: dict[str, list[str]] = {}
        self.lookups: list[str] = []

    def __call__(self, host: str, port: int) -> list[str]:
        self.lookups.append(host)
        if host in self.names:
            return self.names[host]
        if host.replace(".", "").isdigit() or ":" in host:
            return [host]
        raise socket.gaierror(f"{host} is not a test name")


@pytest.fixture
def dns() -> FakeDns:
    return FakeDns()


@pytest.fixture
def use_fake_dns(aws: Aws, dns: FakeDns, monkeypatch: pytest.MonkeyPatch) -> FakeDns:
    """Make the handler's archiver resolve through `dns` (and allow the made-up `media.test` domain)."""
    settings = ArchiveSettings.model_validate(
        {
            **TEST_ENV,
            "SUNO_CALLBACKS_TOPIC_ARN": aws.topic_arn,
            "SUNO_CALLBACKS_QUEUE_URL": aws.queue_url,
            "SUNO_CALLBACKS_MEDIA_HOSTS": "media.test",
        }
    )
    records = RecordStore(settings.table_name)
    archiver = Archiver(
        settings=settings,
        records=records,
        settlement=SettlementStore(records),
        bodies=BodyStore(settings.bucket_name),
        media=MediaStore(
            settings.bucket_name, config=transfer_config(chunk_bytes=settings.upload_chunk_bytes)
        ),
        topic=Topic(settings.topic_arn),
        queue=ArchiveQueue(settings.queue_url),
        policy=UrlPolicy(
            allowed_hosts=settings.media_hosts, local_hosts=settings.local_media_hosts, resolver=dns
        ),
    )
    monkeypatch.setattr(handler, "archiver", lambda: archiver)
    return dns


# --- stages, written the way ingest writes them ---------------------------------------------------------


class _NotQueued:
    """The tests hand the archive request to the handler themselves."""

    def send(self, request: ArchiveRequest) -> None:
        pass


def write_stage(kind: Kind, payload: dict[str, Any], *, ref: str | None = None) -> ArchiveRequest:
    """The stage item ingest writes for this callback (its own Recorder); returns the message it queues."""
    body = json.dumps(payload).encode()
    callback = normalise_body(kind, body)
    recorder = Recorder(
        store=RecordStore(TABLE),
        queue=_NotQueued(),  # type: ignore[arg-type]
        bodies=BodyStore(BUCKET),
        clock=Clock(from_iso(RECEIVED_AT)),
        record_ttl_days=0,
    )
    recorder.record(callback, ref, body)
    return ArchiveRequest(
        task_id=callback.task_id, stage=callback.stage, kind=kind, ref=ref, received_at=RECEIVED_AT
    )


# --- Lambda's SQS trigger --------------------------------------------------------------------------------


@dataclass
class LambdaContext:
    function_name: str = "archive"
    memory_limit_in_mb: int = 1024
    invoked_function_arn: str = "arn:aws:lambda:us-east-1:123456789012:function:archive"
    aws_request_id: str = field(default_factory=lambda: str(uuid.uuid4()))
    # What the invocation has left each time it asks (a test may make time run out mid-invocation).
    remaining_millis: Callable[[], int] = lambda: 60_000

    def get_remaining_time_in_millis(self) -> int:
        return self.remaining_millis()


def running_out(calls: int) -> Callable[[], int]:
    """Remaining time that is plenty for the first `calls` questions, then nearly none (the handler asks
    once, for its own deadline, then archive before each file)."""
    asked = itertools.count()
    return lambda: 60_000 if next(asked) < calls else 1_000


def fifo_attributes(body: str, sequence: int) -> dict[str, str]:
    """What SQS FIFO puts on a delivered message of this archive request (any group for a broken one)."""
    try:
        request = ArchiveRequest.model_validate_json(body)
        group, deduplication = request.group_id, request.deduplication_id
    except ValueError:
        group, deduplication = "unreadable", hashlib.sha256(body.encode()).hexdigest()
    return {
        "ApproximateReceiveCount": "1",
        "MessageGroupId": group,
        "MessageDeduplicationId": deduplication,
        "SequenceNumber": str(18_000_000_000_000_000_000 + sequence),
    }


def sqs_event(*bodies: str) -> dict[str, Any]:
    return {
        "Records": [
            {
                "messageId": str(uuid.uuid4()),
                "receiptHandle": "handle",
                "body": body,
                "attributes": fifo_attributes(body, sequence),
                "messageAttributes": {},
                "md5OfBody": hashlib.md5(body.encode()).hexdigest(),
                "eventSource": "aws:sqs",
                "eventSourceARN": "arn:aws:sqs:us-east-1:123456789012:archive.fifo",
                "awsRegion": "us-east-1",
            }
            for sequence, body in enumerate(bodies)
        ]
    }


def invoke(*requests: ArchiveRequest, context: LambdaContext | None = None) -> list[str]:
    """Run the handler on one batch; returns the failed message ids."""
    event = sqs_event(*(r.model_dump_json() for r in requests))
    response = handler.lambda_handler(event, context or LambdaContext())
    return [failure["itemIdentifier"] for failure in response["batchItemFailures"]]


def drain(aws: Aws, rounds: int = 5) -> int:
    """Deliver the archive queue to the handler like Lambda's event source mapping; returns invocations."""
    invocations = 0
    for _ in range(rounds):
        messages = aws.sqs.receive_message(
            QueueUrl=aws.queue_url, MaxNumberOfMessages=10, AttributeNames=["All"]
        ).get("Messages", [])
        if not messages:
            break
        event = sqs_event(*(m["Body"] for m in messages))
        for record, message in zip(event["Records"], messages, strict=True):
            record["messageId"] = message["MessageId"]
            record["attributes"] = message["Attributes"]
        invocations += 1
        failed = {
            f["itemIdentifier"] for f in handler.lambda_handler(event, LambdaContext())["batchItemFailures"]
        }
        for message in messages:
            if message["MessageId"] not in failed:
                aws.sqs.delete_message(QueueUrl=aws.queue_url, ReceiptHandle=message["ReceiptHandle"])
    return invocations
