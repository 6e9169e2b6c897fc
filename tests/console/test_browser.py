"""The console in real headless Chromium (Playwright), against `suno-callbacks local` with the demo played.

Skipped, saying why, where no Chromium is installed (`.ci/run` installs Debian's). The song, video and
cover played here are local mode's sample files (suno_callbacks/local/samples/), archived by local
mode from a server on 127.0.0.1 and played from moto's S3 through the console's presigned URLs.
`docs/console-task.png` is written when it is missing, or again with UPDATE_SCREENSHOT=1.
"""

from __future__ import annotations

import json
import os
import shutil
import time
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from pydantic import SecretStr

from suno_callbacks.cli import operations
from suno_callbacks.dal.aws import client
from suno_callbacks.logic.signing import SigningKeys, signed_callback_url
from suno_callbacks.models.settings import CliSettings, load_settings
from tests.cli.conftest import lyrics
from tests.conftest import FIXTURES, load_fixture
from tests.console.conftest import MEDIA, dead_letter, quarantine
from tests.local.conftest import SECRET, LocalMode, MediaServer, running_local_mode, serving_media

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
if not Path(CHROMIUM).exists():
    pytest.skip(
        f"no Chromium at {CHROMIUM}: the console's browser tests need it (apt-get install chromium; "
        ".ci/run installs it)",
        allow_module_level=True,
    )

from playwright.sync_api import Browser, ConsoleMessage, Dialog, Page, expect, sync_playwright  # noqa: E402

pytestmark = pytest.mark.slow

SCREENSHOT = Path(__file__).parents[2] / "docs" / "console-task.png"
XSS = "<script>alert(1)</script>"
DEMO_TASKS = ("demo-song-2fac9f72", "demo-lyrics-3b66882f", "demo-video-5bbe7721", "demo-voice-003")
SONG, VIDEO, MARKUP = "console-song-9f72", "console-video-5bbe", "console-markup-1"
SETTLE_SECONDS = 20


@dataclass(frozen=True)
class Site:
    local: LocalMode
    console_url: str
    files: MediaServer

    @property
    def settings(self) -> CliSettings:
        return CliSettings.model_validate(self.local.exports)

    def post(self, kind: str, body: dict[str, Any], ref: str | None = None) -> None:
        """A callback as the provider sends it, to local mode's signed URL."""
        base_url = self.local.exports["SUNO_CALLBACKS_BASE_URL"]
        url = signed_callback_url(base_url, kind, SigningKeys(current=SecretStr(SECRET)), ref=ref)
        request = urllib.request.Request(
            url, data=json.dumps(body).encode(), headers={"content-type": "application/json"}, method="POST"
        )
        with urllib.request.urlopen(request, timeout=10) as response:
            assert json.loads(response.read())["status"] == "received"

    def tasks(self) -> dict[str, dict[str, Any]]:
        with urllib.request.urlopen(f"{self.console_url}tasks.json?kind=", timeout=10) as response:
            return {t["task_id"]: t for t in json.loads(response.read())["tasks"]}

    def settled(self, *task_ids: str) -> None:
        deadline = time.monotonic() + SETTLE_SECONDS
        while time.monotonic() < deadline:
            tasks = self.tasks()
            if all(tasks.get(t, {}).get("outcome") for t in task_ids):
                return
            time.sleep(0.1)
        pytest.fail(f"not settled within {SETTLE_SECONDS} s: {task_ids}")


@pytest.fixture(scope="module")
def files() -> Iterator[MediaServer]:
    """Media for archive to fetch, and a foreign site's page."""
    with serving_media() as server:
        yield server


@pytest.fixture(scope="module")
def site(files: MediaServer, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Site]:
    """Local mode with the demo played, and a song, a video and a title that is markup of our own."""
    with running_local_mode(tmp_path_factory.mktemp("console") / "events.jsonl") as local:
        console_url = next(
            line.split(": ", 1)[1].strip() for line in local.banner if line.startswith("Console (")
        )
        site = Site(local, console_url, files)
        demo = local.cli("demo")
        assert demo.returncode == 0, demo.stdout + demo.stderr
        site.post("upload-extend", song(files), ref="job-42")
        site.post("video", video(files), ref="job-43")
        site.post("lyrics", lyrics(MARKUP, title=XSS), ref="job-44")
        site.settled(SONG, VIDEO, MARKUP)
        yield site


