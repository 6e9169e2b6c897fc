"""Local mode's HTTP listener reads a body however a client frames it, as API Gateway does: with a length
or in chunks. A body it cannot read is refused with a status, never handed on cut short or empty, and a
refused body's leftovers are never read as the next request."""

from __future__ import annotations

import base64
import json
import re
import socket
from collections.abc import Iterator
from typing import Any

import pytest

from suno_callbacks.local.http_adapter import API_GATEWAY_MAX_BODY_BYTES, IngestServer
from suno_callbacks.local.runtime import LambdaRuntime

BODY = json.dumps({"code": 200, "data": {"task_id": "chunked-1", "callbackType": "complete"}}).encode()


class Recording:
    """A stand-in for the ingest handler that keeps the body of every event it is given."""

    def __init__(self) -> None:
        self.bodies: list[bytes] = []

    def __call__(self, event: dict[str, Any], _context: Any) -> dict[str, Any]:
        raw = event.get("body") or ""
        self.bodies.append(base64.b64decode(raw) if event["isBase64Encoded"] else raw.encode())
        return {"statusCode": 200, "headers": {"content-type": "application/json"}, "body": '{"status":"ok"}'}


@pytest.fixture
def listener() -> Iterator[tuple[IngestServer, Recording]]:
    handler = Recording()
    server = IngestServer(handler, LambdaRuntime())
    server.start()
    try:
        yield server, handler
    finally:
        server.stop()


def exchange(server: IngestServer, request: bytes) -> bytes:
    """Send raw bytes on one connection; everything the server answers until it closes or goes quiet."""
    host, port = server.base_url.removeprefix("http://").split(":")
    with socket.create_connection((host, int(port)), timeout=5) as connection:
        connection.sendall(request)
        connection.shutdown(socket.SHUT_WR)
        answer = b""
        while chunk := connection.recv(65536):
            answer += chunk
    return answer


def head(headers: str) -> bytes:
    return f"POST /callbacks/music HTTP/1.1\r\nHost: 127.0.0.1\r\n{headers}\r\n".encode()


def statuses(answer: bytes) -> list[int]:
    """The status of each answer (an answer's body is JSON, so the pattern only matches status lines)."""
    return [int(code) for code in re.findall(rb"HTTP/1\.1 (\d{3}) ", answer)]


def chunked(body: bytes, size: int) -> bytes:
    parts = [body[n : n + size] for n in range(0, len(body), size)]
    return b"".join(b"%x\r\n%s\r\n" % (len(part), part) for part in parts) + b"0\r\n\r\n"


def test_a_chunked_body_reaches_the_handler_whole(listener: tuple[IngestServer, Recording]) -> None:
    server, handler = listener
    # GIVEN a body sent in chunks of 7 bytes (with a chunk extension and a trailer), then a second request
    framed = (
        chunked(BODY, 7).replace(b"\r\n", b";ext=1\r\n", 1).removesuffix(b"\r\n") + b"X-Trailer: 1\r\n\r\n"
    )
    second = head(f"Content-Length: {len(BODY)}\r\n") + BODY
    answer = exchange(server, head("Transfer-Encoding: chunked\r\n") + framed + second)
    # THEN both are answered on the one connection, each with the whole body it carried
    assert statuses(answer) == [200, 200]
    assert handler.bodies == [BODY, BODY]


@pytest.mark.parametrize(
    "request_bytes",
    [
        pytest.param(head("Content-Length: ten\r\n") + BODY, id="length not a number"),
        pytest.param(head("Content-Length: -1\r\n") + BODY, id="negative length"),
        pytest.param(head("Content-Length: 5, 5\r\n") + BODY, id="a list of lengths"),
        pytest.param(head("Transfer-Encoding: gzip\r\n") + BODY, id="a coding without chunked"),
        pytest.param(head("Transfer-Encoding: chunked\r\n") + b"zz\r\n" + BODY, id="chunk size not hex"),
        pytest.param(
            head("Transfer-Encoding: chunked\r\n") + b"ff\r\n" + BODY[:20], id="body ends inside a chunk"
        ),
    ],
)
def test_a_body_whose_framing_cannot_be_read_is_refused_with_400_and_nothing_is_handed_on(
    listener: tuple[IngestServer, Recording], request_bytes: bytes
) -> None:
    server, handler = listener
    # the same connection then carries what would be read as a request if the leftovers were parsed
    answer = exchange(server, request_bytes + head("Content-Length: 2\r\n") + b"{}")
    assert statuses(answer) == [400]
    assert b"Connection: close" in answer
    assert handler.bodies == []


def test_a_chunked_body_over_api_gateways_limit_is_refused_with_413(
    listener: tuple[IngestServer, Recording],
) -> None:
    server, handler = listener
    oversized = b"%x\r\n" % (API_GATEWAY_MAX_BODY_BYTES + 1)
    answer = exchange(server, head("Transfer-Encoding: chunked\r\n") + oversized + b"{" * 1024)
    assert statuses(answer) == [413]
    assert handler.bodies == []
