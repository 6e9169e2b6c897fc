"""`suno-callbacks`: thin commands over the reader API, the operator actions and local mode.

Every command reads its configuration from `--stack NAME` or the environment (cli/config.py), prints a
table for people or, with `--json`, the documented JSON (README "CLI"), and answers an error with one
`error: ...` line on stderr that says what to do next: exit status 1, or 2 for a command line it cannot
parse. When the reader of its output goes away (`| head`), it stops quietly with exit status 0.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import re
import sys
from collections.abc import Callable, Sequence
from datetime import UTC, datetime, timedelta
from importlib.metadata import version
from pathlib import Path
from typing import NoReturn, TypeVar
from urllib.parse import urlsplit

from suno_callbacks.cli import operations, trigger
from suno_callbacks.cli.config import load_cli_settings, load_url_settings, require
from suno_callbacks.cli.output import CliError, print_json, progress, safe_stdout, shown_safely, table
from suno_callbacks.cli.views import task_text
from suno_callbacks.dal.secrets import load_signing_keys
from suno_callbacks.errors import StoreUnavailable
from suno_callbacks.local.state import DEFAULT_STATE_DIR, SECRET_ENV
from suno_callbacks.logic.signing import REF_PATTERN, signed_callback_url
from suno_callbacks.models.events import AssetState, Outcome
from suno_callbacks.models.kinds import Kind, Stage
from suno_callbacks.models.settings import CliSettings
from suno_callbacks.reader import NotConfigured, Reader, parse_kind, parse_status
from suno_callbacks.timestamps import from_iso

Command = Callable[[argparse.Namespace], int]
T = TypeVar("T")

EXIT_ERROR = 1
EXIT_USAGE = 2
EXIT_INTERRUPTED = 130

_RELATIVE = re.compile(r"^(\d+)([mhd])$")
_UNITS = {"m": "minutes", "h": "hours", "d": "days"}
_MAX_PORT = 65535


class UsageError(CliError):
    """A command line argparse cannot parse; printed like every other error, exit status 2."""


def main(argv: Sequence[str] | None = None) -> int:
    try:
        with safe_stdout():
            status = _run(argv)
            sys.stdout.flush()  # here, not at exit, so that a closed pipe is caught below
        return status
    except BrokenPipeError:
        # The reader of our output (`| head`) has what it wanted: success, as argparse's own --help ends in
        # the same case, and a `set -o pipefail` script does not fail for it. Python flushes stdout once more
        # at exit; pointed at /dev/null, that flush cannot fail and print a traceback.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0


def _run(argv: Sequence[str] | None) -> int:
    try:
        args = build_parser().parse_args(argv)
    except SystemExit:  # --help and --version print, then stop the parser
        return 0
    except UsageError as error:
        print(f"error: {shown_safely(str(error))}", file=sys.stderr)
        return EXIT_USAGE
    command: Command = args.command
    try:
        return command(args)
    except (CliError, NotConfigured) as error:
        print(f"error: {shown_safely(str(error))}", file=sys.stderr)
        return EXIT_ERROR
    except StoreUnavailable as error:
        endpoint = os.environ.get("AWS_ENDPOINT_URL")
        where = (
            f"is `suno-callbacks local` still running at {endpoint}? Start it again and paste its new exports"
            if endpoint
            else "check your AWS credentials, region and --stack"
        )
        print(f"error: {shown_safely(str(error))}: {where}", file=sys.stderr)
        return EXIT_ERROR
    except KeyboardInterrupt:
        return EXIT_INTERRUPTED


class _Parser(argparse.ArgumentParser):
    """argparse, but a mistake on the command line is one `error:` line naming the help to read, not the
    usage text (the subcommands' parsers are of this class too)."""

    def error(self, message: str) -> NoReturn:
        raise UsageError(f"{message} (see `{self.prog} --help`)")


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog="suno-callbacks", description="Signed callback URLs, archived tasks and local mode."
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {version('suno-callbacks')}")
    parser.add_argument(
        "--stack", metavar="NAME", help="read the deployed stack's outputs (else the environment)"
    )
    commands = parser.add_subparsers(
        required=True, metavar="COMMAND", help="what to do; `suno-callbacks COMMAND --help` for its options"
    )

    local = commands.add_parser(
        "local",
        help="run the whole pipeline on this machine (moto server)",
        description="Run the whole pipeline on this machine: moto server as AWS, the real handlers, "
        "callbacks over HTTP. It prints one line per request and per task event; the store lives in memory "
        "and is gone when it stops (Ctrl-C). The signing secret is kept in the state folder, so signed URLs "
        f"keep working after a restart ({SECRET_ENV} overrides it).",
    )
    local.add_argument(
        "--port", type=_port, default=8787, help="callback listener port (default %(default)s; 0: a free one)"
    )
    local.add_argument(
        "--allow-media-host",
        action="append",
        metavar="HOST",
        help="host whose media may be fetched over plain http from loopback (default: 127.0.0.1)",
    )
    local.add_argument(
        "--events-file",
        type=Path,
        default=Path("suno-callbacks-events.jsonl"),
        metavar="PATH",
        help="write each task event to this file as a JSON line; emptied at start, so it holds this run's "
        "events only (default %(default)s)",
    )
    local.add_argument(
        "--forward-to",
        type=_http_url,
        metavar="URL",
        help="POST each task event to URL as an SNS HTTP notification (as a subscription would), retrying "
        "a failed delivery 3 times (after 0.5, 1, 2 s)",
    )
    local.add_argument(
        "--state-dir",
        type=Path,
        default=DEFAULT_STATE_DIR,
        metavar="PATH",
        help="folder of what survives a restart: local.json with the signing secret (default %(default)s)",
    )
    local.add_argument(
        "--reset", action="store_true", help="forget the saved signing secret and make a new one"
    )
    local.add_argument(
        "--verbose",
        action="store_true",
        help="also print the handlers' JSON logs (Powertools, as in CloudWatch)",
    )
    local.set_defaults(command=_local)

    _add_reading_commands(commands)
    _add_operator_commands(commands)
    return parser


def _add_reading_commands(commands: argparse._SubParsersAction[_Parser]) -> None:
    url = commands.add_parser("url", help="print a signed callback URL (needs no table)")
    url.add_argument("kind", type=_argument(parse_kind), metavar="KIND", help=f"one of {', '.join(Kind)}")
    url.add_argument(
        "--ref", type=_ref, help="your own job id, stored on the task (1-128 of A-Z a-z 0-9 ._:@~-)"
    )
    url.set_defaults(command=_url)

    task = commands.add_parser("task", help="show one task: stages, items, assets")
    task.add_argument("task_id", metavar="TASK_ID", help="the provider's task id")
    task.add_argument("--json", action="store_true", help="print the documented JSON instead of tables")
    task.set_defaults(command=_task)

    tasks = commands.add_parser("tasks", help="list tasks, newest first (through indexes, never a Scan)")
    tasks.add_argument("--kind", type=_argument(parse_kind), help=f"only this kind: {', '.join(Kind)}")
    tasks.add_argument(
        "--status",
        type=_argument(parse_status),
        help=f"a stage ({', '.join(Stage)}: the STATUS column, the highest callback received) or an outcome "
        f"({', '.join(Outcome)}: the OUTCOME column, how the task ended once archived)",
    )
    tasks.add_argument("--since", type=_since, metavar="TIME", help="ISO 8601 time, or 30m / 12h / 7d ago")
    tasks.add_argument(
        "--ref", type=_ref, help="only tasks whose callback URL carried this ref (oldest first)"
    )
    tasks.add_argument(
        "--limit", type=_limit, default=50, metavar="N", help="at most N tasks (default %(default)s)"
    )
    tasks.add_argument("--json", action="store_true", help="print the documented JSON instead of a table")
    tasks.set_defaults(command=_tasks)

    demo = commands.add_parser("demo", help="play the seed callbacks against local mode and show the result")
    demo.set_defaults(command=_demo)


def _add_operator_commands(commands: argparse._SubParsersAction[_Parser]) -> None:
    trigger = commands.add_parser(
        "trigger",
        help="send a kind's example callback (a new task each time), like `stripe trigger`",
        description="Send the provider's example callback for KIND to local mode (its export lines in "
        "this shell; media links then point at sample files this command serves, and it waits until the "
        "task is archived) or to --url.",
    )
    trigger.add_argument("kind", type=_argument(parse_kind), metavar="KIND", help=f"one of {', '.join(Kind)}")
    trigger.add_argument(
        "--outcome",
        metavar="OUTCOME",
        help="which example: success (default where there is one), failure, first, text, partial, "
        "market-success, ... (an unknown one lists the kind's)",
    )
    trigger.add_argument("--task-id", metavar="ID", help="the task id to send (default: a new one)")
    trigger.add_argument("--ref", type=_ref, help="your own job id, signed into the callback URL")
    trigger.add_argument(
        "--url",
        metavar="URL",
        help="send to this callback URL as it is (a deployed stack's, another receiver)",
    )
    trigger.set_defaults(command=_trigger)

    quarantine = commands.add_parser("quarantine", help="list quarantined callbacks, or show one's body")
    quarantine.add_argument(
        "--json", action="store_true", help="print the documented JSON instead of a table"
    )
    quarantine.set_defaults(command=_quarantine)
    quarantine_commands = quarantine.add_subparsers(metavar="ACTION", help="show ID: one entry and its body")
    show = quarantine_commands.add_parser(
        "show", help="one quarantined callback: why, and its body as it came"
    )
    show.add_argument("quarantine_id", metavar="ID", help="a quarantine id (`suno-callbacks quarantine`)")
    show.add_argument("--json", action="store_true", help="print the entry as JSON, its body under `body`")
    show.set_defaults(command=_quarantine_show)

    dlq = commands.add_parser(
        "dlq", help="the dead-letter queue: its depth and what waits in it (left in place)"
    )
    dlq.add_argument(
        "--limit", type=_limit, default=10, metavar="N", help="show at most N messages (default %(default)s)"
    )
    dlq.add_argument("--json", action="store_true", help="print the documented JSON instead of a table")
    dlq.set_defaults(command=_dlq)

    replay = commands.add_parser("replay", help="record quarantined callbacks again (after a fix)")
    replay.add_argument("ids", nargs="*", metavar="ID", help="quarantine ids (default: all not yet replayed)")
    replay.set_defaults(command=_replay)

    redrive = commands.add_parser("redrive", help="move the DLQ's messages back to the archive queue")
    redrive.set_defaults(command=_redrive)

    console = commands.add_parser(
        "console", help="serve the console (tasks, files, quarantine, DLQ) on 127.0.0.1"
    )
    console.add_argument("--port", type=_port, default=0, help="port (default: a free one)")
    console.add_argument("--open", action="store_true", help="open it in your web browser")
    console.set_defaults(command=_console)


# --- commands -----------------------------------------------------------------------------------------


def _local(args: argparse.Namespace) -> int:
    from suno_callbacks.local.console import run_local

    return run_local(
        port=args.port,
        media_hosts=tuple(args.allow_media_host or ("127.0.0.1",)),
        events_file=args.events_file,
        state_dir=args.state_dir,
        reset=args.reset,
        forward_to=args.forward_to,
        verbose=args.verbose,
    )


def _url(args: argparse.Namespace) -> int:
    settings = load_url_settings(args.stack)
    keys = load_signing_keys(settings.secret_id, max_age_seconds=300)
    print(signed_callback_url(settings.base_url, args.kind.value, keys, ref=args.ref))
    return 0


def _task(args: argparse.Namespace) -> int:
    view = _reader(args).get_task(args.task_id)
    if view is None:
        raise CliError(
            f"no task {args.task_id!r}: check the id (`suno-callbacks tasks` lists recent ones) "
            "and that this shell points at the right stack"
        )
    if args.json:
        print_json(view)
    else:
        print(task_text(view))
    return 0


def _tasks(args: argparse.Namespace) -> int:
    reader = _reader(args)
    if args.ref:
        found = reader.find_tasks_by_ref(
            args.ref, kind=args.kind, status=args.status, since=args.since, limit=args.limit
        )
    else:
        found = reader.list_tasks(kind=args.kind, status=args.status, since=args.since, limit=args.limit)
    if args.json:
        print_json(found)
    else:
        rows = [(t.task_id, t.kind, t.status, t.outcome, t.ref, t.created_at) for t in found]
        print(table(["task", "kind", "status", "outcome", "ref", "created"], rows))
    return 0


def _quarantine(args: argparse.Namespace) -> int:
    listed = operations.list_quarantine(_settings(args))
    if args.json:
        print_json(listed)
    else:
        rows = [(q.quarantine_id, q.kind, q.reason, q.ref, q.received_at, q.replayed_at) for q in listed]
        print(table(["id", "kind", "reason", "ref", "received", "replayed"], rows))
    return 0


def _quarantine_show(args: argparse.Namespace) -> int:
    entry, body = operations.quarantined_body(_settings(args), args.quarantine_id)
    text = body.decode("utf-8", "replace")
    if args.json:
        print(json.dumps({**entry.model_dump(mode="json", exclude_none=True), "body": text}, indent=2))
        return 0
    print(
        table(
            ["id", "kind", "reason", "ref", "received", "bytes", "replayed"],
            [
                (
                    entry.quarantine_id,
                    entry.kind,
                    entry.reason,
                    entry.ref,
                    entry.received_at,
                    entry.body_bytes,
                    entry.replayed_at,
                )
            ],
        )
    )
    with contextlib.suppress(ValueError):  # not JSON: shown as it came
        text = json.dumps(json.loads(body), indent=2, ensure_ascii=False)
    print(f"\nBody\n{text}")
    return 0


def _dlq(args: argparse.Namespace) -> int:
    settings = _settings(args)
    letters = operations.dead_letters(require(settings.dlq_url, "DLQ_URL"), limit=args.limit)
    if args.json:
        print_json(letters)
        return 0
    print(f"{letters.waiting} message(s) waiting, {letters.in_flight} in flight")
    rows = [
        (
            m.request.task_id if m.request else None,
            m.request.stage if m.request else None,
            m.request.kind if m.request else None,
            m.receive_count,
            m.sent_at,
            None if m.request else (m.body or "")[:60],
        )
        for m in letters.messages
    ]
    if rows:
        print(table(["task", "stage", "kind", "tries", "sent", "body"], rows))
        print("\n`suno-callbacks redrive` moves them back to the archive queue (after a fix)")
    return 0


def _trigger(args: argparse.Namespace) -> int:
    from suno_callbacks.local.samples import sample_media

    kind = args.kind
    outcome = args.outcome or trigger.default_outcome(kind)
    trigger.check_outcome(kind, outcome)
    task_id = args.task_id or trigger.new_task_id(kind)
    if args.url:
        if args.ref:
            raise CliError("--ref is signed into the URL: with --url, give a URL that carries it")
        answer = trigger.send(args.url, trigger.example_body(kind, outcome, task_id=task_id, media_base=None))
        print(_answer_line(kind, outcome, answer))
        return 0 if answer.status < 300 else 1
    reader = _reader(args)
    url = reader.callback_url(kind, ref=args.ref)
    if not trigger.is_local(url):
        answer = trigger.send(url, trigger.example_body(kind, outcome, task_id=task_id, media_base=None))
        print(_answer_line(kind, outcome, answer))
        return 0 if answer.status < 300 else 1
    with sample_media() as media_base:
        answer = trigger.send(
            url, trigger.example_body(kind, outcome, task_id=task_id, media_base=media_base)
        )
        print(_answer_line(kind, outcome, answer))
        if answer.status >= 300 or answer.body.get("status") != "received":
            return 0 if answer.status < 300 else 1
        view = trigger.wait_settled(reader, task_id, answer.body["stage"])
    archived = sum(a.state == AssetState.ARCHIVED for a in view.assets)
    failed = len(view.assets) - archived
    ended = view.outcome or f"{view.status} (not ended: more callbacks follow)"
    print(
        f"task {task_id} {ended}: {archived} file(s) archived, {failed} failed "
        f"(`suno-callbacks task {task_id}` shows it)"
    )
    return 0


def _answer_line(kind: Kind, outcome: str, answer: trigger.Answer) -> str:
    fields = " ".join(f"{name}={value}" for name, value in answer.body.items() if name != "status")
    return f"{kind.value} {outcome} -> {answer.status} {answer.body.get('status', '')}  {fields}".rstrip()


def _replay(args: argparse.Namespace) -> int:
    settings = _settings(args)
    results = operations.replay(settings, ids=args.ids)
    if not results:
        print("nothing to replay: `suno-callbacks quarantine` lists what is quarantined")
        return 0
    print(
        table(
            ["id", "answer", "task", "reason"],
            [(r.quarantine_id, r.answer, r.task_id, r.reason) for r in results],
        )
    )
    # Still refused, or not tried (its own cause in the reason column): the operator has something to do.
    return 0 if all(r.answer in ("received", "duplicate") for r in results) else 1


def _redrive(args: argparse.Namespace) -> int:
    settings = _settings(args)
    moved = operations.redrive(
        require(settings.dlq_url, "DLQ_URL"), require(settings.queue_url, "QUEUE_URL"), on_progress=progress
    )
    print(f"\nmoved {moved} message(s) from the DLQ back to the archive queue")
    return 0


def _console(args: argparse.Namespace) -> int:
    from suno_callbacks.console.run import run_console

    return run_console(_settings(args), port=args.port, open_browser=args.open)


def _demo(args: argparse.Namespace) -> int:
    from suno_callbacks.local.demo import run_demo

    reader = _reader(args)
    views = run_demo(reader)
    for view in views:
        print(task_text(view), end="\n\n")
    return 0


# --- helpers ------------------------------------------------------------------------------------------


def _settings(args: argparse.Namespace) -> CliSettings:
    return load_cli_settings(args.stack)


def _reader(args: argparse.Namespace) -> Reader:
    return Reader(_settings(args))


def _argument(parse: Callable[[str], T]) -> Callable[[str], T]:
    """An argparse type from a parser whose ValueError names the valid values: argparse prints that
    message (for a plain ValueError it would print only "invalid value")."""

    def convert(text: str) -> T:
        try:
            return parse(text)
        except ValueError as error:
            raise argparse.ArgumentTypeError(str(error)) from None

    return convert


def _port(text: str) -> int:
    if not text.isdigit() or int(text) > _MAX_PORT:
        raise argparse.ArgumentTypeError(f"{text!r} is not a port: use 1-{_MAX_PORT}, or 0 for a free one")
    return int(text)


def _http_url(text: str) -> str:
    parts = urlsplit(text)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise argparse.ArgumentTypeError(f"{text!r} is not a URL: use http://HOST[:PORT]/PATH or https://…")
    return text


def _limit(text: str) -> int:
    if not text.isdigit() or int(text) < 1:
        raise argparse.ArgumentTypeError(f"{text!r} is not a limit: use a whole number, 1 or more")
    return int(text)


def _ref(text: str) -> str:
    if not REF_PATTERN.match(text):
        raise argparse.ArgumentTypeError(
            f"{text!r} is not a ref: use 1-128 letters, digits and . _ : @ ~ - (no spaces)"
        )
    return text


def _since(text: str) -> datetime:
    if match := _RELATIVE.match(text):
        amount, unit = match.groups()
        return datetime.now(UTC) - timedelta(**{_UNITS[unit]: int(amount)})
    try:
        return from_iso(text)
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"{text!r} is not a time: use ISO 8601 (2026-11-22T05:00:00Z) or 30m, 12h, 7d"
        ) from None
