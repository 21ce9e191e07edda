"""Reading a map's tree: bounded fetches and a small escaped renderer for the tree fragment.

Every fetch is one query whatever the map's size: a page of children per parent read from the
(parent_id, position) index, each row with its visible children counted per stance. Votes and
comment counts of the rows returned come in one more query (``_annotate``), so a page costs the
same for 10 claims as for 10,000.
The renderer is plain f-strings with ``html.escape``: measured in ``bench/`` against Django
templates (~40x slower per node here) and Jinja2, it stays within a small factor of the floor.

Every fetch and the renderer take a ``Viewer``: who is reading decides which claims exist for
them (``permissions.can_view_claim``: pending and hidden claims for their author and the map's
moderators) and whether rows offer a vote.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from html import escape

from django.conf import settings
from django.db import connection

from argmap.models import ArgumentMap, Claim, Comment, Vote

STANCE_LABELS = {
    "support": ("Pro", "Supports its parent"),
    "counter": ("Con", "Counters its parent"),
    "": ("Thesis", "The thesis of this map"),
}

# The vote scale (Kialo's): on a claim, its impact on its parent; on the thesis, agreement.
IMPACT_LABELS = ("No impact", "Low impact", "Medium impact", "High impact", "Very high impact")
AGREEMENT_LABELS = ("False", "Probably false", "Uncertain", "Probably true", "True")

SORT_POSITION = "position"
SORT_IMPACT = "impact"
SORTS = (SORT_POSITION, SORT_IMPACT)

# Status markers shown in a row (class names are part of the contract with other areas' tests).
STATUS_MARKERS = {
    Claim.Status.PENDING: ("marker-pending", "Pending approval"),
    Claim.Status.HIDDEN: ("marker-hidden", "Hidden"),
}
LOCKED_MARKER = ("marker-locked", "Locked")


def sort_of(value: str | None) -> str:
    """A sort parameter from a URL: anything unknown is the map's own order."""
    return SORT_IMPACT if value == SORT_IMPACT else SORT_POSITION


@dataclass(frozen=True, slots=True)
class Viewer:
    """Who reads the tree: decides which claims they see and whether rows offer a vote."""

    user_id: int | None = None
    moderator: bool = False
    can_vote: bool = False

    @property
    def mode(self) -> str:
        if self.moderator:
            return "moderator"
        return "author" if self.user_id else "public"


ANONYMOUS = Viewer()


def viewer_for(user, argument_map: ArgumentMap) -> Viewer:
    """The reader ``user`` is on this map (permissions decide; at most the membership query)."""
    from argmap import permissions

    if not user.is_authenticated:
        return ANONYMOUS
    return Viewer(
        user_id=user.pk,
        moderator=permissions.can_moderate(user, argument_map),
        can_vote=permissions.can_vote(user, argument_map),
    )


@dataclass(slots=True)
class Tally:
    """A claim's votes: how many at each value 0..4, and this reader's own (None: none)."""

    counts: list[int] = field(default_factory=lambda: [0, 0, 0, 0, 0])
    mine: int | None = None

    @property
    def total(self) -> int:
        return sum(self.counts)

    @property
    def mean(self) -> float | None:
        total = self.total
        return sum(value * n for value, n in enumerate(self.counts)) / total if total else None

    def sort_key(self) -> tuple[float, int]:
        """Highest mean first, then most votes; claims without votes after every voted one."""
        mean = self.mean
        return (-(mean if mean is not None else -1.0), -self.total)


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
    status: str = Claim.Status.PUBLISHED
    locked: bool = False
    tally: Tally = field(default_factory=Tally)
    comments: int = 0

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


def _node(row: Sequence) -> Node:
    """A Node from a row: the node fields, the two child counts, then status and locked."""
    return Node(*row[:10], status=row[10], locked=bool(row[11]))


# The hot paths below are SQL written once rather than ORM queries: compiling the equivalent
# window-function and subquery annotations cost more than running them (7-11 ms against
# 0.7-2.8 ms, measured in bench/). Counts are computed only for the rows returned, and each
# parent's page is read from the (parent_id, position) index, so a claim with 5,000 children
# costs what one with 15 does. What is visible depends on the reader (see _visible); the SQL
# for each (reader kind, order) is built once and kept.
_T = Claim._meta.db_table
_V = Vote._meta.db_table
_C = Comment._meta.db_table
_COLUMNS = ", ".join(name if name != "pk" else "id" for name in _NODE_FIELDS)
_S_COLUMNS = ", ".join(f"s.{name if name != 'pk' else 'id'}" for name in _NODE_FIELDS)


