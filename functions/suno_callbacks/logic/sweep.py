"""The sweep: a safety net that queues again every stage the archive has not settled yet.

A stage can be recorded but never settled: SQS unavailable through every provider retry (the stage is
stored, its message never sent), a message that ended in the DLQ, a bug fixed since. The provider deletes
the media about 14 days after the callback, so once an hour (by default) the sweep lists, per kind, the
stages received within that window and older than a grace period that are still in the `unsettled`
index, and queues them again. Archive ignores a stage it has settled, so a stage queued twice costs a
Query, not a second copy.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from suno_callbacks.dal.queue import ArchiveQueue
from suno_callbacks.dal.sweep_store import SweepStore
from suno_callbacks.models.kinds import Kind
from suno_callbacks.observability import logger
from suno_callbacks.timestamps import from_iso, to_iso


@dataclass(frozen=True)
class SweepWindow:
    """Which stages are swept, relative to `now`."""

    now: datetime
    source_retention: timedelta
    grace: timedelta
    near_expiry: timedelta

    @property
    def received_from(self) -> str:
        return to_iso(self.now - self.source_retention)

    @property
    def received_to(self) -> str:
        return to_iso(self.now - self.grace)

    def is_near_expiry(self, received_at: str) -> bool:
        return from_iso(received_at) <= self.now - self.near_expiry


@dataclass(frozen=True)
class SweepReport:
    requeued: int = 0
    near_expiry: int = 0


def sweep(*, store: SweepStore, queue: ArchiveQueue, window: SweepWindow) -> SweepReport:
    """Queue every unsettled stage in the window again; count those close to their media's expiry."""
    requeued = near_expiry = 0
    for kind in Kind:
        for request in store.unsettled_stages(
            kind, received_from=window.received_from, received_to=window.received_to
        ):
            queue.send(request)
            requeued += 1
            late = window.is_near_expiry(request.received_at)
            near_expiry += late
            logger.info(
                "queued an unsettled stage again",
                extra={"task_id": request.task_id, "kind": kind.value, "stage": request.stage, "late": late},
            )
    return SweepReport(requeued=requeued, near_expiry=near_expiry)
