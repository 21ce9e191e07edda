"""Reading-path benchmark: does a 10,000-claim map open as fast as a 100-claim one?

Run with ``make bench`` (``.venv/bin/python bench/run.py``). SQLite by default, in its own file
under ``var/bench/`` so the development database stays clean; with ``DATABASE_URL`` pointing at
PostgreSQL it works in a throwaway database ``argmap_bench`` that it drops at the end.

For generated maps of 100 and 10,000 claims, and a "wide" map with one claim of 5,000 children,
it times server-side through ``django.test.Client``: the map page (warm and cold article cache),
an expand request, a claim's page, and the floor for the same claims (raw DB-API queries plus bare
f-strings); then an empty view (Django's fixed cost) and four renderers of a 5,000-node tree
fragment. The measurements of a map run round-robin, one run of each in turn, so drift hits all
alike. Every run checks that the floor writes byte for byte the tree markup the page and the
expand send, and that the four renderers write byte-identical markup.
It prints one table and writes ``bench/results.json``. Missed targets print MISSED lines, failed
checks WARNING lines; only errors exit non-zero. See docs/performance.md.
"""

from __future__ import annotations

import argparse
import gc
import io
import os
import re
import statistics
import sys
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import common
from common import BASE_DIR, BENCH_DIR, Bench

BENCH_DATABASE = "argmap_bench"
RESULTS = BENCH_DIR / "results.json"
SIZES = (100, 10_000)
SEED = 1
RENDER_NODES = 5_000
WIDE_CHILDREN = 5_000  # children of one claim in the "wide" map
WIDE_GROUP = "wide"
FLOOR_TARGET = 5.0  # page (or expand) time / floor time for the same claims
SCALE_TARGET = 1.5  # ms per shown claim, 10,000-claim map / 100-claim map


# --- measurements -----------------------------------------------------------------------------


@dataclass
class Measurement:
    group: str  # the map ("100", "10,000", "wide"), "any" or "5,000 nodes"
    name: str
    run: Callable[[], object]
    prepare: Callable[[], object] | None = None
    shown: int = 0
    queries: int | None = None
    floor: str | None = None  # name of the measurement in the same group this is compared with
    target: bool = False  # page/expand rows carry the targets
    samples: list[float] = field(default_factory=list)

    @property
    def median(self) -> float:
        return statistics.median(self.samples)

    @property
    def p90(self) -> float:
        return statistics.quantiles(self.samples, n=10, method="inclusive")[-1]

    @property
    def per_claim(self) -> float:
        return self.median / self.shown if self.shown else float("nan")


def run_round_robin(measurements: list[Measurement], *, warmup: int, runs: int) -> None:
    gc.collect()
    for index in range(warmup + runs):
        for m in measurements:
            if m.prepare is not None:
                m.prepare()
            started = time.perf_counter()
            m.run()
            elapsed = (time.perf_counter() - started) * 1000
            if index >= warmup:
                m.samples.append(elapsed)


# --- the floor: raw queries and bare f-strings ------------------------------------------------

# Exactly the claims the first view shows: the thesis, a page of its children, a page of each of
# theirs, each with its visible children counted per stance (``{counts}``, see floor_sql). One
# statement, SQLite and PostgreSQL; their votes and comments come in one more (TALLY_FLOOR_SQL).
# Counting with correlated subqueries (index lookups on (parent_id, position)) was as fast as or
# faster than LEFT JOIN + GROUP BY on both databases, and stays fast on PostgreSQL without
# statistics, where the join took 175-670 ms.
PAGE_FLOOR_SQL = """
WITH thesis AS (
    SELECT id FROM {claim} WHERE map_id = %s AND parent_id IS NULL
), level1 AS (
    SELECT {fields} FROM {claim}
    WHERE parent_id = (SELECT id FROM thesis) AND status = 'published'
    ORDER BY position, id LIMIT {page}
), level2 AS (
    SELECT {fields}, rn FROM (
        SELECT {fields}, ROW_NUMBER() OVER (PARTITION BY parent_id ORDER BY position, id) AS rn
        FROM {claim} WHERE parent_id IN (SELECT id FROM level1) AND status = 'published'
    ) numbered WHERE rn <= {page}
), shown AS (
    SELECT {fields}, 0 AS depth, 0 AS rn FROM {claim} WHERE id = (SELECT id FROM thesis)
    UNION ALL
    SELECT {fields}, 1, ROW_NUMBER() OVER (ORDER BY position, id) FROM level1
    UNION ALL
    SELECT {fields}, 2, rn FROM level2
)
SELECT {s_fields}, {counts}
FROM shown s ORDER BY s.depth, s.rn
"""

