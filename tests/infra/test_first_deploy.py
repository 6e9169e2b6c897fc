"""The defaults deploy on a fresh account, and a failed first deploy leaves nothing behind.

A new account's concurrency quota is often 10 and Lambda refuses a reservation that leaves fewer than 10
unreserved; a stack's fixed physical names collide with a second copy of it; resources that are kept
whatever happens survive the rollback of a failed create and pile up.
"""

from __future__ import annotations

import json
import re
from typing import Any

import pytest
from aws_cdk import App, Stack
from aws_cdk.assertions import Annotations, Match

from infra import constants
from infra.archive import event_source_concurrency
from infra.config import ReceiverConfig
from infra.monitoring import NO_ALARM_EMAIL_WARNING
from infra.stack import SunoCallbacksStack, build_app
from tests.infra.conftest import ROOT, app_context

RESERVED_KEY = constants.CTX_ARCHIVE_RESERVED_CONCURRENCY


def _of_type(template: dict[str, Any], kind: str) -> list[dict[str, Any]]:
    return [r for r in template["Resources"].values() if r["Type"] == kind]


@pytest.fixture(scope="module")
def default() -> tuple[SunoCallbacksStack, dict[str, Any]]:
    """The stack as `make deploy` builds it from cdk.json."""
    app, stack = build_app(app_context())
    return stack, app.synth().get_stack_by_name(stack.stack_name).template


# --- concurrency ----------------------------------------------------------------------------------


def test_cdk_json_leaves_the_archiver_unreserved() -> None:
    context = json.loads((ROOT / "cdk.json").read_text())["context"]
    assert context[RESERVED_KEY] is None


@pytest.mark.slow
def test_no_function_reserves_concurrency_by_default(
    default: tuple[SunoCallbacksStack, dict[str, Any]],
) -> None:
    _, template = default
    functions = _of_type(template, "AWS::Lambda::Function")
    assert len(functions) == 3
    assert all("ReservedConcurrentExecutions" not in f["Properties"] for f in functions)
    # Parallel downloads are still bounded, by the poller rather than by the account's quota.
    (mapping,) = _of_type(template, "AWS::Lambda::EventSourceMapping")
    assert mapping["Properties"]["ScalingConfig"] == {"MaximumConcurrency": constants.ARCHIVE_MAX_CONCURRENCY}


@pytest.mark.parametrize(
    "value",
    [None, "", 0, False, "null", "NULL", "none", "off", "0", " null "],
    ids=repr,
)
def test_null_zero_and_off_mean_unreserved(value: Any) -> None:
    # cdk.json gives JSON values; `cdk deploy -c key=value` gives strings.
    config = ReceiverConfig.from_context(App(context={RESERVED_KEY: value}).node)
    assert config.archive_reserved_concurrency is None


@pytest.mark.parametrize("value", [12, "12"])
def test_a_number_reserves_it(value: Any) -> None:
    config = ReceiverConfig.from_context(App(context={RESERVED_KEY: value}).node)
    assert config.archive_reserved_concurrency == 12


@pytest.mark.parametrize("value", [1, -3])
def test_a_reservation_the_poller_cannot_respect_is_refused(value: int) -> None:
    # An SQS event source's maximum concurrency is at least 2: with 1 reserved, batches would be throttled.
    with pytest.raises(ValueError, match="archiveReservedConcurrency"):
        ReceiverConfig(archive_reserved_concurrency=value)


@pytest.mark.parametrize(("reserved", "bound"), [(None, 5), (2, 2), (12, 12), (1500, 1000)])
def test_the_poller_runs_no_more_batches_than_reserved(reserved: int | None, bound: int) -> None:
    # Lambda's event source accepts 2 to 1000; unreserved, the constant bounds parallel downloads.
    config = ReceiverConfig(archive_reserved_concurrency=reserved)
    assert event_source_concurrency(config) == bound


@pytest.fixture(scope="module")
def configured() -> tuple[SunoCallbacksStack, dict[str, Any]]:
    """A deployment that reserves concurrency for the archiver and has an alarm e-mail."""
    app, stack = build_app(app_context(**{RESERVED_KEY: "12", constants.CTX_ALARM_EMAIL: "ops@example.com"}))
    return stack, app.synth().get_stack_by_name(stack.stack_name).template


@pytest.mark.slow
def test_a_reservation_also_bounds_the_poller(configured: tuple[SunoCallbacksStack, dict[str, Any]]) -> None:
    stack, template = configured
    archive = template["Resources"][stack.get_logical_id(stack.receiver.archive.function.node.default_child)]
    assert archive["Properties"]["ReservedConcurrentExecutions"] == 12
    (mapping,) = _of_type(template, "AWS::Lambda::EventSourceMapping")
    assert mapping["Properties"]["ScalingConfig"] == {"MaximumConcurrency": 12}


# --- what a failed create leaves behind -----------------------------------------------------------


@pytest.mark.slow
def test_records_media_and_secret_are_kept_except_by_a_failed_create(
    default: tuple[SunoCallbacksStack, dict[str, Any]],
) -> None:
    stack, template = default
    r = stack.receiver
    kept = {
        stack.get_logical_id(construct.node.default_child)
        for construct in (r.table, r.bucket, r.storage.access_log_bucket, r.secret)
    }
    for logical_id in kept:
        resource = template["Resources"][logical_id]
        # RetainExceptOnCreate: deleted by the rollback of the create that made it, kept by later updates
        # and by stack deletion; a replacement keeps the old one.
        assert (resource["DeletionPolicy"], resource["UpdateReplacePolicy"]) == (
            "RetainExceptOnCreate",
            "Retain",
        )
    # Nothing else outlives the stack, and nothing at all outlives a failed create.
    policies = {
        logical_id: r.get("DeletionPolicy", "Delete") for logical_id, r in template["Resources"].items()
    }
    assert {logical_id for logical_id, policy in policies.items() if policy != "Delete"} == kept


