"""A real HTTP listener in front of the ingest handler: HTTP request -> API Gateway HTTP API event
(payload format 2.0) -> `lambda_handler` -> HTTP response.

Like the HTTP API, it routes only `POST /callbacks/{kind}` to the function and answers anything else
404 itself; it reads a body sent with a length or in chunks, answers 400 for one whose framing cannot be
read and 413 for one over API Gateway's 10 MB payload limit, without reaching the function. Each
answered request is reported to `on_request` (local mode prints it as one line).

A thread per connection, HTTP/1.1 keep-alive, and a listen backlog deep enough for a burst of senders
connecting at once (the default of 5 resets connections beyond it).
"""

from __future__ import annotations

import base64
import io
import json
import re
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qsl, unquote, urlsplit

from suno_callbacks.local.runtime import Handler, LambdaRuntime
from suno_callbacks.logic.signing import CALLBACKS_PATH

ROUTE_KEY = f"POST {CALLBACKS_PATH}/{{kind}}"
API_GATEWAY_MAX_BODY_BYTES = 10 * 1024 * 1024
LISTEN_BACKLOG = 256
_CHUNK_SIZE = re.compile(rb"[0-9A-Fa-f]{1,16}")


@dataclass(frozen=True)
class AnsweredRequest:
    """One request and its answer, as local mode reports it."""

    method: str
    path: str  # without the query: the signature stays out of the terminal
    status: int
    answer: dict[str, Any]  # the JSON body of the answer ({} when it is not a JSON object)
    seconds: float
    at: datetime = field(default_factory=lambda: datetime.now().astimezone())


OnRequest = Callable[[AnsweredRequest], None]


def http_api_event(
    *, method: str, target: str, headers: dict[str, str], body: bytes, source_ip: str, kind: str
) -> dict[str, Any]:
    """The event API Gateway sends for a request to `target` (path and query)."""
    parts = urlsplit(target)
    query: dict[str, str] = {}
    # API Gateway joins repeated parameters with commas.
    for name, value in parse_qsl(parts.query, keep_blank_values=True):
        query[name] = f"{query[name]},{value}" if name in query else value
    now = datetime.now(UTC)
    try:
        body_text, encoded = body.decode("utf-8"), False
    except UnicodeDecodeError:
        body_text, encoded = base64.b64encode(body).decode(), True
    event: dict[str, Any] = {
        "version": "2.0",
        "routeKey": ROUTE_KEY,
        "rawPath": parts.path,
        "rawQueryString": parts.query,
        "headers": {name.lower(): value for name, value in headers.items()},
        "requestContext": {
            "accountId": "000000000000",
            "apiId": "local",
            "domainName": headers.get("host", "127.0.0.1"),
            "domainPrefix": "local",
            "http": {
                "method": method,
                "path": parts.path,
                "protocol": "HTTP/1.1",
                "sourceIp": source_ip,
                "userAgent": headers.get("user-agent", ""),
            },
            "requestId": f"local-{now.timestamp():.6f}",
            "routeKey": ROUTE_KEY,
            "stage": "$default",
            "time": now.strftime("%d/%b/%Y:%H:%M:%S +0000"),
            "timeEpoch": int(now.timestamp() * 1000),
        },
        "pathParameters": {"kind": kind},
        "isBase64Encoded": encoded,
    }
    if query:
        event["queryStringParameters"] = query
    if body:
        event["body"] = body_text
    return event


def callback_kind(method: str, path: str) -> str | None:
    """The `{kind}` segment when the request matches the API's one route, else None."""
    prefix = f"{CALLBACKS_PATH}/"
    if method != "POST" or not path.startswith(prefix):
        return None
    segment = path[len(prefix) :]
    return unquote(segment) if segment and "/" not in segment else None


class _Listener(ThreadingHTTPServer):
    request_queue_size = LISTEN_BACKLOG
    daemon_threads = True


class IngestServer:
    """An HTTP listener on 127.0.0.1 that hands each callback to `handler` through `runtime`."""

    def __init__(
        self, handler: Handler, runtime: LambdaRuntime, port: int = 0, on_request: OnRequest | None = None
    ) -> None:
        self._httpd = _Listener(("127.0.0.1", port), _request_handler(handler, runtime, on_request))
        self._thread = threading.Thread(target=self._httpd.serve_forever, name="ingest-http", daemon=True)

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self._httpd.server_address[1]}"

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._httpd.shutdown()
        self._httpd.server_close()
        self._thread.join()


