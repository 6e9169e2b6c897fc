"""DESIGN §3: signed URLs (two secrets for rotation) and kie.ai signatures; fail closed; no secret in logs."""

from __future__ import annotations

import base64
import hashlib
import hmac
import io
import logging
import time
from typing import Any

import pytest

from suno_callbacks.dal import keys
from suno_callbacks.logic.signing import SigningKeys, signed_callback_url
from suno_callbacks.observability import logger
from tests.conftest import FIXTURES, load_fixture
from tests.ingest.conftest import (
    CURRENT_SECRET,
    KIE_KEY,
    PREVIOUS_SECRET,
    Aws,
    http_event,
    invoke,
    post,
    signed_path,
    stage_key,
)

WAV = {
    "code": 200,
    "msg": "success",
    "data": {"task_id": "task-1", "audioWavUrl": "https://a.erweima.ai/x.wav"},
}


def kie_headers(task_id: str = "task-1", timestamp: int | None = None, key: str = KIE_KEY) -> dict[str, str]:
    sent_at = str(int(time.time()) if timestamp is None else timestamp)
    digest = hmac.new(key.encode(), f"{task_id}.{sent_at}".encode(), hashlib.sha256).digest()
    return {"X-Webhook-Timestamp": sent_at, "X-Webhook-Signature": base64.b64encode(digest).decode()}


def refused(aws: Aws, status: int) -> bool:
    return status == 401 and aws.all_items() == [] and aws.queued() == []


def test_signed_url_names_kind_and_ref() -> None:
    keys = SigningKeys(current=CURRENT_SECRET)  # type: ignore[arg-type]
    url = signed_callback_url("https://abc.execute-api.eu-west-1.amazonaws.com/", "music", keys, ref="job-7")
    assert url.startswith("https://abc.execute-api.eu-west-1.amazonaws.com/callbacks/music?ref=job-7&sig=")
    assert CURRENT_SECRET not in url


@pytest.mark.parametrize("ref", ["", "has space", "x" * 129, "a/b", "é"])
def test_a_ref_that_is_not_url_safe_is_refused_when_making_a_url(ref: str) -> None:
    with pytest.raises(ValueError, match="ref must be"):
        signed_callback_url("https://x", "music", SigningKeys(current=CURRENT_SECRET), ref=ref)  # type: ignore[arg-type]


def test_missing_signature(aws: Aws) -> None:
    assert refused(aws, invoke(http_event("/callbacks/wav?ref=job-1", WAV))[0])


def test_wrong_signature(aws: Aws) -> None:
    assert refused(aws, post("wav", WAV, secret="not-the-secret")[0])


def test_truncated_signature(aws: Aws) -> None:
    path = signed_path("wav")
    assert refused(aws, invoke(http_event(path[:-3], WAV))[0])


def test_another_kinds_url_is_refused(aws: Aws) -> None:
    music_query = signed_path("music").split("?", 1)[1]
    assert refused(aws, invoke(http_event(f"/callbacks/wav?{music_query}", WAV))[0])


def test_a_changed_ref_is_refused(aws: Aws) -> None:
    path = signed_path("wav", ref="job-1").replace("ref=job-1", "ref=job-2")
    assert refused(aws, invoke(http_event(path, WAV))[0])


def test_ref_is_stored_with_the_stage_and_sent_to_archive(aws: Aws) -> None:
    post("wav", WAV, ref="order-123")
    [stage] = aws.task_items("task-1").values()
    assert (stage[keys.SK], stage["ref"]) == (stage_key("complete", "wav", "order-123"), "order-123")
    assert [m["ref"] for m in aws.queued()] == ["order-123"]


def test_previous_secret_is_accepted_during_rotation(aws: Aws) -> None:
    assert post("wav", WAV, secret=PREVIOUS_SECRET)[1]["status"] == "received"


def test_old_secret_is_refused_once_rotation_is_finished(aws: Aws) -> None:
    new = "brand-new-secret-value-0123456789"
    aws.set_signing_secret({"current": new, "previous": CURRENT_SECRET})
    assert post("wav", WAV, secret=new)[1]["status"] == "received"
    assert post("wav", WAV, secret=CURRENT_SECRET)[1]["status"] == "duplicate"  # still accepted as previous
    assert refused_after_cleanup(aws, PREVIOUS_SECRET)


def refused_after_cleanup(aws: Aws, secret: str) -> bool:
    status, _ = post("wav", {**WAV, "data": {**WAV["data"], "task_id": "task-2"}}, secret=secret)
    return status == 401 and "task-2" not in str(aws.all_items())


def test_kie_signature_authenticates_an_unsigned_url(aws: Aws) -> None:
    status, answer = invoke(http_event("/callbacks/wav", WAV, headers=kie_headers()))
    assert (status, answer["status"]) == (200, "received")


@pytest.mark.parametrize(
    "headers",
    [
        kie_headers(timestamp=int(time.time()) - 3600),  # expired
        kie_headers(timestamp=int(time.time()) + 3600),  # from the future
        kie_headers(key="another-key"),
        kie_headers(task_id="another-task"),
        {"X-Webhook-Timestamp": str(int(time.time()))},
        {"X-Webhook-Signature": "abc"},
        {"X-Webhook-Timestamp": "yesterday", "X-Webhook-Signature": "abc"},
    ],
    ids=["expired", "future", "wrong-key", "other-task", "no-signature", "no-timestamp", "bad-timestamp"],
)
def test_bad_kie_signature_is_refused(aws: Aws, headers: dict[str, str]) -> None:
    assert refused(aws, invoke(http_event("/callbacks/wav", WAV, headers=headers))[0])


