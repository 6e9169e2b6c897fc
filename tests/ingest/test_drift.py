"""Each provider drift class of DESIGN §2 is absorbed: recorded, never rejected or crashed on."""

from __future__ import annotations

from typing import Any

import pytest

from tests.ingest.conftest import Aws, post


def track(**overrides: Any) -> dict[str, Any]:
    base = {
        "id": "clip-1",
        "audio_url": "https://tempfile.aiquickdraw.com/r/clip-1.mp3",
        "image_url": "https://tempfile.aiquickdraw.com/r/clip-1.jpeg",
        "title": "Song",
        "tags": "rock",
        "duration": 120.5,
        "createTime": "2025-01-01 00:00:00",
    }
    return {**base, **overrides}


def music(callback_type: Any = "complete", code: Any = 200, **data: Any) -> dict[str, Any]:
    body: dict[str, Any] = {"task_id": "task-1", "data": [track()], **data}
    if callback_type is not None:
        body["callbackType"] = callback_type
    return {"code": code, "msg": "All generated successfully.", "data": body}


def stage_of(aws: Aws, task_id: str = "task-1") -> dict[str, Any]:
    [stage] = [item for item in aws.task_items(task_id).values() if item["type"] == "stage"]
    return stage


@pytest.mark.parametrize(
    "body",
    [
        {
            "code": 200,
            "msg": "ok",
            "data": {"task_id": "task-1", "audioWavUrl": "https://x.erweima.ai/a.wav"},
        },
        {"code": 200, "msg": "ok", "data": {"taskId": "task-1", "audioWavUrl": "https://x.erweima.ai/a.wav"}},
        {
            "task_id": "task-1",
            "code": 200,
            "msg": "ok",
            "data": {"audioWavUrl": "https://x.erweima.ai/a.wav"},
        },
    ],
    ids=["data.task_id", "data.taskId", "top-level task_id"],
)
def test_task_id_is_found_in_each_of_its_three_places(aws: Aws, body: dict[str, Any]) -> None:
    status, answer = post("wav", body)
    assert (status, answer["status"], answer["task_id"]) == (200, "received", "task-1")


@pytest.mark.parametrize(
    ("callback_type", "code", "stage"),
    [
        (None, 200, "complete"),
        ("FIRST", 200, "first"),
        ("Complete", 200, "complete"),
        ("failed", 200, "error"),
        ("error", 501, "error"),
        ("complete", 501, "error"),  # legacy failures said complete with a non-200 code
        ("first", "531", "error"),
    ],
)
def test_callback_type_missing_upper_case_or_failed(
    aws: Aws, callback_type: Any, code: Any, stage: str
) -> None:
    _, answer = post("music", music(callback_type, code))
    assert answer["stage"] == stage
    assert aws.task_items("task-1")["TASK"]["status"] == stage


def test_voice_status_fail_is_an_error_even_with_code_200(aws: Aws) -> None:
    body = {
        "code": 200,
        "msg": "x",
        "data": {"taskId": "task-1", "status": "fail", "errorMessage": "no match"},
    }
    _, answer = post("voice", body)
    assert answer["stage"] == "error"


@pytest.mark.parametrize("tracks", [[], None, "absent"])
def test_lists_empty_null_or_absent_on_failure(aws: Aws, tracks: Any) -> None:
    data: dict[str, Any] = {"callbackType": "error", "task_id": "task-1"}
    if tracks != "absent":
        data["data"] = tracks
    status, answer = post("extend", {"code": 501, "msg": "Audio generation failed", "data": data})
    assert (status, answer["status"], answer["stage"]) == (200, "received", "error")
    assert stage_of(aws)["media"] == []


@pytest.mark.parametrize("key", ["audioWavUrl", "audio_wav_url"])
def test_wav_url_in_camel_or_snake_case(aws: Aws, key: str) -> None:
    post(
        "wav",
        {"code": 200, "msg": "success", "data": {"task_id": "task-1", key: "https://a.erweima.ai/x.wav"}},
    )
    assert [(m["field"], m["url"]) for m in stage_of(aws)["media"]] == [
        ("audio_wav", "https://a.erweima.ai/x.wav")
    ]


@pytest.mark.parametrize("key", ["vocal_removal_info", "vocal_separation_info"])
def test_separation_info_under_either_name(aws: Aws, key: str) -> None:
    info = {"vocal_url": "https://file.aiquickdraw.com/s/v.mp3", "origin_url": ""}
    post("separation", {"code": 200, "msg": "ok", "data": {"task_id": "task-1", key: info}})
    assert [m["field"] for m in stage_of(aws)["media"]] == ["vocal"]


