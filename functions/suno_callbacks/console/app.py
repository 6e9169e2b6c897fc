"""The console's routes: a request (method, target, headers, form) in, an `Answer` out. No sockets here.

GET  /                      tasks, newest first, filtered (kind, status, ref, since), paged by cursor
GET  /tasks.json            the same list as JSON (the page's script redraws its table from it)
GET  /tasks/<task id>       one task: items, assets with their media, stages with bodies, events
GET  /operations            quarantine and DLQ
POST /operations/replay     replay one quarantined body, then back to /operations with a notice
POST /operations/redrive    move the DLQ back to the archive queue, likewise
GET  /static/<file>         the one script and the one stylesheet
"""

from __future__ import annotations

import json
import secrets
import threading
from collections import OrderedDict
from dataclasses import dataclass, field
from datetime import UTC, datetime
from importlib.resources import files
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

from suno_callbacks.cli.output import CliError
from suno_callbacks.console import pages
from suno_callbacks.console.data import ConsoleData, TaskFilters
from suno_callbacks.console.html import Markup
from suno_callbacks.console.pages import Notice
from suno_callbacks.console.security import Guard
from suno_callbacks.errors import StoreUnavailable

HTML = "text/html; charset=utf-8"
_STATIC = {"console.js": "text/javascript; charset=utf-8", "console.css": "text/css; charset=utf-8"}
_FILTERS = ("kind", "status", "ref", "since")
_NOTICES_KEPT = 20


@dataclass(frozen=True)
class Request:
    method: str
    target: str
    headers: dict[str, str]  # names in lower case
    form: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Answer:
    status: int
    body: bytes
    content_type: str = HTML
    location: str | None = None
    # The origins of the presigned URLs on the page: the only places its media may come from.
    media_origins: frozenset[str] = frozenset()


class ConsoleApp:
    def __init__(self, data: ConsoleData, guard: Guard, *, unreachable_hint: str) -> None:
        self.data = data
        self.guard = guard
        self.unreachable_hint = unreachable_hint
        self._static = {name: (files(__package__) / "static" / name).read_bytes() for name in _STATIC}
        self._notices: OrderedDict[str, Notice] = OrderedDict()
        self._notices_lock = threading.Lock()

    def handle(self, request: Request) -> Answer:
        if not self.guard.host_allowed(request.headers.get("host")):
            return _page(
                403, "Refused", "This console answers only to its own address (127.0.0.1 or localhost)."
            )
        try:
            return self._route(request)
        except StoreUnavailable as error:
            return _page(503, "The store does not answer", f"{error}: {self.unreachable_hint}.")

    def _route(self, request: Request) -> Answer:
        url = urlsplit(request.target)
        if request.method == "POST":
            return self._post(url.path, request)
        if request.method != "GET":
            return _page(405, "Not allowed", "The console takes GET, and POST for operations.")
        query = {name: values[0] for name, values in parse_qs(url.query).items()}
        if url.path.startswith("/tasks/"):
            return self._task(unquote(url.path.removeprefix("/tasks/")))
        if (name := url.path.removeprefix("/static/")) in _STATIC:
            return Answer(200, self._static[name], _STATIC[name])
        page = {"/": self._tasks, "/tasks.json": self._tasks_json, "/operations": self._operations}.get(
            url.path
        )
        return page(query) if page else _page(404, "Not found", "No such page: the tasks are at /.")

    def _post(self, path: str, request: Request) -> Answer:
        from_own_page = self.guard.post_allowed(request.headers)
        if not (from_own_page and self.guard.token_matches(request.form.get("token"))):
            return _page(403, "Refused", "Operations are taken only from the pages of this console.")
        if path == "/operations/replay":
            return self._replay(request.form.get("quarantine_id", ""))
        if path == "/operations/redrive":
            return self._redrive()
        return _page(404, "Not found", "There is nothing to post here.")

    # --- pages ----------------------------------------------------------------------------------------

    def _tasks(self, query: dict[str, str]) -> Answer:
        chosen = {name: query[name] for name in _FILTERS if query.get(name)}
        try:
            page = self.data.tasks(_filters(query))
        except ValueError as error:
            return _page(400, "Cannot list these tasks", str(error))
        return _html(200, pages.tasks_page(page, chosen, live="cursor" not in query))

    def _tasks_json(self, query: dict[str, str]) -> Answer:
        try:
            page = self.data.tasks(_filters(query))
        except ValueError as error:
            return _json(400, {"error": str(error)})
        return _json(200, pages.tasks_json(page))

    def _task(self, task_id: str) -> Answer:
        detail = self.data.task(task_id)
        if detail is None:
            return _page(404, "No such task", f"No callback was recorded for task {task_id!r}.")
        return _html(200, pages.task_page(detail), frozenset(detail.media_origins))

    def _operations(self, query: dict[str, str]) -> Answer:
        with self._notices_lock:
            notice = self._notices.get(query.get("notice", ""))
        return _html(200, pages.operations_page(self.data.operations(), self.guard.token, notice))

    # --- operations -----------------------------------------------------------------------------------

    def _replay(self, quarantine_id: str) -> Answer:
        try:
            notice = pages.replay_notice(self.data.replay(quarantine_id))
        except CliError as error:
            notice = Notice(str(error))
        return self._back_to_operations(notice)

    def _redrive(self) -> Answer:
        if not self.data.settings.dlq_url or not self.data.settings.queue_url:
            return self._back_to_operations(
                Notice("Redrive needs both the DLQ and the archive queue configured.")
            )
        moved = self.data.redrive()
        return self._back_to_operations(
            Notice(f"Moved {moved} message(s) from the DLQ back to the archive queue.")
        )

    def _back_to_operations(self, notice: Notice) -> Answer:
        """303 to the operations page, which shows the notice (kept here: a link cannot forge one)."""
        notice_id = secrets.token_urlsafe(12)
        with self._notices_lock:
            self._notices[notice_id] = notice
            while len(self._notices) > _NOTICES_KEPT:
                self._notices.popitem(last=False)
        return Answer(303, b"", location=f"/operations?notice={notice_id}")


def _filters(query: dict[str, str]) -> TaskFilters:
    since = query.get("since")
    if since and since not in pages.SINCE_CHOICES:
        raise ValueError(f"{since!r} is not a time filter: use one of {', '.join(pages.SINCE_CHOICES)}")
    return TaskFilters(
        kind=query.get("kind") or None,
        status=query.get("status") or None,
        ref=query.get("ref") or None,
        since=datetime.now(UTC) - pages.SINCE_CHOICES[since][1] if since else None,
        cursor=query.get("cursor") or None,
    )


def _html(status: int, page: Markup, media_origins: frozenset[str] = frozenset()) -> Answer:
    return Answer(status, page.encode(), HTML, media_origins=media_origins)


def _page(status: int, title: str, message: str) -> Answer:
    return _html(status, pages.message_page(title, message))


def _json(status: int, value: Any) -> Answer:
    # `<`, `>` and `&` escaped too: the JSON stays inert even where something reads it as HTML.
    text = json.dumps(value, ensure_ascii=False)
    for character, escaped in (("<", "\\u003c"), (">", "\\u003e"), ("&", "\\u0026")):
        text = text.replace(character, escaped)
    return Answer(status, text.encode(), "application/json; charset=utf-8")
