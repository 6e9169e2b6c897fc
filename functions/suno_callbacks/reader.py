"""Read archived tasks from another service: the Python API over the table and the bucket.

    from suno_callbacks.reader import Reader
    reader = Reader.from_environment()           # SUNO_CALLBACKS_TABLE, _BUCKET (+ _BASE_URL, _SECRET_ID)
    reader = Reader.from_stack("SunoCallbacks")  # or the deployed stack's outputs
    task = reader.get_task("2fac****9f72")       # TaskView: task, stages, items, assets
    url = reader.presigned_url(task.assets[0])
    reader.callback_url("music", ref="job-42")   # for a Suno request's callBackUrl
    reader.list_tasks(kind="lyrics", status="completed")  # kinds, stages, outcomes: enums or strings
    page = reader.list_tasks_page(limit=20)       # TaskPage: tasks, next_cursor (pass it back for more)

A task is read with one Query; tasks are listed through the `by-kind-time` and `by-ref` indexes, never a
Scan. Reading needs `dynamodb:Query` on the table and its indexes and `s3:GetObject` on `media/*`
(`SunoCallbackReceiver.grant_read`); callback URLs need `secretsmanager:GetSecretValue` on the secret.
"""

from __future__ import annotations

import base64
import binascii
import heapq
import json
import zlib
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from itertools import islice
from typing import Any, TypeAlias, TypeVar

from botocore.exceptions import BotoCoreError, ClientError
from pydantic import BaseModel, Field

from suno_callbacks.dal import keys
from suno_callbacks.dal.aws import client
from suno_callbacks.dal.bodies import BodyStore, body_of, has_body
from suno_callbacks.dal.records import RecordStore
from suno_callbacks.dal.secrets import load_signing_keys
from suno_callbacks.errors import StoreUnavailable
from suno_callbacks.logic.normalise import InvalidCallback, normalise_body
from suno_callbacks.logic.payload import InvalidJson, parse_json
from suno_callbacks.logic.signing import CALLBACKS_PATH, signed_callback_url
from suno_callbacks.models.events import Asset, Outcome
from suno_callbacks.models.kinds import Kind, Stage
from suno_callbacks.models.records import Item, MediaRef, StageRecord, TaskRecord
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


class RedeliveryView(BaseModel):
    """The provider sent a stage again. `body` is there when it differed from the first one's."""

    received_at: str
    body_sha256: str
    body: Any = None


class StageView(BaseModel):
    """One callback of the task as it arrived: what it said (read from its body by the same code that
    accepted it), its redeliveries, and how archive settled it, or why it is still waiting."""

    stage: Stage
    kind: Kind
    ref: str | None = None
    received_at: str
    code: int | None = None
    msg: str = ""
    error: str | None = None
    # How often the provider sent it again; `redeliveries` says when (and what, when it differed).
    duplicates: int = 0
    settled_at: str | None = None
    # `settled`, or `quarantined` (it arrived under another kind or ref than the task's).
    settlement: str | None = None
    # While not settled: the delivery that last failed, and why (a download that keeps failing).
    attempts: int | None = None
    last_failure: str | None = None
    last_failure_at: str | None = None
    items: list[Item] = Field(default_factory=list)
    media: list[MediaRef] = Field(default_factory=list)
    warnings: list[str] = Field(default_factory=list)
    body: Any = None
    redeliveries: list[RedeliveryView] = Field(default_factory=list)


class EventView(BaseModel):
    """An event published for the task (SNS), as it was sent."""

    event_id: str
    event: str
    status: str
    notified_at: str
    message: dict[str, Any] | None = None


class TaskView(BaseModel):
    """A task as a reader sees it (the CLI's `task --json`, the console): the task, its stages in the
    order they arrived, the items of its highest settled stage, its assets and the events sent.

    Until archive has settled its first stage a task has no task item yet: it is then shown from its
    stages (status the highest received, no outcome).
    """

    task_id: str
    kind: Kind
    ref: str | None = None
    status: Stage
    outcome: str | None = None
    created_at: str
    updated_at: str
    stages: list[StageView]
    items: list[Item]
    assets: list[Asset]
    events: list[EventView] = Field(default_factory=list)


class TaskPage(BaseModel):
    """One page of tasks, newest first; `next_cursor` reads the next page (None after the last one)."""

    tasks: list[TaskRecord]
    next_cursor: str | None = None


