"""Quarantined bodies too large for a DynamoDB item, kept in S3 under `quarantine/`."""

from __future__ import annotations

from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from suno_callbacks.dal.aws import client
from suno_callbacks.errors import StoreUnavailable

QUARANTINE_PREFIX = "quarantine/"


class BodyStore:
    def __init__(self, bucket_name: str, s3: Any | None = None) -> None:
        self.bucket_name = bucket_name
        self._s3 = s3

    @property
    def s3(self) -> Any:
        # Not memoised here: `client` is the one cache, so tests and local mode can swap it.
        return self._s3 if self._s3 is not None else client("s3")

    def put_quarantined(self, quarantine_id: str, body: bytes) -> str:
        key = f"{QUARANTINE_PREFIX}{quarantine_id}.body"
        try:
            self.s3.put_object(Bucket=self.bucket_name, Key=key, Body=body)
        except (ClientError, BotoCoreError) as error:
            raise StoreUnavailable(f"S3 {type(error).__name__}") from error
        return key
