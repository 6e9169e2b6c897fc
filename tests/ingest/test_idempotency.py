"""DESIGN §1, §4-§5: one stage record per (task, stage), two round trips, and retries that repair."""

from __future__ import annotations

import json
import threading
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest
from moto.core.models import botocore_stubber

from suno_callbacks.dal import keys
from suno_callbacks.dal.aws import client
from suno_callbacks.dal.bodies import BodyStore
from suno_callbacks.dal.queue import ArchiveQueue
from suno_callbacks.dal.records import RecordStore
from suno_callbacks.logic.ingest import Answer, CallbackRequest, Clock, receive_callback
from suno_callbacks.logic.signing import SigningKeys
from suno_callbacks.models.settings import IngestSettings, load_settings
from tests.ingest.conftest import BUCKET, CURRENT_SECRET, TABLE, Aws, post, signed_path, stage_key
from tests.ingest.faults import unavailable


def music(stage: str, task_id: str = "task-1", *, media: bool = True) -> dict[str, Any]:
    with_media = media and stage != "text"
    tracks = [{"id": "clip-1", "audio_url": "https://cdn1.suno.ai/clip-1.mp3"}] if with_media else []
    return {"code": 200, "msg": "ok", "data": {"callbackType": stage, "task_id": task_id, "data": tracks}}


STAGE = stage_key("complete", "music")


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


def test_fifty_concurrent_deliveries_give_one_record_one_settle_and_one_event(
    aws: Aws, atomic_calls: None
) -> None:
    settings = load_settings(IngestSettings)
    query = signed_path("music").split("?")[1]
    request = CallbackRequest(
        kind="music",
        body=json.dumps(music("complete", media=False)).encode(),  # settled here without a download
        query=dict(part.split("=", 1) for part in query.split("&")),
        headers={},
    )
    store, queue, bodies = RecordStore(TABLE), ArchiveQueue(aws.queue_url), BodyStore(BUCKET)
    signing_keys = SigningKeys(current=CURRENT_SECRET)  # type: ignore[arg-type]
    start = threading.Barrier(50)

    def deliver(_: int) -> Answer:
        start.wait()
        return receive_callback(
            request,
            settings=settings,
            signing_keys=signing_keys,
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
    assert len(aws.redeliveries("task-1")) == 49
    aws.settle()  # archive takes the queue: the repeats of the message were dropped by SQS
    [event] = aws.published()
    assert (event["event"], event["task_id"]) == ("task.completed", "task-1")
    [stage] = [item for item in aws.all_items() if item["type"] == "stage"]
    assert stage["settlement"] == "settled"


@pytest.mark.parametrize("order", [["text", "first", "complete"], ["complete", "first"], ["first", "text"]])
def test_every_stage_is_recorded_and_queued_in_its_task_group(aws: Aws, order: list[str]) -> None:
    for stage in order:
        assert post("music", music(stage))[1]["status"] == "received"
    stages = {sk for sk in aws.task_items("task-1") if sk.startswith("STAGE#")}
    assert stages == {stage_key(s, "music") for s in order}
    assert [m["stage"] for m in aws.queued()] == order  # one group, in arrival order


def test_sqs_fault_answers_503_and_the_redelivery_queues_the_stage(aws: Aws) -> None:
    with unavailable("sqs", "SendMessage"):
        status, _ = post("music", music("complete"))
    assert status == 503
    assert STAGE in aws.task_items("task-1")  # stored, and listed as unsettled for the sweep
    assert aws.queued() == []

    status, answer = post("music", music("complete"))  # the provider's retry, a minute later

    assert (status, answer["status"]) == (200, "duplicate")
    [message] = aws.queued()
    assert (message["task_id"], message["stage"]) == ("task-1", "complete")


def test_a_redelivery_of_a_settled_stage_queues_nothing(aws: Aws) -> None:
    post("music", music("complete"))
    aws.queued()
    RecordStore(TABLE).update(keys.task_pk("task-1"), STAGE, "SET settled_at = :now", {":now": "2026-11-22"})

    assert post("music", music("complete"))[1]["status"] == "duplicate"

    assert aws.queued() == []
    assert len(aws.redeliveries("task-1")) == 1


def test_a_new_stage_costs_two_round_trips_and_a_duplicate_three_until_it_is_settled(aws: Aws) -> None:
    calls: list[str] = []

    def count(model: Any, **_: Any) -> None:
        calls.append(model.name)

    for service in ("dynamodb", "sqs"):
        client(service).meta.events.register("before-call", count)
    post("music", music("complete"))  # the signing secret is read once and cached
    new, calls[:] = list(calls), []
    post("music", music("complete"))
    assert new == ["PutItem", "SendMessage"]
    # not settled yet: queued again (SQS drops the repeat), and the redelivery recorded
    assert calls == ["PutItem", "SendMessage", "PutItem"]
