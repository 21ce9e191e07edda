"""Reading a map's tree: bounded fetches and a small escaped renderer for the tree fragment.

Every fetch is one ``values_list`` query whatever the map's size: a page of children per parent
(a window function numbers siblings), each row annotated with its visible children per stance.
The renderer is plain f-strings with ``html.escape``: measured in ``bench/`` against Django
templates (~40x slower per node here) and Jinja2, it stays within a small factor of the floor.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from html import escape

from django.conf import settings
from django.db import connection
from django.db.models import Count, F, OuterRef, Q, Subquery, Window
from django.db.models.functions import Coalesce, RowNumber

from argmap.models import ArgumentMap, Claim

STANCE_LABELS = {
    "support": ("Pro", "Supports its parent"),
    "counter": ("Con", "Counters its parent"),
    "": ("Thesis", "The thesis of this map"),
}


@dataclass(slots=True)
class Node:
    id: int
    parent_id: int | None
    stance: str
    text: str
    quote_start: int | None
    quote_end: int | None
    position: int
    author_id: int | None
    supports: int
    counters: int
    children: list[Node] = field(default_factory=list)

    @property
    def child_count(self) -> int:
        return self.supports + self.counters


_NODE_FIELDS = (
    "pk",
    "parent_id",
    "stance",
    "text",
    "quote_start",
    "quote_end",
    "position",
    "author_id",
)


def _child_count(stance: str) -> Coalesce:
    children = (
        Claim.objects.visible_to(None)
        .filter(parent=OuterRef("pk"), stance=stance)
        .order_by()
        .values("parent")
        .annotate(n=Count("pk"))
        .values("n")
    )
    return Coalesce(Subquery(children), 0)


def _nodes(queryset) -> list[Node]:
    rows = queryset.annotate(
        supports=_child_count(Claim.Stance.SUPPORT), counters=_child_count(Claim.Stance.COUNTER)
    ).values_list(*_NODE_FIELDS, "supports", "counters")
    return [Node(*row) for row in rows]


def fetch_claim(argument_map: ArgumentMap, claim_id: int) -> Node | None:
    """One visible claim of this map with its child counts, or None."""
    found = _nodes(Claim.objects.visible_to(None).filter(map=argument_map, pk=claim_id))
    return found[0] if found else None


def fetch_thesis(argument_map: ArgumentMap) -> Node | None:
    found = _nodes(Claim.objects.filter(map=argument_map, parent__isnull=True))
    return found[0] if found else None


def fetch_children(
    parent_ids: Sequence[int], *, limit: int | None = None, offset: int = 0
) -> dict[int, list[Node]]:
    """Visible children of each parent, in sibling order, ``offset``..``offset+limit`` per parent.

    One query for any number of parents: siblings are numbered by a window function and the page
    is cut in SQL, so a parent with 5,000 children costs no more than one with 15.
    """
    if not parent_ids:
        return {}
    limit = limit or settings.ARGMAP_PAGE_SIZE
    numbered = (
        Claim.objects.visible_to(None)
        .filter(parent_id__in=parent_ids)
        .annotate(
            sibling_number=Window(
                RowNumber(), partition_by=[F("parent_id")], order_by=[F("position"), F("pk")]
            )
        )
    )
    page = numbered.filter(
        Q(sibling_number__gt=offset) & Q(sibling_number__lte=offset + limit)
    ).order_by("parent_id", "sibling_number")
    grouped: dict[int, list[Node]] = {parent_id: [] for parent_id in parent_ids}
    for node in _nodes(page):
        grouped[node.parent_id].append(node)
    return grouped


def fetch_first_view(argument_map: ArgumentMap, *, levels: int = 2) -> Node | None:
    """The thesis and ``levels`` levels below it, a page of children per claim.

    1 + ``levels`` queries, whatever the size of the map.
    """
    thesis = fetch_thesis(argument_map)
    if thesis is None:
        return None
    frontier = [thesis]
    for _ in range(levels):
        parents = [node for node in frontier if node.child_count]
        children = fetch_children([node.id for node in parents])
        frontier = []
        for node in parents:
            node.children = children.get(node.id, [])
            frontier.extend(node.children)
    return thesis


def _walk(claim_id: int, *, upward: bool) -> list[tuple[int, str, str, int]]:
    """(id, stance, text, depth) of a claim's ancestors or descendants, in one recursive query.

    Depth counts from the claim (0) outward; the depth cap stops a corrupt (cyclic) chain.
    """
    table = Claim._meta.db_table
    join = "c.id = walk.parent_id" if upward else "c.parent_id = walk.id"
    sql = f"""
        WITH RECURSIVE walk(id, parent_id, stance, text, depth) AS (
            SELECT id, parent_id, stance, text, 0 FROM {table} WHERE id = %s
            UNION ALL
            SELECT c.id, c.parent_id, c.stance, c.text, walk.depth + 1
            FROM {table} c JOIN walk ON {join}
            WHERE walk.depth < 100000
        )
        SELECT id, stance, text, depth FROM walk ORDER BY depth
    """  # the table name and join are ours; the id is a parameter
    with connection.cursor() as cursor:
        cursor.execute(sql, [claim_id])
        return list(cursor.fetchall())


def fetch_ancestors(claim_id: int) -> list[tuple[int, str, str]]:
    """(id, stance, text) from the thesis down to the claim's parent."""
    rows = _walk(claim_id, upward=True)[1:]
    return [(pk, stance, text) for pk, stance, text, _ in reversed(rows)]


