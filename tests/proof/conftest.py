"""The whole pipeline in one process, for the proofs of DESIGN §9: the real ingest handler (API Gateway v2
events), the real archive handler (SQS batches, with Lambda's redelivery), moto for AWS, and a media
server on 127.0.0.1. Builders and servers are the ingest and archive suites' own (imported, not copied).
"""

from __future__ import annotations

import hashlib
import json
from collections import defaultdict
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

import boto3
import pytest
from moto import mock_aws

from suno_callbacks.cli import operations
from suno_callbacks.dal import keys
from suno_callbacks.dal.aws import client
from suno_callbacks.dal.records import RecordStore
from suno_callbacks.dal.schema import table_definition
from suno_callbacks.handlers import archive as archive_handler
from suno_callbacks.local.emulator import FIFO_ATTRIBUTES
from suno_callbacks.logic import ingest
from tests.archive.conftest import (
    TEST_ENV,
    LambdaContext,
    MediaServer,
    media_server,  # noqa: F401 - the fixture, for `pipeline`
    sqs_event,
)
from tests.ingest.conftest import CURRENT_SECRET, KIE_KEY, PREVIOUS_SECRET
from tests.ingest.conftest import post as ingest_post

TABLE = "suno-callbacks-proof"
BUCKET = "suno-callbacks-proof-media"
SECRET_NAME = "suno-callbacks/signing"
MAX_RECEIVES = 5  # the deployed queue's receive limit before the DLQ


class Crash(BaseException):
    """The function dies here (timeout, OOM, host failure): nothing after it runs, nothing catches it."""


@contextmanager
def crash_after(
    owner: type, method: str, *, when: Callable[..., bool] = lambda *a, **k: True
) -> Iterator[list[int]]:
    """`owner.method` does its work, then the process dies, once (the first call for which `when` holds)."""
    original = getattr(owner, method)
    crashed: list[int] = []

    def wrapper(self: Any, *args: Any, **kwargs: Any) -> Any:
        result = original(self, *args, **kwargs)
        if not crashed and when(*args, **kwargs):
            crashed.append(1)
            raise Crash(f"{owner.__name__}.{method}")
        return result

    setattr(owner, method, wrapper)
    try:
        yield crashed
    finally:
        setattr(owner, method, original)


@contextmanager
def fail_once(
    owner: type, method: str, error: Exception, *, when: Callable[..., bool] = lambda *a, **k: True
) -> Iterator[list[int]]:
    """`owner.method` raises `error` once (the first call for which `when` holds), without doing its work."""
    original = getattr(owner, method)
    failed: list[int] = []

    def wrapper(self: Any, *args: Any, **kwargs: Any) -> Any:
        if not failed and when(*args, **kwargs):
            failed.append(1)
            raise error
        return original(self, *args, **kwargs)

    setattr(owner, method, wrapper)
    try:
        yield failed
    finally:
        setattr(owner, method, original)


