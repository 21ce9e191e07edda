"""The Argmap JSON interchange format (``argmap/1``): export a map, and validate a document.

Validation is pure: it reads a document and returns a plan, or raises :class:`DocumentError`
listing every problem, each naming the claim it is about. ``services.map_import`` then writes the
plan in one transaction. The format is documented in ``docs/formats.md``.
"""

from __future__ import annotations

import json
from collections import deque
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

from django.conf import settings

from argmap.anchors import AnchorError, Quote, resolve_quote
from argmap.models import ArgumentMap, Claim

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


class DocumentError(ValueError):
    """A document that cannot be imported; ``errors`` lists every problem found."""

    def __init__(self, errors: list[str]):
        self.errors = errors
        super().__init__("\n".join(errors))


@dataclass(slots=True)
class PlannedClaim:
    key: str
    parent: str | None
    stance: str
    text: str
    status: str
    quote: Quote | None
    depth: int = 0


@dataclass(slots=True)
class Plan:
    slug: str
    title: str
    description: str
    featured: bool
    visibility: str
    source: dict[str, Any] | None
    claims: list[PlannedClaim] = field(default_factory=list)  # thesis first, parents before kids


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
        planned[key] = PlannedClaim(key, parent, stance, cleaned or "", status, quote)

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


def export_map(argument_map: ArgumentMap) -> dict[str, Any]:
    """The whole map as an ``argmap/1`` document (every claim, whatever its status)."""
    source = argument_map.source
    fields = (
        "pk",
        "parent_id",
        "stance",
        "text",
        "status",
        "position",
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
    claims = _topological(claims)
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


def _topological(claims: list[dict[str, Any]]) -> list[dict[str, Any]]:
    children: dict[Any, list[dict[str, Any]]] = {}
    for claim in claims:
        children.setdefault(claim["parent"], []).append(claim)
    ordered, queue = [], deque(children.get(None, []))
    while queue:
        claim = queue.popleft()
        ordered.append(claim)
        queue.extend(children.get(claim["id"], []))
    return ordered


def dumps(document: dict[str, Any]) -> str:
    return json.dumps(document, ensure_ascii=False, indent=2) + "\n"
