"""The receiver embedded in someone else's stack: `grant_read` gives a consumer read access, nothing more."""

from __future__ import annotations

from typing import Any

import pytest
from aws_cdk import App, Stack
from aws_cdk import aws_lambda as lambda_

from infra.receiver import SunoCallbackReceiver
from tests.infra.conftest import app_context, arn_with_suffix, get_att, statements

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def embedded() -> tuple[Stack, SunoCallbackReceiver, lambda_.Function, dict[str, Any]]:
    # GIVEN another team's stack that embeds the receiver and has its own function
    app = App(context=app_context())
    stack = Stack(app, "ConsumerStack")
    receiver = SunoCallbackReceiver(stack, "Callbacks")
    consumer = lambda_.Function(
        stack,
        "Consumer",
        runtime=lambda_.Runtime.PYTHON_3_14,
        handler="index.handler",
        code=lambda_.Code.from_inline("def handler(event, context):\n    return None\n"),
    )
    # WHEN it grants the function read access
    receiver.grant_read(consumer)
    template = app.synth().get_stack_by_name(stack.stack_name).template
    return stack, receiver, consumer, template


def test_grant_read_allows_reading_tasks_and_media_and_nothing_else(
    embedded: tuple[Stack, SunoCallbackReceiver, lambda_.Function, dict[str, Any]],
) -> None:
    stack, receiver, consumer, template = embedded

    def logical_id(construct: Any) -> str:
        return stack.get_logical_id(construct.node.default_child)

    table, bucket = logical_id(receiver.table), logical_id(receiver.bucket)
    read = ("dynamodb:BatchGetItem", "dynamodb:GetItem", "dynamodb:Query")
    # THEN its role may read the table, its two indexes and the archived media, and do nothing else
    assert consumer.role is not None
    assert statements(template, logical_id(consumer.role)) == {
        (read, get_att(table)),
        (read, arn_with_suffix(table, "/index/by-kind-time")),
        (read, arn_with_suffix(table, "/index/by-ref")),
        (("s3:GetObject",), arn_with_suffix(bucket, "/media/*")),
    }


def test_the_embedded_receiver_exposes_its_resources(
    embedded: tuple[Stack, SunoCallbackReceiver, lambda_.Function, dict[str, Any]],
) -> None:
    _, receiver, _, template = embedded
    assert receiver.table and receiver.bucket and receiver.topic and receiver.queue and receiver.secret
    assert "/callbacks" in receiver.callback_base_url
    # An embedding app chooses its own outputs: the construct adds none.
    assert "Outputs" not in template
