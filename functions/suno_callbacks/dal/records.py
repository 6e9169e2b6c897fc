"""The records table (schema in `dal/keys.py`): conditional puts, duplicate counts, consistent reads.

SDK errors become domain errors here: a condition that fails is an answer (duplicate, late stage), any
other failure is `StoreUnavailable` and the caller answers 503 so that the provider retries.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any, TypeVar, cast

from botocore.exceptions import BotoCoreError, ClientError

from suno_callbacks.dal import keys
from suno_callbacks.dal.aws import client
from suno_callbacks.dal.dynamo import from_item, to_item, to_value
from suno_callbacks.errors import RecordTooLarge, StoreUnavailable

T = TypeVar("T")

_CONDITION_FAILED = "ConditionalCheckFailedException"


class ConditionFailed(Exception):
    """A conditional write found the item in a state that made it a no-op; carries the old item."""

    def __init__(self, old_item: dict[str, Any]) -> None:
        super().__init__("condition failed")
        self.old_item = old_item


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

    def put(self, values: dict[str, Any]) -> None:
        """Put an item whose key no other write can name (unconditional: nothing to compare)."""
        call_dynamodb(lambda: self.dynamodb.put_item(TableName=self.table_name, Item=to_item(values)))

    def count_duplicate(self, *, pk: str, sk: str, now: str) -> None:
        """Count one more delivery of an existing item."""
        self.update(
            pk,
            sk,
            "ADD duplicates :one SET last_duplicate_at = :now",
            {":one": 1, ":now": now},
            condition="attribute_exists(pk)",
        )

    def update(
        self,
        pk: str,
        sk: str,
        expression: str,
        values: dict[str, Any] | None = None,
        *,
        names: dict[str, str] | None = None,
        condition: str | None = None,
    ) -> None:
        """One UpdateItem; a failed `condition` raises `ConditionFailed` (with the item as it was)."""
        request: dict[str, Any] = {
            "TableName": self.table_name,
            "Key": self._key(pk, sk),
            "UpdateExpression": expression,
        }
        if values:
            request["ExpressionAttributeValues"] = {name: to_value(v) for name, v in values.items()}
        if names:
            request["ExpressionAttributeNames"] = names
        if condition:
            request["ConditionExpression"] = condition
            request["ReturnValuesOnConditionCheckFailure"] = "ALL_OLD"
        call_dynamodb(lambda: self.dynamodb.update_item(**request))

    # --- reads ----------------------------------------------------------------------------------------

    def get(self, pk: str, sk: str) -> dict[str, Any] | None:
        response = call_dynamodb(
            lambda: self.dynamodb.get_item(
                TableName=self.table_name, Key=self._key(pk, sk), ConsistentRead=True
            )
        )
        item = response.get("Item")
        return from_item(item) if item else None

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
