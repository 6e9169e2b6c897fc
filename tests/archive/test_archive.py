"""The archive function end to end: SQS event in; S3 objects, asset records and SNS events out."""

from __future__ import annotations

import copy
import hashlib
import io
import json
import os
from typing import Any

import mido
import pytest

from suno_callbacks.dal import keys
from suno_callbacks.dal.queue import ArchiveQueue
from suno_callbacks.dal.settlement import SettlementStore
from suno_callbacks.errors import StoreUnavailable
from suno_callbacks.handlers import archive as handler
from suno_callbacks.models.kinds import Kind
from tests.archive.conftest import (
    Aws,
    FakeDns,
    LambdaContext,
    MediaServer,
    MiB,
    Route,
    drain,
    generated_sha256,
    invoke,
    load,
    sqs_event,
    write_stage,
)

TASK = "2fac****9f72"


def sha256(body: bytes) -> str:
    return hashlib.sha256(body).hexdigest()


def one_track(media_server: MediaServer, routes: dict[str, Route]) -> dict[str, Any]:
    """A `complete` callback with one track whose media fields are served as given (others left out)."""
    payload = load("upload-extend.complete.json")
    track = payload["data"]["data"][0]
    payload["data"]["data"] = [track]
    for field in ("audio_url", "source_audio_url", "image_url", "source_image_url"):
        track.pop(field)
    for field, route in routes.items():
        track[field] = media_server.serve(f"/{field}", route)
    return payload


def test_seed_complete_archives_audio_and_image_of_both_tracks(aws: Aws, media_server: MediaServer) -> None:
    payload = load("upload-extend.complete.json")
    bodies: dict[tuple[str, str], bytes] = {}
    for n, track in enumerate(payload["data"]["data"]):
        for field, content_type, size in (
            ("audio_url", "audio/mpeg", 6 * MiB if n == 0 else 300_000),  # the first goes multipart
            ("source_audio_url", "audio/mpeg", 200_000),
            ("image_url", "image/jpeg", 50_000),
            ("source_image_url", "image/png", 40_000),
        ):
            body = os.urandom(size)
            track[field] = media_server.serve(
                f"/{n}/{field}.bin", Route(body=body, content_type=content_type)
            )
            bodies[(track["id"], field.removesuffix("_url"))] = body
    request = write_stage(Kind.UPLOAD_EXTEND, payload, ref="job-42")

    assert invoke(request) == []

    objects = aws.objects()
    assets = aws.assets(TASK)
    assert set(assets) == set(bodies)
    for (item_id, field), body in bodies.items():
        asset = assets[(item_id, field)]
        assert asset["state"] == "archived"
        assert asset["sha256"] == sha256(body)
        assert asset["bytes"] == len(body)
        assert objects[asset["s3_key"]] == body
        assert asset["s3_uri"] == f"s3://suno-callbacks-media-test/{asset['s3_key']}"
        assert asset["source_expires_at"] == "2026-12-06T05:30:00.123456Z"  # received + 14 days
    assert len(objects) == 8
    first = assets[("8551****662c", "audio")]
    assert first["s3_key"] == "media/upload-extend/2fac%2A%2A%2A%2A9f72/8551%2A%2A%2A%2A662c/audio.mp3"
    assert assets[("8551****662c", "source_image")]["content_type"] == "image/png"
    head = aws.s3.head_object(Bucket="suno-callbacks-media-test", Key=first["s3_key"])
    assert head["ContentType"] == "audio/mpeg"

    [(event, attributes)] = aws.published()
    assert attributes == {"event": "task.completed", "kind": "upload-extend", "status": "completed"}
    assert event["task_id"] == TASK
    assert event["ref"] == "job-42"
    assert event["stage"] == "complete"
    assert event["code"] == 200
    assert [item["title"] for item in event["items"]] == ["Iron Man", "Iron Man"]
    assert {(a["item_id"], a["field"]): a["sha256"] for a in event["assets"]} == {
        key: sha256(body) for key, body in bodies.items()
    }
    assert all(a["s3_uri"].startswith("s3://") and a["content_type"] for a in event["assets"])
    task = aws.item(TASK, keys.TASK_SK)
    assert task is not None
    assert task["outcome"] == "completed"
    assert task["notified_at"]


