"""Domain errors. Data-access modules translate SDK errors into these; handlers map them to answers."""


class StoreUnavailable(Exception):
    """DynamoDB, SQS, S3 or SNS did not accept a call; the caller must retry (ingest answers 503)."""


class RecordTooLarge(Exception):
    """An item does not fit DynamoDB's 400 KB limit."""


class PermanentMediaError(Exception):
    """A media file can never be archived from this URL (refused by policy, gone at the source)."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class TransientMediaError(Exception):
    """A media download or upload failed in a way a later attempt may repair (timeout, 5xx, reset)."""
