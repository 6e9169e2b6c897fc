"""The table's public schema: key layout, item types and index names (DESIGN §5, README "Records").

One table. Everything about a task lives under one partition (`pk = TASK#<task_id>`), so a reader gets
a whole task with one Query.

| item            | pk                  | sk                                                   | written by |
|-----------------|---------------------|------------------------------------------------------|------------|
| stage           | TASK#<task_id>      | STAGE#<stage>#<kind>[#<ref>]                         | ingest     |
| redelivery      | TASK#<task_id>      | STAGE#<stage>#<kind>[#<ref>]#REDELIVERY#<time>#<id>  | ingest     |
| task            | TASK#<task_id>      | TASK                                                 | archive    |
| asset           | TASK#<task_id>      | ASSET#<item_id>#<field>                              | archive    |
| outcome         | TASK#<task_id>      | OUTCOME                                              | archive    |
| progress        | TASK#<task_id>      | PROGRESS#<stage>                                     | archive    |
| quarantine      | QUARANTINE#<id>     | QUARANTINE                                           | both       |

A stage's key names the kind and the ref its callback URL was signed for: a stage that arrives under
another kind or ref never takes the key of the task owner's stage (archive quarantines it instead).

Index `by-kind-time`: partition `kind_key` (a kind, or `quarantine`), sort `time_key` (`<ISO time>#<id>`):
task and quarantine items. Index `by-ref`: partition `ref`, sort `time_key`: task items. Index
`unsettled` (sparse): partition `unsettled` (the kind), sort `received_at`: stage items archive has not
settled yet (it removes `unsettled` when it settles one), what the sweep re-queues.
"""

PK = "pk"
SK = "sk"
KIND_KEY = "kind_key"
TIME_KEY = "time_key"
REF = "ref"
UNSETTLED = "unsettled"
RECEIVED_AT = "received_at"
TTL_ATTRIBUTE = "expires_at"

BY_KIND_TIME_INDEX = "by-kind-time"
BY_REF_INDEX = "by-ref"
UNSETTLED_INDEX = "unsettled"
# What the unsettled index projects besides its keys: enough to queue the stage again without a read.
UNSETTLED_PROJECTION = ("task_id", "stage", "kind", "ref")

QUARANTINE_KIND_KEY = "quarantine"

TASK_SK = "TASK"
OUTCOME_SK = "OUTCOME"
QUARANTINE_SK = "QUARANTINE"
STAGE_PREFIX = "STAGE#"
ASSET_PREFIX = "ASSET#"


def task_pk(task_id: str) -> str:
    return f"TASK#{task_id}"


def stage_sk(stage: str, kind: str, ref: str | None) -> str:
    """Kinds and refs never hold `#` (refs are 1-128 of `A-Za-z0-9._:@~-`), so the key reads back."""
    return f"{STAGE_PREFIX}{stage}#{kind}" + (f"#{ref}" if ref else "")


def redelivery_sk(stage_key: str, received_at: str, delivery_id: str) -> str:
    """One item per redelivery of a stage (the time it came, and an id for deliveries of one instant)."""
    return f"{stage_key}#REDELIVERY#{received_at}#{delivery_id}"


def asset_sk(item_id: str, field: str) -> str:
    """Item ids and fields come from the provider: `%` and `#` are encoded so that no two pairs meet."""
    return f"{ASSET_PREFIX}{_escaped(item_id)}#{_escaped(field)}"


def _escaped(part: str) -> str:
    return part.replace("%", "%25").replace("#", "%23")


def progress_sk(stage: str) -> str:
    return f"PROGRESS#{stage}"


def quarantine_pk(quarantine_id: str) -> str:
    return f"QUARANTINE#{quarantine_id}"


def time_key(iso_time: str, identifier: str) -> str:
    return f"{iso_time}#{identifier}"
