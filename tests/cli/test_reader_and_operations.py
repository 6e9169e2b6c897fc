"""The reader API and the operator commands, against moto, with records written by the real ingest handler."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from infra import constants
from suno_callbacks.cli import operations
from suno_callbacks.cli.commands import main
from suno_callbacks.dal import keys
from suno_callbacks.dal.aws import client
from suno_callbacks.dal.queue import ArchiveQueue
from suno_callbacks.dal.records import RecordStore
from suno_callbacks.local.emulator import FIFO_ATTRIBUTES
from suno_callbacks.logic import ingest
from suno_callbacks.logic.normalise import InvalidCallback
from suno_callbacks.models.kinds import Kind, Stage
from suno_callbacks.models.messages import ArchiveRequest
from suno_callbacks.models.settings import CliSettings, load_settings
from suno_callbacks.reader import STACK_OUTPUTS, Reader
from tests.cli.conftest import lyrics
from tests.conftest import FIXTURES, load_fixture
from tests.ingest.conftest import BASE_URL, Aws, post


@pytest.fixture
def settings(aws: Aws, monkeypatch: pytest.MonkeyPatch) -> CliSettings:
    monkeypatch.setenv("SUNO_CALLBACKS_BASE_URL", BASE_URL)
    return load_settings(CliSettings)


def test_reader_finds_tasks_by_ref_kind_status_and_time(aws: Aws, settings: CliSettings) -> None:
    post("lyrics", lyrics("t-1"), ref="job-1")
    post("lyrics", lyrics("t-2"), ref="job-2")
    post("music", load_fixture(FIXTURES / "examples" / "music.failure.json"), ref="job-1")
    aws.settle()  # archive creates the tasks
    reader = Reader(settings)

    assert [t.ref for t in reader.find_tasks_by_ref("job-2")] == ["job-2"]
    assert {t.kind for t in reader.find_tasks_by_ref("job-1")} == {Kind.LYRICS, Kind.MUSIC}
    assert [t.task_id for t in reader.find_tasks_by_ref("job-1", kind=Kind.LYRICS)] == ["t-1"]
    assert [t.kind for t in reader.find_tasks_by_ref("job-1", status=Stage.ERROR)] == [Kind.MUSIC]
    assert reader.find_tasks_by_ref("job-1", since=datetime.now(UTC) + timedelta(minutes=1)) == []
    assert len(reader.find_tasks_by_ref("job-1", limit=1)) == 1
    assert [t.task_id for t in reader.list_tasks(kind=Kind.LYRICS)] == ["t-2", "t-1"]
    assert [t.kind for t in reader.list_tasks(status=Stage.ERROR)] == [Kind.MUSIC]
    assert len(reader.list_tasks()) == 3
    assert reader.list_tasks(since=datetime.now(UTC) + timedelta(minutes=1)) == []
    view = reader.get_task("t-1")
    assert view is not None and view.items[0].title == "Starry Night Dreams"
    assert reader.get_task("nope") is None


def test_reader_makes_callback_urls_that_ingest_accepts(settings: CliSettings) -> None:
    url = Reader(settings).callback_url("lyrics", ref="job-9")
    assert url.startswith(f"{BASE_URL}/callbacks/lyrics?ref=job-9&sig=")
    # The CLI prints the same URL.
    assert main(["url", "lyrics", "--ref", "job-9"]) == 0


def test_reader_presigns_archived_assets(settings: CliSettings) -> None:
    from suno_callbacks.models.events import Asset

    asset = Asset.model_validate(
        {
            "task_id": "t",
            "kind": "video",
            "item_id": "result",
            "field": "video",
            "state": "archived",
            "stage": "complete",
            "source_expires_at": "2026-12-06T00:00:00Z",
            "s3_key": "media/video/t/result/video.mp4",
            "updated_at": "2026-11-22T00:00:00Z",
        }
    )
    url = Reader(settings).presigned_url(asset, expires_in_seconds=60)
    assert "/media/video/t/result/video.mp4" in url
    assert "Expires=" in url and "Signature=" in url


def test_stack_outputs_are_the_stacks(settings: CliSettings) -> None:
    outputs = {v for k, v in vars(constants).items() if k.startswith("OUTPUT_")}
    assert set(STACK_OUTPUTS) <= outputs
    assert {
        "CallbackBaseUrl",
        "TableName",
        "BucketName",
        "QueueUrl",
        "DeadLetterQueueUrl",
        "SecretArn",
    } <= set(STACK_OUTPUTS)


def test_a_quarantined_callback_is_listed_and_replayed_once_the_model_accepts_it(
    aws: Aws, settings: CliSettings, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    # GIVEN a callback the model refused (as if a bug), quarantined by ingest
    def refuse(kind: Kind, body: bytes) -> Any:
        raise InvalidCallback("model bug")

    with monkeypatch.context() as patched:
        patched.setattr(ingest, "normalise_body", refuse)
        status, answer = post("lyrics", lyrics("t-q"), ref="job-q")
    assert (status, answer["status"]) == (200, "quarantined")
    capsys.readouterr()  # the handler's own logs
    assert main(["quarantine", "--json"]) == 0
    listed = json.loads(capsys.readouterr().out)
    assert [(q["kind"], q["reason"], q["ref"]) for q in listed] == [("lyrics", "model bug", "job-q")]

    # WHEN it is replayed with the fixed model
    assert main(["replay"]) == 0
    assert "received" in capsys.readouterr().out

    # THEN the task is recorded with its ref and queued, the item marked; a second replay does nothing
    view = Reader(settings).get_task("t-q")
    assert view is not None and view.ref == "job-q"
    assert [m["task_id"] for m in aws.queued()] == ["t-q"]
    [item] = operations.list_quarantine(settings)
    assert item.replayed_at is not None and item.replay_task_id == "t-q"
    assert operations.replay(settings, ids=[]) == []


def test_redrive_moves_every_dlq_message_back_in_its_task_group(
    aws: Aws, monkeypatch: pytest.MonkeyPatch
) -> None:
    sqs = client("sqs")
    dlq_url = sqs.create_queue(QueueName="archive-dlq.fifo", Attributes=FIFO_ATTRIBUTES)["QueueUrl"]
    monkeypatch.setenv("SUNO_CALLBACKS_DLQ_URL", dlq_url)
    dead = [
        ArchiveRequest(task_id=f"t-{n % 4}", stage=Stage.COMPLETE, kind=Kind.MUSIC, received_at="x", part=n)
        for n in range(13)
    ]
    for request in dead:  # as the queue moved them, a moment ago (within SQS's deduplication window)
        ArchiveQueue(dlq_url).send(request)
        ArchiveQueue(aws.queue_url).send(request)
    aws.queued()
    seen: list[tuple[int, int]] = []

    moved = operations.redrive(
        dlq_url, aws.queue_url, on_progress=lambda done, total: seen.append((done, total))
    )

    assert moved == 13
    redriven = sorted((m["task_id"], m["part"]) for m in aws.queued())
    assert redriven == sorted((r.task_id, r.part) for r in dead), "none dropped as a repeat"
    assert seen[0] == (0, 13) and seen[-1] == (13, 13)
    assert sqs.receive_message(QueueUrl=dlq_url).get("Messages", []) == []


def test_cli_errors_say_what_to_do(aws: Aws, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["task", "missing-task"]) == 1
    assert "suno-callbacks tasks" in capsys.readouterr().err
    assert main(["redrive"]) == 1
    assert "SUNO_CALLBACKS_DLQ_URL is not set" in capsys.readouterr().err


def test_every_page_of_a_query_is_read(aws: Aws, settings: CliSettings) -> None:
    for n in range(7):
        post("lyrics", lyrics(f"t-{n}"), ref="job-paged")
    aws.settle()
    store = RecordStore(settings.table_name)
    pages_of_two = store.query(
        IndexName=keys.BY_REF_INDEX,
        KeyConditionExpression="#r = :r",
        ExpressionAttributeNames={"#r": keys.REF},
        ExpressionAttributeValues={":r": {"S": "job-paged"}},
        Limit=2,
    )
    assert sorted(item["task_id"] for item in pages_of_two) == [f"t-{n}" for n in range(7)]
