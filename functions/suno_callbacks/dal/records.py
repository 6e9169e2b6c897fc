"""Task, stage and quarantine items in DynamoDB (schema in `dal/keys.py`).

SDK errors become domain errors here: a condition that fails is an answer (duplicate, late stage), any
other failure is `StoreUnavailable` and the caller answers 503 so that the provider retries.
"""

from __future__ import annotations

import zlib
from collections.abc import Callable, Iterator
from typing import Any, TypeVar, cast

from botocore.exceptions import BotoCoreError, ClientError

from suno_callbacks.dal import keys
from suno_callbacks.dal.aws import client
from suno_callbacks.dal.dynamo import from_item, to_item, to_value
from suno_callbacks.errors import RecordTooLarge, StoreUnavailable
from suno_callbacks.models.kinds import Stage
from suno_callbacks.models.records import StageRecord

T = TypeVar("T")

_CONDITION_FAILED = "ConditionalCheckFailedException"


class ConditionFailed(Exception):
    """A conditional write found the item in a state that made it a no-op; carries the old item."""

    def __init__(self, old_item: dict[str, Any]) -> None:
        super().__init__("condition failed")
        self.old_item = old_item


def compress(body: bytes) -> bytes:
    return zlib.compress(body, 6)


def decompress(stored: bytes) -> bytes:
    return zlib.decompress(stored)


def call_dynamodb(operation: Callable[[], T]) -> T:
    """Run one DynamoDB call; a failed condition is `ConditionFailed`, any other failure a domain error."""
    try:
        return operation()
    except ClientError as error:
        code = error.response.get("Error", {}).get("Code", "")
        if code == _CONDITION_FAILED:
            raise ConditionFailed(from_item(cast(dict[str, Any], error.response.get("Item", {})))) from error
        message = error.response.get("Error", {}).get("Message", "")
        if code == "ValidationException" and "size" in message.lower():
            raise RecordTooLarge(message) from error
        raise StoreUnavailable(f"DynamoDB {code}") from error
    except BotoCoreError as error:
        raise StoreUnavailable(f"DynamoDB {type(error).__name__}") from error


