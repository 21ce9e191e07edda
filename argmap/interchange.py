"""The Argmap JSON interchange format (``argmap/1``): export a map, and validate a document.

Validation is pure: it reads a document and returns a plan, or raises :class:`DocumentError`
listing every problem, each naming the claim it is about. ``services.map_import`` then writes the
plan in one transaction. The format is documented in ``docs/formats.md``.
"""

from __future__ import annotations

import json
from collections import deque
from collections.abc import Collection
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import Any

from django.conf import settings
from django.db.models import Count, Max

from argmap.anchors import AnchorError, Quote, resolve_quote
from argmap.models import ArgumentMap, Claim, ClaimAnchor, Comment, Vote

FORMAT = "argmap/1"

DOC_NOT_OBJECT = "The document must be a JSON object with 'map', 'source' and 'claims'."
DOC_BAD_FORMAT = "Unknown format {found!r}; expected {expected!r}."
DOC_NO_THESIS = "The map has no thesis (a claim whose parent is null)."
DOC_SECOND_THESIS = "claim {id!r}: a second thesis (parent is null) besides claim {first!r}."
DOC_DUPLICATE_ID = "claim {id!r}: the id is used twice."
DOC_DANGLING_PARENT = "claim {id!r}: its parent {parent!r} does not exist in the file."
DOC_CYCLE = "claim {id!r}: its parent chain forms a cycle ({chain})."
DOC_BAD_STANCE = "claim {id!r}: stance must be 'support' or 'counter', not {stance!r}."
DOC_THESIS_STANCE = "claim {id!r}: the thesis has no stance (found {stance!r})."
DOC_BAD_TEXT = "claim {id!r}: {problem}"
DOC_BAD_QUOTE = "claim {id!r}: the quote does not match the article: {problem} (quote: {exact!r})"
DOC_QUOTE_NO_SOURCE = "claim {id!r}: has a quote but the document has no source text."
DOC_BAD_STATUS = "claim {id!r}: unknown status {status!r}."
DOC_SOURCE_FILE = "source: cannot read text_file {path!r}: {problem}"
DOC_MISSING = "{where}: {key!r} is required."
DOC_BAD_TYPE = "{where}: {key!r} must be {expected}."
DOC_DUPLICATE_SIBLING = (
    "claim {id!r}: the same text already stands under {parent!r} (claim {other!r})."
)
DOC_BAD_MAP_CHOICE = "map: {key!r} must be one of {choices}, not {value!r}."
DOC_BAD_ANCHOR = "claim {id!r}: anchor {index}: {problem}"
DOC_COMMENT_DUPLICATE_ID = "claim {id!r}: comment {comment!r}: the id is used twice."
DOC_COMMENT_BAD_PARENT = (
    "claim {id!r}: comment {comment!r}: its parent {parent!r} is not an earlier comment on this "
    "claim."
)
DOC_COMMENT_EMPTY = "claim {id!r}: comment {comment!r}: the body is empty."
DOC_COMMENT_TOO_LONG = (
    "claim {id!r}: comment {comment!r}: the body has {length} characters; at most {limit} are "
    "allowed."
)
DOC_COMMENT_BAD_STATUS = "claim {id!r}: comment {comment!r}: unknown status {status!r}."
DOC_COMMENT_BAD_DATE = (
    "claim {id!r}: comment {comment!r}: 'created' must be an ISO date and time, not {value!r}."
)


class DocumentError(ValueError):
    """A document that cannot be imported; ``errors`` lists every problem found."""

    def __init__(self, errors: list[str]):
        self.errors = errors
        super().__init__("\n".join(errors))


@dataclass(slots=True)
class PlannedComment:
    key: str
    parent: str | None
    author: str | None
    body: str
    status: str
    created: datetime | None


@dataclass(slots=True)
class PlannedClaim:
    key: str
    parent: str | None
    stance: str
    text: str
    status: str
    quote: Quote | None
    depth: int = 0
    # Optional extras of the extended format; files without them import as before.
    author: str | None = None
    locked: bool = False
    anchors: list[Quote] = field(default_factory=list)
    comments: list[PlannedComment] = field(default_factory=list)


@dataclass(slots=True)
class Plan:
    slug: str
    title: str
    description: str
    featured: bool
    visibility: str
    source: dict[str, Any] | None
    claims: list[PlannedClaim] = field(default_factory=list)  # thesis first, parents before kids
    status: str = ArgumentMap.Status.OPEN
    moderation_policy: str = ArgumentMap.ModerationPolicy.POST


def _key(value: Any) -> str:
    return str(value)


