"""The table's definition for boto3 `create_table`: what local mode and tests create.

It mirrors the CDK table (infra) so that local mode has the same keys and indexes as a deployed stack.
"""

from __future__ import annotations

from typing import Any

from suno_callbacks.dal import keys


def table_definition(table_name: str) -> dict[str, Any]:
    def index(name: str, partition: str, sort: str = keys.TIME_KEY, **projection: Any) -> dict[str, Any]:
        return {
            "IndexName": name,
            "KeySchema": [
                {"AttributeName": partition, "KeyType": "HASH"},
                {"AttributeName": sort, "KeyType": "RANGE"},
            ],
            "Projection": projection or {"ProjectionType": "ALL"},
        }

    return {
        "TableName": table_name,
        "BillingMode": "PAY_PER_REQUEST",
        "KeySchema": [
            {"AttributeName": keys.PK, "KeyType": "HASH"},
            {"AttributeName": keys.SK, "KeyType": "RANGE"},
        ],
        "AttributeDefinitions": [
            {"AttributeName": name, "AttributeType": "S"}
            for name in (
                keys.PK,
                keys.SK,
                keys.KIND_KEY,
                keys.TIME_KEY,
                keys.REF,
                keys.UNSETTLED,
                keys.RECEIVED_AT,
            )
        ],
        "GlobalSecondaryIndexes": [
            index(keys.BY_KIND_TIME_INDEX, keys.KIND_KEY),
            index(keys.BY_REF_INDEX, keys.REF),
            index(
                keys.UNSETTLED_INDEX,
                keys.UNSETTLED,
                keys.RECEIVED_AT,
                ProjectionType="INCLUDE",
                NonKeyAttributes=list(keys.UNSETTLED_PROJECTION),
            ),
        ],
    }
