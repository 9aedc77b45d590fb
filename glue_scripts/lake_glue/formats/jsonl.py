"""JSON Lines landing files: one JSON object per line, identified by its line.

A line ends at LF (a CR before it belongs to the line end). A record must be exactly one
strict JSON object: a repeated key, a non-finite number, two values on a line or an array is
quarantined with the reason. Declared columns are read by key; a string is taken as it is and
a number as it was written. Keys that are not declared are counted per file (``undeclared``).
"""

from __future__ import annotations

import json
from typing import Any, NoReturn

from lake_glue import evolution
from lake_glue.formats.base import FormatOptions
from lake_glue.formats.registry import register
from lake_glue.formats.text import Shape, TextFormat, Values


@register
class JsonlFormat(TextFormat):
    """One JSON object per line."""

    name = "jsonl"

    def parse_record(self, text: str, opts: FormatOptions, shape: Shape) -> Values:
        return _json_values(text, shape.columns, shape.undeclared, evolution.rescuing(opts.on_new_columns))


class _Literal(str):
    """A JSON number kept as the text it was written as."""


def _json_value(value: Any) -> str | None:
    """A declared column's text from a JSON value: strings as they are, numbers as written."""
    if value is None:
        return None
    if isinstance(value, str) and not isinstance(value, _Literal):
        return str(value)
    return _dump(value)


def _dump(value: Any) -> str:
    if isinstance(value, _Literal):
        return str(value)
    if isinstance(value, dict):
        return "{" + ",".join(f"{json.dumps(k, ensure_ascii=False)}:{_dump(v)}" for k, v in value.items()) + "}"
    if isinstance(value, list):
        return "[" + ",".join(_dump(v) for v in value) + "]"
    return json.dumps(value, ensure_ascii=False)


class _StrictJsonError(ValueError):
    """A JSON document that parses but is not strict JSON (a repeated key, a non-finite number)."""


def _unique_keys(pairs: list[tuple[str, object]]) -> dict:
    """An object's members; a key written twice is refused rather than keeping the last value."""
    document: dict = {}
    for key, value in pairs:
        if key in document:
            raise _StrictJsonError(f"key {key!r} appears more than once in one object")
        document[key] = value
    return document


def _non_finite(name: str) -> NoReturn:
    raise _StrictJsonError(f"{name} is not a JSON number")


def _json_values(text: str, columns: list[str], undeclared: dict[str, int], rescue: bool = False) -> Values:
    try:
        document = json.loads(
            text,
            parse_int=_Literal,
            parse_float=_Literal,
            parse_constant=_non_finite,
            object_pairs_hook=_unique_keys,
        )
    except json.JSONDecodeError as exc:
        reason = "more than one JSON value on the line" if exc.msg == "Extra data" else f"not valid JSON: {exc.msg}"
        return None, f"{reason} (column {exc.colno})"
    except _StrictJsonError as exc:
        return None, f"not strict JSON: {exc}"
    if not isinstance(document, dict):
        kind = {list: "an array", str: "a string", _Literal: "a number", bool: "a boolean", type(None): "null"}
        return (
            None,
            f"a JSONL line must be one JSON object, this one is {kind.get(type(document), type(document).__name__)}",
        )
    values = [_json_value(document.get(c)) for c in columns]
    for column, value in zip(columns, values):
        # "\ud83d" decodes to half a surrogate pair, which no UTF-8 column can hold.
        if value is not None and not _encodable(value):
            return None, f"{column}: a JSON string holds a lone surrogate (an unpaired \\uD800-\\uDFFF escape)"
    others = {key: value for key, value in document.items() if key not in columns}
    evolution.count_fields(undeclared, others)
    if rescue:
        rescued = {key: _json_value(value) for key, value in others.items()}
        if any(value is not None and not _encodable(value) for value in rescued.values()):
            return None, "an undeclared field's JSON string holds a lone surrogate (an unpaired \\uD800-\\uDFFF escape)"
        values.append(evolution.rescued_text(rescued))
    return values, None


def _encodable(value: str) -> bool:
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True
