"""Operator actions: list, show and replay quarantined callbacks; show the DLQ and move its messages back.

The CLI and the console both call these.

Replay records a quarantined body the way ingest would have (same normalisation, same conditional
writes, same queueing), once the model that refused it is fixed; it does not authenticate again, since
the body was authenticated when it arrived. The quarantine item is kept, marked `replayed_at`.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError
from pydantic import BaseModel

from suno_callbacks.cli.config import require
from suno_callbacks.cli.output import CliError
from suno_callbacks.dal import keys
from suno_callbacks.dal.aws import client
from suno_callbacks.dal.bodies import BodyStore, body_of
from suno_callbacks.dal.dynamo import to_value
from suno_callbacks.dal.queue import ArchiveQueue
from suno_callbacks.dal.records import RecordStore
from suno_callbacks.errors import StoreUnavailable

# The recorder is ingest's own sequence of writes; replay must not have a second one.
from suno_callbacks.logic.ingest import Clock, Recorder
from suno_callbacks.logic.normalise import InvalidCallback, normalise_body
from suno_callbacks.models.kinds import Kind
from suno_callbacks.models.messages import ArchiveRequest
from suno_callbacks.models.settings import CliSettings
from suno_callbacks.timestamps import to_iso


class QuarantinedCallback(BaseModel):
    """A quarantine item as `quarantine --json` prints it. `task_id` and `stage` are set when archive
    quarantined a stage of a task that another kind or ref owns."""

    quarantine_id: str
    kind: Kind
    ref: str | None = None
    reason: str
    received_at: str
    body_bytes: int
    duplicates: int = 0
    task_id: str | None = None
    stage: str | None = None
    replayed_at: str | None = None
    replay_task_id: str | None = None


class DeadLetter(BaseModel):
    """A message in the DLQ: the stage it asked archive to settle, and how often it was tried."""

    message_id: str
    group_id: str | None = None
    receive_count: int
    sent_at: str
    request: ArchiveRequest | None = None
    # The body as it is, when it is not an archive request this version reads.
    body: str | None = None


class DeadLetters(BaseModel):
    """The DLQ's depth and the first of its messages (peeked, left in place)."""

    waiting: int
    in_flight: int
    messages: list[DeadLetter]


class ReplayResult(BaseModel):
    quarantine_id: str
    # received, duplicate (already recorded), quarantined (still refused) or failed (could not be tried)
    answer: str
    task_id: str | None = None
    reason: str | None = None


def list_quarantine(settings: CliSettings) -> list[QuarantinedCallback]:
    """Newest first, from the `by-kind-time` index (partition `quarantine`)."""
    return [QuarantinedCallback.model_validate(item) for item in _quarantine_items(settings)]


def quarantined_body(settings: CliSettings, quarantine_id: str) -> tuple[QuarantinedCallback, bytes]:
    """One quarantine entry and its body as it came; `CliError` when there is no such entry."""
    item = RecordStore(settings.table_name).get(keys.quarantine_pk(quarantine_id), keys.QUARANTINE_SK)
    if item is None:
        raise _not_quarantined([quarantine_id])
    return QuarantinedCallback.model_validate(item), body_of(item, BodyStore(settings.bucket_name))


def dead_letters(dlq_url: str, *, limit: int = 10) -> DeadLetters:
    """How many messages wait in the DLQ, and the first `limit` of them, peeked: they stay where they are
    (received with no visibility timeout, so they are at once visible again)."""
    sqs = client("sqs")
    try:
        counts = sqs.get_queue_attributes(
            QueueUrl=dlq_url,
            AttributeNames=["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"],
        )["Attributes"]
        peeked: dict[str, DeadLetter] = {}
        while len(peeked) < limit:
            batch = sqs.receive_message(
                QueueUrl=dlq_url,
                MaxNumberOfMessages=min(10, limit - len(peeked)),
                VisibilityTimeout=0,
                AttributeNames=["All"],
            ).get("Messages", [])
            fresh = [m for m in batch if m["MessageId"] not in peeked]
            if not fresh:
                break
            peeked |= {m["MessageId"]: _dead_letter(m) for m in fresh}
    except (ClientError, BotoCoreError) as error:
        raise StoreUnavailable(f"SQS {type(error).__name__}: {error}") from error
    return DeadLetters(
        waiting=int(counts["ApproximateNumberOfMessages"]),
        in_flight=int(counts["ApproximateNumberOfMessagesNotVisible"]),
        messages=list(peeked.values()),
    )


def _dead_letter(message: dict[str, Any]) -> DeadLetter:
    attributes = message.get("Attributes", {})
    sent = datetime.fromtimestamp(int(attributes.get("SentTimestamp", "0")) / 1000, tz=UTC)
    try:
        request: ArchiveRequest | None = ArchiveRequest.model_validate_json(message["Body"])
        body = None
    except ValueError:
        request, body = None, message["Body"]
    return DeadLetter(
        message_id=message["MessageId"],
        group_id=attributes.get("MessageGroupId"),
        receive_count=int(attributes.get("ApproximateReceiveCount", "0")),
        sent_at=to_iso(sent),
        request=request,
        body=body,
    )