def _visible(alias: str, mode: str) -> str:
    """The SQL condition "the reader may see this claim", mirroring permissions.can_view_claim
    for the statuses a tree shows (archived claims never appear in it)."""
    if mode == "moderator":
        return f"{alias}.status IN (%(published)s, %(pending)s, %(hidden)s)"
    if mode == "author":
        return (
            f"({alias}.status = %(published)s OR ({alias}.status IN (%(pending)s, %(hidden)s)"
            f" AND {alias}.author_id = %(viewer)s))"
        )
    return f"{alias}.status = %(published)s"


def _counts(mode: str) -> str:
    visible = _visible("k", mode)
    return f"""
    (SELECT COUNT(*) FROM {_T} k WHERE k.parent_id = s.id AND {visible} AND k.stance = 'support'),
    (SELECT COUNT(*) FROM {_T} k WHERE k.parent_id = s.id AND {visible} AND k.stance = 'counter'),
    s.status, s.locked
"""


def _order(sort: str) -> str:
    """Sibling order: the map's (position), or by impact (mean vote, then votes, then position).
    The same order as ``Tally.sort_key``, so a page boundary falls where the reader sees it."""
    if sort != SORT_IMPACT:
        return "position, id"
    own = f"v.claim_id = {_T}.id"
    return (
        f"COALESCE((SELECT AVG(v.value * 1.0) FROM {_V} v WHERE {own}), -1) DESC, "
        f"(SELECT COUNT(*) FROM {_V} v WHERE {own}) DESC, position, id"
    )


_SQL_CACHE: dict[tuple[str, ...], str] = {}


def _sql(kind: str, mode: str, sort: str = SORT_POSITION) -> str:
    key = (kind, mode, sort)
    if key not in _SQL_CACHE:
        _SQL_CACHE[key] = _build(kind, mode, sort)
    return _SQL_CACHE[key]


def _build(kind: str, mode: str, sort: str) -> str:
    counts = _counts(mode)
    visible = _visible(_T, mode)
    if kind == "top":
        # The thesis and a page of its children, parents before children, in one statement.
        return f"""
WITH thesis AS (
    SELECT {_COLUMNS}, status, locked FROM {_T} WHERE map_id = %(map)s AND parent_id IS NULL
), level1 AS (
    SELECT {_COLUMNS}, status, locked FROM {_T}
    WHERE parent_id = (SELECT id FROM thesis) AND {visible}
    ORDER BY {_order(sort)} LIMIT %(limit)s
), shown AS (
    SELECT {_COLUMNS}, status, locked, 0 AS depth, 0 AS rn FROM thesis
    UNION ALL
    SELECT {_COLUMNS}, status, locked, 1, ROW_NUMBER() OVER (ORDER BY position, id) FROM level1
)
SELECT {_S_COLUMNS}, {counts} FROM shown s ORDER BY s.depth, s.rn
"""
    if kind == "page":
        # One parent's page; {parent} is filled per parent by fetch_children.
        return f"""
    SELECT * FROM (
        SELECT {_COLUMNS}, status, locked FROM {_T}
        WHERE parent_id = %({{parent}})s AND {visible}
        ORDER BY {_order(sort)} LIMIT %(limit)s OFFSET %(offset)s
    ) {{parent}}
"""
    if kind == "children":
        return f"""
WITH page AS ({{pages}})
SELECT {_S_COLUMNS}, {counts} FROM page s ORDER BY s.parent_id, s.position, s.id
"""
    if kind == "claim":
        return f"""
SELECT {_S_COLUMNS}, {counts}
FROM {_T} s WHERE s.id = %(claim)s AND s.map_id = %(map)s AND {_visible("s", mode)}
"""
    if kind == "ids":
        return f"SELECT {_S_COLUMNS}, {counts} FROM {_T} s WHERE s.id IN ({{ids}}) AND " + (
            _visible("s", mode)
        )
    raise ValueError(kind)


def _rows(sql: str, params: dict, viewer: Viewer = ANONYMOUS) -> list[tuple]:
    with connection.cursor() as cursor:
        cursor.execute(
            sql,
            {
                "published": Claim.Status.PUBLISHED,
                "pending": Claim.Status.PENDING,
                "hidden": Claim.Status.HIDDEN,
                "viewer": viewer.user_id or 0,
                **params,
            },
        )
        return cursor.fetchall()