def test_missing_source_is_a_permanent_failure_and_completes_with_failures(
    aws: Aws, media_server: MediaServer, capsys: pytest.CaptureFixture[str]
) -> None:
    audio = os.urandom(1000)
    payload = one_track(media_server, {"audio_url": Route(body=audio), "image_url": Route(status=404)})
    request = write_stage(Kind.MUSIC, payload)

    assert invoke(request) == []

    assets = aws.assets(TASK)
    image = assets[("8551****662c", "image")]
    assert image["state"] == "failed"
    assert image["reason"] == "http_404"
    assert image["source_url"].endswith("/image_url")
    assert "s3_key" not in image
    assert assets[("8551****662c", "audio")]["state"] == "archived"
    assert list(aws.objects().values()) == [audio]
    [(event, attributes)] = aws.published()
    assert attributes["status"] == "completed_with_failures"
    assert attributes["event"] == "task.completed"
    assert {a["field"]: (a["state"], a.get("reason")) for a in event["assets"]} == {
        "audio": ("archived", None),
        "image": ("failed", "http_404"),
    }
    emitted = [
        json.loads(line) for line in capsys.readouterr().out.splitlines() if line.startswith('{"_aws"')
    ]
    assert [(m["reason"], m["AssetFailures"]) for m in emitted if "AssetFailures" in m] == [
        ("http_404", [1.0])
    ]


def test_slow_source_times_out_and_is_retried_until_the_dlq(aws: Aws, media_server: MediaServer) -> None:
    payload = one_track(media_server, {"audio_url": Route(body=b"x" * 1000, stall_seconds=1.0)})
    request = write_stage(Kind.MUSIC, payload)
    ArchiveQueue(aws.queue_url).send(request)

    drain(aws)

    assert media_server.hits["/audio_url"] == 2  # the queue's receive limit
    dead = aws.sqs.receive_message(QueueUrl=aws.dlq_url).get("Messages", [])
    assert [json.loads(m["Body"])["task_id"] for m in dead] == [TASK]
    assert aws.objects() == {}
    assert aws.assets(TASK) == {}
    assert aws.published() == []


@pytest.mark.parametrize("declare_length", [True, False], ids=["declared", "undeclared"])
def test_oversize_file_is_refused_without_being_read_to_the_end(
    aws: Aws, media_server: MediaServer, declare_length: bool
) -> None:
    huge = Route(generated_bytes=256 * MiB, content_type="image/jpeg", declare_length=declare_length)
    request = write_stage(Kind.MUSIC, one_track(media_server, {"image_url": huge}))

    assert invoke(request) == []

    image = aws.assets(TASK)[("8551****662c", "image")]
    assert (image["state"], image["reason"]) == ("failed", "too_large")
    assert media_server.sent["/image_url"] < 64 * MiB
    assert aws.objects() == {}
    assert aws.multipart_uploads() == []


@pytest.mark.parametrize(
    ("host", "addresses", "reason"),
    [
        ("loopback.media.test", ["127.0.0.1"], "address_not_public"),
        ("loopback6.media.test", ["::1"], "address_not_public"),
        ("private.media.test", ["10.0.0.7"], "address_not_public"),
        ("metadata.media.test", ["169.254.169.254"], "address_not_public"),
        ("mapped.media.test", ["::ffff:169.254.169.254"], "address_not_public"),
        ("metadata6.media.test", ["fd00:ec2::254"], "address_not_public"),
        ("mixed.media.test", ["93.184.216.34", "192.168.1.1"], "address_not_public"),
        ("169.254.169.254", [], "host_not_allowed"),
    ],
)
def test_redirect_to_a_non_public_address_is_refused(
    aws: Aws, media_server: MediaServer, use_fake_dns: FakeDns, host: str, addresses: list[str], reason: str
) -> None:
    use_fake_dns.names[host] = addresses
    redirect = Route(status=302, location=f"https://{host}/latest/meta-data/audio.mp3")
    request = write_stage(Kind.MUSIC, one_track(media_server, {"audio_url": redirect}))

    assert invoke(request) == []

    audio = aws.assets(TASK)[("8551****662c", "audio")]
    assert (audio["state"], audio["reason"]) == ("failed", reason)
    assert aws.objects() == {}
    [(_event, attributes)] = aws.published()
    assert attributes["status"] == "completed_with_failures"


