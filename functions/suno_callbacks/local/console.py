"""`suno-callbacks local`: start a `LocalStack`, print how to use it, then one readable line per request,
per task event and per forwarded delivery, until Ctrl-C.

    17:40:01  POST /callbacks/lyrics        200 received  task=quickstart-lyrics-1 stage=complete  12 ms
    17:40:01  event task.completed          lyrics  task=quickstart-lyrics-1 status=completed ref=my-job-1
    17:40:01  forward task.completed        200 delivered to http://127.0.0.1:9000/hook  4 ms

The handlers' JSON logs (Powertools) and anything else they print (Powertools' metric lines: its
`single_metric` prints even with metrics disabled) are hidden unless `--verbose`; without it, their errors
still get a line each.
"""

from __future__ import annotations

import errno
import json
import logging
import os
import shlex
import shutil
import signal
import sys
import threading
from datetime import datetime
from http import HTTPStatus
from pathlib import Path
from typing import Any, TextIO

from suno_callbacks.cli.output import CliError
from suno_callbacks.console.server import ConsoleServer
from suno_callbacks.local.forward import RETRY_DELAYS_SECONDS, Delivery
from suno_callbacks.local.http_adapter import AnsweredRequest
from suno_callbacks.local.stack import LocalStack
from suno_callbacks.local.state import SECRET_ENV, LocalSecret, SecretOrigin, StateError, local_secret
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
_WHAT_WIDTH = 30  # "POST /callbacks/upload-extend" and "event task.completed" line up after it


class _Terminal:
    """Where the readable lines go, whole lines only: they come from several threads (requests, the
    subscriber, the forwarder)."""

    def __init__(self, stream: TextIO) -> None:
        self._stream = stream
        self._lock = threading.Lock()

    def line(self, text: str) -> None:
        with self._lock:
            self._stream.write(text + "\n")
            self._stream.flush()


def run_local(
    *,
    port: int,
    media_hosts: tuple[str, ...],
    events_file: Path,
    state_dir: Path,
    reset: bool = False,
    forward_to: str | None = None,
    verbose: bool = False,
) -> int:
    try:
        secret = local_secret(state_dir, reset=reset)
    except StateError as error:
        raise CliError(str(error)) from None
    terminal = _Terminal(sys.stdout)
    stack = LocalStack(
        port=port,
        media_hosts=media_hosts,
        events_file=events_file,
        secret=secret.value,
        on_event=lambda event: terminal.line(event_line(event)),
        on_request=lambda request: terminal.line(request_line(request)),
        forward_to=forward_to,
        on_delivery=lambda delivery: terminal.line(delivery_line(delivery)),
        handler_logs=verbose,
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
    errors = _ReadableErrors(terminal)
    printed_by_handlers = sys.stdout
    if not verbose:
        logging.getLogger(_service_logger_name()).addHandler(errors)
        sys.stdout = Path(os.devnull).open("w", encoding="utf-8")  # noqa: SIM115 - closed below
    # A terminated process (kill, a test's teardown) stops like Ctrl-C: servers closed, environment restored.
    signal.signal(signal.SIGTERM, _interrupt)
    try:
        terminal.line(_banner(stack, secret, verbose=verbose, console_url=web_console.url))
        threading.Event().wait()  # until Ctrl-C
    except KeyboardInterrupt:
        terminal.line("\nstopped; the local store is gone (it lives in memory); the signing secret is kept")
    finally:
        logging.getLogger(_service_logger_name()).removeHandler(errors)
        web_console.stop()
        stack.__exit__(None, None, None)
        if sys.stdout is not printed_by_handlers:
            sys.stdout.close()
            sys.stdout = printed_by_handlers
    return 0


def _interrupt(signum: int, frame: object) -> None:
    raise KeyboardInterrupt


def _service_logger_name() -> str:
    from suno_callbacks.observability import SERVICE  # after the stack set Powertools' environment

    return SERVICE


def _cli_command() -> str:
    """`suno-callbacks` when it is on PATH, else the console script next to this interpreter (the venv's)."""
    if shutil.which("suno-callbacks"):
        return "suno-callbacks"
    return str(Path(sys.executable).parent / "suno-callbacks")


def _banner(stack: LocalStack, secret: LocalSecret, *, verbose: bool, console_url: str) -> str:
    quickstart_url = stack.signed_url(Kind.LYRICS.value, ref="my-job-1")
    body = json.dumps(QUICKSTART_BODY, separators=(",", ":"))
    lines = [
        "suno-callbacks local mode is running (Ctrl-C stops it; the store lives in memory and goes with it).",
        "",
        f"Callback base URL: {stack.base_url}",
        f"Console (tasks, files, quarantine, DLQ): {console_url}",
        _secret_line(secret),
        "",
        "Signed callback URLs (put one in a Suno request's callBackUrl):",
    ]
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
    ]
    if stack.forward_to:
        retries = ", ".join(f"{delay:g}" for delay in RETRY_DELAYS_SECONDS)
        lines.append(
            f"Each task event is POSTed to {stack.forward_to} as an SNS notification "
            f"(a failed delivery is retried after {retries} s)."
        )
    if not verbose:
        lines.append("The handlers' JSON logs are hidden (--verbose shows them).")
    lines.append(
        f"Task events are appended to {stack.events_file} (emptied at start: this run's only) "
        "and printed here, with one line per request:"
    )
    return "\n".join(lines)


