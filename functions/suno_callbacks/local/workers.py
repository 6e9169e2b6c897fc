"""The two pollers of local mode: Lambda's SQS trigger for the archive handler, and a subscriber to the
task events topic that appends each event to a file (and hands each notification to `--forward-to`).

They poll without long polling: moto server answers one request at a time (emulator.py), and a long poll
would hold every other request back for its whole wait.
"""

from __future__ import annotations

import hashlib
import json
import threading
from abc import ABC, abstractmethod
from collections.abc import Callable
from pathlib import Path
from typing import Any

from suno_callbacks.dal.aws import client
from suno_callbacks.local.emulator import REGION
from suno_callbacks.local.runtime import Handler, LambdaRuntime

POLL_INTERVAL_SECONDS = 0.05
# As the stack's event source mapping (infra/constants.py ARCHIVE_BATCH_SIZE).
BATCH_SIZE = 5


class _Poller(ABC):
    """A daemon thread that receives from one queue and hands each non-empty batch to `_handle`."""

    def __init__(self, queue_url: str, name: str, batch_size: int) -> None:
        self.queue_url = queue_url
        self._batch_size = batch_size
        self._stop = threading.Event()
        # Set before each receive and cleared once its batch is handled: "idle" means nothing in hand.
        self._busy = threading.Event()
        self._thread = threading.Thread(target=self._run, name=name, daemon=True)

    @property
    def busy(self) -> bool:
        return self._busy.is_set()

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._thread.join()

    def _run(self) -> None:
        while not self._stop.is_set():
            self._busy.set()
            messages: list[dict[str, Any]] = []
            try:
                messages = (
                    client("sqs")
                    .receive_message(
                        QueueUrl=self.queue_url,
                        MaxNumberOfMessages=self._batch_size,
                        AttributeNames=["All"],
                    )
                    .get("Messages", [])
                )
                if messages:
                    self._handle(messages)
            except Exception:  # a poller outlives any one failure, as Lambda's does
                self._on_error()
            finally:
                self._busy.clear()
            if not messages:
                self._stop.wait(POLL_INTERVAL_SECONDS)

    @abstractmethod
    def _handle(self, messages: list[dict[str, Any]]) -> None: ...

    def _on_error(self) -> None:
        from suno_callbacks.observability import logger

        logger.exception("local poller failed; retrying", extra={"queue_url": self.queue_url})
        self._stop.wait(1.0)

    def _delete(self, messages: list[dict[str, Any]]) -> None:
        if messages:
            client("sqs").delete_message_batch(
                QueueUrl=self.queue_url,
                Entries=[{"Id": str(i), "ReceiptHandle": m["ReceiptHandle"]} for i, m in enumerate(messages)],
            )


class ArchiveWorker(_Poller):
    """Delivers the archive queue to the archive handler in batches, deleting what it did not report as
    failed; a failed message comes back after the visibility timeout and, in the end, goes to the DLQ."""

    def __init__(self, queue_url: str, handler: Handler, runtime: LambdaRuntime) -> None:
        super().__init__(queue_url, "archive-worker", BATCH_SIZE)
        self._handler = handler
        self._runtime = runtime
        account, name = queue_url.rsplit("/", 2)[-2:]
        self._queue_arn = f"arn:aws:sqs:{REGION}:{account}:{name}"

    def _handle(self, messages: list[dict[str, Any]]) -> None:
        event = {"Records": [self._record(m) for m in messages]}
        response = self._runtime.invoke(self._handler, event, "archive")
        failed = {f["itemIdentifier"] for f in response.get("batchItemFailures", [])}
        self._delete([m for m in messages if m["MessageId"] not in failed])

    def _record(self, message: dict[str, Any]) -> dict[str, Any]:
        # Received with every attribute: the FIFO ones (message group, sequence number) and the count.
        return {
            "messageId": message["MessageId"],
            "receiptHandle": message["ReceiptHandle"],
            "body": message["Body"],
            "attributes": message.get("Attributes", {}),
            "messageAttributes": {},
            "md5OfBody": hashlib.md5(message["Body"].encode()).hexdigest(),  # noqa: S324 - SQS's checksum
            "eventSource": "aws:sqs",
            "eventSourceARN": self._queue_arn,
            "awsRegion": REGION,
        }


class EventsSubscriber(_Poller):
    """Appends each task event published on the topic to `events_file`, one JSON object per line, then
    hands it to `on_event` and its SNS notification to `on_notification`."""

    def __init__(
        self,
        queue_url: str,
        events_file: Path,
        on_event: Callable[[dict[str, Any]], None] | None = None,
        on_notification: Callable[[dict[str, Any]], None] | None = None,
    ) -> None:
        super().__init__(queue_url, "events-subscriber", 10)
        self._events_file = events_file
        self._on_event = on_event
        self._on_notification = on_notification

    def _handle(self, messages: list[dict[str, Any]]) -> None:
        # Not raw delivery: each body is the notification SNS would POST to an HTTP subscriber, the task
        # event its `Message`.
        notifications = [json.loads(m["Body"]) for m in messages]
        events = [json.loads(n["Message"]) for n in notifications]
        with self._events_file.open("a", encoding="utf-8") as out:
            for event in events:
                out.write(json.dumps(event, separators=(",", ":")) + "\n")
        self._delete(messages)
        for notification, event in zip(notifications, events, strict=True):
            if self._on_event is not None:
                self._on_event(event)
            if self._on_notification is not None:
                self._on_notification(notification)
