"""Fault injection on the real boto3 clients, through botocore's event hooks."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from botocore.exceptions import EndpointConnectionError

from suno_callbacks.dal.aws import client


@contextmanager
def unavailable(service: str, operation: str, times: int = 1, after: int = 0) -> Iterator[dict[str, int]]:
    """After `after` good calls, the next `times` calls of `operation` fail as if unreachable."""
    calls = {"passed": 0, "failed": 0}

    def fail(**_: Any) -> None:
        if calls["passed"] < after:
            calls["passed"] += 1
        elif calls["failed"] < times:
            calls["failed"] += 1
            raise EndpointConnectionError(endpoint_url=f"https://{service}.us-east-1.amazonaws.com")

    events = client(service).meta.events
    event_name = f"before-call.{service}.{operation}"
    events.register(event_name, fail, unique_id=f"fault-{event_name}")
    try:
        yield calls
    finally:
        events.unregister(event_name, unique_id=f"fault-{event_name}")