def _clean_claim_text(text: Any) -> tuple[str | None, str | None]:
    cleaned = " ".join(str(text or "").split())
    if not cleaned:
        return None, "the text is empty."
    limit = settings.ARGMAP_CLAIM_MAX_LENGTH
    if len(cleaned) > limit:
        return None, f"the text has {len(cleaned)} characters; at most {limit} are allowed."
    return cleaned, None


def plan_document(document: Any, *, base_dir: Path | None = None) -> Plan:
    """Validate an ``argmap/1`` document and return what to create, or raise DocumentError."""
    if not isinstance(document, dict) or not isinstance(document.get("claims"), list):
        raise DocumentError([DOC_NOT_OBJECT])
    errors: list[str] = []
    found_format = document.get("format", FORMAT)
    if found_format != FORMAT:
        errors.append(DOC_BAD_FORMAT.format(found=found_format, expected=FORMAT))
    meta = document.get("map") or {}
    if not isinstance(meta, dict):
        errors.append(DOC_BAD_TYPE.format(where="document", key="map", expected="an object"))
        meta = {}
    for key in ("slug", "title"):
        if not meta.get(key):
            errors.append(DOC_MISSING.format(where="map", key=key))
    for key, choices in (
        ("visibility", ArgumentMap.Visibility.values),
        ("status", ArgumentMap.Status.values),
        ("moderation_policy", ArgumentMap.ModerationPolicy.values),
    ):
        value = meta.get(key)
        if value is not None and value not in choices:
            errors.append(
                DOC_BAD_MAP_CHOICE.format(key=key, choices=", ".join(choices), value=value)
            )

    source = _read_source(document.get("source"), base_dir, errors)
    text = source["text"] if source else None

    rows: dict[str, dict[str, Any]] = {}
    order: list[str] = []
    thesis: str | None = None
    for index, raw in enumerate(document["claims"]):
        if not isinstance(raw, dict) or "id" not in raw:
            errors.append(DOC_MISSING.format(where=f"claims[{index}]", key="id"))
            continue
        key = _key(raw["id"])
        if key in rows:
            errors.append(DOC_DUPLICATE_ID.format(id=key))
            continue
        rows[key] = raw
        order.append(key)
        if raw.get("parent") is None:
            if thesis is None:
                thesis = key
            else:
                errors.append(DOC_SECOND_THESIS.format(id=key, first=thesis))
    if thesis is None and rows:
        errors.append(DOC_NO_THESIS)

    planned: dict[str, PlannedClaim] = {}
    comment_ids: set[str] = set()
    for key in order:
        raw = rows[key]
        parent = None if raw.get("parent") is None else _key(raw["parent"])
        stance = raw.get("stance") or ""
        if parent is None and key == thesis and stance:
            errors.append(DOC_THESIS_STANCE.format(id=key, stance=stance))
        elif parent is not None:
            if parent not in rows:
                errors.append(DOC_DANGLING_PARENT.format(id=key, parent=parent))
            if stance not in Claim.Stance.values:
                errors.append(DOC_BAD_STANCE.format(id=key, stance=stance))
        cleaned, problem = _clean_claim_text(raw.get("text"))
        if problem:
            errors.append(DOC_BAD_TEXT.format(id=key, problem=problem))
        status = raw.get("status") or Claim.Status.PUBLISHED
        if status not in Claim.Status.values:
            errors.append(DOC_BAD_STATUS.format(id=key, status=status))
        quote = _plan_quote(key, raw.get("quote"), text, source is not None, errors)
        planned[key] = PlannedClaim(
            key,
            parent,
            stance,
            cleaned or "",
            status,
            quote,
            author=str(raw["author"]) if raw.get("author") else None,
            locked=bool(raw.get("locked", False)),
            anchors=_plan_anchors(key, raw.get("anchors"), text, source is not None, errors),
            comments=_plan_comments(key, raw.get("comments"), comment_ids, errors),
        )

    _check_sibling_texts(planned, errors)
    ordered = _order_from_thesis(thesis, planned, errors)
    if errors:
        raise DocumentError(errors)
    return Plan(
        slug=str(meta["slug"]),
        title=str(meta["title"]),
        description=str(meta.get("description") or ""),
        featured=bool(meta.get("featured", False)),
        visibility=str(meta.get("visibility") or ArgumentMap.Visibility.PUBLIC),
        source=source,
        claims=ordered,
        status=str(meta.get("status") or ArgumentMap.Status.OPEN),
        moderation_policy=str(meta.get("moderation_policy") or ArgumentMap.ModerationPolicy.POST),
    )


