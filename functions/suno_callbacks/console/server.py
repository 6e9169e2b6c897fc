"""`ConsoleServer`: the console's HTTP listener on 127.0.0.1; its handler only translates to and from
`ConsoleApp` (app.py), which decides everything.

    with ConsoleServer(settings) as console:   # a free port
        print(console.url)                     # http://127.0.0.1:PORT/
"""

from __future__ import annotations

import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from typing import cast
from urllib.parse import parse_qsl

from suno_callbacks.console.app import Answer, ConsoleApp, Request
from suno_callbacks.console.data import ConsoleData
from suno_callbacks.console.security import Guard, security_headers
from suno_callbacks.models.settings import CliSettings

HOST = "127.0.0.1"
# The console's forms post a token and an id; nothing bigger is read.
MAX_FORM_BYTES = 16 * 1024
DEFAULT_UNREACHABLE_HINT = "check your AWS credentials, region and --stack"


class ConsoleServer:
    def __init__(
        self, settings: CliSettings, port: int = 0, *, unreachable_hint: str = DEFAULT_UNREACHABLE_HINT
    ) -> None:
        self._settings = settings
        self._port = port
        self._unreachable_hint = unreachable_hint
        self._httpd: _ConsoleHttpServer | None = None
        self._thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        assert self._httpd is not None, "start the console first"
        return f"http://{HOST}:{self._httpd.server_address[1]}/"

    def start(self) -> None:
        """Bind (an `OSError` when the port is taken) and serve in a background thread."""
        httpd = _ConsoleHttpServer((HOST, self._port), _Handler)
        httpd.app = ConsoleApp(
            ConsoleData(self._settings),
            Guard(int(httpd.server_address[1])),
            unreachable_hint=self._unreachable_hint,
        )
        self._httpd = httpd
        self._thread = threading.Thread(target=httpd.serve_forever, name="console", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        if self._httpd is not None:
            self._httpd.shutdown()
            self._httpd.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)
        self._httpd = self._thread = None

    def __enter__(self) -> ConsoleServer:
        self.start()
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()


class _ConsoleHttpServer(ThreadingHTTPServer):
    daemon_threads = True
    app: ConsoleApp


class _Handler(BaseHTTPRequestHandler):
    def version_string(self) -> str:
        return "suno-callbacks-console"

    def log_message(self, format: str, *args: object) -> None:
        """Quiet: the console's terminal shows its URL, not every request."""

    def do_GET(self) -> None:
        self._answer(Request("GET", self.path, self._headers()))

    def do_POST(self) -> None:
        length = self.headers.get("Content-Length") or "0"
        if not length.isdigit() or int(length) > MAX_FORM_BYTES:
            self.send_error(413)
            return
        form = dict(parse_qsl(self.rfile.read(int(length)).decode("utf-8", "replace")))
        self._answer(Request("POST", self.path, self._headers(), form))

    def _headers(self) -> dict[str, str]:
        return {name.lower(): value for name, value in self.headers.items()}

    def _answer(self, request: Request) -> None:
        answer: Answer = cast(_ConsoleHttpServer, self.server).app.handle(request)
        self.send_response(answer.status)
        headers = {"Content-Type": answer.content_type, "Content-Length": str(len(answer.body))}
        if answer.location:
            headers["Location"] = answer.location
        for name, value in (headers | security_headers(answer.media_origins)).items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(answer.body)
