"""Every provider example and every JSON example of the seed documents is recorded with the right
stage, status and media list, and queued for archive exactly when it carries media or ends the task."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.conftest import fixture_files, kind_of_fixture, load_fixture
from tests.ingest.conftest import Aws, post, raw_body

TRACK_FIELDS = ["audio", "source_audio", "image", "source_image"]
STEMS = [
    "backing_vocals", "bass", "brass", "drums", "fx", "guitar",
    "keyboard", "percussion", "strings", "synth", "vocal", "woodwinds",
]  # fmt: skip

# file -> (stage, media fields in order)
EXPECTED: dict[str, tuple[str, list[str]]] = {
    "add-instrumental.success.json": ("complete", ["audio", "image"]),
    "add-vocals.failure.json": ("error", []),
    "cover-image.failure.json": ("error", []),
    "cover-image.success.json": ("complete", ["image", "image"]),
    "extend.failure.json": ("error", []),
    "extend.first.json": ("first", ["audio", "image"]),
    "extend.text.json": ("text", []),
    "lyrics.failure.json": ("error", []),
    "lyrics.success.json": ("complete", []),
    "midi.failure.json": ("error", []),
    "midi.success.json": ("complete", []),
    "music.failure.json": ("error", []),
    "music.success.json": ("complete", TRACK_FIELDS * 2),
    "replace-section.failure.json": ("error", []),
    "replace-section.success.json": ("complete", ["audio", "image"]),
    "separation.failure.json": ("error", []),
    "separation.success-stems.json": ("complete", STEMS),
    "separation.success-vocal.json": ("complete", ["instrumental", "vocal"]),
    "upload-cover.success.json": ("complete", TRACK_FIELDS * 2),
    "upload-extend.success.json": ("complete", TRACK_FIELDS),
    "video.failure.json": ("error", []),
    "video.success.json": ("complete", ["video"]),
    "voice-regenerate.failure.json": ("error", []),
    "voice-regenerate.success.json": ("complete", []),
    "voice-validate.failure.json": ("error", []),
    "voice-validate.success.json": ("complete", []),
    "voice.failure.json": ("error", []),
    "voice.success.json": ("complete", []),
    "wav.failure.json": ("error", []),
    "wav.success.json": ("complete", ["audio_wav"]),
    "market-envelope.success.json": ("complete", ["audio", "image"]),
    "market-envelope.failure.json": ("error", []),
    "mashup.success.json": ("complete", ["audio", "image"] * 2),
    "sounds.success.json": ("complete", ["audio", "image"]),
    "recovery.partial.json": ("complete", ["audio", "image"]),
    # the provider's own documents
    "lyrics.seed-001.json": ("complete", []),
    "upload-extend.seed-000.json": ("complete", TRACK_FIELDS),
    "video.seed-002-failure.json": ("error", []),
    "video.seed-002-success.json": ("complete", ["video"]),
    "voice-regenerate.seed-004-failure.json": ("error", []),
    "voice-regenerate.seed-004-success.json": ("complete", []),
    "voice.seed-003-failure.json": ("error", []),
    "voice.seed-003-success.json": ("complete", []),
}

ALL_FIXTURES = fixture_files("examples") + fixture_files("seeds")


def test_every_fixture_has_an_expectation() -> None:
    assert sorted(p.name for p in ALL_FIXTURES) == sorted(EXPECTED)


@pytest.mark.parametrize("path", ALL_FIXTURES, ids=lambda p: p.name)
def test_fixture_is_recorded_with_stage_status_and_media(aws: Aws, path: Path) -> None:
    kind, payload = kind_of_fixture(path), load_fixture(path)
    stage, media_fields = EXPECTED[path.name]

    status, answer = post(kind, payload, ref="job-42")

    assert status == 200
    assert answer["status"] == "received"
    assert answer["stage"] == stage
    task_id = answer["task_id"]
    items = aws.task_items(task_id)
    record = items[f"STAGE#{stage}"]
    assert record["kind"] == kind
    assert record["code"] == int(payload["code"])
    assert [m["field"] for m in record["media"]] == media_fields
    assert len({(m["item_id"], m["field"]) for m in record["media"]}) == len(media_fields), (
        "S3 keys must differ"
    )
    assert raw_body(record) == json.dumps(payload).encode()
    task = items["TASK"]
    assert (task["status"], task["kind"], task["ref"]) == (stage, kind, "job-42")

    queued = aws.queued()
    if media_fields or stage in ("complete", "error"):
        assert queued == [
            {"v": 1, "task_id": task_id, "stage": stage, "kind": kind, "received_at": record["received_at"]}
        ]
        assert "queued_at" in record
    else:
        assert queued == []


def test_music_items_carry_what_users_read(aws: Aws) -> None:
    payload = load_fixture(Path(__file__).parents[1] / "fixtures/examples/music.success.json")
    post("music", payload)
    record = aws.task_items("2fac****9f72")["STAGE#complete"]
    first = record["items"][0]
    assert first == {
        "item_id": "8551****662c",
        "title": "Iron Man",
        "tags": "electrifying, rock",
        "duration": 198.44,
        "prompt": "[Verse] Night city lights shining bright",
        "model": "chirp-v3-5",
        "created_at": "2025-01-01 00:00:00",
        "links": {
            "audio_url": "https://example.cn/****.mp3",
            "source_audio_url": "https://example.cn/****.mp3",
            "stream_audio_url": "https://example.cn/****",
            "source_stream_audio_url": "https://example.cn/****",
            "image_url": "https://example.cn/****.jpeg",
            "source_image_url": "https://example.cn/****.jpeg",
        },
    }


@pytest.mark.parametrize(
    ("fixture", "expected"),
    [
        ("lyrics.success.json", {"title": "Starry Night Dreams", "status": "complete"}),
        ("voice.success.json", {"voice_id": "voice_xxx", "status": "success", "error_code": 0}),
        (
            "voice-validate.success.json",
            {"validation_phrase": "Please record this validation phrase clearly."},
        ),
        ("voice.failure.json", {"error": "Verification audio did not match the validation phrase"}),
    ],
)
def test_items_of_kinds_without_media(aws: Aws, fixture: str, expected: dict[str, object]) -> None:
    path = Path(__file__).parents[1] / "fixtures/examples" / fixture
    _, answer = post(kind_of_fixture(path), load_fixture(path))
    item = aws.task_items(answer["task_id"])[f"STAGE#{answer['stage']}"]["items"][0]
    assert expected.items() <= item.items()


def test_midi_keeps_an_instrument_summary_and_the_notes_in_the_raw_body(aws: Aws) -> None:
    path = Path(__file__).parents[1] / "fixtures/examples/midi.success.json"
    _, answer = post("midi", load_fixture(path))
    record = aws.task_items(answer["task_id"])["STAGE#complete"]
    assert record["items"][0]["instruments"] == [
        {"name": "Drums", "note_count": 3},
        {"name": "Electric Bass (finger)", "note_count": 3},
    ]