@dataclass
class Pipeline:
    media: MediaServer
    queue_url: str
    dlq_url: str
    subscriber_url: str
    monkeypatch: pytest.MonkeyPatch
    events: list[tuple[dict[str, Any], dict[str, str]]] = field(default_factory=list)
    crashes: int = 0
    minutes_later: int = 0

    @property
    def sqs(self) -> Any:
        return client("sqs")

    @property
    def s3(self) -> Any:
        return client("s3")

    # --- the provider -----------------------------------------------------------------------------

    def post(self, kind: str, payload: Any, *, ref: str | None = None) -> tuple[int, dict[str, Any]]:
        return ingest_post(kind, payload, ref=ref)

    def retry_later(self, minutes: int = 1) -> None:
        """The provider's next attempt comes this much later (1, 5, 15 minutes): ingest's clock moves on."""
        self.minutes_later += minutes
        later = ingest.Clock.now().moment + timedelta(minutes=self.minutes_later)
        self.monkeypatch.setattr(ingest.Clock, "now", classmethod(lambda cls: cls(later)))

    # --- Lambda's event source mapping ------------------------------------------------------------

    def deliver(self, context: LambdaContext | None = None) -> int:
        """One poll of the archive queue into the handler; a crash leaves the whole batch to come back."""
        messages = self.sqs.receive_message(
            QueueUrl=self.queue_url, MaxNumberOfMessages=10, AttributeNames=["All"]
        ).get("Messages", [])
        if not messages:
            return 0
        event = sqs_event(*(m["Body"] for m in messages))
        for record, message in zip(event["Records"], messages, strict=True):
            record["messageId"] = message["MessageId"]
            record["receiptHandle"] = message["ReceiptHandle"]
            record["attributes"] = message["Attributes"]
        try:
            response = archive_handler.lambda_handler(event, context or LambdaContext())
        except Crash:
            self.crashes += 1
            return len(messages)
        failed = {f["itemIdentifier"] for f in response["batchItemFailures"]}
        for message in messages:
            if message["MessageId"] not in failed:
                self.sqs.delete_message(QueueUrl=self.queue_url, ReceiptHandle=message["ReceiptHandle"])
        return len(messages)

    def settle(self, rounds: int = 20) -> None:
        """Poll until the queue is empty (a message past the receive limit goes to the DLQ)."""
        for _ in range(rounds):
            if not self.deliver():
                return
        raise AssertionError("the archive queue did not drain")

    def redrive(self) -> int:
        """Move the DLQ's messages back to the queue with `suno-callbacks redrive`; returns how many."""
        return operations.redrive(self.dlq_url, self.queue_url, on_progress=lambda done, total: None)

    # --- what a user would look at ------------------------------------------------------------------

    def task_items(self, task_id: str) -> dict[str, dict[str, Any]]:
        return {item[keys.SK]: item for item in RecordStore(TABLE).query_task(task_id)}

    def all_items(self) -> list[dict[str, Any]]:
        from suno_callbacks.dal.dynamo import from_item

        pages = client("dynamodb").get_paginator("scan").paginate(TableName=TABLE)
        return [from_item(item) for page in pages for item in page["Items"]]

    def objects(self, prefix: str = "") -> dict[str, bytes]:
        listed = self.s3.list_objects_v2(Bucket=BUCKET, Prefix=prefix).get("Contents", [])
        return {o["Key"]: self.s3.get_object(Bucket=BUCKET, Key=o["Key"])["Body"].read() for o in listed}

    def multipart_uploads(self) -> list[dict[str, Any]]:
        uploads: list[dict[str, Any]] = self.s3.list_multipart_uploads(Bucket=BUCKET).get("Uploads", [])
        return uploads

    def published(self) -> list[tuple[dict[str, Any], dict[str, str]]]:
        """Every SNS message delivered to the subscriber so far (kept across calls)."""
        while True:
            batch = self.sqs.receive_message(QueueUrl=self.subscriber_url, MaxNumberOfMessages=10).get(
                "Messages", []
            )
            if not batch:
                return list(self.events)
            for message in batch:
                envelope = json.loads(message["Body"])
                attributes = {k: v["Value"] for k, v in envelope.get("MessageAttributes", {}).items()}
                self.events.append((json.loads(envelope["Message"]), attributes))
                self.sqs.delete_message(QueueUrl=self.subscriber_url, ReceiptHandle=message["ReceiptHandle"])

    def logical_events(self) -> dict[str, dict[str, Any]]:
        """Published events deduplicated on `event_id` the way a subscriber does; every copy must be equal."""
        by_id: dict[str, list[dict[str, Any]]] = defaultdict(list)
        for event, _ in self.published():
            by_id[event["event_id"]].append(event)
        for event_id, copies in by_id.items():
            assert all(copy == copies[0] for copy in copies), f"copies of {event_id} differ"
        return {event_id: copies[0] for event_id, copies in by_id.items()}

    def queue_depths(self) -> tuple[int, int]:
        def depth(url: str) -> int:
            attributes = self.sqs.get_queue_attributes(
                QueueUrl=url,
                AttributeNames=["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"],
            )["Attributes"]
            return sum(int(v) for v in attributes.values())

        return depth(self.queue_url), depth(self.dlq_url)


def sha256(body: bytes) -> str:
    return hashlib.sha256(body).hexdigest()


@pytest.fixture
def pipeline(monkeypatch: pytest.MonkeyPatch, request: pytest.FixtureRequest) -> Iterator[Pipeline]:
    media: MediaServer = request.getfixturevalue("media_server")
    with mock_aws():
        boto3.client("dynamodb").create_table(**table_definition(TABLE))
        s3 = boto3.client("s3")
        s3.create_bucket(Bucket=BUCKET)
        sqs, sns = boto3.client("sqs"), boto3.client("sns")
        boto3.client("secretsmanager").create_secret(
            Name=SECRET_NAME,
            SecretString=json.dumps(
                {"current": CURRENT_SECRET, "previous": PREVIOUS_SECRET, "kie_webhook_key": KIE_KEY}
            ),
        )

        def arn(url: str) -> str:
            attributes = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]
            return str(attributes["QueueArn"])

        topic_arn = sns.create_topic(Name="suno-callbacks-events")["TopicArn"]
        subscriber_url = sqs.create_queue(QueueName="subscriber")["QueueUrl"]
        sns.subscribe(TopicArn=topic_arn, Protocol="sqs", Endpoint=arn(subscriber_url))
        dlq_url = sqs.create_queue(QueueName="archive-dlq.fifo", Attributes=FIFO_ATTRIBUTES)["QueueUrl"]
        queue_url = sqs.create_queue(
            QueueName="archive.fifo",
            Attributes={
                **FIFO_ATTRIBUTES,
                "VisibilityTimeout": "0",  # a failed or crashed delivery comes back at once
                "RedrivePolicy": json.dumps(
                    {"deadLetterTargetArn": arn(dlq_url), "maxReceiveCount": str(MAX_RECEIVES)}
                ),
            },
        )["QueueUrl"]
        environment = {
            **TEST_ENV,
            "SUNO_CALLBACKS_TABLE": TABLE,
            "SUNO_CALLBACKS_BUCKET": BUCKET,
            "SUNO_CALLBACKS_QUEUE_URL": queue_url,
            "SUNO_CALLBACKS_SECRET_ID": SECRET_NAME,
            "SUNO_CALLBACKS_SECRET_MAX_AGE_SECONDS": "0",
            "SUNO_CALLBACKS_TOPIC_ARN": topic_arn,
            "SUNO_CALLBACKS_MAX_ATTEMPTS": str(MAX_RECEIVES),
        }
        for name, value in environment.items():
            monkeypatch.setenv(name, value)
        archive_handler.archiver.cache_clear()
        yield Pipeline(media, queue_url, dlq_url, subscriber_url, monkeypatch)
        archive_handler.archiver.cache_clear()
