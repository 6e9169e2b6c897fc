"""What the CLI prints: aligned tables for people, JSON for programs, a progress bar on stderr; and the one
place where what callbacks carry is made safe to show in a terminal."""

from __future__ import annotations

import json
import re
import sys
import unicodedata
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Any, TextIO, cast

from pydantic import BaseModel

NONE = "none"


# What makes a terminal act rather than show: the C0 and C1 controls but newline and tab (ESC starts colour,
# cursor, title and clipboard sequences, 0x9B is the same CSI in one byte, CR writes over the line) and the
# bidirectional controls that show text in another order than it has ("Trojan Source").
_ACTS_ON_TERMINAL = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]")


def shown_safely(text: str) -> str:
    """`text` with each character a terminal would act on written as its escape (ESC as `\\u001b`): also
    valid inside a JSON string, where it means the same character."""
    return _ACTS_ON_TERMINAL.sub(lambda found: f"\\u{ord(found.group()):04x}", text)


class _ShownSafely:
    """A text stream that writes everything through `shown_safely`."""

    def __init__(self, stream: TextIO) -> None:
        self._stream = stream

    def write(self, text: str) -> int:
        self._stream.write(shown_safely(text))
        return len(text)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._stream, name)


@contextmanager
def safe_stdout() -> Iterator[None]:
    """Meanwhile, stdout shows callbacks' text (titles, lyrics, bodies, reasons) as text: whatever a
    callback holds, it cannot drive the reader's terminal, in a table, a JSON document or a log line."""
    original = sys.stdout
    sys.stdout = cast(TextIO, _ShownSafely(original))
    try:
        yield
    finally:
        sys.stdout = original


class CliError(Exception):
    """Printed as `error: <message>` with exit status 1; the message says what to do next."""


def print_json(value: BaseModel | Sequence[BaseModel]) -> None:
    if isinstance(value, BaseModel):
        data: Any = value.model_dump(mode="json", exclude_none=True)
    else:
        data = [v.model_dump(mode="json", exclude_none=True) for v in value]
    print(json.dumps(data, indent=2, ensure_ascii=False))


def table(headers: Sequence[str], rows: Sequence[Sequence[object]], *, empty: str = NONE) -> str:
    """Columns padded to their display width (CJK and emoji take two cells); `empty` when there are no rows,
    so that an empty list never looks like a header that lost its rows."""
    if not rows:
        return empty
    cells = [[h.upper() for h in headers], *([_cell(v) for v in row] for row in rows)]
    widths = [max(display_width(row[i]) for row in cells) for i in range(len(headers))]
    return "\n".join(
        "  ".join(_pad(text, width) for text, width in zip(row, widths, strict=True)).rstrip()
        for row in cells
    )


def display_width(text: str) -> int:
    """Terminal cells `text` takes: wide and full-width characters 2, combining marks and format
    characters (zero-width joiner, variation selectors) 0, the rest 1."""
    return sum(_char_width(c) for c in text)


def _char_width(char: str) -> int:
    if unicodedata.combining(char) or unicodedata.category(char) in ("Mn", "Me", "Cf"):
        return 0
    return 2 if unicodedata.east_asian_width(char) in ("W", "F") else 1


def _pad(text: str, width: int) -> str:
    return text + " " * (width - display_width(text))


def _cell(value: object) -> str:
    if value is None or value == "":
        return "-"
    # A provider's text may carry newlines or terminal escapes; a cell is one line of plain text.
    return " ".join(_ACTS_ON_TERMINAL.sub(" ", str(value)).split())


def progress(done: int, total: int, width: int = 30) -> None:
    """One line on stderr, redrawn in place: `[#####-----] 12/40`."""
    total = max(total, done, 1)
    filled = width * done // total
    sys.stderr.write(f"\r[{'#' * filled}{'-' * (width - filled)}] {done}/{total}")
    sys.stderr.flush()
