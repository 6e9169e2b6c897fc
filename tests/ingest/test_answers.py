"""Each row of DESIGN §4's answers table: the HTTP answer, and what is stored (or not)."""

from __future__ import annotations

import gzip
import json
import os
import zlib
from typing import Any

import pytest

from suno_callbacks.cli import operations
from suno_callbacks.dal.aws import client
from suno_callbacks.logic import normalise
from suno_callbacks.models.settings import CliSettings, load_settings
from tests.conftest import FIXTURES
from tests.ingest.conftest import BUCKET, Aws, http_event, invoke, post, raw_body, signed_path, stage_key
from tests.ingest.faults import unavailable

WAV = {
    "code": 200,
    "msg": "success",
    "data": {"task_id": "task-1", "audioWavUrl": "https://a.erweima.ai/x.wav"},
}
STAGE = stage_key("complete", "wav")


def test_new_stage_is_received_recorded_and_queued(aws: Aws) -> None:
    assert post("wav", WAV) == (200, {"status": "received", "task_id": "task-1", "stage": "complete"})
    assert set(aws.task_items("task-1")) == {STAGE}  # the task item is archive's
    assert len(aws.queued()) == 1


def test_same_stage_again_is_a_duplicate_recorded_beside_the_stage(aws: Aws) -> None:
    post("wav", WAV)
    assert post("wav", WAV) == (200, {"status": "duplicate", "task_id": "task-1", "stage": "complete"})
    assert post("wav", WAV)[1]["status"] == "duplicate"
    redeliveries = aws.redeliveries("task-1")
    assert len(redeliveries) == 2
    assert all(sk.startswith(f"{STAGE}#REDELIVERY#") for sk in (r["sk"] for r in redeliveries))
    assert not any("raw_body" in r for r in redeliveries)  # the same body is not kept twice
    assert len(aws.queued()) == 1  # the repeats of a stage not yet settled are dropped by SQS


def test_a_repeat_with_a_different_body_is_kept_beside_the_first(aws: Aws) -> None:
    post("wav", WAV)
    changed = {**WAV, "data": {**WAV["data"], "audioWavUrl": "https://a.erweima.ai/other.wav"}}
    assert post("wav", changed)[1]["status"] == "duplicate"
    [redelivery] = aws.redeliveries("task-1")
    assert json.loads(raw_body(redelivery)) == changed
    assert json.loads(raw_body(aws.task_items("task-1")[STAGE])) == WAV  # the first stays the record


def test_a_body_after_a_utf8_byte_order_mark_is_recorded_and_kept_as_it_came(aws: Aws) -> None:
    # RFC 8259 lets a parser ignore the mark; some HTTP clients write one before the JSON
    body = b"\xef\xbb\xbf" + json.dumps(WAV).encode()
    status, answer = invoke(http_event(signed_path("wav"), body, base64_encoded=True))
    assert (status, answer["status"]) == (200, "received")
    assert raw_body(aws.task_items("task-1")[STAGE]) == body
    assert len(aws.queued()) == 1


def _raw_deflate(data: bytes) -> bytes:
    compressor = zlib.compressobj(wbits=-zlib.MAX_WBITS)
    return compressor.compress(data) + compressor.flush()


@pytest.mark.parametrize(
    ("encoding", "encode"),
    [
        ("gzip", gzip.compress),
        ("x-gzip", gzip.compress),
        ("deflate", zlib.compress),
        ("deflate", _raw_deflate),
        ("gzip, deflate", lambda data: zlib.compress(gzip.compress(data))),
        ("gzip", lambda data: data),  # the header says gzip, the body is not: read as it came
        ("utf-8", lambda data: data),  # not a content coding at all, as some clients write it
    ],
)
def test_a_body_with_a_content_coding_is_recorded_decoded(aws: Aws, encoding: str, encode: Any) -> None:
    body = json.dumps(WAV).encode()
    event = http_event(
        signed_path("wav"), encode(body), base64_encoded=True, headers={"content-encoding": encoding}
    )
    status, answer = invoke(event)
    assert (status, answer["status"]) == (200, "received")
    assert raw_body(aws.task_items("task-1")[STAGE]) == body
    assert len(aws.queued()) == 1