def test_redirects_are_followed_at_most_three_times(aws: Aws, media_server: MediaServer) -> None:
    body = os.urandom(5000)
    media_server.serve("/hop3", Route(status=302, location="/final"))
    media_server.serve("/hop2", Route(status=301, location=media_server.url("/hop3")))
    media_server.serve("/final", Route(body=body))
    payload = one_track(
        media_server,
        {
            "audio_url": Route(status=307, location="/hop2"),  # three redirects: fine
            "source_audio_url": Route(status=302, location="/audio_url"),  # four: refused
        },
    )
    request = write_stage(Kind.MUSIC, payload)

    assert invoke(request) == []

    assets = aws.assets(TASK)
    assert assets[("8551****662c", "audio")]["sha256"] == sha256(body)
    refused = assets[("8551****662c", "source_audio")]
    assert (refused["state"], refused["reason"]) == ("failed", "too_many_redirects")


def test_wrong_content_type_is_refused(aws: Aws, media_server: MediaServer) -> None:
    page = Route(body=b"<html>login</html>" * 100, content_type="text/html; charset=utf-8")
    request = write_stage(Kind.MUSIC, one_track(media_server, {"audio_url": page}))

    assert invoke(request) == []

    audio = aws.assets(TASK)[("8551****662c", "audio")]
    assert (audio["state"], audio["reason"]) == ("failed", "content_type")
    assert aws.objects() == {}


@pytest.mark.parametrize(
    ("content_type", "field"),
    [
        ("image/svg+xml", "image_url"),  # an "image" that carries script
        ("audio/", "audio_url"),
        ("audio/x-made-up", "audio_url"),
        ("video/mp4", "audio_url"),
    ],
)
def test_only_the_formats_a_media_type_expects_are_stored(
    aws: Aws, media_server: MediaServer, content_type: str, field: str
) -> None:
    route = Route(body=b"<svg onload=alert(1)>" * 10, content_type=content_type)
    request = write_stage(Kind.MUSIC, one_track(media_server, {field: route}))

    assert invoke(request) == []

    asset = aws.assets(TASK)[("8551****662c", field.removesuffix("_url"))]
    assert (asset["state"], asset["reason"]) == ("failed", "content_type")
    assert aws.objects() == {}


@pytest.mark.parametrize(
    ("path", "content_type", "stored_as"),
    [
        ("/r/clip.m4a", "audio/x-m4a", ("m4a", "audio/mp4")),
        ("/r/clip.m4a", "application/octet-stream", ("m4a", "audio/mp4")),
        ("/r/clip.mp3", "audio/mp3; charset=binary", ("mp3", "audio/mpeg")),
        ("/r/clip", "audio/mp4", ("m4a", "audio/mp4")),
        ("/r/clip", "", ("mp3", "audio/mpeg")),
    ],
)
def test_audio_keeps_its_format_under_a_safe_content_type(
    aws: Aws, media_server: MediaServer, path: str, content_type: str, stored_as: tuple[str, str]
) -> None:
    payload = one_track(media_server, {})
    payload["data"]["data"][0]["audio_url"] = media_server.serve(
        path, Route(body=b"\x00\x00\x00\x20ftypM4A " + os.urandom(500), content_type=content_type)
    )
    request = write_stage(Kind.RECOVERY, payload)

    assert invoke(request) == []

    audio = aws.assets(TASK)[("8551****662c", "audio")]
    extension, stored_type = stored_as
    assert audio["s3_key"].endswith(f"/audio.{extension}")
    assert audio["content_type"] == stored_type
    head = aws.s3.head_object(Bucket="suno-callbacks-media-test", Key=audio["s3_key"])
    assert head["ContentType"] == stored_type


def test_an_empty_body_is_retried_then_recorded_as_a_failed_asset(
    aws: Aws, media_server: MediaServer
) -> None:
    # An expired stream link answers 200 with nothing: never an archived (empty) file.
    image = Route(body=b"\xff\xd8", content_type="image/jpeg")
    payload = one_track(media_server, {"audio_url": Route(body=b""), "image_url": image})
    request = write_stage(Kind.MUSIC, payload)
    ArchiveQueue(aws.queue_url).send(request)

    drain(aws)

    assert media_server.hits["/audio_url"] == 2  # every attempt the queue allows, no more
    audio = aws.assets(TASK)[("8551****662c", "audio")]
    assert (audio["state"], audio["reason"]) == ("failed", "empty_body")
    assert "s3_key" not in audio
    assert list(aws.objects().values()) == [b"\xff\xd8"]
    assert aws.sqs.receive_message(QueueUrl=aws.dlq_url).get("Messages", []) == []
    [(_event, attributes)] = aws.published()
    assert attributes["status"] == "completed_with_failures"


