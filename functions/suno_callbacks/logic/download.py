"""Opening a provider media URL under the policy, and reading it as a bounded, hashed stream.

`open_media` follows redirects itself (each hop re-checked by the policy, at most `max_redirects`), checks
the status, the content type and the declared length, and yields a `MediaStream`: a file-like object whose
`read` counts bytes, stops at the size cap and feeds SHA-256, so the upload never holds more than it asks for.
"""

from __future__ import annotations

import hashlib
import math
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from urllib.parse import urljoin

from urllib3 import BaseHTTPResponse, Timeout
from urllib3.exceptions import HTTPError

from suno_callbacks.errors import PermanentMediaError, TransientMediaError
from suno_callbacks.logic.media_types import stored_format
from suno_callbacks.logic.url_policy import UrlPolicy, open_pool
from suno_callbacks.models.kinds import MediaType

TOO_LARGE = "too_large"
CONTENT_TYPE = "content_type"
TOO_MANY_REDIRECTS = "too_many_redirects"
EMPTY_BODY = "empty_body"

_PIECE_BYTES = 256 * 1024
_REDIRECTS = frozenset({301, 302, 303, 307, 308})
_GONE = frozenset({403, 404, 410})
_RETRYABLE_CLIENT_ERRORS = frozenset({408, 425, 429})


@dataclass(frozen=True)
class DownloadLimits:
    connect_timeout_seconds: float
    read_timeout_seconds: float
    max_redirects: int
    max_bytes: Mapping[MediaType, int]


class MediaStream:
    """The response body as a file-like object: counted, capped and hashed while it is read.

    The first piece is read when the stream is opened, so that an empty body is known before anything
    is uploaded.
    """

    def __init__(
        self,
        response: BaseHTTPResponse,
        *,
        extension: str,
        content_type: str,
        max_bytes: int,
        deadline: float,
    ) -> None:
        self._response = response
        self._max_bytes = max_bytes
        self._deadline = deadline
        self._sha256 = hashlib.sha256()
        self.extension = extension
        self.content_type = content_type
        self.bytes_read = 0
        self._first = self._read_counted(_PIECE_BYTES)
        if not self._first:
            raise TransientMediaError("the source answered with an empty body", final_reason=EMPTY_BODY)

    def read(self, size: int | None = -1) -> bytes:
        # Never ask for more than one byte past the cap: an oversize body is not read to its end.
        allowance = self._max_bytes - self.bytes_read + 1
        wanted = allowance if size is None or size < 0 else min(size, allowance)
        pieces: list[bytes] = []
        if self._first and wanted > 0:
            pieces.append(self._first)
            wanted -= len(self._first)
            self._first = b""
        while wanted > 0:
            # Small reads: urllib3 copies what it reads a few times, so a part-sized read would cost
            # several parts of memory at once.
            piece = self._read_counted(min(wanted, _PIECE_BYTES))
            if not piece:
                break
            pieces.append(piece)
            wanted -= len(piece)
        return b"".join(pieces)

    def _read_counted(self, amount: int) -> bytes:
        piece = self._read_piece(amount)
        self.bytes_read += len(piece)
        if self.bytes_read > self._max_bytes:
            raise PermanentMediaError(TOO_LARGE)
        self._sha256.update(piece)
        return piece

    def _read_piece(self, amount: int) -> bytes:
        if time.monotonic() > self._deadline:
            raise TransientMediaError(f"too slow: {self.bytes_read} bytes before the file's deadline")
        try:
            # One read of what has arrived (at most `amount`), so that a source sending a byte at a time
            # comes back here, to the deadline, after each one.
            return self._response.read1(amount)
        except (HTTPError, OSError) as error:
            raise TransientMediaError(f"interrupted after {self.bytes_read} bytes: {error}") from error

    @property
    def sha256(self) -> str:
        return self._sha256.hexdigest()


def _status_error(status: int) -> Exception:
    reason = f"http_{status}"
    if status in _GONE:
        return PermanentMediaError(reason)
    if status >= 500 or status in _RETRYABLE_CLIENT_ERRORS:
        return TransientMediaError(reason)
    return PermanentMediaError(reason)


@contextmanager
def open_media(
    url: str,
    media_type: MediaType,
    *,
    policy: UrlPolicy,
    limits: DownloadLimits,
    ca_certs: str | None = None,
    deadline_seconds: float = math.inf,
) -> Iterator[MediaStream]:
    """Open `url` for streaming; raises PermanentMediaError (refused, gone) or TransientMediaError.

    Reading stops with a TransientMediaError once `deadline_seconds` have passed since the call.
    """
    deadline = time.monotonic() + deadline_seconds
    max_bytes = limits.max_bytes[media_type]
    timeout = Timeout(connect=limits.connect_timeout_seconds, read=limits.read_timeout_seconds)
    for _hop in range(limits.max_redirects + 1):
        target = policy.check_url(url)
        with open_pool(policy, target, ca_certs=ca_certs) as pool:
            try:
                response = pool.urlopen(
                    "GET",
                    target.request_path,
                    headers={"Accept-Encoding": "identity", "User-Agent": "suno-callbacks-archive"},
                    redirect=False,
                    retries=False,
                    preload_content=False,
                    timeout=timeout,
                )
            except (HTTPError, OSError) as error:
                raise TransientMediaError(f"cannot fetch from {target.host}: {error}") from error
            try:
                if response.status in _REDIRECTS and response.headers.get("Location"):
                    url = urljoin(target.url, response.headers["Location"])
                    continue
                if response.status != 200:
                    raise _status_error(response.status)
                stored = stored_format(response.headers.get("Content-Type"), target.url, media_type)
                if stored is None:
                    raise PermanentMediaError(CONTENT_TYPE)
                declared = response.headers.get("Content-Length")
                if declared is not None and declared.isdigit() and int(declared) > max_bytes:
                    raise PermanentMediaError(TOO_LARGE)
                extension, content_type = stored
                yield MediaStream(
                    response,
                    extension=extension,
                    content_type=content_type,
                    max_bytes=max_bytes,
                    deadline=deadline,
                )
                return
            finally:
                # Closing (not draining) drops the connection, so a refused body is never read to its end.
                response.close()
    raise PermanentMediaError(TOO_MANY_REDIRECTS)
