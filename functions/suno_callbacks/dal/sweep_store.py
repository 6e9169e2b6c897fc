"""The table as the sweep sees it: tasks without an outcome, listed by kind and time (never a Scan)."""

from __future__ import annotations

from collections.abc import Iterator

from suno_callbacks.dal import keys
from suno_callbacks.dal.dynamo import to_value
from suno_callbacks.dal.records import RecordStore
from suno_callbacks.models.kinds import Kind
from suno_callbacks.models.records import TaskRecord


class SweepStore(RecordStore):
    def unsettled_tasks(self, kind: Kind, *, created_from: str, created_to: str) -> Iterator[TaskRecord]:
        """Tasks of `kind` created in [created_from, created_to] (ISO times) whose outcome is not recorded.

        Queries index `by-kind-time`, whose sort key starts with the task's creation time.
        """
        items = self.query(
            IndexName=keys.BY_KIND_TIME_INDEX,
            KeyConditionExpression="#kind_key = :kind AND #time_key BETWEEN :from AND :to",
            FilterExpression="attribute_not_exists(outcome)",
            ExpressionAttributeNames={"#kind_key": keys.KIND_KEY, "#time_key": keys.TIME_KEY},
            ExpressionAttributeValues={
                ":kind": to_value(kind.value),
                ":from": to_value(created_from),
                # Every key of that instant sorts after the bare time ("<time>#<task_id>").
                ":to": to_value(f"{created_to}#\uffff"),
            },
        )
        for item in items:
            yield TaskRecord.model_validate(item)
