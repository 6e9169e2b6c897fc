"""Each provider drift class of DESIGN §2 is absorbed: read the same way, never rejected or crashed on.

What a stage says is read from its raw body by the normaliser (archive, readers and replay all use it),
so the drift is checked there; that such bodies are recorded is checked through the handler."""

from __future__ import annotations

import json
from typing import Any

import pytest

from suno_callbacks.logic.normalise import normalise_body
from suno_callbacks.models.kinds import Kind
from suno_callbacks.models.records import NormalisedCallback
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


def normalised(kind: str, body: dict[str, Any]) -> NormalisedCallback:
    return normalise_body(Kind(kind), json.dumps(body).encode())


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
    assert stage_of(aws)["stage"] == stage


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
    body = {"code": 501, "msg": "Audio generation failed", "data": data}
    status, answer = post("extend", body)
    assert (status, answer["status"], answer["stage"]) == (200, "received", "error")
    assert normalised("extend", body).media == []


@pytest.mark.parametrize("key", ["audioWavUrl", "audio_wav_url"])
def test_wav_url_in_camel_or_snake_case(key: str) -> None:
    body = {"code": 200, "msg": "success", "data": {"task_id": "task-1", key: "https://a.erweima.ai/x.wav"}}
    assert [(m.field, m.url) for m in normalised("wav", body).media] == [
        ("audio_wav", "https://a.erweima.ai/x.wav")
    ]


@pytest.mark.parametrize("key", ["vocal_removal_info", "vocal_separation_info"])
def test_separation_info_under_either_name(key: str) -> None:
    info = {"vocal_url": "https://file.aiquickdraw.com/s/v.mp3", "origin_url": ""}
    body = {"code": 200, "msg": "ok", "data": {"task_id": "task-1", key: info}}
    assert [m.field for m in normalised("separation", body).media] == ["vocal"]


@pytest.mark.parametrize(
    ("list_key", "id_key", "error_key"),
    [("data", "task_id", "error_message"), ("lyricsData", "taskId", "errorMessage")],
)
def test_lyrics_keys_in_either_spelling(list_key: str, id_key: str, error_key: str) -> None:
    variant = {"text": "[Verse] la", "title": "T", "status": "failed", error_key: "flagged"}
    body = {
        "code": 200,
        "msg": "ok",
        "data": {"callbackType": "complete", id_key: "task-1", list_key: [variant]},
    }
    [item] = normalised("lyrics", body).items
    assert (item.lyrics, item.status, item.error) == ("[Verse] la", "failed", "flagged")


@pytest.mark.parametrize(
    ("create_time", "expected"),
    [("2025-01-01 00:00:00", "2025-01-01 00:00:00"), (1758044664461, "2025-09-16T17:44:24.461Z")],
)
def test_create_time_as_string_or_epoch_milliseconds(create_time: Any, expected: str) -> None:
    assert normalised("music", music(data=[track(createTime=create_time)])).items[0].created_at == expected


def test_numbers_as_strings_and_blank_strings_as_absent(aws: Aws) -> None:
    body = music(code="200", data=[track(duration="198.44", audio_url="", image_url=None)])
    _, answer = post("music", body)
    callback = normalised("music", body)
    assert answer["stage"] == "complete"
    assert (callback.code, callback.items[0].duration) == (200, 198.44)
    assert callback.media == []  # "" and null both mean "no file"


def test_partial_first_track_without_audio_or_duration() -> None:
    partial = {
        "id": "clip-2",
        "audio_url": "",
        "stream_audio_url": "https://audiostream.api.box/stream/c.mp3",
    }
    callback = normalised("music", music("first", data=[track(), partial]))
    assert [(m.item_id, m.field) for m in callback.media] == [("clip-1", "audio"), ("clip-1", "image")]
    assert callback.items[1].links == {"stream_audio_url": "https://audiostream.api.box/stream/c.mp3"}


def test_unknown_fields_are_kept_at_every_level(aws: Aws) -> None:
    body = music(data=[track(persona_id="p-7", lyricUrl="https://x.suno.ai/l")], newDataField={"a": 1})
    body["traceId"] = "t-9"
    status, answer = post("music", body)
    assert (status, answer["status"]) == (200, "received")
    callback = normalised("music", body)
    assert callback.extra == {"traceId": "t-9", "data": {"newDataField": {"a": 1}}}
    [item] = callback.items
    assert item.extra == {"persona_id": "p-7", "lyricUrl": "https://x.suno.ai/l"}
    assert item.links["lyric_url"] == "https://x.suno.ai/l"


def test_msg_wording_never_changes_the_outcome(aws: Aws) -> None:
    first = music("first")
    first["msg"] = "First audio generated successfully."
    other = music("first")
    other["msg"] = "First track generated successfully."
    assert post("music", first)[1]["status"] == "received"
    assert post("music", other)[1]["status"] == "duplicate"
    assert stage_of(aws)["stage"] == "first"
    assert len(aws.redeliveries("task-1")) == 1


def test_midi_start_and_end_as_strings_or_numbers() -> None:
    notes = [
        {"pitch": 60, "start": "0.5", "end": 1, "velocity": "0.8"},
        {"pitch": 62, "start": 1, "end": "1.5"},
    ]
    body = {"code": 200, "msg": "success", "data": {"taskId": "task-1", "state": "complete",
            "instruments": [{"name": "Piano", "notes": notes}]}}  # fmt: skip
    [piano] = normalised("midi", body).items[0].instruments or []
    assert (piano.name, piano.note_count, piano.notes[0].start, piano.notes[1].end) == ("Piano", 2, 0.5, 1.5)


def test_replace_section_failure_without_data_key_keeps_the_error_text() -> None:
    body = {
        "code": 501,
        "msg": "failed",
        "data": {"callbackType": "error", "task_id": "task-1", "error": "boom"},
    }
    assert normalised("replace-section", body).error == "boom"
