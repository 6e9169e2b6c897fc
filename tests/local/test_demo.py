"""`suno-callbacks demo`: the seed callbacks, played against local mode, end in settled tasks."""

from __future__ import annotations

import json
import urllib.request
from pathlib import Path

from suno_callbacks.local.demo import run_demo
from suno_callbacks.local.stack import LocalStack
from suno_callbacks.models.events import AssetState
from suno_callbacks.models.kinds import Kind, Stage
from suno_callbacks.models.settings import ReaderSettings
from suno_callbacks.reader import Reader


def test_demo_archives_the_song_and_video_and_settles_every_task(tmp_path: Path) -> None:
    with LocalStack(port=0, media_hosts=("127.0.0.1",), events_file=tmp_path / "events.jsonl") as stack:
        # What a second shell has after pasting the export lines `suno-callbacks local` prints.
        views = run_demo(Reader(ReaderSettings.model_validate(stack.environment)))

    by_kind = {view.kind: view for view in views}
    assert set(by_kind) == {Kind.UPLOAD_EXTEND, Kind.LYRICS, Kind.VIDEO, Kind.VOICE}
    assert all(view.outcome == "completed" for view in views)
    song = by_kind[Kind.UPLOAD_EXTEND]
    assert {stage.stage for stage in song.stages} == {Stage.TEXT, Stage.FIRST, Stage.COMPLETE}
    assert {(asset.field, asset.state) for asset in song.assets} == {
        ("audio", AssetState.ARCHIVED),
        ("image", AssetState.ARCHIVED),
    }
    assert all(asset.sha256 and asset.bytes for asset in song.assets)
    [video] = by_kind[Kind.VIDEO].assets
    assert (video.field, video.state) == ("video", AssetState.ARCHIVED)
    assert by_kind[Kind.VOICE].items[0].voice_id
    assert by_kind[Kind.LYRICS].items[0].title == "Starry Night Dreams"


def test_a_second_local_stack_in_the_same_process_starts_empty(tmp_path: Path) -> None:
    body = {"code": 200, "msg": "ok", "data": {"callbackType": "complete", "task_id": "t-1", "data": []}}
    with LocalStack(port=0, media_hosts=("127.0.0.1",), events_file=tmp_path / "first.jsonl") as first:
        request = urllib.request.Request(
            first.signed_url("lyrics"), data=json.dumps(body).encode(), method="POST"
        )
        with urllib.request.urlopen(request, timeout=10) as response:
            assert json.loads(response.read())["status"] == "received"
        assert Reader(ReaderSettings.model_validate(first.environment)).get_task("t-1") is not None

    with LocalStack(port=0, media_hosts=("127.0.0.1",), events_file=tmp_path / "second.jsonl") as second:
        assert Reader(ReaderSettings.model_validate(second.environment)).get_task("t-1") is None
