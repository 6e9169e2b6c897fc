"""Messages between our functions (SQS) and to subscribers (SNS, DESIGN §7)."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict

from suno_callbacks.models.kinds import Kind, Stage


class ArchiveRequest(BaseModel):
    """SQS message from ingest to archive: which stage record to settle. The record is the source of truth."""

    model_config = ConfigDict(frozen=True)

    v: int = 1
    task_id: str
    stage: Stage
    kind: Kind
    received_at: str
