"""The one format of every time we store: ISO 8601, UTC, microseconds, `Z` ("2026-11-22T05:30:00.123456Z").

It sorts as text, which the indexes' `time_key` range queries rely on, so every writer and reader of a
stored time goes through these two functions.
"""

from __future__ import annotations

from datetime import UTC, datetime

_FORMAT = "%Y-%m-%dT%H:%M:%S.%fZ"


def to_iso(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime(_FORMAT)


def from_iso(text: str) -> datetime:
    """A stored time, or ISO 8601 typed by a person (a time without a zone is taken as UTC)."""
    moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)
