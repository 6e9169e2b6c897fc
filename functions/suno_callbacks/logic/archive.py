"""Settling a queued stage: the task's one settler (DESIGN §1, §3, §5-§7).

Messages of one task come one at a time, in the order its stages arrived (one FIFO message group per
task), so settling a stage never races another stage of the same task. For each message, archive:

1. reads the whole task with one Query; a stage already settled is a no-op (messages may repeat);
2. quarantines a stage that arrived under another kind or ref than the task's owner (the kind and ref
   of its first stage), instead of recording it over the task;
3. creates the task item or raises its status (never once the outcome is out);
4. streams each media file into S3 and records its asset (`archived`, or `failed` with a permanent
   reason); a transient failure leaves the entry unrecorded and raises, so that the message comes back
   (what was archived meanwhile is kept and not downloaded again). When the invocation's time runs
   short it stops between files and queues the rest of the stage as a continuation;
5. publishes the outcome once the terminal stage is settled (or progress for text/first), before the
   completion item is written: a crash in between publishes again, with the same `event_id` and content;
6. marks the stage settled, which takes it out of the sweep's index.
"""

from __future__ import annotations

import hashlib
import math
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import quote

from aws_lambda_powertools.metrics import MetricUnit, single_metric

from suno_callbacks.dal import keys
from suno_callbacks.dal.bodies import BodyStore, body_of
from suno_callbacks.dal.media_store import MediaStore
from suno_callbacks.dal.queue import ArchiveQueue
from suno_callbacks.dal.records import RecordStore
from suno_callbacks.dal.settlement import SettlementStore
from suno_callbacks.dal.topic import Topic
from suno_callbacks.errors import PermanentMediaError, StoreUnavailable, TransientMediaError
from suno_callbacks.logic.download import DownloadLimits, open_media
from suno_callbacks.logic.midi import InvalidNotes, notes_json, standard_midi_file
from suno_callbacks.logic.normalise import InvalidCallback, normalise_body
from suno_callbacks.logic.quarantine import Quarantine
from suno_callbacks.logic.url_policy import UrlPolicy
from suno_callbacks.models.events import Asset, AssetState, EventAsset, EventName, Outcome, TaskEvent
from suno_callbacks.models.kinds import Kind, MediaType, Stage
from suno_callbacks.models.messages import ArchiveRequest
from suno_callbacks.models.records import MediaRef, NormalisedCallback, StageRecord
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
# SNS takes messages of up to 256 KiB, attributes included: a larger event goes to S3, a pointer on SNS.
MAX_EVENT_BYTES = 240 * 1024
SETTLED = "settled"
QUARANTINED = "quarantined"
# A file is only started when it can have at least this long before the stop (else: a continuation).
_MIN_SECONDS_PER_FILE = 5.0


class StageNotFound(Exception):
    """The message names a stage that has no record: retried, and in the end kept in the DLQ."""


def _utc_now() -> datetime:
    return datetime.now(UTC)


def _no_deadline() -> float:
    return math.inf


@dataclass(frozen=True)
class Archiver:
    """Everything settling a stage needs; built once per process by the handler, by tests with fakes."""

    settings: ArchiveSettings
    records: RecordStore
    settlement: SettlementStore
    bodies: BodyStore
    media: MediaStore
    topic: Topic
    queue: ArchiveQueue
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

    def now(self) -> str:
        return to_iso(self.clock())


def media_key(kind: Kind, task_id: str, item_id: str, field_name: str, extension: str) -> str:
    """`media/{kind}/{task_id}/{item_id}/{field}.{ext}`, each part percent-encoded (ids may hold `*`, `/`)."""
    return f"media/{kind.value}/{_key_part(task_id)}/{_key_part(item_id)}/{_key_part(field_name)}.{extension}"


def _key_part(text: str) -> str:
    encoded = quote(text, safe="-_.")
    # `.` and `..` are path segments to clients that normalise paths (presigned URLs would break).
    return encoded.replace(".", "%2E") if set(encoded) <= {"."} else encoded


