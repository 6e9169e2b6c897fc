"""What archive records per asset and publishes per outcome (DESIGN §5 assets, §7 notifications).

These are public shapes: subscribers read `TaskEvent` from SNS, readers read `Asset` from the table.
"""

from __future__ import annotations

from enum import StrEnum

from pydantic import BaseModel, ConfigDict

from suno_callbacks.models.kinds import Kind, MediaType, Stage
from suno_callbacks.models.records import Item


class AssetState(StrEnum):
    ARCHIVED = "archived"
    FAILED = "failed"


class Outcome(StrEnum):
    """How a task ended, once its terminal stage's assets are settled (the task item's `outcome`)."""

    COMPLETED = "completed"
    COMPLETED_WITH_FAILURES = "completed_with_failures"
    FAILED = "failed"


class EventName(StrEnum):
    COMPLETED = "task.completed"
    FAILED = "task.failed"
    PROGRESS = "task.progress"


class Asset(BaseModel):
    """One media file of a task (sk `ASSET#<item_id>#<field>`): archived to S3, or failed with a reason."""

    model_config = ConfigDict(frozen=True, extra="ignore")

    task_id: str
    kind: Kind
    item_id: str
    field: str
    media_type: MediaType | None = None
    state: AssetState
    reason: str | None = None
    # The stage whose media entry wrote this record: a lower stage never overwrites a higher one's.
    stage: Stage
    # None for what archive derives itself (MIDI notes from the callback body).
    source_url: str | None = None
    source_expires_at: str
    s3_key: str | None = None
    s3_uri: str | None = None
    bytes: int | None = None
    sha256: str | None = None
    content_type: str | None = None
    updated_at: str


class EventAsset(BaseModel):
    """An asset as subscribers see it."""

    item_id: str
    field: str
    state: AssetState
    reason: str | None = None
    s3_uri: str | None = None
    bytes: int | None = None
    sha256: str | None = None
    content_type: str | None = None
    source_expires_at: str

    @classmethod
    def of(cls, asset: Asset) -> EventAsset:
        return cls.model_validate(asset.model_dump(include=set(cls.model_fields)))


class TaskEvent(BaseModel):
    """The SNS message. `event_id` is stable for an outcome, so a re-publication can be deduplicated.

    `status` is the outcome for `task.completed` / `task.failed` and the stage for `task.progress`.
    """

    v: int = 1
    event_id: str
    event: EventName
    kind: Kind
    task_id: str
    ref: str | None = None
    stage: Stage
    status: str
    code: int
    msg: str = ""
    error: str | None = None
    items: list[Item]
    assets: list[EventAsset]
    # When we received the stage that decided the event: stable, so a re-publication is identical.
    occurred_at: str
    # Set when the event was too large for SNS: `items` and `assets` are then empty here, and the whole
    # event is this S3 object (s3://bucket/events/<task_id>/<event_id>.json).
    full_event: str | None = None
