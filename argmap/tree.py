"""Reading a map's tree: bounded fetches and a small escaped renderer for the tree fragment.

Every fetch is one query whatever the map's size: a page of children per parent read from the
(parent_id, position) index, each row with its visible children counted per stance.
The renderer is plain f-strings with ``html.escape``: measured in ``bench/`` against Django
templates (~40x slower per node here) and Jinja2, it stays within a small factor of the floor.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from html import escape

from django.conf import settings
from django.db import connection

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


# The hot paths below are SQL written once rather than ORM queries: compiling the equivalent
# window-function and subquery annotations cost more than running them (7-11 ms against
# 0.7-2.8 ms, measured in bench/). Counts are computed only for the rows returned, and each
# parent's page is read from the (parent_id, position) index, so a claim with 5,000 children
# costs what one with 15 does. Visible means published (roles will widen this for authors).
_T = Claim._meta.db_table
_COLUMNS = ", ".join(name if name != "pk" else "id" for name in _NODE_FIELDS)
_S_COLUMNS = ", ".join(f"s.{name if name != 'pk' else 'id'}" for name in _NODE_FIELDS)
_COUNTS = f"""
    (SELECT COUNT(*) FROM {_T} k
     WHERE k.parent_id = s.id AND k.status = %(published)s AND k.stance = 'support'),
    (SELECT COUNT(*) FROM {_T} k
     WHERE k.parent_id = s.id AND k.status = %(published)s AND k.stance = 'counter')
"""
# The thesis and a page of its children, parents before children, in one statement.
_TOP_SQL = f"""
WITH thesis AS (
    SELECT {_COLUMNS} FROM {_T} WHERE map_id = %(map)s AND parent_id IS NULL
), level1 AS (
    SELECT {_COLUMNS} FROM {_T}
    WHERE parent_id = (SELECT id FROM thesis) AND status = %(published)s
    ORDER BY position, id LIMIT %(limit)s
), shown AS (
    SELECT {_COLUMNS}, 0 AS depth, 0 AS rn FROM thesis
    UNION ALL
    SELECT {_COLUMNS}, 1, ROW_NUMBER() OVER (ORDER BY position, id) FROM level1
)
SELECT {_S_COLUMNS}, {_COUNTS} FROM shown s ORDER BY s.depth, s.rn
"""
_PAGE_OF = f"""
    SELECT * FROM (
        SELECT {_COLUMNS} FROM {_T} WHERE parent_id = %({{parent}})s AND status = %(published)s
        ORDER BY position, id LIMIT %(limit)s OFFSET %(offset)s
    ) {{parent}}
"""
_CHILDREN_SQL = f"""
WITH page AS ({{pages}})
SELECT {_S_COLUMNS}, {_COUNTS} FROM page s ORDER BY s.parent_id, s.position, s.id
"""
_CLAIM_SQL = f"""
SELECT {_S_COLUMNS}, {_COUNTS}
FROM {_T} s WHERE s.id = %(claim)s AND s.map_id = %(map)s AND s.status = %(published)s
"""


def _rows(sql: str, params: dict) -> list[tuple]:
    with connection.cursor() as cursor:
        cursor.execute(sql, {"published": Claim.Status.PUBLISHED, **params})
        return cursor.fetchall()


def _nodes_by_id(ids: Sequence[int]) -> list[Node]:
    if not ids:
        return []
    names = [f"c{index}" for index in range(len(ids))]
    placeholders = ", ".join(f"%({name})s" for name in names)
    sql = f"SELECT {_S_COLUMNS}, {_COUNTS} FROM {_T} s WHERE s.id IN ({placeholders})"
    params = {name: int(pk) for name, pk in zip(names, ids, strict=True)}
    return [Node(*row) for row in _rows(sql, params)]


def fetch_claim(argument_map: ArgumentMap, claim_id: int) -> Node | None:
    """One visible claim of this map with its child counts, or None."""
    if not 0 < claim_id < 2**63:  # no such id, and SQLite cannot even bind it
        return None
    rows = _rows(_CLAIM_SQL, {"claim": claim_id, "map": argument_map.pk})
    return Node(*rows[0]) if rows else None


def fetch_children(
    parent_ids: Sequence[int], *, limit: int | None = None, offset: int = 0
) -> dict[int, list[Node]]:
    """Visible children of each parent, in sibling order, ``offset``..``offset+limit`` each.

    One query for any number of parents.
    """
    if not parent_ids:
        return {}
    names = [f"p{index}" for index in range(len(parent_ids))]
    pages = " UNION ALL ".join(_PAGE_OF.format(parent=name) for name in names)
    params = {
        "limit": limit or settings.ARGMAP_PAGE_SIZE,
        "offset": offset,
        **{name: int(pk) for name, pk in zip(names, parent_ids, strict=True)},
    }
    grouped: dict[int, list[Node]] = {parent_id: [] for parent_id in parent_ids}
    for row in _rows(_CHILDREN_SQL.format(pages=pages), params):
        grouped[row[1]].append(Node(*row))
    return grouped


def fetch_first_view(argument_map: ArgumentMap, *, levels: int = 2) -> Node | None:
    """The thesis and ``levels`` levels below it, a page of children per claim.

    ``levels`` queries (the thesis comes with its children), whatever the size of the map.
    """
    rows = _rows(_TOP_SQL, {"map": argument_map.pk, "limit": settings.ARGMAP_PAGE_SIZE})
    if not rows:
        return None
    thesis, *level1 = (Node(*row) for row in rows)
    if levels < 1:
        return thesis
    thesis.children = frontier = level1
    for _ in range(levels - 1):
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
    nodes = {node.id: node for node in _nodes_by_id(visible_ids)}
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