def event_id(task_id: str, what: str) -> str:
    return str(uuid.uuid5(EVENT_ID_NAMESPACE, f"{task_id}/{what}"))


@dataclass
class _Settling:
    """One message's work: the stage, what its body says, and the task's items as they stand."""

    stage: StageRecord
    callback: NormalisedCallback
    task: dict[str, Any]
    assets: dict[tuple[str, str], Asset]
    notified: dict[str, dict[str, Any]]


def settle_stage(
    request: ArchiveRequest,
    archiver: Archiver,
    *,
    attempt: int = 1,
    remaining_seconds: Callable[[], float] = _no_deadline,
) -> None:
    """Settle the stage `request` names (see the module's steps).

    `attempt` is the delivery's number (SQS's receive count): on the last one, a transient failure that
    has a `final_reason` is recorded as a failed asset rather than left to the DLQ. `remaining_seconds`
    tells how long the invocation has left (Lambda's context).
    """
    items = {item[keys.SK]: item for item in archiver.records.query_task(request.task_id)}
    item = items.get(request.stage_key)
    if item is None:
        raise StageNotFound(f"no record for task {request.task_id} stage {request.stage_key}")
    stage = StageRecord.model_validate(item)
    logger.append_keys(task_id=stage.task_id, stage=stage.stage.value, kind=stage.kind.value)
    if stage.settled_at:
        logger.info("stage already settled", extra={"settlement": stage.settlement})
        return
    task = items.get(keys.TASK_SK, {})
    owner = (task["kind"], task.get(keys.REF)) if task else None
    if owner is not None and owner != (stage.kind.value, stage.ref):
        owner_kind, owner_ref = owner
        _quarantine(
            stage,
            item,
            f"task {stage.task_id} belongs to kind {owner_kind} ref {owner_ref or '-'}; this "
            f"{stage.stage.value} stage arrived under kind {stage.kind.value} ref {stage.ref or '-'}",
            archiver,
        )
        return
    try:
        callback = normalise_body(stage.kind, body_of(item, archiver.bodies))
    except InvalidCallback as invalid:  # accepted by an earlier model: kept, and replayable once fixed
        _quarantine(stage, item, invalid.reason, archiver)
        return
    archiver.settlement.open_task(stage, now=archiver.now(), expires_at=item.get(keys.TTL_ATTRIBUTE))
    settling = _Settling(
        stage=stage,
        callback=callback,
        task=task,
        assets={(a.item_id, a.field): a for a in map(Asset.model_validate, _of_type(items, "asset"))},
        notified={sk: i for sk, i in items.items() if i.get("type") in ("outcome", "progress")},
    )
    if not _settle_media(settling, archiver, attempt=attempt, remaining_seconds=remaining_seconds):
        archiver.queue.send(request.model_copy(update={"part": request.part + 1}))
        logger.info("stage continues in a new message", extra={"part": request.part + 1})
        return
    if stage.kind is Kind.MIDI and stage.stage is Stage.COMPLETE:
        _archive_midi_notes(settling, archiver)
    _notify(settling, archiver)
    archiver.settlement.mark_settled(stage, settlement=SETTLED, now=archiver.now())


def _of_type(items: dict[str, dict[str, Any]], kind_of_item: str) -> list[dict[str, Any]]:
    return [item for item in items.values() if item.get("type") == kind_of_item]


def _quarantine(stage: StageRecord, item: dict[str, Any], reason: str, archiver: Archiver) -> None:
    Quarantine(archiver.records, archiver.bodies).keep(
        kind=stage.kind,
        ref=stage.ref,
        body=body_of(item, archiver.bodies),
        reason=reason,
        now=archiver.now(),
        expires_at=item.get(keys.TTL_ATTRIBUTE),
        about={"task_id": stage.task_id, "stage": stage.stage.value},
    )
    archiver.settlement.mark_settled(stage, settlement=QUARANTINED, now=archiver.now())