def test_a_compressed_body_too_large_once_decoded_is_quarantined_as_it_came(aws: Aws) -> None:
    # GIVEN 64 MiB of JSON that gzip makes about 64 KiB: under the body limit sent, far over it decoded
    bomb = gzip.compress(b'{"code": 200, "msg": "' + b" " * (64 * 1024 * 1024) + b'"}')
    event = http_event(signed_path("wav"), bomb, base64_encoded=True, headers={"content-encoding": "gzip"})
    status, answer = invoke(event)
    assert (status, answer["status"]) == (200, "quarantined")
    assert "once its gzip is decoded" in answer["reason"]
    [kept] = aws.quarantined()
    assert raw_body(kept) == bomb
    assert aws.queued() == []


@pytest.mark.parametrize(
    ("body", "reason"),
    [
        (b"not json at all", "body is not JSON"),
        ("\ufeff".encode("utf-16-le") + json.dumps(WAV).encode("utf-16-le"), "body is not UTF-8"),
        (b"\xff\xfe binary", "body is not UTF-8"),  # API Gateway base64-encodes it
        (b'["a", "list"]', "body is not a JSON object"),
        (b'{"code": 200, "msg": "ok", "data": {"audioWavUrl": "https://a.erweima.ai/x.wav"}}', "no task id"),
        (b'{"code": "two hundred", "data": {"task_id": "t"}}', "body.code"),
        (b'{"code": 200, "data": {"task_id": "t", "callbackType": "halfway"}}', "unknown callbackType"),
        (b'{"code": 200, "data": "a string"}', "data is neither an object nor a list"),
    ],
)
def test_authenticated_but_not_understood_is_quarantined_with_its_raw_body(
    aws: Aws, body: bytes, reason: str
) -> None:
    status, answer = invoke(http_event(signed_path("wav", ref="job-9"), body, base64_encoded=True))
    assert (status, answer["status"]) == (200, "quarantined")
    assert reason in answer["reason"]
    [kept] = aws.all_items()
    assert kept["type"] == "quarantine"
    assert (kept["kind"], kept["ref"], kept["quarantine_id"]) == ("wav", "job-9", answer["quarantine_id"])
    assert reason in kept["reason"]
    assert raw_body(kept) == body
    assert aws.queued() == []


def test_the_same_bad_body_twice_is_one_quarantine_entry_counted_twice(aws: Aws) -> None:
    post("wav", "garbage")
    post("wav", "garbage")
    [kept] = aws.quarantined()
    assert kept["duplicates"] == 1


