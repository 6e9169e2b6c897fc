"""`suno-callbacks local`: start a `LocalStack`, print how to use it, run until Ctrl-C."""

from __future__ import annotations

import errno
import json
import os
import shlex
import shutil
import signal
import sys
import threading
from pathlib import Path
from typing import Any

from suno_callbacks.cli.output import CliError
from suno_callbacks.console.server import ConsoleServer
from suno_callbacks.local.stack import SECRET_ENV, LocalStack
from suno_callbacks.models.kinds import Kind
from suno_callbacks.models.settings import CliSettings

# A lyrics callback (seed 001, shortened): no media, so it is archived at once.
QUICKSTART_TASK_ID = "quickstart-lyrics-1"
QUICKSTART_BODY = {
    "code": 200,
    "msg": "All generated successfully.",
    "data": {
        "callbackType": "complete",
        "task_id": QUICKSTART_TASK_ID,
        "data": [{"title": "Starry Night Dreams", "text": "[Verse] Moonlight spreads across the windowsill"}],
    },
}


def run_local(*, port: int, media_hosts: tuple[str, ...], events_file: Path) -> int:
    given_secret = os.environ.get(SECRET_ENV) or None
    stack = LocalStack(
        port=port,
        media_hosts=media_hosts,
        events_file=events_file,
        secret=given_secret,
        on_event=_print_event,
    )
    try:
        stack.__enter__()
    except OSError as error:
        if error.errno == errno.EADDRINUSE:
            raise CliError(
                f"port {port} is in use: stop what is using it, or pick another port with `make run PORT=N` "
                "or `suno-callbacks local --port N` (0 picks a free one)"
            ) from None
        if error.filename is not None:  # the only file it writes: the events file (or its folder)
            raise CliError(
                f"cannot write the events file {events_file} ({error.strerror}: {error.filename}): "
                "pass --events-file PATH in a folder you can write"
            ) from None
        raise
    # The web console over this store, in this process (it reads what the CLI's export lines point at).
    web_console = ConsoleServer(CliSettings.model_validate(stack.environment))
    web_console.start()
    # A terminated process (kill, a test's teardown) stops like Ctrl-C: servers closed, environment restored.
    signal.signal(signal.SIGTERM, _interrupt)
    try:
        print(_banner(stack, secret_generated=given_secret is None, console_url=web_console.url), flush=True)
        threading.Event().wait()  # until Ctrl-C
    except KeyboardInterrupt:
        print("\nstopped; the local store is gone (it lives in memory)", flush=True)
    finally:
        web_console.stop()
        stack.__exit__(None, None, None)
    return 0


def _interrupt(signum: int, frame: object) -> None:
    raise KeyboardInterrupt


def _cli_command() -> str:
    """`suno-callbacks` when it is on PATH, else the console script next to this interpreter (the venv's)."""
    if shutil.which("suno-callbacks"):
        return "suno-callbacks"
    return str(Path(sys.executable).parent / "suno-callbacks")


def _banner(stack: LocalStack, *, secret_generated: bool, console_url: str) -> str:
    quickstart_url = stack.signed_url(Kind.LYRICS.value, ref="my-job-1")
    body = json.dumps(QUICKSTART_BODY, separators=(",", ":"))
    lines = [
        "suno-callbacks local mode is running (Ctrl-C stops it; everything is in memory).",
        "",
        f"Callback base URL: {stack.base_url}",
        f"Console (tasks, files, quarantine, DLQ): {console_url}",
    ]
    if secret_generated:
        lines.append(f"Signing secret (generated; set {SECRET_ENV} to keep one across runs): {stack.secret}")
    lines += ["", "Signed callback URLs (put one in a Suno request's callBackUrl):"]
    width = max(len(k.value) for k in Kind)
    lines += [f"  {k.value.ljust(width)}  {stack.signed_url(k.value)}" for k in Kind]
    lines += ["", "In a second shell, to use the CLI against this local store:"]
    lines += [f"  export {name}={shlex.quote(value)}" for name, value in stack.environment.items()]
    lines += [
        "",
        "Try it (a lyrics callback), then look at the task:",
        f"  curl -sS -X POST {shlex.quote(quickstart_url)} "
        f"-H 'content-type: application/json' -d {shlex.quote(body)}",
        f"  {_cli_command()} task {QUICKSTART_TASK_ID}",
        "",
        f"Task events are appended to {stack.events_file} and printed here:",
    ]
    return "\n".join(lines)


def _print_event(event: dict[str, Any]) -> None:
    print(
        f"event {event.get('event')} {event.get('kind')} {event.get('task_id')} {event.get('status')}",
        flush=True,
    )
    sys.stdout.flush()