def _settle_media(
    settling: _Settling, archiver: Archiver, *, attempt: int, remaining_seconds: Callable[[], float]
) -> bool:
    """Settle every media entry; False when time ran short before all were tried (continue later)."""
    stage = settling.stage
    last_attempt = attempt >= archiver.settings.max_attempts
    unsettled: list[Exception] = []
    for ref in settling.callback.media:
        existing = settling.assets.get((ref.item_id, ref.field))
        if existing is not None and (
            existing.source_url == ref.url or existing.stage.rank > stage.stage.rank
        ):
            continue  # settled from this very source, or by a later stage that supersedes this one
        available = remaining_seconds() - archiver.settings.stop_before_timeout_seconds
        if available < _MIN_SECONDS_PER_FILE:
            return False
        seconds = min(archiver.settings.download_deadline_seconds, available)
        try:
            asset = _settle_file(stage, ref, archiver, seconds=seconds, last_attempt=last_attempt)
        except (TransientMediaError, StoreUnavailable) as error:
            logger.warning("media not settled", extra={"item_id": ref.item_id, "field": ref.field})
            unsettled.append(error)
            continue
        settling.assets[(asset.item_id, asset.field)] = asset
    if unsettled:
        count = f"{len(unsettled)} of {len(settling.callback.media)}"
        failure = f"{count} media not settled: {unsettled[0]}"
        try:
            archiver.settlement.record_attempt(stage, attempt=attempt, failure=failure, now=archiver.now())
        except StoreUnavailable:
            logger.warning("attempt not recorded")
        raise TransientMediaError(f"{failure}; will retry") from unsettled[0]
    return True


def _settle_file(
    stage: StageRecord, ref: MediaRef, archiver: Archiver, *, seconds: float, last_attempt: bool
) -> Asset:
    base = _asset_base(
        stage,
        item_id=ref.item_id,
        field_name=ref.field,
        media_type=ref.media_type,
        source_url=ref.url,
        archiver=archiver,
    )
    opened = open_media(
        ref.url,
        ref.media_type,
        policy=archiver.policy,
        limits=archiver.limits,
        ca_certs=archiver.ca_certs,
        deadline_seconds=seconds,
    )
    try:
        with opened as stream:
            key = media_key(stage.kind, stage.task_id, ref.item_id, ref.field, stream.extension)
            archiver.media.upload_stream(key, stream, content_type=stream.content_type)
    except PermanentMediaError as refused:
        return _record_failure(ref.item_id, ref.field, base, refused.reason, archiver)
    except TransientMediaError as failure:
        if last_attempt and failure.final_reason:
            return _record_failure(ref.item_id, ref.field, base, failure.final_reason, archiver)
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
    return archiver.settlement.put_asset(asset)


def _record_failure(
    item_id: str, field_name: str, base: dict[str, Any], reason: str, archiver: Archiver
) -> Asset:
    logger.warning("media refused", extra={"item_id": item_id, "field": field_name, "reason": reason})
    _count_failure(reason)
    return archiver.settlement.put_asset(Asset(**base, state=AssetState.FAILED, reason=reason))


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
        "updated_at": archiver.now(),
    }


