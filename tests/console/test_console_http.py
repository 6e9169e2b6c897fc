"""The console over HTTP, no browser: who it answers, what it sends, what it escapes, how it runs."""

from __future__ import annotations

import hashlib
import html
import json
import re
import socket
import subprocess
import sys
import time
from datetime import UTC, datetime
from urllib.parse import parse_qs, urlsplit

import pytest

from suno_callbacks.cli import operations
from suno_callbacks.console.pages import task_path
from suno_callbacks.local.stack import LocalStack
from tests.cli.conftest import failed_music, lyrics, post_callback
from tests.conftest import FIXTURES, load_fixture
from tests.console.conftest import (
    MEDIA,
    Console,
    dead_letter,
    quarantine,
    settings_of,
)
from tests.local.conftest import MediaServer, clean_environment, seed_track_callbacks

pytestmark = pytest.mark.slow

XSS = "<script>alert(1)</script>"
EXPECTED_HEADERS = {
    "x-content-type-options": "nosniff",
    "x-frame-options": "DENY",
    "cache-control": "no-store",
    "cross-origin-opener-policy": "same-origin",
    "cross-origin-resource-policy": "same-origin",
    "referrer-policy": "same-origin",
}


def policy(media: str) -> str:
    return (
        "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; "
        f"img-src {media}; media-src {media}; form-action 'self'; frame-ancestors 'none'; base-uri 'none'"
    )


def song_with_media(media: MediaServer, task_id: str) -> dict[str, object]:
    body = load_fixture(FIXTURES / "seeds" / "upload-extend.seed-000.json")
    body["data"]["task_id"] = task_id
    track = body["data"]["data"][0]
    track["audio_url"] = media.serve("/song.mp3", (MEDIA / "song.mp3").read_bytes(), "audio/mpeg")
    track["image_url"] = media.serve("/cover.jpeg", (MEDIA / "cover.jpeg").read_bytes(), "image/jpeg")
    for name in ("source_audio_url", "source_image_url", "stream_audio_url", "source_stream_audio_url"):
        track.pop(name, None)
    return body


# --- who it answers -----------------------------------------------------------------------------------


@pytest.mark.parametrize("host", ["evil.example", "evil.example:{port}", "127.0.0.1:1", "localhost", None])
def test_a_request_naming_another_host_is_refused(console: Console, host: str | None) -> None:
    # A DNS-rebinding page reaches 127.0.0.1 under its own name, which the browser sends as Host.
    headers = {"Host": host.format(port=console.port)} if host is not None else {"Host": ""}
    answer = console.get("/", headers=headers)
    assert answer.status == 403
    assert "answers only to its own address" in answer.text


@pytest.mark.parametrize("host", ["127.0.0.1:{port}", "localhost:{port}", "LOCALHOST:{port}"])
def test_its_own_addresses_are_served(console: Console, host: str) -> None:
    assert console.get("/", headers={"Host": host.format(port=console.port)}).status == 200


@pytest.mark.parametrize(
    "headers",
    [
        {"Origin": "http://evil.example"},
        {"Origin": "http://127.0.0.1:1"},
        {"Origin": "null"},
        {},  # neither Origin nor Sec-Fetch-Site
        {"Sec-Fetch-Site": "cross-site"},
        {"Sec-Fetch-Site": "same-site"},
    ],
    ids=["foreign-origin", "other-port", "null-origin", "no-origin", "cross-site", "same-site"],
)
def test_an_operation_from_anywhere_but_its_own_page_is_refused_and_does_nothing(
    console: Console, local_stack: LocalStack, headers: dict[str, str]
) -> None:
    settings = settings_of(local_stack)
    dead_letter(settings, "lyrics", lyrics("stuck"))
    token = console.token()

    answer = console.post("/operations/redrive", {"token": token}, headers=headers)

    assert answer.status == 403
    assert "only from the pages of this console" in answer.text
    assert operations.dead_letters(settings.dlq_url or "").waiting == 1


@pytest.mark.parametrize("token", [None, "", "wrong-token"])
def test_an_operation_without_the_pages_token_is_refused(
    console: Console, local_stack: LocalStack, token: str | None
) -> None:
    settings = settings_of(local_stack)
    entry = quarantine(settings, "lyrics", lyrics("q-token"))
    form = {"quarantine_id": entry} | ({"token": token} if token is not None else {})

    answer = console.post("/operations/replay", form, headers={"Origin": console.origin})

    assert answer.status == 403
    assert operations.list_quarantine(settings)[0].replayed_at is None


