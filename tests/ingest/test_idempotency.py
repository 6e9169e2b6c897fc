"""DESIGN §4-§5: one stage record per (task, stage), monotonic status, and retries that repair."""

from __future__ import annotations

import json
import threading
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta
from typing import Any

import pytest
from moto.core.models import botocore_stubber

from suno_callbacks.dal.bodies import BodyStore
from suno_callbacks.dal.queue import ArchiveQueue
from suno_callbacks.dal.records import RecordStore
from suno_callbacks.logic import ingest
from suno_callbacks.logic.ingest import Answer, CallbackRequest, Clock, receive_callback
from suno_callbacks.logic.signing import SigningKeys
from suno_callbacks.models.settings import IngestSettings, load_settings
from tests.ingest.conftest import BUCKET, CURRENT_SECRET, TABLE, Aws, post, signed_path
from tests.ingest.faults import unavailable


def music(stage: str, task_id: str = "task-1") -> dict[str, Any]:
    tracks = [] if stage == "text" else [{"id": "clip-1", "audio_url": "https://cdn1.suno.ai/clip-1.mp3"}]
    return {"code": 200, "msg": "ok", "data": {"callbackType": stage, "task_id": task_id, "data": tracks}}


def task_status(aws: Aws, task_id: str = "task-1") -> str:
    return str(aws.task_items(task_id)["TASK"]["status"])


@pytest.fixture
def atomic_calls(aws: Aws, monkeypatch: pytest.MonkeyPatch) -> None:
    """Each emulated AWS call is atomic, as DynamoDB's single-item operations are.

    moto's in-process backend is not thread-safe (it iterates items while another thread writes them);
    serialising each call keeps what matters here: calls from 50 deliveries still interleave freely.
    """
    lock = threading.Lock()
    process = botocore_stubber.process_request

    def atomic(request: Any) -> Any:
        with lock:
            return process(request)

    monkeypatch.setattr(botocore_stubber, "process_request", atomic)


def test_fifty_concurrent_deliveries_give_one_record_and_one_message(aws: Aws, atomic_calls: None) -> None:
    settings = load_settings(IngestSettings)
    query = signed_path("music").split("?")[1]
    request = CallbackRequest(
        kind="music",
        body=json.dumps(music("complete")).encode(),
        query=dict(part.split("=", 1) for part in query.split("&")),
        headers={},
    )
    store, queue, bodies = RecordStore(TABLE), ArchiveQueue(aws.queue_url), BodyStore(BUCKET)
    keys = SigningKeys(current=CURRENT_SECRET)  # type: ignore[arg-type]
    start = threading.Barrier(50)

    def deliver(_: int) -> Answer:
        start.wait()
        return receive_callback(
            request,
            settings=settings,
            signing_keys=keys,
            store=store,
            queue=queue,
            bodies=bodies,
            clock=Clock.now(),
        ).answer

    with ThreadPoolExecutor(max_workers=50) as pool:
        answers = list(pool.map(deliver, range(50)))

    assert answers.count(Answer.RECEIVED) == 1
    assert answers.count(Answer.DUPLICATE) == 49
    stages = [item for item in aws.all_items() if item["type"] == "stage"]
    assert len(stages) == 1
    assert stages[0]["duplicates"] == 49
    assert len(aws.queued()) == 1


@pytest.mark.parametrize(
    ("order", "final"),
    [
        (["text", "first", "complete"], "complete"),
        (["complete", "first"], "complete"),
        (["complete", "text", "first"], "complete"),
        (["first", "text"], "first"),
        (["error", "complete", "first"], "error"),
        (["complete", "error"], "error"),
    ],
)
def test_status_only_moves_up_whatever_the_order(aws: Aws, order: list[str], final: str) -> None:
    for stage in order:
        code = 501 if stage == "error" else 200
        assert post("music", {**music(stage), "code": code})[1]["status"] == "received"
    assert task_status(aws) == final
    assert {sk for sk in aws.task_items("task-1") if sk.startswith("STAGE#")} == {f"STAGE#{s}" for s in order}


def test_text_stage_is_recorded_but_not_queued(aws: Aws) -> None:
    post("music", music("text"))
    assert aws.queued() == []
    assert task_status(aws) == "text"


def test_sqs_fault_answers_503_and_the_redelivery_queues_the_stage(aws: Aws) -> None:
    with unavailable("sqs", "SendMessage"):
        status, _ = post("music", music("complete"))
    assert status == 503
    assert "queued_at" not in aws.task_items("task-1")["STAGE#complete"]
    assert aws.queued() == []

    status, answer = post("music", music("complete"))  # the provider's retry, a minute later

    assert (status, answer["status"]) == (200, "duplicate")
    [message] = aws.queued()
    assert (message["task_id"], message["stage"]) == ("task-1", "complete")
    assert "queued_at" in aws.task_items("task-1")["STAGE#complete"]
    assert post("music", music("complete"))[1]["status"] == "duplicate"
    assert aws.queued() == []  # queued once, not once per retry


def test_dynamodb_fault_after_the_stage_write_is_repaired_by_the_retry(aws: Aws) -> None:
    with unavailable("dynamodb", "UpdateItem"):  # the task status update
        assert post("music", music("complete"))[0] == 503
    assert "TASK" not in aws.task_items("task-1")

    assert post("music", music("complete"))[1]["status"] == "duplicate"

    assert task_status(aws) == "complete"
    assert len(aws.queued()) == 1


def test_a_stage_left_unqueued_by_a_crash_is_queued_once_its_lease_expires(
    aws: Aws, monkeypatch: pytest.MonkeyPatch
) -> None:
    # SQS fails and so does the lease release: as if the function died right after the stage write.
    with unavailable("sqs", "SendMessage"), unavailable("dynamodb", "UpdateItem", times=2):
        assert post("music", music("complete"))[0] == 503
    assert post("music", music("complete"))[1]["status"] == "duplicate"
    assert aws.queued() == [], "within the lease, a duplicate must not queue (the first attempt may still)"

    later = Clock.now().moment + timedelta(seconds=load_settings(IngestSettings).enqueue_lease_seconds + 1)
    monkeypatch.setattr(ingest.Clock, "now", classmethod(lambda cls: cls(later)))
    assert post("music", music("complete"))[1]["status"] == "duplicate"
    assert len(aws.queued()) == 1


def test_a_fault_on_marking_queued_still_answers_received(aws: Aws) -> None:
    # new stage: PutItem, UpdateItem (task), SendMessage, UpdateItem (mark queued) <- fails
    with unavailable("dynamodb", "UpdateItem", after=1) as calls:
        assert post("music", music("complete"))[1]["status"] == "received"
    assert calls["failed"] == 1
    assert len(aws.queued()) == 1  # the stage is stored and queued: nothing is lost
    assert task_status(aws) == "complete"