@pytest.mark.slow
def test_table_deletion_protection_does_not_block_the_rollback_of_a_failed_create(
    default: tuple[SunoCallbacksStack, dict[str, Any]],
) -> None:
    _, template = default
    (table,) = _of_type(template, "AWS::DynamoDB::GlobalTable")
    # DynamoDB refuses DeleteTable on a protected table, rollback included; README says to turn it on later.
    assert table["Properties"]["Replicas"][0]["DeletionProtectionEnabled"] is False


# --- names ----------------------------------------------------------------------------------------

# Properties that set a resource's physical name, which must differ between two copies of the stack.
_NAME_PROPERTIES = {
    "AWS::CloudWatch::Dashboard": "DashboardName",
    "AWS::ApiGatewayV2::Api": "Name",
    "AWS::DynamoDB::GlobalTable": "TableName",
    "AWS::S3::Bucket": "BucketName",
    "AWS::SQS::Queue": "QueueName",
    "AWS::SNS::Topic": "TopicName",
    "AWS::SecretsManager::Secret": "Name",
    "AWS::Lambda::Function": "FunctionName",
    "AWS::Logs::LogGroup": "LogGroupName",
    "AWS::IAM::Role": "RoleName",
    "AWS::CloudWatch::Alarm": "AlarmName",
    "AWS::Events::Rule": "Name",
}


def _physical_names(template: dict[str, Any]) -> set[str]:
    return {
        json.dumps(resource["Properties"][_NAME_PROPERTIES[resource["Type"]]], sort_keys=True)
        for resource in template["Resources"].values()
        if _NAME_PROPERTIES.get(resource["Type"]) in resource.get("Properties", {})
    }


@pytest.mark.slow
def test_two_copies_of_the_stack_share_no_physical_name() -> None:
    # GIVEN two copies of the stack in one account (same app, same settings, other stack names)
    app = App(context=app_context())
    config = ReceiverConfig.from_context(app.node)
    stacks = [SunoCallbacksStack(app, name, config=config) for name in ("SunoCallbacks", "SunoCallbacksTwo")]
    assembly = app.synth()
    first, second = (_physical_names(assembly.get_stack_by_name(s.stack_name).template) for s in stacks)
    # THEN the names a person reads are set, and each includes its stack's name
    assert first == {'"suno-callbacks-SunoCallbacks"'}  # dashboard and HTTP API
    assert second == {'"suno-callbacks-SunoCallbacksTwo"'}
    assert not first & second


@pytest.mark.slow
def test_dashboard_and_api_names_come_from_prefix_and_stack(
    default: tuple[SunoCallbacksStack, dict[str, Any]],
) -> None:
    _, template = default
    (dashboard,) = _of_type(template, "AWS::CloudWatch::Dashboard")
    (api,) = _of_type(template, "AWS::ApiGatewayV2::Api")
    assert (
        dashboard["Properties"]["DashboardName"]
        == api["Properties"]["Name"]
        == "suno-callbacks-SunoCallbacks"
    )


# --- alarm e-mail ---------------------------------------------------------------------------------


def _alarm_email_warnings(stack: Stack) -> list[Any]:
    return Annotations.from_stack(stack).find_warning("*", Match.string_like_regexp(NO_ALARM_EMAIL_WARNING))


@pytest.mark.slow
def test_synth_warns_that_no_one_receives_the_alarms(
    default: tuple[SunoCallbacksStack, dict[str, Any]],
) -> None:
    stack, _ = default
    (warning,) = _alarm_email_warnings(stack)
    # On the alarm topic, saying how to set the address.
    assert warning.id == f"/{stack.receiver.monitoring.alarm_topic.node.path}"
    assert f"-c {constants.CTX_ALARM_EMAIL}=" in str(warning.entry.data)


@pytest.mark.slow
def test_no_warning_once_an_alarm_email_is_set(configured: tuple[SunoCallbacksStack, dict[str, Any]]) -> None:
    stack, template = configured
    assert _alarm_email_warnings(stack) == []
    (subscription,) = _of_type(template, "AWS::SNS::Subscription")
    assert subscription["Properties"]["Endpoint"] == "ops@example.com"


# --- what the README says it costs ------------------------------------------------------------------


@pytest.mark.slow
def test_readme_prices_the_alarms_and_dashboard_the_template_has(
    default: tuple[SunoCallbacksStack, dict[str, Any]],
) -> None:
    _, template = default
    deploy = (ROOT / "README.md").read_text().split("## Deploy\n", 1)[1].split("\n## ", 1)[0]
    alarms = len(_of_type(template, "AWS::CloudWatch::Alarm"))
    (stated,) = re.findall(r"\| (\d+) alarms \u00d7 \$0\.10", deploy)
    assert int(stated) == alarms
    assert len(_of_type(template, "AWS::CloudWatch::Dashboard")) == 1
    assert len(_of_type(template, "AWS::SecretsManager::Secret")) == 1
    fixed = 0.40 + 0.10 * alarms + 3.00
    assert f"| **total** | **{fixed:.2f}** |" in deploy
