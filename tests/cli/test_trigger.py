"""`trigger`, `quarantine show` and `dlq` against local mode in this process, and what `task` shows of each
kind's result: what a developer sees after sending an example, and what is stored."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, HTTPServer
from pathlib import Path
from typing import Any

import boto3
import pytest

from suno_callbacks.cli import trigger
from suno_callbacks.cli.commands import main
from suno_callbacks.local.stack import LocalStack
from suno_callbacks.logic.normalise import normalise_body
from suno_callbacks.models.events import AssetState, Outcome
from suno_callbacks.models.kinds import Kind
from suno_callbacks.reader import Reader

pytestmark = pytest.mark.slow

EXAMPLES = [(kind, outcome) for kind in Kind for outcome in trigger.outcomes(kind)]
FAILURES = {"failure", "market-failure"}
STAGES_THAT_DO_NOT_END = {"text", "first"}


def printed(capsys: pytest.CaptureFixture[str]) -> str:
    """What the command printed (local mode runs in this process: its own log lines are left out)."""
    lines = capsys.readouterr().out.splitlines(keepends=True)
    return "".join(line for line in lines if not line.startswith(('{"level"', '{"_aws"')))


@pytest.fixture
def stack(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[LocalStack]:
    """Local mode in this process, its export lines in this process's environment (as a user's second
    shell has them), so `main([...])` uses it."""
    with (
        LocalStack(port=0, media_hosts=("127.0.0.1",), events_file=tmp_path / "events.jsonl") as local,
        monkeypatch.context() as environment,
    ):
        for name, value in local.environment.items():
            environment.setenv(name, value)
        yield local


@pytest.fixture
def reader(stack: LocalStack) -> Reader:
    return Reader.from_environment()


def test_every_kind_has_an_example_and_unknown_outcomes_are_listed(
    stack: LocalStack, capsys: pytest.CaptureFixture[str]
) -> None:
    assert {kind for kind, _ in EXAMPLES} == set(Kind)
    assert main(["trigger", "music", "--outcome", "bogus"]) == 1
    err = capsys.readouterr().err
    assert err.startswith("error: no 'bogus' example for music: use one of failure, market-failure,")


@pytest.mark.parametrize(("kind", "outcome"), EXAMPLES, ids=[f"{k}.{o}" for k, o in EXAMPLES])
def test_trigger_sends_the_example_as_a_new_task_and_archives_its_media(
    kind: Kind, outcome: str, reader: Reader, capsys: pytest.CaptureFixture[str]
) -> None:
    # WHEN the example is triggered against local mode
    assert main(["trigger", kind.value, "--outcome", outcome]) == 0
    out = printed(capsys)

    # THEN it was received as a new task, settled as its outcome says, every file of it archived
    answer, settled = out.splitlines()
    assert answer.startswith(f"{kind.value} {outcome} -> 200 received  task_id=trigger-{kind.value}-")
    task_id = answer.split("task_id=")[1].split()[0]
    view = reader.get_task(task_id)
    assert view is not None and view.kind is kind
    if outcome in STAGES_THAT_DO_NOT_END:
        assert view.outcome is None
        ended = f"{view.status} (not ended: more callbacks follow)"
    else:
        ended = str(view.outcome)
        assert view.outcome in (
            {Outcome.FAILED} if outcome in FAILURES else {Outcome.COMPLETED, Outcome.COMPLETED_WITH_FAILURES}
        )
    body = trigger.example_body(kind, outcome, task_id=task_id, media_base="http://127.0.0.1:1")
    media = normalise_body(kind, body).media
    # Every file archived: the media, and for MIDI the files rendered from its notes
    assert {(a.item_id, a.field) for a in view.assets} >= {(m.item_id, m.field) for m in media}
    assert {a.state for a in view.assets} <= {AssetState.ARCHIVED}
    assert settled == (
        f"task {task_id} {ended}: {len(view.assets)} file(s) archived, 0 failed "
        f"(`suno-callbacks task {task_id}` shows it)"
    )


def test_trigger_keeps_the_task_id_and_ref_it_is_given(
    reader: Reader, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["trigger", "lyrics", "--task-id", "my-task-1", "--ref", "job-7"]) == 0
    view = reader.get_task("my-task-1")
    assert view is not None and view.ref == "job-7" and view.outcome == Outcome.COMPLETED
    # Sent again, the same callback is a duplicate of that task: nothing new is recorded.
    capsys.readouterr()
    assert main(["trigger", "lyrics", "--task-id", "my-task-1", "--ref", "job-7"]) == 0
    assert printed(capsys).startswith("lyrics success -> 200 duplicate  task_id=my-task-1")


class Receiver:
    """Any other webhook receiver on 127.0.0.1: records what it was sent, answers 401."""

    def __init__(self) -> None:
        self.bodies: list[dict[str, Any]] = []
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, format: str, *args: Any) -> None:
                """Quiet."""

            def do_POST(self) -> None:
                receiver.bodies.append(json.loads(self.rfile.read(int(self.headers["Content-Length"]))))
                answer = b'{"status": "refused", "reason": "bad signature"}'
                self.send_response(401)
                self.send_header("Content-Length", str(len(answer)))
                self.end_headers()
                self.wfile.write(answer)

        self.server = HTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hook"


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    each = Receiver()
    thread = threading.Thread(target=each.server.serve_forever, daemon=True)
    thread.start()
    yield each
    each.server.shutdown()
    each.server.server_close()


def test_trigger_to_a_url_sends_the_example_as_it_is_and_fails_on_a_refusal(
    receiver: Receiver, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["trigger", "sounds", "--task-id", "t-out", "--url", receiver.url]) == 1
    assert capsys.readouterr().out == "sounds success -> 401 refused  reason=bad signature\n"
    [sent] = receiver.bodies
    assert sent["task_id"] == "t-out"
    # The provider's links are left alone: the receiver is not ours to point at sample files.
    assert sent["data"][0]["audio_url"].startswith("https://tempfile.aiquickdraw.com/")


def test_the_market_envelope_carries_the_new_task_id_inside_and_out(stack: LocalStack) -> None:
    body = json.loads(
        trigger.example_body(Kind.MUSIC, "market-success", task_id="t-m", media_base="http://x")
    )
    assert body["data"]["taskId"] == "t-m"
    result = json.loads(body["data"]["resultJson"])
    assert all(track["audio_url"].startswith("http://x/") for track in result["data"]["data"])


def test_quarantine_show_prints_the_body_as_it_came(
    stack: LocalStack, capsys: pytest.CaptureFixture[str]
) -> None:
    # GIVEN a signed callback whose body is not a music callback: quarantined
    body = b'{"code": 200, "data": {"taskId": "t-q", "state": "success", "resultJson": "{not json <b>"}}'
    answer = trigger.send(stack.signed_url("music"), body)
    assert answer.body["status"] == "quarantined"
    quarantine_id = answer.body["quarantine_id"]

    # WHEN it is shown
    assert main(["quarantine", "show", quarantine_id]) == 0
    out = printed(capsys)

    # THEN the entry and its body, pretty-printed, are there; as JSON, the body is the bytes that came
    assert quarantine_id in out.splitlines()[1] and "music" in out.splitlines()[1]
    assert out.split("\nBody\n")[1] == json.dumps(json.loads(body), indent=2) + "\n"
    assert main(["quarantine", "show", quarantine_id, "--json"]) == 0
    shown = json.loads(printed(capsys))
    assert shown["body"] == body.decode() and shown["kind"] == "music"

    # AND an unknown id is an error
    assert main(["quarantine", "show", "nope"]) == 1
    assert capsys.readouterr().err.startswith("error: ")


def test_dlq_shows_depth_and_messages_and_leaves_them(
    stack: LocalStack, capsys: pytest.CaptureFixture[str]
) -> None:
    # GIVEN an archive request for a task in the DLQ, and a message no version of archive reads
    environment = stack.environment
    sqs = boto3.client("sqs", endpoint_url=environment["AWS_ENDPOINT_URL"])
    dlq_url = environment["SUNO_CALLBACKS_DLQ_URL"]
    request = {
        "v": 2,
        "task_id": "t-dead",
        "stage": "complete",
        "kind": "music",
        "received_at": "2026-12-02T10:00:00.000000Z",
    }
    for number, body in enumerate([json.dumps(request), "not json"]):
        sqs.send_message(
            QueueUrl=dlq_url,
            MessageBody=body,
            MessageGroupId=f"g{number}",
            MessageDeduplicationId=str(number),
        )

    # WHEN the DLQ is shown, twice
    for _ in range(2):
        assert main(["dlq"]) == 0
        out = printed(capsys)

        # THEN both are listed, with the task and stage where there is one, and they stay in the DLQ
        lines = out.splitlines()
        assert lines[0] == "2 message(s) waiting, 0 in flight"
        rows = sorted(lines[2:4])
        assert rows[0].split()[:3] == ["-", "-", "-"] and rows[0].endswith("not json")
        assert rows[1].split()[:3] == ["t-dead", "complete", "music"]
    assert main(["dlq", "--json"]) == 0
    assert json.loads(printed(capsys))["waiting"] == 2
    sqs.purge_queue(QueueUrl=dlq_url)


@pytest.mark.parametrize(
    ("kind", "says"),
    [
        (Kind.LYRICS, ["Lyrics 1: "]),
        (Kind.VOICE, ["VOICE ID"]),
        (Kind.VOICE_VALIDATE, ["PHRASE"]),
        (Kind.SEPARATION, ["Stems\n  "]),
        (Kind.MIDI, ["MIDI instruments\n", "INSTRUMENT"]),
    ],
)
def test_task_shows_what_each_kind_produced(
    kind: Kind, says: list[str], stack: LocalStack, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["trigger", kind.value, "--task-id", f"view-{kind.value}"]) == 0
    capsys.readouterr()
    assert main(["task", f"view-{kind.value}"]) == 0
    out = printed(capsys)
    assert all(text in out for text in says), out


def test_the_default_outcome_is_a_success_where_there_is_one() -> None:
    assert trigger.default_outcome(Kind.SEPARATION) == "success-stems"
    assert trigger.default_outcome(Kind.RECOVERY) == "partial"
    assert trigger.default_outcome(Kind.ADD_VOCALS) == "failure"
