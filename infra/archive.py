"""The archive function: consumes the queue, streams media into S3, records assets, publishes outcomes."""

from __future__ import annotations

from aws_cdk import aws_dynamodb as dynamodb
from aws_cdk import aws_iam as iam
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_lambda_event_sources as event_sources
from aws_cdk import aws_s3 as s3
from aws_cdk import aws_sns as sns
from aws_cdk import aws_sqs as sqs
from constructs import Construct

from infra import constants
from infra.config import ReceiverConfig
from infra.functions import acknowledge_object_prefix, build_function


class ArchiveConstruct(Construct):
    """`function`, subscribed to `queue` with partial batch failures."""

    def __init__(
        self,
        scope: Construct,
        id_: str,
        *,
        config: ReceiverConfig,
        code: lambda_.Code,
        layer: lambda_.ILayerVersion,
        table: dynamodb.ITableV2,
        bucket: s3.IBucket,
        queue: sqs.IQueue,
        topic: sns.ITopic,
    ) -> None:
        super().__init__(scope, id_)
        self.function = self._build_function(
            config=config, code=code, layer=layer, table=table, bucket=bucket, topic=topic, queue=queue
        )
        self._add_queue_source(config, queue)

    def _build_function(
        self,
        *,
        config: ReceiverConfig,
        code: lambda_.Code,
        layer: lambda_.ILayerVersion,
        table: dynamodb.ITableV2,
        bucket: s3.IBucket,
        topic: sns.ITopic,
        queue: sqs.IQueue,
    ) -> lambda_.Function:
        function = build_function(
            self,
            "Function",
            description="suno-callbacks archive: stream media to S3, record assets, publish outcomes",
            handler=constants.ARCHIVE_HANDLER,
            code=code,
            layer=layer,
            config=config,
            memory_mb=constants.ARCHIVE_MEMORY_MB,
            timeout_seconds=constants.ARCHIVE_TIMEOUT_SECONDS,
            # Off unless asked for (config.py): a reservation can fail the deploy on a small account.
            reserved_concurrency=config.archive_reserved_concurrency,
            environment={
                constants.ENV_TABLE: table.table_name,
                constants.ENV_BUCKET: bucket.bucket_name,
                constants.ENV_RECORD_TTL_DAYS: str(config.record_ttl_days),
                constants.ENV_TOPIC_ARN: topic.topic_arn,
                constants.ENV_QUEUE_URL: queue.queue_url,
                constants.ENV_MAX_ATTEMPTS: str(constants.QUEUE_MAX_RECEIVE_COUNT),
                constants.ENV_MEDIA_HOSTS: ",".join(config.media_hosts),
                constants.ENV_SOURCE_RETENTION_DAYS: str(config.source_retention_days),
            },
        )
        for statement in (
            # A task in one Query; the task item, stage settlement, assets, outcome and quarantine.
            iam.PolicyStatement(
                actions=["dynamodb:Query", "dynamodb:PutItem", "dynamodb:UpdateItem"],
                resources=[table.table_arn],
            ),
            # PutObject covers single and multipart uploads (Create/UploadPart/Complete); Abort cleans up.
            # events/: task events too large for SNS.
            iam.PolicyStatement(
                actions=["s3:PutObject", "s3:AbortMultipartUpload"],
                resources=[
                    bucket.arn_for_objects(f"{constants.MEDIA_PREFIX}*"),
                    bucket.arn_for_objects(f"{constants.EVENTS_PREFIX}*"),
                ],
            ),
            # Bodies too large for an item: read to settle them, written again when quarantined.
            iam.PolicyStatement(
                actions=["s3:GetObject", "s3:PutObject"],
                resources=[bucket.arn_for_objects(f"{constants.BODIES_PREFIX}*")],
            ),
            iam.PolicyStatement(actions=["sns:Publish"], resources=[topic.topic_arn]),
            # The rest of a stage too large for one invocation continues in a new message.
            iam.PolicyStatement(actions=["sqs:SendMessage"], resources=[queue.queue_arn]),
        ):
            function.add_to_role_policy(statement)
        for prefix, reason in (
            (constants.MEDIA_PREFIX, "Archive writes media/{kind}/{task_id}/... keys it derives per asset."),
            (constants.EVENTS_PREFIX, "Archive writes events/{task_id}/{event_id}.json for oversize events."),
            (constants.BODIES_PREFIX, "Archive reads (and re-keeps) oversize bodies under bodies/<sha256>."),
        ):
            acknowledge_object_prefix(function, bucket, prefix, reason)
        return function

    def _add_queue_source(self, config: ReceiverConfig, queue: sqs.IQueue) -> None:
        self.function.add_event_source(
            event_sources.SqsEventSource(
                queue,
                batch_size=constants.ARCHIVE_BATCH_SIZE,
                report_batch_item_failures=True,
                max_concurrency=event_source_concurrency(config),
            )
        )


def event_source_concurrency(config: ReceiverConfig) -> int:
    """How many invocations the poller may run at once: the parallel downloads from the provider's hosts.

    With reserved concurrency, that many (ReceiverConfig refuses less than Lambda's minimum of 2, and no
    event source goes above 1000): the poller must not start invocations the function may not run, since
    throttled batches return to the queue and count towards the redrive to the DLQ.
    """
    reserved = config.archive_reserved_concurrency
    if reserved is None:
        return constants.ARCHIVE_MAX_CONCURRENCY
    return min(reserved, constants.MAX_EVENT_SOURCE_CONCURRENCY)
