"""The ``argmap/1`` JSON document (docs/formats.md): lossless, with votes aggregates, comments,
extra anchors and a history summary per claim. Validation lives in ``argmap.interchange``."""

from __future__ import annotations

import json
from collections.abc import Collection

from argmap.interchange import DocumentError, Plan, dumps, export_map, plan_document
from argmap.models import ArgumentMap

JSON_NOT_JSON = "line {line}, column {column}: this is not JSON: {problem}."


def export(argument_map: ArgumentMap, *, statuses: Collection[str] | None = None) -> str:
    """The map as an ``argmap/1`` JSON document."""
    return dumps(export_map(argument_map, statuses=statuses))


def parse(text: str) -> Plan:
    """Validate a JSON document and return what to create, or raise DocumentError."""
    try:
        document = json.loads(text)
    except json.JSONDecodeError as error:
        raise DocumentError(
            [JSON_NOT_JSON.format(line=error.lineno, column=error.colno, problem=error.msg)]
        ) from error
    return plan_document(document)
