"""Plays the Lambda service for one function: one invocation at a time, each with a context.

As in Lambda, where one instance runs one invocation at a time, a function's invocations take its
runtime's lock (Powertools' per-invocation state lives in module-level objects). Local mode gives ingest
and archive a runtime each, as Lambda gives them separate instances, so that an archive batch that
downloads a large file does not hold ingest's answers back. What the two functions share in this process
is safe across threads: the cached boto3 clients and settings, and metrics written at once (ingest's
`single_metric`); only the Logger's keys are process-wide, so with `--verbose` a log line may carry the
other function's context keys.
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
