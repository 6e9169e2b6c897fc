"""Sample media on 127.0.0.1 for `demo` and `trigger`: small real files (samples/, made by
samples/make_media.sh), so that what local mode archives plays in the console. A file is chosen by the
extension of the path asked for; the path's other parts only keep distinct links distinct."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from importlib import resources
from typing import Any

# extension -> (sample file, content type)
_SAMPLES = {
    "mp3": ("song.mp3", "audio/mpeg"),
    "m4a": ("song.m4a", "audio/mp4"),
    "wav": ("song.wav", "audio/wav"),
    "jpeg": ("cover.jpeg", "image/jpeg"),
    "jpg": ("cover.jpeg", "image/jpeg"),
    "png": ("cover.png", "image/png"),
    "mp4": ("video.mp4", "video/mp4"),
}
DEFAULT_EXTENSION = "mp3"  # what a link with another extension gets (stream links are audio)


@contextmanager
def sample_media() -> Iterator[str]:
    """Serve the samples until the block ends; yields the base URL (`http://127.0.0.1:PORT`)."""
    folder = resources.files("suno_callbacks.local").joinpath("samples")
    files = {ext: (folder.joinpath(name).read_bytes(), kind) for ext, (name, kind) in _SAMPLES.items()}

    class SampleHandler(BaseHTTPRequestHandler):
        def log_message(self, format: str, *args: Any) -> None:
            """Quiet: local mode prints what it archived."""

        def do_GET(self) -> None:
            extension = self.path.rsplit("/", 1)[-1].rpartition(".")[2].lower()
            body, content_type = files.get(extension, files[DEFAULT_EXTENSION])
            self.send_response(200)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

    server = ThreadingHTTPServer(("127.0.0.1", 0), SampleHandler)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()
