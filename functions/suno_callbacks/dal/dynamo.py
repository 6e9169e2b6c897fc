"""Plain Python values <-> DynamoDB attribute values, for the low-level client.

The low-level client keeps cold start small (no resource layer); floats become Decimal on the way in
(DynamoDB numbers) and come back as int or float.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any, cast

from boto3.dynamodb.types import TypeDeserializer, TypeSerializer

_serializer = TypeSerializer()
_deserializer = TypeDeserializer()


def _to_storable(value: Any) -> Any:
    if isinstance(value, float):
        return Decimal(repr(value))
    if isinstance(value, dict):
        return {k: _to_storable(v) for k, v in value.items() if v is not None}
    if isinstance(value, list | tuple):
        return [_to_storable(v) for v in value]
    return value


def _from_stored(value: Any) -> Any:
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    if isinstance(value, dict):
        return {k: _from_stored(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_from_stored(v) for v in value]
    if isinstance(value, bytes | bytearray):
        return bytes(value)
    if hasattr(value, "value") and isinstance(value.value, bytes):  # boto3 Binary
        return bytes(value.value)
    return value


def to_item(values: dict[str, Any]) -> dict[str, Any]:
    """A dict of plain values (None dropped) as a DynamoDB item."""
    return {k: _serializer.serialize(_to_storable(v)) for k, v in values.items() if v is not None}


def to_value(value: Any) -> dict[str, Any]:
    """One plain value as a DynamoDB attribute value (for expression values)."""
    return cast(dict[str, Any], _serializer.serialize(_to_storable(value)))


def from_item(item: dict[str, Any]) -> dict[str, Any]:
    """A DynamoDB item as plain values (numbers as int/float, binary as bytes)."""
    return {k: _from_stored(_deserializer.deserialize(v)) for k, v in item.items()}
