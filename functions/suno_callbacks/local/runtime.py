"""Plays the Lambda service for the real handlers: one invocation at a time, each with a context.

The handlers share process-wide state, as they may in Lambda where one instance runs one invocation at a
time: Powertools' HTTP resolver keeps the current event on its module-level `app`, and the Logger and
Metrics singletons hold per-invocation keys and metrics. Local mode runs ingest and archive in threads
of one process, so every invocation takes one lock. Correctness over throughput: an archive batch that
downloads a large file holds ingest's answers back until it is done.
"""

from __future__ import annotations

import threading
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

Handler = Callable[[dict[str, Any], Any], dict[str, Any]]


@dataclass
class LambdaContext:
    """What Powertools reads from Lambda's context object."""

    function_name: str
    memory_limit_in_mb: int = 512
    function_version: str = "$LATEST"
    aws_request_id: str = field(default_factory=lambda: str(uuid.uuid4()))
    log_group_name: str = "local"
    log_stream_name: str = "local"

    @property
    def invoked_function_arn(self) -> str:
        return f"arn:aws:lambda:us-east-1:000000000000:function:{self.function_name}"

    def get_remaining_time_in_millis(self) -> int:
        return 600_000


class LambdaRuntime:
    def __init__(self) -> None:
        self._lock = threading.Lock()

    def invoke(self, handler: Handler, event: dict[str, Any], function_name: str) -> dict[str, Any]:
        with self._lock:
            return handler(event, LambdaContext(function_name=function_name))
