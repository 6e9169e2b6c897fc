"""The cost model is measured, not assumed: the typical task through the real handlers (bench/cost.py)."""

from __future__ import annotations

from collections import Counter

import pytest

from bench import cost


@pytest.fixture(scope="module")
def measured() -> cost.Measured:
    return cost.measure()


def test_a_new_callback_costs_ingest_one_put_and_one_send(measured: cost.Measured) -> None:
    assert measured.ingest == Counter({"dynamodb:PutItem": 3, "sqs:SendMessage": 3})
    # each stage item (the raw body and its keys) fits one write unit; one more for the sweep's index
    assert all(size <= 1024 for size in measured.stage_item_bytes)
    assert measured.write_units["ingest"] == 2 * measured.callbacks


def test_archive_settles_a_stage_with_one_query_and_its_own_writes(measured: cost.Measured) -> None:
    per_task = measured.archive
    assert per_task["dynamodb:Query"] == measured.callbacks  # the whole task, once per stage
    assert per_task["s3:PutObject"] == measured.assets
    assert per_task["sns:Publish"] == measured.callbacks  # progress, progress, outcome
    # assets; progress, progress and outcome items
    assert per_task["dynamodb:PutItem"] == measured.assets + measured.callbacks
    # the task item per stage, its outcome, and each stage marked settled
    assert per_task["dynamodb:UpdateItem"] == 2 * measured.callbacks + 1
    assert "dynamodb:GetItem" not in per_task and "dynamodb:Scan" not in per_task


def test_receiving_costs_no_more_than_the_gateway_target(measured: cost.Measured) -> None:
    assert cost.receive_only_per_million_callbacks(measured) <= cost.RECEIVE_ONLY_TARGET


def test_the_total_is_the_sum_of_its_lines(measured: cost.Measured) -> None:
    lines = cost.per_million_callbacks(measured)
    assert all(line.usd_per_million_callbacks > 0 for line in lines)
    assert 10 < sum(line.usd_per_million_callbacks for line in lines) < 50


@pytest.mark.parametrize(
    ("value", "size"),
    [
        ({"S": "héllo"}, 6),
        ({"B": b"\x00" * 10}, 10),
        ({"N": "198.44"}, 4),
        ({"N": "1000"}, 2),
        ({"BOOL": True}, 1),
        ({"M": {"a": {"S": "xy"}}}, 3 + 1 + 2 + 1),
        ({"L": [{"S": "xy"}, {"N": "1"}]}, 3 + (2 + 1) + (2 + 1)),
    ],
)
def test_attribute_sizes_follow_dynamodbs_rules(value: dict[str, object], size: int) -> None:
    assert cost.attribute_bytes(value) == size
