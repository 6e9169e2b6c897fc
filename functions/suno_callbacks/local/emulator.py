"""The embedded AWS: moto server on loopback in a child process, and the resources created as the stack
defines them.

moto's backends are not safe under concurrent requests (DynamoDB conditional writes race), so the server
answers one request at a time: its threads (one per connection, HTTP/1.1 keep-alive, so the handlers'
clients reuse their connections) take one lock around moto. It runs in its own process so that moto's
work does not share a GIL with the handlers that call it: the two use both cores.

    python -m suno_callbacks.local.emulator [--port N]   # prints the port, serves until stdin closes
"""

from __future__ import annotations

import argparse
import inspect
import json
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from functools import cache
from typing import IO, Any, cast

import boto3

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

WsgiApp = Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]


class MotoServer:
    """moto server in a child process, on 127.0.0.1; the child exits when this process stops or dies."""

    def __init__(self, port: int = 0) -> None:
        self._port = port
        self._process: subprocess.Popen[str] | None = None
        self.endpoint_url = ""

    def start(self) -> None:
        self._process = subprocess.Popen(  # noqa: S603 - this interpreter, this module
            [sys.executable, "-m", __name__, "--port", str(self._port)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )
        assert self._process.stdout is not None
        port = self._process.stdout.readline().strip()  # the child's first line, once it listens
        if not port.isdigit():
            self.stop()
            raise RuntimeError("moto server did not start (its error is above)")
        self.endpoint_url = f"http://127.0.0.1:{port}"

    def stop(self) -> None:
        if self._process is None:
            return
        assert self._process.stdin is not None
        self._process.stdin.close()  # the child's signal to exit
        try:
            self._process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self._process.kill()
            self._process.wait()
        if self._process.stdout is not None:
            self._process.stdout.close()
        self._process = None


def one_at_a_time(app: WsgiApp) -> WsgiApp:
    """`app` answering one request at a time, its whole answer built under the lock."""
    lock = threading.Lock()

    def serialised(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        with lock:
            return list(app(environ, start_response))

    return serialised


def speed_up_moto() -> None:
    """Three shortcuts in moto server where it spends most of its time under a storm, answers unchanged.

    - SQS checks every message's visibility and delay on each send, receive and attributes call, each
      check reading the clock through two datetime conversions: it reads `time.time()`, the same clock.
    - Each request looks its service up in a listing of moto's package folders, read from disk every
      time (a stat per folder): it is read once.
    - A Query on a table's key reads every item of the table, sorts them all, then keeps the partition's:
      each of archive's per-task queries costs more as the table grows, and moto (one request at a time)
      holds every other request back meanwhile. It is given the partition's items only, from which
      moto's own code returns the same results (it sorts them by range key next). Queries of an index
      (the sweep's) are left as they are.
    """
    from moto import backends
    from moto.dynamodb.models.table import Table
    from moto.sqs import models as sqs_models

    # Each shortcut is taken only where moto still has the shape it was written against: after a moto
    # upgrade that changed one, local mode is slower, never wrong.
    to_millis = getattr(sqs_models, "unix_time_millis", None)
    if to_millis is not None:
        sqs_models.unix_time_millis = lambda dt=None: time.time() * 1000.0 if dt is None else to_millis(dt)  # type: ignore[attr-defined]

    listing = getattr(backends, "list_of_moto_modules", None)
    if listing is not None:
        backends.list_of_moto_modules = cache(lambda: tuple(listing()))

    query = Table.query
    parameters = inspect.signature(query).parameters
    if "index_name" not in parameters or not hasattr(Table, "all_items"):
        return
    index_position = list(parameters).index("index_name") - 2  # after self and hash_key

    def partition_query(self: Table, hash_key: Any, *args: Any, **kwargs: Any) -> Any:
        index_name = args[index_position] if len(args) > index_position else kwargs.get("index_name")
        if index_name or hash_key is None:
            return query(self, hash_key, *args, **kwargs)
        partition = self.items.get(hash_key)
        items: list[Any] = []
        if partition is not None:
            items = list(partition.values()) if self.range_key_attr else [partition]
        # Shadowed on this table for this call only: moto answers one request at a time (the lock).
        self.all_items = lambda: items  # type: ignore[method-assign]
        try:
            return query(self, hash_key, *args, **kwargs)
        finally:
            del self.all_items

    Table.query = partition_query  # type: ignore[method-assign]


def serve(port: int) -> None:
    """The child process: serve on 127.0.0.1:`port` (0: a free one), print the port, run until stdin
    closes (the parent stopped, or died)."""
    from moto.moto_server.werkzeug_app import (
        DomainDispatcherApplication,
        MotoRequestHandler,
        create_backend_app,
    )
    from werkzeug.serving import make_server
    from werkzeug.wsgi import LimitedStream

    class KeepAliveRequestHandler(MotoRequestHandler):
        """werkzeug's handler closes every connection (and, to be sure, reads whatever follows a request
        as its leftovers, the next request included). This one builds the environ as werkzeug does, then
        reads the body to its end and answers with a length, so the connection carries the next request:
        the handlers' clients reuse theirs rather than connect for every AWS call."""

        protocol_version = "HTTP/1.1"
        # Headers and body go out in two writes: without this, on a kept-alive connection the second
        # waits for the client's delayed acknowledgement of the first (40 ms).
        disable_nagle_algorithm = True

        def log_request(self, *args: Any, **kwargs: Any) -> None:
            """One line per AWS call would drown the terminal."""

        def run_wsgi(self) -> None:
            environ = self.make_environ()
            if not environ.get("wsgi.input_terminated"):  # not chunked: read up to its length only
                environ["wsgi.input"] = LimitedStream(
                    cast(IO[bytes], self.rfile), int(environ.get("CONTENT_LENGTH") or 0)
                )
            answer: dict[str, Any] = {}

            def start_response(status: str, headers: list[tuple[str, str]], exc_info: Any = None) -> Any:
                answer.update(status=status, headers=headers)

            body = b"".join(self.server.app(environ, start_response))
            while environ["wsgi.input"].read(65536):  # what the app left unread
                pass
            code, _, reason = answer["status"].partition(" ")
            self.send_response(int(code), reason)
            length = str(len(body))
            for name, value in answer["headers"]:
                if name.lower() == "content-length" and self.command == "HEAD":
                    length = value  # the length of what a GET would answer
                elif name.lower() not in ("content-length", "connection", "transfer-encoding"):
                    self.send_header(name, value)
            self.send_header("Content-Length", length)
            self.end_headers()
            if self.command != "HEAD":
                self.wfile.write(body)

    speed_up_moto()
    app = one_at_a_time(DomainDispatcherApplication(create_backend_app))
    server = make_server("127.0.0.1", port, app, threaded=True, request_handler=KeepAliveRequestHandler)
    threading.Thread(target=server.serve_forever, name="moto", daemon=True).start()
    print(server.server_port, flush=True)
    sys.stdin.read()


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
    a queue subscribed to the topic that stands in for a subscriber: without raw message delivery, each
    of its messages is the notification SNS would POST to an HTTP(S) subscriber."""
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


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description="moto server for local mode, one request at a time")
    parser.add_argument("--port", type=int, default=0)
    serve(parser.parse_args().port)