def _annotate(nodes: Iterable[Node], viewer: Viewer) -> None:
    """Fill in each node's vote tally (and the reader's own vote) and its count of visible
    comments: one query for any number of nodes, computed from the rows, never from counters."""
    by_id: dict[int, Node] = {}
    for node in nodes:
        by_id[node.id] = node
    if not by_id:
        return
    names = [f"a{index}" for index in range(len(by_id))]
    ids = ", ".join(f"%({name})s" for name in names)
    parts = [
        f"SELECT 0, claim_id, value, COUNT(*) FROM {_V} WHERE claim_id IN ({ids})"
        " GROUP BY claim_id, value",
        f"SELECT 1, claim_id, 0, COUNT(*) FROM {_C} WHERE claim_id IN ({ids})"
        " AND status = %(visible)s GROUP BY claim_id",
    ]
    if viewer.user_id:
        parts.append(
            f"SELECT 2, claim_id, value, 1 FROM {_V} WHERE claim_id IN ({ids})"
            " AND user_id = %(viewer)s"
        )
    params = {name: pk for name, pk in zip(names, by_id, strict=True)}
    params["visible"] = Comment.Status.VISIBLE
    for kind, claim_id, value, number in _rows(" UNION ALL ".join(parts), params, viewer):
        node = by_id[claim_id]
        if kind == 0:
            node.tally.counts[value] = number
        elif kind == 1:
            node.comments = number
        else:
            node.tally.mine = value


def _by_impact(node: Node) -> tuple[float, int, int, int]:
    return (*node.tally.sort_key(), node.position, node.id)


def sort_nodes(nodes: list[Node], sort: str) -> None:
    """Order annotated siblings: by impact when asked (SQL gave them in position order)."""
    if sort == SORT_IMPACT and len(nodes) > 1:
        nodes.sort(key=_by_impact)


def _nodes_by_id(ids: Sequence[int], viewer: Viewer = ANONYMOUS) -> list[Node]:
    if not ids:
        return []
    names = [f"c{index}" for index in range(len(ids))]
    placeholders = ", ".join(f"%({name})s" for name in names)
    sql = _sql("ids", viewer.mode).format(ids=placeholders)
    params = {name: int(pk) for name, pk in zip(names, ids, strict=True)}
    nodes = [_node(row) for row in _rows(sql, params, viewer)]
    _annotate(nodes, viewer)
    return nodes


def fetch_claim(
    argument_map: ArgumentMap, claim_id: int, *, viewer: Viewer = ANONYMOUS, annotate: bool = True
) -> Node | None:
    """One claim of this map that the reader may see, with its child counts, or None."""
    if not 0 < claim_id < 2**63:  # no such id, and SQLite cannot even bind it
        return None
    rows = _rows(_sql("claim", viewer.mode), {"claim": claim_id, "map": argument_map.pk}, viewer)
    if not rows:
        return None
    node = _node(rows[0])
    if annotate:
        _annotate([node], viewer)
    return node


def fetch_children(
    parent_ids: Sequence[int],
    *,
    limit: int | None = None,
    offset: int = 0,
    viewer: Viewer = ANONYMOUS,
    sort: str = SORT_POSITION,
    annotate: bool = True,
) -> dict[int, list[Node]]:
    """Visible children of each parent, in sibling order, ``offset``..``offset+limit`` each.

    One query for any number of parents (and one for their votes and comment counts).
    """
    if not parent_ids:
        return {}
    names = [f"p{index}" for index in range(len(parent_ids))]
    page = _sql("page", viewer.mode, sort)
    pages = " UNION ALL ".join(page.format(parent=name) for name in names)
    params = {
        "limit": limit or settings.ARGMAP_PAGE_SIZE,
        "offset": offset,
        **{name: int(pk) for name, pk in zip(names, parent_ids, strict=True)},
    }
    grouped: dict[int, list[Node]] = {parent_id: [] for parent_id in parent_ids}
    sql = _sql("children", viewer.mode).format(pages=pages)
    for row in _rows(sql, params, viewer):
        grouped[row[1]].append(_node(row))
    if annotate:
        _annotate((node for nodes in grouped.values() for node in nodes), viewer)
        for nodes in grouped.values():
            sort_nodes(nodes, sort)
    return grouped


def annotate(nodes: Iterable[Node], viewer: Viewer = ANONYMOUS) -> None:
    """Votes and comment counts for nodes fetched with ``annotate=False``, in one query."""
    _annotate(nodes, viewer)


