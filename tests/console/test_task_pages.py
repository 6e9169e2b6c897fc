"""The reader's task pages: newest first across kinds, each task once, through index Queries only."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from suno_callbacks.dal.aws import client
from suno_callbacks.models.kinds import Kind, Stage
from suno_callbacks.models.settings import ReaderSettings, load_settings
from suno_callbacks.reader import Reader, TaskPage
from tests.cli.conftest import failed_music, lyrics
from tests.ingest.conftest import Aws, post


@pytest.fixture
def reader(aws: Aws) -> Reader:
    return Reader(load_settings(ReaderSettings))


@pytest.fixture
def dynamodb_calls() -> Iterator[list[str]]:
    """The names of the DynamoDB operations made meanwhile."""
    calls: list[str] = []

    def record(model: Any, **_: Any) -> None:
        calls.append(model.name)

    events = client("dynamodb").meta.events
    events.register("before-call.dynamodb", record)
    yield calls
    events.unregister("before-call.dynamodb", record)


def record_tasks(aws: Aws, specs: list[tuple[str, str]]) -> list[str]:
    """(kind, task id) posted in this order and archived; the ids newest first."""
    for kind, task_id in specs:
        body = lyrics(task_id) if kind == "lyrics" else failed_music(task_id)
        post(kind, body, ref=f"ref-{task_id}")
    aws.settle()
    return [task_id for _, task_id in reversed(specs)]


def every_page(reader: Reader, **filters: Any) -> list[TaskPage]:
    pages = [reader.list_tasks_page(**filters)]
    while pages[-1].next_cursor:
        pages.append(reader.list_tasks_page(**filters, cursor=pages[-1].next_cursor))
    return pages


def ids(pages: list[TaskPage]) -> list[str]:
    return [task.task_id for page in pages for task in page.tasks]


def test_pages_list_every_task_once_newest_first_across_kinds_with_queries_only(
    aws: Aws, reader: Reader, dynamodb_calls: list[str]
) -> None:
    # GIVEN seven tasks of two kinds, interleaved in time
    newest_first = record_tasks(aws, [("lyrics" if i % 2 else "music", f"t-{i}") for i in range(7)])
    dynamodb_calls.clear()

    # WHEN they are read three at a time
    pages = every_page(reader, limit=3)

    # THEN every task comes once, newest first, in pages of three; the last page has no cursor
    assert ids(pages) == newest_first
    assert [len(page.tasks) for page in pages] == [3, 3, 1]
    assert pages[-1].next_cursor is None
    # and the table was only queried (never scanned, nor read item by item)
    assert set(dynamodb_calls) == {"Query"}


def test_a_page_that_ends_the_list_has_no_cursor(aws: Aws, reader: Reader) -> None:
    record_tasks(aws, [("lyrics", "a"), ("lyrics", "b")])
    page = reader.list_tasks_page(limit=2)
    assert [t.task_id for t in page.tasks] == ["b", "a"]
    assert page.next_cursor is None


def test_filters_by_kind_status_ref_and_time_still_page(aws: Aws, reader: Reader) -> None:
    record_tasks(aws, [("lyrics", "l-1"), ("music", "m-1"), ("lyrics", "l-2"), ("lyrics", "l-3")])

    assert ids(every_page(reader, kind=Kind.LYRICS, limit=2)) == ["l-3", "l-2", "l-1"]
    assert ids(every_page(reader, kind="lyrics", status="completed", limit=1)) == ["l-3", "l-2", "l-1"]
    assert ids(every_page(reader, status=Stage.ERROR, limit=1)) == ["m-1"]
    assert ids(every_page(reader, ref="ref-l-2", limit=1)) == ["l-2"]
    assert ids(every_page(reader, ref="ref-l-2", kind="music")) == []
    assert ids(every_page(reader, since=datetime.now(UTC) - timedelta(minutes=5), limit=3)) == [
        "l-3",
        "l-2",
        "m-1",
        "l-1",
    ]
    assert ids(every_page(reader, since=datetime.now(UTC) + timedelta(minutes=1))) == []


def test_a_task_created_between_pages_shifts_nothing(aws: Aws, reader: Reader) -> None:
    # GIVEN the first page of four tasks read
    record_tasks(aws, [("lyrics", f"old-{i}") for i in range(4)])
    first = reader.list_tasks_page(limit=2)

    # WHEN a task arrives before the next page is read
    record_tasks(aws, [("music", "new")])
    second = reader.list_tasks_page(limit=2, cursor=first.next_cursor)

    # THEN the next page goes on where the first ended: nothing repeated, nothing skipped
    assert ids([first, second]) == ["old-3", "old-2", "old-1", "old-0"]
    # and the new task heads a fresh first page
    assert reader.list_tasks_page(limit=2).tasks[0].task_id == "new"


@pytest.mark.parametrize("cursor", ["", "not base64 !", "bm90IGpzb24", "eyJiZWZvcmUiOiAxfQ==", "W10="])
def test_a_cursor_it_did_not_make_is_a_value_error(aws: Aws, reader: Reader, cursor: str) -> None:
    with pytest.raises(ValueError, match="is not a cursor"):
        reader.list_tasks_page(cursor=cursor)


def test_a_bad_filter_or_limit_is_a_value_error_naming_the_valid_values(aws: Aws, reader: Reader) -> None:
    with pytest.raises(ValueError, match="is not a kind"):
        reader.list_tasks_page(kind="songs")
    with pytest.raises(ValueError, match="is not a status"):
        reader.list_tasks_page(status="done")
    with pytest.raises(ValueError, match="limit must be 1 or more"):
        reader.list_tasks_page(limit=0)
