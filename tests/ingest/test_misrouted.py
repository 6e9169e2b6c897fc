"""A callback POSTed to another kind's URL (the request was given the wrong `callBackUrl`): it is recorded as
the URL's kind (nothing lost, replayable), and the answer, the log and `task` say what it looks like."""

from __future__ import annotations

from pathlib import Path

import pytest

from suno_callbacks.cli.commands import main
from suno_callbacks.logic.normalise import normalise_body
from suno_callbacks.models.kinds import Kind
from suno_callbacks.reader import Reader
from tests.conftest import kind_of_fixture
from tests.ingest.conftest import Aws, post
from tests.ingest.test_provider_shapes import EXAMPLES, example

WAV = {
    "code": 200,
    "msg": "success",
    "data": {"task_id": "t-wav", "audioWavUrl": "https://a.erweima.ai/x.wav"},
}


@pytest.mark.parametrize("path", EXAMPLES, ids=lambda p: p.name)
def test_no_provider_example_is_taken_for_another_kind(path: Path) -> None:
    assert normalise_body(Kind(kind_of_fixture(path)), path.read_bytes()).warnings == []


@pytest.mark.parametrize(
    ("name", "posted_to", "looks_like"),
    [
        ("wav.success.json", Kind.MUSIC, "wav"),
        ("separation.success-stems.json", Kind.MUSIC, "separation"),
        ("music.success.json", Kind.LYRICS, "tracks (the music family)"),
        ("lyrics.success.json", Kind.MUSIC, "lyrics"),
        ("video.success.json", Kind.COVER_IMAGE, "video"),
    ],
)
def test_a_body_of_another_kind_is_recorded_with_a_warning(
    name: str, posted_to: Kind, looks_like: str, aws: Aws
) -> None:
    status, answer = post(posted_to.value, example(name))
    assert status == 200 and answer["status"] == "received"
    assert answer["warning"] == (
        f"the body looks like {looks_like}, not {posted_to.value}: was the task given another kind's URL?"
    )


def test_the_same_family_is_not_a_mistake(aws: Aws) -> None:
    # An extend task's tracks look like any song's: the music family shares one shape.
    status, answer = post("extend", example("music.success.json"))
    assert (status, answer["status"], "warning" in answer) == (200, "received", False)


def test_the_warning_stays_with_the_stage_and_task_shows_it(
    aws: Aws, capsys: pytest.CaptureFixture[str]
) -> None:
    post("music", WAV)
    view = Reader.from_environment().get_task("t-wav")
    assert view is not None and view.kind is Kind.MUSIC
    [stage] = view.stages
    assert stage.warnings == ["the body looks like wav, not music: was the task given another kind's URL?"]
    capsys.readouterr()
    assert main(["task", "t-wav"]) == 0
    out = capsys.readouterr().out
    assert "Warnings\n  complete (music): the body looks like wav, not music" in out
