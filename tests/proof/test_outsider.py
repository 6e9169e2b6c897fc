"""What an outsider sent, tried against the handlers (issue "nothing an outsider sends is lost or
crashes"): one regression test per probe. Each names the probe; the property tests of test_properties.py
search the same classes of input more widely."""

from __future__ import annotations

import json
import socket
import threading
import time
from collections.abc import Iterator
from typing import Any

import pytest

from infra import constants
from suno_callbacks.cli.commands import main
from suno_callbacks.dal import aws as dal_aws
from suno_callbacks.dal import keys
from suno_callbacks.dal.records import RecordStore
from suno_callbacks.handlers import archive as archive_handler
from suno_callbacks.handlers.ingest import ANSWER_MARGIN_SECONDS
from suno_callbacks.logic import ingest
from suno_callbacks.logic.normalise import InvalidCallback
from tests.archive.conftest import LambdaContext, Route, running_out
from tests.ingest.conftest import TABLE, Aws, LambdaContextStub, http_event, invoke, post, signed_path
from tests.ingest.conftest import aws as aws  # noqa: PLC0414 - the fixture
from tests.ingest.test_auth import kie_headers
from tests.proof.conftest import Pipeline

DEEP = "[" * 949 + "]" * 949


@pytest.mark.parametrize("headers", [{}, kie_headers()], ids=["unsigned", "kie headers"])
def test_1_unsigned_deep_json_is_refused_not_a_crash(aws: Aws, headers: dict[str, str]) -> None:
    status, answer = invoke(http_event("/callbacks/music", DEEP, headers=headers))
    assert (status, answer["error"]) == (401, "unauthorised")
    assert aws.all_items() == []


@pytest.mark.parametrize(
    "value",
    ["NaN", "Infinity", "-Infinity", "1e400", "1e-200", "1" + "0" * 40],
)
def test_2_odd_numbers_anywhere_in_a_signed_body_are_recorded(aws: Aws, value: str) -> None:
    raw = (
        '{"code": 200, "msg": "ok", "odd": ' + value + ', "data": {"callbackType": "complete",'
        ' "task_id": "t-odd", "data": [{"id": "c1", "duration": ' + value + ', "title": "x"}]}}'
    )
    status, answer = invoke(http_event(signed_path("music"), raw))
    assert (status, answer["status"]) == (200, "received")
    [stage] = aws.task_items("t-odd").values()
    assert stage["type"] == "stage"
    aws.settle()  # archive reads it too, and announces it
    [event] = aws.published()
    assert event["task_id"] == "t-odd"


def test_2_nesting_beyond_any_callbacks_is_quarantined_with_its_body(aws: Aws) -> None:
    raw = '{"code": 200, "data": {"task_id": "t-deep", "extra": ' + "[" * 200 + "]" * 200 + "}}"
    status, answer = invoke(http_event(signed_path("music"), raw))
    assert (status, answer["status"]) == (200, "quarantined")
    assert "nested deeper than" in answer["reason"]
    [kept] = aws.quarantined()
    assert kept["body_bytes"] == len(raw)


def test_3_a_lone_surrogate_is_recorded_and_its_text_shown_replaced(aws: Aws) -> None:
    raw = (
        '{"code": 200, "msg": "cut \\ud83d", "data": {"callbackType": "complete", "task_id": "t-utf",'
        ' "data": [{"id": "c1", "title": "Half an emoji \\ud83d"}]}}'
    )
    status, answer = invoke(http_event(signed_path("music"), raw))
    assert (status, answer["status"]) == (200, "received")
    aws.settle()
    [event] = aws.published()
    assert event["items"][0]["title"] == "Half an emoji \ufffd"


def test_3_a_task_id_of_broken_unicode_is_quarantined_not_lost(aws: Aws) -> None:
    raw = '{"code": 200, "data": {"callbackType": "complete", "task_id": "t-\\udead", "data": []}}'
    status, answer = invoke(http_event(signed_path("music"), raw))
    assert (status, answer["status"]) == (200, "quarantined")
    assert len(aws.quarantined()) == 1


