"""End to end: `suno-callbacks local` as a subprocess, callbacks over HTTP to its signed URLs, media from
127.0.0.1; what the user sees is checked: the CLI's `task --json`, the objects in S3, the events file."""

from __future__ import annotations

import hashlib
import json
import subprocess
import sys

import boto3
import pytest

from tests.local.conftest import (
    LocalMode,
    MediaServer,
    clean_environment,
    events,
    post,
    seed_track_callbacks,
    signed_url,
)

pytestmark = pytest.mark.slow


def test_a_song_played_over_http_is_archived_and_announced(
    local_mode: LocalMode, media_server: MediaServer
) -> None:
    # GIVEN local mode, a signed URL from the CLI, and the song's media on 127.0.0.1
    url = signed_url(local_mode, "upload-extend", ref="job-42")
    assert url.startswith(local_mode.exports["SUNO_CALLBACKS_BASE_URL"] + "/callbacks/upload-extend?")
    text, first, complete = seed_track_callbacks(media_server)

    # WHEN the provider calls back text, first, complete (and repeats complete)
    answers = [post(url, body) for body in (text, first, complete, complete)]

    # THEN each answer is what the provider expects
    assert [(status, body["status"]) for status, body in answers] == [
        (200, "received"),
        (200, "received"),
        (200, "received"),
        (200, "duplicate"),
    ]
    # ... a forged signature stores nothing
    status, _ = post(url.replace("sig=", "sig=x"), complete)
    assert status == 401

    # ... the outcome is announced once in the events file, after the progress of `first`
    announced = events(local_mode, "local-e2e-song", "task.completed")
    assert [e["event"] for e in announced].count("task.completed") == 1
    assert "task.progress" in [e["event"] for e in announced]
    completed = next(e for e in announced if e["event"] == "task.completed")
    assert completed["ref"] == "job-42"
    assert {(a["field"], a["state"]) for a in completed["assets"]} == {
        ("audio", "archived"),
        ("image", "archived"),
    }

    # ... `task --json` shows the task, its stages with the duplicate, its item and its archived assets
    shown = local_mode.cli("task", "local-e2e-song", "--json")
    assert shown.returncode == 0, shown.stderr
    task = json.loads(shown.stdout)
    assert (task["kind"], task["ref"], task["status"], task["outcome"]) == (
        "upload-extend",
        "job-42",
        "complete",
        "completed",
    )
    assert {s["stage"]: s["duplicates"] for s in task["stages"]} == {"text": 0, "first": 0, "complete": 1}
    assert [i["title"] for i in task["items"]] == ["Iron Man"]

    # ... and the S3 objects are the served bytes, with the recorded size and SHA-256
    s3 = boto3.client(
        "s3",
        endpoint_url=local_mode.exports["AWS_ENDPOINT_URL"],
        aws_access_key_id="local",
        aws_secret_access_key="local",
        region_name="us-east-1",
    )
    served = {"audio": media_server.files["/song.mp3"][0], "image": media_server.files["/cover.jpeg"][0]}
    for asset in task["assets"]:
        bucket, key = asset["s3_uri"].removeprefix("s3://").split("/", 1)
        stored = s3.get_object(Bucket=bucket, Key=key)["Body"].read()
        assert stored == served[asset["field"]]
        assert (asset["bytes"], asset["sha256"]) == (len(stored), hashlib.sha256(stored).hexdigest())


def test_the_printed_quickstart_reaches_an_archived_task(local_mode: LocalMode) -> None:
    # GIVEN the curl command local mode printed
    curl = next(line.strip() for line in local_mode.banner if line.strip().startswith("curl "))
    url = curl.split("'")[1]
    body = json.loads(curl.rsplit("-d ", 1)[1].strip("'"))

    # WHEN it is sent
    status, answer = post(url, body)

    # THEN the task it names is archived, as `suno-callbacks task` shows
    assert (status, answer["status"]) == (200, "received")
    events(local_mode, answer["task_id"], "task.completed")
    shown = local_mode.cli("task", answer["task_id"])
    assert shown.returncode == 0, shown.stderr
    assert "completed" in shown.stdout and "Starry Night Dreams" in shown.stdout


def test_cli_without_configuration_says_what_to_do() -> None:
    # GIVEN a shell with neither exports nor --stack, WHEN the CLI is asked for a task
    result = subprocess.run(
        [sys.executable, "-m", "suno_callbacks.cli", "task", "x"],
        env=clean_environment(),
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )
    # THEN it fails and says how to configure it
    assert result.returncode == 1
    assert "suno-callbacks local" in result.stderr and "--stack NAME" in result.stderr
