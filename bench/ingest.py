"""Ingest, as ratios against baselines measured in the same run.

(a) Round trips included (DESIGN §1, §9): one moto server on 127.0.0.1 answers three receivers, their
    calls interleaved so that noise hits all alike; new music `complete` callbacks with two tracks
    (bench/payloads.py), warm, the median of N each:
    - ours: the real `lambda_handler`, from the API Gateway event to the answer;
    - bare: the conditional PutItem of the same item and the SendMessage of the same message, which every
      receiver of this callback must make (a bare put of a 4-attribute item and a 2-field message is
      reported beside it: what the stage record's attributes cost against moto);
    - peer: what a Powertools user writes from the docs: APIGatewayHttpResolver, the Idempotency utility
      (DynamoDB persistence) keyed on the task and stage, a put and a send.
    Targets: ours / bare <= 1.15 (moonshot 1.05), ours / peer <= 0.75; a duplicate redelivery of ours
    <= 1.0 x bare.
(b) Without round trips: the real handler over >= 1,000 callbacks of every kind, AWS calls stubbed:
    median per callback against the 1 ms target.
(c) Cold import of the handler module / boto3 plus its DynamoDB and SQS clients, fresh interpreters
    (target <= 1.3).
Also printed: the AWS calls and DynamoDB write units of a new callback (bench/cost.py's measurement).

Run: `make bench` or `.venv/bin/python bench/ingest.py [--rounds 300] [--callbacks 2000] [--runs 21]`.
"""

from __future__ import annotations

import argparse
import contextlib
import io
import json
import os
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from types import SimpleNamespace
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT), str(ROOT / "functions")]

from bench.payloads import music_task, task_id_for  # noqa: E402

FIXTURES = sorted((ROOT / "tests/fixtures/examples").glob("*.json")) + sorted(
    (ROOT / "tests/fixtures/seeds").glob("*.json")
)
FIXTURE_KINDS = {"market-envelope": "music"}
SECRET = "bench-secret-0123456789abcdef"
CREDENTIALS = {
    "AWS_DEFAULT_REGION": "us-east-1",
    "AWS_ACCESS_KEY_ID": "bench",
    "AWS_SECRET_ACCESS_KEY": "bench",
}
QUIET = {
    "POWERTOOLS_TRACE_DISABLED": "1",
    "POWERTOOLS_METRICS_DISABLED": "1",
    "POWERTOOLS_LOG_LEVEL": "ERROR",
}
CONTEXT = SimpleNamespace(
    function_name="ingest",
    aws_request_id="r",
    memory_limit_in_mb=256,
    invoked_function_arn="arn:aws:lambda:us-east-1:123456789012:function:ingest",
    function_version="1",
    get_remaining_time_in_millis=lambda: 10_000,
)


# --- (a) against one moto server ---------------------------------------------------------------------


