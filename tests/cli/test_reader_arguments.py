"""The reader API takes kinds, stages and outcomes as enums or as their strings, and refuses anything else
with a ValueError that names the valid values."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from suno_callbacks.local.stack import LocalStack
from suno_callbacks.models.events import Outcome
from suno_callbacks.models.kinds import Kind, Stage
from suno_callbacks.models.settings import CliSettings, load_settings
from suno_callbacks.reader import Reader
from tests.cli.conftest import failed_music, lyrics, post_callback
from tests.ingest.conftest import BASE_URL, Aws, post


@pytest.fixture
def reader(aws: Aws, monkeypatch: pytest.MonkeyPatch) -> Reader:
    monkeypatch.setenv("SUNO_CALLBACKS_BASE_URL", BASE_URL)
    post("lyrics", lyrics("t-lyrics"), ref="job-1")
    post("music", failed_music("t-music"), ref="job-1")
    aws.settle()  # archive creates the tasks
    return Reader(load_settings(CliSettings))


def test_kinds_and_stages_as_strings_are_the_enums(reader: Reader) -> None:
    assert [t.task_id for t in reader.list_tasks(kind="lyrics")] == ["t-lyrics"]
    assert reader.list_tasks(kind="lyrics") == reader.list_tasks(kind=Kind.LYRICS)
    assert [t.task_id for t in reader.list_tasks(status="complete")] == ["t-lyrics"]
    assert reader.list_tasks(status="error") == reader.list_tasks(status=Stage.ERROR)
    assert [t.task_id for t in reader.find_tasks_by_ref("job-1", kind="music", status="error")] == ["t-music"]
    assert reader.callback_url("lyrics") == reader.callback_url(Kind.LYRICS)


@pytest.mark.parametrize(
    "call",
    [
        lambda r: r.list_tasks(kind="lyric"),
        lambda r: r.find_tasks_by_ref("job-1", kind="Music"),
        lambda r: r.callback_url("songs"),
    ],
    ids=["list_tasks", "find_tasks_by_ref", "callback_url"],
)
def test_an_unknown_kind_is_a_value_error_listing_the_kinds(
    reader: Reader, call: Callable[[Reader], object]
) -> None:
    with pytest.raises(ValueError, match="is not a kind: use one of music, extend, ") as refused:
        call(reader)
    assert all(kind.value in str(refused.value) for kind in Kind)


def test_an_unknown_status_is_a_value_error_listing_stages_and_outcomes(reader: Reader) -> None:
    for call in (
        lambda: reader.list_tasks(status="done"),
        lambda: reader.find_tasks_by_ref("x", status="ok"),
    ):
        with pytest.raises(ValueError, match="is not a status: use a stage") as refused:
            call()
        assert all(value in str(refused.value) for value in [*Stage, *Outcome])


def test_a_limit_below_one_is_a_value_error(reader: Reader) -> None:
    with pytest.raises(ValueError, match="limit must be 1 or more, not -3"):
        reader.list_tasks(limit=-3)
    with pytest.raises(ValueError, match="limit must be 1 or more, not 0"):
        reader.find_tasks_by_ref("job-1", limit=0)


def test_an_outcome_filters_settled_tasks_by_how_they_ended(local_stack: LocalStack) -> None:
    # GIVEN a completed lyrics task and a failed music task, archived by local mode
    post_callback(local_stack, "lyrics", lyrics("t-lyrics"), ref="job-1")
    post_callback(local_stack, "music", failed_music("t-music"), ref="job-1")
    local_stack.wait_until_idle(timeout=30)
    reader = Reader.from_environment()

    # THEN an outcome, as an enum or a string, picks the tasks that ended that way
    assert [t.task_id for t in reader.list_tasks(status="completed")] == ["t-lyrics"]
    assert [t.task_id for t in reader.list_tasks(status=Outcome.FAILED)] == ["t-music"]
    assert [t.task_id for t in reader.find_tasks_by_ref("job-1", status="failed")] == ["t-music"]
    assert reader.list_tasks(status=Outcome.COMPLETED_WITH_FAILURES) == []
