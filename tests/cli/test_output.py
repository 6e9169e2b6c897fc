"""Tables as a terminal shows them: columns aligned by display width, one line per row, `none` when empty."""

from __future__ import annotations

import json

import pytest

from suno_callbacks.cli.commands import main
from suno_callbacks.cli.output import shown_safely, table
from tests.cli.conftest import lyrics
from tests.ingest.conftest import Aws, post


def test_wide_and_combining_characters_keep_the_columns_aligned() -> None:
    rows = [
        ("t-1", "夜空の星", "3:10"),  # four wide characters: eight cells
        ("t-2", "🎸 Rock", "2:00"),  # an emoji takes two cells
        ("t-3", "Cafe\u0301", "1:00"),  # e + a combining acute accent: one cell
    ]
    assert table(["task", "title", "length"], rows) == (
        "TASK  TITLE     LENGTH\nt-1   夜空の星  3:10\nt-2   🎸 Rock   2:00\nt-3   Cafe\u0301      1:00"
    )


def test_a_cell_is_one_line_of_plain_text() -> None:
    rows = [("a\nb", "tab\there", "\x1b[31mred"), (None, "", "x")]
    assert table(["one", "two", "three"], rows) == (
        "ONE  TWO       THREE\n" + "a b  tab here  [31mred\n" + "-    -         x"
    )


def test_an_empty_table_says_none() -> None:
    assert table(["task", "kind"], []) == "none"


def test_task_shows_a_wide_title_aligned_and_no_assets_as_none(
    aws: Aws, capsys: pytest.CaptureFixture[str]
) -> None:
    # GIVEN a lyrics task (no media) whose variants have a Japanese and an emoji title
    body = lyrics("t-wide", title="夜空の星")
    body["data"]["data"].append({**body["data"]["data"][0], "title": "Moon 🌙"})
    post("lyrics", body)
    capsys.readouterr()

    # WHEN it is shown
    assert main(["task", "t-wide"]) == 0
    out = capsys.readouterr().out

    # THEN the items' next column starts in the same terminal column, each lyrics text is shown, and the
    # empty file list says none
    items = out.split("Result\n")[1].split("\n\n")[0].splitlines()
    assert items == [
        "ITEM  TITLE     STATUS",
        "1     夜空の星  complete",
        "2     Moon 🌙   complete",
    ]
    assert "Lyrics 2: Moon 🌙\n[Verse]" in out
    assert out.endswith("Files\nnone\n")


# What a terminal acts on rather than shows: colour and screen-clearing sequences, a clipboard write
# (OSC 52) ended by BEL, the one-byte CSI, a carriage return, and a right-to-left override.
ACTING = ["\x1b", "\x07", "\x9b", "\r", "\u202e"]
HOSTILE = "x\x1b[2J\x1b]52;c;SGVsbG8=\x07\x9b31m\rok\u202eevil"


def _hostile_lyrics(task_id: str) -> dict[str, object]:
    body = lyrics(task_id, title=f"title {HOSTILE}")
    body["msg"] = f"msg {HOSTILE}"
    body["data"]["data"][0]["text"] = f"[Verse]\nline {HOSTILE}\nlast line"
    return body


def test_shown_safely_writes_what_a_terminal_acts_on_as_escapes_and_keeps_lines() -> None:
    shown = shown_safely(f"a\tb\n{HOSTILE}")
    assert not any(char in shown for char in ACTING)
    assert shown.startswith("a\tb\nx\\u001b[2J\\u001b]52;c;SGVsbG8=\\u0007\\u009b31m\\u000dok\\u202eevil")


def test_task_shows_a_callbacks_escape_sequences_as_text(
    aws: Aws, capsys: pytest.CaptureFixture[str]
) -> None:
    # GIVEN a task whose title, lyrics and msg carry terminal escapes
    post("lyrics", _hostile_lyrics("t-esc"))
    capsys.readouterr()
    # WHEN it is shown
    assert main(["task", "t-esc"]) == 0
    out = capsys.readouterr().out
    # THEN nothing in it would act on the terminal, the escapes are there to read, and lines stay lines
    assert not any(char in out for char in ACTING)
    assert "Lyrics 1: title x\\u001b[2J\\u001b]52;c;SGVsbG8=\\u0007" in out
    assert "line x\\u001b[2J" in out and "\nlast line" in out


def test_task_json_stays_json_with_the_same_text(aws: Aws, capsys: pytest.CaptureFixture[str]) -> None:
    post("lyrics", _hostile_lyrics("t-esc-json"))
    capsys.readouterr()
    assert main(["task", "t-esc-json", "--json"]) == 0
    out = capsys.readouterr().out
    assert not any(char in out for char in ACTING)
    shown = json.loads(out)
    assert shown["items"][0]["title"] == f"title {HOSTILE}"  # the escapes are JSON's: the same text


def test_quarantine_show_prints_a_body_that_is_not_json_with_its_escapes_as_text(
    aws: Aws, capsys: pytest.CaptureFixture[str]
) -> None:
    _, answer = post("lyrics", f"not json {HOSTILE}")
    capsys.readouterr()
    assert main(["quarantine", "show", answer["quarantine_id"]]) == 0
    out = capsys.readouterr().out
    assert not any(char in out for char in ACTING)
    assert "not json x\\u001b[2J" in out


def test_an_error_line_shows_what_it_quotes_as_text(aws: Aws, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["task", f"missing {HOSTILE}"]) == 1
    err = capsys.readouterr().err
    assert err.startswith("error: no task 'missing x")
    assert not any(char in err for char in ACTING)