def _request_handler(
    handler: Handler, runtime: LambdaRuntime, on_request: OnRequest | None
) -> type[BaseHTTPRequestHandler]:
    class CallbackRequestHandler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        # Headers and body go out in two writes: without this, on a kept-alive connection the second
        # waits for the client's delayed acknowledgement of the first (40 ms).
        disable_nagle_algorithm = True

        def log_message(self, format: str, *args: Any) -> None:
            """Quiet: each answer goes to `on_request` instead."""

        def do_POST(self) -> None:
            self._answer("POST")

        def do_GET(self) -> None:
            self._answer("GET")

        def do_PUT(self) -> None:
            self._answer("PUT")

        def do_PATCH(self) -> None:
            self._answer("PATCH")

        def do_DELETE(self) -> None:
            self._answer("DELETE")

        def _answer(self, method: str) -> None:
            started = time.perf_counter()
            status, data = self._handle(method)
            if on_request is not None:
                on_request(
                    AnsweredRequest(
                        method=method,
                        path=urlsplit(self.path).path,
                        status=status,
                        answer=_json_object(data),
                        seconds=time.perf_counter() - started,
                    )
                )

        def _handle(self, method: str) -> tuple[int, bytes]:
            """Answer the request; its status and body."""
            try:
                body = self._body()
            except BodyRefused as refused:
                self.close_connection = True  # what is left of the body is unread: the connection is done
                return self._send(
                    refused.status,
                    {"content-type": "application/json"},
                    json.dumps({"message": refused.message}).encode(),
                )
            kind = callback_kind(method, urlsplit(self.path).path)
            if kind is None:
                return self._send(404, {"content-type": "application/json"}, b'{"message":"Not Found"}')
            event = http_api_event(
                method=method,
                target=self.path,
                headers=dict(self.headers.items()),
                body=body,
                source_ip=self.client_address[0],
                kind=kind,
            )
            response = runtime.invoke(handler, event, "ingest")
            payload = response.get("body") or ""
            data = base64.b64decode(payload) if response.get("isBase64Encoded") else payload.encode()
            return self._send(int(response["statusCode"]), response.get("headers") or {}, data)

        def _body(self) -> bytes:
            """The request's body, sent with a length or in chunks (as API Gateway reads either), at most
            API Gateway's limit; `BodyRefused` when it is too large or its framing cannot be read."""
            codings = [
                c.strip().lower() for c in self.headers.get("transfer-encoding", "").split(",") if c.strip()
            ]
            if codings:
                if codings != ["chunked"]:
                    raise BodyRefused(400, "Bad Request")  # RFC 9112: no length can be read, refuse
                return _read_chunked(self.rfile, API_GATEWAY_MAX_BODY_BYTES)
            declared = self.headers.get("content-length") or "0"
            if not (declared.isascii() and declared.isdigit()):  # no sign, spaces or list of lengths
                raise BodyRefused(400, "Bad Request")
            length = int(declared)
            if length > API_GATEWAY_MAX_BODY_BYTES:
                raise BodyRefused(413, "Request Entity Too Large")
            return self.rfile.read(length) if length else b""

        def _send(self, status: int, headers: dict[str, str], data: bytes) -> tuple[int, bytes]:
            self.send_response(status)
            for name, value in headers.items():
                if name.lower() != "content-length":
                    self.send_header(name, value)
            self.send_header("Content-Length", str(len(data)))
            if self.close_connection:  # the client asked, or the body was refused unread: say so
                self.send_header("Connection", "close")
            self.end_headers()
            self.wfile.write(data)
            return status, data

    return CallbackRequestHandler


class BodyRefused(Exception):
    """A request body that is not passed on: too large, or framed so that it cannot be read."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


def _read_chunked(stream: io.BufferedIOBase, limit: int) -> bytes:
    """A chunked body (RFC 9112 §7.1): sizes in hex (extensions ignored), then the trailer section.

    Not werkzeug's `DechunkedInput` (at hand with moto): it refuses chunk extensions, leaves trailers on
    the connection and returns a body cut inside a chunk as if it were whole."""
    body = bytearray()
    while True:
        size_line = stream.readline(1024)
        size_text = size_line.split(b";", 1)[0].strip()
        if not _CHUNK_SIZE.fullmatch(size_text) or not size_line.endswith(b"\n"):
            raise BodyRefused(400, "Bad Request")
        size = int(size_text, 16)
        if size == 0:
            break
        if len(body) + size > limit:
            raise BodyRefused(413, "Request Entity Too Large")
        chunk = stream.read(size)
        if len(chunk) != size or stream.readline(3).strip():
            raise BodyRefused(400, "Bad Request")
        body += chunk
    for _ in range(100):  # trailer fields, up to the empty line that ends the request
        if not stream.readline(8192).strip():
            return bytes(body)
    raise BodyRefused(400, "Bad Request")


def _json_object(data: bytes) -> dict[str, Any]:
    try:
        answer = json.loads(data)
    except ValueError:
        return {}
    return answer if isinstance(answer, dict) else {}
