"""The embedded AWS: moto server on loopback, and the resources created as the stack defines them.

moto's backends are not safe under concurrent requests (DynamoDB conditional writes race), so the server
answers one request at a time: werkzeug's single-threaded server, which also speaks HTTP/1.0 and closes
each connection, so that no idle keep-alive connection can hold the others up. Correctness over throughput.
"""

from __future__ import annotations

import json
import threading
import urllib.request
from dataclasses import dataclass
from typing import Any

import boto3
from werkzeug.serving import BaseWSGIServer, make_server

from suno_callbacks.dal.schema import table_definition

REGION = "us-east-1"
# moto accepts any credentials; these only keep boto3 from looking for real ones.
CREDENTIALS = {"AWS_ACCESS_KEY_ID": "local", "AWS_SECRET_ACCESS_KEY": "local"}

TABLE_NAME = "suno-callbacks"
BUCKET_NAME = "suno-callbacks-media"
QUEUE_NAME = "suno-callbacks-archive.fifo"
DLQ_NAME = "suno-callbacks-archive-dlq.fifo"
TOPIC_NAME = "suno-callbacks-events"
EVENTS_QUEUE_NAME = "suno-callbacks-local-events"
SECRET_NAME = "suno-callbacks/signing"  # noqa: S105 - a name, no value
# As the stack: after this many receives a message goes to the DLQ. The visibility timeout is short
# (the stack's is 6 x the archive timeout) so that a transient failure is retried within seconds.
MAX_RECEIVE_COUNT = 5
VISIBILITY_TIMEOUT_SECONDS = 5
# As the stack's: FIFO, deduplicated and ordered per message group (a task), high throughput mode.
FIFO_ATTRIBUTES = {
    "FifoQueue": "true",
    "ContentBasedDeduplication": "false",
    "DeduplicationScope": "messageGroup",
    "FifoThroughputLimit": "perMessageGroupId",
}


class MotoServer:
    """moto server in a thread of this process, on 127.0.0.1."""

    def __init__(self, port: int = 0) -> None:
        from moto.moto_server.werkzeug_app import (
            DomainDispatcherApplication,
            MotoRequestHandler,
            create_backend_app,
        )

        class QuietRequestHandler(MotoRequestHandler):
            def log_request(self, *args: Any, **kwargs: Any) -> None:
                """One line per AWS call would drown the terminal."""

        app = DomainDispatcherApplication(create_backend_app)
        self._server: BaseWSGIServer = make_server(
            "127.0.0.1", port, app, threaded=False, request_handler=QuietRequestHandler
        )
        self._thread = threading.Thread(target=self._server.serve_forever, name="moto", daemon=True)

    @property
    def endpoint_url(self) -> str:
        return f"http://127.0.0.1:{self._server.server_port}"

    def start(self) -> None:
        self._thread.start()
        # moto keeps its emulated accounts in this process's memory: a stack started after another one
        # in the same process must not find the previous stack's table, queues and objects.
        reset = urllib.request.Request(f"{self.endpoint_url}/moto-api/reset", method="POST")  # noqa: S310
        with urllib.request.urlopen(reset, timeout=10):  # noqa: S310 - our own loopback server
            pass

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join()


@dataclass(frozen=True)
class LocalResources:
    table_name: str
    bucket_name: str
    queue_url: str
    dlq_url: str
    topic_arn: str
    events_queue_url: str
    secret_id: str


def create_resources(endpoint_url: str, secret: str) -> LocalResources:
    """Table (same keys and indexes as the stack), bucket, queue with its DLQ, topic, signing secret, and
    a queue subscribed to the topic that stands in for a subscriber."""
    session = boto3.Session(
        aws_access_key_id=CREDENTIALS["AWS_ACCESS_KEY_ID"],
        aws_secret_access_key=CREDENTIALS["AWS_SECRET_ACCESS_KEY"],
        region_name=REGION,
    )

    def aws(service: str) -> Any:
        return session.client(service, endpoint_url=endpoint_url)  # type: ignore[call-overload]

    aws("dynamodb").create_table(**table_definition(TABLE_NAME))
    aws("s3").create_bucket(Bucket=BUCKET_NAME)
    sqs = aws("sqs")
    dlq_url = sqs.create_queue(QueueName=DLQ_NAME, Attributes=FIFO_ATTRIBUTES)["QueueUrl"]
    queue_url = sqs.create_queue(
        QueueName=QUEUE_NAME,
        Attributes={
            **FIFO_ATTRIBUTES,
            "VisibilityTimeout": str(VISIBILITY_TIMEOUT_SECONDS),
            "RedrivePolicy": json.dumps(
                {"deadLetterTargetArn": _queue_arn(sqs, dlq_url), "maxReceiveCount": str(MAX_RECEIVE_COUNT)}
            ),
        },
    )["QueueUrl"]
    sns = aws("sns")
    topic_arn = sns.create_topic(Name=TOPIC_NAME)["TopicArn"]
    events_queue_url = sqs.create_queue(QueueName=EVENTS_QUEUE_NAME)["QueueUrl"]
    sns.subscribe(
        TopicArn=topic_arn,
        Protocol="sqs",
        Endpoint=_queue_arn(sqs, events_queue_url),
        Attributes={"RawMessageDelivery": "true"},
    )
    secret_arn = aws("secretsmanager").create_secret(
        Name=SECRET_NAME, SecretString=json.dumps({"current": secret})
    )["ARN"]
    return LocalResources(
        table_name=TABLE_NAME,
        bucket_name=BUCKET_NAME,
        queue_url=queue_url,
        dlq_url=dlq_url,
        topic_arn=topic_arn,
        events_queue_url=events_queue_url,
        secret_id=secret_arn,
    )


def _queue_arn(sqs: Any, queue_url: str) -> str:
    attributes = sqs.get_queue_attributes(QueueUrl=queue_url, AttributeNames=["QueueArn"])["Attributes"]
    return str(attributes["QueueArn"])
