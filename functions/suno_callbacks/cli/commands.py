"""`suno-callbacks`: thin commands over the reader API, the operator actions and local mode.

Every command reads its configuration from `--stack NAME` or the environment (cli/config.py), prints a
table for people or, with `--json`, the documented JSON (README "CLI"), and answers an error with what to
do next (exit status 1).
"""

from __future__ import annotations

import argparse
import os
import re
import sys
from collections.abc import Callable, Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path

from suno_callbacks.cli import operations
from suno_callbacks.cli.config import load_cli_settings, require
from suno_callbacks.cli.output import CliError, print_json, progress, table
from suno_callbacks.errors import StoreUnavailable
from suno_callbacks.models.kinds import Kind, Stage
from suno_callbacks.models.settings import CliSettings
from suno_callbacks.reader import NotConfigured, Reader, TaskView
from suno_callbacks.timestamps import from_iso

Command = Callable[[argparse.Namespace], int]
_RELATIVE = re.compile(r"^(\d+)([mhd])$")
_UNITS = {"m": "minutes", "h": "hours", "d": "days"}


def main(argv: Sequence[str] | None = None) -> int:
    parser = _parser()
    args = parser.parse_args(argv)
    command: Command = args.command
    try:
        return command(args)
    except (CliError, NotConfigured) as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    except StoreUnavailable as error:
        endpoint = os.environ.get("AWS_ENDPOINT_URL")
        where = (
            f"is `suno-callbacks local` still running at {endpoint}? Start it again and paste its new exports"
            if endpoint
            else "check your AWS credentials, region and --stack"
        )
        print(f"error: {error}: {where}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="suno-callbacks", description="Signed callback URLs, archived tasks and local mode."
    )
    parser.add_argument(
        "--stack", metavar="NAME", help="read the deployed stack's outputs (else the environment)"
    )
    commands = parser.add_subparsers(required=True, metavar="COMMAND")

    local = commands.add_parser("local", help="run the whole pipeline on this machine (moto server)")
    local.add_argument("--port", type=int, default=8787, help="callback listener port (0: a free one)")
    local.add_argument(
        "--allow-media-host",
        action="append",
        metavar="HOST",
        help="host whose media may be fetched over plain http from loopback (default: 127.0.0.1)",
    )
    local.add_argument("--events-file", type=Path, default=Path("suno-callbacks-events.jsonl"))
    local.set_defaults(command=_local)

    url = commands.add_parser("url", help="print a signed callback URL")
    url.add_argument("kind", type=Kind, metavar="KIND", help=", ".join(k.value for k in Kind))
    url.add_argument("--ref", help="your own job id, stored on the task")
    url.set_defaults(command=_url)

    task = commands.add_parser("task", help="show one task: stages, items, assets")
    task.add_argument("task_id", metavar="TASK_ID")
    task.add_argument("--json", action="store_true")
    task.set_defaults(command=_task)

    tasks = commands.add_parser("tasks", help="list tasks, newest first (through indexes, never a Scan)")
    tasks.add_argument("--kind", type=Kind)
    tasks.add_argument("--status", type=Stage)
    tasks.add_argument("--since", type=_since, help="ISO 8601 time, or 30m / 12h / 7d ago")
    tasks.add_argument("--ref")
    tasks.add_argument("--limit", type=int, default=50)
    tasks.add_argument("--json", action="store_true")
    tasks.set_defaults(command=_tasks)

    quarantine = commands.add_parser("quarantine", help="list quarantined callbacks")
    quarantine.add_argument("--json", action="store_true")
    quarantine.set_defaults(command=_quarantine)

    replay = commands.add_parser("replay", help="record quarantined callbacks again (after a fix)")
    replay.add_argument("ids", nargs="*", metavar="ID", help="quarantine ids (default: all not yet replayed)")
    replay.set_defaults(command=_replay)

    redrive = commands.add_parser("redrive", help="move the DLQ's messages back to the archive queue")
    redrive.set_defaults(command=_redrive)

    demo = commands.add_parser("demo", help="play the seed callbacks against local mode and show the result")
    demo.set_defaults(command=_demo)
    return parser


# --- commands -----------------------------------------------------------------------------------------


def _local(args: argparse.Namespace) -> int:
    from suno_callbacks.local.console import run_local

    return run_local(
        port=args.port,
        media_hosts=tuple(args.allow_media_host or ("127.0.0.1",)),
        events_file=args.events_file,
    )


def _url(args: argparse.Namespace) -> int:
    print(_reader(args).callback_url(args.kind, ref=args.ref))
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
        print(_task_text(view))
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
    return 0 if all(r.answer != "quarantined" for r in results) else 1


def _redrive(args: argparse.Namespace) -> int:
    settings = _settings(args)
    moved = operations.redrive(
        require(settings.dlq_url, "DLQ_URL"), require(settings.queue_url, "QUEUE_URL"), on_progress=progress
    )
    print(f"\nmoved {moved} message(s) from the DLQ back to the archive queue")
    return 0


def _demo(args: argparse.Namespace) -> int:
    from suno_callbacks.local.demo import run_demo

    reader = _reader(args)
    views = run_demo(reader)
    for view in views:
        print(_task_text(view), end="\n\n")
    return 0


# --- helpers ------------------------------------------------------------------------------------------


def _settings(args: argparse.Namespace) -> CliSettings:
    return load_cli_settings(args.stack)


def _reader(args: argparse.Namespace) -> Reader:
    return Reader(_settings(args))


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


def _task_text(view: TaskView) -> str:
    head = table(
        ["task", "kind", "status", "outcome", "ref", "created", "updated"],
        [(view.task_id, view.kind, view.status, view.outcome, view.ref, view.created_at, view.updated_at)],
    )
    stages = table(
        ["stage", "code", "received", "duplicates", "msg"],
        [(s.stage, s.code, s.received_at, s.duplicates, s.msg) for s in view.stages],
    )
    items = table(
        ["item", "title", "duration", "tags"], [(i.item_id, i.title, i.duration, i.tags) for i in view.items]
    )
    assets = table(
        ["item", "field", "state", "bytes", "sha256", "s3 uri / reason"],
        [
            (a.item_id, a.field, a.state, a.bytes, (a.sha256 or "")[:16], a.s3_uri or a.reason)
            for a in view.assets
        ],
    )
    return "\n\n".join([head, "Stages\n" + stages, "Items\n" + items, "Assets\n" + assets])