def test_quarantined_body_too_large_for_an_item_goes_to_s3(aws: Aws, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SUNO_CALLBACKS_MAX_BODY_BYTES", str(1024 * 1024))
    body = os.urandom(600 * 1024)  # incompressible, not JSON
    status, answer = invoke(http_event(signed_path("video"), body, base64_encoded=True))
    assert (status, answer["status"]) == (200, "quarantined")
    [kept] = aws.quarantined()
    assert "raw_body" not in kept
    assert kept["raw_body_s3_key"].startswith("bodies/")
    stored = client("s3").get_object(Bucket=BUCKET, Key=kept["raw_body_s3_key"])["Body"].read()
    assert stored == body


def test_unsigned_request_is_401_and_stores_nothing(aws: Aws) -> None:
    status, answer = invoke(http_event("/callbacks/wav", WAV))
    assert status == 401
    assert answer["error"] == "unauthorised"
    assert aws.all_items() == []
    assert aws.queued() == []


@pytest.mark.parametrize("path", ["/callbacks/songs", "/callbacks/MUSIC", "/callbacks/music-video"])
def test_unknown_kind_is_404_and_stores_nothing(aws: Aws, path: str) -> None:
    status, answer = invoke(http_event(path + "?sig=whatever", WAV))
    assert (status, answer["error"]) == (404, "unknown_kind")
    assert aws.all_items() == []


def test_other_routes_and_methods_are_404(aws: Aws) -> None:
    assert invoke(http_event("/other/wav", WAV))[0] == 404
    assert invoke(http_event(signed_path("wav"), None, method="GET"))[0] in (404, 405)
    assert aws.all_items() == []


def test_body_over_the_limit_is_413_and_stores_nothing(aws: Aws, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SUNO_CALLBACKS_MAX_BODY_BYTES", "1000")
    big: dict[str, Any] = {**WAV, "padding": "x" * 1000}
    status, answer = post("wav", big)
    assert (status, answer["error"]) == (413, "body_too_large")
    assert aws.all_items() == []
    assert post("wav", WAV)[0] == 200  # under the limit is fine


def test_default_limit_is_256_kib(aws: Aws) -> None:
    just_over = json.dumps({**WAV, "padding": "x" * (256 * 1024)})
    assert post("wav", just_over)[0] == 413


def test_base64_encoded_body_is_decoded(aws: Aws) -> None:
    status, answer = invoke(http_event(signed_path("wav"), WAV, base64_encoded=True))
    assert (status, answer["status"]) == (200, "received")


def test_dynamodb_unavailable_is_503_and_leaves_nothing_half_written(aws: Aws) -> None:
    with unavailable("dynamodb", "PutItem"):
        status, answer = post("wav", WAV)
    assert (status, answer["error"]) == (503, "unavailable")
    assert aws.all_items() == []
    assert aws.queued() == []
    assert post("wav", WAV)[1]["status"] == "received"  # the provider's retry
    assert len(aws.queued()) == 1


def test_signing_secret_unavailable_fails_closed_with_503(aws: Aws) -> None:
    with unavailable("secretsmanager", "GetSecretValue", times=10):
        status, _ = post("wav", WAV)
    assert status == 503
    assert aws.all_items() == []


def test_a_market_body_with_broken_result_json_is_quarantined_and_replays_once_the_model_reads_it(
    aws: Aws, monkeypatch: pytest.MonkeyPatch
) -> None:
    # GIVEN kie.ai's Market callback whose resultJson is cut short (seen live)
    body = json.loads((FIXTURES / "examples" / "market-envelope.success.json").read_text())
    body["data"]["resultJson"] = body["data"]["resultJson"] + "\n// trailing garbage"
    status, answer = post("music", body, ref="job-m")

    # THEN it is quarantined with the reason, kept byte for byte, and nothing is recorded as a task
    assert (status, answer["status"]) == (200, "quarantined")
    assert "data.resultJson is not JSON" in answer["reason"]
    [entry] = aws.quarantined()
    assert json.loads(raw_body(entry)) == body
    assert (entry["kind"], entry["ref"]) == ("music", "job-m")
    assert aws.task_items("e0f1a2b3c4d5e6f708192a3b4c5d6e7f") == {}

    # WHEN the model learns to read such a resultJson (the first JSON value, garbage after it ignored)
    # and the quarantine is replayed
    monkeypatch.setenv("SUNO_CALLBACKS_BASE_URL", "https://callbacks.example.test")

    def lenient(raw: bytes | str, *, what: str = "body") -> Any:
        text = raw.decode() if isinstance(raw, bytes) else raw
        return json.JSONDecoder().raw_decode(text.strip())[0]

    monkeypatch.setattr(normalise, "parse_json", lenient)
    [replayed] = operations.replay(load_settings(CliSettings), ids=[entry["quarantine_id"]])

    # THEN the task is recorded with its ref and its media queued for archive
    assert (replayed.answer, replayed.task_id) == ("received", "e0f1a2b3c4d5e6f708192a3b4c5d6e7f")
    stage = aws.task_items("e0f1a2b3c4d5e6f708192a3b4c5d6e7f")[stage_key("complete", "music", "job-m")]
    assert json.loads(raw_body(stage)) == body
    assert [(m["task_id"], m["ref"]) for m in aws.queued()] == [("e0f1a2b3c4d5e6f708192a3b4c5d6e7f", "job-m")]
