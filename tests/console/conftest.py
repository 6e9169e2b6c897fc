"""Console tests: ingest's moto fixture for the reader's pages; local mode in this process with a console
over it for the HTTP tests; helpers to talk to the console as a browser (or an attacker) would."""

from __future__ import annotations

import http.client
import json
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlencode, urlsplit

import pytest

import suno_callbacks.local
from suno_callbacks.console.server import ConsoleServer
from suno_callbacks.dal.bodies import BodyStore
from suno_callbacks.dal.queue import ArchiveQueue
from suno_callbacks.dal.records import RecordStore
from suno_callbacks.local.stack import LocalStack
from suno_callbacks.logic.ingest import Clock, Recorder
from suno_callbacks.logic.normalise import normalise_body
from suno_callbacks.logic.quarantine import Quarantine
from suno_callbacks.models.kinds import Kind
from suno_callbacks.models.settings import CliSettings
from tests.cli.conftest import local_stack  # noqa: F401 - the fixture, re-exported
from tests.ingest.conftest import aws  # noqa: F401 - the fixture, re-exported
from tests.local.conftest import media_server  # noqa: F401 - the fixture, re-exported

MEDIA = Path(suno_callbacks.local.__file__).parent / "samples"
_TOKEN = re.compile(r'name="token" value="([^"]+)"')


@dataclass(frozen=True)
class Response:
    status: int
    headers: dict[str, str]  # names in lower case
    text: str


@dataclass(frozen=True)
class Console:
    url: str

    @property
    def port(self) -> int:
        port = urlsplit(self.url).port
        assert port is not None
        return port

    @property
    def origin(self) -> str:
        return self.url.rstrip("/")

    def get(self, path: str, headers: dict[str, str] | None = None) -> Response:
        return self.request("GET", path, headers=headers)

    def post(self, path: str, form: dict[str, str], headers: dict[str, str] | None = None) -> Response:
        return self.request(
            "POST",
            path,
            body=urlencode(form).encode(),
            headers={"Content-Type": "application/x-www-form-urlencoded", **(headers or {})},
        )

    def request(
        self, method: str, path: str, *, body: bytes | None = None, headers: dict[str, str] | None = None
    ) -> Response:
        """One request as sent (a Host header given replaces the real one); redirects not followed."""
        connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=30)
        try:
            connection.request(method, path, body=body, headers=headers or {})
            response = connection.getresponse()
            return Response(
                response.status,
                {name.lower(): value for name, value in response.getheaders()},
                response.read().decode(),
            )
        finally:
            connection.close()

    def token(self) -> str:
        """The token the operations page's forms carry."""
        match = _TOKEN.search(self.get("/operations").text)
        assert match, "the operations page has no form"
        return match.group(1)


@pytest.fixture
def console(local_stack: LocalStack) -> Iterator[Console]:  # noqa: F811 - the fixture above
    with ConsoleServer(settings_of(local_stack)) as server:
        yield Console(server.url)


def settings_of(stack: LocalStack) -> CliSettings:
    return CliSettings.model_validate(stack.environment)


def dead_letter(settings: CliSettings, kind: str, body: dict[str, Any], ref: str | None = None) -> None:
    """A stage recorded as ingest records it whose archive request is in the DLQ, as after archive's last
    failed attempt (which takes the queue's five receives)."""
    assert settings.dlq_url is not None
    raw = json.dumps(body).encode()
    recorder = Recorder(
        store=RecordStore(settings.table_name),
        queue=ArchiveQueue(settings.dlq_url),
        bodies=BodyStore(settings.bucket_name),
        clock=Clock.now(),
        record_ttl_days=0,
    )
    recorder.record(normalise_body(Kind(kind), raw), ref, raw)


def quarantine(settings: CliSettings, kind: str, body: dict[str, Any], ref: str | None = None) -> str:
    """A body quarantined by an earlier version that refused it, which this version accepts."""
    raw = json.dumps(body).encode()
    return Quarantine(RecordStore(settings.table_name), BodyStore(settings.bucket_name)).keep(
        kind=Kind(kind),
        ref=ref,
        body=raw,
        reason="data.data[0].title: refused by an earlier version",
        now=Clock.now().iso,
        expires_at=None,
    )
