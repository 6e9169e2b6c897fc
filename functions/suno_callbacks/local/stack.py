"""`LocalStack`: the whole pipeline in this process, against moto server on loopback (a child process).

    with LocalStack(port=0, media_hosts=("127.0.0.1",), events_file=Path("events.jsonl")) as stack:
        url = stack.signed_url("music", ref="job-1")   # POST callbacks here
        stack.wait_until_idle(timeout=10)             # the queue drained, events written

The real handlers run as in Lambda (runtime.py): ingest behind a real HTTP listener (http_adapter.py),
archive fed by a poller of the queue, and task events written to `events_file` (emptied at start: it holds
this run's events only) by a subscriber of the topic (workers.py), which also forwards each notification
to `forward_to` when given (forward.py). The handlers read their configuration from the environment, so
entering the stack sets this process's `SUNO_CALLBACKS_*` and `AWS_*` variables (and leaving restores
them): one LocalStack per process at a time.
"""

from __future__ import annotations

import logging
import os
import time
import warnings
from collections.abc import Callable
from pathlib import Path
from types import TracebackType
from typing import Any

from pydantic import SecretStr

from suno_callbacks.dal import secrets as secret_store
from suno_callbacks.dal.aws import client
from suno_callbacks.local.emulator import (
    CREDENTIALS,
    MAX_RECEIVE_COUNT,
    REGION,
    LocalResources,
    MotoServer,
    create_resources,
)
from suno_callbacks.local.forward import EventForwarder, OnDelivery
from suno_callbacks.local.http_adapter import IngestServer, OnRequest
from suno_callbacks.local.runtime import LambdaRuntime
from suno_callbacks.local.state import generate_secret
from suno_callbacks.local.workers import ArchiveWorker, EventsSubscriber
from suno_callbacks.logic.signing import SigningKeys, signed_callback_url
from suno_callbacks.models.settings import PREFIX, load_settings

_IDLE_CHECK_SECONDS = 0.05
# Invocations of ingest at a time, as Lambda scales it out under a burst: more than one keeps moto busy
# while an invocation is between its AWS calls; more than a few only queues at moto's lock.
INGEST_INSTANCES = 4