def test_kie_signature_refused_when_no_kie_key_is_configured(aws: Aws) -> None:
    aws.set_signing_secret({"current": CURRENT_SECRET})
    assert refused(aws, invoke(http_event("/callbacks/wav", WAV, headers=kie_headers()))[0])


def test_kie_signature_over_a_body_without_task_id_is_refused(aws: Aws) -> None:
    body: dict[str, Any] = {"code": 200, "data": {}}
    assert refused(aws, invoke(http_event("/callbacks/wav", body, headers=kie_headers()))[0])


@pytest.mark.parametrize(
    ("body", "signed_for", "recorded_as"),
    [
        # the task id is read from data.task_id, data.taskId, then task_id: a blank one yields
        (
            {"code": 200, "task_id": "T-VICTIM", "data": {"task_id": None, "taskId": "T-signed"}},
            "T-signed",
            "T-signed",
        ),
        (
            {"code": 200, "task_id": "T-VICTIM", "data": {"task_id": None, "taskId": "T-signed"}},
            "T-VICTIM",
            None,
        ),
        ({"code": 200, "task_id": "T-outer", "data": {"task_id": "T-inner"}}, "T-outer", None),
    ],
    ids=["signed id recorded", "another id refused", "outer id refused"],
)
def test_the_kie_signature_covers_the_task_id_that_is_recorded(
    aws: Aws, body: dict[str, Any], signed_for: str, recorded_as: str | None
) -> None:
    body["data"]["audioWavUrl"] = "https://a.erweima.ai/x.wav"

    status, answer = invoke(http_event("/callbacks/wav", body, headers=kie_headers(task_id=signed_for)))

    if recorded_as is None:
        assert refused(aws, status)
    else:
        assert (status, answer["task_id"]) == (200, recorded_as)
        assert {item["task_id"] for item in aws.all_items()} == {recorded_as}


def test_a_kie_signed_market_envelope_is_checked_against_data_task_id(aws: Aws) -> None:
    body = load_fixture(FIXTURES / "examples" / "market-envelope.success.json")
    task_id = body["data"]["taskId"]
    status, answer = invoke(http_event("/callbacks/music", body, headers=kie_headers(task_id=task_id)))
    assert (status, answer["status"], answer["task_id"]) == (200, "received", task_id)


def test_a_kie_signed_body_that_cannot_be_read_is_quarantined_under_the_task_it_names(aws: Aws) -> None:
    body = load_fixture(FIXTURES / "examples" / "market-envelope.success.json")
    body["data"]["resultJson"] = "{cut short"
    headers = kie_headers(task_id=body["data"]["taskId"])

    status, answer = invoke(http_event("/callbacks/music", body, headers=headers))

    assert (status, answer["status"]) == (200, "quarantined")
    assert invoke(http_event("/callbacks/music", body, headers=kie_headers(task_id="x")))[0] == 401


def test_a_kie_signature_never_stores_the_unsigned_ref_of_the_url(aws: Aws) -> None:
    # kie.ai signs the task id and a timestamp, not the URL: anyone replaying the headers within the
    # window chooses the query string. The task must not take a ref nobody signed.
    status, _ = invoke(http_event("/callbacks/wav?ref=attacker-ref", WAV, headers=kie_headers()))

    assert status == 200
    [stage] = aws.task_items("task-1").values()
    assert "ref" not in stage and stage[keys.SK] == stage_key("complete", "wav")
    assert [m.get("ref") for m in aws.queued()] == [None]


def test_unauthorised_callbacks_are_counted_by_kind(aws: Aws, capsys: pytest.CaptureFixture[str]) -> None:
    invoke(http_event("/callbacks/video", WAV))
    out = capsys.readouterr().out
    assert '"CallbacksUnauthorised":[1.0]' in out
    assert '"kind":"video"' in out


def test_no_secret_or_signature_reaches_a_log_line(aws: Aws, capsys: pytest.CaptureFixture[str]) -> None:
    lines = io.StringIO()
    handler = logger.registered_handler
    assert isinstance(handler, logging.StreamHandler)
    previous_stream = handler.setStream(lines)  # what the function prints to CloudWatch
    path = signed_path("wav", ref="job-1")
    signature = path.split("sig=")[1]
    invoke(http_event(path, WAV))
    invoke(http_event(path, WAV))
    invoke(http_event(path.replace("job-1", "job-2"), WAV))
    invoke(http_event("/callbacks/wav", WAV, headers=kie_headers()))
    invoke(http_event(signed_path("wav"), "not json"))
    handler.setStream(previous_stream)
    everything = lines.getvalue() + capsys.readouterr().out
    assert "callback answered" in everything  # the logs were captured
    assert "store unavailable" not in everything
    for secret in (CURRENT_SECRET, PREVIOUS_SECRET, KIE_KEY, signature):
        assert secret not in everything
