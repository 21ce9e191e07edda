"""Kialo's outline export: ``Discussion Title: …`` then one numbered line per claim.

```
Discussion Title: Trams or buses?

1. Build trams.
1.1. Pro: Trams are quiet.
1.1.1. Con: Not on cobbles.
1.2. Con: Trams cost a lot.
```

The thesis is ``1.``; each further claim's number is its parent's plus its place among its
siblings (``1.2.`` is the second child of ``1.``), and ``Pro:``/``Con:`` is its stance. Lines that
do not start with a number continue the claim above (Kialo wraps long claims). Only published
claims are exported: the outline cannot say a claim is archived, hidden or pending.
"""

from __future__ import annotations

import re
from collections.abc import Collection

from argmap.formats.common import (
    PUBLISHED_ONLY,
    LineErrors,
    export_tree,
    narrow,
    new_document,
    title_from,
)
from argmap.interchange import Plan, plan_document
from argmap.models import ArgumentMap, Claim

HEADER = "Discussion Title:"
KIALO_EMPTY = "The file has no claims: the thesis must be on a line starting with '1.'."
KIALO_BAD_NUMBER = "{number!r} is not a claim number like '1.2.3.'."
KIALO_SECOND_THESIS = "a second thesis {number!r}: only one line may be numbered '1.'."
KIALO_THESIS_NOT_ONE = "the thesis must be numbered '1.', not {number!r}."
KIALO_MISSING_PARENT = "claim {number!r} has no parent: there is no claim {parent!r} above it."
KIALO_WRONG_ORDER = (
    "claim {number!r} is out of order: the next claim under {parent!r} is {expected!r}."
)
KIALO_NO_STANCE = "claim {number!r} must start with 'Pro:' or 'Con:' after its number."
KIALO_LINK = "claim {number!r} is a Kialo link ('-> See …'); links cannot be imported."
KIALO_STRAY_TEXT = "text before the thesis: claims start with a number like '1.1.'."

_LINE = re.compile(r"^(?P<number>(?:\d+\.)+)(?:\s+(?P<rest>.*))?$")
_STANCE = re.compile(r"^(?P<stance>Pro|Con):\s*(?P<text>.*)$", re.IGNORECASE)
_LINK = re.compile(r"^->\s*See\s+(?:\d+\.)+\s*$", re.IGNORECASE)
_STANCES = {"pro": Claim.Stance.SUPPORT, "con": Claim.Stance.COUNTER}


def export(argument_map: ArgumentMap, *, statuses: Collection[str] | None = None) -> str:
    """The map's published claims as a Kialo outline."""
    document, root = export_tree(argument_map, statuses=narrow(statuses, PUBLISHED_ONLY))
    lines = [f"{HEADER} {_one_line(document['map']['title'])}", ""]

    def emit(node, number: str) -> None:
        claim = node.claim
        if claim["parent"] is None:
            text = _one_line(claim["text"])
            # A thesis that itself starts with "Thesis:" keeps it: import strips one such label.
            label = "Thesis: " if text.lower().startswith("thesis:") else ""
            lines.append(f"{number} {label}{text}")
        else:
            label = "Pro" if claim["stance"] == Claim.Stance.SUPPORT else "Con"
            lines.append(f"{number} {label}: {_one_line(claim['text'])}")
        for index, child in enumerate(node.children, start=1):
            emit(child, f"{number}{index}.")

    emit(root, "1.")
    return "\n".join(lines) + "\n"


def _one_line(text: str) -> str:
    return " ".join(text.split())


def parse(text: str) -> Plan:
    """Read a Kialo outline; wrong numbering, a missing parent or stance is refused by line."""
    problems = LineErrors()
    title = ""
    document = new_document(slug="imported", title="")
    claims: dict[str, dict] = {}  # number -> claim record
    children: dict[str, int] = {}  # number -> how many children seen so far
    last: dict | None = None
    for line_number, raw in enumerate(text.splitlines(), start=1):
        line = raw.strip()
        if not line:
            continue
        if not claims and line.startswith(HEADER) and not title:
            title = line[len(HEADER) :].strip()
            continue
        match = _LINE.match(line)
        if match is None:
            if last is not None:  # a wrapped claim continues on the next line
                last["text"] += " " + line
            else:
                problems.add(line_number, KIALO_STRAY_TEXT)
            continue
        number = match.group("number")
        rest = (match.group("rest") or "").strip()
        parts = number[:-1].split(".")
        if any(part.startswith("0") for part in parts):
            problems.add(line_number, KIALO_BAD_NUMBER.format(number=number))
            last = {"text": ""}  # a refused line's continuation goes nowhere
            continue
        key = f"line {line_number}"
        if len(parts) == 1:
            if claims:
                problems.add(line_number, KIALO_SECOND_THESIS.format(number=number))
            elif number != "1.":
                problems.add(line_number, KIALO_THESIS_NOT_ONE.format(number=number))
            if claims or number != "1.":
                last = {"text": ""}  # a refused line's continuation goes nowhere
                continue
            if rest.lower().startswith("thesis:"):
                rest = rest[len("thesis:") :].strip()
            last = {"id": key, "parent": None, "stance": None, "text": rest}
            claims[number] = last
            document["claims"].append(last)
            continue
        parent = ".".join(parts[:-1]) + "."
        if parent not in claims:
            problems.add(line_number, KIALO_MISSING_PARENT.format(number=number, parent=parent))
            last = {"text": ""}  # a refused line's continuation goes nowhere
            continue
        expected = f"{parent}{children.get(parent, 0) + 1}."
        if number != expected:
            problems.add(
                line_number,
                KIALO_WRONG_ORDER.format(number=number, parent=parent, expected=expected),
            )
            last = {"text": ""}  # a refused line's continuation goes nowhere
            continue
        stance = _STANCE.match(rest)
        if stance is None:
            problems.add(line_number, KIALO_NO_STANCE.format(number=number))
            last = {"text": ""}  # a refused line's continuation goes nowhere
            continue
        body = stance.group("text").strip()
        if _LINK.match(body):
            problems.add(line_number, KIALO_LINK.format(number=number))
            last = {"text": ""}  # a refused line's continuation goes nowhere
            continue
        children[parent] = children.get(parent, 0) + 1
        last = {
            "id": key,
            "parent": claims[parent]["id"],
            "stance": _STANCES[stance.group("stance").lower()],
            "text": body,
        }
        claims[number] = last
        document["claims"].append(last)
    if not claims and not problems.errors:
        problems.add(1, KIALO_EMPTY)
    problems.raise_if_any()
    thesis = document["claims"][0]["text"]
    document["map"]["title"] = title or title_from(thesis)
    return plan_document(document)
