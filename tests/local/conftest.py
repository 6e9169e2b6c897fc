"""Local-mode tests: `suno-callbacks local` as a user runs it, and media served from 127.0.0.1."""

from __future__ import annotations

import copy
import json
import os
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import FIXTURES, load_fixture

SECRET = "local-test-secret-0123456789abcdef0123456789ab"
READY_LINE = "Task events are appended to"


@dataclass
class MediaServer:
    port: int
    files: dict[str, tuple[bytes, str]] = field(default_factory=dict)

    def serve(self, path: str, body: bytes, content_type: str) -> str:
        self.files[path] = (body, content_type)
        return f"http://127.0.0.1:{self.port}{path}"


@contextmanager
def serving_media() -> Iterator[MediaServer]:
    """An HTTP server on 127.0.0.1 that serves what is put in it (404 for anything else)."""
    server = MediaServer(port=0)

    class Handler(BaseHTTPRequestHandler):
        def log_message(self, format: str, *args: Any) -> None:
            pass

        def do_GET(self) -> None:
            if self.path not in server.files:
                self.send_error(404)
                return
            body, content_type = server.files[self.path]
            self.send_response(200)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    httpd.daemon_threads = True
    server.port = httpd.server_address[1]
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    try:
        yield server
    finally:
        httpd.shutdown()
        httpd.server_close()


@pytest.fixture
def media_server() -> Iterator[MediaServer]:
    with serving_media() as server:
        yield server


@dataclass
class LocalMode:
    """A running `suno-callbacks local`, read from what it printed."""

    process: subprocess.Popen[str]
    banner: list[str]
    events_file: Path
    # What it printed after the banner, read as it comes.
    output: list[str] = field(default_factory=list)

    @property
    def exports(self) -> dict[str, str]:
        pairs = (line.strip().removeprefix("export ").split("=", 1) for line in self.banner)
        return {name: value.strip("'") for name, value in (p for p in pairs if len(p) == 2) if name.isupper()}

    def cli(self, *args: str) -> subprocess.CompletedProcess[str]:
        """Run the CLI in "a second shell" that pasted the export lines."""
        env = {**clean_environment(), **self.exports}
        return subprocess.run(
            [sys.executable, "-m", "suno_callbacks.cli", *args],
            env=env,
            capture_output=True,
            text=True,
            timeout=30,
            check=False,
        )

    def wait_for_line(self, *parts: str, timeout: float = 15) -> str:
        """The first line printed after the banner that contains every one of `parts`."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            found = next((line for line in list(self.output) if all(part in line for part in parts)), None)
            if found is not None:
                return found
            time.sleep(0.05)
        pytest.fail(f"no line with {parts} in local mode's output:\n" + "".join(self.output))


def clean_environment() -> dict[str, str]:
    """This interpreter's environment without anything that could point at real AWS."""
    return {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("AWS_", "SUNO_CALLBACKS_")) or k == "AWS_DEFAULT_REGION"
    }


@contextmanager
def running_local_mode(
    events_file: Path, *extra_args: str, secret: str | None = SECRET, cwd: Path | None = None
) -> Iterator[LocalMode]:
    """`suno-callbacks local` as a subprocess, until it printed its banner; stopped on exit. Without a
    `secret` in its environment it uses its state folder (`--state-dir`, else `.suno-callbacks` in `cwd`)."""
    environment = {**clean_environment(), "PYTHONUNBUFFERED": "1"}
    if secret is not None:
        environment["SUNO_CALLBACKS_SECRET"] = secret
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "suno_callbacks.cli",
            "local",
            # Local mode binds a free port itself and prints it: a port probed here could be taken by any
            # other connection (another test's, in the other worker) before local mode binds it.
            "--port",
            "0",
            "--allow-media-host",
            "127.0.0.1",
            "--events-file",
            str(events_file),
            *extra_args,
        ],
        env=environment,
        cwd=cwd,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    banner: list[str] = []
    deadline = time.monotonic() + 30
    assert process.stdout is not None
    while time.monotonic() < deadline:
        line = process.stdout.readline()
        if not line:
            break
        banner.append(line)
        if line.startswith(READY_LINE):
            break
    else:
        process.kill()
    if not banner or not banner[-1].startswith(READY_LINE):
        process.kill()
        pytest.fail("local mode did not start:\n" + "".join(banner))
    # Keep reading what it prints, so that a full pipe never blocks it.
    local = LocalMode(process, banner, events_file)
    threading.Thread(target=lambda: local.output.extend(process.stdout or []), daemon=True).start()
    try:
        yield local
    finally:
        process.terminate()
        process.wait(timeout=10)


@pytest.fixture
def local_mode(tmp_path: Path) -> Iterator[LocalMode]:
    with running_local_mode(tmp_path / "events.jsonl") as local:
        yield local


def post(url: str, body: dict[str, Any]) -> tuple[int, dict[str, Any]]:
    request = urllib.request.Request(
        url, data=json.dumps(body).encode(), headers={"content-type": "application/json"}, method="POST"
    )
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read())


def events(local: LocalMode, task_id: str, name: str, timeout: float = 15) -> list[dict[str, Any]]:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        lines = [json.loads(line) for line in local.events_file.read_text().splitlines()]
        found = [e for e in lines if e["task_id"] == task_id]
        if any(e["event"] == name for e in found):
            return found
        time.sleep(0.1)
    pytest.fail(f"no {name} event for {task_id} in {local.events_file}")


def signed_url(local: LocalMode, kind: str, ref: str | None = None) -> str:
    result = local.cli("url", kind, *(["--ref", ref] if ref else []))
    assert result.returncode == 0, result.stderr
    return result.stdout.strip()


def seed_track_callbacks(media: MediaServer) -> list[dict[str, Any]]:
    """Seed 000 (upload-extend) played as text -> first -> complete, its media on 127.0.0.1."""
    complete = load_fixture(FIXTURES / "seeds" / "upload-extend.seed-000.json")
    complete["data"]["task_id"] = "local-e2e-song"
    track = complete["data"]["data"][0]
    track["audio_url"] = media.serve("/song.mp3", b"ID3" + bytes(range(256)) * 64, "audio/mpeg")
    track["image_url"] = media.serve("/cover.jpeg", b"\xff\xd8\xff" + b"j" * 2048, "image/jpeg")
    for name in ("source_audio_url", "source_image_url", "stream_audio_url", "source_stream_audio_url"):
        del track[name]
    text = {
        "code": 200,
        "msg": "Text generation completed.",
        "data": {"callbackType": "text", "task_id": "local-e2e-song", "data": []},
    }
    first = copy.deepcopy(complete)
    first["data"]["callbackType"] = "first"
    first["msg"] = "First track generated successfully."
    return [text, first, complete]
