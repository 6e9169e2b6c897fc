"""Receive one callback: authenticate, normalise, record once per (task, stage), queue for archive.

The answers are DESIGN §4's table. Unknown kind, oversize body and failed authentication raise (the
handler answers 404, 413, 401, storing nothing); a store fault raises `StoreUnavailable` (503) only when
what was written can be completed by the provider's retry:

- the stage item is written with a conditional put: that is the idempotency key;
- the task item's status only moves up (text < first < complete < error);
- a stage that carries media or ends the task is queued once; a retry finds a stage that was written but
  not queued and queues it, and a lease keeps concurrent duplicates from queueing it twice.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from contextlib import suppress
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any

from suno_callbacks.dal import keys
from suno_callbacks.dal.bodies import BodyStore
from suno_callbacks.dal.queue import ArchiveQueue
from suno_callbacks.dal.records import ConditionFailed, RecordStore, compress
from suno_callbacks.errors import RecordTooLarge, StoreUnavailable
from suno_callbacks.logic.normalise import InvalidCallback, normalise_body
from suno_callbacks.logic.signing import (
    KIE_SIGNATURE_HEADER,
    KIE_TIMESTAMP_HEADER,
    REF_PARAM,
    SIGNATURE_PARAM,
    SigningKeys,
    verify_kie_signature,
    verify_url_signature,
)
from suno_callbacks.models.kinds import Kind, Stage
from suno_callbacks.models.messages import ArchiveRequest
from suno_callbacks.models.records import NormalisedCallback
from suno_callbacks.models.settings import IngestSettings
from suno_callbacks.observability import logger
from suno_callbacks.timestamps import to_iso

_DAY_SECONDS = 86_400


class UnknownKind(Exception):
    """The route segment is not one of the callback kinds."""


class BodyTooLarge(Exception):
    """The body is over the configured limit."""


class Unauthorised(Exception):
    """Neither a valid URL signature nor a valid kie.ai signature."""


class Answer(StrEnum):
    RECEIVED = "received"
    DUPLICATE = "duplicate"
    QUARANTINED = "quarantined"


@dataclass(frozen=True)
class CallbackRequest:
    """The parts of an HTTP request ingest looks at (header names lower-case)."""

    kind: str
    body: bytes
    query: Mapping[str, str]
    headers: Mapping[str, str]


@dataclass(frozen=True)
class IngestResult:
    answer: Answer
    kind: Kind
    task_id: str | None = None
    stage: Stage | None = None
    quarantine_id: str | None = None
    reason: str | None = None

    def body(self) -> dict[str, str]:
        fields = {
            "status": self.answer.value,
            "task_id": self.task_id,
            "stage": self.stage.value if self.stage else None,
            "quarantine_id": self.quarantine_id,
            "reason": self.reason,
        }
        return {name: value for name, value in fields.items() if value is not None}


@dataclass(frozen=True)
class Clock:
    """One instant, in the two forms records use."""

    moment: datetime

    @classmethod
    def now(cls) -> Clock:
        return cls(datetime.now(UTC))

    @property
    def iso(self) -> str:
        return to_iso(self.moment)

    @property
    def epoch(self) -> int:
        return int(self.moment.timestamp())


def kind_of(segment: str) -> Kind:
    try:
        return Kind(segment)
    except ValueError:
        raise UnknownKind(segment) from None


def receive_callback(
    request: CallbackRequest,
    *,
    settings: IngestSettings,
    signing_keys: SigningKeys,
    store: RecordStore,
    queue: ArchiveQueue,
    bodies: BodyStore,
    clock: Clock,
) -> IngestResult:
    kind = kind_of(request.kind)
    if len(request.body) > settings.max_body_bytes:
        raise BodyTooLarge(f"{len(request.body)} bytes > {settings.max_body_bytes}")
    url_signed = verify_url_signature(
        signing_keys, kind.value, request.query.get(REF_PARAM), request.query.get(SIGNATURE_PARAM)
    )
    if not url_signed and not has_kie_signature(request.headers, signing_keys):
        raise Unauthorised  # nothing of the body is looked at
    callback: NormalisedCallback | None = None
    try:
        callback = normalise_body(kind, request.body)
    except InvalidCallback as invalid:
        refused = invalid
    if url_signed:
        ref = request.query.get(REF_PARAM)
    else:
        named_task = callback.task_id if callback else refused.task_id
        authenticate_kie(
            request.headers, named_task, signing_keys=signing_keys, settings=settings, clock=clock
        )
        # kie.ai signs the task id and a timestamp, not the URL: a `ref` in it is not the caller's.
        ref = None

    recorder = Recorder(
        store=store,
        queue=queue,
        bodies=bodies,
        clock=clock,
        record_ttl_days=settings.record_ttl_days,
        enqueue_lease_seconds=settings.enqueue_lease_seconds,
    )
    if callback is None:
        return recorder.quarantine(kind, ref, request.body, refused.reason)
    logger.set_correlation_id(callback.task_id)
    try:
        return recorder.record(callback, ref, request.body)
    except RecordTooLarge:
        return recorder.quarantine(kind, ref, request.body, "record larger than a DynamoDB item")


def has_kie_signature(headers: Mapping[str, str], signing_keys: SigningKeys) -> bool:
    """Whether a kie.ai webhook signature could authenticate the request (a key and both headers)."""
    return bool(
        signing_keys.kie_webhook_key
        and headers.get(KIE_SIGNATURE_HEADER)
        and headers.get(KIE_TIMESTAMP_HEADER)
    )


def authenticate_kie(
    headers: Mapping[str, str],
    task_id: str | None,
    *,
    signing_keys: SigningKeys,
    settings: IngestSettings,
    clock: Clock,
) -> None:
    """`Unauthorised` unless kie.ai's signature covers `task_id`, the very task id that will be recorded."""
    if not verify_kie_signature(
        signing_keys,
        task_id=task_id,
        timestamp=headers.get(KIE_TIMESTAMP_HEADER),
        signature=headers.get(KIE_SIGNATURE_HEADER),
        now=clock.moment.timestamp(),
        window_seconds=settings.kie_signature_window_seconds,
    ):
        raise Unauthorised