def ancestor_ids(claim_id: int) -> list[int]:
    """The ids above a claim, nearest first."""
    return [row[0] for row in _walk(claim_id, upward=True)[1:]]


def subtree_ids(claim_id: int) -> list[int]:
    """The claim and everything below it, whatever their status."""
    return [row[0] for row in _walk(claim_id, upward=False)]


def fetch_highlights(argument_map: ArgumentMap) -> list[tuple[int, int, list[int]]]:
    """Every anchored span of the map's visible claims with the ids of the claims citing it."""
    rows = (
        Claim.objects.visible_to(None)
        .in_map(argument_map)
        .anchored()
        .order_by("quote_start", "quote_end", "pk")
        .values_list("quote_start", "quote_end", "pk")
    )
    spans: dict[tuple[int, int], list[int]] = {}
    for start, end, pk in rows:
        spans.setdefault((start, end), []).append(pk)
    return [(start, end, ids) for (start, end), ids in spans.items()]


@dataclass(slots=True)
class Change:
    """A claim changed since some map version: its node when visible, None when it is gone."""

    id: int
    parent_id: int | None
    position: int
    node: Node | None


def fetch_changes(argument_map: ArgumentMap, *, since: int, limit: int) -> list[Change]:
    """Claims whose last change is newer than map version ``since``, parents before children."""
    changed = Claim.objects.filter(map=argument_map, changed_in__gt=since)
    rows = list(
        changed.order_by("changed_in", "pk").values_list("pk", "parent_id", "position", "status")[
            :limit
        ]
    )
    visible_ids = [pk for pk, _, _, status in rows if status == Claim.Status.PUBLISHED]
    nodes = {node.id: node for node in _nodes(Claim.objects.filter(pk__in=visible_ids))}
    return [Change(pk, parent, position, nodes.get(pk)) for pk, parent, position, _ in rows]


