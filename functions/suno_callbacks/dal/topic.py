"""The outcome topic (SNS). SDK errors become `StoreUnavailable`."""

from __future__ import annotations

from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from suno_callbacks.dal.aws import client
from suno_callbacks.errors import StoreUnavailable
from suno_callbacks.models.events import TaskEvent


class Topic:
    def __init__(self, topic_arn: str, sns: Any | None = None) -> None:
        self.topic_arn = topic_arn
        self._sns = sns

    @property
    def sns(self) -> Any:
        # Not memoised here: `client` is the one cache, so tests and local mode can swap it.
        return self._sns if self._sns is not None else client("sns")

    def publish(self, event: TaskEvent, message: str) -> None:
        """Publish `message` (the event as JSON) with attributes `event`, `kind` and `status`, so that
        subscriptions can filter."""
        attributes = {
            "event": event.event.value,
            "kind": event.kind.value,
            "status": event.status,
        }
        try:
            self.sns.publish(
                TopicArn=self.topic_arn,
                Message=message,
                MessageAttributes={
                    name: {"DataType": "String", "StringValue": value} for name, value in attributes.items()
                },
            )
        except (ClientError, BotoCoreError) as error:
            raise StoreUnavailable(f"SNS {type(error).__name__}") from error
