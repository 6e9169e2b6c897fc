"""Every provider example and every JSON example of the seed documents is recorded by the real handler:
one stage item holding the raw body, under the kind and ref its URL was signed for, queued for archive in
its task's message group. (What each one says is asserted in test_provider_shapes.py.)"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from suno_callbacks.dal import keys
from suno_callbacks.models.messages import ArchiveRequest
from tests.conftest import kind_of_fixture, load_fixture
from tests.ingest.conftest import Aws, post, raw_body, stage_key
from tests.ingest.test_provider_shapes import EXAMPLES, EXPECTED


@pytest.mark.parametrize("path", EXAMPLES, ids=lambda p: p.name)
def test_fixture_is_recorded_once_with_its_raw_body_and_queued(aws: Aws, path: Path) -> None:
    kind, payload = kind_of_fixture(path), load_fixture(path)
    task_id, stage, _items, _media = EXPECTED[path.name]

    status, answer = post(kind, payload, ref="job-42")

    assert (status, answer) == (200, {"status": "received", "task_id": task_id, "stage": stage})
    [(sk, record)] = aws.task_items(task_id).items()
    assert sk == stage_key(stage, kind, "job-42")
    assert (record["type"], record["kind"], record["stage"], record["ref"]) == (
        "stage",
        kind,
        stage,
        "job-42",
    )
    assert raw_body(record) == json.dumps(payload).encode()
    assert record[keys.UNSETTLED] == kind  # listed for the sweep until archive settles it
    # every stage is queued, the media-less ones too: archive owns the task
    [message] = aws.queued()
    assert ArchiveRequest.model_validate(message) == ArchiveRequest(
        task_id=task_id, stage=stage, kind=kind, ref="job-42", received_at=record["received_at"]
    )
