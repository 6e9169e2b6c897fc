"""What `suno-callbacks local` prints and keeps: one readable line per request, event and forwarded
delivery (the handlers' JSON logs only with --verbose); `--forward-to` as an SNS HTTP subscription; the
signing secret kept across a restart; this run's events only; a burst of senders without resets."""

from __future__ import annotations

import http.client
import json
import threading
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest

from suno_callbacks.local.console import QUICKSTART_BODY, QUICKSTART_TASK_ID
from tests.local.conftest import LocalMode, events, post, running_local_mode

pytestmark = pytest.mark.slow


def quickstart_url(local: LocalMode) -> str:
    curl = next(line.strip() for line in local.banner if line.strip().startswith("curl "))
    return curl.split("'")[1]


def banner_url(local: LocalMode, kind: str) -> str:
    """The signed URL the banner lists for `kind`."""
    return next(line.split()[1] for line in local.banner if line.split()[:1] == [kind])


def post_raw(url: str, method: str = "POST", body: bytes = b"{}") -> int:
    request = urllib.request.Request(url, data=body if method == "POST" else None, method=method)
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return int(response.status)
    except urllib.error.HTTPError as error:
        return error.code


def is_json_object(line: str) -> bool:
    try:
        return isinstance(json.loads(line), dict)
    except ValueError:
        return False


# --- readable lines --------------------------------------------------------------------------------


def test_each_request_and_event_is_one_readable_line_and_no_json(tmp_path: Path) -> None:
    with running_local_mode(tmp_path / "events.jsonl") as local:
        # GIVEN local mode without --verbose, which says the JSON logs are hidden
        assert any("--verbose shows them" in line for line in local.banner)
        base_url = local.exports["SUNO_CALLBACKS_BASE_URL"]

        # WHEN the quickstart is sent, then a request to no route, one with a forged signature, and lyrics
        # to the music URL
        status, answer = post(quickstart_url(local), QUICKSTART_BODY)
        assert (status, answer["status"]) == (200, "received")
        assert post_raw(f"{base_url}/nowhere", method="GET") == 404
        assert post_raw(quickstart_url(local).replace("sig=", "sig=x")) == 401
        misrouted = {**QUICKSTART_BODY, "data": {**QUICKSTART_BODY["data"], "task_id": "misrouted-lyrics"}}
        status, answer = post(banner_url(local, "music"), misrouted)
        assert (status, "warning" in answer) == (200, True)
        events(local, QUICKSTART_TASK_ID, "task.completed")

        # THEN each request is a line with its time, path (no signature), status, outcome, task and stage
        received = local.wait_for_line("POST /callbacks/lyrics", "200 received")
        assert f"task={QUICKSTART_TASK_ID} stage=complete" in received and received.rstrip().endswith(" ms")
        assert "sig=" not in received
        assert "404 not found" in local.wait_for_line("GET /nowhere")
        assert "401 unauthorised" in local.wait_for_line("POST /callbacks/lyrics", "401")
        # ... a warning follows its request's line
        warned = local.wait_for_line("POST /callbacks/music", "200 received", "task=misrouted-lyrics")
        assert local.output[local.output.index(warned) + 1].strip() == f"warning: {answer['warning']}"
        # ... the event is a line too
        completed = local.wait_for_line("event task.completed")
        assert f"task={QUICKSTART_TASK_ID} status=completed ref=my-job-1" in completed
        # ... and nothing else was printed: no JSON log line of the handlers
        assert not [line for line in local.output if is_json_object(line)]
        local.wait_for_line("event task.", "task=misrouted-lyrics")
        assert len(local.output) == 7, "".join(local.output)


