"""API Gateway HTTP API (payload 2.0) -> `receive_callback` -> the answer of DESIGN §4."""

from __future__ import annotations

import base64
from functools import cache
from typing import Any

from aws_lambda_powertools.event_handler import APIGatewayHttpResolver, Response, content_types
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.typing import LambdaContext

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
    logger,
    metrics,
)

app = APIGatewayHttpResolver()

_ANSWER_METRIC = {
    Answer.RECEIVED: CALLBACKS_RECEIVED,
    Answer.DUPLICATE: CALLBACKS_DUPLICATE,
    Answer.QUARANTINED: CALLBACKS_QUARANTINED,
}


@cache
def _stores(settings: IngestSettings) -> tuple[RecordStore, ArchiveQueue, BodyStore]:
    return RecordStore(settings.table_name), ArchiveQueue(settings.queue_url), BodyStore(settings.bucket_name)


@app.post("/callbacks/<kind>")
def post_callback(kind: str) -> Response[dict[str, str]]:
    settings = load_settings(IngestSettings)
    kind_of(kind)  # 404 before anything else is looked at
    event = app.current_event
    raw = event.body or ""
    body = base64.b64decode(raw) if event.is_base64_encoded else raw.encode("utf-8")
    store, queue, bodies = _stores(settings)
    result = receive_callback(
        CallbackRequest(
            kind=kind,
            body=body,
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
    _count(_ANSWER_METRIC[result.answer])
    logger.info("callback answered", extra=result.body())
    return Response(status_code=200, content_type=content_types.APPLICATION_JSON, body=result.body())


def _count(metric: str) -> None:
    """One callback, counted by kind (only known kinds reach here, so the dimension stays small)."""
    metrics.add_dimension(name="kind", value=app.current_event.path_parameters["kind"])
    metrics.add_metric(name=metric, unit=MetricUnit.Count, value=1)


def _error(status: int, error: str, message: str) -> Response[dict[str, str]]:
    return Response(
        status_code=status,
        content_type=content_types.APPLICATION_JSON,
        body={"error": error, "message": message},
    )


@app.exception_handler(UnknownKind)
def _unknown_kind(_: UnknownKind) -> Response[dict[str, str]]:
    return _error(404, "unknown_kind", "POST to /callbacks/{kind} with one of the kinds in the README.")


@app.exception_handler(BodyTooLarge)
def _too_large(_: BodyTooLarge) -> Response[dict[str, str]]:
    return _error(413, "body_too_large", "The body is over the configured limit (MAX_BODY_BYTES).")


@app.exception_handler(Unauthorised)
def _unauthorised(_: Unauthorised) -> Response[dict[str, str]]:
    _count(CALLBACKS_UNAUTHORISED)
    logger.warning("callback refused: no valid signature")
    return _error(
        401, "unauthorised", "Missing or invalid signature: use a URL from `suno-callbacks url KIND`."
    )


@app.exception_handler(StoreUnavailable)
def _unavailable(error: StoreUnavailable) -> Response[dict[str, str]]:
    logger.exception("store unavailable; the provider will retry", extra={"cause": str(error)})
    return _error(503, "unavailable", "Storage is unavailable; retry later.")


@logger.inject_lambda_context(log_event=False, clear_state=True)
@metrics.log_metrics
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return app.resolve(event, context)