class LocalStack:
    def __init__(
        self,
        port: int = 0,
        media_hosts: tuple[str, ...] = ("127.0.0.1",),
        events_file: Path = Path("suno-callbacks-events.jsonl"),
        secret: str | None = None,
        *,
        moto_port: int = 0,
        on_event: Callable[[dict[str, Any]], None] | None = None,
        on_request: OnRequest | None = None,
        forward_to: str | None = None,
        on_delivery: OnDelivery | None = None,
        handler_logs: bool = False,
    ) -> None:
        """`handler_logs`: the handlers' JSON logs (Powertools) are printed, at `POWERTOOLS_LOG_LEVEL`
        (default INFO); without, only their errors reach the service logger's other handlers."""
        self.secret = secret or generate_secret()
        self.events_file = events_file
        self.forward_to = forward_to
        self._port = port
        self._moto_port = moto_port
        self._media_hosts = media_hosts
        self._on_event = on_event
        self._on_request = on_request
        self._on_delivery = on_delivery
        self._handler_logs = handler_logs
        self._saved_environment: dict[str, str | None] = {}
        self._stops: list[Callable[[], None]] = []
        self._resources: LocalResources | None = None
        self._ingest: IngestServer | None = None
        self._worker: ArchiveWorker | None = None
        self._subscriber: EventsSubscriber | None = None
        self._forwarder: EventForwarder | None = None
        self._endpoint_url = ""

    # --- what callers use -----------------------------------------------------------------------------

    @property
    def base_url(self) -> str:
        """`http://127.0.0.1:PORT`: callbacks go to `{base_url}/callbacks/{kind}?…` (signed)."""
        assert self._ingest is not None, "enter the LocalStack first"
        return self._ingest.base_url

    @property
    def resources(self) -> LocalResources:
        assert self._resources is not None, "enter the LocalStack first"
        return self._resources

    def signed_url(self, kind: str, ref: str | None = None) -> str:
        return signed_callback_url(self.base_url, kind, SigningKeys(current=SecretStr(self.secret)), ref=ref)

    @property
    def environment(self) -> dict[str, str]:
        """What a second shell exports to use the CLI (or the reader API) against this local store."""
        r = self.resources
        return {
            "AWS_ENDPOINT_URL": self._endpoint_url,
            **CREDENTIALS,
            "AWS_DEFAULT_REGION": REGION,
            f"{PREFIX}TABLE": r.table_name,
            f"{PREFIX}BUCKET": r.bucket_name,
            f"{PREFIX}QUEUE_URL": r.queue_url,
            f"{PREFIX}DLQ_URL": r.dlq_url,
            f"{PREFIX}TOPIC_ARN": r.topic_arn,
            f"{PREFIX}SECRET_ID": r.secret_id,
            f"{PREFIX}BASE_URL": self.base_url,
        }

    def wait_until_idle(self, timeout: float) -> None:
        """Return once every queued stage is archived and every event written; `TimeoutError` otherwise."""
        deadline = time.monotonic() + timeout
        while not self._idle():
            if time.monotonic() > deadline:
                raise TimeoutError(f"local stack still busy after {timeout} s")
            time.sleep(_IDLE_CHECK_SECONDS)

    # --- lifecycle ------------------------------------------------------------------------------------

    def __enter__(self) -> LocalStack:
        try:
            self._start()
        except BaseException:
            self._stop()
            raise
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self._stop()

    def _start(self) -> None:
        moto = MotoServer(self._moto_port)
        moto.start()
        self._stops.append(moto.stop)
        self._endpoint_url = moto.endpoint_url
        self._resources = create_resources(self._endpoint_url, self.secret)
        self._set_environment(self._handler_environment())
        self._stops.append(self._restore_environment)

        # Imported here, after the environment is set: Powertools reads its variables on import.
        from suno_callbacks.handlers import archive, ingest

        self._stops.append(_set_handler_logs(self._handler_logs))
        # Metrics are disabled here, so archive's flush of none says nothing (and is not a readable line).
        warnings.filterwarnings("ignore", "No application metrics to publish", UserWarning)
        # A runtime each, as Lambda runs the two functions in separate instances.
        ingest_runtime = LambdaRuntime(instances=INGEST_INSTANCES)
        self._ingest = IngestServer(ingest.lambda_handler, ingest_runtime, self._port, self._on_request)
        self._worker = ArchiveWorker(self.resources.queue_url, archive.lambda_handler, LambdaRuntime())
        if self.forward_to:
            self._forwarder = EventForwarder(self.forward_to, self._on_delivery)
        self._subscriber = EventsSubscriber(
            self.resources.events_queue_url,
            self.events_file,
            self._on_event,
            self._forwarder.forward if self._forwarder else None,
        )
        self.events_file.parent.mkdir(parents=True, exist_ok=True)
        self.events_file.write_bytes(b"")  # this run's events only
        # Stopped in reverse: the subscriber before the forwarder it feeds.
        for part in (self._forwarder, self._ingest, self._worker, self._subscriber):
            if part is not None:
                part.start()
                self._stops.append(part.stop)

    def _stop(self) -> None:
        while self._stops:
            self._stops.pop()()

    def _handler_environment(self) -> dict[str, str]:
        r = self.resources
        return {
            "AWS_ENDPOINT_URL": self._endpoint_url,
            **CREDENTIALS,
            "AWS_DEFAULT_REGION": REGION,
            "AWS_PROFILE": "",
            "AWS_SESSION_TOKEN": "",
            f"{PREFIX}TABLE": r.table_name,
            f"{PREFIX}BUCKET": r.bucket_name,
            f"{PREFIX}QUEUE_URL": r.queue_url,
            f"{PREFIX}SECRET_ID": r.secret_id,
            f"{PREFIX}TOPIC_ARN": r.topic_arn,
            f"{PREFIX}LOCAL_MEDIA_HOSTS": ",".join(self._media_hosts),
            f"{PREFIX}MAX_ATTEMPTS": str(MAX_RECEIVE_COUNT),
            # Metrics and traces have nowhere to go locally.
            "POWERTOOLS_METRICS_DISABLED": "true",
            "POWERTOOLS_TRACE_DISABLED": "true",
        }

    def _set_environment(self, values: dict[str, str]) -> None:
        for name, value in values.items():
            self._saved_environment.setdefault(name, os.environ.get(name))
            if value:
                os.environ[name] = value
            else:
                os.environ.pop(name, None)
        _clear_caches()

    def _restore_environment(self) -> None:
        for name, value in self._saved_environment.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value
        self._saved_environment.clear()
        _clear_caches()

    def _idle(self) -> bool:
        # Order matters: archive deletes a message only after publishing its event, so once the archive
        # queue is empty and its worker idle, every event is already on the events queue.
        assert self._worker is not None and self._subscriber is not None
        return (
            _queue_empty(self.resources.queue_url)
            and not self._worker.busy
            and _queue_empty(self.resources.events_queue_url)
            and not self._subscriber.busy
            and not (self._forwarder is not None and self._forwarder.busy)
        )


def _set_handler_logs(shown: bool) -> Callable[[], None]:
    """Show the handlers' JSON logs (at POWERTOOLS_LOG_LEVEL, default INFO) or hide them: the service
    logger then passes on only errors, and its Powertools handler (which prints the JSON) none. Returns
    what restores the logger as it was."""
    from suno_callbacks.observability import SERVICE, logger

    service_logger = logging.getLogger(SERVICE)
    json_handler = logger.logger_handler
    saved = service_logger.level, json_handler.level
    if shown:
        service_logger.setLevel(os.environ.get("POWERTOOLS_LOG_LEVEL", "INFO").upper())
        json_handler.setLevel(logging.NOTSET)
    else:
        service_logger.setLevel(logging.ERROR)
        json_handler.setLevel(logging.CRITICAL + 1)

    def restore() -> None:
        service_logger.setLevel(saved[0])
        json_handler.setLevel(saved[1])

    return restore


def _queue_empty(queue_url: str) -> bool:
    counts = client("sqs").get_queue_attributes(
        QueueUrl=queue_url,
        AttributeNames=["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"],
    )["Attributes"]
    return all(int(value) == 0 for value in counts.values())


def _clear_caches() -> None:
    """Settings, clients and built archivers are cached per process; the environment just changed."""
    from suno_callbacks.handlers import archive

    client.cache_clear()
    load_settings.cache_clear()
    secret_store._provider.cache_clear()
    archive.archiver.cache_clear()
