"""Our own shapes: the normalised callback that ingest records and archive reads.

These are the public record shapes (DESIGN §5); the DynamoDB attribute names are in `dal/keys.py`
and documented in the README.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from suno_callbacks.dal import keys
from suno_callbacks.models.kinds import Kind, MediaType, Stage


class Note(BaseModel):
    """One MIDI note: pitch 0-127, start and end in seconds, velocity 0-1."""

    model_config = ConfigDict(frozen=True)

    pitch: int
    start: float
    end: float
    velocity: float


class Instrument(BaseModel):
    """A MIDI instrument track. Notes stay out of DynamoDB (they can be large); archive writes them to S3."""

    name: str
    note_count: int
    notes: list[Note] = Field(default_factory=list, exclude=True)


class Item(BaseModel):
    """One result of a callback: a track, a lyrics variant, a cover image, a voice, a MIDI transcription.

    Only the fields the kind carries are set. `links` keeps every URL the item had (stream URLs included,
    which are provisional and not archived); `extra` keeps fields we do not know, so nothing is lost.
    """

    model_config = ConfigDict(extra="forbid")

    item_id: str
    title: str | None = None
    tags: str | None = None
    duration: float | None = None
    prompt: str | None = None
    model: str | None = None
    created_at: str | None = None
    lyrics: str | None = None
    status: str | None = None
    error: str | None = None
    error_code: int | None = None
    voice_id: str | None = None
    validation_phrase: str | None = None
    instruments: list[Instrument] | None = None
    links: dict[str, str] = Field(default_factory=dict)
    extra: dict[str, Any] = Field(default_factory=dict)

    @property
    def failed(self) -> bool:
        """A result the provider itself reports as failed (a recovery item, a lyrics variant)."""
        return (self.status or "").strip().lower() in _FAILED_STATUSES


_FAILED_STATUSES = frozenset({"failed", "fail", "error"})


class MediaRef(BaseModel):
    """A file the provider will delete after ~14 days, to be copied to S3 at a deterministic key."""

    model_config = ConfigDict(frozen=True)

    item_id: str
    field: str
    url: str
    media_type: MediaType


class NormalisedCallback(BaseModel):
    """Every callback kind, reduced to one shape."""

    task_id: str
    kind: Kind
    stage: Stage
    code: int
    msg: str = ""
    error: str | None = None
    items: list[Item] = Field(default_factory=list)
    media: list[MediaRef] = Field(default_factory=list)
    extra: dict[str, Any] = Field(default_factory=dict)
    # What a reader should know about how the body was read (e.g. that it looks like another kind's).
    warnings: list[str] = Field(default_factory=list)


class StageRecord(BaseModel):
    """A stored stage item: one per (task, stage, kind, ref), written by ingest with the raw body.

    What the callback says (items, media, code, msg) is read from the body by `normalise_body`, the same
    code that accepted it; archive adds how the stage was settled, or why it is still waiting.
    """

    model_config = ConfigDict(defer_build=True, extra="ignore")

    task_id: str
    kind: Kind
    stage: Stage
    ref: str | None = None
    received_at: str
    settled_at: str | None = None
    # `settled`, or `quarantined` when it arrived under another kind or ref than the task's.
    settlement: str | None = None
    attempts: int | None = None
    last_failure: str | None = None
    last_failure_at: str | None = None

    @property
    def stage_key(self) -> str:
        return keys.stage_sk(self.stage, self.kind, self.ref)


class TaskRecord(BaseModel):
    """The stored task item (pk TASK#<task_id>, sk TASK): what the indexes list.

    `status` is the highest stage seen (text < first < complete < error); `outcome` is set by archive when
    the terminal stage's assets are settled and the outcome was published.
    """

    task_id: str
    kind: Kind
    status: Stage
    ref: str | None = None
    created_at: str
    updated_at: str
    outcome: str | None = None
