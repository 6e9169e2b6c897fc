"""Shared test set-up: no real AWS, fresh caches, and the fixture files."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from suno_callbacks.dal import secrets
from suno_callbacks.dal.aws import client
from suno_callbacks.models.settings import load_settings

FIXTURES = Path(__file__).parent / "fixtures"


@pytest.fixture(autouse=True)
def _isolated_aws(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Fake credentials so that nothing can reach a real account; cached clients/settings reset per test."""
    for name in ("AWS_PROFILE", "AWS_SESSION_TOKEN", "AWS_ENDPOINT_URL"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    monkeypatch.setenv("POWERTOOLS_TRACE_DISABLED", "1")
    _clear_caches()
    yield
    _clear_caches()


def _clear_caches() -> None:
    client.cache_clear()
    load_settings.cache_clear()
    secrets._provider.cache_clear()


def fixture_files(folder: str) -> list[Path]:
    return sorted((FIXTURES / folder).glob("*.json"))


def load_fixture(path: Path) -> dict[str, Any]:
    value: dict[str, Any] = json.loads(path.read_text())
    return value


# Fixtures named after something other than their kind: kie.ai's Market envelope around a music result.
_FIXTURE_KINDS = {"market-envelope": "music"}


def kind_of_fixture(path: Path) -> str:
    prefix = path.name.split(".")[0]
    return _FIXTURE_KINDS.get(prefix, prefix)
