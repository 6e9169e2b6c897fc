"""Receive one callback: authenticate, normalise, record once per stage, queue for archive.

The answers are DESIGN §4's table. Unknown kind, oversize body and failed authentication raise (the
handler answers 404, 413, 401, storing nothing); a store fault raises `StoreUnavailable` (503) only when
what was written can be completed by the provider's retry. A new stage costs two round trips:

- the stage item is written with a conditional put: that is the idempotency key (task, stage, and the
  kind and ref the URL was signed for);
- the stage is queued in its task's FIFO message group. A redelivery of a stage that is not settled yet
  queues it again (SQS drops the repeat within five minutes; archive ignores a settled stage), so a
  stage stored but never queued is queued by the provider's retry, or else by the sweep. Each
  redelivery is one more small item (with its body when it differs from the first), never an update.
Everything else about the task (its status, its indexes, its outcome) is archive's.
"""

from __future__ import annotations

import hashlib
import secrets
import zlib
from collections.abc import Mapping
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any

from suno_callbacks.dal import keys
from suno_callbacks.dal.bodies import BodyStore, holds_body, put_new_with_body
from suno_callbacks.dal.queue import ArchiveQueue
from suno_callbacks.dal.records import ConditionFailed, RecordStore
from suno_callbacks.logic.normalise import InvalidCallback, normalise_body
from suno_callbacks.logic.quarantine import Quarantine
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
    # Recorded, but worth a look: the body looks like another kind's (see `normalise._misrouted`).
    warning: str | None = None

    def body(self) -> dict[str, str]:
        fields = {
            "status": self.answer.value,
            "task_id": self.task_id,
            "stage": self.stage.value if self.stage else None,
            "quarantine_id": self.quarantine_id,
            "reason": self.reason,
            "warning": self.warning,
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
    body = request.body
    try:
        body = decoded_content(request.body, request.headers.get("content-encoding"), settings.max_body_bytes)
        callback = normalise_body(kind, body)
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
        store=store, queue=queue, bodies=bodies, clock=clock, record_ttl_days=settings.record_ttl_days
    )
    if callback is None:
        return recorder.quarantine(kind, ref, body, refused.reason)
    logger.set_correlation_id(callback.task_id)
    result = recorder.record(callback, ref, body)
    if not callback.warnings:
        return result
    logger.warning("callback recorded with a warning", extra={"warning": callback.warnings[0]})
    return replace(result, warning=callback.warnings[0])


# zlib's window bits for the HTTP content codings a sender may apply (RFC 9110 §8.4.1): gzip, and deflate
# as the zlib format it names or as the raw deflate some clients send instead.
_CONTENT_CODINGS = {
    "gzip": (16 + zlib.MAX_WBITS,),
    "x-gzip": (16 + zlib.MAX_WBITS,),
    "deflate": (zlib.MAX_WBITS, -zlib.MAX_WBITS),
}


def decoded_content(body: bytes, content_encoding: str | None, limit: int) -> bytes:
    """`body` without the gzip or deflate its sender applied, at most `limit` bytes once decoded.

    Best effort, so that it never loses what reading the body as it came would record: a coding it does
    not know (`identity`, `utf-8` as some clients write) or a body that is not what its header says is
    read as it came. Only a body too large once decoded is refused (`InvalidCallback`, kept as it came).
    """
    codings = [c.strip().lower() for c in (content_encoding or "").split(",")]
    for coding in reversed([c for c in codings if c in _CONTENT_CODINGS]):  # the last applied comes off first
        decoded = _decompressed(body, coding, limit)
        if decoded is None:
            return body
        body = decoded
    return body


def _decompressed(body: bytes, coding: str, limit: int) -> bytes | None:
    for window_bits in _CONTENT_CODINGS[coding]:
        decoder = zlib.decompressobj(window_bits)
        try:
            decoded = decoder.decompress(body, limit + 1)  # never more than one byte over the limit
        except zlib.error:
            continue
        if len(decoded) > limit:
            raise InvalidCallback(f"body is over {limit} bytes once its {coding} is decoded")
        if decoder.eof and not decoder.unused_data:
            return decoded
    return None


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
    """The writes of one authenticated callback: one conditional put of its stage and one enqueue.

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
    ) -> None:
        self.store = store
        self.queue = queue
        self.bodies = bodies
        self.clock = clock
        self.expires_at = clock.epoch + record_ttl_days * _DAY_SECONDS if record_ttl_days else None

    def record(self, callback: NormalisedCallback, ref: str | None, body: bytes) -> IngestResult:
        request = ArchiveRequest(
            task_id=callback.task_id,
            stage=callback.stage,
            kind=callback.kind,
            ref=ref,
            received_at=self.clock.iso,
        )
        stage = {
            keys.PK: keys.task_pk(callback.task_id),
            keys.SK: request.stage_key,
            "type": "stage",
            "task_id": callback.task_id,
            "kind": callback.kind.value,
            "stage": callback.stage.value,
            "ref": ref,
            keys.RECEIVED_AT: request.received_at,
            # In the sparse index of stages not yet settled until archive settles it: the sweep's list.
            keys.UNSETTLED: callback.kind.value,
            keys.TTL_ATTRIBUTE: self.expires_at,
        }
        try:
            put_new_with_body(self.store, self.bodies, stage, body)
        except ConditionFailed as existing:
            return self._redelivered(request, existing.old_item, body)
        self.queue.send(request)
        return IngestResult(Answer.RECEIVED, callback.kind, callback.task_id, callback.stage)

    def _redelivered(self, request: ArchiveRequest, stored: dict[str, Any], body: bytes) -> IngestResult:
        """Record the redelivery (its body too, when it differs from the first), and queue the stage again
        while it is not settled: the first attempt may have stored it and failed to queue it (SQS drops
        a repeat, archive a stage it has settled)."""
        if "settled_at" not in stored:
            self.queue.send(request.model_copy(update={"received_at": stored[keys.RECEIVED_AT]}))
        redelivery = {
            keys.PK: keys.task_pk(request.task_id),
            keys.SK: keys.redelivery_sk(request.stage_key, self.clock.iso, secrets.token_hex(4)),
            "type": "redelivery",
            "task_id": request.task_id,
            "kind": request.kind.value,
            "stage": request.stage.value,
            "ref": request.ref,
            keys.RECEIVED_AT: self.clock.iso,
            "body_sha256": hashlib.sha256(body).hexdigest(),
            keys.TTL_ATTRIBUTE: self.expires_at,
        }
        if holds_body(stored, body):
            self.store.put(redelivery)  # its key is new by construction: no condition to check
        else:
            put_new_with_body(self.store, self.bodies, redelivery, body)
            logger.warning("stage redelivered with a different body", extra={"stage": request.stage.value})
        return IngestResult(Answer.DUPLICATE, request.kind, request.task_id, request.stage)

    def quarantine(self, kind: Kind, ref: str | None, body: bytes, reason: str) -> IngestResult:
        """Keep an authenticated body we cannot record, with the reason, for listing and replay."""
        entry_id = Quarantine(self.store, self.bodies).keep(
            kind=kind, ref=ref, body=body, reason=reason, now=self.clock.iso, expires_at=self.expires_at
        )
        return IngestResult(Answer.QUARANTINED, kind, quarantine_id=entry_id, reason=reason)
