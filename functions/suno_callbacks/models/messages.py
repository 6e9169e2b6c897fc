"""Messages between our functions (SQS, FIFO) and to subscribers (SNS, DESIGN §7)."""

from __future__ import annotations

import hashlib
import re

from pydantic import BaseModel, ConfigDict

from suno_callbacks.dal import keys
from suno_callbacks.models.kinds import Kind, Stage

# What SQS accepts as a message group id: 1-128 printable ASCII characters.
_GROUP_ID = re.compile(r"^[!-~]{1,128}$")


class ArchiveRequest(BaseModel):
    """The SQS message that asks archive to settle one stage record. The record is the source of truth.

    Messages of one task share a message group, so that archive settles a task's stages one at a time,
    in the order they arrived. `part` counts the continuations of a stage that could not be settled in
    one invocation (it stopped in time and queued the rest).
    """

    model_config = ConfigDict(frozen=True)

    v: int = 2
    task_id: str
    stage: Stage
    kind: Kind
    ref: str | None = None
    received_at: str
    part: int = 0

    @property
    def stage_key(self) -> str:
        return keys.stage_sk(self.stage, self.kind, self.ref)

    @property
    def group_id(self) -> str:
        """The task id, or its SHA-256 when SQS could not take it as it is (long, or not ASCII)."""
        if _GROUP_ID.match(self.task_id):
            return self.task_id
        return "sha256-" + hashlib.sha256(self.task_id.encode()).hexdigest()

    @property
    def deduplication_id(self) -> str:
        """The same for every send of one stage (and part): SQS drops repeats within five minutes."""
        identity = f"{self.task_id}\n{self.stage_key}\n{self.part}"
        return hashlib.sha256(identity.encode()).hexdigest()
