"""Local mode's readable lines and its saved signing secret, without starting it."""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path

import pytest

from suno_callbacks.local.console import delivery_line, event_line, request_line
from suno_callbacks.local.forward import Delivery
from suno_callbacks.local.http_adapter import AnsweredRequest
from suno_callbacks.local.state import SECRET_ENV, SecretOrigin, StateError, local_secret

AT = datetime(2026, 1, 2, 17, 40, 1)


def test_a_request_line_says_what_was_answered_and_the_warning_below() -> None:
    line = request_line(
        AnsweredRequest(
            method="POST",
            path="/callbacks/music",
            status=200,
            answer={
                "status": "received",
                "task_id": "abc",
                "stage": "complete",
                "warning": "looks like video",
            },
            seconds=0.012,
            at=AT,
        )
    )
    first, second = line.splitlines()
    assert first.split() == [
        "17:40:01",
        "POST",
        "/callbacks/music",
        "200",
        "received",
        "task=abc",
        "stage=complete",
        "12",
        "ms",
    ]
    assert second.strip() == "warning: looks like video"


@pytest.mark.parametrize(
    ("status", "answer", "outcome"),
    [
        (404, {"message": "Not Found"}, "404 not found"),
        (401, {"error": "unauthorised", "message": "…"}, "401 unauthorised"),
        (413, {"message": "Request Entity Too Large"}, "413 request entity too large"),
        (
            200,
            {"status": "quarantined", "quarantine_id": "q1", "reason": "schema"},
            "200 quarantined  quarantine=q1 reason=schema",
        ),
    ],
)
def test_a_refusal_or_quarantine_is_a_line_too(status: int, answer: dict[str, str], outcome: str) -> None:
    line = request_line(AnsweredRequest("POST", "/callbacks/x", status, answer, 0.003, AT))
    assert outcome in line and "\n" not in line


def test_an_event_line_names_the_task_its_outcome_and_assets() -> None:
    event = {
        "event": "task.completed",
        "kind": "music",
        "task_id": "t1",
        "status": "completed",
        "ref": "job-1",
        "assets": [{"state": "archived"}, {"state": "archived"}, {"state": "failed"}],
    }
    assert event_line(event, AT).split() == [
        "17:40:01",
        "event",
        "task.completed",
        "music",
        "task=t1",
        "status=completed",
        "ref=job-1",
        "assets:",
        "2",
        "archived,",
        "1",
        "failed",
    ]


def test_a_delivery_line_says_delivered_retrying_or_given_up() -> None:
    notification = {"Message": json.dumps({"event": "task.failed", "task_id": "t1"})}

    def line(
        status: int | None = None, error: str | None = None, retry_in: float | None = None, attempt: int = 1
    ) -> str:
        delivery = Delivery("http://127.0.0.1:9/hook", notification, attempt, 0.004, status, error, retry_in)
        return delivery_line(delivery, AT)

    assert "task=t1  200 delivered to http://127.0.0.1:9/hook  4 ms" in line(status=200)
    assert "failed: HTTP 500; retrying in 0.5 s" in line(status=500, error="HTTP 500", retry_in=0.5)
    assert "failed: Connection refused (attempt 4); given up" in line(error="Connection refused", attempt=4)


# --- the saved secret --------------------------------------------------------------------------------


def test_a_generated_secret_is_saved_read_back_and_replaced_on_reset(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv(SECRET_ENV, raising=False)
    first = local_secret(tmp_path / "state")
    again = local_secret(tmp_path / "state")
    reset = local_secret(tmp_path / "state", reset=True)
    assert (first.origin, again.origin, reset.origin) == (
        SecretOrigin.GENERATED,
        SecretOrigin.SAVED,
        SecretOrigin.GENERATED,
    )
    assert again.value == first.value != reset.value
    assert local_secret(tmp_path / "state").value == reset.value


def test_the_environment_wins_and_nothing_is_saved(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(SECRET_ENV, "from-the-environment")
    secret = local_secret(tmp_path / "state")
    assert (secret.value, secret.origin) == ("from-the-environment", SecretOrigin.ENVIRONMENT)
    assert not (tmp_path / "state").exists()


def test_an_unreadable_state_file_says_to_reset(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(SECRET_ENV, raising=False)
    (tmp_path / "local.json").write_text("{not json")
    with pytest.raises(StateError, match="--reset"):
        local_secret(tmp_path)
    assert local_secret(tmp_path, reset=True).origin is SecretOrigin.GENERATED
