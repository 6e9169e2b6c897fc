"""The console's pages, built with `html.html` only: whatever a callback carries is text on the page.

A URL a callback carries is shown as text, never made a link (it could be `javascript:`); the only URLs
in `src` and `href` are the console's own paths and the presigned URLs of archived media.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import timedelta
from typing import Any
from urllib.parse import quote, urlencode

from suno_callbacks.cli.operations import DeadLetter, ReplayResult
from suno_callbacks.console.data import OperationsState, QuarantineEntry, TaskDetail
from suno_callbacks.console.html import Markup, html, join
from suno_callbacks.models.events import Asset, Outcome
from suno_callbacks.models.kinds import Kind, MediaType, Stage
from suno_callbacks.models.records import Item, TaskRecord
from suno_callbacks.reader import EventView, RedeliveryView, StageView, TaskPage

# The task list's time filter: how far back, as the form offers it.
SINCE_CHOICES = {
    "1h": ("last hour", timedelta(hours=1)),
    "24h": ("last 24 hours", timedelta(hours=24)),
    "7d": ("last 7 days", timedelta(days=7)),
    "30d": ("last 30 days", timedelta(days=30)),
}
_KIB = 1024


@dataclass(frozen=True)
class Notice:
    """What an operation did, shown once on the operations page."""

    text: str
    task_id: str | None = None


def task_path(task_id: str) -> str:
    return "/tasks/" + quote(task_id, safe="")


def layout(title: str, body: Markup) -> Markup:
    return html(
        """<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{title} · suno-callbacks</title>
<link rel="stylesheet" href="/static/console.css">
<script src="/static/console.js" defer></script>
</head>
<body>
<header><nav><strong>suno-callbacks</strong>
<a href="/">Tasks</a> <a href="/operations">Operations</a></nav></header>
<main>
{body}
</main>
</body>
</html>
""",
        title=title,
        body=body,
    )


# --- tasks --------------------------------------------------------------------------------------------


def tasks_page(page: TaskPage, chosen: dict[str, str], *, live: bool) -> Markup:
    """`chosen`: the filters as the form sent them (kind, status, ref, since); `live` on the first page."""
    query = urlencode({k: v for k, v in chosen.items() if v})
    more = (
        html('<a href="/?{query}">Next page</a>', query=urlencode({**chosen, "cursor": page.next_cursor}))
        if page.next_cursor
        else Markup("")
    )
    first = Markup("") if live else html('<a href="/?{query}">Newest</a>', query=query)
    table = html(
        """<table id="tasks"{live}>
