"""Archive's writes to the table (schema in `dal/keys.py`, README "Records"): the task item, which only
archive writes, its stages' settlement, asset records and the notification items.

Archive settles one task at a time, in the order its stages arrived, so no two of these writes for one
task ever race; the conditions below keep a redelivered or late message from undoing a later one.
SDK errors become `StoreUnavailable`; a write that lost to a newer one is an answer, not an error.
"""

from __future__ import annotations

from contextlib import suppress
from typing import Any

from suno_callbacks.dal import keys
from suno_callbacks.dal.bodies import compress
from suno_callbacks.dal.dynamo import to_item, to_value
from suno_callbacks.dal.records import ConditionFailed, RecordStore, call_dynamodb
from suno_callbacks.models.events import Asset, EventName, Outcome
from suno_callbacks.models.records import StageRecord


class SettlementStore:
    def __init__(self, records: RecordStore) -> None:
        self.records = records

    # --- the task item ---------------------------------------------------------------------------------

    def open_task(self, stage: StageRecord, *, now: str, expires_at: int | None) -> None:
        """Create the task item (owned by the stage's kind and ref, created when its first stage arrived)
        or raise its status to the stage's; once the task has an outcome, its status no longer moves."""
        names = {"#status": "status", "#type": "type"}
        values: dict[str, Any] = {
            ":type": "task",
            ":task_id": stage.task_id,
            ":kind": stage.kind.value,
            ":created": stage.received_at,
            ":time_key": keys.time_key(stage.received_at, stage.task_id),
            ":status": stage.stage.value,
            ":rank": stage.stage.rank,
            ":now": now,
        }
        sets = [
            "#type = :type",
            "task_id = :task_id",
            "kind = if_not_exists(kind, :kind)",
            "created_at = if_not_exists(created_at, :created)",
            f"{keys.KIND_KEY} = if_not_exists({keys.KIND_KEY}, :kind)",
            f"{keys.TIME_KEY} = if_not_exists({keys.TIME_KEY}, :time_key)",
            "#status = :status",
            "status_rank = :rank",
            "updated_at = :now",
        ]
        if stage.ref is not None:
            names["#ref"] = keys.REF
            values[":ref"] = stage.ref
            sets.append("#ref = if_not_exists(#ref, :ref)")
        if expires_at is not None:
            values[":expires_at"] = expires_at
            sets.append(f"{keys.TTL_ATTRIBUTE} = :expires_at")
        with suppress(ConditionFailed):  # the task is further on, or settled: nothing to raise
            self.records.update(
                keys.task_pk(stage.task_id),
                keys.TASK_SK,
                "SET " + ", ".join(sets),
                values,
                names=names,
                condition=(
                    "attribute_not_exists(pk) OR (attribute_not_exists(outcome) AND status_rank < :rank)"
                ),
            )

    def set_task_outcome(self, task_id: str, outcome: Outcome, *, now: str) -> None:
        """Mark the task item settled (`outcome`, `notified_at`)."""
        with suppress(ConditionFailed):  # no task item: nothing to mark
            self.records.update(
                keys.task_pk(task_id),
                keys.TASK_SK,
                "SET outcome = :outcome, notified_at = :now",
                {":outcome": outcome.value, ":now": now},
                condition="attribute_exists(pk)",
            )

    # --- stages ------------------------------------------------------------------------------------------

    def mark_settled(self, stage: StageRecord, *, settlement: str, now: str) -> None:
        """The stage is done with (`settled`, or `quarantined`): out of the sweep's index for good."""
        self.records.update(
            keys.task_pk(stage.task_id),
            stage.stage_key,
            f"SET settled_at = :now, settlement = :settlement REMOVE {keys.UNSETTLED}",
            {":now": now, ":settlement": settlement},
        )

    def record_attempt(self, stage: StageRecord, *, attempt: int, failure: str, now: str) -> None:
        """Why the stage is still waiting: the last transient failure and the delivery it happened on."""
        self.records.update(
            keys.task_pk(stage.task_id),
            stage.stage_key,
            "SET attempts = :attempt, last_failure = :failure, last_failure_at = :now",
            {":attempt": attempt, ":failure": failure, ":now": now},
        )

    # --- assets ------------------------------------------------------------------------------------------

    def put_asset(self, asset: Asset) -> Asset:
        """Write `asset` unless a higher stage already wrote this (item, field); returns what is stored."""
        values = {
            keys.PK: keys.task_pk(asset.task_id),
            keys.SK: keys.asset_sk(asset.item_id, asset.field),
            "type": "asset",
            "stage_rank": asset.stage.rank,
            **asset.model_dump(mode="json"),
        }
        try:
            call_dynamodb(
                lambda: self.records.dynamodb.put_item(
                    TableName=self.records.table_name,
                    Item=to_item(values),
                    ConditionExpression="attribute_not_exists(pk) OR stage_rank <= :rank",
                    ExpressionAttributeValues={":rank": to_value(asset.stage.rank)},
                    ReturnValuesOnConditionCheckFailure="ALL_OLD",
                )
            )
        except ConditionFailed as lost:
            return Asset.model_validate(lost.old_item)
        return asset

    # --- notifications -----------------------------------------------------------------------------------

    def record_notified(
        self, task_id: str, sk: str, *, event_id: str, event: EventName, status: str, message: str, now: str
    ) -> None:
        """The completion (or progress) item, with the message published: written once, after publishing;
        a repeat is a no-op."""
        with suppress(ConditionFailed):
            self.records.put_new(
                {
                    keys.PK: keys.task_pk(task_id),
                    keys.SK: sk,
                    "type": "outcome" if sk == keys.OUTCOME_SK else "progress",
                    "task_id": task_id,
                    "event_id": event_id,
                    "event": event.value,
                    "status": status,
                    "message": compress(message.encode()),
                    "notified_at": now,
                }
            )
