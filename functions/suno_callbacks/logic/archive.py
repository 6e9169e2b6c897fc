"""Settling a queued stage: archive its media, record every asset, publish the task's outcome once.

A stage is settled when each of its media entries has an asset record, `archived` or `failed` (a
permanent refusal). A transient failure leaves the entry unrecorded and raises, so that the message comes
back; what was archived meanwhile is kept and not downloaded again. The outcome of a task is published
once its terminal stage is settled, before the completion item is written: a crash in between publishes
again, with the same `event_id`.
"""

from __future__ import annotations

import hashlib
import uuid
import zlib
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import quote

from aws_lambda_powertools.metrics import MetricUnit, single_metric

from suno_callbacks.dal import keys
from suno_callbacks.dal.assets import AssetStore
from suno_callbacks.dal.media_store import MediaStore
from suno_callbacks.dal.records import RecordStore, decompress
from suno_callbacks.dal.topic import Topic
from suno_callbacks.errors import PermanentMediaError, StoreUnavailable, TransientMediaError
from suno_callbacks.logic.download import DownloadLimits, open_media
from suno_callbacks.logic.midi import notes_json, standard_midi_file
from suno_callbacks.logic.normalise import SINGLE_RESULT_ITEM, InvalidCallback, normalise_body
from suno_callbacks.logic.url_policy import UrlPolicy
from suno_callbacks.models.events import Asset, AssetState, EventAsset, EventName, Outcome, TaskEvent
from suno_callbacks.models.kinds import Kind, MediaType, Stage
from suno_callbacks.models.messages import ArchiveRequest
from suno_callbacks.models.records import MediaRef, StageRecord
from suno_callbacks.models.settings import ArchiveSettings
from suno_callbacks.observability import (
    ARCHIVED_BYTES,
    ASSET_FAILURES,
    ASSETS_ARCHIVED,
    CALLBACK_TO_ARCHIVED_SECONDS,
    NAMESPACE,
    TASKS_COMPLETED,
    TASKS_FAILED,
    logger,
    metrics,
)
from suno_callbacks.timestamps import from_iso, to_iso

# Namespace of the stable event ids: uuid5(namespace, "<task_id>/outcome" or "<task_id>/progress/<stage>").
EVENT_ID_NAMESPACE = uuid.UUID("5b0d7c1e-8a52-4c3e-9d1a-6f3b2a9e4c10")
INVALID_NOTES = "invalid_notes"
# MIDI notes are stored twice: (asset field, extension, content type).
MIDI_RENDERINGS = (("notes", "json", "application/json"), ("midi", "mid", "audio/midi"))


class StageNotFound(Exception):
    """The message names a stage that has no record: retried, and in the end kept in the DLQ."""


def _utc_now() -> datetime:
    return datetime.now(UTC)


@dataclass(frozen=True)
class Archiver:
    """Everything settling a stage needs; built once per process by the handler, by tests with fakes."""

    settings: ArchiveSettings
    records: RecordStore
    assets: AssetStore
    media: MediaStore
    topic: Topic
    policy: UrlPolicy
    ca_certs: str | None = None
    clock: Callable[[], datetime] = field(default=_utc_now)

    @property
    def limits(self) -> DownloadLimits:
        s = self.settings
        return DownloadLimits(
            connect_timeout_seconds=s.connect_timeout_seconds,
            read_timeout_seconds=s.read_timeout_seconds,
            max_redirects=s.max_redirects,
            max_bytes={
                MediaType.AUDIO: s.max_audio_bytes,
                MediaType.WAV: s.max_wav_bytes,
                MediaType.IMAGE: s.max_image_bytes,
                MediaType.VIDEO: s.max_video_bytes,
            },
        )


def media_key(kind: Kind, task_id: str, item_id: str, field_name: str, extension: str) -> str:
    """`media/{kind}/{task_id}/{item_id}/{field}.{ext}`, each part percent-encoded (ids may hold `*`, `/`)."""

    def part(text: str) -> str:
        encoded = quote(text, safe="-_.")
        # `.` and `..` are path segments to clients that normalise paths (presigned URLs would break).
        return encoded.replace(".", "%2E") if set(encoded) <= {"."} else encoded

    return f"media/{kind.value}/{part(task_id)}/{part(item_id)}/{part(field_name)}.{extension}"


def event_id(task_id: str, what: str) -> str:
    return str(uuid.uuid5(EVENT_ID_NAMESPACE, f"{task_id}/{what}"))


