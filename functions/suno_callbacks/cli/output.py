"""What the CLI prints: aligned tables for people, JSON for programs, a progress bar on stderr."""

from __future__ import annotations

import json
import sys
import unicodedata
from collections.abc import Sequence
from typing import Any

from pydantic import BaseModel

NONE = "none"


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
    text = "".join(" " if unicodedata.category(c) == "Cc" else c for c in str(value))
    return " ".join(text.split())


def progress(done: int, total: int, width: int = 30) -> None:
    """One line on stderr, redrawn in place: `[#####-----] 12/40`."""
    total = max(total, done, 1)
    filled = width * done // total
    sys.stderr.write(f"\r[{'#' * filled}{'-' * (width - filled)}] {done}/{total}")
    sys.stderr.flush()
