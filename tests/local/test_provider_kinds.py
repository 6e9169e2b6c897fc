"""The provider's newer shapes end to end through local mode over HTTP: kie.ai's Market envelope (media
inside `resultJson` archived like any other), mashup, sounds and recovery. Media come from 127.0.0.1; what
the user sees is checked: the answers, `task --json`, the S3 bytes and the events file."""

from __future__ import annotations

import copy
import hashlib
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest

from tests.conftest import FIXTURES, load_fixture
from tests.local.conftest import (
    LocalMode,
    MediaServer,
    events,
    post,
    running_local_mode,
    signed_url,
)

pytestmark = pytest.mark.slow

MP3 = b"ID3" + bytes(range(256)) * 40
M4A = b"\x00\x00\x00\x20ftypM4A " + bytes(range(256)) * 30
JPEG = b"\xff\xd8\xff\xe0" + b"j" * 3000


@pytest.fixture(scope="module")
def local(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalMode]:
    with running_local_mode(tmp_path_factory.mktemp("local") / "events.jsonl") as running:
        yield running


def example(name: str) -> dict[str, Any]:
    return load_fixture(FIXTURES / "examples" / name)


def task_json(local: LocalMode, task_id: str) -> dict[str, Any]:
    shown = local.cli("task", task_id, "--json")
    assert shown.returncode == 0, shown.stderr
    task: dict[str, Any] = json.loads(shown.stdout)
    return task


def stored_objects(local: LocalMode, task: dict[str, Any]) -> dict[str, bytes]:
    """What S3 holds for each archived asset (`item_id/field`), checked against its size and SHA-256."""
    s3 = boto3.client(
        "s3",
        endpoint_url=local.exports["AWS_ENDPOINT_URL"],
        aws_access_key_id="local",
        aws_secret_access_key="local",
        region_name="us-east-1",
    )
    found: dict[str, bytes] = {}
    for asset in task["assets"]:
        assert asset["state"] == "archived", asset
        bucket, key = asset["s3_uri"].removeprefix("s3://").split("/", 1)
        body: bytes = s3.get_object(Bucket=bucket, Key=key)["Body"].read()
        assert (asset["bytes"], asset["sha256"]) == (len(body), hashlib.sha256(body).hexdigest())
        found[f"{asset['item_id']}/{asset['field']}"] = body
    return found


def serve_tracks(media: MediaServer, tracks: list[dict[str, Any]], prefix: str, audio: bytes = MP3) -> None:
    """Point each track's audio and image at 127.0.0.1 (keeping the URL's extension)."""
    for n, track in enumerate(tracks):
        if track.get("audio_url"):
            extension = track["audio_url"].rsplit(".", 1)[-1]
            content_type = "audio/mp4" if extension == "m4a" else "audio/mpeg"
            track["audio_url"] = media.serve(f"/{prefix}/{n}.{extension}", audio, content_type)
        if track.get("image_url"):
            track["image_url"] = media.serve(f"/{prefix}/{n}.jpeg", JPEG, "image/jpeg")


def test_a_market_envelope_has_its_media_archived(local: LocalMode, media_server: MediaServer) -> None:
    # GIVEN kie.ai's Market callback, the Suno result inside `resultJson`, its files on 127.0.0.1
    body = example("market-envelope.success.json")
    result = json.loads(body["data"]["resultJson"])
    serve_tracks(media_server, result["data"]["data"], "market")
    body["data"]["resultJson"] = json.dumps(result)
    task_id = body["data"]["taskId"]

    # WHEN it is posted to the music URL
    status, answer = post(signed_url(local, "music", ref="market-1"), body)

    # THEN the task completes with every file of the result archived, byte for byte
    assert (status, answer["status"], answer["task_id"]) == (200, "received", task_id)
    completed = events(local, task_id, "task.completed")[-1]
    assert completed["status"] == "completed"
    task = task_json(local, task_id)
    assert (task["kind"], task["status"], task["outcome"], task["ref"]) == (
        "music",
        "complete",
        "completed",
        "market-1",
    )
    track_id = result["data"]["data"][0]["id"]
    assert stored_objects(local, task) == {f"{track_id}/audio": MP3, f"{track_id}/image": JPEG}


def test_a_failed_market_task_ends_in_error_with_its_fail_code_and_message(local: LocalMode) -> None:
    body = example("market-envelope.failure.json")

    status, answer = post(signed_url(local, "music"), body)

    assert (status, answer["status"], answer["stage"]) == (200, "received", "error")
    failed = events(local, body["data"]["taskId"], "task.failed")[-1]
    assert (failed["status"], failed["code"], failed["error"]) == (
        "failed",
        501,
        "500: Internal server error",
    )


def test_a_mashup_is_archived_through_its_stages(local: LocalMode, media_server: MediaServer) -> None:
    complete = example("mashup.success.json")
    serve_tracks(media_server, complete["data"]["data"], "mashup")
    task_id = complete["data"]["task_id"]
    first = copy.deepcopy(complete)
    first["data"]["callbackType"] = "first"
    url = signed_url(local, "mashup", ref="mash-1")

    answers = [post(url, body)[1]["status"] for body in (first, complete)]

    assert answers == ["received", "received"]
    events(local, task_id, "task.completed")
    task = task_json(local, task_id)
    assert [s["stage"] for s in task["stages"]] == ["first", "complete"]
    assert set(stored_objects(local, task)) == {
        f"{track['id']}/{field}" for track in complete["data"]["data"] for field in ("audio", "image")
    }


def test_sounds_in_the_flat_shape_are_archived(local: LocalMode, media_server: MediaServer) -> None:
    body = example("sounds.success.json")
    serve_tracks(media_server, body["data"], "sounds")

    status, answer = post(signed_url(local, "sounds"), body)

    assert (status, answer["task_id"]) == (200, body["task_id"])
    events(local, body["task_id"], "task.completed")
    task = task_json(local, body["task_id"])
    assert task["items"][0]["title"] == "rain on a tin roof, loopable"
    assert sorted(stored_objects(local, task).values()) == sorted([MP3, JPEG])


def test_a_partial_recovery_completes_with_its_failed_item_marked(
    local: LocalMode, media_server: MediaServer
) -> None:
    body = example("recovery.partial.json")
    serve_tracks(media_server, body["data"], "recovery", audio=M4A)

    status, answer = post(signed_url(local, "recovery"), body)

    assert (status, answer["status"]) == (200, "received")
    done = events(local, body["task_id"], "task.completed")[-1]
    assert done["status"] == "completed_with_failures"
    task = task_json(local, body["task_id"])
    assert [(i.get("status"), i.get("error")) for i in task["items"]] == [
        ("success", None),
        ("failed", "clip_not_complete"),
    ]
    audio = next(a for a in task["assets"] if a["field"] == "audio")
    assert (Path(audio["s3_uri"]).suffix, audio["content_type"]) == (".m4a", "audio/mp4")
    assert M4A in stored_objects(local, task).values()
