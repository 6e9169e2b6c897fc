"""`LocalStack`: the whole pipeline in this process, against moto server on loopback.

    with LocalStack(port=0, media_hosts=("127.0.0.1",), events_file=Path("events.jsonl")) as stack:
        url = stack.signed_url("music", ref="job-1")   # POST callbacks here
        stack.wait_until_idle(timeout=10)             # the queue drained, events written

The real handlers run as in Lambda (runtime.py): ingest behind a real HTTP listener (http_adapter.py),
archive fed by a poller of the queue, and task events appended to `events_file` by a subscriber of the
topic (workers.py). The handlers read their configuration from the environment, so entering the stack
sets this process's `SUNO_CALLBACKS_*` and `AWS_*` variables (and leaving restores them): one LocalStack
per process at a time.
"""

from __future__ import annotations

import os
import secrets
import time
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
from suno_callbacks.local.http_adapter import IngestServer
from suno_callbacks.local.runtime import LambdaRuntime
from suno_callbacks.local.workers import ArchiveWorker, EventsSubscriber
from suno_callbacks.logic.signing import SigningKeys, signed_callback_url
from suno_callbacks.models.settings import PREFIX, load_settings

SECRET_ENV = f"{PREFIX}SECRET"
_IDLE_CHECK_SECONDS = 0.05


def generate_secret() -> str:
    """48 letters and digits, like the stack's generated secret."""
    return secrets.token_hex(24)


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
    ) -> None:
        self.secret = secret or generate_secret()
        self.events_file = events_file
        self._port = port
        self._moto_port = moto_port
        self._media_hosts = media_hosts
        self._on_event = on_event
        self._saved_environment: dict[str, str | None] = {}
        self._stops: list[Callable[[], None]] = []
        self._resources: LocalResources | None = None
        self._ingest: IngestServer | None = None
        self._worker: ArchiveWorker | None = None
        self._subscriber: EventsSubscriber | None = None
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

        runtime = LambdaRuntime()
        self._ingest = IngestServer(ingest.lambda_handler, runtime, self._port)
        self._worker = ArchiveWorker(self.resources.queue_url, archive.lambda_handler, runtime)
        self._subscriber = EventsSubscriber(self.resources.events_queue_url, self.events_file, self._on_event)
        self.events_file.parent.mkdir(parents=True, exist_ok=True)
        self.events_file.touch()
        for part in (self._ingest, self._worker, self._subscriber):
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
            # Logs stay readable in a terminal; metrics and traces have nowhere to go locally.
            "POWERTOOLS_LOG_LEVEL": os.environ.get("POWERTOOLS_LOG_LEVEL", "WARNING"),
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
        )


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
