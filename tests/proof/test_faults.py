"""DESIGN §9: a fault at, or a crash right after, any step of the pipeline, followed by the provider's retry
or SQS's redelivery, ends in the complete and correct state.

Each case plays one music task end to end: the provider posts `first` (one track's audio) and `complete`
(the same audio and a cover image) to the real ingest handler; the real archive handler consumes the queue
as Lambda's event source mapping does (partial batch failures come back; a crash brings the whole batch
back). One step fails, or the process dies right after it. Then the provider retries a callback that was
not answered 200, a minute later, and the queue is drained. The end state must be the same as without the
fault: one stage record per stage, both assets archived with the right bytes and SHA-256, exactly the
objects the asset records name (no orphan, no multipart upload left open), one logical notification per
outcome (copies share `event_id` and content), the completion record and the task's outcome, and empty
queues.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, ExitStack, contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from suno_callbacks.dal import keys
from suno_callbacks.dal.media_store import MediaStore
from suno_callbacks.dal.queue import ArchiveQueue
from suno_callbacks.dal.records import RecordStore
from suno_callbacks.dal.settlement import SettlementStore
from suno_callbacks.dal.sweep_store import SweepStore
from suno_callbacks.dal.topic import Topic
from suno_callbacks.errors import StoreUnavailable
from suno_callbacks.logic.sweep import SweepWindow, sweep
from tests.archive.conftest import MiB, Route
from tests.ingest.faults import unavailable
from tests.proof.conftest import TABLE, Crash, Pipeline, crash_after, fail_once, sha256

TASK = "proof-task-1"
TRACK = "track-1"


@dataclass(frozen=True)
class Media:
    audio: bytes
    image: bytes


def music(pipeline: Pipeline, stage: str, *, with_image: bool) -> dict[str, Any]:
    track: dict[str, Any] = {
        "id": TRACK,
        "title": "Proof",
        "tags": "rock",
        "duration": 12.5,
        "audio_url": pipeline.media.url("/audio.mp3"),
    }
    if with_image:
        track["image_url"] = pipeline.media.url("/cover.jpeg")
    return {"code": 200, "msg": "ok", "data": {"callbackType": stage, "task_id": TASK, "data": [track]}}


def serve(pipeline: Pipeline, audio_bytes: int) -> Media:
    media = Media(audio=os.urandom(audio_bytes), image=os.urandom(2_000))
    pipeline.media.serve("/audio.mp3", Route(body=media.audio))
    pipeline.media.serve("/cover.jpeg", Route(body=media.image, content_type="image/jpeg"))
    return media


def deliver_until_answered(pipeline: Pipeline, stage: str, *, with_image: bool, attempts: int = 4) -> None:
    """The provider's delivery: a non-200 answer or no answer (the function died) is retried later."""
    for _ in range(attempts):
        try:
            status, _ = pipeline.post("music", music(pipeline, stage, with_image=with_image))
        except Crash:
            status = 502  # API Gateway's answer when the function dies
        if status == 200:
            return
        pipeline.retry_later()
    raise AssertionError(f"{stage} was never answered 200")


def assert_complete_and_correct(pipeline: Pipeline, media: Media) -> None:
    items = pipeline.task_items(TASK)
    stages = sorted(sk for sk, item in items.items() if item["type"] == "stage")
    assert stages == [keys.stage_sk("complete", "music", None), keys.stage_sk("first", "music", None)]
    assert all(items[sk].get("settlement") == "settled" for sk in stages)
    assert not any(keys.UNSETTLED in items[sk] for sk in stages), "out of the sweep's index"
    task = items[keys.TASK_SK]
    assert task["status"] == "complete"
    assert task.get("outcome") == "completed", "the task item must say it is settled"

    assets = {sk: item for sk, item in items.items() if item.get("type") == "asset"}
    expected = {keys.asset_sk(TRACK, "audio"): media.audio, keys.asset_sk(TRACK, "image"): media.image}
    assert set(assets) == set(expected)
    objects = pipeline.objects()
    for sk, body in expected.items():
        asset = assets[sk]
        assert (asset["state"], asset["sha256"], asset["bytes"]) == ("archived", sha256(body), len(body))
        assert objects[asset["s3_key"]] == body
    assert set(objects) == {asset["s3_key"] for asset in assets.values()}, "no orphaned objects"
    assert pipeline.multipart_uploads() == [], "no multipart upload left open"

    events = pipeline.logical_events()
    outcomes = [e for e in events.values() if e["event"] in ("task.completed", "task.failed")]
    assert len(outcomes) == 1, "exactly one logical notification of the outcome"
    [outcome] = outcomes
    assert (outcome["event"], outcome["status"]) == ("task.completed", "completed")
    assert {(a["field"], a["sha256"]) for a in outcome["assets"]} == {
        ("audio", sha256(media.audio)),
        ("image", sha256(media.image)),
    }
    assert items[keys.OUTCOME_SK]["event_id"] == outcome["event_id"]
    progress = [e for e in events.values() if e["event"] == "task.progress"]
    assert len(progress) <= 1  # none if the outcome was out first: a late stage announces nothing
    if keys.progress_sk("first") in items:  # recorded only once published
        assert [items[keys.progress_sk("first")]["event_id"]] == [e["event_id"] for e in progress]
    assert pipeline.queue_depths() == (0, 0), "nothing left in the queue or the DLQ"
    assert [i for i in pipeline.all_items() if i["type"] == "quarantine"] == []


