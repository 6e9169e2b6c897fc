"""What every function of the receiver has in common, so that each construct only says what differs.

Each function gets its own role (no managed policies: the constructs add exactly the statements the
function needs), its own log group with a retention, JSON logs, X-Ray tracing, arm64, Python 3.14 and
the AWS-managed Powertools v3 layer.
"""

from __future__ import annotations

from aws_cdk import Acknowledgment, Aws, Duration, RemovalPolicy, Stack, Validations
from aws_cdk import aws_iam as iam
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_logs as logs
from aws_cdk import aws_s3 as s3
from constructs import Construct

from infra import constants
from infra.config import ReceiverConfig
from suno_callbacks.observability import NAMESPACE, SERVICE

RUNTIME = lambda_.Runtime.PYTHON_3_14
ARCHITECTURE = lambda_.Architecture.ARM_64

# The retention periods CloudWatch Logs accepts, by number of days.
_RETENTION = {
    1: logs.RetentionDays.ONE_DAY,
    3: logs.RetentionDays.THREE_DAYS,
    5: logs.RetentionDays.FIVE_DAYS,
    7: logs.RetentionDays.ONE_WEEK,
    14: logs.RetentionDays.TWO_WEEKS,
    30: logs.RetentionDays.ONE_MONTH,
    60: logs.RetentionDays.TWO_MONTHS,
    90: logs.RetentionDays.THREE_MONTHS,
    120: logs.RetentionDays.FOUR_MONTHS,
    150: logs.RetentionDays.FIVE_MONTHS,
    180: logs.RetentionDays.SIX_MONTHS,
    365: logs.RetentionDays.ONE_YEAR,
    400: logs.RetentionDays.THIRTEEN_MONTHS,
    545: logs.RetentionDays.EIGHTEEN_MONTHS,
    731: logs.RetentionDays.TWO_YEARS,
    1827: logs.RetentionDays.FIVE_YEARS,
    3653: logs.RetentionDays.TEN_YEARS,
}


def log_retention(days: int) -> logs.RetentionDays:
    try:
        return _RETENTION[days]
    except KeyError:
        raise ValueError(f"log retention must be one of {sorted(_RETENTION)} days, not {days}") from None


def powertools_layer(scope: Construct, version: int) -> lambda_.ILayerVersion:
    """The AWS-managed layer: aws-lambda-powertools v3 and pydantic, built for Python 3.14 on arm64."""
    arn = (
        f"arn:{Aws.PARTITION}:lambda:{Aws.REGION}:{constants.POWERTOOLS_LAYER_ACCOUNT}:layer:"
        f"{constants.POWERTOOLS_LAYER_NAME}:{version}"
    )
    return lambda_.LayerVersion.from_layer_version_arn(scope, "PowertoolsLayer", arn)


def build_function(
    scope: Construct,
    id_: str,
    *,
    handler: str,
    code: lambda_.Code,
    layer: lambda_.ILayerVersion,
    config: ReceiverConfig,
    environment: dict[str, str],
    memory_mb: int,
    timeout_seconds: int,
    description: str,
    reserved_concurrency: int | None = None,
) -> lambda_.Function:
    """A function with its own role and log group; the role starts with its own logs and traces only."""
    log_group = logs.LogGroup(
        scope,
        f"{id_}Logs",
        retention=log_retention(config.log_retention_days),
        removal_policy=RemovalPolicy.DESTROY,
    )
    role = iam.Role(scope, f"{id_}Role", assumed_by=iam.ServicePrincipal("lambda.amazonaws.com"))
    role.add_to_policy(
        iam.PolicyStatement(
            actions=["logs:CreateLogStream", "logs:PutLogEvents"],
            resources=[log_group.log_group_arn],
        )
    )
    function = lambda_.Function(
        scope,
        id_,
        description=description,
        runtime=RUNTIME,
        architecture=ARCHITECTURE,
        handler=handler,
        code=code,
        layers=[layer],
        role=role,
        memory_size=memory_mb,
        timeout=Duration.seconds(timeout_seconds),
        reserved_concurrent_executions=reserved_concurrency,
        environment={
            "POWERTOOLS_SERVICE_NAME": SERVICE,
            "POWERTOOLS_METRICS_NAMESPACE": NAMESPACE,
            "POWERTOOLS_LOG_LEVEL": config.log_level,
            **environment,
        },
        logging_format=lambda_.LoggingFormat.JSON,
        log_group=log_group,
        tracing=lambda_.Tracing.ACTIVE,
    )
    Validations.of(role).acknowledge(
        Acknowledgment(
            id="AwsSolutions-IAM5[Resource::*]",
            reason="X-Ray PutTraceSegments/PutTelemetryRecords support no resource-level permissions.",
        )
    )
    return function


def acknowledge_object_prefix(
    function: lambda_.IFunction, bucket: s3.IBucket, prefix: str, reason: str
) -> None:
    """cdk-nag reads `bucket/prefix*` as a wildcard; acknowledge exactly that resource on this role."""
    bucket_resource = bucket.node.default_child
    assert isinstance(bucket_resource, s3.CfnBucket)
    logical_id = Stack.of(bucket).get_logical_id(bucket_resource)
    assert function.role is not None
    Validations.of(function.role).acknowledge(
        Acknowledgment(id=f"AwsSolutions-IAM5[Resource::<{logical_id}.Arn>/{prefix}*]", reason=reason)
    )