def test_verbose_adds_the_handlers_json_logs(tmp_path: Path) -> None:
    with running_local_mode(tmp_path / "events.jsonl", "--verbose") as local:
        # GIVEN local mode with --verbose, WHEN the quickstart is sent
        post(quickstart_url(local), QUICKSTART_BODY)
        local.wait_for_line("event task.completed")

        # THEN the readable lines come with Powertools' JSON logs of both handlers
        local.wait_for_line("POST /callbacks/lyrics", "200 received")
        answered = json.loads(local.wait_for_line('"message":"callback answered"'))
        assert (answered["level"], answered["function_name"]) == ("INFO", "ingest")
        assert is_json_object(local.wait_for_line('"function_name":"archive"'))


# --- --forward-to ------------------------------------------------------------------------------------


@dataclass
class Webhook:
    """A subscriber's endpoint on 127.0.0.1 that fails the first `failures` POSTs with 500."""

    failures: int
    url: str = ""
    received: list[tuple[dict[str, str], dict[str, Any], int]] = field(default_factory=list)


@pytest.fixture
def webhook() -> Iterator[Webhook]:
    hook = Webhook(failures=1)

    class Handler(BaseHTTPRequestHandler):
        def log_message(self, format: str, *args: Any) -> None:
            pass

        def do_POST(self) -> None:
            body = json.loads(self.rfile.read(int(self.headers["content-length"])))
            status = 500 if len(hook.received) < hook.failures else 200
            hook.received.append(({k.lower(): v for k, v in self.headers.items()}, body, status))
            self.send_response(status)
            self.send_header("content-length", "0")
            self.end_headers()

    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    httpd.daemon_threads = True
    hook.url = f"http://127.0.0.1:{httpd.server_address[1]}/hook"
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    yield hook
    httpd.shutdown()
    httpd.server_close()


def test_forward_to_delivers_an_sns_notification_and_retries_a_failure(
    tmp_path: Path, webhook: Webhook
) -> None:
    with running_local_mode(tmp_path / "events.jsonl", "--forward-to", webhook.url) as local:
        # GIVEN local mode forwarding to a webhook whose first answer is 500
        assert any(f"POSTed to {webhook.url} as an SNS notification" in line for line in local.banner)

        # WHEN a task completes
        post(quickstart_url(local), QUICKSTART_BODY)

        # THEN the failed delivery is printed, retried, and the retry delivered
        failed = local.wait_for_line("forward task.completed", "failed: HTTP 500")
        assert "retrying in 0.5 s" in failed
        delivered = local.wait_for_line("forward task.completed", "200 delivered to", "(attempt 2)")
        assert webhook.url in delivered

    # ... the same notification twice (the failure, then the retry), and nothing else
    assert [status for _, _, status in webhook.received] == [500, 200]
    (headers, notification, _), (retry_headers, retried, _) = webhook.received
    assert (
        retried == notification and retry_headers["x-amz-sns-message-id"] == headers["x-amz-sns-message-id"]
    )
    # ... shaped as SNS POSTs a notification to an HTTP subscriber
    assert headers["content-type"] == "text/plain; charset=UTF-8"
    assert headers["x-amz-sns-message-type"] == "Notification"
    assert headers["x-amz-sns-message-id"] == notification["MessageId"]
    assert headers["x-amz-sns-topic-arn"] == notification["TopicArn"]
    assert notification["Type"] == "Notification"
    assert notification["TopicArn"].endswith(":suno-callbacks-events")
    assert {"Timestamp", "SignatureVersion", "Signature", "SigningCertURL"} <= set(notification)
    event = json.loads(notification["Message"])
    assert (event["event"], event["task_id"], event["ref"]) == (
        "task.completed",
        QUICKSTART_TASK_ID,
        "my-job-1",
    )
    assert notification["MessageAttributes"] == {
        "event": {"Type": "String", "Value": "task.completed"},
        "kind": {"Type": "String", "Value": "lyrics"},
        "status": {"Type": "String", "Value": "completed"},
    }


# --- state across restarts -------------------------------------------------------------------------


