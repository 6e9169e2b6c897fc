"""Alarms to an alarm topic, and one dashboard (DESIGN §8).

Metric names come from `suno_callbacks.observability`, so what is alarmed on is what is emitted. Ingest
metrics carry a `kind` dimension; Metrics Insights queries (`SELECT SUM(m) FROM namespace`) add them up
across every kind and dimension set, and CloudWatch alarms accept such a query as their one metric.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from aws_cdk import Acknowledgment, Annotations, Duration, Validations
from aws_cdk import aws_apigatewayv2 as apigwv2
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_cloudwatch_actions as actions
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_sns as sns
from aws_cdk import aws_sns_subscriptions as subscriptions
from aws_cdk import aws_sqs as sqs
from constructs import Construct

from infra import constants
from infra.config import ReceiverConfig
from suno_callbacks import observability as names

_FIVE_MINUTES = Duration.minutes(5)
NO_ALARM_EMAIL_WARNING = f"{constants.SERVICE_NAME}:noAlarmEmail"


@dataclass(frozen=True, kw_only=True)
class MonitoredResources:
    """What the receiver's other constructs hand to monitoring."""

    stage: apigwv2.HttpStage
    ingest: lambda_.IFunction
    archive: lambda_.IFunction
    sweep: lambda_.IFunction
    queue: sqs.IQueue
    dead_letter_queue: sqs.IQueue


def insights_sum(metric_name: str, period: Duration, label: str | None = None) -> cloudwatch.MathExpression:
    """The sum of one of our metrics over every kind (a Metrics Insights query)."""
    return cloudwatch.MathExpression(
        expression=f"SELECT SUM({metric_name}) FROM {names.NAMESPACE}",  # noqa: S608 - our own names
        period=period,
        label=label or metric_name,
    )