def test_15_the_same_unreadable_body_under_two_refs_is_two_entries(aws: Aws) -> None:
    for ref in ("job-a", "job-b"):
        assert post("music", "not json", ref=ref)[1]["status"] == "quarantined"
    assert sorted(entry["ref"] for entry in aws.quarantined()) == ["job-a", "job-b"]


# --- 11: a hanging store answers 503 inside the function's time ---------------------------------------


@pytest.fixture
def hanging_dynamodb(aws: Aws, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """DynamoDB's endpoint accepts the connection and never answers."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(16)
    held: list[socket.socket] = []
    stop = threading.Event()

    def accept() -> None:
        listener.settimeout(0.2)
        while not stop.is_set():
            try:
                held.append(listener.accept()[0])
            except TimeoutError:
                continue

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    monkeypatch.setenv("AWS_ENDPOINT_URL_DYNAMODB", f"http://127.0.0.1:{listener.getsockname()[1]}")
    dal_aws.client.cache_clear()
    yield
    stop.set()
    thread.join()
    for connection in held:
        connection.close()
    listener.close()


def test_11_a_hanging_store_is_a_503_well_inside_the_functions_time(hanging_dynamodb: None) -> None:
    event = http_event(signed_path("music"), {"code": 200, "data": {"task_id": "t-hang", "data": []}})
    started = time.monotonic()

    status, answer = invoke(event)  # the function has 10 s, as deployed

    took = time.monotonic() - started
    assert (status, answer["error"]) == (503, "unavailable")
    assert took < LambdaContextStub().get_remaining_time_in_millis() / 1000 - ANSWER_MARGIN_SECONDS


def test_11_no_attempt_starts_that_would_end_after_the_deadline(hanging_dynamodb: None) -> None:
    class Short(LambdaContextStub):
        def get_remaining_time_in_millis(self) -> int:
            return 4_000

    from suno_callbacks.handlers.ingest import lambda_handler

    event = http_event(signed_path("music"), {"code": 200, "data": {"task_id": "t-hang", "data": []}})
    started = time.monotonic()
    response = lambda_handler(event, Short())
    assert response["statusCode"] == 503
    assert time.monotonic() - started < 4.0 - ANSWER_MARGIN_SECONDS


def test_11_one_hanging_call_fits_in_the_ingest_functions_timeout() -> None:
    assert dal_aws.CALL_BUDGET_SECONDS + ANSWER_MARGIN_SECONDS < constants.INGEST_TIMEOUT_SECONDS


# --- archive ------------------------------------------------------------------------------------------


def song(task_id: str, tracks: list[dict[str, Any]], stage: str = "complete") -> dict[str, Any]:
    return {"code": 200, "msg": "x", "data": {"callbackType": stage, "task_id": task_id, "data": tracks}}


def midi(notes: list[dict[str, Any]], name: str) -> dict[str, Any]:
    return {
        "code": 200,
        "msg": "success",
        "data": {"taskId": "t-midi", "state": "complete", "instruments": [{"name": name, "notes": notes}]},
    }


@pytest.mark.parametrize(
    ("name", "start"),
    [("鼓", 0.5), ("Drums 🥁", 0.5), ("Piano", "NaN"), ("Piano", "Infinity"), ("Piano", 1e300)],
)
def test_6_any_notes_settle_the_midi_task(pipeline: Pipeline, name: str, start: Any) -> None:
    notes = [{"pitch": 60, "start": start, "end": 1, "velocity": 0.8}, {"pitch": 62, "start": 1, "end": 2}]
    assert pipeline.post("midi", midi(notes, name))[1]["status"] == "received"

    pipeline.settle()

    [(event, _)] = pipeline.published()
    assert (event["event"], event["status"]) == ("task.completed", "completed")
    objects = pipeline.objects("media/midi/")
    assert {key.rsplit("/", 1)[-1] for key in objects} == {"notes.json", "midi.mid"}
    written = json.loads(objects[next(k for k in objects if k.endswith(".json"))])
    assert written["instruments"][0]["name"] == name
    assert pipeline.queue_depths() == (0, 0)


def test_8_a_body_the_limit_accepts_is_recorded_and_its_event_fits(pipeline: Pipeline) -> None:
    # 640 tracks in about 258 KB: every one names files, on a host archive refuses at once
    tracks = [
        {
            "id": f"{n:04d}-" + "c" * 32,
            "audio_url": f"https://not-a-provider.example/{n:04d}/{'a' * 80}.mp3",
            "image_url": f"https://not-a-provider.example/{n:04d}/{'i' * 80}.jpeg",
            "title": f"Track {n}",
            "prompt": "x" * 40,
        }
        for n in range(640)
    ]
    body = {
        "code": 200,
        "msg": "ok",
        "data": {"callbackType": "complete", "task_id": "t-big", "data": tracks},
    }
    assert 240_000 < len(json.dumps(body)) < 256 * 1024

    assert pipeline.post("music", body)[1]["status"] == "received"
    pipeline.settle(rounds=60)

    [(event, attributes)] = pipeline.published()
    assert (attributes["status"], event["items"], event["assets"]) == ("completed_with_failures", [], [])
    bucket_key = event["full_event"].removeprefix("s3://").split("/", 1)[1]
    whole = json.loads(pipeline.objects("events/")[bucket_key])
    assert (len(whole["items"]), len(whole["assets"])) == (640, 1280)
    assert {asset["reason"] for asset in whole["assets"]} == {"host_not_allowed"}


def test_9_a_stage_signed_for_another_ref_cannot_shadow_the_owners(pipeline: Pipeline) -> None:
    audio = pipeline.media.serve("/owner.mp3", Route(body=b"ID3" + bytes(300)))
    owners = {"code": 200, "msg": "x", "data": {"callbackType": "text", "task_id": "t-own", "data": []}}
    track = {"id": "c1", "audio_url": audio, "title": "Mine"}
    complete = {
        "code": 200,
        "msg": "x",
        "data": {"callbackType": "complete", "task_id": "t-own", "data": [track]},
    }
    forged = {**complete, "data": {**complete["data"], "data": [{"id": "c1", "title": "Forged"}]}}
    assert pipeline.post("music", owners, ref="job-owner")[1]["status"] == "received"
    pipeline.settle()

    # another holder of a signed URL (another ref, or another kind) sends a `complete` for the task
    assert pipeline.post("music", forged, ref="job-other")[1]["status"] == "received"
    assert pipeline.post("lyrics", forged)[1]["status"] == "received"
    pipeline.settle()
    # ... and the provider's real `complete` still arrives as new, and is archived
    assert pipeline.post("music", complete, ref="job-owner")[1]["status"] == "received"
    pipeline.settle()

    items = pipeline.task_items("t-own")
    assert (items[keys.TASK_SK]["ref"], items[keys.TASK_SK]["outcome"]) == ("job-owner", "completed")
    assert items[keys.asset_sk("c1", "audio")]["state"] == "archived"
    quarantined = [i for i in pipeline.all_items() if i["type"] == "quarantine"]
    assert sorted((q["kind"], q.get("ref")) for q in quarantined) == [
        ("lyrics", None),
        ("music", "job-other"),
    ]
    assert all("belongs to kind music ref job-owner" in q["reason"] for q in quarantined)
    [(event, _)] = [(e, a) for e, a in pipeline.published() if e["event"] == "task.completed"]
    assert event["items"][0]["title"] == "Mine"


def test_12_a_source_that_drips_is_stopped_at_the_files_deadline(
    pipeline: Pipeline, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SUNO_CALLBACKS_DOWNLOAD_DEADLINE_SECONDS", "1")
    archive_handler.archiver.cache_clear()
    drip = pipeline.media.serve("/drip.mp3", Route(generated_bytes=40, drip_seconds=0.2))
    body = {
        "code": 200,
        "data": {"callbackType": "complete", "task_id": "t-drip", "data": [{"id": "c", "audio_url": drip}]},
    }
    pipeline.post("music", body)

    started = time.monotonic()
    pipeline.deliver()

    assert time.monotonic() - started < 3  # not the 8 s the source would take
    stage = pipeline.task_items("t-drip")[keys.stage_sk("complete", "music", None)]
    assert (stage["attempts"], "too slow" in stage["last_failure"]) == (1, True)


def test_12_a_stage_of_a_thousand_tracks_settles_across_invocations(pipeline: Pipeline) -> None:
    tracks = [
        {"id": f"c{n}", "audio_url": pipeline.media.serve(f"/t{n}.mp3", Route(body=b"ID3" + bytes(100)))}
        for n in range(30)
    ]
    pipeline.post("music", song("t-many", tracks))

    # each invocation has time for ten files only: the rest continues in new messages of the task
    for _ in range(10):
        pipeline.deliver(LambdaContext(remaining_millis=running_out(10)))

    items = pipeline.task_items("t-many")
    archived = [i for i in items.values() if i.get("type") == "asset" and i["state"] == "archived"]
    assert len(archived) == 30
    assert items[keys.TASK_SK]["outcome"] == "completed"
    assert len([e for e, _ in pipeline.published() if e["event"] == "task.completed"]) == 1
    assert pipeline.queue_depths() == (0, 0)


def test_13_ids_made_of_dots_never_make_path_segments(pipeline: Pipeline) -> None:
    audio = pipeline.media.serve("/dots.mp3", Route(body=b"ID3" + bytes(50)))
    body = {
        "code": 200,
        "data": {"callbackType": "complete", "task_id": "..", "data": [{"id": ".", "audio_url": audio}]},
    }
    pipeline.post("music", body)
    pipeline.settle()

    asset = pipeline.task_items("..")[keys.asset_sk(".", "audio")]
    assert asset["s3_key"] == "media/music/%2E%2E/%2E/audio.mp3"
    assert not any(part in (".", "..") for part in asset["s3_key"].split("/"))
    assert pipeline.objects("media/music/%2E%2E/")[asset["s3_key"]] == b"ID3" + bytes(50)


def test_7_one_entry_that_cannot_be_replayed_does_not_stop_the_others(
    aws: Aws, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    # GIVEN three callbacks the model refused (as if a bug), quarantined by ingest
    with monkeypatch.context() as patched:
        patched.setattr(ingest, "normalise_body", _refuse)
        for n in range(3):
            post("lyrics", song(f"t-q{n}", [], stage="complete"))
    entries = sorted(aws.quarantined(), key=lambda e: e["received_at"])
    # ... the middle one's body is gone (an entry of an older version, a body lost from the bucket)
    RecordStore(TABLE).update(
        keys.quarantine_pk(entries[1]["quarantine_id"]),
        keys.QUARANTINE_SK,
        "SET raw_body_s3_key = :key REMOVE raw_body",
        {":key": "bodies/missing"},
    )
    monkeypatch.setenv("SUNO_CALLBACKS_BASE_URL", "https://callbacks.example.test")
    capsys.readouterr()  # the handler's own log lines

    # WHEN everything is replayed
    exit_status = main(["replay"])

    # THEN the others are recorded, the broken one is reported with its cause, and the run says so
    answers = {r.split()[0]: r.split()[1] for r in capsys.readouterr().out.splitlines()[1:]}
    assert answers == {
        entries[0]["quarantine_id"]: "received",
        entries[1]["quarantine_id"]: "failed",
        entries[2]["quarantine_id"]: "received",
    }
    assert exit_status == 1
    assert {m["task_id"] for m in aws.queued()} == {"t-q0", "t-q2"}


def _refuse(kind: Any, body: bytes) -> Any:
    raise InvalidCallback("model bug")
