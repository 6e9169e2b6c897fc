"""What the console shows and does, read through the reader API and the operator actions (cli/operations).

Nothing here knows HTTP or HTML. Media is linked by presigned URLs that expire after 15 minutes: long
enough to play a song, short enough that a copied page is soon harmless.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any
from urllib.parse import urlsplit

from suno_callbacks.cli import operations
from suno_callbacks.cli.operations import DeadLetters, QuarantinedCallback, ReplayResult
from suno_callbacks.logic.payload import InvalidJson, parse_json
from suno_callbacks.models.events import Asset
from suno_callbacks.models.settings import CliSettings
from suno_callbacks.reader import Reader, TaskPage, TaskStatus, TaskView

MEDIA_URL_SECONDS = 15 * 60
TASKS_PER_PAGE = 25
QUARANTINE_SHOWN = 50
DEAD_LETTERS_SHOWN = 10


@dataclass(frozen=True)
class TaskFilters:
    """The task list's filters as the page's form sends them (every one optional)."""

    kind: str | None = None
    status: TaskStatus | str | None = None
    ref: str | None = None
    since: datetime | None = None
    cursor: str | None = None


@dataclass(frozen=True)
class TaskDetail:
    view: TaskView
    # A presigned URL per archived asset, by (item id, field).
    media_urls: dict[tuple[str, str], str]

    @property
    def media_origins(self) -> set[str]:
        return {origin_of(url) for url in self.media_urls.values()}


@dataclass(frozen=True)
class QuarantineEntry:
    entry: QuarantinedCallback
    body: Any


@dataclass(frozen=True)
class OperationsState:
    quarantine: list[QuarantineEntry]
    # None when no DLQ is configured (SUNO_CALLBACKS_DLQ_URL, or the stack's output).
    dead_letters: DeadLetters | None
    # Replay queues what it records; redrive moves messages to the archive queue.
    can_replay: bool
    can_redrive: bool


def origin_of(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}"


class ConsoleData:
    def __init__(self, settings: CliSettings) -> None:
        self.settings = settings
        self.reader = Reader(settings)

    def tasks(self, filters: TaskFilters) -> TaskPage:
        """`ValueError` for a filter or cursor the reader does not take."""
        return self.reader.list_tasks_page(
            kind=filters.kind,
            status=filters.status,
            ref=filters.ref,
            since=filters.since,
            cursor=filters.cursor,
            limit=TASKS_PER_PAGE,
        )

    def task(self, task_id: str) -> TaskDetail | None:
        view = self.reader.get_task(task_id)
        if view is None:
            return None
        return TaskDetail(view, {(a.item_id, a.field): self._media_url(a) for a in view.assets if a.s3_key})

    def operations(self) -> OperationsState:
        entries = operations.list_quarantine(self.settings)[:QUARANTINE_SHOWN]
        quarantine = [
            QuarantineEntry(e, _readable(operations.quarantined_body(self.settings, e.quarantine_id)[1]))
            for e in entries
        ]
        dlq = self.settings.dlq_url
        return OperationsState(
            quarantine=quarantine,
            dead_letters=operations.dead_letters(dlq, limit=DEAD_LETTERS_SHOWN) if dlq else None,
            can_replay=self.settings.queue_url is not None,
            can_redrive=dlq is not None and self.settings.queue_url is not None,
        )

    def replay(self, quarantine_id: str) -> ReplayResult:
        """`CliError` when nothing is quarantined under this id."""
        (result,) = operations.replay(self.settings, ids=[quarantine_id])
        return result

    def redrive(self) -> int:
        """How many messages moved from the DLQ back to the archive queue."""
        assert self.settings.dlq_url and self.settings.queue_url, "the page offers redrive only with both"
        return operations.redrive(self.settings.dlq_url, self.settings.queue_url, on_progress=_ignore)

    def _media_url(self, asset: Asset) -> str:
        return self.reader.presigned_url(asset, expires_in_seconds=MEDIA_URL_SECONDS)


def _readable(body: bytes) -> Any:
    try:
        return parse_json(body)
    except InvalidJson:
        return body.decode("utf-8", "replace")


def _ignore(moved: int, total: int) -> None:
    """The page says how many moved once it is done."""