class Recorder:
    """The writes of one authenticated callback, in the order that lets a retry finish what a failure left.

    Ingest uses it for every request; `suno-callbacks replay` uses it for quarantined bodies that the
    model now understands, so that both write exactly the same records.
    """

    def __init__(
        self,
        *,
        store: RecordStore,
        queue: ArchiveQueue,
        bodies: BodyStore,
        clock: Clock,
        record_ttl_days: int,
        enqueue_lease_seconds: int,
    ) -> None:
        self.store = store
        self.queue = queue
        self.bodies = bodies
        self.clock = clock
        self.enqueue_lease_seconds = enqueue_lease_seconds
        self.expires_at = clock.epoch + record_ttl_days * _DAY_SECONDS if record_ttl_days else None

    def record(self, callback: NormalisedCallback, ref: str | None, body: bytes) -> IngestResult:
        body_sha256 = hashlib.sha256(body).hexdigest()
        stage = {
            keys.PK: keys.task_pk(callback.task_id),
            keys.SK: keys.stage_sk(callback.stage),
            "type": "stage",
            "task_id": callback.task_id,
            "kind": callback.kind.value,
            "stage": callback.stage.value,
            "code": callback.code,
            "msg": callback.msg,
            "error": callback.error,
            "ref": ref,
            "items": [
                item.model_dump(mode="json", exclude_none=True, exclude_defaults=True)
                for item in callback.items
            ],
            "media": [media.model_dump(mode="json") for media in callback.media],
            "extra": callback.extra or None,
            "received_at": self.clock.iso,
            "body_sha256": body_sha256,
            "raw_body": compress(body),
            "enqueue_lease_until": self._lease_until() if callback.needs_archive else None,
            keys.TTL_ATTRIBUTE: self.expires_at,
        }
        try:
            self.store.put_new(stage)
        except ConditionFailed:
            return self._redelivered(callback, ref, body, body_sha256)
        self._finish(callback, ref, received_at=self.clock.iso, queue_it=callback.needs_archive)
        return IngestResult(Answer.RECEIVED, callback.kind, callback.task_id, callback.stage)

    def _redelivered(
        self, callback: NormalisedCallback, ref: str | None, body: bytes, body_sha256: str
    ) -> IngestResult:
        """Count the duplicate, keep a differing body, and finish whatever the first attempt left undone."""
        pk, sk = keys.task_pk(callback.task_id), keys.stage_sk(callback.stage)
        stored = self.store.count_duplicate(pk=pk, sk=sk, now=self.clock.iso)
        if stored.get("body_sha256") != body_sha256:
            self._keep_variant(callback, body, body_sha256)
        needs_archive = bool(stored.get("media")) or callback.stage.is_terminal
        if needs_archive and "queued_at" not in stored and self._claim_enqueue(callback):
            self._finish(callback, ref, received_at=str(stored["received_at"]), queue_it=True)
        else:
            self._advance_task(callback, ref)  # repairs a status update that an earlier failure skipped
        return IngestResult(Answer.DUPLICATE, callback.kind, callback.task_id, callback.stage)

    def _keep_variant(self, callback: NormalisedCallback, body: bytes, body_sha256: str) -> None:
        variant = {
            keys.PK: keys.task_pk(callback.task_id),
            keys.SK: keys.stage_variant_sk(callback.stage, body_sha256),
            "type": "stage_variant",
            "task_id": callback.task_id,
            "stage": callback.stage.value,
            "received_at": self.clock.iso,
            "body_sha256": body_sha256,
            "raw_body": compress(body),
            keys.TTL_ATTRIBUTE: self.expires_at,
        }
        with suppress(ConditionFailed):  # the same differing body was kept by an earlier delivery
            self.store.put_new(variant)
        logger.warning("stage redelivered with a different body", extra={"stage": callback.stage.value})

    def _advance_task(self, callback: NormalisedCallback, ref: str | None) -> None:
        self.store.advance_task(
            task_id=callback.task_id,
            kind=callback.kind.value,
            stage=callback.stage,
            ref=ref,
            now=self.clock.iso,
            expires_at=self.expires_at,
        )

    def _lease_until(self) -> int:
        return self.clock.epoch + self.enqueue_lease_seconds

    def _claim_enqueue(self, callback: NormalisedCallback) -> bool:
        return self.store.claim_enqueue(
            task_id=callback.task_id,
            stage=callback.stage,
            now_epoch=self.clock.epoch,
            lease_until=self._lease_until(),
        )

    def _finish(
        self, callback: NormalisedCallback, ref: str | None, *, received_at: str, queue_it: bool
    ) -> None:
        """After the stage write: raise the task's status and, holding the enqueue lease, queue the stage."""
        task_id, stage = callback.task_id, callback.stage
        try:
            self._advance_task(callback, ref)
            if queue_it:
                request = ArchiveRequest(
                    task_id=task_id, stage=stage, kind=callback.kind, received_at=received_at
                )
                self.queue.send(request)
        except StoreUnavailable:
            if queue_it:
                self._release_lease(task_id, stage)
            raise
        if not queue_it:
            return
        try:
            self.store.mark_queued(task_id=task_id, stage=stage, now=self.clock.iso)
        except StoreUnavailable:
            # The message is sent and the stage stored: nothing is lost. Unmarked, a later redelivery
            # may queue it again, which archive absorbs (it is idempotent).
            logger.warning("stage queued but not marked", extra={"stage": stage.value})

    def _release_lease(self, task_id: str, stage: Stage) -> None:
        """Let the provider's retry queue the stage at once rather than after the lease."""
        try:
            self.store.release_enqueue(task_id=task_id, stage=stage)
        except (StoreUnavailable, ConditionFailed):
            logger.warning("enqueue lease not released; it expires by itself", extra={"stage": stage.value})

    def quarantine(self, kind: Kind, ref: str | None, body: bytes, reason: str) -> IngestResult:
        """Keep an authenticated body we cannot record, with the reason, for listing and replay."""
        quarantine_id = hashlib.sha256(kind.value.encode() + b"\n" + body).hexdigest()[:32]
        item: dict[str, Any] = {
            keys.PK: keys.quarantine_pk(quarantine_id),
            keys.SK: keys.QUARANTINE_SK,
            "type": "quarantine",
            "quarantine_id": quarantine_id,
            "kind": kind.value,
            "ref": ref,
            "reason": reason,
            "received_at": self.clock.iso,
            "body_bytes": len(body),
            "raw_body": compress(body),
            keys.KIND_KEY: keys.QUARANTINE_KIND_KEY,
            keys.TIME_KEY: keys.time_key(self.clock.iso, quarantine_id),
            keys.TTL_ATTRIBUTE: self.expires_at,
        }
        try:
            self._put_quarantine(item, body)
        except ConditionFailed:
            self.store.count_duplicate(pk=item[keys.PK], sk=keys.QUARANTINE_SK, now=self.clock.iso)
        logger.warning("callback quarantined", extra={"reason": reason, "quarantine_id": quarantine_id})
        return IngestResult(Answer.QUARANTINED, kind, quarantine_id=quarantine_id, reason=reason)

    def _put_quarantine(self, item: dict[str, Any], body: bytes) -> None:
        try:
            self.store.put_new(item)
        except RecordTooLarge:
            # Only reachable when the body limit is raised above what an item holds: keep it in S3.
            s3_key = self.bodies.put_quarantined(item["quarantine_id"], body)
            self.store.put_new({**item, "raw_body": None, "raw_body_s3_key": s3_key})
