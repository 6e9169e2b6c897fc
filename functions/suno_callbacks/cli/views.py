"""What `suno-callbacks task` shows people: the task, its stages (and why one still waits), what the task
produced in the words of its kind (lyrics, a voice id, a phrase, stems, MIDI instruments, tracks), and
its files."""

from __future__ import annotations

from suno_callbacks.cli.output import table
from suno_callbacks.models.kinds import Kind
from suno_callbacks.models.records import Item
from suno_callbacks.reader import StageView, TaskView

# Item columns, shown when at least one item has a value: (header, attribute).
_ITEM_COLUMNS = (
    ("title", "title"),
    ("duration", "duration"),
    ("tags", "tags"),
    ("model", "model"),
    ("voice id", "voice_id"),
    ("phrase", "validation_phrase"),
    ("status", "status"),
    ("error", "error"),
)


def task_text(view: TaskView) -> str:
    sections = [
        table(
            ["task", "kind", "status", "outcome", "ref", "created", "updated"],
            [
                (
                    view.task_id,
                    view.kind,
                    view.status,
                    view.outcome,
                    view.ref,
                    view.created_at,
                    view.updated_at,
                )
            ],
        ),
        "Stages\n" + _stages(view.stages),
        *_waiting(view.stages),
        *_warnings(view.stages),
        "Result\n" + _result(view),
        *_lyrics(view.items),
        *_instruments(view.items),
        *_stems(view),
        "Files\n"
        + table(
            ["item", "field", "state", "bytes", "sha256", "s3 uri / reason"],
            [
                (a.item_id, a.field, a.state, a.bytes, (a.sha256 or "")[:16], a.s3_uri or a.reason)
                for a in view.assets
            ],
        ),
    ]
    return "\n\n".join(sections)


def _stages(stages: list[StageView]) -> str:
    return table(
        ["stage", "kind", "ref", "code", "received", "again", "settled", "msg"],
        [
            (s.stage, s.kind, s.ref, s.code, s.received_at, s.duplicates, s.settlement or "waiting", s.msg)
            for s in stages
        ],
    )


def _waiting(stages: list[StageView]) -> list[str]:
    """Why a stage is not settled yet: the last transient failure and the delivery it happened on."""
    lines = [
        f"  {s.stage}: delivery {s.attempts} failed at {s.last_failure_at}: {s.last_failure}"
        for s in stages
        if s.settled_at is None and s.last_failure
    ]
    return (
        [
            "Waiting (archive retries; after the queue's last attempt the message waits in the DLQ)\n"
            + "\n".join(lines)
        ]
        if lines
        else []
    )


def _warnings(stages: list[StageView]) -> list[str]:
    lines = [f"  {s.stage} ({s.kind}): {warning}" for s in stages for warning in s.warnings]
    return ["Warnings\n" + "\n".join(lines)] if lines else []


def _result(view: TaskView) -> str:
    columns = [(h, a) for h, a in _ITEM_COLUMNS if any(getattr(i, a) not in (None, "") for i in view.items)]
    return table(
        ["item", *(h for h, _ in columns)],
        [(i.item_id, *(getattr(i, a) for _, a in columns)) for i in view.items],
    )


def _lyrics(items: list[Item]) -> list[str]:
    return [f"Lyrics {i.item_id}: {i.title or '(untitled)'}\n{i.lyrics}" for i in items if i.lyrics]


def _instruments(items: list[Item]) -> list[str]:
    rows = [
        (i.item_id, instrument.name or "-", instrument.note_count)
        for i in items
        for instrument in i.instruments or []
    ]
    return ["MIDI instruments\n" + table(["item", "instrument", "notes"], rows)] if rows else []


def _stems(view: TaskView) -> list[str]:
    if view.kind is not Kind.SEPARATION:
        return []
    fields = list(
        dict.fromkeys(m.field for s in view.stages if s.settlement != "quarantined" for m in s.media)
    )
    return [f"Stems\n  {', '.join(fields) if fields else 'none'}"]
