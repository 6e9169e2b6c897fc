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
    """A media download or upload failed in a way a later attempt may repair (timeout, 5xx, reset).

    `final_reason`, when set, is what the asset is recorded as (failed) once the last attempt failed the
    same way, instead of the message going to the DLQ: for failures that are most likely permanent but
    cannot be told apart from a passing one (an expired stream link answers 200 with an empty body).
    """

    def __init__(self, message: str, *, final_reason: str | None = None) -> None:
        super().__init__(message)
        self.final_reason = final_reason
