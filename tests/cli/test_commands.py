"""The command line itself: help, --version, and every mistake answered with one `error:` line that says
what to do next (never a traceback), with the exit status the README documents."""

from __future__ import annotations

import argparse
import json
import socket
from collections.abc import Iterator
from pathlib import Path

import pytest

from suno_callbacks.cli.commands import build_parser, main
from suno_callbacks.local.stack import LocalStack
from suno_callbacks.models.events import Outcome
from suno_callbacks.models.kinds import Kind, Stage
from suno_callbacks.reader import Reader
from tests.cli.conftest import failed_music, lyrics, post_callback
from tests.ingest.conftest import BASE_URL, Aws, http_event, invoke, post, signed_path


def one_error_line(capsys: pytest.CaptureFixture[str]) -> str:
    """What the CLI printed on stderr, which must be a single `error: ...` line."""
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and err.startswith("error: "), err
    assert "Traceback" not in err
    return err


def every_parser(parser: argparse.ArgumentParser) -> Iterator[argparse.ArgumentParser]:
    yield parser
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for subparser in action.choices.values():
                yield from every_parser(subparser)


def test_every_command_and_option_has_help() -> None:
    parser = build_parser()
    missing = [
        f"{each.prog} {action.dest}"
        for each in every_parser(parser)
        for action in each._actions
        if not action.help or action.help == argparse.SUPPRESS
    ]
    assert missing == []
    [commands] = [a for a in parser._actions if isinstance(a, argparse._SubParsersAction)]
    assert {c.dest for c in commands._choices_actions if c.help} == set(commands.choices)


def test_version_prints_the_package_version(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--version"]) == 0
    assert capsys.readouterr().out == "suno-callbacks 0.1.0\n"


@pytest.mark.parametrize(
    ("argv", "says"),
    [
        (["url", "music", "--ref", "bad ref"], "'bad ref' is not a ref: use 1-128 letters, digits"),
        (["tasks", "--limit", "-3"], "'-3' is not a limit: use a whole number, 1 or more"),
        (["tasks", "--limit", "ten"], "'ten' is not a limit"),
        (["tasks", "--since", "yesterday"], "use ISO 8601"),
        (["local", "--port", "70000"], "'70000' is not a port: use 1-65535, or 0 for a free one"),
        (["url", "mucis"], "'mucis' is not a kind: use one of music, extend,"),
        ([], "the following arguments are required: COMMAND (see `suno-callbacks --help`)"),
    ],
)
def test_a_bad_command_line_is_one_error_line_with_exit_status_2(
    argv: list[str], says: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(argv) == 2
    assert says in one_error_line(capsys)


def test_invalid_kind_and_status_list_the_valid_values(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["tasks", "--kind", "bogus"]) == 2
    error = one_error_line(capsys)
    assert all(kind.value in error for kind in Kind)
    assert "see `suno-callbacks tasks --help`" in error

    assert main(["tasks", "--status", "done"]) == 2
    error = one_error_line(capsys)
    assert all(value in error for value in [*Stage, *Outcome])
    assert "a stage (text, first, complete, error" in error and "or an outcome (completed," in error


def test_tasks_status_filters_by_stage_or_by_outcome(
    local_stack: LocalStack, capsys: pytest.CaptureFixture[str]
) -> None:
    # GIVEN a lyrics task that completed and a music task that failed, both archived (outcome set)
    assert post_callback(local_stack, "lyrics", lyrics("t-lyrics")) == "received"
    assert post_callback(local_stack, "music", failed_music("t-music")) == "received"
    local_stack.wait_until_idle(timeout=30)
    capsys.readouterr()  # the handlers' logs

    def listed(*options: str) -> list[tuple[str, str, str]]:
        assert main(["tasks", "--json", *options]) == 0
        return [(t["task_id"], t["status"], t["outcome"]) for t in json.loads(capsys.readouterr().out)]

    # THEN an outcome word filters the OUTCOME column, a stage word the STATUS column
    assert listed("--status", "completed") == [("t-lyrics", "complete", "completed")]
    assert listed("--status", "failed") == [("t-music", "error", "failed")]
    assert listed("--status", "completed_with_failures") == []
    assert listed("--status", "complete") == [("t-lyrics", "complete", "completed")]
    assert listed("--status", "error", "--kind", "music") == [("t-music", "error", "failed")]
    # ... and a table with no rows says so
    assert main(["tasks", "--status", "text"]) == 0
    assert capsys.readouterr().out == "none\n"


def test_url_needs_only_the_base_url_and_the_secret(
    aws: Aws, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    # GIVEN a shell with the base URL and the secret, but no table or bucket
    monkeypatch.setenv("SUNO_CALLBACKS_BASE_URL", BASE_URL)
    monkeypatch.delenv("SUNO_CALLBACKS_TABLE")
    monkeypatch.delenv("SUNO_CALLBACKS_BUCKET")

    # WHEN a URL is asked for, THEN it is printed, and ingest accepts a callback sent to it
    assert main(["url", "lyrics", "--ref", "job-7"]) == 0
    url = capsys.readouterr().out.strip()
    assert url.startswith(f"{BASE_URL}/callbacks/lyrics?ref=job-7&sig=")
    monkeypatch.setenv("SUNO_CALLBACKS_TABLE", "suno-callbacks-test")
    monkeypatch.setenv("SUNO_CALLBACKS_BUCKET", "suno-callbacks-test-media")
    assert post("lyrics", lyrics("t-url"), ref="job-7")[1]["status"] == "received"
    aws.settle()
    assert Reader.from_environment().find_tasks_by_ref("job-7")[0].task_id == "t-url"


def test_url_without_base_url_says_what_to_set(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("SUNO_CALLBACKS_TABLE", "a-table")
    assert main(["url", "music"]) == 1
    error = one_error_line(capsys)
    assert "SUNO_CALLBACKS_BASE_URL and SUNO_CALLBACKS_SECRET_ID" in error
    assert "suno-callbacks local" in error and "--stack NAME" in error
    assert "table" not in error


def test_replay_of_an_unknown_id_fails_and_replays_nothing(
    aws: Aws, capsys: pytest.CaptureFixture[str]
) -> None:
    # GIVEN one quarantined callback (not JSON)
    invoke(http_event(signed_path("lyrics"), "not json"))
    [quarantined] = aws.quarantined()
    capsys.readouterr()

    # WHEN it is replayed along with an id that does not exist
    assert main(["replay", quarantined["quarantine_id"], "no-such-id"]) == 1

    # THEN the error names the unknown id and where ids come from, and nothing was replayed
    error = one_error_line(capsys)
    assert "'no-such-id'" in error and "`suno-callbacks quarantine`" in error
    assert "replayed_at" not in aws.quarantined()[0]


def test_a_busy_port_names_both_ways_to_choose_another(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        assert main(["local", "--port", str(port), "--state-dir", str(tmp_path)]) == 1
    error = one_error_line(capsys)
    assert f"port {port} is in use" in error
    assert "`make run PORT=N`" in error and "`suno-callbacks local --port N`" in error


def test_an_events_file_that_cannot_be_written_says_which_option_to_change(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    not_a_folder = tmp_path / "a-file"
    not_a_folder.write_text("")
    events_file = not_a_folder / "events.jsonl"
    assert (
        main(["local", "--port", "0", "--events-file", str(events_file), "--state-dir", str(tmp_path)]) == 1
    )
    error = one_error_line(capsys)
    assert f"cannot write the events file {not_a_folder / 'events.jsonl'}" in error
    assert "pass --events-file PATH" in error
