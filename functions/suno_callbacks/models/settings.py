"""Configuration from the environment, parsed once per process with pydantic (README "Configuration").

Every variable is prefixed `SUNO_CALLBACKS_`. The CDK app sets them; local mode and tests set them too.
Logic receives these models as arguments and never reads `os.environ` itself.
"""

from __future__ import annotations

import os
from functools import cache
from typing import TypeVar

from pydantic import BaseModel, ConfigDict, Field, field_validator

PREFIX = "SUNO_CALLBACKS_"

# Provider media hosts (SUNO_CALLBACKS.md §17). A host matches itself and its subdomains.
DEFAULT_MEDIA_HOSTS = (
    "aiquickdraw.com",
    "erweima.ai",
    "suno.ai",
    "sunoai.ai",
    "api.box",
    "removeai.ai",
    "kie.ai",
    "sunoapi.org",
    "redpandaai.co",
)


class _FromEnvironment(BaseModel):
    model_config = ConfigDict(frozen=True, extra="ignore", populate_by_name=True)


class StoreSettings(_FromEnvironment):
    table_name: str = Field(alias=f"{PREFIX}TABLE", min_length=1)
    bucket_name: str = Field(alias=f"{PREFIX}BUCKET", min_length=1)
    record_ttl_days: int = Field(default=0, ge=0, alias=f"{PREFIX}RECORD_TTL_DAYS")


class IngestSettings(StoreSettings):
    queue_url: str = Field(alias=f"{PREFIX}QUEUE_URL", min_length=1)
    # Secrets Manager secret (name or ARN) holding {"current": ..., "previous": ..., "kie_webhook_key": ...}.
    secret_id: str = Field(alias=f"{PREFIX}SECRET_ID", min_length=1)
    secret_max_age_seconds: int = Field(default=300, ge=0, alias=f"{PREFIX}SECRET_MAX_AGE_SECONDS")
    max_body_bytes: int = Field(default=256 * 1024, gt=0, alias=f"{PREFIX}MAX_BODY_BYTES")
    kie_signature_window_seconds: int = Field(
        default=300, gt=0, alias=f"{PREFIX}KIE_SIGNATURE_WINDOW_SECONDS"
    )


