"""CSV for analysis (export only): one row per claim with its vote and comment counts.

Cells that a spreadsheet would run as a formula (starting with ``=``, ``+``, ``-``, ``@``, a tab
or a carriage return) are prefixed with an apostrophe, as OWASP advises.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Collection
from typing import Any

from argmap.formats.common import export_tree
from argmap.models import ArgumentMap, Vote

COLUMNS = [
    "id",
    "parent",
    "depth",
    "stance",
    "status",
    "text",
    "author",
    "votes",
    "mean",
    *(f"votes_{value}" for value in range(Vote.MIN, Vote.MAX + 1)),
    "comments",
    "quote_exact",
    "quote_start",
    "quote_end",
]
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def safe_cell(value: Any) -> Any:
    """A text cell that cannot start a spreadsheet formula; numbers and empties pass as they are."""
    if isinstance(value, str) and value.startswith(_FORMULA_START):
        return "'" + value
    return value


def export(argument_map: ArgumentMap, *, statuses: Collection[str] | None = None) -> str:
    """One row per claim, depth-first, with vote aggregates, comment count and quote."""
    _document, root = export_tree(argument_map, statuses=statuses)
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(COLUMNS)
    for node, depth in root.walk():
        claim = node.claim
        votes = claim["votes"]
        quote = claim["quote"] or {}
        row = [
            claim["id"],
            claim["parent"] if claim["parent"] is not None else "",
            depth,
            claim["stance"] or "",
            claim["status"],
            claim["text"],
            claim["author"] or "",
            votes["count"],
            "" if votes["mean"] is None else votes["mean"],
            *votes["counts"],
            len(claim["comments"]),
            quote.get("exact", ""),
            quote.get("start", ""),
            quote.get("end", ""),
        ]
        writer.writerow([safe_cell(cell) for cell in row])
    return buffer.getvalue()