def _secret_line(secret: LocalSecret) -> str:
    if secret.origin is SecretOrigin.ENVIRONMENT:
        return f"Signing secret: from {SECRET_ENV}."
    if secret.origin is SecretOrigin.SAVED:
        return (
            f"Signing secret: kept in {secret.state_file} since an earlier run, so its URLs still work "
            "(--reset makes a new one)."
        )
    return (
        f"Signing secret: new, kept in {secret.state_file} so these URLs keep working after a restart "
        f"(--reset makes a new one; {SECRET_ENV} overrides it)."
    )


# --- the readable lines ---------------------------------------------------------------------------------


def request_line(request: AnsweredRequest) -> str:
    """`17:40:01  POST /callbacks/music  200 received  task=abc stage=complete  12 ms`, and the answer's
    warning on a line of its own."""
    answer = request.answer
    outcome = answer.get("status") or answer.get("error") or _phrase(request.status)
    details = [
        f"{name}={answer[key]}"
        for name, key in (("task", "task_id"), ("stage", "stage"), ("quarantine", "quarantine_id"))
        if answer.get(key)
    ]
    if answer.get("reason"):
        details.append(f"reason={answer['reason']}")
    what = f"{request.method} {request.path}"
    line = "  ".join(
        part
        for part in (
            f"{request.at:%H:%M:%S}",
            what.ljust(_WHAT_WIDTH),
            f"{request.status} {outcome}",
            " ".join(details),
            f"{request.seconds * 1000:.0f} ms",
        )
        if part
    )
    if answer.get("warning"):
        line += f"\n          warning: {answer['warning']}"
    return line


def event_line(event: dict[str, Any], at: datetime | None = None) -> str:
    """`17:40:01  event task.completed  lyrics  task=… status=completed ref=…  assets: 2 archived`."""
    details = [f"task={event.get('task_id')}", f"status={event.get('status')}"]
    if event.get("ref"):
        details.append(f"ref={event['ref']}")
    if event.get("error"):
        details.append(f"error={event['error']}")
    assets = event.get("assets") or []
    parts = [
        f"{at or datetime.now().astimezone():%H:%M:%S}",
        f"event {event.get('event')}".ljust(_WHAT_WIDTH),
        str(event.get("kind")),
        " ".join(details),
    ]
    if assets:
        states = sorted({str(a.get("state")) for a in assets})
        counts = ", ".join(f"{sum(1 for a in assets if a.get('state') == s)} {s}" for s in states)
        parts.append(f"assets: {counts}")
    return "  ".join(parts)


def delivery_line(delivery: Delivery, at: datetime | None = None) -> str:
    """`17:40:01  forward task.completed  200 delivered to URL  4 ms`, or why it failed and what next."""
    event = delivery.event
    attempt = f" (attempt {delivery.attempt})" if delivery.attempt > 1 else ""
    if delivery.delivered:
        result = f"{delivery.status} delivered to {delivery.url}{attempt}"
    elif delivery.retry_in is not None:
        result = f"failed: {delivery.error}{attempt}; retrying in {delivery.retry_in:g} s"
    else:
        result = f"failed: {delivery.error}{attempt}; given up, not delivered to {delivery.url}"
    return "  ".join(
        (
            f"{at or datetime.now().astimezone():%H:%M:%S}",
            f"forward {event.get('event')}".ljust(_WHAT_WIDTH),
            f"task={event.get('task_id')}",
            result,
            f"{delivery.seconds * 1000:.0f} ms",
        )
    )


def _phrase(status: int) -> str:
    try:
        return HTTPStatus(status).phrase.lower()
    except ValueError:
        return ""


class _ReadableErrors(logging.Handler):
    """The handlers' errors as one line each, while their JSON logs are hidden."""

    def __init__(self, terminal: _Terminal) -> None:
        super().__init__(level=logging.ERROR)
        self._terminal = terminal

    def emit(self, record: logging.LogRecord) -> None:
        cause = f": {record.exc_info[1]!r}" if record.exc_info and record.exc_info[1] else ""
        at = datetime.fromtimestamp(record.created).astimezone()
        self._terminal.line(
            f"{at:%H:%M:%S}  error  {record.getMessage()}{cause}  (--verbose shows the details)"
        )
