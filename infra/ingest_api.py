"""`POST /callbacks/{kind}` on an HTTP API, answered by the ingest function (DESIGN §1, §3, §4).

Authentication is in the function (signed URL or kie.ai signature), because providers cannot send
credentials an API Gateway authoriser would accept. The stage logs every request and is throttled.
"""

from __future__ import annotations

import json

import jsii
from aws_cdk import Acknowledgment, RemovalPolicy, Validations
from aws_cdk import aws_apigateway as apigw
from aws_cdk import aws_apigatewayv2 as apigwv2
from aws_cdk import aws_apigatewayv2_integrations as integrations
from aws_cdk import aws_dynamodb as dynamodb
from aws_cdk import aws_iam as iam
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_logs as logs
from aws_cdk import aws_s3 as s3
from aws_cdk import aws_secretsmanager as secretsmanager
from aws_cdk import aws_sqs as sqs
from constructs import Construct

from infra import constants
from infra.config import ReceiverConfig
from infra.functions import acknowledge_object_prefix, build_function, log_retention

# No query string: it carries the URL's signature.
_ACCESS_LOG_FORMAT = {
    "requestId": "$context.requestId",
    "ip": "$context.identity.sourceIp",
    "requestTime": "$context.requestTime",
    "method": "$context.httpMethod",
    "routeKey": "$context.routeKey",
    "path": "$context.path",
    "status": "$context.status",
    "protocol": "$context.protocol",
    "responseLength": "$context.responseLength",
    "responseLatency": "$context.responseLatency",
    "integrationLatency": "$context.integrationLatency",
    "integrationError": "$context.integrationErrorMessage",
    "userAgent": "$context.identity.userAgent",
}


@jsii.implements(apigwv2.IAccessLogSettings)
class _AccessLogSettings:
    def __init__(self, log_group: logs.ILogGroup) -> None:
        self._destination = apigwv2.LogGroupLogDestination(log_group)
        self._format = apigw.AccessLogFormat.custom(json.dumps(_ACCESS_LOG_FORMAT))

    @property
    def destination(self) -> apigwv2.IAccessLogDestination:
        return self._destination

    @property
    def format(self) -> apigw.AccessLogFormat:
        return self._format


class IngestApiConstruct(Construct):
    """`function`, `api`, `stage` and `callback_base_url` (`https://…/callbacks`; append `/{kind}`)."""

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
        secret: secretsmanager.ISecret,
    ) -> None:
        super().__init__(scope, id_)
        self.function = self._build_function(
            config=config, code=code, layer=layer, table=table, bucket=bucket, queue=queue, secret=secret
        )
        self.api, self.stage = self._build_api(config, self.function)
        self.callback_base_url = f"{self.stage.url}{constants.CALLBACK_PATH.lstrip('/')}"

    def _build_function(
        self,
        *,
        config: ReceiverConfig,
        code: lambda_.Code,
        layer: lambda_.ILayerVersion,
        table: dynamodb.ITableV2,
        bucket: s3.IBucket,
        queue: sqs.IQueue,
        secret: secretsmanager.ISecret,
    ) -> lambda_.Function:
        function = build_function(
            self,
            "Function",
            description="suno-callbacks ingest: authenticate, record, enqueue, answer",
            handler=constants.INGEST_HANDLER,
            code=code,
            layer=layer,
            config=config,
            memory_mb=constants.INGEST_MEMORY_MB,
            timeout_seconds=constants.INGEST_TIMEOUT_SECONDS,
            environment={
                constants.ENV_TABLE: table.table_name,
                constants.ENV_BUCKET: bucket.bucket_name,
                constants.ENV_RECORD_TTL_DAYS: str(config.record_ttl_days),
                constants.ENV_QUEUE_URL: queue.queue_url,
                constants.ENV_SECRET_ID: secret.secret_arn,
            },
        )
        for statement in (
            iam.PolicyStatement(
                actions=["dynamodb:PutItem", "dynamodb:UpdateItem"], resources=[table.table_arn]
            ),
            iam.PolicyStatement(actions=["sqs:SendMessage"], resources=[queue.queue_arn]),
            iam.PolicyStatement(actions=["secretsmanager:GetSecretValue"], resources=[secret.secret_arn]),
            # A body too large for a DynamoDB item (only with a raised body limit) is kept in S3.
            iam.PolicyStatement(
                actions=["s3:PutObject"],
                resources=[bucket.arn_for_objects(f"{constants.BODIES_PREFIX}*")],
            ),
        ):
            function.add_to_role_policy(statement)
        acknowledge_object_prefix(
            function,
            bucket,
            constants.BODIES_PREFIX,
            "Ingest writes oversize bodies under bodies/<sha256> only; their keys are not known in advance.",
        )
        return function

    def _build_api(
        self, config: ReceiverConfig, function: lambda_.IFunction
    ) -> tuple[apigwv2.HttpApi, apigwv2.HttpStage]:
        api = apigwv2.HttpApi(
            self,
            "Api",
            # Not the construct id ("Api"): the console lists every API of the region by name.
            api_name=config.physical_name(self),
            description="suno-callbacks: callback URL for the Suno API",
            create_default_stage=False,
        )
        api.add_routes(
            path=constants.CALLBACK_ROUTE,
            methods=[apigwv2.HttpMethod.POST],
            integration=integrations.HttpLambdaIntegration("Ingest", function),
        )
        Validations.of(api).acknowledge(
            Acknowledgment(
                id="AwsSolutions-APIG4",
                reason=(
                    "Providers cannot present credentials; every request is authenticated in the function by "
                    "the URL's HMAC or the kie.ai webhook signature, and refused with 401 otherwise."
                ),
            )
        )
        access_logs = logs.LogGroup(
            self,
            "AccessLogs",
            retention=log_retention(config.log_retention_days),
            removal_policy=RemovalPolicy.DESTROY,
        )
        stage = apigwv2.HttpStage(
            self,
            "DefaultStage",
            http_api=api,
            stage_name="$default",
            auto_deploy=True,
            throttle=apigwv2.ThrottleSettings(
                rate_limit=config.throttle_rate_per_second, burst_limit=config.throttle_burst
            ),
            access_log_settings=_AccessLogSettings(access_logs),
        )
        return api, stage