class ArchiveSettings(StoreSettings):
    topic_arn: str = Field(alias=f"{PREFIX}TOPIC_ARN", min_length=1)
    # Its own queue: a stage too large for one invocation continues in a new message.
    queue_url: str = Field(alias=f"{PREFIX}QUEUE_URL", min_length=1)
    media_hosts: tuple[str, ...] = Field(default=DEFAULT_MEDIA_HOSTS, alias=f"{PREFIX}MEDIA_HOSTS")
    # Local mode and tests only: hosts that may be loopback and plain http. The CDK app never sets it.
    local_media_hosts: tuple[str, ...] = Field(default=(), alias=f"{PREFIX}LOCAL_MEDIA_HOSTS")
    publish_progress: bool = Field(default=True, alias=f"{PREFIX}PUBLISH_PROGRESS")
    connect_timeout_seconds: float = Field(default=5.0, gt=0, alias=f"{PREFIX}CONNECT_TIMEOUT_SECONDS")
    read_timeout_seconds: float = Field(default=30.0, gt=0, alias=f"{PREFIX}READ_TIMEOUT_SECONDS")
    # However the source sends (a byte every few seconds never trips the read timeout), one file gets
    # at most this long; a slower one is a transient failure, retried.
    download_deadline_seconds: float = Field(default=300.0, gt=0, alias=f"{PREFIX}DOWNLOAD_DEADLINE_SECONDS")
    # No file is started later than this before the invocation's end: the rest of the stage is queued
    # as a continuation, so a stage of any size settles across invocations.
    stop_before_timeout_seconds: float = Field(
        default=30.0, ge=0, alias=f"{PREFIX}STOP_BEFORE_TIMEOUT_SECONDS"
    )
    max_redirects: int = Field(default=3, ge=0, le=10, alias=f"{PREFIX}MAX_REDIRECTS")
    max_audio_bytes: int = Field(default=200 * 1024 * 1024, gt=0, alias=f"{PREFIX}MAX_AUDIO_BYTES")
    max_wav_bytes: int = Field(default=500 * 1024 * 1024, gt=0, alias=f"{PREFIX}MAX_WAV_BYTES")
    max_image_bytes: int = Field(default=20 * 1024 * 1024, gt=0, alias=f"{PREFIX}MAX_IMAGE_BYTES")
    max_video_bytes: int = Field(default=2 * 1024 * 1024 * 1024, gt=0, alias=f"{PREFIX}MAX_VIDEO_BYTES")
    source_retention_days: int = Field(default=14, gt=0, alias=f"{PREFIX}SOURCE_RETENTION_DAYS")
    # The queue's receive limit: the delivery that is the last before the DLQ.
    max_attempts: int = Field(default=5, gt=0, alias=f"{PREFIX}MAX_ATTEMPTS")
    # Streaming upload to S3: memory stays near (upload_chunks_in_memory + 1) * upload_chunk_bytes whatever
    # the file's size (bench/archive.py). S3 parts are at least 5 MiB; parts in flight <= chunks in memory.
    upload_chunk_bytes: int = Field(
        default=5 * 1024 * 1024, ge=5 * 1024 * 1024, alias=f"{PREFIX}UPLOAD_CHUNK_BYTES"
    )
    upload_concurrency: int = Field(default=2, gt=0, alias=f"{PREFIX}UPLOAD_CONCURRENCY")
    upload_chunks_in_memory: int = Field(default=2, gt=0, alias=f"{PREFIX}UPLOAD_CHUNKS_IN_MEMORY")

    @field_validator("media_hosts", "local_media_hosts", mode="before")
    @classmethod
    def _split_hosts(cls, value: object) -> object:
        if isinstance(value, str):
            return tuple(h.strip().lower().rstrip(".") for h in value.split(",") if h.strip())
        return value


class SweepSettings(_FromEnvironment):
    table_name: str = Field(alias=f"{PREFIX}TABLE", min_length=1)
    queue_url: str = Field(alias=f"{PREFIX}QUEUE_URL", min_length=1)
    source_retention_days: int = Field(default=14, gt=0, alias=f"{PREFIX}SOURCE_RETENTION_DAYS")
    # Younger tasks are still on their normal way (ingest -> queue -> archive) and are left alone.
    grace_minutes: int = Field(default=15, ge=0, alias=f"{PREFIX}SWEEP_GRACE_MINUTES")
    # Unsettled stages older than this are counted as near expiry (metric StagesNearExpiry, alarmed on).
    near_expiry_days: int = Field(default=12, gt=0, alias=f"{PREFIX}SWEEP_NEAR_EXPIRY_DAYS")


SettingsT = TypeVar("SettingsT", bound=_FromEnvironment)


@cache
def load_settings(model: type[SettingsT]) -> SettingsT:
    """Parse the environment into `model` once per process (a missing variable fails loudly)."""
    return model.model_validate(dict(os.environ))


class ReaderSettings(StoreSettings):
    """What other services (the reader API) and the CLI need: the table and bucket to read, and, to make
    callback URLs, the API's base URL and the signing secret."""

    # The API's root, `https://{api}.execute-api.{region}.amazonaws.com/` (the stack's `CallbackBaseUrl`
    # without its `/callbacks`); callback URLs are `{base_url}/callbacks/{kind}?…`.
    base_url: str | None = Field(default=None, alias=f"{PREFIX}BASE_URL")
    secret_id: str | None = Field(default=None, alias=f"{PREFIX}SECRET_ID")


class CliSettings(ReaderSettings):
    """The reader's settings plus the queues and the topic, for the operator commands of the CLI."""

    queue_url: str | None = Field(default=None, alias=f"{PREFIX}QUEUE_URL")
    dlq_url: str | None = Field(default=None, alias=f"{PREFIX}DLQ_URL")
    topic_arn: str | None = Field(default=None, alias=f"{PREFIX}TOPIC_ARN")