# The same first view in two statements that read each page from the (parent_id, position)
# index: the thesis and a page of its children, then a page of each of theirs. The app fetches
# it the same way (argmap.tree: _TOP_SQL, then _CHILDREN_SQL); this floor runs the statements on
# its own DB-API connection, with nothing of Django between them and the rows.
TOP_FLOOR_SQL = """
WITH thesis AS (
    SELECT id FROM {claim} WHERE map_id = %s AND parent_id IS NULL
), level1 AS (
    SELECT {fields} FROM {claim}
    WHERE parent_id = (SELECT id FROM thesis) AND status = 'published'
    ORDER BY position, id LIMIT {page}
), shown AS (
    SELECT {fields}, 0 AS rn FROM {claim} WHERE id = (SELECT id FROM thesis)
    UNION ALL
    SELECT {fields}, ROW_NUMBER() OVER (ORDER BY position, id) FROM level1
)
SELECT {s_fields}, {counts}
FROM shown s ORDER BY s.rn
"""

_PAGE_OF_ONE = """
    SELECT * FROM (
        SELECT {fields} FROM {claim} WHERE parent_id = %s AND status = 'published'
        ORDER BY position, id LIMIT {page}
    ) p{n}"""


def pages_floor_sql(parents: int) -> str:
    """A page of children for each of ``parents`` parents, in one UNION ALL statement."""
    pages = " UNION ALL ".join(_PAGE_OF_ONE.replace("{n}", str(n)) for n in range(parents))
    return f"""
WITH page AS ({pages})
SELECT {{s_fields}}, {{counts}}
FROM page s
"""


# An expand: the claim and a page of its children, each with its children counted per stance.
EXPAND_FLOOR_SQL = """
WITH page AS (
    SELECT {fields} FROM {claim} WHERE parent_id = %s AND status = 'published'
    ORDER BY position, id LIMIT {page}
), shown AS (
    SELECT {fields}, 0 AS depth, 0 AS rn FROM {claim} WHERE id = %s
    UNION ALL
    SELECT {fields}, 1, ROW_NUMBER() OVER (ORDER BY position, id) FROM page
)
SELECT {s_fields}, {counts}
FROM shown s ORDER BY s.depth, s.rn
"""

# Every visible claim of a map with its child counts: the source of the 5,000-node fragment.
ALL_CLAIMS_SQL = """
SELECT {s_fields}, {counts}
FROM {claim} s WHERE s.map_id = %s AND s.status = 'published'
ORDER BY s.position, s.id
"""


# The columns of argmap.tree.Node up to its child counts, in its order.
FLOOR_COLUMNS = (
    "id",
    "parent_id",
    "stance",
    "text",
    "quote_start",
    "quote_end",
    "position",
    "author_id",
)

# What a row needs beyond the claim's own columns (``{counts}``, after ``{s_fields}``): its
# visible children per stance and whether it is locked. The floor reads the page as an anonymous
# reader does: published claims only, no vote of their own.
_FLOOR_COUNTS = (
    "(SELECT COUNT(*) FROM {claim} k WHERE k.parent_id = s.id AND k.status = 'published'"
    " AND k.stance = 'support'),\n"
    "(SELECT COUNT(*) FROM {claim} k WHERE k.parent_id = s.id AND k.status = 'published'"
    " AND k.stance = 'counter'),\n"
    "s.locked"
)

# The shown claims' votes per value and visible comments, in one more statement over their ids
# (as argmap.tree._annotate): measured on SQLite (2,000-claim map, 205 shown) against five vote
# and one comment subqueries per row in the claims' statement (+1.0 ms) and a LEFT JOIN on the
# votes aggregated per claim (+1.5 ms), this took +0.65 ms.
TALLY_FLOOR_SQL = """
SELECT claim_id, value, COUNT(*) FROM {vote} WHERE claim_id IN ({ids}) GROUP BY claim_id, value
UNION ALL
SELECT claim_id, 5, COUNT(*) FROM {comment} WHERE claim_id IN ({ids}) AND status = 'visible'
GROUP BY claim_id
"""