<thead><tr><th>task</th><th>kind</th><th>status</th><th>outcome</th><th>ref</th><th>created</th></tr></thead>
<tbody>{rows}</tbody>
</table>""",
        live=html(' data-live="/tasks.json?{query}"', query=query) if live else Markup(""),
        rows=join(_task_row(t) for t in page.tasks),
    )
    empty = Markup("") if page.tasks else Markup('<p class="empty">No tasks match.</p>')
    return layout(
        "Tasks",
        html(
            '<h1>Tasks</h1>\n{form}\n{table}\n{empty}\n<p class="pages">{first} {more}</p>',
            form=_filter_form(chosen),
            table=table,
            empty=empty,
            first=first,
            more=more,
        ),
    )


def tasks_json(page: TaskPage) -> dict[str, Any]:
    """The list as `/tasks.json` sends it (the page's script redraws its table from it)."""
    return {
        "tasks": [dict(task.model_dump(mode="json"), url=task_path(task.task_id)) for task in page.tasks],
        "next_cursor": page.next_cursor,
    }


def _task_row(task: TaskRecord) -> Markup:
    return html(
        '<tr><td><a href="{path}">{id}</a></td><td>{kind}</td><td>{status}</td><td>{outcome}</td>'
        "<td>{ref}</td><td>{created}</td></tr>",
        path=task_path(task.task_id),
        id=task.task_id,
        kind=task.kind,
        status=task.status,
        outcome=task.outcome or "",
        ref=task.ref or "",
        created=task.created_at,
    )


def _filter_form(chosen: dict[str, str]) -> Markup:
    statuses = [("", "any status"), *((s.value, f"stage {s}") for s in Stage)]
    statuses += [(o.value, f"outcome {o}") for o in Outcome]
    return html(
        """<form class="filters" method="get" action="/">
<label>kind {kind}</label>
<label>status {status}</label>
<label>ref <input name="ref" value="{ref}" size="16"></label>
<label>created {since}</label>
<button type="submit">Filter</button>
</form>""",
        kind=_select("kind", [("", "any kind"), *((k.value, k.value) for k in Kind)], chosen.get("kind")),
        status=_select("status", statuses, chosen.get("status")),
        ref=chosen.get("ref", ""),
        since=_select(
            "since",
            [("", "any time"), *((value, label) for value, (label, _) in SINCE_CHOICES.items())],
            chosen.get("since"),
        ),
    )


def _select(name: str, options: Iterable[tuple[str, str]], chosen: str | None) -> Markup:
    return html(
        '<select name="{name}">{options}</select>',
        name=name,
        options=join(
            html(
                '<option value="{value}"{selected}>{label}</option>',
                value=value,
                label=label,
                selected=Markup(" selected") if value == (chosen or "") else Markup(""),
            )
            for value, label in options
        ),
    )


# --- one task -----------------------------------------------------------------------------------------


def task_page(detail: TaskDetail) -> Markup:
    view = detail.view
    summary = _fields(
        [
            ("kind", view.kind),
            ("ref", view.ref),
            ("status", view.status),
            ("outcome", view.outcome or "not settled yet"),
            ("created", view.created_at),
            ("updated", view.updated_at),
        ]
    )
    return layout(
        view.task_id,
        html(
            """<h1>Task <code>{task_id}</code></h1>
{summary}
<h2>Items</h2>
{items}
<h2>Assets</h2>
{assets}
<h2>Stages, in arrival order</h2>
{stages}
<h2>Events sent</h2>
{events}""",
            task_id=view.task_id,
            summary=summary,
            items=join(_item(i) for i in view.items) if view.items else Markup("<p>none</p>"),
            assets=_assets(view.assets, detail.media_urls),
            stages=join(_stage(s) for s in view.stages),
            events=_events(view.events),
        ),
    )


def _item(item: Item) -> Markup:
    return html(
        '<section class="item"><h3>{title}</h3>{fields}{lyrics}</section>',
        title=item.title or item.item_id,
        fields=_fields(
            [
                ("item", item.item_id),
                ("tags", item.tags),
                ("duration", None if item.duration is None else f"{item.duration:g} s"),
                ("status", item.status),
                ("error", item.error if item.error_code is None else f"{item.error} ({item.error_code})"),
                ("voice id", item.voice_id),
                ("phrase", item.validation_phrase),
                ("model", item.model),
                ("prompt", item.prompt),
                ("created", item.created_at),
                ("stems and links", _bullets(f"{name}: {url}" for name, url in item.links.items())),
                (
                    "MIDI instruments",
                    _bullets(f"{i.name}: {i.note_count} notes" for i in item.instruments or []),
                ),
                ("other fields", _pretty(item.extra) if item.extra else None),
            ]
        ),
        lyrics=html('<pre class="lyrics">{text}</pre>', text=item.lyrics) if item.lyrics else Markup(""),
    )


def _assets(assets: list[Asset], media_urls: dict[tuple[str, str], str]) -> Markup:
    if not assets:
        return Markup("<p>none</p>")
    rows = join(
        html(
            '<tr><td>{item}</td><td>{field}</td><td>{type}</td><td class="{state}">{state}</td>'
            "<td>{size}</td><td><code>{sha}</code></td><td>{expires}</td><td>{reason}</td><td>{media}</td></tr>",
            item=a.item_id,
            field=a.field,
            type=a.content_type or a.media_type or "",
            state=a.state,
            size=_size(a.bytes),
            sha=a.sha256 or "",
            expires=a.source_expires_at,
            reason=a.reason or "",
            media=_media(a, media_urls.get((a.item_id, a.field))),
        )
        for a in assets
    )
    return html(
        """<table class="assets">
<thead><tr><th>item</th><th>field</th><th>type</th><th>state</th><th>size</th><th>SHA-256</th>
<th>source expires</th><th>failure reason</th><th>file</th></tr></thead>
<tbody>{rows}</tbody>
</table>""",
        rows=rows,
    )


def _media(asset: Asset, url: str | None) -> Markup:
    if url is None:
        return Markup("")
    label = f"{asset.item_id} {asset.field}"
    if asset.media_type in (MediaType.AUDIO, MediaType.WAV):
        return html(
            '<audio controls preload="metadata" src="{url}" aria-label="{label}"></audio>',
            url=url,
            label=label,
        )
    if asset.media_type is MediaType.VIDEO:
        return html(
            '<video controls preload="metadata" src="{url}" aria-label="{label}"></video>',
            url=url,
            label=label,
        )
    if asset.media_type is MediaType.IMAGE:
        return html('<img src="{url}" alt="{label}">', url=url, label=label)
    return html('<a href="{url}">download</a>', url=url)


def _stage(stage: StageView) -> Markup:
    return html(
        """<section class="stage"><h3>{stage} · {kind}{ref}</h3>
{fields}
<details open><summary>callback body</summary><pre>{body}</pre></details>
{redeliveries}
</section>""",
        stage=stage.stage,
        kind=stage.kind,
        ref=f" · ref {stage.ref}" if stage.ref else "",
        fields=_fields(
            [
                ("received", stage.received_at),
                ("code", stage.code),
                ("msg", stage.msg),
                ("error", stage.error),
                ("duplicates", stage.duplicates),
                (
                    "settled",
                    f"{stage.settlement or 'settled'} at {stage.settled_at}" if stage.settled_at else None,
                ),
                ("attempts", stage.attempts),
                (
                    "last failure",
                    f"{stage.last_failure} ({stage.last_failure_at})" if stage.last_failure else None,
                ),
                ("warnings", _bullets(stage.warnings)),
            ]
        ),
        body=_pretty(stage.body),
        redeliveries=_redeliveries(stage.redeliveries),
    )


def _redeliveries(redeliveries: list[RedeliveryView]) -> Markup:
    if not redeliveries:
        return Markup("")
    return html(
        '<h4>Redeliveries</h4><ol class="redeliveries">{entries}</ol>',
        entries=join(
            html(
                "<li>{at} · body SHA-256 <code>{sha}</code>{body}</li>",
                at=r.received_at,
                sha=r.body_sha256,
                body=html("<pre>{b}</pre>", b=_pretty(r.body)) if r.body is not None else " · same body",
            )
            for r in redeliveries
        ),
    )


def _events(events: list[EventView]) -> Markup:
    if not events:
        return Markup("<p>none yet</p>")
    return html(
        """<table class="events">
<thead><tr><th>event</th><th>status</th><th>sent</th><th>message</th></tr></thead>
<tbody>{rows}</tbody>
</table>""",
        rows=join(
            html(
                "<tr><td>{event}</td><td>{status}</td><td>{at}</td>"
                "<td><details><summary>{event_id}</summary><pre>{message}</pre></details></td></tr>",
                event=e.event,
                status=e.status,
                at=e.notified_at,
                event_id=e.event_id,
                message=_pretty(e.message),
            )
            for e in events
        ),
    )


# --- operations ---------------------------------------------------------------------------------------


def operations_page(state: OperationsState, token: str, notice: Notice | None) -> Markup:
    return layout(
        "Operations",
        html(
            """<h1>Operations</h1>
{notice}
<h2>Quarantine ({count})</h2>
<p>Callbacks that were authenticated but could not be recorded, with why. Replay records one again
with this version's model.</p>
{quarantine}
<h2>Dead-letter queue</h2>
{dlq}""",
            notice=_notice(notice),
            count=len(state.quarantine),
            quarantine=join(_quarantined(q, token, can_replay=state.can_replay) for q in state.quarantine)
            if state.quarantine
            else Markup("<p>none</p>"),
            dlq=_dead_letters(state, token),
        ),
    )


def replay_notice(result: ReplayResult) -> Notice:
    said = {
        "received": "recorded as a new callback; archive settles it shortly",
        "duplicate": "already recorded",
        "quarantined": "still refused",
        "failed": "could not be tried",
    }.get(result.answer, result.answer)
    reason = f": {result.reason}" if result.reason else ""
    return Notice(f"Replayed {result.quarantine_id}: {said}{reason}.", result.task_id)


def _notice(notice: Notice | None) -> Markup:
    if notice is None:
        return Markup("")
    link = (
        html(' <a href="{path}">Task {id}</a>', path=task_path(notice.task_id), id=notice.task_id)
        if notice.task_id
        else Markup("")
    )
    return html('<p class="notice" role="status">{text}{link}</p>', text=notice.text, link=link)


def _quarantined(quarantined: QuarantineEntry, token: str, *, can_replay: bool) -> Markup:
    q = quarantined.entry
    form = (
        html(
            """<form method="post" action="/operations/replay"
 data-confirm="Replay quarantined callback {id}?">
<input type="hidden" name="token" value="{token}">
<input type="hidden" name="quarantine_id" value="{id}">
<button type="submit">{label}</button>
</form>""",
            id=q.quarantine_id,
            token=token,
            label="Replay again" if q.replayed_at else "Replay",
        )
        if can_replay
        else Markup("<p>Replay needs the archive queue (SUNO_CALLBACKS_QUEUE_URL).</p>")
    )
    replay_task = (
        html('<a href="{path}">{id}</a>', path=task_path(q.replay_task_id), id=q.replay_task_id)
        if q.replay_task_id
        else None
    )
    return html(
        """<section class="quarantined" id="q-{id}"><h3>{kind}{ref} · <code>{id}</code></h3>
{fields}
<details open><summary>body</summary><pre>{body}</pre></details>
{form}
</section>""",
        id=q.quarantine_id,
        kind=q.kind,
        ref=f" · ref {q.ref}" if q.ref else "",
        fields=_fields(
            [
                ("reason", q.reason),
                ("received", q.received_at),
                ("size", _size(q.body_bytes)),
                ("duplicates", q.duplicates),
                ("task", q.task_id),
                ("stage", q.stage),
                ("replayed", q.replayed_at),
                ("replayed as task", replay_task),
            ]
        ),
        body=_pretty(quarantined.body),
        form=form,
    )


def _dead_letters(state: OperationsState, token: str) -> Markup:
    dlq = state.dead_letters
    if dlq is None:
        return Markup("<p>No DLQ configured (SUNO_CALLBACKS_DLQ_URL, or --stack NAME).</p>")
    form = (
        html(
            """<form method="post" action="/operations/redrive"
 data-confirm="Move every DLQ message back to the archive queue?">
<input type="hidden" name="token" value="{token}">
<button type="submit">Redrive</button>
</form>""",
            token=token,
        )
        if state.can_redrive
        else Markup("<p>Redrive needs the archive queue (SUNO_CALLBACKS_QUEUE_URL).</p>")
    )
    messages = (
        html(
            """<table class="dead-letters">
<thead><tr><th>message</th><th>group</th><th>receives</th><th>sent</th><th>archive request</th></tr></thead>
<tbody>{rows}</tbody>
</table>""",
            rows=join(_dead_letter(m) for m in dlq.messages),
        )
        if dlq.messages
        else Markup("")
    )
    return html(
        '<p class="depth">{waiting} waiting, {in_flight} in flight.</p>\n{messages}\n{form}',
        waiting=dlq.waiting,
        in_flight=dlq.in_flight,
        messages=messages,
        form=form,
    )


def _dead_letter(message: DeadLetter) -> Markup:
    request = message.request
    what = (
        html(
            '<a href="{path}">{task}</a> {stage} {kind}',
            path=task_path(request.task_id),
            task=request.task_id,
            stage=request.stage,
            kind=request.kind,
        )
        if request is not None
        else html("<pre>{body}</pre>", body=message.body)
    )
    return html(
        "<tr><td><code>{id}</code></td><td>{group}</td><td>{count}</td><td>{sent}</td><td>{what}</td></tr>",
        id=message.message_id,
        group=message.group_id or "",
        count=message.receive_count,
        sent=message.sent_at,
        what=what,
    )


# --- errors -------------------------------------------------------------------------------------------


def message_page(title: str, message: str) -> Markup:
    return layout(title, html("<h1>{title}</h1>\n<p>{message}</p>", title=title, message=message))


# --- pieces -------------------------------------------------------------------------------------------


def _fields(pairs: Iterable[tuple[str, object]]) -> Markup:
    """A definition list of the pairs that have a value."""
    rows = [
        html("<dt>{name}</dt><dd>{value}</dd>", name=name, value=value)
        for name, value in pairs
        if value is not None and value != ""
    ]
    return html("<dl>{rows}</dl>", rows=join(rows))


def _bullets(texts: Iterable[str]) -> Markup | None:
    """A list of texts, or None (not shown) when there are none."""
    items = [html("<li>{text}</li>", text=text) for text in texts]
    return html("<ul>{items}</ul>", items=join(items)) if items else None


def _pretty(value: Any) -> str:
    if isinstance(value, str):
        return value
    return json.dumps(value, indent=2, ensure_ascii=False, sort_keys=False)


def _size(count: int | None) -> str:
    if count is None:
        return ""
    if count < _KIB:
        return f"{count} B"
    return f"{count / _KIB:,.1f} KiB ({count:,} B)"