def song(files: MediaServer) -> dict[str, Any]:
    body = load_fixture(FIXTURES / "seeds" / "upload-extend.seed-000.json")
    body["data"]["task_id"] = SONG
    track = body["data"]["data"][0]
    track["audio_url"] = files.serve("/song.mp3", (MEDIA / "song.mp3").read_bytes(), "audio/mpeg")
    track["image_url"] = files.serve("/cover.jpeg", (MEDIA / "cover.jpeg").read_bytes(), "image/jpeg")
    for name in ("source_audio_url", "source_image_url", "stream_audio_url", "source_stream_audio_url"):
        track.pop(name, None)
    return body


def video(files: MediaServer) -> dict[str, Any]:
    url = files.serve("/video.mp4", (MEDIA / "video.mp4").read_bytes(), "video/mp4")
    return {"code": 200, "msg": "success", "data": {"task_id": VIDEO, "video_url": url}}


@pytest.fixture
def local_aws(site: Site, monkeypatch: pytest.MonkeyPatch) -> CliSettings:
    """This process pointed at local mode's moto, as a shell that pasted its export lines."""
    for name, value in site.local.exports.items():
        monkeypatch.setenv(name, value)
    client.cache_clear()
    load_settings.cache_clear()
    return site.settings


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM,
            # --no-sandbox: Chromium refuses to run as root with its sandbox (CI runs as root).
            args=["--no-sandbox", "--autoplay-policy=no-user-gesture-required"],
        )
        yield browser
        browser.close()


@dataclass
class Watched:
    page: Page
    dialogs: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    # Confirmations are answered yes (an operation the test means to do), else dismissed.
    confirm: bool = False


@pytest.fixture
def watched(browser: Browser) -> Iterator[Watched]:
    """A fresh page; the dialogs it opens and the errors it logs (a CSP violation included) are kept."""
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    page = context.new_page()
    watched = Watched(page)

    def on_dialog(dialog: Dialog) -> None:
        watched.dialogs.append(dialog.message)
        if watched.confirm and dialog.type == "confirm":
            dialog.accept()
        else:
            dialog.dismiss()

    def on_console(message: ConsoleMessage) -> None:
        if message.type == "error":
            watched.errors.append(message.text)

    page.on("dialog", on_dialog)
    page.on("console", on_console)
    page.on("pageerror", lambda error: watched.errors.append(str(error)))
    yield watched
    context.close()


def test_the_task_list_shows_the_demo_and_updates_live(site: Site, watched: Watched) -> None:
    page = watched.page
    page.goto(site.console_url)
    rows = page.locator("#tasks tbody tr")
    for task_id in (*DEMO_TASKS, SONG, VIDEO, MARKUP):
        expect(rows.filter(has_text=task_id)).to_have_count(1)

    # WHEN a callback arrives while the list is open
    site.post("lyrics", lyrics("console-live-1"), ref="job-live")

    # THEN it appears at the top without a reload
    expect(rows.first).to_contain_text("console-live-1", timeout=10_000)
    assert watched.errors == []


def test_a_song_page_plays_its_audio_and_shows_its_cover(site: Site, watched: Watched) -> None:
    page = watched.page
    page.goto(f"{site.console_url}tasks/{SONG}")
    expect(page.locator("h1")).to_contain_text(SONG)

    audio = page.locator("audio").first
    audio.evaluate("audio => { audio.muted = true; return audio.play(); }")
    page.wait_for_function(
        "() => { const a = document.querySelector('audio');"
        " return Number.isFinite(a.duration) && a.duration > 0 && a.currentTime > 0.3; }",
        timeout=10_000,
    )
    cover = page.locator("img").first
    page.wait_for_function("() => document.querySelector('img').complete", timeout=10_000)
    assert cover.evaluate("img => img.naturalWidth") > 0
    assert watched.errors == []

    if not SCREENSHOT.exists() or os.environ.get("UPDATE_SCREENSHOT") == "1":
        audio.evaluate("audio => audio.pause()")
        page.screenshot(path=str(SCREENSHOT))


