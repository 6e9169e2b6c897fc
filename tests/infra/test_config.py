"""Settings from cdk.json context (or `-c key=value`) change the template as documented."""

from __future__ import annotations

from typing import Any

import pytest
from aws_cdk import App

from infra.config import ReceiverConfig
from infra.stack import build_app
from tests.infra.conftest import app_context

OVERRIDES = {
    "suno-callbacks:stackName": "SunoCallbacksStaging",
    "suno-callbacks:resourcePrefix": "suno-staging",
    "suno-callbacks:mediaHosts": "cdn.example.com, Media.Example.org",
    "suno-callbacks:alarmEmail": "ops@example.com",
    "suno-callbacks:notificationEmail": "music@example.com",
    "suno-callbacks:mediaTransitionDays": "30",
    "suno-callbacks:mediaExpiryDays": 365,
    "suno-callbacks:deletionProtection": "true",
    "suno-callbacks:archiveReservedConcurrency": "8",
    "suno-callbacks:recordTtlDays": 90,
}


def test_context_values_from_the_command_line_are_parsed() -> None:
    config = ReceiverConfig.from_context(App(context=OVERRIDES).node)
    assert config.media_hosts == ("cdn.example.com", "media.example.org")
    assert config.media_transition_days == 30
    assert config.deletion_protection is True
    assert config.archive_reserved_concurrency == 8
    assert config.alarm_email == "ops@example.com"


def test_empty_context_values_keep_the_defaults() -> None:
    config = ReceiverConfig.from_context(App(context={"suno-callbacks:alarmEmail": ""}).node)
    assert config == ReceiverConfig()


@pytest.fixture(scope="module")
def overridden() -> dict[str, Any]:
    app, stack = build_app(app_context(**OVERRIDES))
    assert stack.stack_name == "SunoCallbacksStaging"
    template: dict[str, Any] = app.synth().get_stack_by_name(stack.stack_name).template
    return template


def _of_type(template: dict[str, Any], kind: str) -> list[dict[str, Any]]:
    return [r for r in template["Resources"].values() if r["Type"] == kind]


@pytest.mark.slow
def test_overrides_reach_the_template(overridden: dict[str, Any]) -> None:
    subscriptions = {s["Properties"]["Endpoint"] for s in _of_type(overridden, "AWS::SNS::Subscription")}
    assert subscriptions == {"ops@example.com", "music@example.com"}

    (table,) = _of_type(overridden, "AWS::DynamoDB::GlobalTable")
    assert table["Properties"]["Replicas"][0]["DeletionProtectionEnabled"] is True

    media_rules = [
        rule
        for bucket in _of_type(overridden, "AWS::S3::Bucket")
        for rule in bucket["Properties"].get("LifecycleConfiguration", {}).get("Rules", [])
        if rule.get("Prefix") == "media/"
    ]
    assert media_rules == [
        {
            "Id": "media-tiering-and-expiry",
            "Prefix": "media/",
            "Status": "Enabled",
            "ExpirationInDays": 365,
            "Transitions": [{"StorageClass": "INTELLIGENT_TIERING", "TransitionInDays": 30}],
        }
    ]

    functions = _of_type(overridden, "AWS::Lambda::Function")
    reserved = [f["Properties"].get("ReservedConcurrentExecutions") for f in functions]
    assert sorted(reserved, key=str) == [8, None, None]  # the archiver only
    variables = [f["Properties"]["Environment"]["Variables"] for f in functions]
    assert "cdn.example.com,media.example.org" in {v.get("SUNO_CALLBACKS_MEDIA_HOSTS") for v in variables}
    assert "90" in {v.get("SUNO_CALLBACKS_RECORD_TTL_DAYS") for v in variables}

    (dashboard,) = _of_type(overridden, "AWS::CloudWatch::Dashboard")
    assert dashboard["Properties"]["DashboardName"] == "suno-staging-SunoCallbacksStaging"
    (mapping,) = _of_type(overridden, "AWS::Lambda::EventSourceMapping")
    # The poller never starts more invocations than the function may run.
    assert mapping["Properties"]["ScalingConfig"] == {"MaximumConcurrency": 8}