def replay(settings: CliSettings, *, ids: list[str]) -> list[ReplayResult]:
    """Replay the given quarantine ids, or every one not yet replayed; an id that is not quarantined is a
    `CliError` before anything is replayed."""
    quarantined = {item["quarantine_id"]: item for item in _quarantine_items(settings)}
    if unknown := [i for i in ids if i not in quarantined]:
        raise _not_quarantined(unknown)
    chosen = (
        [quarantined[i] for i in dict.fromkeys(ids)]
        if ids
        else [item for item in quarantined.values() if "replayed_at" not in item]
    )
    recorder = Recorder(
        store=RecordStore(settings.table_name),
        queue=ArchiveQueue(require(settings.queue_url, "QUEUE_URL")),
        bodies=BodyStore(settings.bucket_name),
        clock=Clock.now(),
        record_ttl_days=settings.record_ttl_days,
    )
    results = []
    for item in chosen:
        # One entry that cannot be replayed (a store fault, anything) is reported, not the end of the run.
        try:
            result = _replay_one(item, recorder)
            if result.answer not in ("quarantined", "failed"):
                _mark_replayed(recorder.store, item["quarantine_id"], result.task_id)
        except Exception as error:
            result = ReplayResult(
                quarantine_id=item["quarantine_id"],
                answer="failed",
                reason=f"{type(error).__name__}: {error}",
            )
        results.append(result)
    return results


def redrive(dlq_url: str, queue_url: str, *, on_progress: Callable[[int, int], None]) -> int:
    """Move every message of the DLQ to the archive queue (send, then delete); returns how many.

    Each keeps its task's message group; its deduplication id is new, since SQS would drop a repeat of
    the original within five minutes (archive ignores a stage it has settled since).
    """
    sqs = client("sqs")
    try:
        total = int(
            sqs.get_queue_attributes(QueueUrl=dlq_url, AttributeNames=["ApproximateNumberOfMessages"])[
                "Attributes"
            ]["ApproximateNumberOfMessages"]
        )
        moved = 0
        on_progress(moved, total)
        while True:
            messages = sqs.receive_message(
                QueueUrl=dlq_url, MaxNumberOfMessages=10, WaitTimeSeconds=1, AttributeNames=["All"]
            ).get("Messages", [])
            if not messages:
                return moved
            entries = [
                {
                    "Id": str(i),
                    "MessageBody": m["Body"],
                    "MessageGroupId": m["Attributes"]["MessageGroupId"],
                    "MessageDeduplicationId": f"redrive-{m['MessageId']}",
                }
                for i, m in enumerate(messages)
            ]
            sent = sqs.send_message_batch(QueueUrl=queue_url, Entries=entries).get("Successful", [])
            done = [messages[int(s["Id"])] for s in sent]
            if done:
                sqs.delete_message_batch(
                    QueueUrl=dlq_url,
                    Entries=[{"Id": str(i), "ReceiptHandle": m["ReceiptHandle"]} for i, m in enumerate(done)],
                )
            moved += len(done)
            on_progress(moved, total)
    except (ClientError, BotoCoreError) as error:
        raise StoreUnavailable(f"SQS {type(error).__name__}: {error}") from error


def _replay_one(item: dict[str, Any], recorder: Recorder) -> ReplayResult:
    quarantine_id = item["quarantine_id"]
    body = body_of(item, recorder.bodies)
    try:
        callback = normalise_body(Kind(item["kind"]), body)
    except InvalidCallback as refused:
        return ReplayResult(quarantine_id=quarantine_id, answer="quarantined", reason=refused.reason)
    result = recorder.record(callback, item.get("ref"), body)
    return ReplayResult(quarantine_id=quarantine_id, answer=result.answer.value, task_id=result.task_id)


def _not_quarantined(ids: list[str]) -> CliError:
    return CliError(
        f"nothing is quarantined as {', '.join(map(repr, ids))}: `suno-callbacks quarantine` lists the ids"
    )


def _mark_replayed(store: RecordStore, quarantine_id: str, task_id: str | None) -> None:
    values = {":now": Clock.now().iso}
    expression = "SET replayed_at = :now"
    if task_id:
        values[":task"] = task_id
        expression += ", replay_task_id = :task"
    store.update(keys.quarantine_pk(quarantine_id), keys.QUARANTINE_SK, expression, values)


def _quarantine_items(settings: CliSettings) -> list[dict[str, Any]]:
    return list(
        RecordStore(settings.table_name).query(
            IndexName=keys.BY_KIND_TIME_INDEX,
            KeyConditionExpression="kind_key = :q",
            ExpressionAttributeValues={":q": to_value(keys.QUARANTINE_KIND_KEY)},
            ScanIndexForward=False,
        )
    )
