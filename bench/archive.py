"""Archive bench: memory independent of the file's size, and throughput against a plain boto3 upload.

Prints two ratios (targets in brackets):
- peak RSS archiving a 1 GiB stream / peak RSS archiving a 10 MiB stream   [at most 1.2]
- throughput archiving 1 GiB / throughput of boto3 `upload_fileobj` of the same bytes from a local
  stream, with boto3's default transfer settings, to the same endpoint     [at least 0.8]

"Archiving" is the function's own path: a media server on 127.0.0.1 (a separate process) serves the
stream, `open_media` fetches it under the URL policy, hashing and counting, and `MediaStore` streams it
into S3. S3 is moto running as a server process on 127.0.0.1, so its memory is not ours. Every case runs
in a fresh process that reports its own peak RSS.

    .venv/bin/python bench/archive.py [--large-mib 1024] [--small-mib 10] [--rounds 5]
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import socket
import subprocess
import sys
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

MiB = 1024 * 1024
BUCKET = "bench"
PATTERN = bytes(range(256)) * 4096  # 1 MiB


class PatternStream:
    """`size` bytes of a repeating pattern, as a non-seekable file-like object (like a download)."""

    def __init__(self, size: int) -> None:
        self.remaining = size

    def read(self, size: int = -1) -> bytes:
        amount = self.remaining if size is None or size < 0 else min(size, self.remaining)
        parts = []
        while amount > 0:
            part = PATTERN[: min(amount, len(PATTERN))]
            parts.append(part)
            amount -= len(part)
            self.remaining -= len(part)
        return b"".join(parts)


def serve_media(port: int) -> None:
    """`GET /<bytes>`: that many bytes of the pattern, with a Content-Length."""

    class Handler(BaseHTTPRequestHandler):
        def log_message(self, format: str, *args: Any) -> None:
            pass

        def do_GET(self) -> None:
            size = int(self.path.strip("/"))
            self.send_response(200)
            self.send_header("Content-Type", "video/mp4")
            self.send_header("Content-Length", str(size))
            self.end_headers()
            stream = PatternStream(size)
            while chunk := stream.read(len(PATTERN)):
                self.wfile.write(chunk)

    ThreadingHTTPServer(("127.0.0.1", port), Handler).serve_forever()


def measure(case: str, size: int, media_port: int) -> None:
    """One case in this (fresh) process; prints seconds and peak RSS as JSON."""
    import boto3

    from suno_callbacks.dal.media_store import MediaStore, transfer_config
    from suno_callbacks.logic.download import DownloadLimits, open_media
    from suno_callbacks.logic.url_policy import UrlPolicy
    from suno_callbacks.models.kinds import MediaType
    from suno_callbacks.models.settings import ArchiveSettings

    s3 = boto3.client("s3")
    started = time.perf_counter()
    if case == "plain":
        s3.upload_fileobj(PatternStream(size), BUCKET, f"plain/{size}")
    else:
        # The function's transfer settings: its defaults, or SUNO_CALLBACKS_UPLOAD_* from the environment.
        defaults = ArchiveSettings.model_validate(
            {
                "SUNO_CALLBACKS_TABLE": "-",
                "SUNO_CALLBACKS_BUCKET": BUCKET,
                "SUNO_CALLBACKS_TOPIC_ARN": "-",
                "SUNO_CALLBACKS_QUEUE_URL": "-",
                **os.environ,
            }
        )
        store = MediaStore(
            BUCKET,
            s3=s3,
            config=transfer_config(
                chunk_bytes=defaults.upload_chunk_bytes,
                concurrency=defaults.upload_concurrency,
                chunks_in_memory=defaults.upload_chunks_in_memory,
            ),
        )
        limits = DownloadLimits(
            connect_timeout_seconds=5,
            read_timeout_seconds=30,
            max_redirects=3,
            max_bytes=dict.fromkeys(MediaType, 4 << 30),
        )
        policy = UrlPolicy(allowed_hosts=(), local_hosts=("127.0.0.1",))
        url = f"http://127.0.0.1:{media_port}/{size}"
        with open_media(url, MediaType.VIDEO, policy=policy, limits=limits) as stream:
            store.upload_stream(f"archive/{size}", stream, content_type=stream.content_type)
            assert stream.bytes_read == size
    seconds = time.perf_counter() - started
    peak_rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024  # Linux reports KiB
    print(json.dumps({"seconds": seconds, "peak_rss": peak_rss}))


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def _wait_for(port: int) -> None:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        with socket.socket() as probe:
            if probe.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.1)
    raise RuntimeError(f"nothing listens on 127.0.0.1:{port}")


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--large-mib", type=int, default=1024)
    parser.add_argument("--small-mib", type=int, default=10)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--measure", nargs=3, metavar=("CASE", "BYTES", "MEDIA_PORT"), help=argparse.SUPPRESS)
    parser.add_argument("--serve-media", type=int, metavar="PORT", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve_media:
        serve_media(args.serve_media)
        return
    if args.measure:
        case, size, media_port = args.measure
        measure(case, int(size), int(media_port))
        return

    moto_port, media_port = _free_port(), _free_port()
    env = {
        **os.environ,
        "AWS_ENDPOINT_URL": f"http://127.0.0.1:{moto_port}",
        "AWS_ACCESS_KEY_ID": "bench",
        "AWS_SECRET_ACCESS_KEY": "bench",
        "AWS_DEFAULT_REGION": "us-east-1",
        "PYTHONPATH": str(Path(__file__).resolve().parent.parent / "functions"),
    }
    servers = [
        subprocess.Popen(
            [sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(moto_port)],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        ),
        subprocess.Popen([sys.executable, __file__, "--serve-media", str(media_port)], env=env),
    ]
    try:
        _wait_for(moto_port)
        _wait_for(media_port)
        subprocess.run(
            [sys.executable, "-c", f"import boto3; boto3.client('s3').create_bucket(Bucket={BUCKET!r})"],
            env=env,
            check=True,
        )

        def run(case: str, size: int) -> dict[str, float]:
            measured = subprocess.run(
                [sys.executable, __file__, "--measure", case, str(size), str(media_port)],
                env=env,
                check=False,
                capture_output=True,
                text=True,
            )
            if measured.returncode:
                raise RuntimeError(f"measuring {case} failed:\n{measured.stderr}")
            output = measured.stdout
            result: dict[str, float] = json.loads(output.strip().splitlines()[-1])
            seconds, rss = result["seconds"], result["peak_rss"] / MiB
            print(f"  {case:8} {size / MiB:7.0f} MiB  {seconds:7.2f} s  {rss:7.1f} MiB peak RSS")
            return result

        large, small = args.large_mib * MiB, args.small_mib * MiB
        results: dict[str, list[dict[str, float]]] = {"small": [], "large": [], "plain": []}
        # Interleaved rounds, best time of each: the machine's other load then weighs on both sides alike.
        for _ in range(args.rounds):
            results["small"].append(run("archive", small))
            results["large"].append(run("archive", large))
            results["plain"].append(run("plain", large))
    finally:
        for server in servers:
            server.terminate()
            server.wait()

    memory_ratio = max(r["peak_rss"] for r in results["large"]) / max(r["peak_rss"] for r in results["small"])
    throughput_ratio = min(r["seconds"] for r in results["plain"]) / min(
        r["seconds"] for r in results["large"]
    )
    print(f"peak RSS {args.large_mib} MiB / {args.small_mib} MiB: {memory_ratio:.2f} (target <= 1.2)")
    print(f"throughput archive / plain upload_fileobj: {throughput_ratio:.2f} (target >= 0.8)")


if __name__ == "__main__":
    main()