def round_trips(rounds: int) -> dict[str, list[float]]:
    """Seconds per callback for ours (new and duplicate), bare and peer, interleaved round by round."""
    import boto3

    from suno_callbacks.local.emulator import MotoServer, create_resources

    moto = MotoServer()
    moto.start()
    try:
        resources = create_resources(moto.endpoint_url, SECRET)
        os.environ.update(
            {
                **CREDENTIALS,
                **QUIET,
                "AWS_ENDPOINT_URL": moto.endpoint_url,
                "SUNO_CALLBACKS_TABLE": resources.table_name,
                "SUNO_CALLBACKS_BUCKET": resources.bucket_name,
                "SUNO_CALLBACKS_QUEUE_URL": resources.queue_url,
                "SUNO_CALLBACKS_SECRET_ID": resources.secret_id,
                "SUNO_CALLBACKS_SECRET_MAX_AGE_SECONDS": "3600",
            }
        )
        dynamodb, sqs = boto3.client("dynamodb"), boto3.client("sqs")
        peer, peer_queue = _peer(dynamodb, sqs)
        ours, ours_event = _ours()
        stage_item, message = _what_ours_writes(
            ours, ours_event, dynamodb, sqs, resources.table_name, resources.queue_url
        )
        bare = _bare(dynamodb, sqs, resources.table_name, resources.queue_url, stage_item, message)
        bare_minimal = _bare_minimal(dynamodb, sqs, resources.table_name, resources.queue_url)
        timings: dict[str, list[float]] = {
            "ours": [],
            "bare": [],
            "bare_minimal": [],
            "peer": [],
            "duplicate": [],
            "unsettled": [],
        }
        for n in range(-20, rounds):  # the first rounds warm everything up
            body = music_task(task_id_for(f"bench-{n}"))[2]
            # bare writes the same item under another task id of the same length
            bare_body = music_task(task_id_for(f"bare-{n}"))[2]
            event = ours_event(body)
            for name, run, argument in (
                ("ours", ours, event),
                ("bare", bare, bare_body),
                ("bare_minimal", bare_minimal, body),
                ("peer", peer, body),
                # a redelivery before archive settled the stage: counted, and queued again (SQS drops it)
                ("unsettled", ours, event),
            ):
                started = time.perf_counter()
                run(argument)
                if n >= 0:
                    timings[name].append(time.perf_counter() - started)
            # Between rounds, as archive and its poller would: the stage settled, the queues emptied (moto
            # checks a FIFO message against every one it holds, which AWS does not).
            _settle(dynamodb, resources.table_name, body)
            for queue_url in (resources.queue_url, peer_queue):
                _drain(sqs, queue_url)
            # the provider's redelivery, minutes later: the stage is settled, the duplicate only counted
            started = time.perf_counter()
            ours(event)
            if n >= 0:
                timings["duplicate"].append(time.perf_counter() - started)
        return timings
    finally:
        moto.stop()
        for name in ("AWS_ENDPOINT_URL",):
            os.environ.pop(name, None)


def _ours() -> tuple[Callable[[dict[str, Any]], None], Callable[[dict[str, Any]], dict[str, Any]]]:
    from suno_callbacks.dal import secrets
    from suno_callbacks.dal.aws import client
    from suno_callbacks.handlers import ingest
    from suno_callbacks.local.http_adapter import http_api_event
    from suno_callbacks.logic.signing import SigningKeys, signed_callback_url
    from suno_callbacks.models.settings import load_settings

    client.cache_clear()
    load_settings.cache_clear()
    secrets._provider.cache_clear()
    target = signed_callback_url("https://x", "music", SigningKeys(current=SECRET), ref="job-1")  # type: ignore[arg-type]

    def event(body: dict[str, Any]) -> dict[str, Any]:
        return http_api_event(
            method="POST",
            target=target.removeprefix("https://x"),
            headers={"content-type": "application/json"},
            body=json.dumps(body).encode(),
            source_ip="203.0.113.10",
            kind="music",
        )

    def run(api_event: dict[str, Any]) -> None:
        with contextlib.redirect_stdout(io.StringIO()):
            response = ingest.lambda_handler(api_event, CONTEXT)
        assert response["statusCode"] == 200, response

    return run, event


def _drain(sqs: Any, queue_url: str) -> None:
    while messages := sqs.receive_message(QueueUrl=queue_url, MaxNumberOfMessages=10).get("Messages"):
        sqs.delete_message_batch(
            QueueUrl=queue_url,
            Entries=[{"Id": str(n), "ReceiptHandle": m["ReceiptHandle"]} for n, m in enumerate(messages)],
        )


def _settle(dynamodb: Any, table: str, body: dict[str, Any]) -> None:
    """What archive does to a stage it settled: marked, and out of the sweep's index."""
    from suno_callbacks.dal import keys

    dynamodb.update_item(
        TableName=table,
        Key={
            "pk": {"S": keys.task_pk(body["data"]["task_id"])},
            "sk": {"S": keys.stage_sk("complete", "music", "job-1")},
        },
        UpdateExpression="SET settled_at = :now REMOVE unsettled",
        ExpressionAttributeValues={":now": {"S": "2026-11-22T00:00:00.000000Z"}},
    )