def test_a_video_page_loads_its_video(site: Site, watched: Watched) -> None:
    page = watched.page
    page.goto(f"{site.console_url}tasks/{VIDEO}")
    page.wait_for_function(
        "() => { const v = document.querySelector('video');"
        " return v.readyState >= 1 && v.videoWidth > 0 && v.duration > 0; }",
        timeout=10_000,
    )
    assert watched.errors == []


def test_a_title_that_is_markup_shows_as_text_and_runs_nothing(site: Site, watched: Watched) -> None:
    page = watched.page
    page.goto(f"{site.console_url}tasks/{MARKUP}")

    expect(page.get_by_role("heading", name=XSS)).to_be_visible()
    # The only script is the console's own; nothing asked for a dialog.
    assert page.evaluate("() => [...document.scripts].map(s => new URL(s.src).pathname)") == [
        "/static/console.js"
    ]
    page.wait_for_timeout(300)
    assert watched.dialogs == []
    assert watched.errors == []


def test_replay_from_the_page_records_the_task(site: Site, watched: Watched, local_aws: CliSettings) -> None:
    # GIVEN a body an earlier version quarantined
    entry = quarantine(local_aws, "lyrics", lyrics("console-replayed"), ref="job-q")
    page = watched.page
    page.goto(f"{site.console_url}operations")
    section = page.locator(f"#q-{entry}")
    expect(section).to_contain_text("refused by an earlier version")

    # WHEN it is replayed from the page, confirming
    watched.confirm = True
    section.get_by_role("button", name="Replay").click()

    # THEN the page says what happened, and the task appears
    assert watched.dialogs == [f"Replay quarantined callback {entry}?"]
    expect(page.locator(".notice")).to_contain_text(f"Replayed {entry}: recorded as a new callback")
    page.locator(".notice a").click()
    expect(page.locator("h1")).to_contain_text("console-replayed")
    site.settled("console-replayed")


def test_redrive_from_the_page_archives_the_stuck_stage(
    site: Site, watched: Watched, local_aws: CliSettings
) -> None:
    # GIVEN a stage whose archive request ended in the DLQ
    dead_letter(local_aws, "lyrics", lyrics("console-redriven"), ref="job-d")
    page = watched.page
    page.goto(f"{site.console_url}operations")
    expect(page.locator(".depth")).to_contain_text("1 waiting")
    expect(page.locator(".dead-letters")).to_contain_text("console-redriven")

    # WHEN the DLQ is redriven from the page, confirming
    watched.confirm = True
    page.get_by_role("button", name="Redrive").click()

    # THEN the page says so, the DLQ is empty and the task appears in the list
    assert watched.dialogs == ["Move every DLQ message back to the archive queue?"]
    expect(page.locator(".notice")).to_contain_text("Moved 1 message(s)")
    expect(page.locator(".depth")).to_contain_text("0 waiting")
    site.settled("console-redriven")
    page.goto(site.console_url)
    expect(page.locator("#tasks tbody tr").filter(has_text="console-redriven")).to_have_count(1)


def test_a_post_from_a_foreign_origin_is_refused(
    site: Site, watched: Watched, local_aws: CliSettings
) -> None:
    # GIVEN a stuck message, and another site's page that posts to the console (even with the token)
    dead_letter(local_aws, "lyrics", lyrics("console-foreign"))
    page = watched.page
    page.goto(f"{site.console_url}operations")
    token = page.locator("input[name=token]").first.get_attribute("value")
    foreign = site.files.serve(
        "/foreign.html",
        (
            f'<form method="post" action="{site.console_url}operations/redrive">'
            f'<input type="hidden" name="token" value="{token}"><button>Win a prize</button></form>'
        ).encode(),
        "text/html",
    )

    # WHEN the user clicks its button
    page.goto(foreign)
    with page.expect_navigation() as navigation:
        page.get_by_role("button", name="Win a prize").click()

    # THEN the console refuses, and the message stays in the DLQ
    response = navigation.value
    assert response is not None and response.status == 403
    expect(page.locator("h1")).to_have_text("Refused")
    assert operations.dead_letters(local_aws.dlq_url or "").waiting >= 1
    operations.redrive(
        local_aws.dlq_url or "", local_aws.queue_url or "", on_progress=lambda moved, total: None
    )
