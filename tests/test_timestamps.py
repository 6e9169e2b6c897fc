"""Stored times have one format, which sorts as text (the `time_key` range queries rely on it)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

from suno_callbacks.timestamps import from_iso, to_iso


def test_stored_times_are_utc_with_microseconds_and_z() -> None:
    paris = timezone(timedelta(hours=1))
    assert to_iso(datetime(2026, 11, 22, 6, 30, 0, 5, tzinfo=paris)) == "2026-11-22T05:30:00.000005Z"


def test_text_order_is_time_order() -> None:
    start = datetime(2026, 11, 22, 23, 59, 59, 999_999, tzinfo=UTC)
    moments = [start + timedelta(microseconds=n * 7_919) for n in range(500)]
    assert sorted(to_iso(m) for m in reversed(moments)) == [to_iso(m) for m in moments]


def test_round_trip_and_a_time_typed_without_a_zone_is_utc() -> None:
    moment = datetime(2026, 1, 2, 3, 4, 5, 678_901, tzinfo=UTC)
    assert from_iso(to_iso(moment)) == moment
    assert from_iso("2026-01-02T03:04:05") == datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)