def settle_stage(request: ArchiveRequest, archiver: Archiver, *, attempt: int = 1) -> None:
    """Archive the stage's media, record its assets and publish what it decides.

    `attempt` is the delivery's number (SQS's receive count): on the last one, a transient failure that
    has a `final_reason` is recorded as a failed asset rather than left to the DLQ.
    """
    item = archiver.records.get(keys.task_pk(request.task_id), keys.stage_sk(request.stage))
    if item is None:
        raise StageNotFound(f"no record for task {request.task_id} stage {request.stage}")
    stage = StageRecord.model_validate(item)
    logger.append_keys(task_id=stage.task_id, stage=stage.stage.value, kind=stage.kind.value)

    unsettled: list[Exception] = []
    for ref in stage.media:
        try:
            _settle_media(stage, ref, archiver, last_attempt=attempt >= archiver.settings.max_attempts)
        except (TransientMediaError, StoreUnavailable) as error:
            logger.warning("media not settled", extra={"item_id": ref.item_id, "field": ref.field})
            unsettled.append(error)
    if stage.kind is Kind.MIDI and stage.stage is Stage.COMPLETE:
        _archive_midi_notes(stage, item.get("raw_body"), archiver)
    if unsettled:
        count = f"{len(unsettled)} of {len(stage.media)}"
        raise TransientMediaError(f"{count} media not settled, will retry") from unsettled[0]
    _notify(stage, archiver)


def _settle_media(stage: StageRecord, ref: MediaRef, archiver: Archiver, *, last_attempt: bool) -> Asset:
    existing = archiver.assets.get_asset(stage.task_id, ref.item_id, ref.field)
    if existing is not None and (existing.source_url == ref.url or existing.stage.rank > stage.stage.rank):
        return existing  # settled from this very source, or by a later stage that supersedes this one
    base = _asset_base(
        stage,
        item_id=ref.item_id,
        field_name=ref.field,
        media_type=ref.media_type,
        source_url=ref.url,
        archiver=archiver,
    )
    opened = open_media(
        ref.url, ref.media_type, policy=archiver.policy, limits=archiver.limits, ca_certs=archiver.ca_certs
    )
    try:
        with opened as stream:
            key = media_key(stage.kind, stage.task_id, ref.item_id, ref.field, stream.extension)
            archiver.media.upload_stream(key, stream, content_type=stream.content_type)
    except PermanentMediaError as refused:
        return _record_failure(ref, base, refused.reason, archiver)
    except TransientMediaError as failure:
        if last_attempt and failure.final_reason:
            return _record_failure(ref, base, failure.final_reason, archiver)
        raise
    asset = Asset(
        **base,
        state=AssetState.ARCHIVED,
        s3_key=key,
        s3_uri=archiver.media.uri(key),
        bytes=stream.bytes_read,
        sha256=stream.sha256,
        content_type=stream.content_type,
    )
    _count_archived(stage, asset.bytes or 0, archiver)
    return archiver.assets.put_asset(asset)


def _record_failure(ref: MediaRef, base: dict[str, Any], reason: str, archiver: Archiver) -> Asset:
    logger.warning("media refused", extra={"item_id": ref.item_id, "field": ref.field, "reason": reason})
    _count_failure(reason)
    return archiver.assets.put_asset(Asset(**base, state=AssetState.FAILED, reason=reason))


def _asset_base(
    stage: StageRecord,
    *,
    item_id: str,
    field_name: str,
    media_type: MediaType | None,
    source_url: str | None,
    archiver: Archiver,
) -> dict[str, Any]:
    expires = from_iso(stage.received_at) + timedelta(days=archiver.settings.source_retention_days)
    return {
        "task_id": stage.task_id,
        "kind": stage.kind,
        "item_id": item_id,
        "field": field_name,
        "media_type": media_type,
        "stage": stage.stage,
        "source_url": source_url,
        "source_expires_at": to_iso(expires),
        "updated_at": to_iso(archiver.clock()),
    }


def _archive_midi_notes(stage: StageRecord, raw_body: bytes | None, archiver: Archiver) -> None:
    """Store the notes (kept out of DynamoDB) beside the other media: `notes.json` and `midi.mid`."""
    try:
        callback = normalise_body(stage.kind, decompress(raw_body or b""))
    except (InvalidCallback, zlib.error):
        for rendering in MIDI_RENDERINGS:
            _store_midi(
                stage,
                item_id=SINGLE_RESULT_ITEM,
                rendering=rendering,
                body=None,
                archiver=archiver,
            )
        return
    for item in callback.items:
        if not item.instruments:
            continue
        bodies = {
            "notes": notes_json(stage.task_id, item.instruments),
            "midi": standard_midi_file(item.instruments),
        }
        for rendering in MIDI_RENDERINGS:
            _store_midi(
                stage, item_id=item.item_id, rendering=rendering, body=bodies[rendering[0]], archiver=archiver
            )