def _what_ours_writes(
    ours: Callable[[dict[str, Any]], None],
    ours_event: Callable[[dict[str, Any]], dict[str, Any]],
    dynamodb: Any,
    sqs: Any,
    table: str,
    queue_url: str,
) -> tuple[dict[str, Any], dict[str, Any]]:
    """The stage item (DynamoDB JSON) and the message ours writes for one new callback, read back once, so
    that bare writes the same attributes and fields whatever ingest's record comes to hold."""
    from suno_callbacks.dal import keys

    task_id = task_id_for("bench-template")
    ours(ours_event(music_task(task_id)[2]))
    item = dynamodb.get_item(
        TableName=table,
        Key={"pk": {"S": keys.task_pk(task_id)}, "sk": {"S": keys.stage_sk("complete", "music", "job-1")}},
    )["Item"]
    [message] = sqs.receive_message(QueueUrl=queue_url)["Messages"]
    sqs.delete_message(QueueUrl=queue_url, ReceiptHandle=message["ReceiptHandle"])
    return item, json.loads(message["Body"])


def _bare(
    dynamodb: Any, sqs: Any, table: str, queue_url: str, item: dict[str, Any], message: dict[str, Any]
) -> Callable[[dict[str, Any]], None]:
    """What any receiver must do with the same callback, with no handler around it: the conditional PutItem
    of the stage `item` ours writes and the SendMessage of its `message`, for this callback's task."""
    import hashlib
    import zlib
    from datetime import UTC, datetime

    from suno_callbacks.dal import keys
    from suno_callbacks.timestamps import to_iso

    def run(body: dict[str, Any]) -> None:
        raw = json.dumps(body).encode()
        task_id, received_at = body["data"]["task_id"], to_iso(datetime.now(UTC))
        dynamodb.put_item(
            TableName=table,
            Item={
                **item,
                "pk": {"S": keys.task_pk(task_id)},
                "task_id": {"S": task_id},
                "received_at": {"S": received_at},
                "raw_body": {"B": zlib.compress(raw, 6)},
            },
            ConditionExpression="attribute_not_exists(pk)",
            ReturnValuesOnConditionCheckFailure="ALL_OLD",
        )
        sqs.send_message(
            QueueUrl=queue_url,
            MessageBody=json.dumps({**message, "task_id": task_id, "received_at": received_at}),
            MessageGroupId=task_id,
            MessageDeduplicationId=hashlib.sha256(f"{task_id}\n{item['sk']['S']}\n0".encode()).hexdigest(),
        )

    return run


def _bare_minimal(dynamodb: Any, sqs: Any, table: str, queue_url: str) -> Callable[[dict[str, Any]], None]:
    """The least a receiver could store (key, time, body) and queue (task and stage): reported, to show
    what the stage record's attributes and the archive message's fields cost against moto."""
    import hashlib
    import zlib

    def run(body: dict[str, Any]) -> None:
        raw = json.dumps(body).encode()
        task_id = body["data"]["task_id"]
        dynamodb.put_item(
            TableName=table,
            Item={
                "pk": {"S": f"BARE#{task_id}"},
                "sk": {"S": "STAGE#complete#music#job-1"},
                "received_at": {"S": "2026-11-22T00:00:00.000000Z"},
                "raw_body": {"B": zlib.compress(raw, 6)},
            },
            ConditionExpression="attribute_not_exists(pk)",
        )
        sqs.send_message(
            QueueUrl=queue_url,
            MessageBody=json.dumps({"task_id": task_id, "stage": "complete"}),
            MessageGroupId=f"bare-{task_id}",
            MessageDeduplicationId=hashlib.sha256(raw).hexdigest(),
        )

    return run


