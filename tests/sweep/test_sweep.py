"""The sweep against moto: which tasks it re-queues, which it leaves alone, and that it never Scans."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import boto3
import pytest
from moto import mock_aws

from suno_callbacks.dal import keys
from suno_callbacks.dal.aws import client
from suno_callbacks.dal.queue import ArchiveQueue
from suno_callbacks.dal.schema import table_definition
from suno_callbacks.dal.sweep_store import SweepStore
from suno_callbacks.handlers import sweep as sweep_handler
from suno_callbacks.logic.sweep import SweepReport, SweepWindow, sweep
from suno_callbacks.models.kinds import Kind, Stage

TABLE = "suno-callbacks-sweep-test"
NOW = datetime(2026, 3, 20, 12, 0, tzinfo=UTC)
WINDOW = SweepWindow(
    now=NOW, source_retention=timedelta(days=14), grace=timedelta(minutes=15), near_expiry=timedelta(days=12)
)
AUDIO = {"item_id": "a1", "field": "audio", "url": "https://cdn1.suno.ai/a1.mp3", "media_type": "audio"}


def _iso(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%S.%fZ")


@dataclass
class Table:
    queue_url: str

    @property
    def store(self) -> SweepStore:
        return SweepStore(TABLE)

    def task(
        self,
        task_id: str,
        *,
        age: timedelta,
        stage: Stage = Stage.COMPLETE,
        kind: Kind = Kind.MUSIC,
        media: bool = True,
        outcome: str | None = None,
        now: datetime = NOW,
    ) -> None:
        """A task as ingest (and, with `outcome`, archive) leaves it, created `age` before `now`."""
        created = _iso(now - age)
        self.store.put_new(
            {
                keys.PK: keys.task_pk(task_id),
                keys.SK: keys.stage_sk(stage),
                "type": "stage",
                "task_id": task_id,
                "kind": kind.value,
                "stage": stage.value,
                "code": 200,
                "received_at": created,
                "body_sha256": "0" * 64,
                "media": [AUDIO] if media else [],
            }
        )
        self.store.advance_task(
            task_id=task_id, kind=kind.value, stage=stage, ref=None, now=created, expires_at=None
        )
        if outcome:
            client("dynamodb").update_item(
                TableName=TABLE,
                Key={keys.PK: {"S": keys.task_pk(task_id)}, keys.SK: {"S": keys.TASK_SK}},
                UpdateExpression="SET outcome = :outcome",
                ExpressionAttributeValues={":outcome": {"S": outcome}},
            )

    def requeued(self) -> list[dict[str, Any]]:
        messages = client("sqs").receive_message(QueueUrl=self.queue_url, MaxNumberOfMessages=10)
        return [json.loads(m["Body"]) for m in messages.get("Messages", [])]


@pytest.fixture
def table(monkeypatch: pytest.MonkeyPatch) -> Iterator[Table]:
    with mock_aws():
        boto3.client("dynamodb").create_table(**table_definition(TABLE))
        queue_url = boto3.client("sqs").create_queue(QueueName="archive")["QueueUrl"]
        monkeypatch.setenv("SUNO_CALLBACKS_TABLE", TABLE)
        monkeypatch.setenv("SUNO_CALLBACKS_QUEUE_URL", queue_url)
        yield Table(queue_url)


def run(table: Table) -> SweepReport:
    return sweep(store=table.store, queue=ArchiveQueue(table.queue_url), window=WINDOW)


def test_an_unsettled_task_is_requeued_for_its_highest_stage(table: Table) -> None:
    # GIVEN a task whose complete stage was recorded a day ago but never archived
    table.task("t-1", age=timedelta(days=1))
    # WHEN the sweep runs
    report = run(table)
    # THEN the complete stage is sent to the archive queue again, as ingest would have sent it
    assert report == SweepReport(requeued=1, near_expiry=0)
    assert table.requeued() == [
        {
            "v": 1,
            "task_id": "t-1",
            "stage": "complete",
            "kind": "music",
            "received_at": _iso(NOW - timedelta(days=1)),
        }
    ]


def test_settled_young_and_expired_tasks_are_left_alone(table: Table) -> None:
    # GIVEN a settled task, one still within the grace period and one whose media are already gone
    table.task("settled", age=timedelta(days=1), outcome="completed")
    table.task("young", age=timedelta(minutes=5))
    table.task("expired", age=timedelta(days=15))
    # WHEN the sweep runs, THEN nothing is sent
    assert run(table) == SweepReport()
    assert table.requeued() == []


def test_stages_without_media_that_end_nothing_are_not_requeued(table: Table) -> None:
    # GIVEN a task that only reached `text` (no media, not terminal) and one at `first` with media
    table.task("text-only", age=timedelta(hours=2), stage=Stage.TEXT, media=False)
    table.task("first", age=timedelta(hours=2), stage=Stage.FIRST)
    # WHEN the sweep runs, THEN only the stage with media goes to the archive
    assert run(table).requeued == 1
    assert [m["task_id"] for m in table.requeued()] == ["first"]


def test_every_kind_is_swept_and_late_tasks_are_counted(table: Table) -> None:
    # GIVEN unsettled tasks of two kinds, one of them 13 days old (its media expire tomorrow)
    table.task("video", age=timedelta(days=13), kind=Kind.VIDEO)
    table.task("lyrics", age=timedelta(days=2), kind=Kind.LYRICS, media=False)
    # WHEN the sweep runs
    report = run(table)
    # THEN both are re-queued (lyrics: terminal), and one is near expiry
    assert report == SweepReport(requeued=2, near_expiry=1)
    assert sorted(m["kind"] for m in table.requeued()) == ["lyrics", "video"]


class _RecordingClient:
    """Wraps the DynamoDB client and remembers which operations were called."""

    def __init__(self, inner: Any) -> None:
        self.inner = inner
        self.operations: set[str] = set()

    def __getattr__(self, name: str) -> Any:
        self.operations.add(name)
        return getattr(self.inner, name)


def test_the_sweep_queries_the_index_and_never_scans(table: Table) -> None:
    table.task("t-1", age=timedelta(days=1))
    recording = _RecordingClient(client("dynamodb"))
    sweep(store=SweepStore(TABLE, dynamodb=recording), queue=ArchiveQueue(table.queue_url), window=WINDOW)
    assert recording.operations == {"query", "get_item"}


def test_the_handler_reports_and_emits_its_metrics(table: Table, capsys: pytest.CaptureFixture[str]) -> None:
    # GIVEN an unsettled task created a day before the real clock
    table.task("t-1", age=timedelta(days=1), now=datetime.now(UTC))

    @dataclass
    class Context:
        function_name: str = "sweep"
        memory_limit_in_mb: int = 256
        invoked_function_arn: str = "arn:aws:lambda:us-east-1:123456789012:function:sweep"
        aws_request_id: str = "request-1"

    # WHEN the scheduled event arrives
    result = sweep_handler.lambda_handler({"source": "aws.events"}, Context())  # type: ignore[arg-type]
    # THEN it re-queued the task and emitted both sweep metrics
    assert result == {"requeued": 1, "near_expiry": 0}
    emitted = capsys.readouterr().out
    assert '"TasksRequeued"' in emitted
    assert '"TasksNearExpiry"' in emitted