def test_a_recovery_with_failed_items_completes_with_failures(aws: Aws, media_server: MediaServer) -> None:
    payload = load("recovery.partial.json")
    recovered = payload["data"][0]
    recovered["audio_url"] = media_server.serve("/old.m4a", Route(body=b"m4a", content_type="audio/mp4"))
    recovered["image_url"] = media_server.serve("/old.jpeg", Route(body=b"jpeg", content_type="image/jpeg"))
    request = write_stage(Kind.RECOVERY, payload)

    assert invoke(request) == []

    [(event, attributes)] = aws.published()
    assert (attributes["event"], attributes["status"]) == ("task.completed", "completed_with_failures")
    assert [(i["item_id"][:8], i["status"], i.get("error")) for i in event["items"]] == [
        ("6b1f0e2d", "success", None),
        ("7c2a1f3e", "failed", "clip_not_complete"),
    ]
    assert {a["field"]: a["state"] for a in event["assets"]} == {"audio": "archived", "image": "archived"}


@pytest.mark.parametrize(
    ("size", "cut_after"), [(200_000, 100_000), (11 * MiB, 7 * MiB)], ids=["single-put", "multipart"]
)
def test_connection_cut_mid_stream_leaves_nothing_and_is_retried(
    aws: Aws, media_server: MediaServer, size: int, cut_after: int
) -> None:
    route = Route(generated_bytes=size, cut_after=cut_after)
    request = write_stage(Kind.MUSIC, one_track(media_server, {"audio_url": route}))

    assert len(invoke(request)) == 1

    assert aws.objects() == {}
    assert aws.multipart_uploads() == []
    assert aws.assets(TASK) == {}
    assert aws.published() == []

    route.cut_after = None  # the source recovers: the retry archives it
    media_server.sent.clear()
    assert invoke(request) == []
    assert aws.assets(TASK)[("8551****662c", "audio")]["sha256"] == generated_sha256(route)


def test_the_same_message_twice_archives_and_notifies_once(aws: Aws, media_server: MediaServer) -> None:
    payload = one_track(
        media_server,
        {"audio_url": Route(body=os.urandom(3000)), "image_url": Route(body=b"i", content_type="image/jpeg")},
    )
    request = write_stage(Kind.MUSIC, payload)

    assert invoke(request) == []
    assert invoke(request, request) == []

    assert media_server.hits == {"/audio_url": 1, "/image_url": 1}
    assert len(aws.objects()) == 2
    assert len(aws.published()) == 1


def test_first_and_complete_naming_the_same_file_download_it_once(
    aws: Aws, media_server: MediaServer
) -> None:
    complete = load("upload-extend.complete.json")
    for n, track in enumerate(complete["data"]["data"]):
        track["audio_url"] = media_server.serve(f"/{n}/audio", Route(body=os.urandom(2000)))
        track["image_url"] = media_server.serve(f"/{n}/image", Route(body=b"jpeg", content_type="image/jpeg"))
        del track["source_audio_url"], track["source_image_url"]
    first = copy.deepcopy(complete)
    first["data"]["callbackType"] = "first"
    first["data"]["data"] = first["data"]["data"][:1]

    assert invoke(write_stage(Kind.UPLOAD_EXTEND, first)) == []
    assert invoke(write_stage(Kind.UPLOAD_EXTEND, complete)) == []

    assert set(media_server.hits.values()) == {1}
    assert len(media_server.hits) == 4
    events = aws.published()
    assert [(e["event"], e["status"], len(e["assets"])) for e, _ in events] == [
        ("task.progress", "first", 2),
        ("task.completed", "completed", 4),
    ]
    assert events[0][0]["event_id"] != events[1][0]["event_id"]


