"""Search: claims and comments within a map, and maps and claims across maps.

On PostgreSQL this is full-text search (``websearch_to_tsquery``, ``ts_rank``, ``ts_headline``)
over the expressions that migration ``0005_search_indexes`` indexes with GIN. On SQLite it is a
simpler fallback: every word of the query must occur (case-insensitively) and results are ranked
by how often and how early the words occur. Both return the same ``Results`` of ``Hit`` objects
whose ``snippet`` is escaped HTML with the matches in ``<mark>``.

Who sees what is decided in ``argmap.permissions`` (``searchable_claims``,
``searchable_comments``, ``discoverable_maps``); this module only matches and ranks.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from math import ceil

from django.db import connection
from django.db.models import F, Q, QuerySet, Value
from django.db.models.functions import Replace
from django.urls import reverse
from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe

from argmap import permissions
from argmap.models import ArgumentMap, Claim, Comment

MAX_QUERY_LENGTH = 200
PER_PAGE = 20
MAX_PAGE = 500
# The text-search configuration of the vectors; migration 0005 indexes exactly these expressions.
CONFIG = "english"
QUERY_TRUNCATED = "Your search was longer than {limit} characters; only its beginning was used."

# ts_headline (and the SQLite fallback) mark matches with these private-use characters; the
# snippet is escaped first and only then are the markers turned into <mark> elements, so user
# text is never trusted as HTML. The markers are removed from the text before it is marked.
START = "\ue000"
STOP = "\ue001"
_MARKERS = re.compile(f"([{START}{STOP}])")

# SQLite: how many candidate rows are ranked in Python, and the snippet window for long texts.
SQLITE_CANDIDATES = 1000
SNIPPET_CHARS = 220
SQLITE_MAX_WORDS = 12


@dataclass(frozen=True, slots=True)
class Hit:
    """One search result: what it is, where it links, and its highlighted snippet."""

    kind: str  # "claim", "comment" or "map"
    pk: int
    url: str
    snippet: SafeString
    map_slug: str
    map_title: str
    status: str = ""
    title: SafeString | None = None  # maps: the highlighted title
    context: str = ""  # comments: the text of the claim they discuss
    rank: float = 0.0


@dataclass(frozen=True, slots=True)
class Results:
    """A page of hits and the total number of matches."""

    hits: list[Hit]
    total: int
    page: int = 1
    per_page: int = PER_PAGE

    @property
    def num_pages(self) -> int:
        return max(1, ceil(self.total / self.per_page))

    @property
    def has_next(self) -> bool:
        return self.page < self.num_pages

    @property
    def has_previous(self) -> bool:
        return self.page > 1

    def __bool__(self) -> bool:
        return self.total > 0

    def __iter__(self):
        return iter(self.hits)

    def __len__(self) -> int:
        return len(self.hits)


EMPTY = Results(hits=[], total=0)


def clean_query(raw: str | None) -> tuple[str, bool]:
    """The query with whitespace collapsed, cut to MAX_QUERY_LENGTH; and whether it was cut."""
    query = " ".join((raw or "").replace(START, " ").replace(STOP, " ").split())
    if len(query) > MAX_QUERY_LENGTH:
        return query[:MAX_QUERY_LENGTH].rstrip(), True
    return query, False


def marked_html(marked: str) -> SafeString:
    """Escape text that carries START/STOP markers and turn the markers into balanced <mark>s."""
    parts, open_mark = [], False
    for part in _MARKERS.split(marked):
        if part == START:
            if not open_mark:
                parts.append("<mark>")
                open_mark = True
        elif part == STOP:
            if open_mark:
                parts.append("</mark>")
                open_mark = False
        elif part:
            parts.append(str(escape(part)))
    if open_mark:
        parts.append("</mark>")
    # Every piece of text went through escape(); only our own <mark> tags are added.
    return mark_safe("".join(parts))


def _postgres() -> bool:
    return connection.vendor == "postgresql"


def _page_bounds(page: int, per_page: int) -> tuple[int, int]:
    page = min(max(page, 1), MAX_PAGE)
    return page, (page - 1) * per_page


def claim_url(slug: str, pk: int) -> str:
    return reverse("claim_detail", kwargs={"slug": slug, "pk": pk})


def comment_url(slug: str, claim_id: int, pk: int) -> str:
    return f"/maps/{slug}/claims/{claim_id}/thread/#comment-{pk}"


# -- public API ----------------------------------------------------------------------------------


def _in_scope(queryset, user, argument_map: ArgumentMap | None):
    """Within one map, or across the maps ``user`` may discover in site-wide search."""
    if argument_map is not None:
        return queryset.filter(map=argument_map)
    maps = permissions.discoverable_maps(ArgumentMap.objects.all(), user).values("pk")
    return queryset.filter(map__in=maps)


def _search_text(queryset, query: str, fields, field: str, page: int, per_page: int, *, whole):
    """One text field searched on either backend; every row gets its ``snippet`` (``whole``:
    the field is short and shown entire rather than as an excerpt)."""
    if _postgres():
        return _pg_search(
            queryset, query, fields, {field: "A"}, {"snippet": (field, whole)}, page, per_page
        )
    rows, total, page = _sqlite_search(queryset, query, fields, {field: 1}, page, per_page)
    for row in rows:
        row["snippet"] = _sqlite_snippet(row[field], query, whole=whole)
    return rows, total, page


def search_claims(
    *,
    user,
    query: str,
    argument_map: ArgumentMap | None = None,
    page: int = 1,
    per_page: int = PER_PAGE,
) -> Results:
    """Claims matching ``query`` that ``user`` may see, best first: in one map, or across the
    maps that may turn up in their search."""
    query, _ = clean_query(query)
    if not query:
        return EMPTY
    claims = _in_scope(permissions.searchable_claims(Claim.objects.all(), user), user, argument_map)
    fields = ("pk", "text", "status", "map__slug", "map__title")
    rows, total, page = _search_text(claims, query, fields, "text", page, per_page, whole=True)
    hits = [
        Hit(
            kind="claim",
            pk=row["pk"],
            url=claim_url(row["map__slug"], row["pk"]),
            snippet=marked_html(row["snippet"]),
            map_slug=row["map__slug"],
            map_title=row["map__title"],
            status=row["status"],
            rank=row["rank"],
        )
        for row in rows
    ]
    return Results(hits=hits, total=total, page=page, per_page=per_page)


def search_comments(
    *,
    user,
    query: str,
    argument_map: ArgumentMap | None = None,
    page: int = 1,
    per_page: int = PER_PAGE,
) -> Results:
    """Comments matching ``query`` that ``user`` may see (never deleted ones), best first."""
    query, _ = clean_query(query)
    if not query:
        return EMPTY
    comments = _in_scope(
        permissions.searchable_comments(Comment.objects.all(), user), user, argument_map
    )
    fields = ("pk", "body", "status", "claim_id", "claim__text", "map__slug", "map__title")
    rows, total, page = _search_text(comments, query, fields, "body", page, per_page, whole=False)
    hits = [
        Hit(
            kind="comment",
            pk=row["pk"],
            url=comment_url(row["map__slug"], row["claim_id"], row["pk"]),
            snippet=marked_html(row["snippet"]),
            map_slug=row["map__slug"],
            map_title=row["map__title"],
            status=row["status"],
            context=row["claim__text"],
            rank=row["rank"],
        )
        for row in rows
    ]
    return Results(hits=hits, total=total, page=page, per_page=per_page)


def search_maps(*, user, query: str, page: int = 1, per_page: int = PER_PAGE) -> Results:
    """Maps whose title or description matches ``query`` among those that may turn up in
    ``user``'s search; a title match ranks above a description match."""
    query, _ = clean_query(query)
    if not query:
        return EMPTY
    maps = permissions.discoverable_maps(ArgumentMap.objects.all(), user)
    fields = ("pk", "slug", "title", "description")
    if _postgres():
        rows, total, page = _pg_search(
            maps,
            query,
            fields,
            {"title": "A", "description": "B"},
            {"title_snippet": ("title", True), "snippet": ("description", False)},
            page,
            per_page,
        )
    else:
        weights = {"title": 4, "description": 1}
        rows, total, page = _sqlite_search(maps, query, fields, weights, page, per_page)
        for row in rows:
            row["title_snippet"] = _sqlite_snippet(row["title"], query, whole=True)
            row["snippet"] = _sqlite_snippet(row["description"], query, whole=False)
    hits = [
        Hit(
            kind="map",
            pk=row["pk"],
            url=reverse("map_detail", kwargs={"slug": row["slug"]}),
            snippet=marked_html(row["snippet"]),
            title=marked_html(row["title_snippet"]),
            map_slug=row["slug"],
            map_title=row["title"],
            rank=row["rank"],
        )
        for row in rows
    ]
    return Results(hits=hits, total=total, page=page, per_page=per_page)


