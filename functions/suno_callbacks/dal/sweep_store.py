"""The table as the sweep sees it: stages archive has not settled, by kind and time (never a Scan)."""

from __future__ import annotations

from collections.abc import Iterator

from suno_callbacks.dal import keys
from suno_callbacks.dal.dynamo import to_value
from suno_callbacks.dal.records import RecordStore
from suno_callbacks.models.kinds import Kind
from suno_callbacks.models.messages import ArchiveRequest


class SweepStore(RecordStore):
    def unsettled_stages(
        self, kind: Kind, *, received_from: str, received_to: str
    ) -> Iterator[ArchiveRequest]:
        """The archive requests of `kind`'s stages received in [received_from, received_to] (ISO times)
        and not settled yet: the sparse index `unsettled`, which archive leaves a stage by settling it."""
        items = self.query(
            IndexName=keys.UNSETTLED_INDEX,
            KeyConditionExpression="#unsettled = :kind AND #received BETWEEN :from AND :to",
            ExpressionAttributeNames={"#unsettled": keys.UNSETTLED, "#received": keys.RECEIVED_AT},
            ExpressionAttributeValues={
                ":kind": to_value(kind.value),
                ":from": to_value(received_from),
                ":to": to_value(received_to),
            },
        )
        for item in items:
            yield ArchiveRequest.model_validate(item)
