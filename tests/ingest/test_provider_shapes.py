"""The provider's shapes as they are today (SUNO_CALLBACKS.md §18-§20), normalised: kie.ai's Market envelope
around any kind, the flat shape, mashup / sounds / recovery, and the newer drift. What a user reads from a
callback (task id, stage, items, the files to archive) is asserted; the normaliser is plain Python."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import pytest

from suno_callbacks.logic.normalise import InvalidCallback, normalise_body, normalise_callback
from suno_callbacks.models.kinds import Kind, Stage
from suno_callbacks.models.records import NormalisedCallback
from tests.conftest import FIXTURES, fixture_files, kind_of_fixture, load_fixture

TRACK = ["audio", "source_audio", "image", "source_image"]
STEMS = [
    "backing_vocals", "bass", "brass", "drums", "fx", "guitar",
    "keyboard", "percussion", "strings", "synth", "vocal", "woodwinds",
]  # fmt: skip
ADD_ID = "e231****-****-****-****-****8cadc7dc"
VOICE = "xxx_task_id_xxx"

# file -> (task id, stage, item ids, media fields in order)
EXPECTED: dict[str, tuple[str, str, list[str], list[str]]] = {
    "add-instrumental.success.json": ("2fac****9f72", "complete", [ADD_ID], ["audio", "image"]),
    "add-vocals.failure.json": ("2fac****9f72", "error", [], []),
    "cover-image.failure.json": ("21aee3c3c2a01fa5e030b3799fa4dd56", "error", [], []),
    "cover-image.success.json": ("21aee3c3c2a01fa5e030b3799fa4dd56", "complete", ["1", "2"], ["image"] * 2),
    "extend.failure.json": ("2fac****9f72", "error", [], []),
    "extend.first.json": ("2fac****9f72", "first", [ADD_ID], ["audio", "image"]),
    "extend.text.json": ("2fac****9f72", "text", [], []),
    "lyrics.failure.json": ("3b66882fde0a5d398bd269cab6d9542b", "error", [], []),
    "lyrics.success.json": ("3b66882fde0a5d398bd269cab6d9542b", "complete", ["1"], []),
    "market-envelope.failure.json": ("f1e2d3c4b5a697887766554433221100", "error", [], []),
    "market-envelope.success.json": (
        "e0f1a2b3c4d5e6f708192a3b4c5d6e7f",
        "complete",
        ["44e1d2c3-b4a5-9687-7869-5a4b3c2d1e0f"],
        ["audio", "image"],
    ),
    "mashup.success.json": (
        "7e1c0b9a54f24a33a1d2c5e8f0b6d417",
        "complete",
        ["3f6e2a10-9c4d-4b8e-a7f1-2d5c8b9e0a11", "a1b2****c3d4"],
        ["audio", "image"] * 2,
    ),
    "midi.failure.json": ("5c79****be8e", "error", [], []),
    "midi.success.json": ("5c79****be8e", "complete", ["result"], []),
    "music.failure.json": ("2fac****9f72", "error", [], []),
    "music.success.json": ("2fac****9f72", "complete", ["8551****662c", "bd15****1873"], TRACK * 2),
    "recovery.partial.json": (
        "9a8b7c6d5e4f30211f0e9d8c7b6a5948",
        "complete",
        ["6b1f0e2d-3c4a-4b5e-8f9a-0b1c2d3e4f50", "7c2a1f3e-4d5b-4c6f-9a0b-1c2d3e4f5061"],
        ["audio", "image"],
    ),
    "replace-section.failure.json": ("2fac****9f72", "error", [], []),
    "replace-section.success.json": ("2fac****9f72", "complete", [ADD_ID], ["audio", "image"]),
    "separation.failure.json": ("5e72d367bdfbe44785e28d72cb1697c7", "error", [], []),
    "separation.success-stems.json": ("e649edb7abfd759285bd41a47a634b10", "complete", ["result"], STEMS),
    "separation.success-vocal.json": (
        "3e63b4cc88d52611159371f6af5571e7",
        "complete",
        ["result"],
        ["instrumental", "vocal"],
    ),
    "sounds.success.json": (
        "5c4b3a29180f4e7d9c6b5a4f3e2d1c0b",
        "complete",
        ["0d9c8b7a-6f5e-4d3c-2b1a-0f9e8d7c6b5a"],
        ["audio", "image"],
    ),
    "upload-cover.success.json": ("2fac****9f72", "complete", [ADD_ID, f"{ADD_ID}~2"], TRACK * 2),
    "upload-extend.success.json": ("2fac****9f72", "complete", [ADD_ID], TRACK),
    "video.failure.json": ("task_id_5bbe7721119d", "error", [], []),
    "video.success.json": ("task_id_5bbe7721119d", "complete", ["result"], ["video"]),
    "voice-regenerate.failure.json": (VOICE, "error", ["result"], []),
    "voice-regenerate.success.json": (VOICE, "complete", ["result"], []),
    "voice-validate.failure.json": (VOICE, "error", ["result"], []),
    "voice-validate.success.json": (VOICE, "complete", ["result"], []),
    "voice.failure.json": (VOICE, "error", ["result"], []),
    "voice.success.json": (VOICE, "complete", ["result"], []),
    "wav.failure.json": ("988e****c8d3", "error", [], []),
    "wav.success.json": ("988e****c8d3", "complete", ["result"], ["audio_wav"]),
    # the provider's own documents
    "lyrics.seed-001.json": ("3b66882fde0a5d398bd269cab6d9542b", "complete", ["1"], []),
    "upload-extend.seed-000.json": ("2fac****9f72", "complete", ["8551****662c"], TRACK),
    "video.seed-002-failure.json": ("task_id_5bbe7721119d", "error", [], []),
    "video.seed-002-success.json": ("task_id_5bbe7721119d", "complete", ["result"], ["video"]),
    "voice-regenerate.seed-004-failure.json": (VOICE, "error", ["result"], []),
    "voice-regenerate.seed-004-success.json": (VOICE, "complete", ["result"], []),
    "voice.seed-003-failure.json": (VOICE, "error", ["result"], []),
    "voice.seed-003-success.json": (VOICE, "complete", ["result"], []),
}
EXAMPLES = fixture_files("examples") + fixture_files("seeds")


def example(name: str) -> dict[str, Any]:
    return load_fixture(FIXTURES / "examples" / name)


def normalised(kind: str, payload: Any) -> NormalisedCallback:
    return normalise_body(Kind(kind), json.dumps(payload).encode())


def test_every_example_has_an_expectation() -> None:
    assert sorted(p.name for p in EXAMPLES) == sorted(EXPECTED)


@pytest.mark.parametrize("path", EXAMPLES, ids=lambda p: p.name)
def test_each_example_gives_its_kind_task_stage_items_and_media(path: Path) -> None:
    task_id, stage, item_ids, media = EXPECTED[path.name]

    callback = normalise_body(Kind(kind_of_fixture(path)), path.read_bytes())

    assert (callback.kind.value, callback.task_id) == (kind_of_fixture(path), task_id)
    assert callback.stage.value == stage
    assert [item.item_id for item in callback.items] == item_ids
    assert [ref.field for ref in callback.media] == media
    assert len({(ref.item_id, ref.field) for ref in callback.media}) == len(media), "S3 keys must differ"


# --- kie.ai's Market envelope -----------------------------------------------------------------------------


def test_market_success_is_the_legacy_result_inside_with_its_media_to_archive() -> None:
    callback = normalised("music", example("market-envelope.success.json"))

    assert (callback.task_id, callback.stage, callback.code) == (
        "e0f1a2b3c4d5e6f708192a3b4c5d6e7f",
        Stage.COMPLETE,
        200,
    )
    [track] = callback.items
    assert (track.title, track.tags, track.duration, track.model) == (
        "Harbour Lights",
        "indie pop",
        142.0,
        "chirp-v5",
    )
    assert [(ref.field, ref.url) for ref in callback.media] == [
        ("audio", "https://tempfile.aiquickdraw.com/r/44e1d2c3b4a5968778695a4b3c2d1e0f.mp3"),
        ("image", "https://tempfile.aiquickdraw.com/r/44e1d2c3b4a5968778695a4b3c2d1e0f.jpeg"),
    ]
    # the envelope's own fields are kept, `param` as it came (never parsed, never required)
    market = callback.extra["market"]
    assert market["model"] == "ai-music-api/generate"
    assert market["state"] == "success"
    assert market["param"].startswith('{"model": "ai-music-api/generate"')
    assert market["costTime"] == 41


def test_market_failure_is_an_error_with_fail_code_and_message() -> None:
    callback = normalised("music", example("market-envelope.failure.json"))

    assert (callback.task_id, callback.stage, callback.code) == (
        "f1e2d3c4b5a697887766554433221100",
        Stage.ERROR,
        501,
    )
    assert callback.error == "500: Internal server error"
    assert callback.media == []


@pytest.mark.parametrize(
    "result_json",
    ["{not json", '{"code": 200, "data": {"task_id": "x", "data": [', "[1, 2]", '"just text"'],
)
def test_a_market_result_that_is_not_a_json_object_is_refused_naming_the_task(result_json: str) -> None:
    body = example("market-envelope.success.json")
    body["data"]["resultJson"] = result_json

    with pytest.raises(InvalidCallback) as refused:
        normalised("music", body)

    assert "data.resultJson" in refused.value.reason
    assert refused.value.task_id == "e0f1a2b3c4d5e6f708192a3b4c5d6e7f"  # what kie.ai's signature covers


def test_a_market_result_may_come_parsed_as_response_or_encoded_twice() -> None:
    body = example("market-envelope.success.json")
    inner = json.loads(body["data"].pop("resultJson"))
    expected = normalised("music", example("market-envelope.success.json"))

    for variant in ({"response": inner}, {"resultJson": json.dumps(json.dumps(inner))}):
        wrapped = copy.deepcopy(body)
        wrapped["data"].update(variant)
        result = normalised("music", wrapped)
        assert (result.task_id, result.stage, result.media) == (
            expected.task_id,
            expected.stage,
            expected.media,
        )


def test_a_market_result_in_the_flat_shape_is_read_too() -> None:
    sounds = example("sounds.success.json")
    body = {
        "code": 200,
        "msg": "Playground task completed successfully.",
        "data": {
            "taskId": sounds["task_id"],
            "model": "ai-music-api/sounds",
            "state": "success",
            "resultJson": json.dumps(sounds, sort_keys=True),
        },
    }
    callback = normalised("sounds", body)

    assert callback.task_id == sounds["task_id"]
    assert [ref.field for ref in callback.media] == ["audio", "image"]


def test_a_market_callback_still_generating_with_no_result_is_refused_with_the_reason() -> None:
    body = {"code": 200, "msg": "ok", "data": {"taskId": "t-gen", "state": "generating"}}

    with pytest.raises(InvalidCallback) as refused:
        normalised("music", body)

    assert "generating" in refused.value.reason
    assert refused.value.task_id == "t-gen"


def test_midi_state_complete_is_not_mistaken_for_a_market_envelope() -> None:
    callback = normalised("midi", example("midi.success.json"))
    assert callback.stage is Stage.COMPLETE and "market" not in callback.extra


# --- mashup, sounds, recovery ---------------------------------------------------------------------------


def test_mashup_is_music_shaped_with_text_first_complete_stages() -> None:
    complete = example("mashup.success.json")
    first = copy.deepcopy(complete)
    first["data"]["callbackType"] = "first"
    text = {"code": 200, "msg": "ok", "data": {"callbackType": "text", "task_id": "m-1", "data": []}}

    stages = [normalised("mashup", body).stage for body in (text, first, complete)]

    assert stages == [Stage.TEXT, Stage.FIRST, Stage.COMPLETE]
    assert [item.item_id for item in normalised("mashup", complete).items][1] == "a1b2****c3d4"


def test_sounds_flat_shape_with_epoch_create_time() -> None:
    callback = normalised("sounds", example("sounds.success.json"))

    [item] = callback.items
    assert item.created_at == "2026-06-09T10:13:20.000Z"
    assert item.links["stream_audio_url"].startswith("https://audiostream.kie.ai/stream/")
    assert item.prompt is None  # "" is absent


def test_recovery_marks_failed_items_and_keeps_m4a_audio() -> None:
    callback = normalised("recovery", example("recovery.partial.json"))

    recovered, lost = callback.items
    assert (recovered.status, recovered.failed) == ("success", False)
    assert (lost.status, lost.error, lost.failed) == ("failed", "clip_not_complete", True)
    assert callback.stage is Stage.COMPLETE
    [audio, _image] = callback.media
    assert audio.url.endswith(".m4a")


def test_recovery_with_every_item_failed_is_an_error() -> None:
    body = example("recovery.partial.json")
    body["code"] = 500
    assert normalised("recovery", body).stage is Stage.ERROR


# --- the drift of §20 -------------------------------------------------------------------------------------


def test_sunoapi_failure_with_code_400_and_null_data_is_an_error_of_the_named_task() -> None:
    callback = normalised(
        "music", {"code": 400, "msg": "content violation", "data": None, "task_id": "t-400"}
    )
    assert (callback.task_id, callback.stage, callback.items) == ("t-400", Stage.ERROR, [])


def test_a_body_naming_no_task_anywhere_is_refused() -> None:
    legacy = {"code": 200, "msg": "ok", "data": [{"audio_url": "https://cdn1.suno.ai/a.mp3", "title": "x"}]}
    with pytest.raises(InvalidCallback, match="no task id"):
        normalised("music", legacy)
    with pytest.raises(InvalidCallback, match="no task id"):
        normalised("music", {"code": 400, "msg": "bad", "data": None})


def test_lyrics_failure_with_callback_type_error_and_camel_task_id() -> None:
    body = {"code": 500, "msg": "x", "data": {"callbackType": "error", "taskId": "t-lyr", "data": None}}
    callback = normalised("lyrics", body)
    assert (callback.task_id, callback.stage) == ("t-lyr", Stage.ERROR)


def test_a_failure_without_a_data_data_key() -> None:
    body = {"code": 500, "msg": "Server Error", "data": {"callbackType": "error", "task_id": "t-nd"}}
    assert normalised("music", body).stage is Stage.ERROR


@pytest.mark.parametrize(
    ("data", "error"),
    [
        ({"callbackType": "error", "task_id": "t-rs", "data": None}, None),
        ({"callbackType": "error", "task_id": "t-rs", "error": "section too long"}, "section too long"),
    ],
    ids=["null data, no error text", "error text, no data key"],
)
def test_replace_section_failure_with_or_without_its_error_text(
    data: dict[str, Any], error: str | None
) -> None:
    callback = normalised("replace-section", {"code": 501, "msg": "失败", "data": data})
    assert (callback.stage, callback.error, callback.msg) == (Stage.ERROR, error, "失败")


def test_wav_failure_with_snake_case_null_url() -> None:
    body = {"code": 501, "msg": "fail", "data": {"task_id": "t-wav", "audio_wav_url": None}}
    callback = normalised("wav", body)
    assert (callback.stage, callback.media) == (Stage.ERROR, [])


def test_every_url_key_of_a_separation_object_is_a_stem() -> None:
    info = {
        "instrumental_url": "https://file.aiquickdraw.com/s/i.mp3",
        "piano_url": "https://file.aiquickdraw.com/s/p.mp3",
        "vocal_url": "https://file.aiquickdraw.com/s/v.mp3",
        "origin_url": "",
        "stem_type_group_name": "4-stem",
    }
    body = {"code": 200, "msg": "ok", "data": {"task_id": "t-sep", "vocal_removal_info": info}}

    callback = normalised("separation", body)

    assert [(ref.field, ref.url.rsplit("/", 1)[1]) for ref in callback.media] == [
        ("instrumental", "i.mp3"),
        ("piano", "p.mp3"),
        ("vocal", "v.mp3"),
    ]
    assert callback.items[0].extra == {"stem_type_group_name": "4-stem"}


@pytest.mark.parametrize(
    ("camel_url", "fields"),
    [
        ("https://file.aiquickdraw.com/s/v.mp3", ["vocal"]),  # two spellings, one file
        ("https://file.aiquickdraw.com/s/other.mp3", ["vocal", "vocal~2"]),  # two spellings, two files
    ],
)
def test_spellings_of_one_stem_never_collapse_two_files(camel_url: str, fields: list[str]) -> None:
    info = {"vocal_url": "https://file.aiquickdraw.com/s/v.mp3", "vocalUrl": camel_url}
    body = {"code": 200, "msg": "ok", "data": {"task_id": "t-sep", "vocal_separation_info": info}}

    callback = normalised("separation", body)

    assert [ref.field for ref in callback.media] == fields
    assert {ref.url for ref in callback.media} == set(info.values())


@pytest.mark.parametrize("msg", ["生成成功", "...", "", None, "error", "failed"])
def test_a_localised_or_placeholder_msg_changes_nothing(msg: str | None) -> None:
    body = example("music.success.json")
    expected = normalised("music", body)
    body["msg"] = msg

    callback = normalised("music", body)

    assert (callback.stage, callback.items, callback.media) == (
        expected.stage,
        expected.items,
        expected.media,
    )


# --- identities ------------------------------------------------------------------------------------------


def tracks_with_ids(*ids: Any) -> dict[str, Any]:
    tracks = [{"id": i, "audio_url": f"https://cdn1.suno.ai/{n}.mp3"} for n, i in enumerate(ids)]
    return {
        "code": 200,
        "msg": "ok",
        "data": {"callbackType": "complete", "task_id": "t-ids", "data": tracks},
    }


@pytest.mark.parametrize(
    "ids",
    [["x", "x~3", "x"], ["x", "x", "x~2", "x~2"], [1, "1", None], ["a", 1.5, True, {"o": 1}, ["l"]]],
    ids=["suffix taken", "suffixes taken twice", "number, text, position", "mixed types"],
)
def test_every_track_keeps_its_own_item_id_and_files(ids: list[Any]) -> None:
    callback = normalised("music", tracks_with_ids(*ids))

    item_ids = [item.item_id for item in callback.items]
    assert len(set(item_ids)) == len(ids)
    assert len({(ref.item_id, ref.field) for ref in callback.media}) == len(ids)
    # stable: the same callback again (a `first` then a `complete`) names the same items
    assert [item.item_id for item in normalised("music", tracks_with_ids(*ids)).items] == item_ids


def test_a_task_id_with_broken_unicode_is_refused_not_merged_with_another() -> None:
    raw = b'{"code": 200, "msg": "ok", "data": {"task_id": "t-\\ud83d", "data": []}}'
    with pytest.raises(InvalidCallback, match="task id"):
        normalise_body(Kind.MUSIC, raw)


def test_a_descriptive_field_of_the_wrong_type_is_read_as_absent() -> None:
    body = tracks_with_ids("t1")
    body["data"]["data"][0] |= {"title": ["not", "text"], "duration": {"s": 1}, "tags": 7}
    [item] = normalised("music", body).items
    assert (item.title, item.duration, item.tags) == (None, None, "7")


def test_the_normaliser_accepts_parsed_payloads_too() -> None:
    payload = example("sounds.success.json")
    assert normalise_callback(Kind.SOUNDS, payload) == normalised("sounds", payload)
