"""The typical task the benchmarks and the cost model use: a music task as the provider really sends it.

A music task calls back three times: `text` (no tracks), `first` (the first track playable, the second
track's cover) and `complete` (two tracks: audio, cover, stream and source links, lyrics as the prompt).
Ids, hosts and sizes are those of real callbacks (UUIDs, 32-hex task ids, tempfile/cdn/musicfile hosts),
so that item sizes (and so DynamoDB write units) are realistic; they are deterministic per task id.
"""

from __future__ import annotations

import base64
import hashlib
import uuid
from typing import Any

LYRICS = (
    "[Verse]\nNight city lights shining bright\nEvery street a story told\n"
    "[Chorus]\nWe run we run until the morning comes\nHearts on fire never growing old\n"
    "[Verse 2]\nNeon rivers in the rain\nWhispers of a distant train\n"
    "[Bridge]\nHold on hold on\n[Chorus]\nWe run we run until the morning comes"
)


def task_id_for(name: str) -> str:
    return hashlib.md5(name.encode(), usedforsecurity=False).hexdigest()


def track(task_id: str, n: int, *, media_base: str | None = None, playable: bool = True) -> dict[str, Any]:
    """One track; with `media_base`, its audio and cover are served from there (a test's media server)."""
    clip = str(uuid.uuid5(uuid.NAMESPACE_URL, f"{task_id}/{n}"))
    hexed = clip.replace("-", "")
    audio = f"{media_base}/{hexed}.mp3" if media_base else f"https://tempfile.aiquickdraw.com/r/{hexed}.mp3"
    image = f"{media_base}/{hexed}.jpeg" if media_base else f"https://tempfile.aiquickdraw.com/r/{hexed}.jpeg"
    return {
        "id": clip,
        "audio_url": audio if playable else "",
        "source_audio_url": f"https://cdn1.suno.ai/{clip}.mp3" if playable else "",
        "stream_audio_url": f"https://musicfile.kie.ai/{base64.b64encode(clip.encode()).decode()}",
        "source_stream_audio_url": f"https://audiopipe.suno.ai/?item_id={clip}",
        "image_url": image,
        "source_image_url": f"https://cdn2.suno.ai/image_{clip}.jpeg",
        "prompt": LYRICS,
        "model_name": "chirp-v4-5",
        "title": "Neon Rivers",
        "tags": "synthwave, driving, 80s",
        "createTime": 1781100000000 + n,
        "duration": 198.44 if playable else None,
    }


def music_task(task_id: str, *, media_base: str | None = None) -> list[dict[str, Any]]:
    """The three callbacks of one music task, in the order the provider sends them.

    Without `media_base` the `source_*` links stay (they are part of every real body); with it, only the
    audio and cover of each track are files to archive (from the test's own server).
    """

    def body(stage: str, msg: str, tracks: list[dict[str, Any]]) -> dict[str, Any]:
        if media_base:
            for each in tracks:
                each["source_audio_url"] = each["source_image_url"] = ""
        return {"code": 200, "msg": msg, "data": {"callbackType": stage, "task_id": task_id, "data": tracks}}

    return [
        body("text", "Text generation completed.", []),
        body(
            "first",
            "First audio generated successfully.",
            [
                track(task_id, 1, media_base=media_base),
                track(task_id, 2, media_base=media_base, playable=False),
            ],
        ),
        body(
            "complete",
            "All generated successfully.",
            [track(task_id, 1, media_base=media_base), track(task_id, 2, media_base=media_base)],
        ),
    ]
