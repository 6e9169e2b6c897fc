"""Read archived tasks from another service: the Python API over the table and the bucket.

    from suno_callbacks.reader import Reader
    reader = Reader.from_environment()           # SUNO_CALLBACKS_TABLE, _BUCKET (+ _BASE_URL, _SECRET_ID)
    reader = Reader.from_stack("SunoCallbacks")  # or the deployed stack's outputs
    task = reader.get_task("2fac****9f72")       # TaskView: task, stages, items, assets
    url = reader.presigned_url(task.assets[0])
    reader.callback_url("music", ref="job-42")   # for a Suno request's callBackUrl
    reader.list_tasks(kind="lyrics", status="completed")  # kinds, stages, outcomes: enums or strings

A task is read with one Query; tasks are listed through the `by-kind-time` and `by-ref` indexes, never a
Scan. Reading needs `dynamodb:Query` on the table and its indexes and `s3:GetObject` on `media/*`
(`SunoCallbackReceiver.grant_read`); callback URLs need `secretsmanager:GetSecretValue` on the secret.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from itertools import islice
from typing import Any, TypeAlias, TypeVar

from botocore.exceptions import BotoCoreError, ClientError
from pydantic import BaseModel

from suno_callbacks.dal import keys
from suno_callbacks.dal.aws import client
from suno_callbacks.dal.records import RecordStore
from suno_callbacks.dal.secrets import load_signing_keys
from suno_callbacks.errors import StoreUnavailable
from suno_callbacks.logic.signing import CALLBACKS_PATH, signed_callback_url
from suno_callbacks.models.events import Asset, Outcome
from suno_callbacks.models.kinds import Kind, Stage
from suno_callbacks.models.records import Item, StageRecord, TaskRecord
from suno_callbacks.models.settings import PREFIX, ReaderSettings, load_settings
from suno_callbacks.timestamps import to_iso

SettingsT = TypeVar("SettingsT", bound=BaseModel)
# A task's status filter: a stage (the STATUS column: the highest callback received) or an outcome (the
# OUTCOME column: how it ended, once archive settled it). Their values differ, so one word says which.
TaskStatus: TypeAlias = Stage | Outcome

# The stack's CloudFormation outputs (infra/constants.py OUTPUT_*) and the variables they stand for.
STACK_OUTPUTS = {
    "CallbackBaseUrl": f"{PREFIX}BASE_URL",
    "TableName": f"{PREFIX}TABLE",
    "BucketName": f"{PREFIX}BUCKET",
    "TopicArn": f"{PREFIX}TOPIC_ARN",
    "QueueUrl": f"{PREFIX}QUEUE_URL",
    "DeadLetterQueueUrl": f"{PREFIX}DLQ_URL",
    "SecretArn": f"{PREFIX}SECRET_ID",
}


class NotConfigured(Exception):
    """A setting the call needs is missing; the message says which and how to set it."""


def parse_kind(value: Kind | str) -> Kind:
    """`value` as a Kind; a ValueError naming the kinds when it is none of them."""
    try:
        return Kind(value)
    except ValueError:
        raise ValueError(f"{value!r} is not a kind: use one of {', '.join(Kind)}") from None


def parse_status(value: TaskStatus | str) -> TaskStatus:
    """`value` as a stage or an outcome; a ValueError naming both sets when it is neither."""
    for status in (Stage, Outcome):
        try:
            return status(value)
        except ValueError:
            continue
    raise ValueError(
        f"{value!r} is not a status: use a stage ({', '.join(Stage)}: the highest callback received) "
        f"or an outcome ({', '.join(Outcome)}: how the task ended, once archived)"
    )


def _check_limit(limit: int) -> int:
    if limit < 1:
        raise ValueError(f"limit must be 1 or more, not {limit}")
    return limit


def settings_from_stack(stack_name: str, model: type[SettingsT]) -> SettingsT:
    """`model` from a deployed stack's outputs (CloudFormation DescribeStacks)."""
    try:
        stacks = client("cloudformation").describe_stacks(StackName=stack_name)["Stacks"]
    except (ClientError, BotoCoreError) as error:
        raise StoreUnavailable(f"cannot describe stack {stack_name!r}: {error}") from error
    outputs = {o["OutputKey"]: o["OutputValue"] for o in stacks[0].get("Outputs", [])}
    values = {STACK_OUTPUTS[k]: v for k, v in outputs.items() if k in STACK_OUTPUTS}
    if base := values.get(f"{PREFIX}BASE_URL"):
        # The output is `…/callbacks`; the setting is the API's root.
        values[f"{PREFIX}BASE_URL"] = base.rstrip("/").removesuffix(CALLBACKS_PATH)
    return model.model_validate(values)


class StageSummary(BaseModel):
    stage: Stage
    code: int
    msg: str = ""
    error: str | None = None
    received_at: str
    duplicates: int = 0
    queued_at: str | None = None


class TaskView(BaseModel):
    """A task as a reader sees it (the CLI's `task --json`): the task item, its stages with their duplicate
    counts, the items of its highest stage, and its assets."""

    task_id: str
    kind: Kind
    ref: str | None = None
    status: Stage
    outcome: str | None = None
    created_at: str
    updated_at: str
    stages: list[StageSummary]
    items: list[Item]
    assets: list[Asset]

    @classmethod
    def of(cls, task: TaskRecord, stages: list[StageRecord], assets: list[Asset]) -> TaskView:
        ordered = sorted(stages, key=lambda s: s.stage.rank)
        with_items = [s for s in ordered if s.items]
        return cls(
            **task.model_dump(),
            stages=[StageSummary.model_validate(s.model_dump()) for s in ordered],
            items=with_items[-1].items if with_items else [],
            assets=assets,
        )


