"""Tables as a terminal shows them: columns aligned by display width, one line per row, `none` when empty."""

from __future__ import annotations

import pytest

from suno_callbacks.cli.commands import main
from suno_callbacks.cli.output import table
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
