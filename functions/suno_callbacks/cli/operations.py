"""Operator actions: list and replay quarantined callbacks, move the DLQ's messages back.

Replay records a quarantined body the way ingest would have (same normalisation, same conditional
writes, same queueing), once the model that refused it is fixed; it does not authenticate again, since
the body was authenticated when it arrived. The quarantine item is kept, marked `replayed_at`.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError
from pydantic import BaseModel

from suno_callbacks.cli.config import require
from suno_callbacks.cli.output import CliError
from suno_callbacks.dal import keys
from suno_callbacks.dal.aws import client
from suno_callbacks.dal.bodies import BodyStore, body_of
from suno_callbacks.dal.dynamo import from_item, to_value
from suno_callbacks.dal.queue import ArchiveQueue
from suno_callbacks.dal.records import RecordStore
from suno_callbacks.errors import StoreUnavailable

# The recorder is ingest's own sequence of writes; replay must not have a second one.
from suno_callbacks.logic.ingest import Clock, Recorder
from suno_callbacks.logic.normalise import InvalidCallback, normalise_body
from suno_callbacks.models.kinds import Kind
from suno_callbacks.models.settings import CliSettings


class QuarantinedCallback(BaseModel):
    """A quarantine item as `quarantine --json` prints it."""

    quarantine_id: str
    kind: Kind
    ref: str | None = None
    reason: str
    received_at: str
    body_bytes: int
    duplicates: int = 0
    replayed_at: str | None = None
    replay_task_id: str | None = None


class ReplayResult(BaseModel):
    quarantine_id: str
    # received, duplicate (already recorded), quarantined (still refused) or failed (could not be tried)
    answer: str
    task_id: str | None = None
    reason: str | None = None


def list_quarantine(settings: CliSettings) -> list[QuarantinedCallback]:
    """Newest first, from the `by-kind-time` index (partition `quarantine`)."""
    return [QuarantinedCallback.model_validate(item) for item in _quarantine_items(settings)]


def replay(settings: CliSettings, *, ids: list[str]) -> list[ReplayResult]:
    """Replay the given quarantine ids, or every one not yet replayed; an id that is not quarantined is a
    `CliError` before anything is replayed."""
    quarantined = {item["quarantine_id"]: item for item in _quarantine_items(settings)}
    if unknown := [i for i in ids if i not in quarantined]:
        raise CliError(
            f"nothing is quarantined as {', '.join(map(repr, unknown))}: "
            "`suno-callbacks quarantine` lists the ids there are"
        )
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


def _mark_replayed(store: RecordStore, quarantine_id: str, task_id: str | None) -> None:
    values = {":now": to_value(Clock.now().iso)}
    expression = "SET replayed_at = :now"
    if task_id:
        values[":task"] = to_value(task_id)
        expression += ", replay_task_id = :task"
    try:
        store.dynamodb.update_item(
            TableName=store.table_name,
            Key={keys.PK: {"S": keys.quarantine_pk(quarantine_id)}, keys.SK: {"S": keys.QUARANTINE_SK}},
            UpdateExpression=expression,
            ExpressionAttributeValues=values,
        )
    except (ClientError, BotoCoreError) as error:
        raise StoreUnavailable(f"DynamoDB {type(error).__name__}: {error}") from error


def _quarantine_items(settings: CliSettings) -> list[dict[str, Any]]:
    request: dict[str, Any] = {
        "TableName": settings.table_name,
        "IndexName": keys.BY_KIND_TIME_INDEX,
        "KeyConditionExpression": "kind_key = :q",
        "ExpressionAttributeValues": {":q": {"S": keys.QUARANTINE_KIND_KEY}},
        "ScanIndexForward": False,
    }
    items: list[dict[str, Any]] = []
    try:
        while True:
            page = client("dynamodb").query(**request)
            items += [from_item(i) for i in page.get("Items", [])]
            if "LastEvaluatedKey" not in page:
                return items
            request["ExclusiveStartKey"] = page["LastEvaluatedKey"]
    except (ClientError, BotoCoreError) as error:
        raise StoreUnavailable(f"DynamoDB {type(error).__name__}: {error}") from error
