"""The media bucket (S3). Streams go through boto3's managed transfer; SDK errors become `StoreUnavailable`.

The managed transfer reads the stream in parts, keeps at most `chunks_in_memory` of them in memory and,
if the stream or an upload fails, aborts the multipart upload, so a failure leaves no object and no parts.
Errors raised by the stream itself (the domain's download errors) pass through unchanged.
"""

from __future__ import annotations

from typing import Any, Protocol

from boto3.exceptions import S3UploadFailedError
from boto3.s3.transfer import TransferConfig
from botocore.exceptions import BotoCoreError, ClientError

from suno_callbacks.dal.aws import client
from suno_callbacks.errors import StoreUnavailable

MiB = 1024 * 1024


class Readable(Protocol):
    def read(self, size: int = -1, /) -> bytes: ...


def transfer_config(*, chunk_bytes: int = 5 * MiB, concurrency: int = 2, chunks_in_memory: int = 2) -> Any:
    config = TransferConfig(
        multipart_threshold=chunk_bytes,
        multipart_chunksize=chunk_bytes,
        max_concurrency=concurrency,
        # The classic manager: the CRT one would ignore these limits.
        preferred_transfer_client="classic",
    )
    # Bounds the memory of an upload from a stream: about (chunks_in_memory + 1) * chunk_bytes.
    config.max_in_memory_upload_chunks = chunks_in_memory
    return config


class MediaStore:
    def __init__(self, bucket_name: str, *, config: Any | None = None, s3: Any | None = None) -> None:
        self.bucket_name = bucket_name
        self._config = config or transfer_config()
        self._s3 = s3

    @property
    def s3(self) -> Any:
        # Not memoised here: `client` is the one cache, so tests and local mode can swap it.
        return self._s3 if self._s3 is not None else client("s3")

    def uri(self, key: str) -> str:
        return f"s3://{self.bucket_name}/{key}"

    def upload_stream(self, key: str, stream: Readable, *, content_type: str) -> None:
        """Stream into `key`; the object appears only once the whole stream was read without error."""
        try:
            self.s3.upload_fileobj(
                stream,
                self.bucket_name,
                key,
                ExtraArgs={"ContentType": content_type},
                Config=self._config,
            )
        except (ClientError, BotoCoreError, S3UploadFailedError) as error:
            raise StoreUnavailable(f"S3 {type(error).__name__}") from error

    def put_bytes(self, key: str, body: bytes, *, content_type: str) -> None:
        try:
            self.s3.put_object(Bucket=self.bucket_name, Key=key, Body=body, ContentType=content_type)
        except (ClientError, BotoCoreError) as error:
            raise StoreUnavailable(f"S3 {type(error).__name__}") from error