def fetch_first_view(
    argument_map: ArgumentMap,
    *,
    levels: int = 2,
    viewer: Viewer = ANONYMOUS,
    sort: str = SORT_POSITION,
) -> Node | None:
    """The thesis and ``levels`` levels below it, a page of children per claim.

    ``levels`` queries (the thesis comes with its children) plus one for every shown claim's
    votes and comment counts, whatever the size of the map.
    """
    params = {"map": argument_map.pk, "limit": settings.ARGMAP_PAGE_SIZE}
    rows = _rows(_sql("top", viewer.mode, sort), params, viewer)
    if not rows:
        return None
    thesis, *level1 = (_node(row) for row in rows)
    shown = [thesis, *level1]
    if levels >= 1:
        thesis.children = frontier = level1
        for _ in range(levels - 1):
            parents = [node for node in frontier if node.child_count]
            children = fetch_children(
                [node.id for node in parents], viewer=viewer, sort=sort, annotate=False
            )
            frontier = []
            for node in parents:
                node.children = children.get(node.id, [])
                frontier.extend(node.children)
            shown.extend(frontier)
    _annotate(shown, viewer)
    for node in shown:
        sort_nodes(node.children, sort)
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


def fetch_changes(
    argument_map: ArgumentMap, *, since: int, limit: int, viewer: Viewer = ANONYMOUS
) -> list[Change]:
    """Claims whose last change is newer than map version ``since``, parents before children;
    a claim this reader may not see (any more) comes without a node: it is gone for them."""
    changed = Claim.objects.filter(map=argument_map, changed_in__gt=since)
    rows = list(
        changed.order_by("changed_in", "pk").values_list("pk", "parent_id", "position")[:limit]
    )
    # The node query applies the reader's visibility itself: what it does not return is gone.
    nodes = {node.id: node for node in _nodes_by_id([row[0] for row in rows], viewer)}
    return [Change(pk, parent, position, nodes.get(pk)) for pk, parent, position in rows]


