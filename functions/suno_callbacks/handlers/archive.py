"""Archive Lambda: the FIFO queue's consumer, settling each queued stage (DESIGN §1, §5-§7).

Records come in the order their stages arrived, one task's at a time. A record that fails (a transient
media or AWS failure, an unreadable message) is reported as a batch item failure together with every
later record of its task in the batch (Powertools' FIFO processor), so that they come back in order; after
the queue's receive limit the failed one lands in the DLQ.
"""

from __future__ import annotations

from functools import cache
from typing import Any

from aws_lambda_powertools.utilities.batch import SqsFifoPartialProcessor, process_partial_response
from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord
from aws_lambda_powertools.utilities.typing import LambdaContext
from botocore.httpsession import get_cert_path

from suno_callbacks.dal.aws import deadline
from suno_callbacks.dal.bodies import BodyStore
from suno_callbacks.dal.media_store import MediaStore, transfer_config
from suno_callbacks.dal.queue import ArchiveQueue
from suno_callbacks.dal.records import RecordStore
from suno_callbacks.dal.settlement import SettlementStore
from suno_callbacks.dal.topic import Topic
from suno_callbacks.logic.archive import Archiver, settle_stage
from suno_callbacks.logic.url_policy import UrlPolicy
from suno_callbacks.models.messages import ArchiveRequest
from suno_callbacks.models.settings import ArchiveSettings, load_settings
from suno_callbacks.observability import logger, metrics
from suno_callbacks.tracing import tracer

ANSWER_MARGIN_SECONDS = 2.0
# A failure holds back the rest of its task's records in the batch, not the other tasks'.
processor = SqsFifoPartialProcessor(skip_group_on_error=True)
# A batch whose records all failed is answered like any other (every record reported), not raised: the
# FIFO processor's constructor does not take this setting of its base class.
processor.raise_on_entire_batch_failure = False


@cache
def archiver() -> Archiver:
    """Built once per process from the environment; reused across warm invocations."""
    settings = load_settings(ArchiveSettings)
    records = RecordStore(settings.table_name)
    return Archiver(
        settings=settings,
        records=records,
        settlement=SettlementStore(records),
        bodies=BodyStore(settings.bucket_name),
        media=MediaStore(
            settings.bucket_name,
            config=transfer_config(
                chunk_bytes=settings.upload_chunk_bytes,
                concurrency=settings.upload_concurrency,
                chunks_in_memory=settings.upload_chunks_in_memory,
            ),
        ),
        topic=Topic(settings.topic_arn),
        queue=ArchiveQueue(settings.queue_url),
        policy=UrlPolicy(allowed_hosts=settings.media_hosts, local_hosts=settings.local_media_hosts),
        # The CA bundle botocore trusts, so downloads verify the same way as AWS calls.
        ca_certs=get_cert_path(True),
    )


def record_handler(record: SQSRecord, lambda_context: LambdaContext) -> None:
    request = ArchiveRequest.model_validate_json(record.body)
    settle_stage(
        request,
        archiver(),
        attempt=int(record.attributes.approximate_receive_count),
        remaining_seconds=lambda: lambda_context.get_remaining_time_in_millis() / 1000,
    )


@logger.inject_lambda_context
@metrics.log_metrics
@tracer.capture_lambda_handler(capture_response=False)
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    # No AWS call outlasts the invocation: the batch's answer (which records failed) must get out.
    with deadline(context.get_remaining_time_in_millis() / 1000 - ANSWER_MARGIN_SECONDS):
        return process_partial_response(  # type: ignore[return-value]
            event=event, record_handler=record_handler, processor=processor, context=context
        )