def _archive_midi_notes(settling: _Settling, archiver: Archiver) -> None:
    """Store the notes (kept out of DynamoDB) beside the other media: `notes.json` and `midi.mid`.

    Notes the renderer cannot write are a failed asset (`invalid_notes`), never a failed message.
    """
    stage = settling.stage
    for item in settling.callback.items:
        if not item.instruments:
            continue
        for field_name, extension, content_type in MIDI_RENDERINGS:
            existing = settling.assets.get((item.item_id, field_name))
            if existing is not None and existing.state is AssetState.ARCHIVED:
                continue
            base = _asset_base(
                stage,
                item_id=item.item_id,
                field_name=field_name,
                media_type=None,
                source_url=None,
                archiver=archiver,
            )
            try:
                body = (
                    notes_json(stage.task_id, item.instruments)
                    if field_name == "notes"
                    else standard_midi_file(item.instruments)
                )
            except InvalidNotes as invalid:
                logger.warning("notes not renderable", extra={"cause": str(invalid)})
                settling.assets[(item.item_id, field_name)] = _record_failure(
                    item.item_id, field_name, base, INVALID_NOTES, archiver
                )
                continue
            key = media_key(stage.kind, stage.task_id, item.item_id, field_name, extension)
            archiver.media.put_bytes(key, body, content_type=content_type)
            _count_archived(stage, len(body), archiver)
            settling.assets[(item.item_id, field_name)] = archiver.settlement.put_asset(
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


def _notify(settling: _Settling, archiver: Archiver) -> None:
    """Publish the outcome (terminal stage) or progress, unless it was already notified."""
    stage, callback = settling.stage, settling.callback
    notified = settling.notified.get(keys.OUTCOME_SK, {})
    if notified.get("notified_at"):
        # The task's outcome is out: a late or repeated stage announces nothing more. If the function
        # stopped between the completion item and the task's `outcome`, this message finishes it.
        if not settling.task.get("outcome"):
            archiver.settlement.set_task_outcome(
                stage.task_id, Outcome(notified["status"]), now=str(notified["notified_at"])
            )
        return
    assets = sorted(settling.assets.values(), key=lambda a: keys.asset_sk(a.item_id, a.field))
    if stage.stage.is_terminal:
        if stage.stage is Stage.ERROR:
            outcome = Outcome.FAILED
        elif any(a.state is AssetState.FAILED for a in assets) or any(i.failed for i in callback.items):
            outcome = Outcome.COMPLETED_WITH_FAILURES
        else:
            outcome = Outcome.COMPLETED
        name = EventName.FAILED if outcome is Outcome.FAILED else EventName.COMPLETED
        event = _event(settling, name, status=outcome.value, what="outcome", assets=assets)
        message = _publish(event, archiver)
        now = archiver.now()
        archiver.settlement.record_notified(
            stage.task_id,
            keys.OUTCOME_SK,
            event_id=event.event_id,
            event=name,
            status=outcome.value,
            message=message,
            now=now,
        )
        archiver.settlement.set_task_outcome(stage.task_id, outcome, now=now)
        counter = TASKS_FAILED if outcome is Outcome.FAILED else TASKS_COMPLETED
        metrics.add_metric(name=counter, unit=MetricUnit.Count, value=1)
        logger.info("outcome published", extra={"outcome": outcome.value, "event_id": event.event_id})
    elif archiver.settings.publish_progress:
        sk = keys.progress_sk(stage.stage)
        if settling.notified.get(sk, {}).get("notified_at"):
            return
        own = {(ref.item_id, ref.field) for ref in callback.media}
        stage_assets = [a for a in assets if (a.item_id, a.field) in own]
        event = _event(
            settling,
            EventName.PROGRESS,
            status=stage.stage.value,
            what=f"progress/{stage.stage}",
            assets=stage_assets,
        )
        message = _publish(event, archiver)
        archiver.settlement.record_notified(
            stage.task_id,
            sk,
            event_id=event.event_id,
            event=EventName.PROGRESS,
            status=stage.stage.value,
            message=message,
            now=archiver.now(),
        )


def _publish(event: TaskEvent, archiver: Archiver) -> str:
    """Publish `event`; one too large for SNS is stored whole in S3 and published without its items and
    assets, naming where it is. Returns the message published."""
    message = event.model_dump_json(exclude_none=True)
    if len(message.encode()) > MAX_EVENT_BYTES:
        key = f"events/{_key_part(event.task_id)}/{event.event_id}.json"
        archiver.media.put_bytes(key, message.encode(), content_type="application/json")
        event = event.model_copy(update={"items": [], "assets": [], "full_event": archiver.media.uri(key)})
        message = event.model_dump_json(exclude_none=True)
    archiver.topic.publish(event, message)
    return message


def _event(settling: _Settling, name: EventName, *, status: str, what: str, assets: list[Asset]) -> TaskEvent:
    stage, callback = settling.stage, settling.callback
    return TaskEvent(
        event_id=event_id(stage.task_id, what),
        event=name,
        kind=stage.kind,
        task_id=stage.task_id,
        ref=stage.ref,
        stage=stage.stage,
        status=status,
        code=callback.code,
        msg=callback.msg,
        error=callback.error,
        items=callback.items,
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
