"""Local end-to-end storm: duplicates and shuffled stages of many tasks at once, over HTTP, in local mode.

Music tasks call back `text`, `first` (one track's audio) and `complete` (audio and cover image, served by a
media server on 127.0.0.1). A share of the callbacks is sent twice; all are shuffled and posted by
concurrent senders (keep-alive connections, or with `--no-keep-alive` a connection each) to `LocalStack`
(the real handlers, moto server on loopback). Then the stack drains: archive downloads, uploads, records
and publishes.

Printed, each as a ratio against a baseline measured in the same run:
- ingest throughput over HTTP (callbacks/s while posting) / the same senders against a bare HTTP server on
  loopback that only reads the body and answers 200 (the ceiling of the HTTP path itself);
- end-to-end throughput (callbacks/s, posting through the last event written) beside it.

And it checks what `tests/proof/test_storm.py` asserts: nothing lost, one record per stage, one
notification per outcome.

    .venv/bin/python bench/local_e2e.py [--callbacks 2000] [--duplicates 0.25] [--senders 16]
                                        [--no-keep-alive]

With `--no-keep-alive` every callback is a new connection (`Connection: close`), baseline included: the
listen backlog's test (a reset connection is counted and resent).
"""

from __future__ import annotations

import argparse
import contextlib
import http.client
import io
import json
import os
import random
import tempfile
import threading
import time
from collections import Counter, defaultdict
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

AUDIO = os.urandom(4096)
IMAGE = os.urandom(1024)


@dataclass
class StormResult:
    callbacks: int
    unique: int
    tasks: int
    senders: int
    post_seconds: float
    total_seconds: float
    answers: Counter[str]
    statuses: Counter[int]
    problems: list[str] = field(default_factory=list)
    events: int = 0
    logical_outcomes: int = 0

    @property
    def ingest_per_second(self) -> float:
        return self.callbacks / self.post_seconds

    @property
    def end_to_end_per_second(self) -> float:
        return self.callbacks / self.total_seconds


class _Server(ThreadingHTTPServer):
    request_queue_size = 128  # every sender connects at once


def _serve(handler: type[BaseHTTPRequestHandler]) -> ThreadingHTTPServer:
    server = _Server(("127.0.0.1", 0), handler)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


class _Media(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, format: str, *args: Any) -> None:
        pass

    def do_GET(self) -> None:
        body, content_type = (IMAGE, "image/jpeg") if self.path.endswith(".jpeg") else (AUDIO, "audio/mpeg")
        self.send_response(200)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


class _Echo(BaseHTTPRequestHandler):
    """The baseline: read the body, answer a small JSON 200, nothing else."""

    protocol_version = "HTTP/1.1"

    def log_message(self, format: str, *args: Any) -> None:
        pass

    def do_POST(self) -> None:
        self.rfile.read(int(self.headers.get("Content-Length", "0")))
        body = b'{"status":"received"}'
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


