"""DESIGN §1: one task, one settler. Two archive functions poll one queue at once, as Lambda scales out;
stages of one task must still be settled one at a time, in the order they arrived.

Two races this rules out (both seen with a standard queue, where both stages are handed out at once):
(a) `first` and `complete` name different files for the same track: the preview downloads slowly, the
    final file fast. Settled concurrently, the asset record named the final file's SHA-256 while the S3
    object held the preview's bytes.
(b) `complete` and `error` of one task settled concurrently both published an outcome under one
    `event_id` (`task.completed` and `task.failed`), and the outcome item and the task disagreed.

The AWS here is moto server on 127.0.0.1 (it serialises requests, as the real services are consistent);
each poller is one "Lambda instance" with its own archiver, receiving one message at a time.
"""

from __future__ import annotations

import hashlib
import json
import os
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest

from suno_callbacks.dal import keys
from suno_callbacks.dal.aws import client
from suno_callbacks.dal.records import RecordStore
from suno_callbacks.handlers import archive as archive_handler
from suno_callbacks.local.emulator import MotoServer, create_resources
from suno_callbacks.logic.archive import settle_stage
from suno_callbacks.models.messages import ArchiveRequest
from suno_callbacks.models.settings import load_settings
from tests.archive.conftest import TEST_ENV, MediaServer, Route
from tests.archive.conftest import media_server as media_server  # noqa: PLC0414 - the fixture
from tests.ingest.conftest import CURRENT_SECRET, post

pytestmark = pytest.mark.slow
TASK = "race-task"
TRIALS = 3


@dataclass
class Aws:
    queue_url: str
    table: str
    bucket: str
    subscriber_url: str

    def task(self) -> dict[str, dict[str, Any]]:
        return {item[keys.SK]: item for item in RecordStore(self.table).query_task(TASK)}

    def object(self, key: str) -> bytes:
        body: bytes = client("s3").get_object(Bucket=self.bucket, Key=key)["Body"].read()
        return body

    def published(self) -> list[dict[str, Any]]:
        events = []
        while (
            batch := client("sqs")
            .receive_message(QueueUrl=self.subscriber_url, MaxNumberOfMessages=10)
            .get("Messages", [])
        ):
            for message in batch:
                events.append(json.loads(json.loads(message["Body"])["Message"]))  # the SNS envelope
                client("sqs").delete_message(
                    QueueUrl=self.subscriber_url, ReceiptHandle=message["ReceiptHandle"]
                )
        return events


@pytest.fixture
def aws(monkeypatch: pytest.MonkeyPatch) -> Iterator[Aws]:
    moto = MotoServer()
    moto.start()
    try:
        monkeypatch.setenv("AWS_ENDPOINT_URL", moto.endpoint_url)
        resources = create_resources(moto.endpoint_url, CURRENT_SECRET)
        environment = {
            **TEST_ENV,
            "SUNO_CALLBACKS_READ_TIMEOUT_SECONDS": "5",
            "SUNO_CALLBACKS_TABLE": resources.table_name,
            "SUNO_CALLBACKS_BUCKET": resources.bucket_name,
            "SUNO_CALLBACKS_QUEUE_URL": resources.queue_url,
            "SUNO_CALLBACKS_SECRET_ID": resources.secret_id,
            "SUNO_CALLBACKS_TOPIC_ARN": resources.topic_arn,
            "POWERTOOLS_METRICS_DISABLED": "true",
        }
        for name, value in environment.items():
            monkeypatch.setenv(name, value)
        client.cache_clear()
        load_settings.cache_clear()
        archive_handler.archiver.cache_clear()
        yield Aws(
            resources.queue_url, resources.table_name, resources.bucket_name, resources.events_queue_url
        )
    finally:
        client.cache_clear()
        archive_handler.archiver.cache_clear()
        moto.stop()