def floor_sql(template: str, placeholder: str) -> str:
    """Fill in the tables and the columns a floor row holds (``build_tree`` reads them)."""
    from django.conf import settings

    from argmap.models import Claim, Comment, Vote

    tables = {
        "claim": Claim._meta.db_table,
        "vote": Vote._meta.db_table,
        "comment": Comment._meta.db_table,
    }
    sql = template.format(
        page=settings.ARGMAP_PAGE_SIZE,
        fields=", ".join([*FLOOR_COLUMNS, "locked"]),
        s_fields=", ".join(f"s.{column}" for column in FLOOR_COLUMNS),
        counts=_FLOOR_COUNTS.format(**tables),
        **tables,
    )
    return sql.replace("%s", placeholder)


_TALLY_SQL: dict[tuple[int, str], str] = {}


def tally_sql(count: int, placeholder: str) -> str:
    """TALLY_FLOOR_SQL for ``count`` ids (the ids twice over), built once per count."""
    key = (count, placeholder)
    if key not in _TALLY_SQL:
        ids = ", ".join([placeholder] * count)
        _TALLY_SQL[key] = floor_sql(TALLY_FLOOR_SQL.replace("{ids}", ids), placeholder)
    return _TALLY_SQL[key]


def add_tallies(cursor, nodes: dict, placeholder: str) -> None:
    """Each node's votes per value and visible comments (``nodes`` by id), in one statement."""
    if not nodes:
        return
    ids = list(nodes)
    cursor.execute(tally_sql(len(ids), placeholder), ids + ids)
    for claim_id, value, number in cursor.fetchall():
        if value == 5:
            nodes[claim_id].comments = number
        else:
            nodes[claim_id].tally.counts[value] = number


def raw_connection(vendor: str, db: dict[str, Any]):
    """A plain DB-API connection of our own, kept open: the floor pays no connection set-up.

    Statements are planned the way the app's are. SQLite: the sqlite3 module's statement cache,
    on for Django's connection too. PostgreSQL: no server-side prepared statements, as Django
    sends none by default (``prepare_threshold=None``); psycopg's own default would prepare a
    statement from its sixth run on and spare the floor its planning, about half of the
    two-statement fetch's time here.
    """
    if vendor == "sqlite":
        import sqlite3

        return sqlite3.connect(db["NAME"], isolation_level=None), "?"
    import psycopg

    connection = psycopg.connect(
        autocommit=True, prepare_threshold=None, **common.psycopg_params(db)
    )
    return connection, "%s"


def build_tree(rows, cursor, placeholder: str, *, root_tally: bool = True):
    """Floor rows parents-first, siblings in order, into ``argmap.tree.Node``s with their votes
    and comments (one more statement on ``cursor``; the root's only if ``root_tally``: an expand
    does not show its parent's row); returns the first (the root)."""
    from argmap.tree import Node

    nodes = {}
    root = None
    for row in rows:
        node = Node(*row[:10], locked=bool(row[10]))
        nodes[node.id] = node
        if root is None:
            root = node
        else:
            nodes[node.parent_id].children.append(node)
    if not root_tally and root is not None:
        del nodes[root.id]
    add_tallies(cursor, nodes, placeholder)
    return root


# --- the benchmark ----------------------------------------------------------------------------

_TREE_ITEM = re.compile(rb'role="treeitem" id="claim-(\d+)"')
FLOOR_PAGE_WINDOW = "floor: page, window"
FLOOR_PAGE_INDEX = "floor: page, index pages"
FLOOR_PAGE_VARIANTS = (FLOOR_PAGE_WINDOW, FLOOR_PAGE_INDEX)
APP_RENDERER = "TreeRenderer (app)"  # the key of the app's renderer in renderers.RENDERERS


VOTERS = 40  # bench users voting and commenting
VOTED_SHARE = 0.6  # claims with votes (1..VOTERS//3 of them)
COMMENTED_SHARE = 0.25  # claims with comments (1..5, one in 8 of them deleted)
LOCKED_SHARE = 0.02  # claims a moderator locked