def _read_source(raw: Any, base_dir: Path | None, errors: list[str]) -> dict[str, Any] | None:
    if not raw:
        return None
    if not isinstance(raw, dict):
        errors.append(DOC_BAD_TYPE.format(where="document", key="source", expected="an object"))
        return None
    text = raw.get("text")
    if text is not None and not isinstance(text, str):
        errors.append(DOC_BAD_TYPE.format(where="source", key="text", expected="a string"))
        return None
    if text is None and raw.get("text_file"):
        path = (base_dir or Path.cwd()) / raw["text_file"]
        try:
            text = path.read_text(encoding="utf-8")
        except OSError as error:
            errors.append(DOC_SOURCE_FILE.format(path=str(raw["text_file"]), problem=error))
            return None
    if not text:
        errors.append(DOC_MISSING.format(where="source", key="text"))
        return None
    published = raw.get("published")
    if published:
        try:
            published = date.fromisoformat(published)
        except (TypeError, ValueError):
            errors.append(
                DOC_BAD_TYPE.format(where="source", key="published", expected="a YYYY-MM-DD date")
            )
            return None
    return {
        "title": str(raw.get("title") or ""),
        "publisher": str(raw.get("publisher") or ""),
        "url": str(raw.get("url") or ""),
        "published": published or None,
        "text": text,
    }


def _plan_quote(
    key: str, raw: Any, text: str | None, has_source: bool, errors: list[str]
) -> Quote | None:
    if not raw:
        return None
    if not isinstance(raw, dict):
        errors.append(
            DOC_BAD_TYPE.format(where=f"claim {key!r}", key="quote", expected="an object")
        )
        return None
    if text is None:
        if not has_source:
            errors.append(DOC_QUOTE_NO_SOURCE.format(id=key))
        return None
    try:
        return resolve_quote(
            text,
            raw.get("exact") or "",
            prefix=raw.get("prefix") or "",
            suffix=raw.get("suffix") or "",
            start=raw.get("start"),
            end=raw.get("end"),
        )
    except AnchorError as error:
        errors.append(DOC_BAD_QUOTE.format(id=key, problem=error, exact=raw.get("exact")))
        return None


def _plan_anchors(
    key: str, raw: Any, text: str | None, has_source: bool, errors: list[str]
) -> list[Quote]:
    """Extra anchors (``ClaimAnchor``): a list of quotes, each resolved like the claim's quote."""
    if not raw:
        return []
    if not isinstance(raw, list):
        errors.append(DOC_BAD_TYPE.format(where=f"claim {key!r}", key="anchors", expected="a list"))
        return []
    anchors: list[Quote] = []
    for index, item in enumerate(raw):
        if not isinstance(item, dict):
            problem = "must be an object with 'exact' and optional offsets."
            errors.append(DOC_BAD_ANCHOR.format(id=key, index=index, problem=problem))
            continue
        if text is None:
            if not has_source:
                errors.append(DOC_QUOTE_NO_SOURCE.format(id=key))
            continue
        try:
            quote = resolve_quote(
                text,
                item.get("exact") or "",
                prefix=item.get("prefix") or "",
                suffix=item.get("suffix") or "",
                start=item.get("start"),
                end=item.get("end"),
            )
        except AnchorError as error:
            errors.append(DOC_BAD_ANCHOR.format(id=key, index=index, problem=error))
            continue
        if all((quote.start, quote.end) != (a.start, a.end) for a in anchors):
            anchors.append(quote)
    return anchors