def two_lambda_instances(aws: Aws, *, expected: int, timeout: float = 30) -> list[str]:
    """Two pollers, each its own archiver, settle what the queue hands them until `expected` messages were
    settled; returns what went wrong (nothing, when all is well)."""
    settled: list[str] = []
    errors: list[str] = []
    lock = threading.Lock()
    deadline = time.monotonic() + timeout

    def poll() -> None:
        archive_handler.archiver.cache_clear()
        own = archive_handler.archiver.__wrapped__()  # a separate instance, as another Lambda container
        sqs = client("sqs")
        while time.monotonic() < deadline:
            with lock:
                if len(settled) >= expected:
                    return
            messages = sqs.receive_message(
                QueueUrl=aws.queue_url, MaxNumberOfMessages=1, AttributeNames=["All"]
            ).get("Messages", [])
            if not messages:
                time.sleep(0.02)
                continue
            [message] = messages
            try:
                settle_stage(ArchiveRequest.model_validate_json(message["Body"]), own)
            except Exception as error:
                errors.append(repr(error))
                continue
            sqs.delete_message(QueueUrl=aws.queue_url, ReceiptHandle=message["ReceiptHandle"])
            with lock:
                settled.append(message["MessageId"])

    threads = [threading.Thread(target=poll) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    if len(settled) < expected:
        errors.append(f"only {len(settled)} of {expected} messages settled")
    return errors


def music(stage: str, audio_url: str, code: int = 200) -> dict[str, Any]:
    track = {"id": "clip-1", "audio_url": audio_url, "title": "Race"}
    return {"code": code, "msg": "x", "data": {"callbackType": stage, "task_id": TASK, "data": [track]}}


@pytest.mark.parametrize("trial", range(TRIALS))
def test_a_slow_preview_and_the_final_file_of_one_track_never_mix(
    aws: Aws, media_server: MediaServer, trial: int
) -> None:
    # GIVEN `first` naming a preview that downloads slowly and `complete` naming the final file, fast
    preview, final = os.urandom(50_000), os.urandom(60_000)
    preview_url = media_server.serve(f"/{trial}/preview.mp3", Route(body=preview, stall_seconds=1.0))
    final_url = media_server.serve(f"/{trial}/final.mp3", Route(body=final))
    assert post("music", music("first", preview_url))[1]["status"] == "received"
    assert post("music", music("complete", final_url))[1]["status"] == "received"

    # WHEN two archive functions take the queue at once
    assert two_lambda_instances(aws, expected=2) == []

    # THEN the asset record and the S3 object are the same file: the final one
    audio = aws.task()[keys.asset_sk("clip-1", "audio")]
    stored = aws.object(audio["s3_key"])
    assert audio["sha256"] == hashlib.sha256(stored).hexdigest(), "the record must describe the object"
    assert (stored, audio["source_url"], audio["stage"]) == (final, final_url, "complete")


@pytest.mark.parametrize("trial", range(TRIALS))
def test_complete_and_error_of_one_task_publish_one_outcome(
    aws: Aws, media_server: MediaServer, trial: int
) -> None:
    # GIVEN a `complete` whose file downloads slowly, then an `error` for the same task
    url = media_server.serve(f"/{trial}/song.mp3", Route(body=os.urandom(10_000), stall_seconds=1.0))
    assert post("music", music("complete", url))[1]["status"] == "received"
    assert post("music", music("error", url, code=501))[1]["status"] == "received"

    # WHEN two archive functions take the queue at once
    assert two_lambda_instances(aws, expected=2) == []

    # THEN one outcome is published, under one event id with one content, and the records agree with it
    outcomes = [e for e in aws.published() if e["event"] in ("task.completed", "task.failed")]
    assert len({e["event_id"] for e in outcomes}) == 1
    assert all(e == outcomes[0] for e in outcomes), "one content per event_id"
    items = aws.task()
    task, outcome = items[keys.TASK_SK], items[keys.OUTCOME_SK]
    assert outcome["status"] == task["outcome"] == outcomes[0]["status"]
    # the first terminal stage to arrive decides; the later one is kept, and changes nothing
    assert (task["status"], task["outcome"]) == ("complete", "completed")
    assert {items[keys.stage_sk(s, "music", None)]["settlement"] for s in ("complete", "error")} == {
        "settled"
    }
