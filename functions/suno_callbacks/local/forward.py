"""`--forward-to URL`: each SNS notification of the topic POSTed to a URL, as an HTTP(S) subscription of
SNS would deliver it, so that a webhook under development receives what it will receive in production.

The body is the SNS envelope (Type, MessageId, TopicArn, Message (the task event as a JSON string),
Timestamp, SignatureVersion, Signature, SigningCertURL, MessageAttributes …) with SNS's headers. The
signature is moto's: its certificate URL is not AWS's, so a receiver that verifies signatures must skip
that check locally. Deliveries go one at a time, in order, from a thread of their own; a failed one
(no connection, or an answer other than 2xx) is retried after each of `RETRY_DELAYS_SECONDS`, then
dropped. Each attempt is reported to `on_delivery`.
"""

from __future__ import annotations

import json
import queue
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

# Shorter than SNS's HTTP retry policy (minutes): local mode should say quickly that delivery failed.
RETRY_DELAYS_SECONDS = (0.5, 1.0, 2.0)
TIMEOUT_SECONDS = 5.0
USER_AGENT = "Amazon Simple Notification Service Agent"


@dataclass(frozen=True)
class Delivery:
    """The outcome of one attempt to deliver one notification."""

    url: str
    notification: dict[str, Any]
    attempt: int
    seconds: float
    status: int | None  # the HTTP status, None when there was no answer
    error: str | None  # why it failed, None when delivered
    retry_in: float | None  # seconds until the next attempt, None when this was the last one

    @property
    def delivered(self) -> bool:
        return self.error is None

    @property
    def event(self) -> dict[str, Any]:
        try:
            event = json.loads(self.notification.get("Message", ""))
        except ValueError:
            return {}
        return event if isinstance(event, dict) else {}


OnDelivery = Callable[[Delivery], None]


def notification_request(url: str, notification: dict[str, Any]) -> urllib.request.Request:
    """The POST SNS makes to an HTTP(S) subscriber for `notification`."""
    return urllib.request.Request(  # noqa: S310 - the URL the developer asked for
        url,
        data=json.dumps(notification).encode("utf-8"),
        method="POST",
        headers={
            "content-type": "text/plain; charset=UTF-8",
            "user-agent": USER_AGENT,
            "x-amz-sns-message-type": str(notification.get("Type", "Notification")),
            "x-amz-sns-message-id": str(notification.get("MessageId", "")),
            "x-amz-sns-topic-arn": str(notification.get("TopicArn", "")),
        },
    )


class EventForwarder:
    def __init__(
        self,
        url: str,
        on_delivery: OnDelivery | None = None,
        retry_delays: tuple[float, ...] = RETRY_DELAYS_SECONDS,
    ) -> None:
        self.url = url
        self._on_delivery = on_delivery
        self._retry_delays = retry_delays
        self._pending: queue.Queue[dict[str, Any] | None] = queue.Queue()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="event-forwarder", daemon=True)

    @property
    def busy(self) -> bool:
        """A notification is waiting or being delivered (`unfinished_tasks` counts both)."""
        return self._pending.unfinished_tasks > 0

    def forward(self, notification: dict[str, Any]) -> None:
        self._pending.put(notification)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._pending.put(None)
        self._thread.join()

    def _run(self) -> None:
        while (notification := self._pending.get()) is not None:
            try:
                self._deliver(notification)
            finally:
                self._pending.task_done()

    def _deliver(self, notification: dict[str, Any]) -> None:
        delays = iter(self._retry_delays)
        attempt = 0
        while not self._stop.is_set():
            attempt += 1
            started = time.perf_counter()
            status, error = self._post(notification)
            retry_in = next(delays, None) if error is not None else None
            if self._on_delivery is not None:
                self._on_delivery(
                    Delivery(
                        self.url,
                        notification,
                        attempt,
                        time.perf_counter() - started,
                        status,
                        error,
                        retry_in,
                    )
                )
            if retry_in is None:
                return
            self._stop.wait(retry_in)

    def _post(self, notification: dict[str, Any]) -> tuple[int | None, str | None]:
        try:
            with urllib.request.urlopen(  # noqa: S310 - the URL the developer asked for
                notification_request(self.url, notification), timeout=TIMEOUT_SECONDS
            ) as response:
                response.read()
                return response.status, None
        except urllib.error.HTTPError as error:
            return error.code, f"HTTP {error.code}"
        except (urllib.error.URLError, OSError) as error:
            reason = error.reason if isinstance(error, urllib.error.URLError) else error
            return None, getattr(reason, "strerror", None) or str(reason)