def add_activity(slug: str) -> str:
    """Votes, comments and a few locks on a map's claims, deterministically (SEED): what a
    tree row shows beyond its text, so every fetch and renderer does that work per row."""
    import random

    from django.contrib.auth import get_user_model

    from argmap.models import ArgumentMap, Claim, Comment, Vote

    rng = random.Random(f"{SEED}-{slug}")
    User = get_user_model()
    names = [f"bench-voter-{n}" for n in range(VOTERS)]
    User.objects.bulk_create([User(username=name) for name in names], ignore_conflicts=True)
    voters = list(User.objects.filter(username__in=names).values_list("pk", flat=True))
    argument_map = ArgumentMap.objects.get(slug=slug)
    claim_ids = list(Claim.objects.filter(map=argument_map).values_list("pk", flat=True))
    votes, comments, locked = [], [], []
    for claim_id in claim_ids:
        if rng.random() < VOTED_SHARE:
            leaning = rng.randrange(5)
            for user_id in rng.sample(voters, rng.randint(1, VOTERS // 3)):
                value = min(4, max(0, leaning + rng.choice((-1, 0, 0, 1))))
                votes.append(Vote(claim_id=claim_id, user_id=user_id, value=value))
        if rng.random() < COMMENTED_SHARE:
            for _ in range(rng.randint(1, 5)):
                status = Comment.Status.DELETED if rng.random() < 0.125 else Comment.Status.VISIBLE
                comments.append(
                    Comment(
                        map=argument_map,
                        claim_id=claim_id,
                        author_id=rng.choice(voters),
                        body="A comment.",
                        status=status,
                    )
                )
        if rng.random() < LOCKED_SHARE:
            locked.append(claim_id)
    Vote.objects.bulk_create(votes, batch_size=2000)
    Comment.objects.bulk_create(comments, batch_size=2000)
    Claim.objects.filter(pk__in=locked).update(locked=True)
    return f"Added {len(votes):,} votes, {len(comments):,} comments, {len(locked)} locks."


def generate(claims: int) -> tuple[str, str]:
    """A generated map of ``claims`` claims (with its article), through the management command."""
    from django.core.management import call_command

    slug = f"bench-{claims}"
    output = io.StringIO()
    call_command("generate_map", slug=slug, claims=claims, seed=SEED, replace=True, stdout=output)
    return slug, f"{output.getvalue().strip()} {add_activity(slug)}"


def generate_wide() -> tuple[str, str]:
    """A map whose first level-1 claim has WIDE_CHILDREN children (no article), via map_import."""
    from argmap import services
    from argmap.interchange import plan_document

    slug = "bench-wide"
    claims: list[dict[str, Any]] = [{"id": "t", "parent": None, "text": "A thesis with a crowd"}]
    for n in range(3):
        claims.append({"id": f"l{n}", "parent": "t", "stance": "support", "text": f"Reason {n}"})
    for n in range(WIDE_CHILDREN):
        stance = "counter" if n % 3 == 0 else "support"
        claims.append({"id": f"w{n}", "parent": "l0", "stance": stance, "text": f"Point {n}"})
    for n in range(6):
        claims.append(
            {"id": f"s{n}", "parent": f"l{1 + n % 2}", "stance": "support", "text": f"Aside {n}"}
        )
    document = {"format": "argmap/1", "map": {"slug": slug, "title": "Wide"}, "claims": claims}
    services.map_import(plan=plan_document(document), reason="Benchmark")
    return slug, (
        f"{len(claims):,} claims; claim l0 has {WIDE_CHILDREN:,} children; {add_activity(slug)}"
    )


def bench_map(group: str, create, *, client, raw, placeholder: str, warmup: int, runs: int) -> dict:
    from django.conf import settings
    from django.core.cache import cache
    from django.db import connection
    from django.db.models import Count, Q
    from django.test.utils import CaptureQueriesContext
    from renderers import render_floor, render_floor_children

    from argmap import tree
    from argmap.models import ArgumentMap, Claim

    started = time.perf_counter()
    slug, output = create()
    generated = time.perf_counter() - started
    print(f"  created {slug} in {generated:.1f} s: {output}", flush=True)

    if connection.vendor == "postgresql":
        # Fresh statistics, as autovacuum leaves them in production (it is off on some machines).
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE")
    argument_map = ArgumentMap.objects.get(slug=slug)
    has_article = argument_map.source_id is not None
    thesis_id = Claim.objects.get(map=argument_map, parent__isnull=True).pk
    published = Q(children__status=Claim.Status.PUBLISHED)
    busiest_id, busiest_children = (
        Claim.objects.filter(parent_id=thesis_id, status=Claim.Status.PUBLISHED)
        .annotate(n=Count("children", filter=published))
        .order_by("-n", "position", "pk")
        .values_list("pk", "n")
        .first()
    )
    page_size = settings.ARGMAP_PAGE_SIZE
    page_sql = floor_sql(PAGE_FLOOR_SQL, placeholder)
    top_sql = floor_sql(TOP_FLOOR_SQL, placeholder)
    expand_sql = floor_sql(EXPAND_FLOOR_SQL, placeholder)
    page_url = f"/maps/{slug}/"
    expand_url = f"/maps/{slug}/claims/{busiest_id}/children/?level=3"
    claim_url = f"/maps/{slug}/claims/{busiest_id}/"
    htmx = {"HX-Request": "true"}

    def get_page():
        return client.get(page_url)

    def get_expand():
        return client.get(expand_url, headers=htmx)

    def get_claim():
        return client.get(claim_url)

    def floor_page_window() -> str:
        cursor = raw.cursor()
        cursor.execute(page_sql, (argument_map.pk,))
        return render_floor(build_tree(cursor.fetchall(), cursor, placeholder), slug, 1, page_size)

    def floor_page_pages() -> str:
        cursor = raw.cursor()
        cursor.execute(top_sql, (argument_map.pk,))
        rows = cursor.fetchall()
        parents = [row[0] for row in rows[1:] if row[8] or row[9]]
        if parents:
            cursor.execute(floor_sql(pages_floor_sql(len(parents)), placeholder), parents)
            rows += cursor.fetchall()
        return render_floor(build_tree(rows, cursor, placeholder), slug, 1, page_size)

    def floor_expand() -> str:
        cursor = raw.cursor()
        cursor.execute(expand_sql, (busiest_id, busiest_id))
        parent = build_tree(cursor.fetchall(), cursor, placeholder, root_tally=False)
        return render_floor_children(parent, slug, 3, page_size)

    # One request of each kind: status, what it shows, how many queries it takes.
    def counted(request, *, cold: bool = False):
        if cold:
            cache.clear()
        with CaptureQueriesContext(connection) as queries:
            response = request()
        if response.status_code != 200:
            raise RuntimeError(f"{response.request['PATH_INFO']}: HTTP {response.status_code}")
        return response, len(queries)

    page, page_cold_queries = counted(get_page, cold=True)
    _, page_warm_queries = counted(get_page)
    expand, expand_queries = counted(get_expand)
    claim_page, claim_queries = counted(get_claim)
    with CaptureQueriesContext(connection) as queries:
        tree.fetch_first_view(argument_map)
    fetch_queries = len(queries)
    page_ids = [int(i) for i in _TREE_ITEM.findall(page.content)]
    expand_ids = [int(i) for i in _TREE_ITEM.findall(expand.content)]
    # The floor must write what the app sends, byte for byte: the whole tree fragment embedded in
    # the page (both ways of fetching it), the whole body of the expand response.
    floor_trees = {"window": floor_page_window(), "index pages": floor_page_pages()}
    checks = {
        "floor shows the page's claims": all(
            _item_ids(markup) == page_ids for markup in floor_trees.values()
        ),
        "floor writes the page's tree byte for byte": all(
            page.content.count(markup.encode("utf-8")) == 1 for markup in floor_trees.values()
        ),
        "floor writes the expand's body byte for byte": floor_expand().encode("utf-8")
        == expand.content,
    }
    shown_page, shown_expand = len(page_ids), len(expand_ids)
    shown_claim = len(_TREE_ITEM.findall(claim_page.content))

    measurements = []
    if has_article:
        measurements.append(
            Measurement(
                group,
                "page, cold cache",
                get_page,
                prepare=cache.clear,
                shown=shown_page,
                queries=page_cold_queries,
                floor=FLOOR_PAGE_WINDOW,
                target=True,
            )
        )
    measurements += [
        Measurement(
            group,
            "page, warm cache" if has_article else "page",
            get_page,
            shown=shown_page,
            queries=page_warm_queries,
            floor=FLOOR_PAGE_WINDOW,
            target=True,
        ),
        Measurement(group, FLOOR_PAGE_WINDOW, floor_page_window, shown=shown_page, queries=2),
        Measurement(group, FLOOR_PAGE_INDEX, floor_page_pages, shown=shown_page, queries=3),
        Measurement(
            group,
            "app fetch only (no render)",
            lambda: tree.fetch_first_view(argument_map),
            shown=shown_page,
            queries=fetch_queries,
            floor=FLOOR_PAGE_WINDOW,
        ),
        Measurement(
            group,
            "expand (htmx)",
            get_expand,
            shown=shown_expand,
            queries=expand_queries,
            floor="floor: expand",
            target=True,
        ),
        Measurement(group, "floor: expand", floor_expand, shown=shown_expand, queries=2),
        Measurement(
            group, "claim page (no floor)", get_claim, shown=shown_claim, queries=claim_queries
        ),
    ]
    run_round_robin(measurements, warmup=warmup, runs=runs)
    # The page's floor is the faster of its two ways, by median over the same rounds: one
    # statement numbering siblings with a window function (fewest round trips), or two reading
    # each page from the index (bounded however many children a claim has).
    medians = {m.name: m.median for m in measurements if m.name in FLOOR_PAGE_VARIANTS}
    floor_page = min(medians, key=medians.get)
    for m in measurements:
        if m.floor == FLOOR_PAGE_WINDOW:
            m.floor = floor_page
    return {
        "slug": slug,
        "claims": Claim.objects.filter(map=argument_map).count(),
        "create_seconds": round(generated, 2),
        "create_output": output,
        "page_bytes": len(page.content),
        "expand_claim": {"id": busiest_id, "children": busiest_children},
        "expand_bytes": len(expand.content),
        "claim_page_bytes": len(claim_page.content),
        "floor_page": floor_page,
        "checks": checks,
        "measurements": measurements,
    }


def _item_ids(markup: str) -> list[int]:
    return [int(i) for i in _TREE_ITEM.findall(markup.encode("utf-8"))]


def empty_view(client) -> Callable[[], object]:
    """A request to a view that does nothing: Django's and the test client's fixed cost."""

    def get():
        response = client.get("/bench/empty/")
        if response.status_code != 200:
            raise RuntimeError(f"/bench/empty/: HTTP {response.status_code}")

    return get


def bench_renderers(claims: int, *, raw, placeholder: str, warmup: int, runs: int) -> dict:
    """Render the first RENDER_NODES claims (breadth-first) of the big map four ways."""
    from django.conf import settings
    from renderers import RENDERERS, same_markup

    from argmap.models import ArgumentMap
    from argmap.tree import Node

    slug = f"bench-{claims}"
    argument_map = ArgumentMap.objects.get(slug=slug)
    cursor = raw.cursor()
    sql = floor_sql(ALL_CLAIMS_SQL, placeholder)
    cursor.execute(sql, (argument_map.pk,))
    nodes = [Node(*row[:10], locked=bool(row[10])) for row in cursor.fetchall()]
    children: dict[int | None, list[Node]] = {}
    for node in nodes:
        children.setdefault(node.parent_id, []).append(node)
    root = children[None][0]
    shown, queue = {root.id: root}, deque([root])
    taken = 1
    while queue and taken < RENDER_NODES:
        node = queue.popleft()
        for child in children.get(node.id, []):
            if taken >= RENDER_NODES:
                break
            node.children.append(child)
            queue.append(child)
            shown[child.id] = child
            taken += 1
    add_tallies(cursor, shown, placeholder)  # the rows' vote bars and comment counts
    page_size = settings.ARGMAP_PAGE_SIZE
    outputs = {name: render(root, slug, 1, page_size) for name, render in RENDERERS.items()}
    reference = outputs[APP_RENDERER]
    equivalent = same_markup(outputs)  # equal once whitespace and entity spellings are normalized
    markup = {
        name: "byte-identical"
        if html == reference
        else "equal up to whitespace and entity spelling"
        if equivalent[name]
        else "differs"
        for name, html in outputs.items()
    }
    group = f"{taken:,} nodes"
    measurements = [
        Measurement(
            group,
            f"render: {name}",
            lambda render=render: render(root, slug, 1, page_size),
            shown=taken,
            floor=None if name == "f-string floor" else "render: f-string floor",
        )
        for name, render in RENDERERS.items()
    ]
    run_round_robin(measurements, warmup=warmup, runs=runs)
    return {
        "nodes": taken,
        "bytes": {name: len(html.encode("utf-8")) for name, html in outputs.items()},
        "markup_vs_app": markup,
        "measurements": measurements,
    }


# --- reporting --------------------------------------------------------------------------------


def ratios(all_measurements: list[Measurement]) -> tuple[dict, dict]:
    """(x floor, 10k/100 per shown claim) for each measurement, keyed by id()."""
    by_key = {(m.group, m.name): m for m in all_measurements}
    small, big = f"{SIZES[0]:,}", f"{SIZES[-1]:,}"
    vs_floor, scale = {}, {}
    for m in all_measurements:
        if m.floor and (m.group, m.floor) in by_key:
            vs_floor[id(m)] = m.median / by_key[(m.group, m.floor)].median
        if m.group == big and (small, m.name) in by_key:
            scale[id(m)] = m.per_claim / by_key[(small, m.name)].per_claim
    return vs_floor, scale


def format_table(all_measurements: list[Measurement], vs_floor: dict, scale: dict) -> str:
    header = (
        f"{'map':<12} {'measurement':<28} {'median ms':>10} {'p90 ms':>9} {'shown':>6} "
        f"{'ms/claim':>9} {'queries':>8} {'x floor':>8} {'10k/100':>8}"
    )
    lines = [header, "-" * len(header)]
    previous = None
    for m in all_measurements:
        if previous is not None and m.group != previous:
            lines.append("")
        previous = m.group
        floor = f"{vs_floor[id(m)]:.1f}x" if id(m) in vs_floor else "-"
        ratio = f"{scale[id(m)]:.2f}x" if id(m) in scale else "-"
        queries = "-" if m.queries is None else str(m.queries)
        per_claim = f"{m.per_claim:.4f}" if m.shown else "-"
        lines.append(
            f"{m.group:<12} {m.name:<28} {m.median:>10.2f} {m.p90:>9.2f} {m.shown:>6} "
            f"{per_claim:>9} {queries:>8} {floor:>8} {ratio:>8}"
        )
    return "\n".join(lines)


def missed_targets(all_measurements: list[Measurement], vs_floor: dict, scale: dict) -> list[str]:
    missed = []
    for m in all_measurements:
        if not m.target:
            continue
        if id(m) in vs_floor and vs_floor[id(m)] > FLOOR_TARGET:
            missed.append(
                f"{m.group}: {m.name}: {vs_floor[id(m)]:.1f}x the floor "
                f"(target <= {FLOOR_TARGET:g}x)"
            )
        if id(m) in scale and scale[id(m)] > SCALE_TARGET:
            missed.append(
                f"{m.name}: {scale[id(m)]:.2f}x the time per shown claim of the "
                f"{SIZES[0]}-claim map (target <= {SCALE_TARGET:g}x)"
            )
    return missed


def serialize(m: Measurement, vs_floor: dict, scale: dict) -> dict:
    return {
        "group": m.group,
        "name": m.name,
        "median_ms": round(m.median, 3),
        "p90_ms": round(m.p90, 3),
        "min_ms": round(min(m.samples), 3),
        "shown": m.shown,
        "ms_per_shown_claim": round(m.per_claim, 5) if m.shown else None,
        "queries": m.queries,
        "x_floor": round(vs_floor[id(m)], 2) if id(m) in vs_floor else None,
        "per_claim_10k_over_100": round(scale[id(m)], 2) if id(m) in scale else None,
        "samples_ms": [round(s, 3) for s in m.samples],
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=30, help="timed runs per measurement")
    parser.add_argument("--warmup", type=int, default=3, help="untimed runs first")
    parser.add_argument(
        "--render-runs",
        type=int,
        default=10,
        help="timed runs of each 5,000-node render (after one warm-up; Django's takes ~1 s)",
    )
    args = parser.parse_args()
    return common.run_benchmark(
        lambda bench: measure(args, bench), BENCH_DATABASE, BASE_DIR / "var" / "bench", "autovacuum"
    )


def measure(args: argparse.Namespace, bench: Bench) -> int:
    """The whole benchmark, on the database ``bench`` describes: table, checks, results file."""
    from django.conf import settings
    from django.test import Client, override_settings

    vendor = bench.vendor
    raw = None
    try:
        print(
            f"Argmap reading benchmark on {vendor} {bench.database['version']}, "
            f"{os.cpu_count()} cores, load average {bench.load_before[0]:.1f}",
            flush=True,
        )
        raw, placeholder = raw_connection(vendor, settings.DATABASES["default"])
        client = Client()
        maps = {}
        with override_settings(ROOT_URLCONF="bench_urls"):
            empty = Measurement("any", "empty view (request overhead)", empty_view(client))
            run_round_robin([empty], warmup=args.warmup, runs=args.runs)
            targets = [(f"{claims:,}", lambda claims=claims: generate(claims)) for claims in SIZES]
            targets.append((WIDE_GROUP, generate_wide))
            for group, create in targets:
                maps[group] = bench_map(
                    group,
                    create,
                    client=client,
                    raw=raw,
                    placeholder=placeholder,
                    warmup=args.warmup,
                    runs=args.runs,
                )
        print("  rendering the tree fragment four ways", flush=True)
        render = bench_renderers(
            SIZES[-1], raw=raw, placeholder=placeholder, warmup=1, runs=args.render_runs
        )
        all_measurements = [empty]
        all_measurements += [m for data in maps.values() for m in data["measurements"]]
        all_measurements += render["measurements"]
        vs_floor, scale = ratios(all_measurements)

        print()
        print(format_table(all_measurements, vs_floor, scale))
        print()
        print(
            "Page floor (the faster of its two ways): "
            + "; ".join(f"{group}: {data['floor_page']}" for group, data in maps.items())
        )
        print(
            "(e) fully expanded outline: not offered by the app (subtrees load on expand), "
            "so not measured."
        )
        problems = [
            f"WARNING: check failed: {group}: {name}"
            for group, data in maps.items()
            for name, ok in data["checks"].items()
            if not ok
        ]
        problems += [
            f"WARNING: check failed: {name} markup is not byte-identical to {APP_RENDERER}'s "
            f"({verdict})"
            for name, verdict in render["markup_vs_app"].items()
            if verdict != "byte-identical"
        ]
        for line in problems:
            print(line)
        missed = missed_targets(all_measurements, vs_floor, scale)
        for line in missed:
            print(f"MISSED: {line}")
        if not missed:
            print(
                f"All targets met: page and expand <= {FLOOR_TARGET:g}x the floor, "
                f"10k/100 per shown claim <= {SCALE_TARGET:g}x."
            )
        seconds = time.perf_counter() - bench.began
        print(f"Benchmark took {seconds:.0f} s.")

        record = {
            **common.describe_run(bench),
            "runs": args.runs,
            "warmup": args.warmup,
            "render_runs": args.render_runs,
            "page_size": settings.ARGMAP_PAGE_SIZE,
            "floor_connection": "own DB-API connection, kept open; no server-side prepared "
            "statements (as Django)",
            "targets": {"x_floor_max": FLOOR_TARGET, "per_claim_10k_over_100_max": SCALE_TARGET},
            "maps": {
                group: {k: v for k, v in data.items() if k != "measurements"}
                for group, data in maps.items()
            },
            "renderers": {k: v for k, v in render.items() if k != "measurements"},
            "measurements": [serialize(m, vs_floor, scale) for m in all_measurements],
            "missed": missed,
            "problems": problems,
            "not_measured": ["(e) fully expanded outline: the app does not offer one"],
            "seconds": round(seconds, 1),
        }
        # One entry per database; entries of variants no longer measured are dropped.
        common.save_results(RESULTS, vendor, record, keep=lambda key: "+" not in key)
        print(f"Results written to {RESULTS.relative_to(BASE_DIR)} under {vendor!r}.")
        return 0
    finally:
        if raw is not None:
            raw.close()


if __name__ == "__main__":
    sys.exit(main())