def fired(injected: Any) -> bool:
    """Whether an injected fault really happened (a test whose fault never fires proves nothing)."""
    if isinstance(injected, dict):  # tests.ingest.faults.unavailable
        return injected["failed"] > 0
    return bool(injected)  # crash_after, fail_once


# --- the steps, and what goes wrong at each ----------------------------------------------------------

Fault = Callable[[Pipeline], AbstractContextManager[Any]]


def _is_outcome(task_id: str, sk: str, *args: Any, **kwargs: Any) -> bool:
    return sk == keys.OUTCOME_SK


def _publishes_outcome(event: Any, *args: Any, **kwargs: Any) -> bool:
    return bool(event.event.value != "task.progress")


class _Recovering(dict[str, Route]):
    """Routes that answer 503 to the first request of each path, then serve the real route."""

    def __init__(self, routes: dict[str, Route]) -> None:
        super().__init__({path: Route(status=503) for path in routes})
        self.recovered = routes

    def get(self, path: str, default: Any = None) -> Any:  # type: ignore[override]
        route = super().get(path, default)
        if path in self.recovered:
            self[path] = self.recovered[path]
        return route


@contextmanager
def _download_fails(pipeline: Pipeline) -> Iterator[None]:
    """The media host answers 503 once per file (a transient failure), then recovers."""
    pipeline.media.routes = _Recovering(pipeline.media.routes)
    yield


INGEST_FAULTS: dict[str, Fault] = {
    "stage write fails": lambda p: unavailable("dynamodb", "PutItem"),
    "crash after stage write": lambda p: crash_after(RecordStore, "put_new"),
    "enqueue fails": lambda p: unavailable("sqs", "SendMessage"),
    "crash after enqueue": lambda p: crash_after(ArchiveQueue, "send"),
}

ARCHIVE_FAULTS: dict[str, Fault] = {
    "download fails": _download_fails,
    "S3 upload fails": lambda p: unavailable("s3", "PutObject"),
    "crash after S3 upload": lambda p: crash_after(MediaStore, "upload_stream"),
    "task item fails": lambda p: fail_once(SettlementStore, "open_task", StoreUnavailable("DynamoDB down")),
    "crash after task item": lambda p: crash_after(SettlementStore, "open_task"),
    "asset record fails": lambda p: unavailable("dynamodb", "PutItem"),
    "crash after asset record": lambda p: crash_after(SettlementStore, "put_asset"),
    "publish fails": lambda p: unavailable("sns", "Publish", times=2),
    "crash after publishing the outcome": lambda p: crash_after(Topic, "publish", when=_publishes_outcome),
    "completion record fails": lambda p: fail_once(
        SettlementStore, "record_notified", StoreUnavailable("DynamoDB down"), when=_is_outcome
    ),
    "crash after completion record": lambda p: crash_after(
        SettlementStore, "record_notified", when=_is_outcome
    ),
    "task outcome update fails": lambda p: fail_once(
        SettlementStore, "set_task_outcome", StoreUnavailable("DynamoDB down")
    ),
    "crash after task outcome update": lambda p: crash_after(SettlementStore, "set_task_outcome"),
    "settling the stage fails": lambda p: fail_once(
        SettlementStore, "mark_settled", StoreUnavailable("DynamoDB down")
    ),
    "crash after settling the stage": lambda p: crash_after(SettlementStore, "mark_settled"),
}


def test_without_a_fault_the_end_state_is_what_the_other_cases_must_reach(pipeline: Pipeline) -> None:
    media = serve(pipeline, 3_000)
    deliver_until_answered(pipeline, "first", with_image=False)
    deliver_until_answered(pipeline, "complete", with_image=True)
    pipeline.settle()

    assert_complete_and_correct(pipeline, media)
    assert len(pipeline.published()) == 2  # progress and outcome, each once
    assert pipeline.media.hits == {"/audio.mp3": 1, "/cover.jpeg": 1}


@pytest.mark.parametrize("fault", INGEST_FAULTS, ids=list(INGEST_FAULTS))
def test_an_ingest_fault_is_completed_by_the_providers_retry(pipeline: Pipeline, fault: str) -> None:
    media = serve(pipeline, 3_000)
    deliver_until_answered(pipeline, "first", with_image=False)

    with INGEST_FAULTS[fault](pipeline) as injected:
        status: int | None
        try:
            status, _ = pipeline.post("music", music(pipeline, "complete", with_image=True))
        except Crash:
            status = None
    assert fired(injected)
    assert status != 200

    pipeline.retry_later()  # the provider retries what was not answered 200, a minute later
    deliver_until_answered(pipeline, "complete", with_image=True)
    pipeline.settle()

    assert_complete_and_correct(pipeline, media)


