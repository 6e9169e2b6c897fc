"""boto3 clients, created on first use and reused across warm invocations, and the time they may take.

A store that hangs must not outlast the function: ingest answers the provider well inside its 15 s, with
a 503 rather than a gateway error when the function would time out. Two mechanisms, both here:

- each attempt is short (`CONNECT_TIMEOUT_SECONDS` + `READ_TIMEOUT_SECONDS`) and a call makes at most
  `MAX_ATTEMPTS` of them (a DynamoDB or SQS call normally answers in milliseconds), so one call is
  bounded by `CALL_BUDGET_SECONDS` whatever the network does;
- a handler sets a `deadline` from Lambda's remaining time: an attempt that could not finish before it is
  not started (`DeadlineExceeded`, which the data-access modules report as the store unavailable).

`AWS_ENDPOINT_URL` (honoured by botocore) points the clients at the embedded moto server in local mode.
"""

from __future__ import annotations

import math
import time
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from functools import cache
from typing import Any

import boto3
from botocore.config import Config
from botocore.exceptions import BotoCoreError

CONNECT_TIMEOUT_SECONDS = 1.0
READ_TIMEOUT_SECONDS = 2.0
MAX_ATTEMPTS = 2
# The standard retry mode's wait between two attempts is at most this long for errors that are not
# throttling (0.05 s scale); throttling waits up to 1 s.
_MAX_BACKOFF_SECONDS = 1.0
ATTEMPT_SECONDS = CONNECT_TIMEOUT_SECONDS + READ_TIMEOUT_SECONDS
# The longest one call can take, every attempt timing out.
CALL_BUDGET_SECONDS = MAX_ATTEMPTS * ATTEMPT_SECONDS + (MAX_ATTEMPTS - 1) * _MAX_BACKOFF_SECONDS

_CONFIG = Config(
    connect_timeout=CONNECT_TIMEOUT_SECONDS,
    read_timeout=READ_TIMEOUT_SECONDS,
    retries={"mode": "standard", "max_attempts": MAX_ATTEMPTS},
)
_deadline: ContextVar[float] = ContextVar("aws_deadline", default=math.inf)


class DeadlineExceeded(BotoCoreError):
    """No time is left for another attempt of an AWS call (not retried: it is the end of the time)."""

    fmt = "no time left for an AWS call before the function's deadline"


@contextmanager
def deadline(seconds: float) -> Iterator[None]:
    """AWS calls made meanwhile (in this thread) start no attempt that could end after `seconds`."""
    token = _deadline.set(time.monotonic() + seconds)
    try:
        yield
    finally:
        _deadline.reset(token)


def _refuse_past_the_deadline(**_: Any) -> None:
    if time.monotonic() + ATTEMPT_SECONDS > _deadline.get():
        raise DeadlineExceeded


@cache
def client(service: str) -> Any:
    """A shared client for `service` ("dynamodb", "sqs", "s3", "sns", "secretsmanager")."""
    aws = boto3.client(service, config=_CONFIG)  # type: ignore[call-overload]
    aws.meta.events.register("before-send", _refuse_past_the_deadline)
    return aws
