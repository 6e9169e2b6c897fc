"""`suno-callbacks demo`: the provider's seed callbacks played against a running local mode.

A song (seed 000, upload-extend) as text -> first -> complete, lyrics (seed 001), a music video (seed 002)
and a custom voice (seed 003), with sample media (real, small files) served from 127.0.0.1 by this
process (local mode allows loopback media hosts). It waits until each task is settled and returns what the
reader sees.
"""

from __future__ import annotations

import json
import time
import urllib.error
import urllib.request
from typing import Any
from urllib.parse import urlsplit

from suno_callbacks.cli.output import CliError
from suno_callbacks.local.samples import sample_media
from suno_callbacks.reader import Reader, TaskView

SETTLE_TIMEOUT_SECONDS = 30


def demo_callbacks(media_base: str) -> list[tuple[str, str, dict[str, Any]]]:
    """(kind, ref, body) in the order the provider would send them."""
    song_id, track_id = "demo-song-2fac9f72", "demo-track-8551662c"
    track = {
        "id": track_id,
        "audio_url": f"{media_base}/demo/song.mp3",
        "image_url": f"{media_base}/demo/cover.jpeg",
        "stream_audio_url": f"{media_base}/demo/stream",
        "prompt": "[Verse] Night city lights shining bright",
        "model_name": "chirp-v3-5",
        "title": "Iron Man",
        "tags": "electrifying, rock",
        "createTime": "2025-01-01 00:00:00",
        "duration": 198.44,
    }

    def song(stage: str, msg: str, tracks: list[dict[str, Any]]) -> dict[str, Any]:
        return {"code": 200, "msg": msg, "data": {"callbackType": stage, "task_id": song_id, "data": tracks}}

    lyrics = {
        "code": 200,
        "msg": "All generated successfully.",
        "data": {
            "callbackType": "complete",
            "task_id": "demo-lyrics-3b66882f",
            "data": [
                {
                    "error_message": "",
                    "status": "complete",
                    "text": "[Verse]\nMoonlight spreads across the windowsill\nStars dance",
                    "title": "Starry Night Dreams",
                }
            ],
        },
    }
    video = {
        "code": 200,
        "msg": "success",
        "data": {"task_id": "demo-video-5bbe7721", "video_url": f"{media_base}/demo/video.mp4"},
    }
    voice = {
        "code": 200,
        "msg": "success",
        "data": {
            "taskId": "demo-voice-003",
            "voiceId": "voice_demo",
            "status": "success",
            "errorCode": 0,
            "errorMessage": "",
        },
    }
    return [
        ("upload-extend", "demo-song", song("text", "Text generation completed.", [])),
        ("upload-extend", "demo-song", song("first", "First track generated successfully.", [track])),
        ("upload-extend", "demo-song", song("complete", "All generated successfully.", [track])),
        ("lyrics", "demo-lyrics", lyrics),
        ("video", "demo-video", video),
        ("voice", "demo-voice", voice),
    ]


def run_demo(reader: Reader) -> list[TaskView]:
    base_url = reader.settings.base_url or ""
    if urlsplit(base_url).hostname not in ("127.0.0.1", "localhost"):
        raise CliError(
            "the demo runs against local mode only: start `suno-callbacks local` and paste its export lines"
        )
    with sample_media() as media_base:
        task_ids: list[str] = []
        for kind, ref, body in demo_callbacks(media_base):
            answer = _post(reader.callback_url(kind, ref=ref), body)
            print(f"{kind:<14} {body['data'].get('callbackType', 'complete'):<9} -> {answer}")
            task_id = answer.split()[-1]
            if task_id not in task_ids:
                task_ids.append(task_id)
        return [_settled(reader, task_id) for task_id in task_ids]


def _post(url: str, body: dict[str, Any]) -> str:
    request = urllib.request.Request(  # noqa: S310 - local mode's http URL
        url, data=json.dumps(body).encode(), headers={"content-type": "application/json"}, method="POST"
    )
    try:
        with urllib.request.urlopen(request, timeout=15) as response:  # noqa: S310 - local mode's URL
            answer = json.loads(response.read())
    except (urllib.error.URLError, OSError) as error:
        raise CliError(
            f"local mode did not answer at {urlsplit(url).path} ({error}): is it running?"
        ) from None
    return f"{answer['status']} {answer.get('task_id', answer.get('quarantine_id', ''))}"


def _settled(reader: Reader, task_id: str) -> TaskView:
    deadline = time.monotonic() + SETTLE_TIMEOUT_SECONDS
    while time.monotonic() < deadline:
        view = reader.get_task(task_id)
        if view is not None and view.outcome is not None:
            return view
        time.sleep(0.2)
    raise CliError(
        f"task {task_id} was not settled within {SETTLE_TIMEOUT_SECONDS} s: look at local mode's output; "
        "was it started with --allow-media-host HOST without 127.0.0.1?"
    )
