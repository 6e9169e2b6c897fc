"""The table's public schema: key layout, item types and index names (DESIGN §5, README "Records").

One table. Everything about a task lives under one partition (`pk = TASK#<task_id>`), so a reader gets
a whole task with one Query. Only the task item carries the index attributes, so the indexes list tasks,
not their stages or assets.

| item            | pk                  | sk                                   |
|-----------------|---------------------|--------------------------------------|
| task            | TASK#<task_id>      | TASK                                 |
| stage           | TASK#<task_id>      | STAGE#<stage>                        |
| stage variant   | TASK#<task_id>      | STAGE#<stage>#VARIANT#<sha256[:16]>  |
| asset           | TASK#<task_id>      | ASSET#<item_id>#<field>              |
| outcome         | TASK#<task_id>      | OUTCOME                              |
| progress        | TASK#<task_id>      | PROGRESS#<stage>                     |
| quarantine      | QUARANTINE#<id>     | QUARANTINE                           |

Index `by-kind-time`: partition `kind_key` (a kind, or `quarantine`), sort `time_key` (`<ISO time>#<id>`).
Index `by-ref`: partition `ref`, sort `time_key`.
"""

PK = "pk"
SK = "sk"
KIND_KEY = "kind_key"
TIME_KEY = "time_key"
REF = "ref"
TTL_ATTRIBUTE = "expires_at"

BY_KIND_TIME_INDEX = "by-kind-time"
BY_REF_INDEX = "by-ref"

QUARANTINE_KIND_KEY = "quarantine"

TASK_SK = "TASK"
OUTCOME_SK = "OUTCOME"
QUARANTINE_SK = "QUARANTINE"


def task_pk(task_id: str) -> str:
    return f"TASK#{task_id}"


def stage_sk(stage: str) -> str:
    return f"STAGE#{stage}"


def stage_variant_sk(stage: str, body_sha256: str) -> str:
    return f"STAGE#{stage}#VARIANT#{body_sha256[:16]}"


def asset_sk(item_id: str, field: str) -> str:
    return f"ASSET#{item_id}#{field}"


def progress_sk(stage: str) -> str:
    return f"PROGRESS#{stage}"


def quarantine_pk(quarantine_id: str) -> str:
    return f"QUARANTINE#{quarantine_id}"


def time_key(iso_time: str, identifier: str) -> str:
    return f"{iso_time}#{identifier}"
