"""Keeping an authenticated body we cannot record, with the reason, for listing, showing and replay.

Ingest quarantines what it cannot understand; archive quarantines a stage that arrived under another
kind or ref than the task it names (DESIGN §3). The id is the SHA-256 of kind, ref and body, so the
same body under the same URL is one entry (its repeats counted), and under another ref another entry.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import Any

from suno_callbacks.dal import keys
from suno_callbacks.dal.bodies import BodyStore, put_new_with_body
from suno_callbacks.dal.records import ConditionFailed, RecordStore
from suno_callbacks.models.kinds import Kind
from suno_callbacks.observability import logger


def quarantine_id(kind: Kind, ref: str | None, body: bytes) -> str:
    return hashlib.sha256(f"{kind.value}\n{ref or ''}\n".encode() + body).hexdigest()[:32]


@dataclass(frozen=True)
class Quarantine:
    records: RecordStore
    bodies: BodyStore

    def keep(
        self,
        *,
        kind: Kind,
        ref: str | None,
        body: bytes,
        reason: str,
        now: str,
        expires_at: int | None,
        about: dict[str, Any] | None = None,
    ) -> str:
        """Store the body with `reason` (and what else is known `about` it); returns the quarantine id."""
        entry_id = quarantine_id(kind, ref, body)
        item: dict[str, Any] = {
            keys.PK: keys.quarantine_pk(entry_id),
            keys.SK: keys.QUARANTINE_SK,
            "type": "quarantine",
            "quarantine_id": entry_id,
            "kind": kind.value,
            "ref": ref,
            "reason": reason,
            "received_at": now,
            "body_bytes": len(body),
            keys.KIND_KEY: keys.QUARANTINE_KIND_KEY,
            keys.TIME_KEY: keys.time_key(now, entry_id),
            keys.TTL_ATTRIBUTE: expires_at,
            **(about or {}),
        }
        try:
            put_new_with_body(self.records, self.bodies, item, body)
        except ConditionFailed:
            self.records.count_duplicate(pk=item[keys.PK], sk=keys.QUARANTINE_SK, now=now)
        logger.warning("callback quarantined", extra={"reason": reason, "quarantine_id": entry_id})
        return entry_id
