"""The sweep against moto: which stages it queues again, which it leaves alone, and that it never Scans."""

from __future__ import annotations

import contextlib
import json
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import boto3
import pytest
from moto import mock_aws

from suno_callbacks.dal.aws import client
from suno_callbacks.dal.bodies import BodyStore
from suno_callbacks.dal.queue import ArchiveQueue
from suno_callbacks.dal.schema import table_definition
from suno_callbacks.dal.settlement import SettlementStore
from suno_callbacks.dal.sweep_store import SweepStore
from suno_callbacks.errors import StoreUnavailable
from suno_callbacks.handlers import sweep as sweep_handler
from suno_callbacks.local.emulator import FIFO_ATTRIBUTES
from suno_callbacks.logic.ingest import Clock, Recorder
from suno_callbacks.logic.normalise import normalise_body
from suno_callbacks.logic.sweep import SweepReport, SweepWindow, sweep
from suno_callbacks.models.kinds import Kind, Stage
from suno_callbacks.models.messages import ArchiveRequest
from suno_callbacks.models.records import StageRecord
from suno_callbacks.timestamps import to_iso

TABLE = "suno-callbacks-sweep-test"
BUCKET = "suno-callbacks-sweep-media"
NOW = datetime(2026, 3, 20, 12, 0, tzinfo=UTC)
WINDOW = SweepWindow(
    now=NOW, source_retention=timedelta(days=14), grace=timedelta(minutes=15), near_expiry=timedelta(days=12)
)


@dataclass
class Table:
    queue_url: str

    @property
    def store(self) -> SweepStore:
        return SweepStore(TABLE)

    def stage(
        self,
        task_id: str,
        *,
        age: timedelta,
        stage: Stage = Stage.COMPLETE,
        kind: Kind = Kind.MUSIC,
        settled: bool = False,
        now: datetime = NOW,
    ) -> None:
        """A stage as ingest records it `age` before `now` (never queued), and, `settled`, as archive
        leaves it."""
        body = {"code": 200, "msg": "ok", "data": {"callbackType": stage.value, "task_id": task_id}}
        recorder = Recorder(
            store=self.store,
            queue=_NeverQueued(),  # type: ignore[arg-type]
            bodies=BodyStore(BUCKET),
            clock=Clock(now - age),
            record_ttl_days=0,
        )
        with contextlib.suppress(StoreUnavailable):
            recorder.record(normalise_body(kind, json.dumps(body).encode()), None, json.dumps(body).encode())
        if settled:
            [item] = [i for i in self.store.query_task(task_id) if i["stage"] == stage.value]
            SettlementStore(self.store).mark_settled(
                StageRecord.model_validate(item), settlement="settled", now=to_iso(now)
            )

    def requeued(self) -> list[dict[str, Any]]:
        messages = client("sqs").receive_message(QueueUrl=self.queue_url, MaxNumberOfMessages=10)
        return [json.loads(m["Body"]) for m in messages.get("Messages", [])]


class _NeverQueued:
    """SQS down through every provider retry: the stage is stored, its message never sent."""

    def send(self, request: ArchiveRequest) -> None:
        raise StoreUnavailable("SQS down")


@pytest.fixture
def table(monkeypatch: pytest.MonkeyPatch) -> Iterator[Table]:
    with mock_aws():
        boto3.client("dynamodb").create_table(**table_definition(TABLE))
        boto3.client("s3").create_bucket(Bucket=BUCKET)
        queue_url = boto3.client("sqs").create_queue(QueueName="archive.fifo", Attributes=FIFO_ATTRIBUTES)[
            "QueueUrl"
        ]
        monkeypatch.setenv("SUNO_CALLBACKS_TABLE", TABLE)
        monkeypatch.setenv("SUNO_CALLBACKS_QUEUE_URL", queue_url)
        yield Table(queue_url)


def run(table: Table) -> SweepReport:
    return sweep(store=table.store, queue=ArchiveQueue(table.queue_url), window=WINDOW)


def test_a_stage_never_queued_is_queued_by_the_sweep(table: Table) -> None:
    # GIVEN a complete stage recorded a day ago while SQS was down through every provider retry
    table.stage("t-1", age=timedelta(days=1))
    # WHEN the sweep runs
    report = run(table)
    # THEN the stage is sent to the archive queue, as ingest would have sent it
    assert report == SweepReport(requeued=1, near_expiry=0)
    assert table.requeued() == [
        {
            "v": 2,
            "task_id": "t-1",
            "stage": "complete",
            "kind": "music",
            "received_at": to_iso(NOW - timedelta(days=1)),
            "part": 0,
        }
    ]


def test_settled_young_and_expired_stages_are_left_alone(table: Table) -> None:
    # GIVEN a settled stage, one still within the grace period and one whose media are already gone
    table.stage("settled", age=timedelta(days=1), settled=True)
    table.stage("young", age=timedelta(minutes=5))
    table.stage("expired", age=timedelta(days=15))
    # WHEN the sweep runs, THEN nothing is sent
    assert run(table) == SweepReport()
    assert table.requeued() == []


def test_every_stage_is_swept_the_media_less_ones_too(table: Table) -> None:
    # archive owns the task: a `text` stage not settled leaves the task without its item and status
    table.stage("text-only", age=timedelta(hours=2), stage=Stage.TEXT)
    table.stage("first", age=timedelta(hours=2), stage=Stage.FIRST)
    assert run(table).requeued == 2
    assert sorted(m["task_id"] for m in table.requeued()) == ["first", "text-only"]


def test_every_kind_is_swept_and_late_stages_are_counted(table: Table) -> None:
    # GIVEN unsettled stages of two kinds, one of them 13 days old (its media expire tomorrow)
    table.stage("video", age=timedelta(days=13), kind=Kind.VIDEO)
    table.stage("lyrics", age=timedelta(days=2), kind=Kind.LYRICS)
    # WHEN the sweep runs
    report = run(table)
    # THEN both are queued again, and one is near expiry
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
    table.stage("t-1", age=timedelta(days=1))
    recording = _RecordingClient(client("dynamodb"))
    sweep(store=SweepStore(TABLE, dynamodb=recording), queue=ArchiveQueue(table.queue_url), window=WINDOW)
    assert recording.operations == {"query"}  # the sparse index projects all a message needs


def test_the_handler_reports_and_emits_its_metrics(table: Table, capsys: pytest.CaptureFixture[str]) -> None:
    # GIVEN an unsettled stage received a day before the real clock
    table.stage("t-1", age=timedelta(days=1), now=datetime.now(UTC))

    @dataclass
    class Context:
        function_name: str = "sweep"
        memory_limit_in_mb: int = 256
        invoked_function_arn: str = "arn:aws:lambda:us-east-1:123456789012:function:sweep"
        aws_request_id: str = "request-1"

        def get_remaining_time_in_millis(self) -> int:
            return 120_000

    # WHEN the scheduled event arrives
    result = sweep_handler.lambda_handler({"source": "aws.events"}, Context())  # type: ignore[arg-type]
    # THEN it queued the stage again and emitted both sweep metrics
    assert result == {"requeued": 1, "near_expiry": 0}
    emitted = capsys.readouterr().out
    assert '"StagesRequeued"' in emitted
    assert '"StagesNearExpiry"' in emitted