def lyrics_path(local: LocalMode) -> str:
    """The signed path and query of the banner's lyrics URL: what a saved callBackUrl keeps."""
    url = urlsplit(quickstart_url(local))
    return f"{url.path}?{url.query}"


def test_the_signing_secret_survives_a_restart_and_reset_replaces_it(tmp_path: Path) -> None:
    state = tmp_path / "state"
    args = ("--state-dir", str(state))
    # GIVEN a first run without a secret in the environment: it makes one and keeps it
    with running_local_mode(tmp_path / "events.jsonl", *args, secret=None) as first:
        assert any(f"new, kept in {state / 'local.json'}" in line for line in first.banner)
        saved_path = lyrics_path(first)
    assert json.loads((state / "local.json").read_text())["secret"]
    assert (state / "local.json").stat().st_mode & 0o077 == 0

    # WHEN it is started again, THEN the URL the first run signed is accepted
    with running_local_mode(tmp_path / "events.jsonl", *args, secret=None) as second:
        assert any(f"kept in {state / 'local.json'} since an earlier run" in line for line in second.banner)
        status, answer = post(second.exports["SUNO_CALLBACKS_BASE_URL"] + saved_path, QUICKSTART_BODY)
        assert (status, answer["status"]) == (200, "received")

    # ... and after --reset it is not: a new secret
    with running_local_mode(tmp_path / "events.jsonl", *args, "--reset", secret=None) as third:
        assert any("new, kept in" in line for line in third.banner)
        status, _ = post(third.exports["SUNO_CALLBACKS_BASE_URL"] + saved_path, QUICKSTART_BODY)
        assert status == 401


def test_the_events_file_holds_this_runs_events_only(tmp_path: Path) -> None:
    # GIVEN an events file with a previous run's event
    events_file = tmp_path / "events.jsonl"
    events_file.write_text('{"event":"task.completed","task_id":"from-last-run"}\n')

    with running_local_mode(events_file) as local:
        # WHEN local mode starts, THEN the file is emptied, as the banner says
        assert any("emptied at start" in line for line in local.banner)
        assert events_file.read_text() == ""
        # ... and then holds this run's events
        post(quickstart_url(local), QUICKSTART_BODY)
        found = events(local, QUICKSTART_TASK_ID, "task.completed")
        assert {e["task_id"] for e in map(json.loads, events_file.read_text().splitlines())} == {
            QUICKSTART_TASK_ID
        }
        assert found


# --- a burst of senders ------------------------------------------------------------------------------


@pytest.mark.parametrize("keep_alive", [True, False], ids=["keep-alive", "a-connection-each"])
def test_sixteen_concurrent_senders_get_no_resets(tmp_path: Path, keep_alive: bool) -> None:
    senders, each = 16, 12
    with running_local_mode(tmp_path / "events.jsonl") as local:
        url = urlsplit(quickstart_url(local))
        target = f"{url.path}?{url.query}"
        start = threading.Barrier(senders)
        statuses: list[int] = []
        failures: list[BaseException] = []

        # Without keep-alive each request is a new connection: 16 connecting at once, again and again.
        headers = {} if keep_alive else {"Connection": "close"}

        def send(sender: int) -> None:
            connection = http.client.HTTPConnection(url.hostname, url.port, timeout=30)
            start.wait()
            try:
                for n in range(each):
                    body = {
                        **QUICKSTART_BODY,
                        "data": {**QUICKSTART_BODY["data"], "task_id": f"burst-{sender}-{n}"},
                    }
                    connection.request("POST", target, body=json.dumps(body), headers=headers)
                    response = connection.getresponse()
                    response.read()
                    statuses.append(response.status)
            except (OSError, http.client.HTTPException) as error:
                failures.append(error)
            finally:
                connection.close()

        # WHEN 16 senders post at once
        threads = [threading.Thread(target=send, args=(n,)) for n in range(senders)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()

    # THEN every callback is answered 200, none reset
    assert failures == []
    assert statuses == [200] * (senders * each)
