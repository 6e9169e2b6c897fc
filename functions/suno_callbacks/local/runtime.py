"""Plays the Lambda service for one function: up to `instances` invocations at a time, each with a
context.

Lambda runs a function in as many instances as requests arrive, one invocation per instance; local mode
gives ingest a few (a burst of callbacks is answered side by side, as it would be deployed) and archive
one, and the two their own runtimes, so that an archive batch that downloads a large file does not hold
ingest's answers back. Here the instances share this process: what the handlers keep per process is safe
across threads (the cached boto3 clients and settings; metrics written at once with `single_metric`,
and archive's metric set is its own), except the Powertools Logger's keys, which are process-wide: with
`--verbose` a log line may carry another invocation's context keys. The handlers' answers do not depend
on them.
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
    def __init__(self, instances: int = 1) -> None:
        self._instances = threading.BoundedSemaphore(instances)

    def invoke(self, handler: Handler, event: dict[str, Any], function_name: str) -> dict[str, Any]:
        with self._instances:
            return handler(event, LambdaContext(function_name=function_name))