@pytest.mark.parametrize(
    ("list_key", "id_key", "error_key"),
    [("data", "task_id", "error_message"), ("lyricsData", "taskId", "errorMessage")],
)
def test_lyrics_keys_in_either_spelling(aws: Aws, list_key: str, id_key: str, error_key: str) -> None:
    variant = {"text": "[Verse] la", "title": "T", "status": "failed", error_key: "flagged"}
    post(
        "lyrics",
        {
            "code": 200,
            "msg": "ok",
            "data": {"callbackType": "complete", id_key: "task-1", list_key: [variant]},
        },
    )
    item = stage_of(aws)["items"][0]
    assert (item["lyrics"], item["status"], item["error"]) == ("[Verse] la", "failed", "flagged")


@pytest.mark.parametrize(
    ("create_time", "expected"),
    [("2025-01-01 00:00:00", "2025-01-01 00:00:00"), (1758044664461, "2025-09-16T17:44:24.461Z")],
)
def test_create_time_as_string_or_epoch_milliseconds(aws: Aws, create_time: Any, expected: str) -> None:
    post("music", music(data=[track(createTime=create_time)]))
    assert stage_of(aws)["items"][0]["created_at"] == expected


def test_numbers_as_strings_and_blank_strings_as_absent(aws: Aws) -> None:
    body = music(code="200", data=[track(duration="198.44", audio_url="", image_url=None)])
    _, answer = post("music", body)
    record = stage_of(aws)
    assert answer["stage"] == "complete"
    assert record["code"] == 200
    assert record["items"][0]["duration"] == 198.44
    assert record["media"] == []  # "" and null both mean "no file"


def test_partial_first_track_without_audio_or_duration(aws: Aws) -> None:
    partial = {
        "id": "clip-2",
        "audio_url": "",
        "stream_audio_url": "https://audiostream.api.box/stream/c.mp3",
    }
    post("music", music("first", data=[track(), partial]))
    record = stage_of(aws)
    assert [(m["item_id"], m["field"]) for m in record["media"]] == [("clip-1", "audio"), ("clip-1", "image")]
    assert record["items"][1]["links"] == {"stream_audio_url": "https://audiostream.api.box/stream/c.mp3"}


def test_unknown_fields_are_kept_at_every_level(aws: Aws) -> None:
    body = music(data=[track(persona_id="p-7", lyricUrl="https://x.suno.ai/l")], newDataField={"a": 1})
    body["traceId"] = "t-9"
    status, answer = post("music", body)
    record = stage_of(aws)
    assert (status, answer["status"]) == (200, "received")
    assert record["extra"] == {"traceId": "t-9", "data": {"newDataField": {"a": 1}}}
    item = record["items"][0]
    assert item["extra"] == {"persona_id": "p-7", "lyricUrl": "https://x.suno.ai/l"}
    assert item["links"]["lyric_url"] == "https://x.suno.ai/l"


def test_msg_wording_never_changes_the_outcome(aws: Aws) -> None:
    first = music("first")
    first["msg"] = "First audio generated successfully."
    other = music("first")
    other["msg"] = "First track generated successfully."
    assert post("music", first)[1]["status"] == "received"
    assert post("music", other)[1]["status"] == "duplicate"
    assert stage_of(aws)["stage"] == "first"
    assert stage_of(aws)["duplicates"] == 1


def test_midi_start_and_end_as_strings_or_numbers(aws: Aws) -> None:
    notes = [
        {"pitch": 60, "start": "0.5", "end": 1, "velocity": "0.8"},
        {"pitch": 62, "start": 1, "end": "1.5"},
    ]
    body = {"code": 200, "msg": "success", "data": {"taskId": "task-1", "state": "complete",
            "instruments": [{"name": "Piano", "notes": notes}]}}  # fmt: skip
    _, answer = post("midi", body)
    assert answer["status"] == "received"
    assert stage_of(aws)["items"][0]["instruments"] == [{"name": "Piano", "note_count": 2}]


def test_replace_section_failure_without_data_key_keeps_the_error_text(aws: Aws) -> None:
    body = {
        "code": 501,
        "msg": "failed",
        "data": {"callbackType": "error", "task_id": "task-1", "error": "boom"},
    }
    post("replace-section", body)
    assert stage_of(aws)["error"] == "boom"