def test_replay_and_redrive_from_its_own_page_say_what_happened(
    console: Console, local_stack: LocalStack
) -> None:
    settings = settings_of(local_stack)
    entry = quarantine(settings, "lyrics", lyrics("q-ok"), ref="job-q")
    dead_letter(settings, "lyrics", lyrics("dlq-ok"))
    token = console.token()

    # Origin as browsers send it on a form post; or no Origin but Sec-Fetch-Site (older browsers).
    replayed = console.post(
        "/operations/replay", {"token": token, "quarantine_id": entry}, headers={"Origin": console.origin}
    )
    redriven = console.post(
        "/operations/redrive", {"token": token}, headers={"Sec-Fetch-Site": "same-origin"}
    )

    assert replayed.status == redriven.status == 303
    assert "recorded as a new callback" in console.get(replayed.headers["location"]).text
    assert "Moved 1 message(s)" in console.get(redriven.headers["location"]).text
    local_stack.wait_until_idle(timeout=15)
    listed = json.loads(console.get("/tasks.json").text)
    assert {t["task_id"] for t in listed["tasks"]} == {"q-ok", "dlq-ok"}


def test_a_notice_cannot_be_forged_by_a_link(console: Console) -> None:
    page = console.get("/operations?notice=Your%20account%20is%20locked")
    assert page.status == 200
    assert "account is locked" not in page.text


# --- what it sends ------------------------------------------------------------------------------------


def test_every_page_sends_the_security_headers_and_no_media_origin_without_media(console: Console) -> None:
    for path in ("/", "/tasks.json", "/operations", "/static/console.js", "/nope", "/tasks/none"):
        answer = console.get(path)
        assert answer.headers["content-security-policy"] == policy("'none'"), path
        assert EXPECTED_HEADERS.items() <= answer.headers.items(), path


def test_media_comes_only_from_the_exact_origin_of_short_lived_presigned_urls(
    console: Console, local_stack: LocalStack, media_server: MediaServer
) -> None:
    # GIVEN a song archived with its audio and cover
    post_callback(local_stack, "upload-extend", song_with_media(media_server, "song-1"))
    local_stack.wait_until_idle(timeout=15)

    page = console.get("/tasks/song-1")

    # THEN its files are linked by presigned URLs on the store's endpoint (moto here), valid 15 minutes
    urls = re.findall(r'src="(http[^"]+)"', page.text)
    assert len(urls) == 2
    endpoint = local_stack.environment["AWS_ENDPOINT_URL"]
    for url in urls:
        parts = urlsplit(url.replace("&amp;", "&"))
        assert f"{parts.scheme}://{parts.netloc}" == endpoint
        query = parse_qs(parts.query)
        assert "X-Amz-Signature" in query or "Signature" in query
        expires = int(query["X-Amz-Expires"][0]) if "X-Amz-Expires" in query else None
        if expires is None:
            expires = int(query["Expires"][0]) - int(datetime.now(UTC).timestamp())
        assert 0 < expires <= 15 * 60
    # and the page's policy allows media from that origin, and nowhere else
    assert page.headers["content-security-policy"] == policy(endpoint)
    assert "<audio controls" in page.text and "<img src=" in page.text


# --- what it shows -----------------------------------------------------------------------------------


def test_a_task_page_shows_stages_in_order_with_bodies_and_redeliveries_items_assets_and_events(
    console: Console, local_stack: LocalStack, media_server: MediaServer
) -> None:
    # GIVEN a song sent text -> first -> complete, the complete stage sent again with a different body
    text, first, complete = seed_track_callbacks(media_server)
    for body in (text, first, complete):
        assert post_callback(local_stack, "upload-extend", body) == "received"
    assert post_callback(local_stack, "upload-extend", {**complete, "resent": "again"}) == "duplicate"
    local_stack.wait_until_idle(timeout=15)

    page = html.unescape(console.get("/tasks/local-e2e-song").text)

    # THEN its stages come in arrival order, each with its body, the redelivery with its own
    headings = [page.index(f"<h3>{stage} · upload-extend</h3>") for stage in ("text", "first", "complete")]
    assert headings == sorted(headings)
    assert '"msg": "Text generation completed."' in page
    assert "Redeliveries" in page and '"resent": "again"' in page
    # its item as normalised, its files with size and SHA-256, and the events sent
    track = complete["data"]["data"][0]
    for shown in (track["title"], track["tags"], f"{track['duration']:g} s"):
        assert shown in page
    audio = media_server.files["/song.mp3"][0]
    assert hashlib.sha256(audio).hexdigest() in page
    assert f"{len(audio):,} B" in page
    assert "archived" in page and "source expires" in page
    assert "task.completed" in page and "task.progress" in page


