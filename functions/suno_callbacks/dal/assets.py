"""Asset, outcome and progress items in the table (schema in `dal/keys.py`, README "Records").

SDK errors become `StoreUnavailable`; a write that lost to a newer one is an answer, not an error.
"""

from __future__ import annotations

from contextlib import suppress
from typing import Any

from suno_callbacks.dal import keys
from suno_callbacks.dal.dynamo import to_item, to_value
from suno_callbacks.dal.records import ConditionFailed, RecordStore, call_dynamodb
from suno_callbacks.models.events import Asset, EventName, Outcome


class AssetStore:
    def __init__(self, records: RecordStore) -> None:
        self.records = records

    def get_asset(self, task_id: str, item_id: str, field: str) -> Asset | None:
        item = self.records.get(keys.task_pk(task_id), keys.asset_sk(item_id, field))
        return Asset.model_validate(item) if item else None

    def task_assets(self, task_items: list[dict[str, Any]]) -> list[Asset]:
        """The assets among a task's items (from `RecordStore.query_task`), in key order."""
        return [Asset.model_validate(item) for item in task_items if item.get("type") == "asset"]

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

    def notified(self, task_id: str, sk: str) -> bool:
        item = self.records.get(keys.task_pk(task_id), sk)
        return bool(item and item.get("notified_at"))

    def record_notified(
        self, task_id: str, sk: str, *, event_id: str, event: EventName, status: str, now: str
    ) -> None:
        """The completion (or progress) item: written once, after publishing; a repeat is a no-op."""
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
                    "notified_at": now,
                }
            )

    def set_task_outcome(self, task_id: str, outcome: Outcome, *, now: str) -> None:
        """Mark the task item settled (`outcome`, `notified_at`): the sweep re-queues tasks without it."""
        # No task item (ingest writes it first) means nothing to mark.
        with suppress(ConditionFailed):
            call_dynamodb(
                lambda: self.records.dynamodb.update_item(
                    TableName=self.records.table_name,
                    Key={keys.PK: {"S": keys.task_pk(task_id)}, keys.SK: {"S": keys.TASK_SK}},
                    UpdateExpression="SET outcome = :outcome, notified_at = :now",
                    ConditionExpression="attribute_exists(pk)",
                    ExpressionAttributeValues={":outcome": to_value(outcome.value), ":now": to_value(now)},
                )
            )
