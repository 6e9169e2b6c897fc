"""Callback bodies as JSON values that every later step can hold: bounded depth, finite numbers, valid text.

The provider (or anyone with a signed URL) may send JSON that Python parses but that breaks whatever
touches it next: nesting deep enough to exhaust the stack, `NaN`/`Infinity`/`1e400` (not JSON numbers at
all, or not finite), lone UTF-16 surrogates (`"\\ud83d"`, what cutting an emoji in half produces) that no
UTF-8 encoder accepts. Every body and every JSON string inside a body (kie.ai's `resultJson`) is parsed
here, once, so that the rest of the code only ever sees values it can encode. The raw bytes are kept as
they came; only the parsed view is repaired.
"""

from __future__ import annotations

import json
import math
import re
from typing import Any

# A real callback nests four or five levels deep; this is far beyond any of them and far below the
# interpreter's recursion limit, whatever the caller's stack depth.
MAX_DEPTH = 64
REPLACEMENT_CHARACTER = "\ufffd"
_SURROGATE = re.compile("[\ud800-\udfff]")


class InvalidJson(ValueError):
    """The bytes are not a JSON document we accept; `reason` says why (kept with a quarantined body)."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def parse_json(raw: bytes | str, *, what: str = "body") -> Any:
    """The JSON value of `raw` with non-finite numbers as `None` and lone surrogates replaced."""
    try:
        # RFC 8259 lets a parser ignore a byte order mark: some HTTP clients put one before the JSON.
        text = raw.decode("utf-8-sig") if isinstance(raw, bytes) else raw
        value = json.loads(text, parse_constant=_no_constant)
    except UnicodeDecodeError:
        raise InvalidJson(f"{what} is not UTF-8") from None
    except RecursionError:
        raise InvalidJson(f"{what} is nested deeper than {MAX_DEPTH} levels") from None
    except ValueError:
        raise InvalidJson(f"{what} is not JSON") from None
    return _repaired(value, depth=0, what=what)


def _no_constant(_name: str) -> None:
    """`NaN`, `Infinity` and `-Infinity` are not JSON numbers: read as null."""
    return None


def _repaired(value: Any, *, depth: int, what: str) -> Any:
    if depth > MAX_DEPTH:
        raise InvalidJson(f"{what} is nested deeper than {MAX_DEPTH} levels")
    if isinstance(value, str):
        return _valid_text(value)
    if isinstance(value, float):
        return value if math.isfinite(value) else None  # 1e400 parses as infinity
    if isinstance(value, dict):
        return {_valid_text(key): _repaired(item, depth=depth + 1, what=what) for key, item in value.items()}
    if isinstance(value, list):
        return [_repaired(item, depth=depth + 1, what=what) for item in value]
    return value


def _valid_text(text: str) -> str:
    """`text` with every lone surrogate replaced by U+FFFD (cheap when there is none, the usual case)."""
    if text.isascii():
        return text
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return _SURROGATE.sub(REPLACEMENT_CHARACTER, text)
    return text


def has_replaced_text(text: str) -> bool:
    """Whether `text` held invalid Unicode that was replaced (an identifier must not)."""
    return REPLACEMENT_CHARACTER in text