class Reader:
    def __init__(self, settings: ReaderSettings) -> None:
        self.settings = settings
        self._records = RecordStore(settings.table_name)
        self._bodies = BodyStore(settings.bucket_name)

    @classmethod
    def from_environment(cls) -> Reader:
        return cls(load_settings(ReaderSettings))

    @classmethod
    def from_stack(cls, stack_name: str) -> Reader:
        return cls(settings_from_stack(stack_name, ReaderSettings))

    def get_task(self, task_id: str) -> TaskView | None:
        """The whole task (one consistent Query), or None when no callback for it was recorded."""
        items = self._records.query_task(task_id)
        stages = [self._stage_view(i, items) for i in items if i.get("type") == "stage"]
        if not stages:
            return None
        stages.sort(key=lambda s: s.received_at)
        assets = [Asset.model_validate(i) for i in items if i.get("type") == "asset"]
        events = [_event_view(i) for i in items if i.get("type") in ("outcome", "progress")]
        events.sort(key=lambda e: e.notified_at)
        task_item = next((i for i in items if i.get("type") == "task"), None)
        owned = [s for s in stages if s.settlement != "quarantined"] or stages
        if task_item is not None:
            task = TaskRecord.model_validate(task_item)
        else:
            first = owned[0]
            task = TaskRecord(
                task_id=task_id,
                kind=first.kind,
                ref=first.ref,
                status=max((s.stage for s in owned), key=lambda stage: stage.rank),
                created_at=first.received_at,
                updated_at=owned[-1].received_at,
            )
        with_items = sorted((s for s in owned if s.items), key=lambda s: s.stage.rank)
        return TaskView(
            **task.model_dump(),
            stages=stages,
            items=with_items[-1].items if with_items else [],
            assets=assets,
            events=events,
        )

    def _stage_view(self, item: dict[str, Any], task_items: list[dict[str, Any]]) -> StageView:
        record = StageRecord.model_validate(item)
        body = body_of(item, self._bodies)
        view = StageView.model_validate(record.model_dump())
        view.body = _readable(body)
        try:
            callback = normalise_body(record.kind, body)
        except InvalidCallback as invalid:
            view.warnings = [f"not readable with this version: {invalid.reason}"]
        else:
            view.code, view.msg, view.error = callback.code, callback.msg, callback.error
            view.items, view.media, view.warnings = callback.items, callback.media, callback.warnings
        identity = (record.stage.value, record.kind.value, record.ref)
        view.redeliveries = [
            RedeliveryView(
                received_at=again[keys.RECEIVED_AT],
                body_sha256=again["body_sha256"],
                body=_readable(body_of(again, self._bodies)) if has_body(again) else None,
            )
            for again in task_items
            if again.get("type") == "redelivery"
            and (again["stage"], again["kind"], again.get(keys.REF)) == identity
        ]
        view.duplicates = len(view.redeliveries)
        return view

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

    def list_tasks_page(
        self,
        *,
        kind: Kind | str | None = None,
        status: TaskStatus | str | None = None,
        ref: str | None = None,
        since: datetime | None = None,
        limit: int = 50,
        cursor: str | None = None,
    ) -> TaskPage:
        """A page of tasks, newest first, and a cursor for the next page.

        One `by-kind-time` Query per kind (one `by-ref` Query when `ref` is given), merged by time and
        read one task past the page, so that the cursor is only there when there is more. The cursor says
        where the page ended: tasks created since do not shift later pages. A cursor this method did not
        make is a `ValueError`.
        """
        wanted = _TaskFilter.of(kind, status)
        limit = _check_limit(limit)
        before = None if cursor is None else _cursor_time_key(cursor)
        partitions = (
            [(keys.BY_REF_INDEX, keys.REF, ref)]
            if ref is not None
            else [
                (keys.BY_KIND_TIME_INDEX, keys.KIND_KEY, each.value)
                for each in ([wanted.kind] if wanted.kind else list(Kind))
            ]
        )
        sources = [
            self._query_index(*partition, since=since, before=before, page_size=limit + 1)
            for partition in partitions
        ]
        newest_first = heapq.merge(*sources, key=lambda item: str(item[keys.TIME_KEY]), reverse=True)
        matching = (
            (str(item[keys.TIME_KEY]), task)
            for item in newest_first
            if item.get("type") == "task" and wanted.matches(task := TaskRecord.model_validate(item))
        )
        page = list(islice(matching, limit + 1))
        if len(page) <= limit:
            return TaskPage(tasks=[task for _, task in page])
        last_time_key = page[limit - 1][0]
        return TaskPage(tasks=[task for _, task in page[:limit]], next_cursor=_make_cursor(last_time_key))

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
        self,
        index: str,
        partition: str,
        value: str,
        *,
        since: datetime | None,
        newest_first: bool = True,
        before: str | None = None,
        page_size: int | None = None,
    ) -> Iterator[dict[str, Any]]:
        """An index's items of one partition created since `since` and (`before`: a time key) before it,
        read `page_size` items per Query page (DynamoDB's 1 MB pages by default)."""
        values: dict[str, Any] = {":p": {"S": value}}
        if since is not None:
            values[":since"] = {"S": to_iso(since)}
        if before is not None:
            values[":before"] = {"S": before}
        # A key condition has one test of the sort key; BETWEEN includes `before`, left out below.
        time_condition = {
            (False, False): "",
            (True, False): " AND time_key >= :since",
            (False, True): " AND time_key < :before",
            (True, True): " AND time_key BETWEEN :since AND :before",
        }[since is not None, before is not None]
        items = self._records.query(
            IndexName=index,
            KeyConditionExpression="#p = :p" + time_condition,
            ExpressionAttributeNames={"#p": partition},
            ExpressionAttributeValues=values,
            ScanIndexForward=not newest_first,
            **({"Limit": page_size} if page_size else {}),
        )
        return (item for item in items if before is None or item[keys.TIME_KEY] != before)


def _readable(body: bytes) -> Any:
    """A body as JSON when it is JSON (parsed safely), else its text."""
    try:
        return parse_json(body)
    except InvalidJson:
        return body.decode("utf-8", "replace")


def _make_cursor(time_key: str) -> str:
    return base64.urlsafe_b64encode(json.dumps({"before": time_key}).encode()).decode()


def _cursor_time_key(cursor: str) -> str:
    """The time key a cursor of `list_tasks_page` holds; a `ValueError` for anything else."""
    try:
        value = json.loads(base64.urlsafe_b64decode(cursor.encode("ascii")))
    except (UnicodeError, binascii.Error, json.JSONDecodeError):
        value = None
    before = value.get("before") if isinstance(value, dict) else None
    if not isinstance(before, str) or not before:
        raise ValueError(f"{cursor!r} is not a cursor of this listing: start from the first page")
    return before


def _event_view(item: dict[str, Any]) -> EventView:
    message = item.get("message")
    return EventView(
        event_id=item["event_id"],
        event=item["event"],
        status=item["status"],
        notified_at=item["notified_at"],
        message=json.loads(zlib.decompress(message)) if message else None,
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