@pytest.mark.parametrize("fault", ARCHIVE_FAULTS, ids=list(ARCHIVE_FAULTS))
def test_an_archive_fault_is_completed_by_the_queues_redelivery(pipeline: Pipeline, fault: str) -> None:
    media = serve(pipeline, 3_000)
    deliver_until_answered(pipeline, "first", with_image=False)
    deliver_until_answered(pipeline, "complete", with_image=True)

    with ARCHIVE_FAULTS[fault](pipeline) as injected:
        pipeline.settle()
    assert fired(injected) or pipeline.media.hits["/audio.mp3"] > 1

    assert_complete_and_correct(pipeline, media)


@pytest.mark.parametrize(
    "fault",
    [
        pytest.param(lambda: unavailable("s3", "UploadPart"), id="a part upload fails"),
        pytest.param(lambda: unavailable("s3", "CompleteMultipartUpload"), id="completing the upload fails"),
        pytest.param(lambda: crash_after(MediaStore, "upload_stream"), id="crash after the upload"),
    ],
)
def test_a_multipart_upload_that_fails_leaves_no_parts_and_is_redone(
    pipeline: Pipeline, fault: Callable[[], AbstractContextManager[Any]]
) -> None:
    media = serve(pipeline, 6 * MiB)  # over the 5 MiB part size: a multipart upload
    deliver_until_answered(pipeline, "first", with_image=False)
    deliver_until_answered(pipeline, "complete", with_image=True)

    with fault():
        pipeline.deliver()
    assert pipeline.multipart_uploads() == []
    pipeline.settle()

    assert_complete_and_correct(pipeline, media)


def test_every_step_fails_once_in_one_run_and_the_dlq_redrive_finishes_it(pipeline: Pipeline) -> None:
    """All archive faults at once (each at its first chance): more failures than the queue's receive limit,
    so messages reach the DLQ (and its alarm); redriving them, as the CLI does, completes the task."""
    media = serve(pipeline, 3_000)
    deliver_until_answered(pipeline, "first", with_image=False)
    deliver_until_answered(pipeline, "complete", with_image=True)

    redriven = 0
    with _all(pipeline, ARCHIVE_FAULTS.values()):
        for _ in range(5):
            pipeline.settle(rounds=40)
            moved = pipeline.redrive()
            redriven += moved
            if not moved:
                break

    assert_complete_and_correct(pipeline, media)
    assert pipeline.crashes >= 4
    assert redriven >= 1


@contextmanager
def _all(pipeline: Pipeline, faults: Any) -> Iterator[None]:
    with ExitStack() as stack:
        for fault in faults:
            stack.enter_context(fault(pipeline))
        yield


def test_a_crash_after_the_stage_write_is_repaired_by_the_very_next_delivery(pipeline: Pipeline) -> None:
    """No lease: a stage not settled is queued again by any redelivery (SQS drops a repeat, archive a
    stage it has settled), so a crash between the stage write and the enqueue costs nothing."""
    media = serve(pipeline, 3_000)
    deliver_until_answered(pipeline, "first", with_image=False)
    with crash_after(RecordStore, "put_new"), pytest.raises(Crash):
        pipeline.post("music", music(pipeline, "complete", with_image=True))

    assert pipeline.post("music", music(pipeline, "complete", with_image=True))[1]["status"] == "duplicate"
    pipeline.settle()

    assert_complete_and_correct(pipeline, media)


def test_sqs_down_through_every_provider_retry_is_repaired_by_the_sweep(pipeline: Pipeline) -> None:
    """The provider gives up after three retries; the stage was stored on the first attempt but never
    queued. The sweep finds it in the index of unsettled stages (no Scan) and queues it."""
    media = serve(pipeline, 3_000)
    deliver_until_answered(pipeline, "first", with_image=False)
    with unavailable("sqs", "SendMessage", times=100) as injected:
        for minutes in (1, 5, 15, 0):  # the first delivery and the provider's three retries
            status, _ = pipeline.post("music", music(pipeline, "complete", with_image=True))
            assert status == 503
            pipeline.retry_later(minutes)
    assert injected["failed"] == 4
    pipeline.settle()
    assert pipeline.task_items(TASK)[keys.TASK_SK].get("outcome") is None  # the complete stage waits

    window = SweepWindow(
        now=datetime.now(UTC) + timedelta(hours=1),
        source_retention=timedelta(days=14),
        grace=timedelta(minutes=15),
        near_expiry=timedelta(days=12),
    )
    report = sweep(store=SweepStore(TABLE), queue=ArchiveQueue(pipeline.queue_url), window=window)
    pipeline.settle()

    assert report.requeued == 1
    assert_complete_and_correct(pipeline, media)