# -- PostgreSQL ----------------------------------------------------------------------------------


def search_vector(weights: dict[str, str]):
    """The tsvector of the weighted fields; the same expression as the GIN indexes (0005)."""
    from django.contrib.postgres.search import SearchVector

    vector = None
    for field, weight in weights.items():
        part = SearchVector(field, config=CONFIG, weight=weight if len(weights) > 1 else None)
        vector = part if vector is None else vector + part
    return vector


def _unmarked(field: str):
    """The field with any START/STOP characters a user typed removed, for ts_headline."""
    return Replace(Replace(F(field), Value(START), Value("")), Value(STOP), Value(""))


def _pg_search(
    queryset: QuerySet,
    query: str,
    fields: tuple[str, ...],
    weights: dict[str, str],
    headlines: dict[str, tuple[str, bool]],
    page: int,
    per_page: int,
) -> tuple[list[dict], int, int]:
    """Full-text match, ts_rank order and ts_headline snippets for one page; and the total."""
    from django.contrib.postgres.search import SearchHeadline, SearchQuery, SearchRank

    search_query = SearchQuery(query, search_type="websearch", config=CONFIG)
    matched = queryset.alias(document=search_vector(weights)).filter(document=search_query)
    total = matched.count()
    page, offset = _page_bounds(page, per_page)
    if total == 0 or offset >= total:
        return [], total, page
    options_whole = {"highlight_all": True}
    options_part = {
        "max_words": 35,
        "min_words": 15,
        "max_fragments": 2,
        "fragment_delimiter": " … ",
    }
    annotations = {
        name: SearchHeadline(
            _unmarked(field),
            search_query,
            config=CONFIG,
            start_sel=START,
            stop_sel=STOP,
            **(options_whole if whole else options_part),
        )
        for name, (field, whole) in headlines.items()
    }
    # ts_headline is costly: PostgreSQL evaluates it after the sort and limit, for this page only.
    rows = (
        matched.annotate(rank=SearchRank(F("document"), search_query))
        .order_by("-rank", "pk")
        .annotate(**annotations)
        .values(*fields, "rank", *annotations)[offset : offset + per_page]
    )
    return list(rows), total, page


