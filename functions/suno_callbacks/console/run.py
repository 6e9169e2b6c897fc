"""`suno-callbacks console`: serve the console on 127.0.0.1 until Ctrl-C (or SIGTERM, which exits 0)."""

from __future__ import annotations

import errno
import os
import signal
import threading
import webbrowser

from suno_callbacks.cli.output import CliError
from suno_callbacks.console.server import DEFAULT_UNREACHABLE_HINT, ConsoleServer
from suno_callbacks.models.settings import CliSettings


def run_console(settings: CliSettings, *, port: int, open_browser: bool) -> int:
    console = ConsoleServer(settings, port, unreachable_hint=unreachable_hint())
    try:
        console.start()
    except OSError as error:
        if error.errno == errno.EADDRINUSE:
            raise CliError(
                f"port {port} is in use: pick another with --port N (0 picks a free one)"
            ) from None
        raise
    signal.signal(signal.SIGTERM, _interrupt)
    try:
        print(f"Console (tasks, files, quarantine, DLQ): {console.url}  (Ctrl-C stops it)", flush=True)
        if open_browser:
            webbrowser.open(console.url)
        threading.Event().wait()  # until Ctrl-C
    except KeyboardInterrupt:
        print("\nconsole stopped", flush=True)
    finally:
        console.stop()
    return 0


def unreachable_hint() -> str:
    """What to check when the store does not answer: local mode, or the deployed stack's access."""
    endpoint = os.environ.get("AWS_ENDPOINT_URL")
    if endpoint:
        return (
            f"is `suno-callbacks local` still running at {endpoint}? Start it again and paste its new exports"
        )
    return DEFAULT_UNREACHABLE_HINT


def _interrupt(signum: int, frame: object) -> None:
    raise KeyboardInterrupt
