"""Ingest tests: the real handler, driven with API Gateway v2 events, against moto."""

from __future__ import annotations

import base64
import json
import zlib
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import boto3
import pytest
from moto import mock_aws

from suno_callbacks.dal import keys
from suno_callbacks.dal.aws import client
from suno_callbacks.dal.dynamo import from_item
from suno_callbacks.dal.schema import table_definition
from suno_callbacks.local.emulator import FIFO_ATTRIBUTES
from suno_callbacks.logic.signing import SigningKeys, signed_callback_url

TABLE = "suno-callbacks-test"
BUCKET = "suno-callbacks-test-media"
SECRET_NAME = "suno-callbacks/signing"
CURRENT_SECRET = "current-secret-value-0123456789abcdef"
PREVIOUS_SECRET = "previous-secret-value-fedcba9876543210"
KIE_KEY = "kie-webhook-key-value-00112233"
BASE_URL = "https://callbacks.example.test"


@dataclass
class Aws:
    """The moto resources one test runs against, with readers for what the user would look at."""

    queue_url: str
    subscriber_url: str

    @property
    def dynamodb(self) -> Any:
        return client("dynamodb")

    @property
    def sqs(self) -> Any:
        return client("sqs")

    def task_items(self, task_id: str) -> dict[str, dict[str, Any]]:
        response = self.dynamodb.query(
            TableName=TABLE,
            KeyConditionExpression="pk = :pk",
            ExpressionAttributeValues={":pk": {"S": keys.task_pk(task_id)}},
        )
        return {item["sk"]["S"]: from_item(item) for item in response["Items"]}

    def all_items(self) -> list[dict[str, Any]]:
        return [from_item(item) for item in self.dynamodb.scan(TableName=TABLE)["Items"]]

    def redeliveries(self, task_id: str) -> list[dict[str, Any]]:
        """The redelivery items of a task, oldest first."""
        return sorted(
            (item for item in self.task_items(task_id).values() if item["type"] == "redelivery"),
            key=lambda item: str(item["received_at"]),
        )

    def quarantined(self) -> list[dict[str, Any]]:
        return [item for item in self.all_items() if item["type"] == "quarantine"]

    def queued(self) -> list[dict[str, Any]]:
        """Drain the queue: the archive requests sent so far (SQS's deduplication applied)."""
        messages: list[dict[str, Any]] = []
        while True:
            response = self.sqs.receive_message(QueueUrl=self.queue_url, MaxNumberOfMessages=10)
            batch = response.get("Messages", [])
            if not batch:
                return messages
            for message in batch:
                messages.append(json.loads(message["Body"]))
                self.sqs.delete_message(QueueUrl=self.queue_url, ReceiptHandle=message["ReceiptHandle"])

    def settle(self) -> None:
        """Let the archive function settle everything queued (media-less stages: no media server here)."""
        from suno_callbacks.handlers import archive
        from tests.archive.conftest import LambdaContext, sqs_event

        archive.archiver.cache_clear()  # built from this test's environment
        while messages := self.sqs.receive_message(
            QueueUrl=self.queue_url, MaxNumberOfMessages=10, AttributeNames=["All"]
        ).get("Messages", []):
            event = sqs_event(*(m["Body"] for m in messages))
            for record, message in zip(event["Records"], messages, strict=True):
                record["attributes"] = message["Attributes"]
            response = archive.lambda_handler(event, LambdaContext())
            assert response["batchItemFailures"] == [], response
            for message in messages:
                self.sqs.delete_message(QueueUrl=self.queue_url, ReceiptHandle=message["ReceiptHandle"])

    def published(self) -> list[dict[str, Any]]:
        """The task events published so far (a subscriber's queue, drained)."""
        events: list[dict[str, Any]] = []
        while batch := self.sqs.receive_message(QueueUrl=self.subscriber_url, MaxNumberOfMessages=10).get(
            "Messages"
        ):
            for message in batch:
                events.append(json.loads(message["Body"]))
                self.sqs.delete_message(QueueUrl=self.subscriber_url, ReceiptHandle=message["ReceiptHandle"])
        return events

    def set_signing_secret(self, value: dict[str, str]) -> None:
        client("secretsmanager").put_secret_value(SecretId=SECRET_NAME, SecretString=json.dumps(value))