def _plan_comments(
    key: str, raw: Any, comment_ids: set[str], errors: list[str]
) -> list[PlannedComment]:
    """A claim's discussion: comments in order, each reply after the comment it answers."""
    if not raw:
        return []
    if not isinstance(raw, list):
        errors.append(
            DOC_BAD_TYPE.format(where=f"claim {key!r}", key="comments", expected="a list")
        )
        return []
    limit = settings.ARGMAP_COMMENT_MAX_LENGTH
    planned: list[PlannedComment] = []
    here: set[str] = set()
    for index, item in enumerate(raw):
        if not isinstance(item, dict) or "id" not in item:
            errors.append(DOC_MISSING.format(where=f"claim {key!r}: comments[{index}]", key="id"))
            continue
        comment = _key(item["id"])
        if comment in comment_ids:
            errors.append(DOC_COMMENT_DUPLICATE_ID.format(id=key, comment=comment))
            continue
        comment_ids.add(comment)
        parent = None if item.get("parent") is None else _key(item["parent"])
        if parent is not None and parent not in here:
            errors.append(DOC_COMMENT_BAD_PARENT.format(id=key, comment=comment, parent=parent))
        here.add(comment)
        status = item.get("status") or Comment.Status.VISIBLE
        if status not in Comment.Status.values:
            errors.append(DOC_COMMENT_BAD_STATUS.format(id=key, comment=comment, status=status))
        body = item.get("body")
        body = body if isinstance(body, str) else ""
        if not body.strip() and status != Comment.Status.DELETED:
            errors.append(DOC_COMMENT_EMPTY.format(id=key, comment=comment))
        elif len(body) > limit:
            errors.append(
                DOC_COMMENT_TOO_LONG.format(id=key, comment=comment, length=len(body), limit=limit)
            )
        created = item.get("created")
        if created is not None:
            try:
                created = datetime.fromisoformat(created)
            except (TypeError, ValueError):
                errors.append(DOC_COMMENT_BAD_DATE.format(id=key, comment=comment, value=created))
                created = None
        author = item.get("author")
        planned.append(
            PlannedComment(comment, parent, str(author) if author else None, body, status, created)
        )
    return planned


def _check_sibling_texts(planned: dict[str, PlannedClaim], errors: list[str]) -> None:
    """Claims under one parent must differ (as ``services.claim_add`` insists)."""
    seen: dict[tuple[str | None, str], str] = {}
    for key, claim in planned.items():
        if claim.parent is None or not claim.text or claim.status == Claim.Status.ARCHIVED:
            continue
        other = seen.setdefault((claim.parent, claim.text.casefold()), key)
        if other != key:
            errors.append(DOC_DUPLICATE_SIBLING.format(id=key, parent=claim.parent, other=other))


def _order_from_thesis(
    thesis: str | None, planned: dict[str, PlannedClaim], errors: list[str]
) -> list[PlannedClaim]:
    """Breadth-first from the thesis; anything unreachable sits on a cycle (or under one)."""
    children: dict[str, list[str]] = {}
    for key, claim in planned.items():
        if claim.parent is not None and claim.parent in planned:
            children.setdefault(claim.parent, []).append(key)
    ordered: list[PlannedClaim] = []
    if thesis is not None and thesis in planned:
        queue = deque([thesis])
        while queue:
            key = queue.popleft()
            ordered.append(planned[key])
            for child in children.get(key, []):
                planned[child].depth = planned[key].depth + 1
                queue.append(child)
    reached = {claim.key for claim in ordered}
    reported: set[str] = set()
    for key, claim in planned.items():
        if key in reached or key in reported or claim.parent is None:
            continue
        chain, seen, current = [key], {key}, claim.parent
        while current in planned and current not in seen and current not in reached:
            chain.append(current)
            seen.add(current)
            current = planned[current].parent
        if current in seen:  # the walk came back to itself: a cycle
            loop = [*chain[chain.index(current) :], current]
            if not reported.intersection(loop):
                errors.append(DOC_CYCLE.format(id=current, chain=" → ".join(loop)))
            reported.update(loop)
    return ordered


def export_map(
    argument_map: ArgumentMap, *, statuses: Collection[str] | None = None
) -> dict[str, Any]:
    """The map as an ``argmap/1`` document: every claim, or only those whose status is in
    ``statuses`` (with their descendants dropped along with them), plus each claim's extras."""
    source = argument_map.source
    fields = (
        "pk",
        "parent_id",
        "stance",
        "text",
        "status",
        "position",
        "locked",
        "quote_exact",
        "quote_prefix",
        "quote_suffix",
        "quote_start",
        "quote_end",
        "author__username",
        "created_at",
        "updated_at",
    )
    rows = Claim.objects.filter(map=argument_map).order_by("parent_id", "position", "pk")
    claims = []
    for row in rows.values_list(*fields):
        record = dict(zip(fields, row, strict=True))
        claims.append(
            {
                "id": record["pk"],
                "parent": record["parent_id"],
                "stance": record["stance"] or None,
                "text": record["text"],
                "status": record["status"],
                "position": record["position"],
                "locked": record["locked"],
                "author": record["author__username"],
                "created": record["created_at"].isoformat(),
                "updated": record["updated_at"].isoformat(),
                "quote": None
                if record["quote_start"] is None
                else {
                    "exact": record["quote_exact"],
                    "prefix": record["quote_prefix"],
                    "suffix": record["quote_suffix"],
                    "start": record["quote_start"],
                    "end": record["quote_end"],
                },
            }
        )
    # Parents before children, so the document reads top-down and imports in one pass.
    claims = _topological(claims, statuses)
    _add_extras(argument_map, claims, full=statuses is None)
    return {
        "format": FORMAT,
        "map": {
            "slug": argument_map.slug,
            "title": argument_map.title,
            "description": argument_map.description,
            "visibility": argument_map.visibility,
            "status": argument_map.status,
            "moderation_policy": argument_map.moderation_policy,
            "featured": argument_map.featured,
            "version": argument_map.version,
        },
        "source": None
        if source is None
        else {
            "title": source.title,
            "publisher": source.publisher,
            "url": source.url,
            "published": source.published.isoformat() if source.published else None,
            "sha256": source.sha256,
            "text": source.text,
        },
        "claims": claims,
    }


