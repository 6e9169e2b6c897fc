"""CLI and reader tests: ingest's moto fixture, callbacks posted through the real ingest handler."""

from tests.ingest.conftest import aws  # noqa: F401 - the fixture, re-exported