@pytest.mark.parametrize(
    ("kind", "fixture", "expect"),
    [
        (Kind.LYRICS, "lyrics.success.json", {"title": "Starry Night Dreams"}),
        (Kind.VOICE, "voice.success.json", {"voice_id": "voice_xxx"}),
    ],
)
def test_a_stage_without_media_is_notified_with_its_items(
    aws: Aws, kind: Kind, fixture: str, expect: dict[str, str]
) -> None:
    request = write_stage(kind, load(fixture))

    assert invoke(request) == []

    [(event, attributes)] = aws.published()
    assert attributes == {"event": "task.completed", "kind": kind.value, "status": "completed"}
    assert event["assets"] == []
    [item] = event["items"]
    assert expect.items() <= item.items()
    assert aws.objects() == {}


def test_an_error_stage_is_notified_as_failed(aws: Aws) -> None:
    request = write_stage(Kind.MUSIC, load("music.failure.json"))

    assert invoke(request) == []

    [(event, attributes)] = aws.published()
    assert attributes == {"event": "task.failed", "kind": "music", "status": "failed"}
    assert (event["code"], event["msg"]) == (501, "Audio generation failed")
    task = aws.item(TASK, keys.TASK_SK)
    assert task is not None
    assert task["outcome"] == "failed"


def test_midi_notes_are_stored_as_json_and_as_a_midi_file(aws: Aws) -> None:
    payload = load("midi.success.json")
    request = write_stage(Kind.MIDI, payload)

    assert invoke(request) == []

    objects = aws.objects()
    notes = json.loads(objects["media/midi/5c79%2A%2A%2A%2Abe8e/result/notes.json"])
    assert [(i["name"], len(i["notes"])) for i in notes["instruments"]] == [
        (i["name"], len(i["notes"])) for i in payload["data"]["instruments"]
    ]
    assert notes["instruments"][0]["notes"][0] == {
        "pitch": 73,
        "start": 0.036458333333333336,
        "end": 0.18229166666666666,
        "velocity": 1.0,
    }
    midi = mido.MidiFile(file=io.BytesIO(objects["media/midi/5c79%2A%2A%2A%2Abe8e/result/midi.mid"]))
    names = [t.name for t in midi.tracks[1:]]
    ons = [sum(m.type == "note_on" for m in t) for t in midi.tracks[1:]]
    assert names == ["Drums", "Electric Bass (finger)"]
    assert ons == [3, 3]
    assets = aws.assets(request.task_id)
    assert {k: a["state"] for k, a in assets.items()} == {
        ("result", "notes"): "archived",
        ("result", "midi"): "archived",
    }
    [(event, _)] = aws.published()
    assert {a["field"] for a in event["assets"]} == {"notes", "midi"}
    assert event["items"][0]["instruments"] == [
        {"name": "Drums", "note_count": 3},
        {"name": "Electric Bass (finger)", "note_count": 3},
    ]


def test_a_video_url_that_is_not_a_url_is_a_permanent_failure(aws: Aws) -> None:
    request = write_stage(Kind.VIDEO, load("video.success.json"))

    assert invoke(request) == []

    [asset] = aws.assets(request.task_id).values()
    assert (asset["state"], asset["reason"]) == ("failed", "invalid_url")
    [(_event, attributes)] = aws.published()
    assert attributes["status"] == "completed_with_failures"


def test_a_failure_after_publishing_republishes_with_the_same_event_id(
    aws: Aws, monkeypatch: pytest.MonkeyPatch
) -> None:
    request = write_stage(Kind.LYRICS, load("lyrics.success.json"))
    record_notified = SettlementStore.record_notified

    def fail_once(self: SettlementStore, *args: Any, **kwargs: Any) -> None:
        monkeypatch.setattr(SettlementStore, "record_notified", record_notified)
        raise StoreUnavailable("DynamoDB down")

    monkeypatch.setattr(SettlementStore, "record_notified", fail_once)

    assert len(invoke(request)) == 1
    assert invoke(request) == []
    assert invoke(request) == []

    events = [event for event, _ in aws.published()]
    assert len(events) == 2
    assert events[0] == events[1]
    outcome = aws.item(request.task_id, keys.OUTCOME_SK)
    assert outcome is not None
    assert outcome["event_id"] == events[0]["event_id"]


def test_a_message_that_names_no_stage_is_reported_failed(aws: Aws) -> None:
    event = sqs_event(
        '{"v": 1, "task_id": "nope", "stage": "complete", "kind": "music", "received_at": "x"}', "{"
    )
    response = handler.lambda_handler(event, LambdaContext())

    assert len(response["batchItemFailures"]) == 2
    assert aws.published() == []
