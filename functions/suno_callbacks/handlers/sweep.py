"""Sweep Lambda, run by an EventBridge schedule: queue again the stages archive has not settled yet."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.typing import LambdaContext

from suno_callbacks.dal.aws import deadline
from suno_callbacks.dal.queue import ArchiveQueue
from suno_callbacks.dal.sweep_store import SweepStore
from suno_callbacks.logic.sweep import SweepReport, SweepWindow, sweep
from suno_callbacks.models.settings import SweepSettings, load_settings
from suno_callbacks.observability import STAGES_NEAR_EXPIRY, STAGES_REQUEUED, logger, metrics
from suno_callbacks.tracing import tracer


@logger.inject_lambda_context
@metrics.log_metrics
@tracer.capture_lambda_handler(capture_response=False)
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, int]:
    settings = load_settings(SweepSettings)
    with deadline(context.get_remaining_time_in_millis() / 1000 - ANSWER_MARGIN_SECONDS):
        report = _sweep(settings)
    metrics.add_metric(name=STAGES_REQUEUED, unit=MetricUnit.Count, value=report.requeued)
    metrics.add_metric(name=STAGES_NEAR_EXPIRY, unit=MetricUnit.Count, value=report.near_expiry)
    return {"requeued": report.requeued, "near_expiry": report.near_expiry}


# No AWS call outlasts the invocation: a store that hangs ends the run with an error (EventBridge retries
# it, the next run sweeps the rest), not a timeout.
ANSWER_MARGIN_SECONDS = 5.0


def _sweep(settings: SweepSettings) -> SweepReport:
    return sweep(
        store=SweepStore(settings.table_name),
        queue=ArchiveQueue(settings.queue_url),
        window=SweepWindow(
            now=datetime.now(UTC),
            source_retention=timedelta(days=settings.source_retention_days),
            grace=timedelta(minutes=settings.grace_minutes),
            near_expiry=timedelta(days=settings.near_expiry_days),
        ),
    )
