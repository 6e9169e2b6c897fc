"""The sweep: a safety net that re-queues every task the archive has not settled yet.

A stage can be recorded but never archived: an enqueue that failed after the provider stopped retrying,
a message that ended in the DLQ, a bug fixed since. The provider deletes the media about 14 days after
the callback, so once an hour (by default) the sweep lists, per kind, the tasks created within that
window and older than a grace period that have no `outcome`, and sends the archive request for their
highest stage again. Archive is idempotent, so a request sent twice costs a Query, not a second copy.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from suno_callbacks.dal.queue import ArchiveQueue
from suno_callbacks.dal.sweep_store import SweepStore
from suno_callbacks.models.kinds import Kind
from suno_callbacks.models.messages import ArchiveRequest
from suno_callbacks.models.records import StageRecord
from suno_callbacks.observability import logger
from suno_callbacks.timestamps import from_iso, to_iso


@dataclass(frozen=True)
class SweepWindow:
    """Which tasks are swept, relative to `now`."""

    now: datetime
    source_retention: timedelta
    grace: timedelta
    near_expiry: timedelta

    @property
    def created_from(self) -> str:
        return to_iso(self.now - self.source_retention)

    @property
    def created_to(self) -> str:
        return to_iso(self.now - self.grace)

    def is_near_expiry(self, created_at: str) -> bool:
        return from_iso(created_at) <= self.now - self.near_expiry


@dataclass(frozen=True)
class SweepReport:
    requeued: int = 0
    near_expiry: int = 0


def sweep(*, store: SweepStore, queue: ArchiveQueue, window: SweepWindow) -> SweepReport:
    """Re-queue the highest stage of every unsettled task in the window; count those close to expiry."""
    requeued = near_expiry = 0
    for kind in Kind:
        for task in store.unsettled_tasks(
            kind, created_from=window.created_from, created_to=window.created_to
        ):
            stage = store.read_stage(task.task_id, task.status)
            if stage is None or not _needs_archive(stage):
                continue
            queue.send(
                ArchiveRequest(
                    task_id=stage.task_id, stage=stage.stage, kind=stage.kind, received_at=stage.received_at
                )
            )
            requeued += 1
            late = window.is_near_expiry(task.created_at)
            near_expiry += late
            logger.info(
                "re-queued an unsettled task",
                extra={"task_id": task.task_id, "kind": kind.value, "stage": stage.stage.value, "late": late},
            )
    return SweepReport(requeued=requeued, near_expiry=near_expiry)


def _needs_archive(stage: StageRecord) -> bool:
    """The same rule as ingest's: stages with media, and the terminal ones (they publish the outcome)."""
    return bool(stage.media) or stage.stage.is_terminal
