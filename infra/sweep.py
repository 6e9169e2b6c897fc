"""The sweep: on a schedule, queues again the stages archive has not settled, before their media expire."""

from __future__ import annotations

from aws_cdk import Duration
from aws_cdk import aws_dynamodb as dynamodb
from aws_cdk import aws_events as events
from aws_cdk import aws_events_targets as targets
from aws_cdk import aws_iam as iam
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_sqs as sqs
from constructs import Construct

from infra import constants
from infra.config import ReceiverConfig
from infra.functions import build_function
from suno_callbacks.dal import keys


class SweepConstruct(Construct):
    """`function` and the `rule` that runs it every `sweep_every_minutes`."""

    def __init__(
        self,
        scope: Construct,
        id_: str,
        *,
        config: ReceiverConfig,
        code: lambda_.Code,
        layer: lambda_.ILayerVersion,
        table: dynamodb.ITableV2,
        queue: sqs.IQueue,
    ) -> None:
        super().__init__(scope, id_)
        self.function = self._build_function(config=config, code=code, layer=layer, table=table, queue=queue)
        self.rule = self._build_schedule(config, self.function)

    def _build_function(
        self,
        *,
        config: ReceiverConfig,
        code: lambda_.Code,
        layer: lambda_.ILayerVersion,
        table: dynamodb.ITableV2,
        queue: sqs.IQueue,
    ) -> lambda_.Function:
        function = build_function(
            self,
            "Function",
            description="suno-callbacks sweep: re-queue unsettled tasks before their media expire",
            handler=constants.SWEEP_HANDLER,
            code=code,
            layer=layer,
            config=config,
            memory_mb=constants.SWEEP_MEMORY_MB,
            timeout_seconds=constants.SWEEP_TIMEOUT_SECONDS,
            environment={
                constants.ENV_TABLE: table.table_name,
                constants.ENV_QUEUE_URL: queue.queue_url,
                constants.ENV_SOURCE_RETENTION_DAYS: str(config.source_retention_days),
                constants.ENV_SWEEP_NEAR_EXPIRY_DAYS: str(
                    max(1, config.source_retention_days - constants.NEAR_EXPIRY_MARGIN_DAYS)
                ),
            },
        )
        for statement in (
            # Lists unsettled stages by kind and time through the sparse index (never a Scan), which
            # projects what the message needs ...
            iam.PolicyStatement(
                actions=["dynamodb:Query"], resources=[f"{table.table_arn}/index/{keys.UNSETTLED_INDEX}"]
            ),
            # ... and sends the same message ingest would have sent.
            iam.PolicyStatement(actions=["sqs:SendMessage"], resources=[queue.queue_arn]),
        ):
            function.add_to_role_policy(statement)
        return function

    def _build_schedule(self, config: ReceiverConfig, function: lambda_.IFunction) -> events.Rule:
        return events.Rule(
            self,
            "Schedule",
            description="suno-callbacks: run the sweep",
            schedule=events.Schedule.rate(Duration.minutes(config.sweep_every_minutes)),
            targets=[targets.LambdaFunction(function, retry_attempts=2)],
        )
