"""CLI and reader tests: ingest's moto fixture (callbacks posted through the real ingest handler), and local
mode in this process for what needs the whole pipeline (outcomes, archived assets) or a second process."""

from __future__ import annotations

import json
import subprocess
import sys
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from suno_callbacks.local.stack import LocalStack
from tests.conftest import FIXTURES, load_fixture
from tests.ingest.conftest import aws  # noqa: F401 - the fixture, re-exported
from tests.local.conftest import clean_environment, media_server  # noqa: F401 - media_server: the fixture

CLI = [sys.executable, "-m", "suno_callbacks.cli"]


@pytest.fixture
def local_stack(tmp_path: Path) -> Iterator[LocalStack]:
    """Local mode in this process; it sets this process's environment, so `main([...])` uses it."""
    with LocalStack(port=0, media_hosts=("127.0.0.1",), events_file=tmp_path / "events.jsonl") as stack:
        yield stack


def post_callback(stack: LocalStack, kind: str, body: dict[str, Any], ref: str | None = None) -> str:
    """POST a callback to local mode's signed URL, as the provider would; returns the answer's status."""
    request = urllib.request.Request(
        stack.signed_url(kind, ref=ref),
        data=json.dumps(body).encode(),
        headers={"content-type": "application/json"},
        method="POST",
    )
    with urllib.request.urlopen(request, timeout=10) as response:
        status: str = json.loads(response.read())["status"]
        return status


def lyrics(task_id: str, title: str = "Starry Night Dreams") -> dict[str, Any]:
    body = load_fixture(FIXTURES / "seeds" / "lyrics.seed-001.json")
    body["data"]["task_id"] = task_id
    body["data"]["data"][0]["title"] = title
    return body


def failed_music(task_id: str) -> dict[str, Any]:
    body = load_fixture(FIXTURES / "examples" / "music.failure.json")
    body["data"]["task_id"] = task_id
    return body


def run_cli(environment: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    """The CLI in a second shell that pasted local mode's export lines."""
    return subprocess.run(
        [*CLI, *args],
        env={**clean_environment(), **environment},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
