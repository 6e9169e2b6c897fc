"""boto3 clients, created on first use and reused across warm invocations.

Timeouts are short and retries bounded so that ingest still answers well within the provider's 15 s.
`AWS_ENDPOINT_URL` (honoured by botocore) points them at the embedded moto server in local mode.
"""

from __future__ import annotations

from functools import cache
from typing import Any

import boto3
from botocore.config import Config

_CONFIG = Config(
    connect_timeout=2,
    read_timeout=5,
    retries={"mode": "standard", "max_attempts": 3},
)


@cache
def client(service: str) -> Any:
    """A shared client for `service` ("dynamodb", "sqs", "s3", "sns", "secretsmanager")."""
    return boto3.client(service, config=_CONFIG)  # type: ignore[call-overload]
