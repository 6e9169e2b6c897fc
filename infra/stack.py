"""The one stack of this app: the receiver, its outputs, tags, and cdk-nag's AwsSolutions checks."""

from __future__ import annotations

from typing import Any

from aws_cdk import App, CfnOutput, Stack, Tags, Validations
from cdk_nag import AwsSolutionsChecks
from constructs import Construct

from infra import constants
from infra.config import ReceiverConfig
from infra.receiver import SunoCallbackReceiver


class SunoCallbacksStack(Stack):
    def __init__(self, scope: Construct, id_: str, *, config: ReceiverConfig, **kwargs: Any) -> None:
        super().__init__(
            scope, id_, description="suno-callbacks: a managed callback URL for the Suno API", **kwargs
        )
        Tags.of(self).add("service", constants.SERVICE_NAME)
        self.receiver = SunoCallbackReceiver(self, constants.RECEIVER_ID, config=config)
        self._add_outputs()

    def _add_outputs(self) -> None:
        r = self.receiver
        for key, value, description in (
            (constants.OUTPUT_CALLBACK_BASE_URL, r.callback_base_url, "Callback URL base: append /{kind}"),
            (constants.OUTPUT_TABLE_NAME, r.table.table_name, "Records table"),
            (constants.OUTPUT_BUCKET_NAME, r.bucket.bucket_name, "Archived media bucket"),
            (constants.OUTPUT_TOPIC_ARN, r.topic.topic_arn, "Task events topic"),
            (constants.OUTPUT_QUEUE_URL, r.queue.queue_url, "Archive queue"),
            (constants.OUTPUT_DLQ_URL, r.dead_letter_queue.queue_url, "Archive dead-letter queue"),
            (constants.OUTPUT_SECRET_ARN, r.secret.secret_arn, "URL signing secret"),
            (constants.OUTPUT_ALARM_TOPIC_ARN, r.monitoring.alarm_topic.topic_arn, "Alarm topic"),
            (constants.OUTPUT_DASHBOARD_NAME, r.monitoring.dashboard.dashboard_name, "CloudWatch dashboard"),
        ):
            CfnOutput(self, key, value=value, description=description).override_logical_id(key)


def build_app(
    context: dict[str, Any] | None = None, outdir: str | None = None
) -> tuple[App, SunoCallbacksStack]:
    """The app `cdk` runs (`app.py`) and the tests synthesise: one stack, checked by cdk-nag."""
    app = App(context=context, outdir=outdir)
    config = ReceiverConfig.from_context(app.node)
    stack_name = app.node.try_get_context(constants.CTX_STACK_NAME) or constants.STACK_NAME
    stack = SunoCallbacksStack(app, stack_name, config=config)
    Validations.of(app).add_plugins(AwsSolutionsChecks(app))
    return app, stack