def storm_callbacks(
    callbacks: int, duplicate_share: float, media_base: str, seed: int
) -> tuple[list[tuple[str, bytes]], int, int]:
    """(kind, body) in the order they are sent; the number of unique callbacks and of tasks."""
    unique = max(3, round(callbacks * (1 - duplicate_share)))
    tasks = max(1, unique // 3)
    unique = tasks * 3
    rng = random.Random(seed)
    bodies: list[tuple[str, bytes]] = []
    for n in range(tasks):
        task_id = f"storm-{n:05d}"
        audio = f"{media_base}/{task_id}/audio.mp3"
        image = f"{media_base}/{task_id}/cover.jpeg"
        for stage, tracks in (
            ("text", [{"id": f"{task_id}-a", "title": "Storm", "prompt": "[Verse]"}]),
            ("first", [{"id": f"{task_id}-a", "title": "Storm", "audio_url": audio}]),
            ("complete", [{"id": f"{task_id}-a", "title": "Storm", "audio_url": audio, "image_url": image}]),
        ):
            payload = {
                "code": 200,
                "msg": "ok",
                "data": {"callbackType": stage, "task_id": task_id, "data": tracks},
            }
            bodies.append(("music", json.dumps(payload).encode()))
    duplicates = [rng.choice(bodies) for _ in range(max(0, callbacks - unique))]
    sent = bodies + duplicates
    rng.shuffle(sent)
    return sent, unique, tasks


def post_all(
    base_url: str, paths: dict[str, str], sent: list[tuple[str, bytes]], senders: int, keep_alive: bool = True
) -> tuple[float, Counter[str], Counter[int]]:
    """Post every callback with `senders` threads (one keep-alive connection each, or a connection per
    callback); seconds and answers."""
    parts = urlsplit(base_url)
    answers: Counter[str] = Counter()
    statuses: Counter[int] = Counter()
    lock = threading.Lock()
    shares = [sent[n::senders] for n in range(senders)]
    start = threading.Barrier(senders + 1)
    headers = {"Content-Type": "application/json"}
    if not keep_alive:
        headers["Connection"] = "close"  # http.client connects again for the next request

    def send(share: list[tuple[str, bytes]]) -> None:
        connection = http.client.HTTPConnection(parts.hostname, parts.port, timeout=60)
        start.wait()
        for kind, body in share:
            for attempt in range(3):  # a reset connection is retried, as the provider would
                try:
                    connection.request("POST", paths[kind], body=body, headers=headers)
                    response = connection.getresponse()
                    break
                except (ConnectionError, http.client.HTTPException):
                    connection.close()
                    if attempt == 2:
                        raise
                    with lock:
                        statuses[-1] += 1  # counted as "retried"
            answer = json.loads(response.read() or b"{}").get("status", "")
            with lock:
                statuses[response.status] += 1
                answers[answer] += 1
        connection.close()

    with ThreadPoolExecutor(max_workers=senders) as pool:
        futures = [pool.submit(send, share) for share in shares]
        start.wait()
        began = time.perf_counter()
        for future in futures:
            future.result()
        elapsed = time.perf_counter() - began
    return elapsed, answers, statuses


def run_storm(
    callbacks: int = 400,
    duplicate_share: float = 0.25,
    senders: int = 16,
    seed: int = 7,
    workdir: Path | None = None,
    keep_alive: bool = True,
) -> StormResult:
    from suno_callbacks.dal.aws import client
    from suno_callbacks.dal.records import RecordStore
    from suno_callbacks.local.stack import LocalStack

    media = _serve(_Media)
    folder = Path(workdir or tempfile.mkdtemp(prefix="storm-"))
    events_file = folder / "events.jsonl"
    sent, unique, tasks = storm_callbacks(
        callbacks, duplicate_share, f"http://127.0.0.1:{media.server_address[1]}", seed
    )
    try:
        with LocalStack(port=0, media_hosts=("127.0.0.1",), events_file=events_file) as stack:
            url = urlsplit(stack.signed_url("music"))
            began = time.perf_counter()
            post_seconds, answers, statuses = post_all(
                stack.base_url, {"music": f"{url.path}?{url.query}"}, sent, senders, keep_alive
            )
            stack.wait_until_idle(timeout=max(60.0, callbacks / 10))
            total_seconds = time.perf_counter() - began
            result = StormResult(
                len(sent), unique, tasks, senders, post_seconds, total_seconds, answers, statuses
            )
            table = RecordStore(stack.resources.table_name)
            _check(result, table, events_file, client("s3"), stack.resources.bucket_name)
    finally:
        media.shutdown()
        media.server_close()
    return result


def _check(result: StormResult, table: Any, events_file: Path, s3: Any, bucket: str) -> None:
    problems = result.problems
    if set(result.statuses) - {200, -1}:
        problems.append(f"answers other than 200: {dict(result.statuses)}")
    if result.answers["received"] != result.unique:
        problems.append(f"{result.answers['received']} received, expected {result.unique}")
    if result.answers["duplicate"] != result.callbacks - result.unique:
        problems.append(
            f"{result.answers['duplicate']} duplicates, expected {result.callbacks - result.unique}"
        )
    events = [json.loads(line) for line in events_file.read_text().splitlines() if line.strip()]
    result.events = len(events)
    by_task: dict[str, dict[str, set[str]]] = defaultdict(lambda: defaultdict(set))
    for event in events:
        by_task[event["task_id"]][event["event"]].add(event["event_id"])
    result.logical_outcomes = sum(
        len(kinds["task.completed"]) + len(kinds["task.failed"]) for kinds in by_task.values()
    )
    keys = 0
    paginator = s3.get_paginator("list_objects_v2")
    for page in paginator.paginate(Bucket=bucket, Prefix="media/"):
        keys += len(page.get("Contents", []))
    if keys != 2 * result.tasks:
        problems.append(f"{keys} media objects, expected {2 * result.tasks}")
    for n in range(result.tasks):
        task_id = f"storm-{n:05d}"
        items = table.query_task(task_id)
        stages = Counter(item["stage"] for item in items if item.get("type") == "stage")
        if stages != Counter({"text": 1, "first": 1, "complete": 1}):
            problems.append(f"{task_id}: stage records {dict(stages)}")
        task = next((item for item in items if item["sk"] == "TASK"), {})
        if (task.get("status"), task.get("outcome")) != ("complete", "completed"):
            problems.append(f"{task_id}: task {task.get('status')}/{task.get('outcome')}")
        assets = [item for item in items if item.get("type") == "asset" and item.get("state") == "archived"]
        if len(assets) != 2:
            problems.append(f"{task_id}: {len(assets)} archived assets")
        published = by_task.get(task_id, {})
        if len(published.get("task.completed", ())) != 1 or published.get("task.failed"):
            problems.append(f"{task_id}: outcome events {dict(published)}")
        # progress for text and first when they settle before the outcome: one event id each at most
        if len(published.get("task.progress", ())) > 2:
            problems.append(f"{task_id}: progress events {published.get('task.progress')}")


def echo_baseline(sent: list[tuple[str, bytes]], senders: int, keep_alive: bool = True) -> float:
    echo = _serve(_Echo)
    try:
        seconds, _, statuses = post_all(
            f"http://127.0.0.1:{echo.server_address[1]}",
            {"music": "/callbacks/music"},
            sent,
            senders,
            keep_alive,
        )
        assert set(statuses) <= {200, -1}
    finally:
        echo.shutdown()
        echo.server_close()
    return len(sent) / seconds


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--callbacks", type=int, default=2000)
    parser.add_argument("--duplicates", type=float, default=0.25)
    parser.add_argument("--senders", type=int, default=16)
    parser.add_argument("--no-keep-alive", dest="keep_alive", action="store_false")
    args = parser.parse_args()

    sent, _, _ = storm_callbacks(args.callbacks, args.duplicates, "http://127.0.0.1:9", seed=7)
    baseline = echo_baseline(sent, args.senders, args.keep_alive)
    with contextlib.redirect_stdout(io.StringIO()):  # the handlers' metric lines (EMF) go to stdout
        result = run_storm(args.callbacks, args.duplicates, args.senders, keep_alive=args.keep_alive)
    connections = "keep-alive connections" if args.keep_alive else "a new connection per callback"
    print(
        f"local end-to-end storm: {result.callbacks} callbacks "
        f"({result.callbacks - result.unique} duplicates, "
        f"{result.tasks} music tasks x 3 stages, shuffled), {result.senders} concurrent senders over HTTP "
        f"({connections})"
    )
    http_statuses = {code: n for code, n in result.statuses.items() if code != -1}
    retried = result.statuses.get(-1, 0)
    print(f"    answers: {dict(result.answers)}; HTTP {http_statuses}; resent after a reset: {retried}")
    print(
        f"    events written: {result.events}; "
        f"logical outcomes: {result.logical_outcomes} (tasks: {result.tasks})"
    )
    print(f"    correctness: {'OK' if not result.problems else 'PROBLEMS'}")
    for problem in result.problems[:20]:
        print(f"      - {problem}")
    print(f"(a) ingest over HTTP: {result.ingest_per_second:.0f} callbacks/s")
    print(f"    bare HTTP server on loopback, same senders (baseline): {baseline:.0f} callbacks/s")
    print(f"    ratio ingest / baseline: {result.ingest_per_second / baseline:.3f}")
    print(
        f"(b) end to end (posting until the last event, archive included): "
        f"{result.end_to_end_per_second:.0f} callbacks/s in {result.total_seconds:.1f} s; "
        f"ratio to baseline: {result.end_to_end_per_second / baseline:.3f}"
    )
    if result.problems:
        raise SystemExit(1)


if __name__ == "__main__":
    main()