class TreeRenderer:
    """Renders nodes as WAI-ARIA tree items for one reader. URLs are formatted from prefixes
    built once; expand links carry the sibling order (``sort``) so it survives every fetch."""

    def __init__(
        self,
        slug: str,
        *,
        page_size: int | None = None,
        viewer: Viewer = ANONYMOUS,
        sort: str = SORT_POSITION,
    ):
        base = f"/maps/{slug}/claims/"
        self.claim_url = base + "{id}/"
        self.children_url = base + "{id}/children/"
        self.vote_url = base + "{id}/vote/"
        self.thread_url = base + "{id}/thread/"
        self.page_size = page_size or settings.ARGMAP_PAGE_SIZE
        self.viewer = viewer
        self.sort = sort_of(sort)
        # Appended to expand and "show more" URLs: "&sort=impact" (or nothing).
        self.sort_param = f"&amp;sort={SORT_IMPACT}" if self.sort == SORT_IMPACT else ""

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
        tally = node.tally
        mean = tally.mean
        status = "" if node.status == Claim.Status.PUBLISHED else f" is-{node.status}"
        locked = " is-locked" if node.locked else ""
        return (
            f'<li role="treeitem" id="claim-{pk}" class="claim {node.stance or "thesis"}'
            f'{status}{locked}" aria-level="{level}"{aria} tabindex="-1" data-claim="{pk}" '
            f'data-position="{node.position}" data-author="{node.author_id or ""}" '
            f'data-status="{node.status}" data-votes="{tally.total}" '
            f'data-impact="{-1 if mean is None else round(mean, 4)}"{quote} '
            f'aria-labelledby="text-{pk}">{self.row(node, level=level)}'
            f'<ul role="group" id="group-{pk}" class="group"{hidden}{loaded_attr}>{body}</ul></li>'
        )

    def row(self, node: Node, *, level: int = 0, oob: bool = False) -> str:
        """The claim's own line: toggle, stance, text, status markers, votes, comments, counts
        and permalink."""
        pk = node.id
        url = self.claim_url.format(id=pk)
        label, title = STANCE_LABELS[node.stance]
        if node.child_count:
            params = [f"level={level + 1}"] if level else []
            if self.sort == SORT_IMPACT:
                params.append(f"sort={SORT_IMPACT}")
            query = "?" + "&amp;".join(params) if params else ""
            href = f"{url}?sort={SORT_IMPACT}" if self.sort_param else url
            toggle = (
                f'<a class="toggle" href="{href}" '
                f'hx-get="{self.children_url.format(id=pk)}{query}" '
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
            f"{self.markers(node)}"
            f'<span class="claim-meta">{self.votes(node)}{self.comments(node)}{self.counts(node)}'
            f'<a class="permalink" href="{url}" tabindex="-1" title="Permalink">#{pk}</a>'
            f"</span></div>"
        )

    def markers(self, node: Node) -> str:
        """ "Pending approval", "Hidden", "Locked": shown to whoever may see such a claim."""
        marks = []
        if node.status in STATUS_MARKERS:
            css, text = STATUS_MARKERS[node.status]
            marks.append(f'<span class="marker {css}">{text}</span>')
        if node.locked:
            css, text = LOCKED_MARKER
            marks.append(f'<span class="marker {css}" title="No new claims or edits">{text}</span>')
        return f'<span class="markers">{"".join(marks)}</span>' if marks else ""

    def votes(self, node: Node) -> str:
        """The vote distribution as five small bars, its summary for screen readers, and the
        reader's own vote with the control that casts, changes or withdraws it."""
        pk = node.id
        tally = node.tally
        thesis = node.parent_id is None
        scale = AGREEMENT_LABELS if thesis else IMPACT_LABELS
        peak = max(tally.counts) or 1
        bars = "".join(
            f'<span class="vote-bar h{-(-8 * n // peak)}'
            f'{" mine" if tally.mine == value else ""}"></span>'
            for value, n in enumerate(tally.counts)
        )
        detail = " · ".join(f"{value} {scale[value]}: {n}" for value, n in enumerate(tally.counts))
        mean = tally.mean
        shown_mean = "–" if mean is None else f"{mean:.1f}"
        control = ""
        if self.viewer.can_vote and node.status == Claim.Status.PUBLISHED:
            mine = "Vote"
            if tally.mine is not None:
                spoken = f'<span class="visually-hidden"> ({scale[tally.mine]})</span>'
                mine = f"You: {tally.mine}{spoken}"
            what = "agreement with the thesis" if thesis else "impact"
            control = (
                f'<a class="vote-toggle{" voted" if tally.mine is not None else ""}" '
                f'href="{self.vote_url.format(id=pk)}" tabindex="-1" aria-haspopup="true" '
                f'aria-expanded="false" title="Vote on this claim\'s {what}" '
                f'data-vote="{pk}">{mine}</a>'
            )
        elif tally.mine is not None:
            control = f'<span class="vote-mine">You: {tally.mine}</span>'
        kind = "agreement" if thesis else "impact"
        return (
            f'<span class="votes {kind}" id="votes-{pk}"'
            f"{'' if tally.mine is None else f' data-mine="{tally.mine}"'}>"
            f'<span class="vote-bars" aria-hidden="true" title="{detail}">{bars}</span>'
            f'<span class="vote-mean" aria-hidden="true">{shown_mean}</span>'
            f'<span class="visually-hidden">{vote_summary(tally, thesis=thesis)}</span>'
            f"{control}</span>"
        )

    def comments(self, node: Node) -> str:
        """The number of visible comments, linking to the claim's discussion thread."""
        n = node.comments
        words = "1 comment" if n == 1 else f"{n} comments"
        return (
            f'<a class="comment-count" id="comments-{node.id}" '
            f'href="{self.thread_url.format(id=node.id)}" tabindex="-1" data-thread="{node.id}" '
            f'title="Discussion: {words}" aria-label="Discussion: {words}">{words}</a>'
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
            f'<a href="{self.claim_url.format(id=pk)}?offset={seen}{self.sort_param}" '
            f'hx-get="{self.children_url.format(id=pk)}?offset={seen}&amp;level={level + 1}'
            f'{self.sort_param}" '
            f'hx-target="#more-{pk}-{seen}" hx-swap="outerHTML">'
            f"Show {min(remaining, self.page_size)} more of {remaining}</a></li>"
        )

    def children_page(self, parent: Node, children: list[Node], level: int, offset: int) -> str:
        """The fragment an expand or "show more" request swaps in; ``level`` is the children's."""
        return self.nodes(children, level) + self.more(parent, offset + len(children), level - 1)


def vote_summary(tally: Tally, *, thesis: bool) -> str:
    """ "Impact: 12 votes, mean 2.8" (on the thesis: "Agreement: ..."), for screen readers."""
    kind = "Agreement" if thesis else "Impact"
    total = tally.total
    if not total:
        return f"{kind}: no votes yet"
    return f"{kind}: {total} vote{'' if total == 1 else 's'}, mean {tally.mean:.1f}"