class MonitoringConstruct(Construct):
    """`alarm_topic`, `alarms` (by purpose) and `dashboard`."""

    def __init__(
        self, scope: Construct, id_: str, *, config: ReceiverConfig, resources: MonitoredResources
    ) -> None:
        super().__init__(scope, id_)
        self._prefix = config.resource_prefix
        self.alarm_topic = self._build_alarm_topic(config)
        self.alarms = self._build_alarms(config, resources)
        for alarm in self.alarms.values():
            alarm.add_alarm_action(actions.SnsAction(self.alarm_topic))
        self.dashboard = self._build_dashboard(config.physical_name(self), resources)

    def _build_alarm_topic(self, config: ReceiverConfig) -> sns.Topic:
        topic = sns.Topic(self, "AlarmTopic", display_name="suno-callbacks alarms", enforce_ssl=True)
        Validations.of(topic).acknowledge(
            Acknowledgment(
                id="AwsSolutions-SNS2",
                reason=(
                    "CloudWatch cannot publish to a topic encrypted with the AWS-managed SNS key, and alarm "
                    "messages carry only alarm names and states: a customer key adds cost, not protection."
                ),
            )
        )
        if config.alarm_email:
            topic.add_subscription(subscriptions.EmailSubscription(config.alarm_email))
        else:
            # Printed by `cdk synth` and `cdk deploy`; a prompt would make `make deploy` interactive.
            Annotations.of(topic).add_warning_v2(
                NO_ALARM_EMAIL_WARNING,
                "No one is subscribed to the alarm topic, so alarms (DLQ not empty, quarantined callbacks, "
                "errors, media near expiry) reach no one. Deploy with "
                f"-c {constants.CTX_ALARM_EMAIL}=you@example.com (or set it in cdk.json) and confirm the "
                "e-mail AWS sends, or subscribe to the AlarmTopicArn output yourself.",
            )
        return topic

    def _build_alarms(self, config: ReceiverConfig, r: MonitoredResources) -> dict[str, cloudwatch.Alarm]:
        sweep_period = Duration.minutes(config.sweep_every_minutes)
        alarms = {
            "dlq-not-empty": self._alarm(
                "DeadLettersAlarm",
                r.dead_letter_queue.metric_approximate_number_of_messages_visible(
                    period=Duration.minutes(1), statistic="Maximum"
                ),
                "Archive requests failed five times and wait in the DLQ (redrive with the CLI).",
            ),
            "quarantine": self._alarm(
                "QuarantineAlarm",
                insights_sum(names.CALLBACKS_QUARANTINED, Duration.minutes(15)),
                "Authenticated callbacks were quarantined (provider payload changed?); list and replay them.",
            ),
            "ingest-5xx": self._alarm(
                "Ingest5xxAlarm",
                r.stage.metric_server_error(period=_FIVE_MINUTES, statistic="Sum"),
                "The callback URL answered 5xx; providers retry only three times.",
            ),
            "assets-near-expiry": self._alarm(
                "NearExpiryAlarm",
                cloudwatch.Metric(
                    namespace=names.NAMESPACE,
                    metric_name=names.STAGES_NEAR_EXPIRY,
                    dimensions_map={"service": names.SERVICE},
                    statistic="Maximum",
                    period=sweep_period,
                ),
                "Tasks are still not archived close to their source's expiry; their media may be lost.",
            ),
        }
        for purpose, function in (("ingest", r.ingest), ("archive", r.archive), ("sweep", r.sweep)):
            alarms[f"{purpose}-errors"] = self._alarm(
                f"{purpose.capitalize()}ErrorsAlarm",
                function.metric_errors(period=_FIVE_MINUTES, statistic="Sum"),
                f"The {purpose} function failed (see its log group).",
            )
        return alarms

    def _alarm(self, id_: str, metric: cloudwatch.IMetric, description: str) -> cloudwatch.Alarm:
        return cloudwatch.Alarm(
            self,
            id_,
            alarm_description=f"{self._prefix}: {description}",
            metric=metric,
            threshold=1,
            evaluation_periods=1,
            comparison_operator=cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
            treat_missing_data=cloudwatch.TreatMissingData.NOT_BREACHING,
        )

    def _build_dashboard(self, name: str, r: MonitoredResources) -> cloudwatch.Dashboard:
        # Dashboard names are unique per account: a fixed one would stop a second stack from deploying.
        dashboard = cloudwatch.Dashboard(self, "Dashboard", dashboard_name=name)
        functions = (("ingest", r.ingest), ("archive", r.archive), ("sweep", r.sweep))
        dashboard.add_widgets(
            cloudwatch.AlarmStatusWidget(
                title="Alarms", alarms=list(self.alarms.values()), width=24, height=3
            )
        )
        dashboard.add_widgets(
            self._graph(
                "Callbacks (all kinds)",
                [
                    insights_sum(name, _FIVE_MINUTES)
                    for name in (
                        names.CALLBACKS_RECEIVED,
                        names.CALLBACKS_DUPLICATE,
                        names.CALLBACKS_QUARANTINED,
                        names.CALLBACKS_UNAUTHORISED,
                    )
                ],
            ),
            self._graph(
                "Callback URL",
                [
                    r.stage.metric_count(period=_FIVE_MINUTES, statistic="Sum"),
                    r.stage.metric_client_error(period=_FIVE_MINUTES, statistic="Sum"),
                    r.stage.metric_server_error(period=_FIVE_MINUTES, statistic="Sum"),
                ],
                right=[r.stage.metric_latency(period=_FIVE_MINUTES, statistic="p90")],
            ),
        )
        dashboard.add_widgets(
            self._graph(
                "Archive queue",
                [
                    r.queue.metric_approximate_number_of_messages_visible(period=_FIVE_MINUTES),
                    r.dead_letter_queue.metric_approximate_number_of_messages_visible(period=_FIVE_MINUTES),
                ],
                right=[r.queue.metric_approximate_age_of_oldest_message(period=_FIVE_MINUTES)],
            ),
            self._graph(
                "Archive",
                [
                    insights_sum(name, _FIVE_MINUTES)
                    for name in (
                        names.ASSETS_ARCHIVED,
                        names.ASSET_FAILURES,
                        names.TASKS_COMPLETED,
                        names.TASKS_FAILED,
                    )
                ],
                right=[insights_sum(names.ARCHIVED_BYTES, _FIVE_MINUTES)],
            ),
        )
        dashboard.add_widgets(
            self._graph(
                "Function errors and throttles",
                [
                    function.metric_errors(label=f"{name} errors", period=_FIVE_MINUTES)
                    for name, function in functions
                ]
                + [
                    function.metric_throttles(label=f"{name} throttles", period=_FIVE_MINUTES)
                    for name, function in functions
                ],
            ),
            self._graph(
                "Function duration p90",
                [
                    function.metric_duration(label=name, period=_FIVE_MINUTES, statistic="p90")
                    for name, function in functions
                ],
            ),
        )
        dashboard.add_widgets(
            self._graph(
                "Sweep and time to archive",
                [
                    insights_sum(names.STAGES_REQUEUED, _FIVE_MINUTES),
                    insights_sum(names.STAGES_NEAR_EXPIRY, _FIVE_MINUTES),
                ],
                right=[
                    cloudwatch.MathExpression(
                        expression=(
                            f"SELECT MAX({names.CALLBACK_TO_ARCHIVED_SECONDS}) FROM {names.NAMESPACE}"  # noqa: S608
                        ),
                        period=_FIVE_MINUTES,
                        label="callback to archived, max seconds",
                    )
                ],
                width=24,
            )
        )
        return dashboard

    @staticmethod
    def _graph(
        title: str,
        left: Sequence[cloudwatch.IMetric],
        right: Sequence[cloudwatch.IMetric] | None = None,
        width: int = 12,
    ) -> cloudwatch.GraphWidget:
        return cloudwatch.GraphWidget(
            title=title, left=list(left), right=list(right or []), width=width, height=6
        )