@pytest.fixture
def aws(monkeypatch: pytest.MonkeyPatch) -> Iterator[Aws]:
    with mock_aws():
        boto3.client("dynamodb").create_table(**table_definition(TABLE))
        boto3.client("s3").create_bucket(Bucket=BUCKET)
        queue_url = boto3.client("sqs").create_queue(
            QueueName="archive.fifo", Attributes={**FIFO_ATTRIBUTES, "VisibilityTimeout": "0"}
        )["QueueUrl"]
        topic_arn = boto3.client("sns").create_topic(Name="suno-callbacks-events")["TopicArn"]
        subscriber_url = boto3.client("sqs").create_queue(QueueName="subscriber")["QueueUrl"]
        boto3.client("sns").subscribe(
            TopicArn=topic_arn,
            Protocol="sqs",
            Endpoint="arn:aws:sqs:us-east-1:123456789012:subscriber",
            Attributes={"RawMessageDelivery": "true"},
        )
        boto3.client("secretsmanager").create_secret(
            Name=SECRET_NAME,
            SecretString=json.dumps(
                {"current": CURRENT_SECRET, "previous": PREVIOUS_SECRET, "kie_webhook_key": KIE_KEY}
            ),
        )
        for name, value in {
            "SUNO_CALLBACKS_TABLE": TABLE,
            "SUNO_CALLBACKS_BUCKET": BUCKET,
            "SUNO_CALLBACKS_QUEUE_URL": queue_url,
            "SUNO_CALLBACKS_SECRET_ID": SECRET_NAME,
            "SUNO_CALLBACKS_SECRET_MAX_AGE_SECONDS": "0",
            "SUNO_CALLBACKS_TOPIC_ARN": topic_arn,  # for archive, when a test settles what it queued
        }.items():
            monkeypatch.setenv(name, value)
        yield Aws(queue_url=queue_url, subscriber_url=subscriber_url)


def signed_path(kind: str, ref: str | None = None, secret: str = CURRENT_SECRET) -> str:
    """Path and query of a signed callback URL, as the CLI would print it."""
    url = signed_callback_url(BASE_URL, kind, SigningKeys(current=secret), ref=ref)  # type: ignore[arg-type]
    parts = urlsplit(url)
    return f"{parts.path}?{parts.query}"


def http_event(
    path: str,
    body: bytes | str | dict[str, Any] | list[Any] | None,
    *,
    method: str = "POST",
    headers: dict[str, str] | None = None,
    base64_encoded: bool = False,
) -> dict[str, Any]:
    """An API Gateway HTTP API (payload format 2.0) event, as the service sends it."""
    raw_path, _, raw_query = path.partition("?")
    if isinstance(body, dict | list):
        body = json.dumps(body)
    if isinstance(body, bytes):
        body_text = base64.b64encode(body).decode() if base64_encoded else body.decode("utf-8")
    else:
        body_text = base64.b64encode(body.encode()).decode() if (base64_encoded and body) else body  # type: ignore[assignment]
    query: dict[str, str] = {}
    for name, value in parse_qsl(raw_query, keep_blank_values=True):
        query[name] = f"{query[name]},{value}" if name in query else value
    kind = raw_path.rstrip("/").rsplit("/", 1)[-1]
    event: dict[str, Any] = {
        "version": "2.0",
        "routeKey": "POST /callbacks/{kind}",
        "rawPath": raw_path,
        "rawQueryString": raw_query,
        "headers": {"content-type": "application/json", "user-agent": "suno-callback", **(headers or {})},
        "requestContext": {
            "accountId": "123456789012",
            "apiId": "api-id",
            "domainName": "callbacks.example.test",
            "domainPrefix": "callbacks",
            "http": {
                "method": method,
                "path": raw_path,
                "protocol": "HTTP/1.1",
                "sourceIp": "203.0.113.10",
                "userAgent": "suno-callback",
            },
            "requestId": "request-id",
            "routeKey": "POST /callbacks/{kind}",
            "stage": "$default",
            "time": "22/Nov/2026:05:00:00 +0000",
            "timeEpoch": 1795323600000,
        },
        "pathParameters": {"kind": kind},
        "isBase64Encoded": base64_encoded,
    }
    if raw_query:
        event["queryStringParameters"] = query
    if body_text is not None:
        event["body"] = body_text
    return event


def invoke(event: dict[str, Any]) -> tuple[int, dict[str, Any]]:
    """Call the real ingest handler; returns (HTTP status, JSON body)."""
    from suno_callbacks.handlers.ingest import lambda_handler

    response = lambda_handler(event, LambdaContextStub())
    return response["statusCode"], json.loads(response["body"]) if response.get("body") else {}


def post(
    kind: str,
    body: Any,
    *,
    ref: str | None = None,
    secret: str = CURRENT_SECRET,
    headers: dict[str, str] | None = None,
) -> tuple[int, dict[str, Any]]:
    return invoke(http_event(signed_path(kind, ref, secret), body, headers=headers))


def raw_body(item: dict[str, Any]) -> bytes:
    return zlib.decompress(item["raw_body"])


def stage_key(stage: str, kind: str, ref: str | None = None) -> str:
    return keys.stage_sk(stage, kind, ref)


class LambdaContextStub:
    function_name = "ingest"
    function_version = "$LATEST"
    invoked_function_arn = "arn:aws:lambda:us-east-1:123456789012:function:ingest"
    memory_limit_in_mb = 256
    aws_request_id = "request-id"
    log_group_name = "/aws/lambda/ingest"
    log_stream_name = "stream"

    def get_remaining_time_in_millis(self) -> int:
        return 10_000
