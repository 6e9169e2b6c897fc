"""Assertions on the synthesised template of the default deployment (cdk.json's context)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pytest
from aws_cdk import Stack
from aws_cdk.assertions import Match, Template

from infra import constants
from infra.stack import SunoCallbacksStack, build_app
from suno_callbacks.models.settings import ArchiveSettings, IngestSettings, SweepSettings
from tests.infra.conftest import app_context, arn_with_suffix, get_att, ref, statements

pytestmark = pytest.mark.slow


@dataclass(frozen=True)
class Synthesised:
    stack: SunoCallbacksStack
    template: Template
    json: dict[str, Any]

    def id_of(self, construct: Any) -> str:
        return Stack.of(construct).get_logical_id(construct.node.default_child)


@pytest.fixture(scope="module")
def synth() -> Synthesised:
    # GIVEN the app with its cdk-nag validation plugin; WHEN it is synthesised (a finding would raise)
    app, stack = build_app(app_context())
    assembly = app.synth()
    template = assembly.get_stack_by_name(stack.stack_name).template
    return Synthesised(stack, Template.from_json(template), template)


def _resource(synth: Synthesised, construct: Any) -> dict[str, Any]:
    resource: dict[str, Any] = synth.json["Resources"][synth.id_of(construct)]
    return resource


# --- API ------------------------------------------------------------------------------------------


def test_the_only_route_is_post_callbacks_kind(synth: Synthesised) -> None:
    synth.template.resource_count_is("AWS::ApiGatewayV2::Route", 1)
    synth.template.has_resource_properties(
        "AWS::ApiGatewayV2::Route", {"RouteKey": "POST /callbacks/{kind}", "AuthorizationType": "NONE"}
    )
    synth.template.has_resource_properties("AWS::ApiGatewayV2::Api", {"ProtocolType": "HTTP"})


def test_stage_logs_access_without_query_strings_and_is_throttled(synth: Synthesised) -> None:
    stage = _resource(synth, synth.stack.receiver.ingest.stage)["Properties"]
    assert stage["StageName"] == "$default"
    assert stage["AutoDeploy"] is True
    assert stage["DefaultRouteSettings"] == {"ThrottlingRateLimit": 100, "ThrottlingBurstLimit": 200}
    log_format = stage["AccessLogSettings"]["Format"]
    assert "$context.status" in log_format
    assert "querystring" not in log_format.lower()  # the URL signature stays out of the logs


# --- functions ------------------------------------------------------------------------------------


def _functions(synth: Synthesised) -> dict[str, dict[str, Any]]:
    receiver = synth.stack.receiver
    return {
        "ingest": _resource(synth, receiver.ingest.function)["Properties"],
        "archive": _resource(synth, receiver.archive.function)["Properties"],
        "sweep": _resource(synth, receiver.sweep.function)["Properties"],
    }


def test_functions_run_python_3_14_on_arm64_with_the_powertools_layer(synth: Synthesised) -> None:
    synth.template.resource_count_is("AWS::Lambda::Function", 3)
    handlers = {name: f["Handler"] for name, f in _functions(synth).items()}
    assert handlers == {
        "ingest": "suno_callbacks.handlers.ingest.lambda_handler",
        "archive": "suno_callbacks.handlers.archive.lambda_handler",
        "sweep": "suno_callbacks.handlers.sweep.lambda_handler",
    }
    for function in _functions(synth).values():
        assert function["Runtime"] == "python3.14"
        assert function["Architectures"] == ["arm64"]
        assert function["TracingConfig"] == {"Mode": "Active"}
        assert function["LoggingConfig"]["LogFormat"] == "JSON"
        (layer,) = function["Layers"]
        assert "017000801446:layer:AWSLambdaPowertoolsPythonV3-python314-arm64:" in str(layer)


def test_memory_and_timeouts(synth: Synthesised) -> None:
    functions = _functions(synth)
    assert (functions["ingest"]["MemorySize"], functions["ingest"]["Timeout"]) == (256, 10)
    assert (functions["archive"]["MemorySize"], functions["archive"]["Timeout"]) == (512, 600)


def test_environment_matches_the_settings_models(synth: Synthesised) -> None:
    functions = _functions(synth)
    common = {"POWERTOOLS_SERVICE_NAME", "POWERTOOLS_METRICS_NAMESPACE", "POWERTOOLS_LOG_LEVEL"}
    store = {"SUNO_CALLBACKS_TABLE", "SUNO_CALLBACKS_BUCKET", "SUNO_CALLBACKS_RECORD_TTL_DAYS"}
    expected = {
        "ingest": common | store | {"SUNO_CALLBACKS_QUEUE_URL", "SUNO_CALLBACKS_SECRET_ID"},
        "archive": common
        | store
        | {
            "SUNO_CALLBACKS_TOPIC_ARN",
            "SUNO_CALLBACKS_QUEUE_URL",
            "SUNO_CALLBACKS_MEDIA_HOSTS",
            "SUNO_CALLBACKS_SOURCE_RETENTION_DAYS",
            "SUNO_CALLBACKS_MAX_ATTEMPTS",
        },
        "sweep": common
        | {
            "SUNO_CALLBACKS_TABLE",
            "SUNO_CALLBACKS_QUEUE_URL",
            "SUNO_CALLBACKS_SOURCE_RETENTION_DAYS",
            "SUNO_CALLBACKS_SWEEP_NEAR_EXPIRY_DAYS",
        },
    }
    for name, function in functions.items():
        variables = function["Environment"]["Variables"]
        assert set(variables) == expected[name], name
        assert variables["POWERTOOLS_SERVICE_NAME"] == "suno-callbacks"
        assert variables["POWERTOOLS_METRICS_NAMESPACE"] == "SunoCallbacks"
    archive = functions["archive"]["Environment"]["Variables"]
    assert "suno.ai" in archive["SUNO_CALLBACKS_MEDIA_HOSTS"].split(",")
    assert functions["sweep"]["Environment"]["Variables"]["SUNO_CALLBACKS_SWEEP_NEAR_EXPIRY_DAYS"] == "12"
    # the last attempt before the DLQ, as archive must know it
    assert archive["SUNO_CALLBACKS_MAX_ATTEMPTS"] == str(constants.QUEUE_MAX_RECEIVE_COUNT)
    assert functions["ingest"]["Environment"]["Variables"]["SUNO_CALLBACKS_SECRET_ID"] == {
        "Ref": synth.id_of(synth.stack.receiver.secret)
    }


def test_each_environment_parses_into_its_settings_model(synth: Synthesised) -> None:
    models = {"ingest": IngestSettings, "archive": ArchiveSettings, "sweep": SweepSettings}
    for name, function in _functions(synth).items():
        # Deploy-time values (references to other resources) stand in as placeholders.
        variables = {
            key: value if isinstance(value, str) else f"<{key}>"
            for key, value in function["Environment"]["Variables"].items()
        }
        settings = models[name].model_validate(variables)
        assert settings.model_dump(by_alias=True).keys() >= variables.keys() - {
            "POWERTOOLS_SERVICE_NAME",
            "POWERTOOLS_METRICS_NAMESPACE",
            "POWERTOOLS_LOG_LEVEL",
        }


# --- least privilege ------------------------------------------------------------------------------


def _role_id(synth: Synthesised, function: Any) -> str:
    return synth.id_of(function.role)


def _own_logs_and_traces(synth: Synthesised, function: Any) -> set[tuple[tuple[str, ...], str]]:
    log_group = function.node.scope.node.find_child("FunctionLogs")
    return {
        (("logs:CreateLogStream", "logs:PutLogEvents"), get_att(synth.id_of(log_group))),
        (("xray:PutTelemetryRecords", "xray:PutTraceSegments"), '"*"'),
    }


def test_roles_have_no_managed_policies(synth: Synthesised) -> None:
    for role in synth.template.find_resources("AWS::IAM::Role").values():
        assert "ManagedPolicyArns" not in role["Properties"]
        assert role["Properties"]["AssumeRolePolicyDocument"]["Statement"][0]["Principal"] == {
            "Service": "lambda.amazonaws.com"
        }


def test_ingest_writes_items_sends_messages_reads_the_secret_and_nothing_else(synth: Synthesised) -> None:
    r = synth.stack.receiver
    table, bucket, queue = synth.id_of(r.table), synth.id_of(r.bucket), synth.id_of(r.queue)
    assert statements(synth.json, _role_id(synth, r.ingest.function)) == _own_logs_and_traces(
        synth, r.ingest.function
    ) | {
        # stages and their redeliveries; the count of a quarantined body that comes again
        (("dynamodb:PutItem", "dynamodb:UpdateItem"), get_att(table)),
        (("sqs:SendMessage",), get_att(queue)),
        (("secretsmanager:GetSecretValue",), ref(synth.id_of(r.secret))),
        (("s3:PutObject",), arn_with_suffix(bucket, "/bodies/*")),
    }


def test_archive_reads_and_writes_its_task_streams_media_and_publishes(synth: Synthesised) -> None:
    r = synth.stack.receiver
    table, bucket, queue = synth.id_of(r.table), synth.id_of(r.bucket), synth.id_of(r.queue)
    consume = (
        "sqs:ChangeMessageVisibility",
        "sqs:DeleteMessage",
        "sqs:GetQueueAttributes",
        "sqs:GetQueueUrl",
        "sqs:ReceiveMessage",
    )
    assert statements(synth.json, _role_id(synth, r.archive.function)) == _own_logs_and_traces(
        synth, r.archive.function
    ) | {
        (("dynamodb:PutItem", "dynamodb:Query", "dynamodb:UpdateItem"), get_att(table)),
        (("s3:AbortMultipartUpload", "s3:PutObject"), arn_with_suffix(bucket, "/media/*")),
        (("s3:AbortMultipartUpload", "s3:PutObject"), arn_with_suffix(bucket, "/events/*")),
        (("s3:GetObject", "s3:PutObject"), arn_with_suffix(bucket, "/bodies/*")),
        (("sns:Publish",), ref(synth.id_of(r.topic))),
        (("sqs:SendMessage",), get_att(queue)),  # the continuation of a stage too large for one run
        (consume, get_att(queue)),
    }


def test_sweep_queries_the_unsettled_index_and_sends(synth: Synthesised) -> None:
    r = synth.stack.receiver
    table, queue = synth.id_of(r.table), synth.id_of(r.queue)
    assert statements(synth.json, _role_id(synth, r.sweep.function)) == _own_logs_and_traces(
        synth, r.sweep.function
    ) | {
        (("dynamodb:Query",), arn_with_suffix(table, "/index/unsettled")),
        (("sqs:SendMessage",), get_att(queue)),
    }


# --- table ----------------------------------------------------------------------------------------


def test_table_keys_indexes_pitr_ttl_and_protection(synth: Synthesised) -> None:
    table = _resource(synth, synth.stack.receiver.table)
    assert table["Type"] == "AWS::DynamoDB::GlobalTable"
    props = table["Properties"]
    assert props["BillingMode"] == "PAY_PER_REQUEST"
    assert props["KeySchema"] == [
        {"AttributeName": "pk", "KeyType": "HASH"},
        {"AttributeName": "sk", "KeyType": "RANGE"},
    ]
    assert {a["AttributeName"]: a["AttributeType"] for a in props["AttributeDefinitions"]} == {
        "pk": "S",
        "sk": "S",
        "kind_key": "S",
        "time_key": "S",
        "ref": "S",
        "unsettled": "S",
        "received_at": "S",
    }
    indexes = {i["IndexName"]: i for i in props["GlobalSecondaryIndexes"]}
    assert indexes["by-kind-time"]["KeySchema"] == [
        {"AttributeName": "kind_key", "KeyType": "HASH"},
        {"AttributeName": "time_key", "KeyType": "RANGE"},
    ]
    assert indexes["by-ref"]["KeySchema"] == [
        {"AttributeName": "ref", "KeyType": "HASH"},
        {"AttributeName": "time_key", "KeyType": "RANGE"},
    ]
    assert indexes["unsettled"]["KeySchema"] == [
        {"AttributeName": "unsettled", "KeyType": "HASH"},
        {"AttributeName": "received_at", "KeyType": "RANGE"},
    ]
    assert indexes["unsettled"]["Projection"] == {
        "ProjectionType": "INCLUDE",
        "NonKeyAttributes": ["task_id", "stage", "kind", "ref"],
    }
    assert {indexes[name]["Projection"]["ProjectionType"] for name in ("by-kind-time", "by-ref")} == {"ALL"}
    assert props["TimeToLiveSpecification"] == {"AttributeName": "expires_at", "Enabled": True}
    (replica,) = props["Replicas"]
    assert replica["PointInTimeRecoverySpecification"] == {"PointInTimeRecoveryEnabled": True}
    assert replica["DeletionProtectionEnabled"] is False  # see test_first_deploy


# --- queue ----------------------------------------------------------------------------------------


def test_queue_is_fifo_per_task_with_a_fifo_dead_letter_queue(synth: Synthesised) -> None:
    r = synth.stack.receiver
    queue = _resource(synth, r.queue)["Properties"]
    assert (queue["FifoQueue"], queue["ContentBasedDeduplication"]) == (True, False)
    assert (queue["DeduplicationScope"], queue["FifoThroughputLimit"]) == (
        "messageGroup",
        "perMessageGroupId",
    )
    assert _resource(synth, r.dead_letter_queue)["Properties"]["FifoQueue"] is True


def test_queue_visibility_redrive_encryption(synth: Synthesised) -> None:
    r = synth.stack.receiver
    queue = _resource(synth, r.queue)["Properties"]
    assert queue["VisibilityTimeout"] == 6 * constants.ARCHIVE_TIMEOUT_SECONDS
    assert queue["RedrivePolicy"] == {
        "deadLetterTargetArn": {"Fn::GetAtt": [synth.id_of(r.dead_letter_queue), "Arn"]},
        "maxReceiveCount": 5,
    }
    for q in (queue, _resource(synth, r.dead_letter_queue)["Properties"]):
        assert q["SqsManagedSseEnabled"] is True
        assert q["MessageRetentionPeriod"] == 14 * 24 * 3600


def test_queues_and_topics_refuse_plain_http(synth: Synthesised) -> None:
    deny_insecure = Match.object_like(
        {
            "PolicyDocument": Match.object_like(
                {
                    "Statement": Match.array_with(
                        [
                            Match.object_like(
                                {
                                    "Effect": "Deny",
                                    "Condition": {"Bool": {"aws:SecureTransport": "false"}},
                                }
                            )
                        ]
                    )
                }
            )
        }
    )
    for kind in ("AWS::SQS::QueuePolicy", "AWS::SNS::TopicPolicy", "AWS::S3::BucketPolicy"):
        policies = synth.template.find_resources(kind, {"Properties": deny_insecure})
        assert len(policies) == 2, kind


def test_archive_consumes_batches_with_partial_failures(synth: Synthesised) -> None:
    synth.template.has_resource_properties(
        "AWS::Lambda::EventSourceMapping",
        {
            "BatchSize": 5,
            "FunctionResponseTypes": ["ReportBatchItemFailures"],
            "ScalingConfig": {"MaximumConcurrency": constants.ARCHIVE_MAX_CONCURRENCY},
            "EventSourceArn": {"Fn::GetAtt": [synth.id_of(synth.stack.receiver.queue), "Arn"]},
        },
    )


# --- bucket, topic, secret ------------------------------------------------------------------------


def test_media_bucket_is_private_encrypted_logged_and_aborts_uploads(synth: Synthesised) -> None:
    r = synth.stack.receiver
    props = _resource(synth, r.bucket)["Properties"]
    assert props["PublicAccessBlockConfiguration"] == {
        "BlockPublicAcls": True,
        "BlockPublicPolicy": True,
        "IgnorePublicAcls": True,
        "RestrictPublicBuckets": True,
    }
    assert props["BucketEncryption"]["ServerSideEncryptionConfiguration"] == [
        {"ServerSideEncryptionByDefault": {"SSEAlgorithm": "AES256"}}
    ]
    assert props["LoggingConfiguration"]["DestinationBucketName"] == {
        "Ref": synth.id_of(r.storage.access_log_bucket)
    }
    # Without transition/expiry settings, only the multipart clean-up applies.
    assert props["LifecycleConfiguration"]["Rules"] == [
        {
            "Id": "abort-incomplete-multipart-uploads",
            "AbortIncompleteMultipartUpload": {"DaysAfterInitiation": 2},
            "Status": "Enabled",
        }
    ]


def test_events_topic_is_encrypted_with_the_aws_managed_key(synth: Synthesised) -> None:
    topic = _resource(synth, synth.stack.receiver.topic)["Properties"]
    assert "alias/aws/sns" in str(topic["KmsMasterKeyId"])
    synth.template.resource_count_is("AWS::SNS::Subscription", 0)  # no e-mail configured


def test_signing_secret_is_generated_at_deploy(synth: Synthesised) -> None:
    secret = _resource(synth, synth.stack.receiver.secret)["Properties"]
    assert secret["GenerateSecretString"] == {
        "SecretStringTemplate": '{"previous": "", "kie_webhook_key": ""}',
        "GenerateStringKey": "current",
        "ExcludePunctuation": True,
        "PasswordLength": 48,
    }


# --- sweep, alarms, dashboard, outputs --------------------------------------------------------------


def test_sweep_runs_on_a_schedule(synth: Synthesised) -> None:
    synth.template.has_resource_properties(
        "AWS::Events::Rule",
        {
            "ScheduleExpression": "rate(1 hour)",
            "State": "ENABLED",
            "Targets": [
                Match.object_like(
                    {"Arn": {"Fn::GetAtt": [synth.id_of(synth.stack.receiver.sweep.function), "Arn"]}}
                )
            ],
        },
    )


def test_every_alarm_notifies_the_alarm_topic(synth: Synthesised) -> None:
    monitoring = synth.stack.receiver.monitoring
    assert set(monitoring.alarms) == {
        "dlq-not-empty",
        "quarantine",
        "ingest-5xx",
        "assets-near-expiry",
        "ingest-errors",
        "archive-errors",
        "sweep-errors",
    }
    alarm_topic = {"Ref": synth.id_of(monitoring.alarm_topic)}
    alarms = synth.template.find_resources("AWS::CloudWatch::Alarm")
    assert len(alarms) == 7
    for alarm in alarms.values():
        assert alarm["Properties"]["AlarmActions"] == [alarm_topic]
        assert alarm["Properties"]["Threshold"] == 1


def test_dlq_and_quarantine_alarms_watch_the_right_metrics(synth: Synthesised) -> None:
    monitoring = synth.stack.receiver.monitoring
    dlq = _resource(synth, monitoring.alarms["dlq-not-empty"])["Properties"]
    assert dlq["MetricName"] == "ApproximateNumberOfMessagesVisible"
    dead_letters = synth.id_of(synth.stack.receiver.dead_letter_queue)
    assert dlq["Dimensions"] == [{"Name": "QueueName", "Value": {"Fn::GetAtt": [dead_letters, "QueueName"]}}]
    quarantine = _resource(synth, monitoring.alarms["quarantine"])["Properties"]
    (query,) = quarantine["Metrics"]
    assert query["Expression"] == "SELECT SUM(CallbacksQuarantined) FROM SunoCallbacks"
    assert query["Period"] == 900
    near_expiry = _resource(synth, monitoring.alarms["assets-near-expiry"])["Properties"]
    assert (near_expiry["Namespace"], near_expiry["MetricName"]) == ("SunoCallbacks", "StagesNearExpiry")


def test_dashboard_is_named_after_the_stack(synth: Synthesised) -> None:
    synth.template.has_resource_properties(
        "AWS::CloudWatch::Dashboard", {"DashboardName": "suno-callbacks-SunoCallbacks"}
    )


def test_outputs_have_stable_names(synth: Synthesised) -> None:
    assert set(synth.json["Outputs"]) == {
        "CallbackBaseUrl",
        "TableName",
        "BucketName",
        "TopicArn",
        "QueueUrl",
        "DeadLetterQueueUrl",
        "SecretArn",
        "AlarmTopicArn",
        "DashboardName",
    }
    url = synth.json["Outputs"]["CallbackBaseUrl"]["Value"]["Fn::Join"][1]
    assert url[0] == "https://" and url[-1] == "/callbacks"
