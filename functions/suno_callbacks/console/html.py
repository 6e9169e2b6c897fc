"""The only way the console builds HTML: every value is escaped unless it is `Markup` made here.

A callback carries whatever its sender put in it (a title `<script>…</script>`): it is text on the page,
never markup. Templates are constants of the console's own code; the values put into them are escaped.
"""

from __future__ import annotations

import html as html_escaping
from collections.abc import Iterable


class Markup(str):
    """HTML the console made itself: inserted as it is."""

    __slots__ = ()


def escape(value: object) -> Markup:
    """`value` as text in HTML (quotes included, so it is safe in an attribute too); Markup as it is."""
    if isinstance(value, Markup):
        return value
    return Markup(html_escaping.escape("" if value is None else str(value), quote=True))


def html(template: str, /, **values: object) -> Markup:
    """`template` (the console's own markup) with each `{name}` replaced by its value, escaped."""
    return Markup(template.format_map({name: escape(value) for name, value in values.items()}))


def join(parts: Iterable[Markup]) -> Markup:
    return Markup("".join(escape(part) for part in parts))