def _store_midi(
    stage: StageRecord,
    *,
    item_id: str,
    rendering: tuple[str, str, str],
    body: bytes | None,
    archiver: Archiver,
) -> None:
    """Write one rendering of the notes and its asset record; `body` None records it as failed."""
    field_name, ext, content_type = rendering
    existing = archiver.assets.get_asset(stage.task_id, item_id, field_name)
    if existing is not None and existing.state is AssetState.ARCHIVED:
        return
    base = _asset_base(
        stage, item_id=item_id, field_name=field_name, media_type=None, source_url=None, archiver=archiver
    )
    if body is None:
        _count_failure(INVALID_NOTES)
        archiver.assets.put_asset(Asset(**base, state=AssetState.FAILED, reason=INVALID_NOTES))
        return
    key = media_key(stage.kind, stage.task_id, item_id, field_name, ext)
    archiver.media.put_bytes(key, body, content_type=content_type)
    _count_archived(stage, len(body), archiver)
    archiver.assets.put_asset(
        Asset(
            **base,
            state=AssetState.ARCHIVED,
            s3_key=key,
            s3_uri=archiver.media.uri(key),
            bytes=len(body),
            sha256=hashlib.sha256(body).hexdigest(),
            content_type=content_type,
        )
    )


def _notify(stage: StageRecord, archiver: Archiver) -> None:
    """Publish the outcome (terminal stage) or progress, unless it was already notified."""
    task_items = archiver.records.query_task(stage.task_id)
    by_sk = {item[keys.SK]: item for item in task_items}
    task = by_sk.get(keys.TASK_SK, {})
    notified = by_sk.get(keys.OUTCOME_SK, {})
    if notified.get("notified_at"):
        # The task's outcome is out: a late or repeated stage announces nothing more. If the function
        # stopped between the completion item and the task's `outcome`, this redelivery finishes it.
        if task and not task.get("outcome"):
            archiver.assets.set_task_outcome(
                stage.task_id, Outcome(notified["status"]), now=str(notified["notified_at"])
            )
        return
    assets = archiver.assets.task_assets(task_items)
    if stage.stage.is_terminal:
        if stage.stage is Stage.ERROR:
            outcome = Outcome.FAILED
        elif any(asset.state is AssetState.FAILED for asset in assets) or any(
            item.failed for item in stage.items
        ):
            outcome = Outcome.COMPLETED_WITH_FAILURES
        else:
            outcome = Outcome.COMPLETED
        name = EventName.FAILED if outcome is Outcome.FAILED else EventName.COMPLETED
        event = _event(stage, name, status=outcome.value, what="outcome", ref=task.get("ref"), assets=assets)
        archiver.topic.publish(event)
        now = to_iso(archiver.clock())
        archiver.assets.record_notified(
            stage.task_id, keys.OUTCOME_SK, event_id=event.event_id, event=name, status=outcome.value, now=now
        )
        archiver.assets.set_task_outcome(stage.task_id, outcome, now=now)
        counter = TASKS_FAILED if outcome is Outcome.FAILED else TASKS_COMPLETED
        metrics.add_metric(name=counter, unit=MetricUnit.Count, value=1)
        logger.info("outcome published", extra={"outcome": outcome.value, "event_id": event.event_id})
    elif archiver.settings.publish_progress:
        sk = keys.progress_sk(stage.stage)
        if by_sk.get(sk, {}).get("notified_at"):
            return
        own = {(ref.item_id, ref.field) for ref in stage.media}
        stage_assets = [a for a in assets if (a.item_id, a.field) in own]
        event = _event(
            stage,
            EventName.PROGRESS,
            status=stage.stage.value,
            what=f"progress/{stage.stage}",
            ref=task.get("ref"),
            assets=stage_assets,
        )
        archiver.topic.publish(event)
        archiver.assets.record_notified(
            stage.task_id,
            sk,
            event_id=event.event_id,
            event=EventName.PROGRESS,
            status=stage.stage.value,
            now=to_iso(archiver.clock()),
        )


def _event(
    stage: StageRecord, name: EventName, *, status: str, what: str, ref: str | None, assets: list[Asset]
) -> TaskEvent:
    return TaskEvent(
        event_id=event_id(stage.task_id, what),
        event=name,
        kind=stage.kind,
        task_id=stage.task_id,
        ref=ref or stage.ref,
        stage=stage.stage,
        status=status,
        code=stage.code,
        msg=stage.msg,
        error=stage.error,
        items=stage.items,
        assets=[EventAsset.of(asset) for asset in assets],
        occurred_at=stage.received_at,
    )


def _count_archived(stage: StageRecord, size: int, archiver: Archiver) -> None:
    metrics.add_metric(name=ASSETS_ARCHIVED, unit=MetricUnit.Count, value=1)
    metrics.add_metric(name=ARCHIVED_BYTES, unit=MetricUnit.Bytes, value=size)
    waited = (archiver.clock() - from_iso(stage.received_at)).total_seconds()
    metrics.add_metric(name=CALLBACK_TO_ARCHIVED_SECONDS, unit=MetricUnit.Seconds, value=max(waited, 0.0))


def _count_failure(reason: str) -> None:
    # Its own metric object, so that `reason` is a dimension of this metric only.
    with single_metric(
        name=ASSET_FAILURES,
        unit=MetricUnit.Count,
        value=1,
        namespace=NAMESPACE,
        default_dimensions=metrics.default_dimensions,
    ) as metric:
        metric.add_dimension(name="reason", value=reason)