def _peer(dynamodb: Any, sqs: Any) -> tuple[Callable[[dict[str, Any]], None], str]:
    """The naive Powertools receiver: the event handler, the Idempotency utility, a put and a send (to a
    standard queue, as the docs' examples do); returns it and its queue."""
    from aws_lambda_powertools.event_handler import APIGatewayHttpResolver
    from aws_lambda_powertools.utilities.idempotency import (
        DynamoDBPersistenceLayer,
        IdempotencyConfig,
        idempotent,
    )

    dynamodb.create_table(
        TableName="peer-idempotency",
        BillingMode="PAY_PER_REQUEST",
        KeySchema=[{"AttributeName": "id", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "id", "AttributeType": "S"}],
    )
    dynamodb.create_table(
        TableName="peer-callbacks",
        BillingMode="PAY_PER_REQUEST",
        KeySchema=[
            {"AttributeName": "task_id", "KeyType": "HASH"},
            {"AttributeName": "stage", "KeyType": "RANGE"},
        ],
        AttributeDefinitions=[
            {"AttributeName": "task_id", "AttributeType": "S"},
            {"AttributeName": "stage", "AttributeType": "S"},
        ],
    )
    queue_url = sqs.create_queue(QueueName="peer-callbacks")["QueueUrl"]
    app = APIGatewayHttpResolver()
    persistence = DynamoDBPersistenceLayer(table_name="peer-idempotency", boto3_client=dynamodb)
    config = IdempotencyConfig(
        event_key_jmespath="powertools_json(body).[data.task_id, data.callbackType]",
        raise_on_no_idempotency_key=True,
    )

    @app.post("/callbacks/<kind>")
    def callback(kind: str) -> dict[str, str]:
        body = app.current_event.json_body
        data = body["data"]
        dynamodb.put_item(
            TableName="peer-callbacks",
            Item={
                "task_id": {"S": data["task_id"]},
                "stage": {"S": data["callbackType"]},
                "kind": {"S": kind},
                "body": {"S": app.current_event.body or ""},
            },
        )
        sqs.send_message(QueueUrl=queue_url, MessageBody=json.dumps({"task_id": data["task_id"]}))
        return {"status": "received"}

    @idempotent(config=config, persistence_store=persistence)
    def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
        return app.resolve(event, context)

    def run(body: dict[str, Any]) -> None:
        from suno_callbacks.local.http_adapter import http_api_event

        event = http_api_event(
            method="POST",
            target="/callbacks/music",
            headers={"content-type": "application/json"},
            body=json.dumps(body).encode(),
            source_ip="203.0.113.10",
            kind="music",
        )
        event["rawPath"] = event["requestContext"]["http"]["path"] = "/callbacks/music"
        assert handler(event, CONTEXT)["statusCode"] == 200

    return run, queue_url


# --- (b) without round trips, (c) cold import --------------------------------------------------------


class StubAws:
    """Answers every call the ingest path makes, instantly and successfully."""

    def _ok(self, **_: Any) -> dict[str, Any]:
        return {}

    put_item = update_item = send_message = put_object = _ok

    def get_secret_value(self, **_: Any) -> dict[str, Any]:
        return {"SecretString": json.dumps({"current": SECRET})}


def handler_time_per_callback(count: int) -> tuple[float, float]:
    """Median and p95 seconds per callback through the real handler, AWS stubbed."""
    from suno_callbacks.dal import secrets
    from suno_callbacks.dal.aws import client
    from suno_callbacks.handlers import ingest as handler
    from suno_callbacks.local.http_adapter import http_api_event
    from suno_callbacks.logic.signing import SigningKeys, signed_callback_url
    from suno_callbacks.models.settings import load_settings

    os.environ.update(
        {
            **CREDENTIALS,
            **QUIET,
            "SUNO_CALLBACKS_TABLE": "table",
            "SUNO_CALLBACKS_BUCKET": "bucket",
            "SUNO_CALLBACKS_QUEUE_URL": "https://sqs.us-east-1.amazonaws.com/123456789012/archive.fifo",
            "SUNO_CALLBACKS_SECRET_ID": "secret",
        }
    )
    load_settings.cache_clear()
    secrets._provider.cache_clear()
    stub = StubAws()
    client.cache_clear()
    for module_name in ("records", "queue", "bodies", "secrets"):  # every data-access module gets the stub
        sys.modules[f"suno_callbacks.dal.{module_name}"].client = lambda _service: stub  # type: ignore[attr-defined]
    keys = SigningKeys(current=SECRET)  # type: ignore[arg-type]
    bodies = [
        (FIXTURE_KINDS.get(p.name.split(".")[0], p.name.split(".")[0]), json.loads(p.read_text()))
        for p in FIXTURES
    ]
    urls = {kind: signed_callback_url("https://x", kind, keys, ref="job-1") for kind, _ in bodies}
    events = [
        http_api_event(
            method="POST",
            target=urls[kind].removeprefix("https://x"),
            headers={"content-type": "application/json"},
            body=json.dumps(payload).encode(),
            source_ip="203.0.113.10",
            kind=kind,
        )
        for kind, payload in (bodies[n % len(bodies)] for n in range(count))
    ]
    timings = []
    with contextlib.redirect_stdout(io.StringIO()):  # logs and metrics print to stdout
        for event in events[:50]:  # warm-up: first-call caches (secret, settings, model builds)
            handler.lambda_handler(event, CONTEXT)
        for event in events:
            started = time.perf_counter()
            response = handler.lambda_handler(event, CONTEXT)
            timings.append(time.perf_counter() - started)
            assert response["statusCode"] == 200, response
    timings.sort()
    return statistics.median(timings), timings[int(len(timings) * 0.95)]


