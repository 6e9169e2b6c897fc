"""The `suno-callbacks` command (developer and operator tool; not shipped in the Lambda asset)."""

from suno_callbacks.cli.commands import main

__all__ = ["main"]
