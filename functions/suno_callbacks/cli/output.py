"""What the CLI prints: aligned tables for people, JSON for programs, a progress bar on stderr."""

from __future__ import annotations

import json
import sys
from collections.abc import Sequence
from typing import Any

from pydantic import BaseModel


class CliError(Exception):
    """Printed as `error: <message>` with exit status 1; the message says what to do next."""


def print_json(value: BaseModel | Sequence[BaseModel]) -> None:
    if isinstance(value, BaseModel):
        data: Any = value.model_dump(mode="json", exclude_none=True)
    else:
        data = [v.model_dump(mode="json", exclude_none=True) for v in value]
    print(json.dumps(data, indent=2, ensure_ascii=False))


def table(headers: Sequence[str], rows: Sequence[Sequence[object]]) -> str:
    cells = [[_cell(v) for v in row] for row in rows]
    widths = [max(len(h), *(len(r[i]) for r in cells)) if cells else len(h) for i, h in enumerate(headers)]
    lines = ["  ".join(h.upper().ljust(w) for h, w in zip(headers, widths, strict=True)).rstrip()]
    lines += ["  ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)).rstrip() for row in cells]
    return "\n".join(lines)


def _cell(value: object) -> str:
    return "-" if value is None or value == "" else str(value)


def progress(done: int, total: int, width: int = 30) -> None:
    """One line on stderr, redrawn in place: `[#####-----] 12/40`."""
    total = max(total, done, 1)
    filled = width * done // total
    sys.stderr.write(f"\r[{'#' * filled}{'-' * (width - filled)}] {done}/{total}")
    sys.stderr.flush()