# -- SQLite --------------------------------------------------------------------------------------


def query_words(query: str) -> list[str]:
    """The distinct words of the query (letters and digits), at most SQLITE_MAX_WORDS."""
    words: list[str] = []
    for word in re.findall(r"\w+", query):
        if word.casefold() not in (w.casefold() for w in words):
            words.append(word)
    return words[:SQLITE_MAX_WORDS]


def _contains(field: str, word: str) -> Q:
    """Case-insensitive containment; SQLite's LIKE folds ASCII only, so other scripts get their
    common spellings (lower, Capitalized, UPPER) too."""
    condition = Q(**{f"{field}__icontains": word})
    if not word.isascii():
        for variant in {word.lower(), word.capitalize(), word.upper()}:
            condition |= Q(**{f"{field}__contains": variant})
    return condition


def _pattern(words: list[str]) -> re.Pattern[str]:
    longest_first = sorted(words, key=len, reverse=True)
    return re.compile("|".join(re.escape(word) for word in longest_first), re.IGNORECASE)


def _score(text: str, words: list[str], pattern: re.Pattern[str], query: str) -> float | None:
    """Occurrences of the words (each counted up to 5), a bonus for the whole query as a phrase,
    and a little for appearing early; None when the text lacks one of the words."""
    counts: dict[str, int] = {}
    first = None
    for match in pattern.finditer(text):
        key = match.group(0).casefold()
        counts[key] = counts.get(key, 0) + 1
        first = match.start() if first is None else first
    if first is None:
        return None
    score = sum(min(n, 5) for n in counts.values())
    if len(words) > 1 and query.casefold() in text.casefold():
        score += 3
    return score + 0.5 * (1 - first / max(len(text), 1))


def _sqlite_search(
    queryset: QuerySet,
    query: str,
    fields: tuple[str, ...],
    weights: dict[str, int],
    page: int,
    per_page: int,
) -> tuple[list[dict], int, int]:
    """Rows containing every word (in any of the weighted fields), ranked in Python."""
    words = query_words(query)
    if not words:
        return [], 0, 1
    for word in words:
        any_field = Q()
        for field in weights:
            any_field |= _contains(field, word)
        queryset = queryset.filter(any_field)
    pattern = _pattern(words)
    scored = []
    # Newest first, so a search with very many matches ranks the most recent SQLITE_CANDIDATES.
    for row in queryset.order_by("-pk").values(*fields)[:SQLITE_CANDIDATES]:
        total_score, every_word = 0.0, set()
        for field, weight in weights.items():
            text = _strip_markers(row[field] or "")
            score = _score(text, words, pattern, query)
            if score is not None:
                total_score += weight * score
                every_word.update(m.group(0).casefold() for m in pattern.finditer(text))
        # LIKE variants can over-match outside ASCII; keep rows that really have every word.
        if {word.casefold() for word in words} <= every_word:
            row["rank"] = total_score
            scored.append(row)
    scored.sort(key=lambda row: (-row["rank"], row["pk"]))
    page, offset = _page_bounds(page, per_page)
    return scored[offset : offset + per_page], len(scored), page


def _strip_markers(text: str) -> str:
    return text.replace(START, "").replace(STOP, "")


def _sqlite_snippet(text: str, query: str, *, whole: bool) -> str:
    """The text (or, unless ``whole``, a window around the first match) with the matches
    between START and STOP: the shape ts_headline gives on PostgreSQL."""
    text = _strip_markers(text or "")
    words = query_words(query)
    if not words or not text:
        return text if whole else text[:SNIPPET_CHARS]
    pattern = _pattern(words)
    if not whole and len(text) > SNIPPET_CHARS:
        first = pattern.search(text)
        start = max(0, (first.start() if first else 0) - SNIPPET_CHARS // 3)
        if start:
            space = text.find(" ", start)
            start = space + 1 if 0 <= space < start + 30 else start
        end = min(len(text), start + SNIPPET_CHARS)
        if end < len(text):
            space = text.rfind(" ", start, end)
            end = space if space > start + SNIPPET_CHARS // 2 else end
        text = ("…" if start else "") + text[start:end] + ("…" if end < len(text) else "")
    return pattern.sub(lambda m: f"{START}{m.group(0)}{STOP}", text)