class Reader:
    def __init__(self, settings: ReaderSettings) -> None:
        self.settings = settings
        self._records = RecordStore(settings.table_name)

    @classmethod
    def from_environment(cls) -> Reader:
        return cls(load_settings(ReaderSettings))

    @classmethod
    def from_stack(cls, stack_name: str) -> Reader:
        return cls(settings_from_stack(stack_name, ReaderSettings))

    def get_task(self, task_id: str) -> TaskView | None:
        """The whole task (one consistent Query), or None when no callback for it was recorded."""
        items = self._records.query_task(task_id)
        task = next((i for i in items if i.get("type") == "task"), None)
        if task is None:
            return None
        stages = [StageRecord.model_validate(i) for i in items if i.get("type") == "stage"]
        assets = [Asset.model_validate(i) for i in items if i.get("type") == "asset"]
        return TaskView.of(TaskRecord.model_validate(task), stages, assets)

    def find_tasks_by_ref(
        self,
        ref: str,
        *,
        kind: Kind | str | None = None,
        status: TaskStatus | str | None = None,
        since: datetime | None = None,
        limit: int = 50,
    ) -> list[TaskRecord]:
        """The tasks whose callback URL carried `ref` (created since `since`), oldest first.

        `kind` and `status` are enums or their values; `status` is a stage or an outcome (`TaskStatus`).
        """
        wanted = _TaskFilter.of(kind, status)
        limit = _check_limit(limit)
        found = (
            TaskRecord.model_validate(item)
            for item in self._query_index(keys.BY_REF_INDEX, keys.REF, ref, since=since, newest_first=False)
            if item.get("type") == "task"
        )
        return list(islice(filter(wanted.matches, found), limit))

    def list_tasks(
        self,
        *,
        kind: Kind | str | None = None,
        status: TaskStatus | str | None = None,
        since: datetime | None = None,
        limit: int = 50,
    ) -> list[TaskRecord]:
        """Tasks created since `since`, newest first: one index Query per kind (all kinds by default).

        `kind` and `status` are enums or their values; `status` is a stage or an outcome (`TaskStatus`).
        """
        wanted = _TaskFilter.of(kind, status)
        limit = _check_limit(limit)
        tasks: list[TaskRecord] = []
        for each in [wanted.kind] if wanted.kind else list(Kind):
            matching = (
                TaskRecord.model_validate(i)
                for i in self._query_index(keys.BY_KIND_TIME_INDEX, keys.KIND_KEY, each.value, since=since)
            )
            tasks += islice(filter(wanted.matches, matching), limit)
        tasks.sort(key=lambda t: (t.created_at, t.task_id), reverse=True)
        return tasks[:limit]

    def presigned_url(self, asset: Asset, expires_in_seconds: int = 3600) -> str:
        """A temporary HTTPS link to an archived asset's object."""
        if asset.s3_key is None:
            raise ValueError(f"asset {asset.item_id}/{asset.field} is {asset.state.value}: nothing in S3")
        url: str = client("s3").generate_presigned_url(
            "get_object",
            Params={"Bucket": self.settings.bucket_name, "Key": asset.s3_key},
            ExpiresIn=expires_in_seconds,
        )
        return url

    def callback_url(self, kind: Kind | str, ref: str | None = None) -> str:
        """A signed URL for a Suno request's `callBackUrl` (the kind decides the route)."""
        kind = parse_kind(kind)
        if not self.settings.base_url or not self.settings.secret_id:
            raise NotConfigured(
                f"making callback URLs needs {PREFIX}BASE_URL and {PREFIX}SECRET_ID: "
                "read them from the stack (--stack NAME) or from `suno-callbacks local`'s export lines"
            )
        signing_keys = load_signing_keys(self.settings.secret_id, max_age_seconds=300)
        return signed_callback_url(self.settings.base_url, kind.value, signing_keys, ref=ref)

    def _query_index(
        self, index: str, partition: str, value: str, *, since: datetime | None, newest_first: bool = True
    ) -> Iterator[dict[str, Any]]:
        condition = "#p = :p"
        values: dict[str, Any] = {":p": {"S": value}}
        if since is not None:
            condition += " AND time_key >= :since"
            values[":since"] = {"S": to_iso(since)}
        return self._records.query(
            IndexName=index,
            KeyConditionExpression=condition,
            ExpressionAttributeNames={"#p": partition},
            ExpressionAttributeValues=values,
            ScanIndexForward=not newest_first,
        )


@dataclass(frozen=True)
class _TaskFilter:
    kind: Kind | None
    status: TaskStatus | None

    @classmethod
    def of(cls, kind: Kind | str | None, status: TaskStatus | str | None) -> _TaskFilter:
        return cls(
            None if kind is None else parse_kind(kind), None if status is None else parse_status(status)
        )

    def matches(self, task: TaskRecord) -> bool:
        if self.kind is not None and task.kind is not self.kind:
            return False
        if isinstance(self.status, Outcome):
            return task.outcome == self.status
        return self.status is None or task.status is self.status
