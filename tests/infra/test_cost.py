"""The cost model's request counts against what the code really does (bench/cost.py)."""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Iterator
from typing import Any

import boto3
import pytest

from bench import cost
from tests.conftest import FIXTURES
from tests.ingest.conftest import Aws, post
from tests.ingest.conftest import aws as aws  # noqa: PLC0414 - the moto fixture of the ingest tests


@pytest.fixture
def aws_calls(aws: Aws, monkeypatch: pytest.MonkeyPatch) -> Iterator[Counter[str]]:
    """Every AWS API call made from now on, as `service:Operation`."""
    # As deployed: the signing secret is read once per container and cached for 5 minutes.
    monkeypatch.setenv("SUNO_CALLBACKS_SECRET_MAX_AGE_SECONDS", "300")
    calls: Counter[str] = Counter()

    def count(model: Any, **_: Any) -> None:
        calls[f"{model.service_model.service_name}:{model.name}"] += 1

    session = boto3.DEFAULT_SESSION or boto3.setup_default_session() or boto3.DEFAULT_SESSION
    assert session is not None
    session.events.register("before-call", count)
    yield calls
    session.events.unregister("before-call", count)


def test_a_new_callback_costs_ingest_the_modelled_requests(aws_calls: Counter[str]) -> None:
    # GIVEN a warm function (the signing secret is cached across invocations)
    body = json.loads((FIXTURES / "examples" / "add-instrumental.success.json").read_text())
    post("add-instrumental", body)
    aws_calls.clear()
    # WHEN a new callback arrives
    body["data"]["task_id"] = "a-new-task"
    status, answer = post("add-instrumental", body)
    # THEN ingest made exactly the requests the cost model prices
    assert (status, answer["status"]) == (200, "received")
    assert aws_calls == Counter(
        {
            "dynamodb:PutItem": cost.INGEST_PUT_ITEM,
            "dynamodb:UpdateItem": cost.INGEST_UPDATE_ITEM,
            "sqs:SendMessage": cost.INGEST_SEND_MESSAGE,
        }
    )


def test_the_total_is_the_sum_of_its_lines() -> None:
    lines = cost.per_million_callbacks()
    assert all(line.usd_per_million_callbacks > 0 for line in lines)
    assert cost.total_per_million_callbacks() == pytest.approx(
        sum(line.usd_per_million_callbacks for line in lines)
    )
    assert 10 < cost.total_per_million_callbacks() < 50