def _add_extras(argument_map: ArgumentMap, claims: list[dict[str, Any]], *, full: bool) -> None:
    """Votes aggregates, extra anchors, comments and a history summary, a few queries in all.

    ``full`` exports every comment; otherwise a reader's view: visible comments, and deleted
    ones as bodiless tombstones so replies keep their place in the thread.
    """
    by_id = {claim["id"]: claim for claim in claims}
    for claim in claims:
        claim.update(
            votes={"count": 0, "mean": None, "counts": [0] * (Vote.MAX - Vote.MIN + 1)},
            anchors=[],
            comments=[],
            history={"versions": 0, "last_change": None},
        )
    votes = Vote.objects.filter(claim__map=argument_map).order_by().values("claim_id", "value")
    for claim_id, value, n in votes.annotate(n=Count("pk")).values_list("claim_id", "value", "n"):
        if claim_id in by_id:
            by_id[claim_id]["votes"]["counts"][value - Vote.MIN] += n
    for claim in claims:
        counts = claim["votes"]["counts"]
        total = sum(counts)
        claim["votes"]["count"] = total
        if total:
            weighted = sum((Vote.MIN + i) * n for i, n in enumerate(counts))
            claim["votes"]["mean"] = round(weighted / total, 3)
    anchor_fields = ("claim_id", "exact", "prefix", "suffix", "start", "end")
    anchors = ClaimAnchor.objects.filter(claim__map=argument_map).order_by("claim_id", "start")
    for claim_id, exact, prefix, suffix, start, end in anchors.values_list(*anchor_fields):
        if claim_id in by_id:
            by_id[claim_id]["anchors"].append(
                {"exact": exact, "prefix": prefix, "suffix": suffix, "start": start, "end": end}
            )
    comments = Comment.objects.filter(map=argument_map).order_by("created_at", "pk")
    if not full:
        comments = comments.filter(status__in=[Comment.Status.VISIBLE, Comment.Status.DELETED])
    kept: set[int] = set()
    comment_fields = ("pk", "claim_id", "parent_id", "author__username", "body", "status")
    for pk, claim_id, parent_id, author, body, status, created in comments.values_list(
        *comment_fields, "created_at"
    ):
        if claim_id not in by_id or (parent_id is not None and parent_id not in kept):
            continue
        kept.add(pk)
        deleted = status == Comment.Status.DELETED
        by_id[claim_id]["comments"].append(
            {
                "id": pk,
                "parent": parent_id,
                "author": None if deleted and not full else author,
                "body": "" if deleted and not full else body,
                "status": status,
                "created": created.isoformat(),
            }
        )
    history = Claim.history.filter(map_id=argument_map.pk).order_by().values("id")
    for claim_id, versions, last in history.annotate(
        versions=Count("history_id"), last=Max("history_date")
    ).values_list("id", "versions", "last"):
        if claim_id in by_id:
            by_id[claim_id]["history"] = {"versions": versions, "last_change": last.isoformat()}


def _topological(
    claims: list[dict[str, Any]], statuses: Collection[str] | None = None
) -> list[dict[str, Any]]:
    """Breadth-first from the thesis; a claim left out by ``statuses`` takes its subtree along
    (the thesis always stays: a map without one is no map)."""
    children: dict[Any, list[dict[str, Any]]] = {}
    for claim in claims:
        children.setdefault(claim["parent"], []).append(claim)
    ordered, queue = [], deque(children.get(None, []))
    while queue:
        claim = queue.popleft()
        parent, status = claim["parent"], claim["status"]
        if statuses is not None and parent is not None and status not in statuses:
            continue
        ordered.append(claim)
        queue.extend(children.get(claim["id"], []))
    return ordered


def dumps(document: dict[str, Any]) -> str:
    return json.dumps(document, ensure_ascii=False, indent=2) + "\n"
