"""The archive queue (SQS FIFO). SDK errors become `StoreUnavailable`."""

from __future__ import annotations

from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from suno_callbacks.dal.aws import client
from suno_callbacks.errors import StoreUnavailable
from suno_callbacks.models.messages import ArchiveRequest


class ArchiveQueue:
    def __init__(self, queue_url: str, sqs: Any | None = None) -> None:
        self.queue_url = queue_url
        self._sqs = sqs

    @property
    def sqs(self) -> Any:
        # Not memoised here: `client` is the one cache, so tests and local mode can swap it.
        return self._sqs if self._sqs is not None else client("sqs")

    def send(self, request: ArchiveRequest) -> None:
        """Queue `request` in its task's message group; a repeat within five minutes is dropped by SQS."""
        try:
            self.sqs.send_message(
                QueueUrl=self.queue_url,
                MessageBody=request.model_dump_json(exclude_none=True),
                MessageGroupId=request.group_id,
                MessageDeduplicationId=request.deduplication_id,
            )
        except (ClientError, BotoCoreError) as error:
            raise StoreUnavailable(f"SQS {type(error).__name__}") from error
