"""The receiver's settings: defaults here, overrides from `cdk.json` context or `cdk deploy -c key=value`.

Context values from `cdk.json` arrive as JSON types, values from `-c` as strings; both are accepted.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from constructs import Node

from infra import constants
from suno_callbacks.models.settings import DEFAULT_MEDIA_HOSTS


@dataclass(frozen=True, kw_only=True)
class ReceiverConfig:
    """Everything a deployment may change. The defaults are a sound production setup."""

    # Physical names are derived from this prefix where a name is useful to people (dashboard, alarms).
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
    # None leaves the archiver unreserved (accounts with a small concurrency quota cannot reserve).
    archive_reserved_concurrency: int | None = 10
    deletion_protection: bool = True
    throttle_rate_per_second: int = 100
    throttle_burst: int = 200
    sweep_every_minutes: int = 60
    powertools_layer_version: int = 38

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


def _optional_int(value: Any) -> int | None:
    return None if str(value).lower() in {"none", "null", "off", "0"} else int(value)


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