def test_the_list_filters_by_kind_status_ref_and_age(console: Console, local_stack: LocalStack) -> None:
    post_callback(local_stack, "lyrics", lyrics("l-1"), ref="job-a")
    post_callback(local_stack, "music", failed_music("m-1"), ref="job-b")
    local_stack.wait_until_idle(timeout=15)

    def listed(query: str) -> list[str]:
        return [t["task_id"] for t in json.loads(console.get(f"/tasks.json?{query}").text)["tasks"]]

    assert listed("") == ["m-1", "l-1"]
    assert listed("kind=lyrics") == ["l-1"]
    assert listed("status=failed") == ["m-1"]
    assert listed("status=complete") == ["l-1"]
    assert listed("ref=job-b") == ["m-1"]
    assert listed("since=1h&kind=music") == ["m-1"]
    # the page's form keeps what was chosen
    assert '<option value="lyrics" selected>' in console.get("/?kind=lyrics").text


def test_voice_and_midi_pages_show_the_voice_id_and_the_instruments(
    console: Console, local_stack: LocalStack
) -> None:
    voice = load_fixture(FIXTURES / "examples" / "voice.success.json")
    midi = load_fixture(FIXTURES / "examples" / "midi.success.json")
    post_callback(local_stack, "voice", voice)
    post_callback(local_stack, "midi", midi)
    local_stack.wait_until_idle(timeout=15)

    voice_page = html.unescape(console.get(task_path(voice["data"]["taskId"])).text)
    midi_page = html.unescape(console.get(task_path(midi["task_id"])).text)

    assert voice["data"]["voiceId"] in voice_page
    for instrument in midi["data"]["instruments"]:
        assert f"{instrument['name']}: {len(instrument['notes'])} notes" in midi_page


# --- what it escapes ----------------------------------------------------------------------------------


def test_what_a_callback_carries_is_text_in_the_page_the_list_and_the_json(
    console: Console, local_stack: LocalStack
) -> None:
    # GIVEN a task whose id and title are markup
    task_id = '<img src=x onerror="alert(2)">'
    post_callback(local_stack, "lyrics", lyrics(task_id, title=XSS))
    local_stack.wait_until_idle(timeout=15)

    task_page = console.get("/tasks/%3Cimg%20src%3Dx%20onerror%3D%22alert(2)%22%3E")
    listed = console.get("/")
    as_json = console.get("/tasks.json")

    assert task_page.status == 200
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in task_page.text
    for text in (task_page.text, listed.text, as_json.text):
        assert XSS not in text
        assert "<img src=x" not in text
    assert "&lt;img src=x onerror=&quot;alert(2)&quot;&gt;" in listed.text
    # JSON: no raw `<` at all, and it still reads back as the same id
    assert "<" not in as_json.text
    assert json.loads(as_json.text)["tasks"][0]["task_id"] == task_id
    assert as_json.headers["content-type"] == "application/json; charset=utf-8"


def test_a_bad_filter_or_cursor_is_a_page_saying_so(console: Console) -> None:
    assert "is not a kind" in console.get("/?kind=songs").text
    assert console.get("/?cursor=bogus").status == 400
    assert console.get("/?since=forever").status == 400
    assert json.loads(console.get("/tasks.json?cursor=bogus").text)["error"].endswith("first page")


# --- how it runs --------------------------------------------------------------------------------------


def start_console(environment: dict[str, str]) -> tuple[subprocess.Popen[str], str]:
    """`suno-callbacks console` in a shell with `environment`; its URL, read from what it printed."""
    process = subprocess.Popen(
        [sys.executable, "-m", "suno_callbacks.cli", "console"],
        env={**clean_environment(), **environment, "PYTHONUNBUFFERED": "1"},
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    assert process.stdout is not None
    line = process.stdout.readline()
    match = re.search(r"http://127\.0\.0\.1:\d+/", line)
    if match is None:
        process.kill()
        pytest.fail(f"the console printed no URL: {line!r}")
    return process, match.group(0)


def test_the_console_command_prints_its_url_serves_and_exits_0_on_sigterm(local_stack: LocalStack) -> None:
    process, url = start_console(local_stack.environment)
    try:
        answer = Console(url).get("/operations")
        assert answer.status == 200
        assert "Dead-letter queue" in answer.text
    finally:
        process.terminate()
        assert process.wait(timeout=10) == 0


def test_an_unreachable_store_is_a_503_page_saying_what_to_check() -> None:
    with socket.socket() as unused:
        unused.bind(("127.0.0.1", 0))
        endpoint = f"http://127.0.0.1:{unused.getsockname()[1]}"
    environment = {
        "AWS_ENDPOINT_URL": endpoint,
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "SUNO_CALLBACKS_TABLE": "gone",
        "SUNO_CALLBACKS_BUCKET": "gone",
    }
    process, url = start_console(environment)
    try:
        started = time.monotonic()
        answer = Console(url).get("/")
        assert time.monotonic() - started < 20
        assert answer.status == 503
        assert f"is `suno-callbacks local` still running at {endpoint}?" in answer.text
    finally:
        process.terminate()
        process.wait(timeout=10)
