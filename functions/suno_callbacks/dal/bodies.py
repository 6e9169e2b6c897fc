"""Callback bodies on their items: zlib-compressed in the item (`raw_body`), or, for a body that would not
fit DynamoDB's 400 KB item, in S3 under `bodies/<sha256>` (`raw_body_s3_key`).

At the default body limit (256 KiB) a compressed body always fits; S3 is there for a raised limit. The
key is the body's SHA-256, so the same body is stored once whatever items name it.
"""

from __future__ import annotations

import hashlib
import zlib
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from suno_callbacks.dal.aws import client
from suno_callbacks.dal.records import RecordStore
from suno_callbacks.errors import RecordTooLarge, StoreUnavailable

BODIES_PREFIX = "bodies/"
RAW_BODY = "raw_body"
RAW_BODY_S3_KEY = "raw_body_s3_key"


def compress(body: bytes) -> bytes:
    return zlib.compress(body, 6)


class BodyStore:
    def __init__(self, bucket_name: str, s3: Any | None = None) -> None:
        self.bucket_name = bucket_name
        self._s3 = s3

    @property
    def s3(self) -> Any:
        # Not memoised here: `client` is the one cache, so tests and local mode can swap it.
        return self._s3 if self._s3 is not None else client("s3")

    def put(self, body: bytes) -> str:
        key = body_key(body)
        try:
            self.s3.put_object(Bucket=self.bucket_name, Key=key, Body=body)
        except (ClientError, BotoCoreError) as error:
            raise StoreUnavailable(f"S3 {type(error).__name__}") from error
        return key

    def get(self, key: str) -> bytes:
        try:
            stored: bytes = self.s3.get_object(Bucket=self.bucket_name, Key=key)["Body"].read()
        except (ClientError, BotoCoreError) as error:
            raise StoreUnavailable(f"S3 {type(error).__name__}") from error
        return stored


def body_key(body: bytes) -> str:
    return f"{BODIES_PREFIX}{hashlib.sha256(body).hexdigest()}"


def put_new_with_body(records: RecordStore, bodies: BodyStore, item: dict[str, Any], body: bytes) -> None:
    """Put `item`, which must not exist yet, holding `body` (`ConditionFailed` when it exists)."""
    try:
        records.put_new({**item, RAW_BODY: compress(body)})
    except RecordTooLarge:
        records.put_new({**item, RAW_BODY_S3_KEY: bodies.put(body)})


def body_of(item: dict[str, Any], bodies: BodyStore) -> bytes:
    """The body an item holds, wherever it is kept."""
    if RAW_BODY in item:
        return zlib.decompress(item[RAW_BODY])
    return bodies.get(item[RAW_BODY_S3_KEY])


def has_body(item: dict[str, Any]) -> bool:
    return RAW_BODY in item or RAW_BODY_S3_KEY in item


def holds_body(item: dict[str, Any], body: bytes) -> bool:
    """Whether `item` holds exactly `body` (without reading S3: its key is the body's SHA-256)."""
    if RAW_BODY in item:
        return bool(zlib.decompress(item[RAW_BODY]) == body)
    return bool(item.get(RAW_BODY_S3_KEY) == body_key(body))
