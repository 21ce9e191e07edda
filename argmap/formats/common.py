"""What the format modules share: the exported document as a tree, and refusals by line."""

from __future__ import annotations

from collections.abc import Collection, Iterator
from dataclasses import dataclass, field
from typing import Any

from argmap.interchange import FORMAT, DocumentError, export_map
from argmap.models import ArgumentMap, Claim

# Formats that cannot say a claim is archived, pending or hidden carry only published claims:
# importing them back must not publish what was not.
PUBLISHED_ONLY = frozenset({Claim.Status.PUBLISHED})

LINE_ERROR = "line {line}: {problem}"


@dataclass(slots=True)
class Node:
    """One exported claim with its children, in sibling order."""

    claim: dict[str, Any]
    children: list[Node] = field(default_factory=list)

    def walk(self, depth: int = 0) -> Iterator[tuple[Node, int]]:
        """Depth-first, parents before children, siblings in order."""
        yield self, depth
        for child in self.children:
            yield from child.walk(depth + 1)


def export_tree(
    argument_map: ArgumentMap, *, statuses: Collection[str] | None = None
) -> tuple[dict[str, Any], Node]:
    """The ``argmap/1`` document of the map (as ``statuses`` allows) and its claims as a tree."""
    document = export_map(argument_map, statuses=statuses)
    nodes = {claim["id"]: Node(claim) for claim in document["claims"]}
    root: Node | None = None
    ordered = sorted(document["claims"], key=lambda claim: (claim["position"], claim["id"]))
    for claim in ordered:
        if claim["parent"] is None:
            root = nodes[claim["id"]]
        else:
            nodes[claim["parent"]].children.append(nodes[claim["id"]])
    if root is None:
        raise ArgumentMap.DoesNotExist(f"Map {argument_map.slug!r} has no thesis.")
    return document, root


def narrow(statuses: Collection[str] | None, allowed: Collection[str]) -> set[str]:
    """The statuses a format that carries only ``allowed`` exports for a reader of ``statuses``."""
    return set(allowed) if statuses is None else set(statuses) & set(allowed)


def new_document(*, slug: str, title: str, description: str = "") -> dict[str, Any]:
    """An empty ``argmap/1`` document, for parsers that build one and hand it to plan_document."""
    return {
        "format": FORMAT,
        "map": {"slug": slug, "title": title, "description": description},
        "source": None,
        "claims": [],
    }


class LineErrors:
    """Collects problems found while reading a file line by line; raises them all at once."""

    def __init__(self) -> None:
        self.errors: list[str] = []

    def add(self, line: int, problem: str) -> None:
        self.errors.append(LINE_ERROR.format(line=line, problem=problem))

    def raise_if_any(self) -> None:
        if self.errors:
            raise DocumentError(self.errors)


def title_from(text: str, limit: int = 200) -> str:
    """A map title from a thesis when the file has none (titles are at most 200 characters)."""
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"
