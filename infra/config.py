"""The receiver's settings: defaults here, overrides from `cdk.json` context or `cdk deploy -c key=value`.

Context values from `cdk.json` arrive as JSON types, values from `-c` as strings; both are accepted.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from aws_cdk import Stack
from constructs import Construct, Node

from infra import constants
from suno_callbacks.models.settings import DEFAULT_MEDIA_HOSTS


@dataclass(frozen=True, kw_only=True)
class ReceiverConfig:
    """Everything a deployment may change. The defaults are a sound production setup."""

    # Names that people read (dashboard, HTTP API, alarm descriptions) start with this prefix.
    resource_prefix: str = constants.SERVICE_NAME
    media_hosts: tuple[str, ...] = DEFAULT_MEDIA_HOSTS
    # The provider deletes media about 14 days after the callback; the sweep and the near-expiry alarm
    # work back from it.
    source_retention_days: int = 14
    # 0 keeps records forever; otherwise each record expires this many days after it was written.
    record_ttl_days: int = 0
    # None keeps media in S3 Standard / forever.
    media_transition_days: int | None = None
    media_expiry_days: int | None = None
    log_retention_days: int = 30
    log_level: str = "INFO"
    alarm_email: str | None = None
    notification_email: str | None = None
    # None leaves the archiver unreserved: a new account's concurrency quota is often 10, and Lambda
    # refuses any reservation that leaves fewer than 10 unreserved. The event source's maximum concurrency
    # bounds parallel downloads either way (constants.ARCHIVE_MAX_CONCURRENCY, or this when set).
    archive_reserved_concurrency: int | None = None
    # Off by default: a table created with deletion protection cannot be deleted by the rollback of a failed
    # first deploy. The table is retained on stack updates and deletion regardless (storage.py); turn this on
    # once the stack exists, to guard against deleting the table by hand.
    deletion_protection: bool = False
    throttle_rate_per_second: int = 100
    throttle_burst: int = 200
    sweep_every_minutes: int = 60
    powertools_layer_version: int = 38

    def __post_init__(self) -> None:
        reserved = self.archive_reserved_concurrency
        if reserved is not None and reserved < constants.MIN_EVENT_SOURCE_CONCURRENCY:
            # The event source could not be bounded by it (its minimum is 2), so the poller would start
            # invocations the function may not run: throttled batches count towards the DLQ.
            raise ValueError(
                f"archiveReservedConcurrency must be off (null) or at least "
                f"{constants.MIN_EVENT_SOURCE_CONCURRENCY}, not {reserved}"
            )

    def physical_name(self, scope: Construct) -> str:
        """`<resource_prefix>-<stack name>`: one name per receiver and stack, so two stacks never collide."""
        return f"{self.resource_prefix}-{Stack.of(scope).stack_name}"

    @classmethod
    def from_context(cls, node: Node) -> ReceiverConfig:
        def get(key: str) -> Any:
            value = node.try_get_context(key)
            return None if value in (None, "") else value

        overrides: dict[str, Any] = {}
        for attribute, key, parse in _CONTEXT:
            value = get(key)
            if value is not None:
                overrides[attribute] = parse(value)
        return cls(**overrides)


def _int(value: Any) -> int:
    return int(value)


# How `-c key=value` (a string) or cdk.json (`0`, `false`) says "none" for an optional number. A JSON
# `null` never gets this far: CDK drops null context values, so the default (None) applies.
_OFF = {"none", "null", "off", "0", "false"}


def _optional_int(value: Any) -> int | None:
    return None if str(value).strip().lower() in _OFF else int(value)


def _bool(value: Any) -> bool:
    return value if isinstance(value, bool) else str(value).lower() in {"1", "true", "yes", "on"}


def _hosts(value: Any) -> tuple[str, ...]:
    items = value.split(",") if isinstance(value, str) else value
    return tuple(str(host).strip().lower() for host in items if str(host).strip())


def _str(value: Any) -> str:
    return str(value)


_CONTEXT = (
    ("resource_prefix", constants.CTX_RESOURCE_PREFIX, _str),
    ("media_hosts", constants.CTX_MEDIA_HOSTS, _hosts),
    ("source_retention_days", constants.CTX_SOURCE_RETENTION_DAYS, _int),
    ("record_ttl_days", constants.CTX_RECORD_TTL_DAYS, _int),
    ("media_transition_days", constants.CTX_MEDIA_TRANSITION_DAYS, _optional_int),
    ("media_expiry_days", constants.CTX_MEDIA_EXPIRY_DAYS, _optional_int),
    ("log_retention_days", constants.CTX_LOG_RETENTION_DAYS, _int),
    ("log_level", constants.CTX_LOG_LEVEL, _str),
    ("alarm_email", constants.CTX_ALARM_EMAIL, _str),
    ("notification_email", constants.CTX_NOTIFICATION_EMAIL, _str),
    ("archive_reserved_concurrency", constants.CTX_ARCHIVE_RESERVED_CONCURRENCY, _optional_int),
    ("deletion_protection", constants.CTX_DELETION_PROTECTION, _bool),
    ("throttle_rate_per_second", constants.CTX_THROTTLE_RATE, _int),
    ("throttle_burst", constants.CTX_THROTTLE_BURST, _int),
    ("sweep_every_minutes", constants.CTX_SWEEP_SCHEDULE_MINUTES, _int),
    ("powertools_layer_version", constants.CTX_POWERTOOLS_LAYER_VERSION, _int),
)