def cold_import_seconds(code: str, runs: int) -> list[float]:
    env = {**CREDENTIALS, "PATH": os.environ.get("PATH", ""), "PYTHONPATH": str(ROOT / "functions")}
    program = f"import time\nstarted = time.perf_counter()\n{code}\nprint(time.perf_counter() - started)"
    results = []
    for _ in range(runs):
        done = subprocess.run(
            [sys.executable, "-c", program], env=env, capture_output=True, text=True, check=True
        )
        results.append(float(done.stdout.strip().splitlines()[-1]))
    return results


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--rounds", type=int, default=300)
    parser.add_argument("--callbacks", type=int, default=2000)
    parser.add_argument("--runs", type=int, default=21)  # cold starts vary by ±15%: 21 steady the median
    args = parser.parse_args()
    # Before anything imports the package: its Logger takes its level when it is created.
    os.environ.update(QUIET)

    from bench import cost

    measured = cost.measure()
    timings = round_trips(args.rounds)
    median = {name: statistics.median(values) for name, values in timings.items()}
    print(
        f"ingest bench, against one moto server ({args.rounds} new music complete callbacks, 2 tracks, warm)"
    )
    for name, label in (
        ("ours", "ours (the real handler)"),
        ("bare", "bare conditional put + send of the same item (baseline)"),
        ("bare_minimal", "bare, a 4-attribute item and a 2-field message"),
        ("peer", "Powertools peer (resolver + Idempotency + put + send)"),
        ("duplicate", "ours, a redelivery of a settled stage"),
        ("unsettled", "ours, a redelivery before the stage is settled"),
    ):
        print(f"    {label:<56} {median[name] * 1e3:7.2f} ms")
    print(f"(a) ratio ours / bare: {median['ours'] / median['bare']:.2f}  [target <= 1.15, moonshot 1.05]")
    print(f"    ratio ours / peer: {median['ours'] / median['peer']:.2f}  [target <= 0.75]")
    print(f"    ratio ours / minimal bare: {median['ours'] / median['bare_minimal']:.2f}  (reported)")
    print(f"    ratio duplicate / bare: {median['duplicate'] / median['bare']:.2f}  [target <= 1.00]")
    print(
        f"    ratio duplicate before settling / bare: {median['unsettled'] / median['bare']:.2f}  (reported)"
    )
    calls = ", ".join(
        f"{name} {count / measured.callbacks:.0f}" for name, count in sorted(measured.ingest.items())
    )
    print(
        f"    a new callback: {calls}; {measured.write_units['ingest'] / measured.callbacks:.0f} write units"
    )

    median_stub, p95 = handler_time_per_callback(args.callbacks)
    kinds = f"{args.callbacks} callbacks of {len(FIXTURES)} kinds/outcomes"
    print(f"(b) handler median per callback, AWS stubbed ({kinds}):")
    print(f"    {median_stub * 1e3:.3f} ms (p95 {p95 * 1e3:.3f} ms)")
    print(f"    ratio to the 1 ms target: {median_stub / 1e-3:.2f}  [target <= 1.00]")

    baseline_code = "import boto3\nboto3.client('dynamodb')\nboto3.client('sqs')"
    handler_code = "import suno_callbacks.handlers.ingest"
    baseline, handler_import = [], []
    for _ in range(args.runs):  # alternated, so that machine noise hits both alike
        baseline += cold_import_seconds(baseline_code, 1)
        handler_import += cold_import_seconds(handler_code, 1)
    b, h = statistics.median(baseline), statistics.median(handler_import)
    print(f"(c) cold import, median of {args.runs} fresh interpreters each:")
    print(f"    boto3 + DynamoDB and SQS clients (baseline): {b * 1e3:.0f} ms")
    print(f"    ingest handler module:                       {h * 1e3:.0f} ms")
    print(f"    ratio handler / baseline: {h / b:.2f}  [target <= 1.30]")


if __name__ == "__main__":
    main()
