"""API Gateway HTTP API (payload 2.0) -> `receive_callback` -> the answer of DESIGN §4.

API Gateway routes only `POST /callbacks/{kind}` here, so this reads the event through Powertools' event
data class rather than its event-handler router: the router package imports every resolver (AppSync,
OpenAPI, asyncio), about 40 ms of cold start that a single route does not need.
"""

from __future__ import annotations

import base64
import json
from functools import cache
from typing import Any

from aws_lambda_powertools.metrics import MetricUnit, single_metric
from aws_lambda_powertools.utilities.data_classes import APIGatewayProxyEventV2, event_source
from aws_lambda_powertools.utilities.typing import LambdaContext

from suno_callbacks.dal.aws import deadline
from suno_callbacks.dal.bodies import BodyStore
from suno_callbacks.dal.queue import ArchiveQueue
from suno_callbacks.dal.records import RecordStore
from suno_callbacks.dal.secrets import load_signing_keys
from suno_callbacks.errors import StoreUnavailable
from suno_callbacks.logic.ingest import (
    Answer,
    BodyTooLarge,
    CallbackRequest,
    Clock,
    Unauthorised,
    UnknownKind,
    kind_of,
    receive_callback,
)
from suno_callbacks.models.settings import IngestSettings, load_settings
from suno_callbacks.observability import (
    CALLBACKS_DUPLICATE,
    CALLBACKS_QUARANTINED,
    CALLBACKS_RECEIVED,
    CALLBACKS_UNAUTHORISED,
    NAMESPACE,
    SERVICE,
    logger,
)

CALLBACKS_PREFIX = "/callbacks/"

_ANSWER_METRIC = {
    Answer.RECEIVED: CALLBACKS_RECEIVED,
    Answer.DUPLICATE: CALLBACKS_DUPLICATE,
    Answer.QUARANTINED: CALLBACKS_QUARANTINED,
}

# Every refusal, in one place: (HTTP status, error code, what to do next).
_REFUSALS: dict[type[Exception], tuple[int, str, str]] = {
    UnknownKind: (404, "unknown_kind", "POST to /callbacks/{kind} with one of the kinds in the README."),
    BodyTooLarge: (413, "body_too_large", "The body is over the configured limit (MAX_BODY_BYTES)."),
    Unauthorised: (
        401,
        "unauthorised",
        "Missing or invalid signature: use a URL from `suno-callbacks url KIND`.",
    ),
    StoreUnavailable: (503, "unavailable", "Storage is unavailable; retry later."),
}


@cache
def _stores(settings: IngestSettings) -> tuple[RecordStore, ArchiveQueue, BodyStore]:
    return RecordStore(settings.table_name), ArchiveQueue(settings.queue_url), BodyStore(settings.bucket_name)


def post_callback(event: APIGatewayProxyEventV2) -> dict[str, Any]:
    """Answer one callback: 200 with the outcome, or the refusal's status."""
    _, route, segment = event.raw_path.partition(CALLBACKS_PREFIX)  # after a stage name, if any
    if not route:
        return _json(404, {"error": "not_found", "message": "Callbacks are POSTed to /callbacks/{kind}."})
    if event.request_context.http.method != "POST":
        return _json(405, {"error": "method_not_allowed", "message": "Use POST."}, allow="POST")
    try:
        kind = kind_of(segment)  # 404 before anything else is looked at
        settings = load_settings(IngestSettings)
        store, queue, bodies = _stores(settings)
        raw = event.body or ""
        result = receive_callback(
            CallbackRequest(
                kind=kind.value,
                body=base64.b64decode(raw) if event.is_base64_encoded else raw.encode("utf-8"),
                query=event.query_string_parameters or {},
                headers={name.lower(): value for name, value in (event.headers or {}).items()},
            ),
            settings=settings,
            signing_keys=load_signing_keys(settings.secret_id, settings.secret_max_age_seconds),
            store=store,
            queue=queue,
            bodies=bodies,
            clock=Clock.now(),
        )
    except (UnknownKind, BodyTooLarge, Unauthorised, StoreUnavailable) as refusal:
        return _refuse(refusal, segment)
    _count(_ANSWER_METRIC[result.answer], kind.value)
    logger.info("callback answered", extra=result.body())
    return _json(200, result.body())


def _refuse(refusal: Exception, segment: str) -> dict[str, Any]:
    status, error, message = _REFUSALS[type(refusal)]
    if isinstance(refusal, Unauthorised):
        _count(CALLBACKS_UNAUTHORISED, segment)
        logger.warning("callback refused: no valid signature")
    elif isinstance(refusal, StoreUnavailable):
        logger.exception("store unavailable; the provider will retry", extra={"cause": str(refusal)})
    return _json(status, {"error": error, "message": message})


def _count(metric: str, kind: str) -> None:
    """One callback, counted by kind (only known kinds reach here, so the dimension stays small).

    One metric per request, written at once: nothing is left in Powertools' metric set, which is shared
    by every `Metrics` in the process (in local mode ingest and archive share one).
    """
    with single_metric(
        name=metric,
        unit=MetricUnit.Count,
        value=1,
        namespace=NAMESPACE,
        default_dimensions={"service": SERVICE},
    ) as one:
        one.add_dimension(name="kind", value=kind)


def _json(status: int, body: dict[str, str], allow: str | None = None) -> dict[str, Any]:
    headers = {"content-type": "application/json"}
    if allow:
        headers["allow"] = allow
    return {"statusCode": status, "headers": headers, "body": json.dumps(body)}


# Kept back from Lambda's remaining time: enough to answer 503 when a store did not answer in time.
ANSWER_MARGIN_SECONDS = 0.5


@logger.inject_lambda_context(log_event=False, clear_state=True)
@event_source(data_class=APIGatewayProxyEventV2)
def lambda_handler(event: APIGatewayProxyEventV2, context: LambdaContext) -> dict[str, Any]:
    with deadline(context.get_remaining_time_in_millis() / 1000 - ANSWER_MARGIN_SECONDS):
        return post_callback(event)