class RecordStore:
    """The table, seen as tasks, stages and quarantined callbacks."""

    def __init__(self, table_name: str, dynamodb: Any | None = None) -> None:
        self.table_name = table_name
        self._dynamodb = dynamodb

    @property
    def dynamodb(self) -> Any:
        # Not memoised here: `client` is the one cache, so tests and local mode can swap it.
        return self._dynamodb if self._dynamodb is not None else client("dynamodb")

    # --- writes -------------------------------------------------------------------------------------

    def put_new(self, values: dict[str, Any]) -> None:
        """Put an item that must not exist yet; `ConditionFailed` carries the existing one."""
        call_dynamodb(
            lambda: self.dynamodb.put_item(
                TableName=self.table_name,
                Item=to_item(values),
                ConditionExpression="attribute_not_exists(pk)",
                ReturnValuesOnConditionCheckFailure="ALL_OLD",
            )
        )

    def advance_task(
        self, *, task_id: str, kind: str, stage: Stage, ref: str | None, now: str, expires_at: int | None
    ) -> bool:
        """Create the task item or raise its status to `stage`; False when the task is already further on."""
        names = {"#status": "status"}
        values: dict[str, Any] = {
            ":status": stage.value,
            ":rank": stage.rank,
            ":now": now,
            ":kind": kind,
            ":task_id": task_id,
            ":type": "task",
            ":kind_key": kind,
            ":time_key": keys.time_key(now, task_id),
        }
        sets = [
            "#status = :status",
            "status_rank = :rank",
            "updated_at = :now",
            "created_at = if_not_exists(created_at, :now)",
            "kind = if_not_exists(kind, :kind)",
            "task_id = :task_id",
            "#type = :type",
            "kind_key = if_not_exists(kind_key, :kind_key)",
            "time_key = if_not_exists(time_key, :time_key)",
        ]
        names["#type"] = "type"
        if ref is not None:
            sets.append("#ref = if_not_exists(#ref, :ref)")
            names["#ref"] = "ref"
            values[":ref"] = ref
        if expires_at is not None:
            sets.append("expires_at = :expires_at")
            values[":expires_at"] = expires_at
        try:
            call_dynamodb(
                lambda: self.dynamodb.update_item(
                    TableName=self.table_name,
                    Key=self._key(keys.task_pk(task_id), keys.TASK_SK),
                    UpdateExpression="SET " + ", ".join(sets),
                    ConditionExpression="attribute_not_exists(status_rank) OR status_rank < :rank",
                    ExpressionAttributeNames=names,
                    ExpressionAttributeValues={k: to_value(v) for k, v in values.items()},
                )
            )
        except ConditionFailed:
            return False
        return True

    def count_duplicate(self, *, pk: str, sk: str, now: str) -> dict[str, Any]:
        """Count one more delivery of an existing item; returns the item as it is now."""
        response = call_dynamodb(
            lambda: self.dynamodb.update_item(
                TableName=self.table_name,
                Key=self._key(pk, sk),
                UpdateExpression="ADD duplicates :one SET last_duplicate_at = :now",
                ConditionExpression="attribute_exists(pk)",
                ExpressionAttributeValues={":one": {"N": "1"}, ":now": {"S": now}},
                ReturnValues="ALL_NEW",
            )
        )
        return from_item(response["Attributes"])

    def claim_enqueue(self, *, task_id: str, stage: Stage, now_epoch: int, lease_until: int) -> bool:
        """Take the right to (re-)enqueue a stage nobody queued, unless another attempt holds the lease."""
        try:
            call_dynamodb(
                lambda: self.dynamodb.update_item(
                    TableName=self.table_name,
                    Key=self._key(keys.task_pk(task_id), keys.stage_sk(stage)),
                    UpdateExpression="SET enqueue_lease_until = :until",
                    ConditionExpression=(
                        "attribute_exists(pk) AND attribute_not_exists(queued_at) AND "
                        "(attribute_not_exists(enqueue_lease_until) OR enqueue_lease_until <= :now)"
                    ),
                    ExpressionAttributeValues={":until": to_value(lease_until), ":now": to_value(now_epoch)},
                )
            )
        except ConditionFailed:
            return False
        return True

    def mark_queued(self, *, task_id: str, stage: Stage, now: str) -> None:
        call_dynamodb(
            lambda: self.dynamodb.update_item(
                TableName=self.table_name,
                Key=self._key(keys.task_pk(task_id), keys.stage_sk(stage)),
                UpdateExpression="SET queued_at = :now REMOVE enqueue_lease_until",
                ExpressionAttributeValues={":now": {"S": now}},
            )
        )

    def release_enqueue(self, *, task_id: str, stage: Stage) -> None:
        """Give the enqueue lease back after a failed send, so that the provider's retry can claim it."""
        call_dynamodb(
            lambda: self.dynamodb.update_item(
                TableName=self.table_name,
                Key=self._key(keys.task_pk(task_id), keys.stage_sk(stage)),
                UpdateExpression="REMOVE enqueue_lease_until",
                ConditionExpression="attribute_exists(pk) AND attribute_not_exists(queued_at)",
            )
        )

    # --- reads ----------------------------------------------------------------------------------------

    def get(self, pk: str, sk: str) -> dict[str, Any] | None:
        response = call_dynamodb(
            lambda: self.dynamodb.get_item(
                TableName=self.table_name, Key=self._key(pk, sk), ConsistentRead=True
            )
        )
        item = response.get("Item")
        return from_item(item) if item else None

    def read_stage(self, task_id: str, stage: Stage) -> StageRecord | None:
        item = self.get(keys.task_pk(task_id), keys.stage_sk(stage))
        return StageRecord.model_validate(item) if item else None

    def query_task(self, task_id: str) -> list[dict[str, Any]]:
        """Every item of a task (task, stages, variants, assets, outcome), in one consistent Query."""
        return list(
            self.query(
                KeyConditionExpression="pk = :pk",
                ExpressionAttributeValues={":pk": {"S": keys.task_pk(task_id)}},
                ConsistentRead=True,
            )
        )

    def query(self, **kwargs: Any) -> Iterator[dict[str, Any]]:
        """Every item a DynamoDB Query (the table's, or an index's) returns, page after page, lazily."""
        start: dict[str, Any] | None = None
        while True:
            page_args = dict(kwargs, TableName=self.table_name)
            if start:
                page_args["ExclusiveStartKey"] = start
            response = call_dynamodb(lambda args=page_args: self.dynamodb.query(**args))  # type: ignore[misc]
            yield from (from_item(item) for item in response.get("Items", []))
            start = response.get("LastEvaluatedKey")
            if not start:
                return

    @staticmethod
    def _key(pk: str, sk: str) -> dict[str, Any]:
        return {keys.PK: {"S": pk}, keys.SK: {"S": sk}}