class TreeRenderer:
    """Renders nodes as WAI-ARIA tree items. URLs are formatted from prefixes built once."""

    def __init__(self, slug: str, *, page_size: int | None = None):
        base = f"/maps/{slug}/claims/"
        self.claim_url = base + "{id}/"
        self.children_url = base + "{id}/children/"
        self.page_size = page_size or settings.ARGMAP_PAGE_SIZE

    def nodes(self, nodes: Iterable[Node], level: int) -> str:
        return "".join(self.node(node, level) for node in nodes)

    def node(self, node: Node, level: int) -> str:
        """A tree item: its row, then its group of children (empty and hidden until loaded).

        ``level`` 0 means unknown (a live update); the browser fixes ``aria-level`` on insert.
        """
        pk = node.id
        quote = (
            f' data-quote-start="{node.quote_start}" data-quote-end="{node.quote_end}"'
            if node.quote_start is not None
            else ""
        )
        loaded = bool(node.children) or not node.child_count
        aria = ""
        if node.child_count:
            aria = f' aria-expanded="{"true" if node.children else "false"}"'
        body = (
            self.nodes(node.children, level + 1) + self.more(node, len(node.children), level)
            if node.children
            else ""
        )
        hidden = "" if node.children else " hidden"
        loaded_attr = ' data-loaded="true"' if loaded else ""
        return (
            f'<li role="treeitem" id="claim-{pk}" class="claim {node.stance or "thesis"}" '
            f'aria-level="{level}"{aria} tabindex="-1" data-claim="{pk}" '
            f'data-position="{node.position}" data-author="{node.author_id or ""}"{quote} '
            f'aria-labelledby="text-{pk}">{self.row(node, level=level)}'
            f'<ul role="group" id="group-{pk}" class="group"{hidden}{loaded_attr}>{body}</ul></li>'
        )

    def row(self, node: Node, *, level: int = 0, oob: bool = False) -> str:
        """The claim's own line: toggle, stance, text, counts and permalink."""
        pk = node.id
        url = self.claim_url.format(id=pk)
        label, title = STANCE_LABELS[node.stance]
        if node.child_count:
            level_param = f"?level={level + 1}" if level else ""
            toggle = (
                f'<a class="toggle" href="{url}" '
                f'hx-get="{self.children_url.format(id=pk)}{level_param}" '
                f'hx-trigger="argmap:load" hx-target="#group-{pk}" hx-swap="innerHTML" '
                f'tabindex="-1" aria-hidden="true" title="Show or hide the claims under this">'
                f'<span class="chevron"></span></a>'
            )
        else:
            toggle = '<span class="toggle leaf" aria-hidden="true"></span>'
        swap = ' hx-swap-oob="true"' if oob else ""
        return (
            f'<div class="claim-row" id="row-{pk}"{swap}>{toggle}'
            f'<span class="stance" title="{title}">{label}</span>'
            f'<span class="claim-text" id="text-{pk}">{escape(node.text)}</span>'
            f'<span class="claim-meta">{self.counts(node)}'
            f'<a class="permalink" href="{url}" tabindex="-1" title="Permalink">#{pk}</a>'
            f"</span></div>"
        )

    def counts(self, node: Node) -> str:
        if not node.child_count:
            return f'<span class="counts" id="counts-{node.id}"></span>'
        return (
            f'<span class="counts" id="counts-{node.id}" '
            f'title="{node.supports} pro, {node.counters} con">'
            f'<span class="count-pro">{node.supports} pro</span> '
            f'<span class="count-con">{node.counters} con</span></span>'
        )

    def more(self, node: Node, seen: int, level: int) -> str:
        """A "show N more" item when ``node`` has children past the first ``seen``."""
        remaining = node.child_count - seen
        if remaining <= 0:
            return ""
        pk = node.id
        return (
            f'<li role="none" class="more" id="more-{pk}-{seen}">'
            f'<a href="{self.claim_url.format(id=pk)}?offset={seen}" '
            f'hx-get="{self.children_url.format(id=pk)}?offset={seen}&amp;level={level + 1}" '
            f'hx-target="#more-{pk}-{seen}" hx-swap="outerHTML">'
            f"Show {min(remaining, self.page_size)} more of {remaining}</a></li>"
        )

    def children_page(self, parent: Node, children: list[Node], level: int, offset: int) -> str:
        """The fragment an expand or "show more" request swaps in; ``level`` is the children's."""
        return self.nodes(children, level) + self.more(parent, offset + len(children), level - 1)
