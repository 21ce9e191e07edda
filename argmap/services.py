"""Every write that touches several rows or needs a transaction. Views, the admin, the seed
command and imports all call these, so each invariant is enforced in one place."""

from __future__ import annotations

import functools
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import DatabaseError, OperationalError, connection, transaction
from django.db.models import F
from django.utils import timezone

from argmap import audit, bus, tree
from argmap.anchors import AnchorError, Quote, resolve_quote
from argmap.interchange import Plan
from argmap.models import ArgumentMap, Claim, Notification, Source, text_sha256

logger = logging.getLogger(__name__)

SOURCE_EMPTY = "The article text is empty."
SOURCE_TOO_LARGE = "The article text is larger than {limit} characters."
MAP_SLUG_TAKEN = "A map with the address {slug!r} already exists."
CLAIM_EMPTY = "A claim needs some text."
CLAIM_TOO_LONG = "A claim can be at most {limit} characters long (this one has {length})."
CLAIM_DUPLICATE_SIBLING = "The same claim already stands under this parent."
CLAIM_STANCE_REQUIRED = "Say whether the claim supports or counters its parent."
CLAIM_PARENT_OTHER_MAP = "The parent claim belongs to another map."
CLAIM_NO_SOURCE = "This map has no source article to quote from."
CLAIM_ARCHIVED_READONLY = "An archived claim cannot be edited; restore it first."
CLAIM_PARENT_NOT_OPEN = "The parent claim is not published; claims cannot be added under it."

SOURCE_MAX_CHARS = 1_000_000
RETRY_ATTEMPTS = 5


@dataclass(frozen=True, slots=True)
class QuoteInput:
    """A quote as a client sends it; only ``exact`` is required, the rest narrows it down."""

    exact: str
    prefix: str = ""
    suffix: str = ""
    start: int | None = None
    end: int | None = None

    @classmethod
    def from_dict(cls, data: dict[str, Any] | None) -> QuoteInput | None:
        if not data:
            return None
        return cls(
            exact=data.get("exact") or "",
            prefix=data.get("prefix") or "",
            suffix=data.get("suffix") or "",
            start=data.get("start"),
            end=data.get("end"),
        )


def retry_on_conflict[**P, R](func: Callable[P, R]) -> Callable[P, R]:
    """Retry a whole transaction that lost a deadlock or serialization race (or SQLite busy)."""

    @functools.wraps(func)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        for attempt in range(RETRY_ATTEMPTS):
            try:
                return func(*args, **kwargs)
            except (OperationalError, DatabaseError) as error:
                message = str(error).lower()
                retryable = any(
                    key in message
                    for key in ("deadlock", "could not serialize", "database is locked")
                )
                # Inside an outer transaction the whole outer block must be retried, not this call.
                nested = transaction.get_connection().in_atomic_block
                if not retryable or nested or attempt == RETRY_ATTEMPTS - 1:
                    raise
                logger.info("retrying %s after %s", func.__name__, error)
                time.sleep(0.01 * (2**attempt))
        raise AssertionError("unreachable")

    return wrapper


def _lock_map_and_tick(map_id: int) -> int:
    """Lock the map row for this transaction and advance its version clock; return the new one.

    One statement: on PostgreSQL the UPDATE takes the row lock that serializes structural writes
    in one map until commit; on SQLite the IMMEDIATE transaction already holds the write lock.
    """
    table = ArgumentMap._meta.db_table
    with connection.cursor() as cursor:
        cursor.execute(
            f"UPDATE {table} SET version = version + 1 WHERE id = %s RETURNING version", [map_id]
        )
        row = cursor.fetchone()
    if row is None:
        raise ArgumentMap.DoesNotExist(f"No map {map_id}.")
    version = row[0]
    bus.announce(map_id, version)
    return version


def _clean_text(text: str) -> str:
    cleaned = " ".join((text or "").split())
    if not cleaned:
        raise ValidationError({"text": CLAIM_EMPTY})
    limit = settings.ARGMAP_CLAIM_MAX_LENGTH
    if len(cleaned) > limit:
        raise ValidationError({"text": CLAIM_TOO_LONG.format(limit=limit, length=len(cleaned))})
    return cleaned


def _resolve(source: Source | None, quote: QuoteInput | None) -> Quote | None:
    if quote is None:
        return None
    if source is None:
        raise ValidationError({"quote": CLAIM_NO_SOURCE})
    try:
        return resolve_quote(
            source.text,
            quote.exact,
            prefix=quote.prefix,
            suffix=quote.suffix,
            start=quote.start,
            end=quote.end,
        )
    except AnchorError as error:
        raise ValidationError({"quote": str(error)}) from error


def _apply_quote(claim: Claim, quote: Quote | None) -> None:
    if quote is None:
        claim.quote_exact = claim.quote_prefix = claim.quote_suffix = ""
        claim.quote_start = claim.quote_end = None
    else:
        claim.quote_exact, claim.quote_prefix, claim.quote_suffix = (
            quote.exact,
            quote.prefix,
            quote.suffix,
        )
        claim.quote_start, claim.quote_end = quote.start, quote.end


# simple_history's history_change_reason is a varchar(100): PostgreSQL refuses longer ones.
HISTORY_REASON_MAX = 100


def _save_with_history(obj, *, by, reason: str) -> None:
    obj._history_user = by
    # A moderator's reason may run to 1000 characters (kept whole in ModerationAction.reason).
    if reason and len(reason) > HISTORY_REASON_MAX:
        reason = reason[: HISTORY_REASON_MAX - 1] + "…"
    obj._change_reason = reason or None
    obj.save()


@transaction.atomic
def source_create(
    *,
    title: str,
    text: str,
    publisher: str = "",
    url: str = "",
    published: date | None = None,
    by=None,
    reason: str = "",
) -> Source:
    """Store an article, or return the stored one with the same text (sources are immutable)."""
    if not text or not text.strip():
        raise ValidationError({"text": SOURCE_EMPTY})
    # One line-break convention, so quotes typed or submitted from forms anchor the same way.
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    if len(text) > SOURCE_MAX_CHARS:
        raise ValidationError({"text": SOURCE_TOO_LARGE.format(limit=SOURCE_MAX_CHARS)})
    existing = Source.objects.filter(sha256=text_sha256(text)).first()
    if existing is not None:
        return existing
    source = Source(
        title=title.strip(), text=text, publisher=publisher, url=url, published=published
    )
    source.full_clean(exclude=["sha256"])
    _save_with_history(source, by=by, reason=reason or "Source added")
    return source


@retry_on_conflict
@transaction.atomic
def map_create(
    *,
    slug: str,
    title: str,
    thesis: str,
    description: str = "",
    source: Source | None = None,
    thesis_quote: QuoteInput | None = None,
    owner=None,
    featured: bool = False,
    visibility: str = ArgumentMap.Visibility.PUBLIC,
    reason: str = "",
) -> ArgumentMap:
    """Create a map together with its single thesis."""
    if ArgumentMap.objects.filter(slug=slug).exists():
        raise ValidationError({"slug": MAP_SLUG_TAKEN.format(slug=slug)})
    argument_map = ArgumentMap(
        slug=slug,
        title=title.strip(),
        description=description.strip(),
        source=source,
        owner=owner,
        featured=featured,
        visibility=visibility,
        version=1,
    )
    argument_map.full_clean()
    _save_with_history(argument_map, by=owner, reason=reason or "Map created")
    claim = Claim(
        map=argument_map,
        parent=None,
        stance="",
        text=_clean_text(thesis),
        author=owner,
        position=0,
        changed_in=argument_map.version,
    )
    _apply_quote(claim, _resolve(source, thesis_quote))
    _save_with_history(claim, by=owner, reason=reason or "Thesis stated")
    return argument_map


@retry_on_conflict
@transaction.atomic
def claim_add(
    *,
    parent: Claim,
    stance: str,
    text: str,
    by=None,
    quote: QuoteInput | None = None,
    status: str = Claim.Status.PUBLISHED,
    reason: str = "",
) -> Claim:
    """Add a claim under ``parent`` that supports or counters it."""
    if stance not in Claim.Stance.values:
        raise ValidationError({"stance": CLAIM_STANCE_REQUIRED})
    cleaned = _clean_text(text)
    version = _lock_map_and_tick(parent.map_id)
    # Re-read the parent under the lock: it may have been archived or moved meanwhile.
    parent = Claim.objects.select_related("map__source").get(pk=parent.pk)
    if parent.status != Claim.Status.PUBLISHED:
        raise ValidationError({"parent": CLAIM_PARENT_NOT_OPEN})
    siblings = Claim.objects.filter(parent=parent).exclude(status=Claim.Status.ARCHIVED)
    if any(cleaned.casefold() == t.casefold() for t in siblings.values_list("text", flat=True)):
        raise ValidationError({"text": CLAIM_DUPLICATE_SIBLING})
    claim = Claim(
        map_id=parent.map_id,
        parent=parent,
        stance=stance,
        text=cleaned,
        author=by,
        status=status,
        position=Claim.next_position(parent.pk),
        changed_in=version,
    )
    _apply_quote(claim, _resolve(parent.map.source, quote))
    _save_with_history(claim, by=by, reason=reason or "Claim added")
    _touch([parent.pk], version)
    if stance == Claim.Stance.COUNTER and status == Claim.Status.PUBLISHED:
        # audit.notify skips the parent's author countering themselves.
        audit.notify(
            recipient=parent.author,
            kind=Notification.Kind.COUNTERED,
            argument_map=parent.map,
            actor=by,
            claim=claim,
        )
    return claim


@retry_on_conflict
@transaction.atomic
def map_import(
    *,
    plan: Plan,
    owner=None,
    slug: str | None = None,
    reason: str = "Imported",
    batch_size: int = 1000,
) -> ArgumentMap:
    """Create a whole map from a validated interchange plan, all or nothing."""
    source = None
    if plan.source is not None:
        source = source_create(**plan.source, by=owner, reason=reason)
    thesis, *rest = plan.claims
    argument_map = map_create(
        slug=slug or plan.slug,
        title=plan.title,
        description=plan.description,
        thesis=thesis.text,
        source=source,
        thesis_quote=QuoteInput(**thesis.quote.as_dict()) if thesis.quote else None,
        owner=owner,
        featured=plan.featured,
        visibility=plan.visibility,
        reason=reason,
    )
    version = _lock_map_and_tick(argument_map.pk)
    thesis_claim = argument_map.claims.get()
    if thesis.status != thesis_claim.status:
        thesis_claim.status = thesis.status
        _save_with_history(thesis_claim, by=owner, reason=reason)
    ids = {thesis.key: thesis_claim.pk}
    positions: dict[str, int] = {}
    # Claims come parents-first; create them depth by depth so each level knows its parents' ids.
    for depth in sorted({claim.depth for claim in rest}):
        level = [claim for claim in rest if claim.depth == depth]
        objs = []
        for planned in level:
            position = positions.get(planned.parent, 0)
            positions[planned.parent] = position + 1
            claim = Claim(
                map=argument_map,
                parent_id=ids[planned.parent],
                stance=planned.stance,
                text=planned.text,
                status=planned.status,
                author=owner,
                position=position,
                changed_in=version,
            )
            _apply_quote(claim, planned.quote)
            objs.append(claim)
        created = Claim.objects.bulk_create(objs, batch_size=batch_size)
        Claim.history.bulk_history_create(
            created, batch_size=batch_size, default_user=owner, default_change_reason=reason
        )
        ids.update((planned.key, obj.pk) for planned, obj in zip(level, created, strict=True))
    return argument_map


class ClaimConflict(Exception):
    """The claim changed since the version an edit was based on; carries the current claim."""

    def __init__(self, current: Claim):
        self.current = current
        super().__init__(f"Claim {current.pk} is at version {current.version}.")


@retry_on_conflict
@transaction.atomic
def claim_edit(
    *,
    claim: Claim,
    expected_version: int,
    text: str,
    quote: QuoteInput | None,
    by=None,
    reason: str = "",
) -> Claim:
    """Change a claim's text and quote if nobody changed it since ``expected_version``.

    The update is conditional (``WHERE version = expected``); on a mismatch ClaimConflict carries
    the current claim so the caller can show it beside the user's draft. A history row is written
    explicitly because ``QuerySet.update`` bypasses django-simple-history.
    """
    cleaned = _clean_text(text)
    version = _lock_map_and_tick(claim.map_id)
    current = Claim.objects.select_related("map__source").get(pk=claim.pk)
    if current.version != expected_version:
        raise ClaimConflict(current)
    if current.status == Claim.Status.ARCHIVED:
        raise ValidationError(CLAIM_ARCHIVED_READONLY)
    if current.parent_id is not None:
        siblings = (
            Claim.objects.filter(parent_id=current.parent_id)
            .exclude(pk=current.pk)
            .exclude(status=Claim.Status.ARCHIVED)
            .values_list("text", flat=True)
        )
        if any(cleaned.casefold() == sibling.casefold() for sibling in siblings):
            raise ValidationError({"text": CLAIM_DUPLICATE_SIBLING})
    resolved = _resolve(current.map.source, quote)
    _apply_quote(current, resolved)
    current.text = cleaned
    updated = Claim.objects.filter(pk=current.pk, version=expected_version).update(
        text=cleaned,
        quote_exact=current.quote_exact,
        quote_prefix=current.quote_prefix,
        quote_suffix=current.quote_suffix,
        quote_start=current.quote_start,
        quote_end=current.quote_end,
        version=F("version") + 1,
        changed_in=version,
        updated_at=timezone.now(),
    )
    if updated != 1:
        raise ClaimConflict(Claim.objects.get(pk=current.pk))
    current.refresh_from_db()
    Claim.history.bulk_history_create(
        [current], update=True, default_user=by, default_change_reason=reason or "Claim edited"
    )
    return current


CLAIM_THESIS_FIXED = "The thesis cannot be moved, archived or reordered."
CLAIM_MOVE_INTO_SUBTREE = "A claim cannot move under itself or under one of its own descendants."
CLAIM_NOT_ARCHIVED = "Only an archived claim can be restored."
CLAIM_RESTORE_PARENT_FIRST = "Its parent is archived: restore the parent first."
CLAIM_ALREADY_ARCHIVED = "The claim is already archived."
CLAIM_REVERT_OTHER = "That version belongs to another claim."


def _touch(claim_ids: list[int | None], version: int) -> None:
    """Mark claims whose children changed, so live readers re-render their counts."""
    ids = [pk for pk in claim_ids if pk is not None]
    if ids:
        Claim.objects.filter(pk__in=ids).update(changed_in=version)


@retry_on_conflict
@transaction.atomic
def claim_move(*, claim: Claim, new_parent: Claim, stance: str, by=None, reason: str = "") -> Claim:
    """Move a claim with its subtree under another claim of the same map.

    The map row is locked first and ancestry is re-checked after the lock, so two concurrent
    moves cannot build a cycle between them.
    """
    if stance not in Claim.Stance.values:
        raise ValidationError({"stance": CLAIM_STANCE_REQUIRED})
    version = _lock_map_and_tick(claim.map_id)
    current = Claim.objects.get(pk=claim.pk)
    target = Claim.objects.get(pk=new_parent.pk)
    if current.parent_id is None:
        raise ValidationError(CLAIM_THESIS_FIXED)
    if target.map_id != current.map_id:
        raise ValidationError({"parent": CLAIM_PARENT_OTHER_MAP})
    if target.status != Claim.Status.PUBLISHED:
        raise ValidationError({"parent": CLAIM_PARENT_NOT_OPEN})
    if target.pk == current.pk or current.pk in tree.ancestor_ids(target.pk):
        raise ValidationError({"parent": CLAIM_MOVE_INTO_SUBTREE})
    old_parent = current.parent_id
    if old_parent != target.pk:
        current.position = Claim.next_position(target.pk)
    current.parent = target
    current.stance = stance
    current.changed_in = version
    _save_with_history(current, by=by, reason=reason or "Claim moved")
    _touch([old_parent, target.pk], version)
    return current


@retry_on_conflict
@transaction.atomic
def claim_reorder(*, claim: Claim, offset: int, by=None, reason: str = "") -> Claim:
    """Move a claim ``offset`` places among its siblings (-1 up, +1 down), clamped to the ends."""
    version = _lock_map_and_tick(claim.map_id)
    current = Claim.objects.get(pk=claim.pk)
    if current.parent_id is None:
        raise ValidationError(CLAIM_THESIS_FIXED)
    siblings = list(Claim.objects.children_of(current.parent_id))
    index = next(i for i, sibling in enumerate(siblings) if sibling.pk == current.pk)
    siblings.insert(max(0, min(len(siblings) - 1, index + offset)), siblings.pop(index))
    for position, sibling in enumerate(siblings):
        if sibling.position != position:
            sibling.position = position
            sibling.changed_in = version
            _save_with_history(sibling, by=by, reason=reason or "Claims reordered")
    _touch([current.parent_id], version)
    return Claim.objects.get(pk=current.pk)


def _set_status(
    ids: list[int], status: str, archived_with: int | None, version: int, *, by, reason: str
) -> None:
    """Change many claims' status in one UPDATE, with the history rows it would otherwise skip."""
    Claim.objects.filter(pk__in=ids).update(
        status=status, archived_with=archived_with, changed_in=version
    )
    Claim.history.bulk_history_create(
        list(Claim.objects.filter(pk__in=ids)),
        update=True,
        default_user=by,
        default_change_reason=reason,
    )


@retry_on_conflict
@transaction.atomic
def claim_archive(*, claim: Claim, by=None, reason: str = "") -> list[int]:
    """Archive a claim together with its subtree; return the ids archived. Restorable."""
    version = _lock_map_and_tick(claim.map_id)
    current = Claim.objects.get(pk=claim.pk)
    if current.parent_id is None:
        raise ValidationError(CLAIM_THESIS_FIXED)
    if current.status == Claim.Status.ARCHIVED:
        raise ValidationError(CLAIM_ALREADY_ARCHIVED)
    swept = Claim.objects.filter(pk__in=tree.subtree_ids(current.pk)).exclude(
        status=Claim.Status.ARCHIVED
    )
    ids = list(swept.values_list("pk", flat=True))
    _set_status(ids, Claim.Status.ARCHIVED, current.pk, version, by=by, reason=reason or "Archived")
    _touch([current.parent_id], version)
    return ids


@retry_on_conflict
@transaction.atomic
def claim_restore(*, claim: Claim, by=None, reason: str = "") -> list[int]:
    """Restore an archived claim and exactly the claims its archiving swept along."""
    version = _lock_map_and_tick(claim.map_id)
    current = Claim.objects.select_related("parent").get(pk=claim.pk)
    if current.status != Claim.Status.ARCHIVED:
        raise ValidationError(CLAIM_NOT_ARCHIVED)
    if current.parent is not None and current.parent.status == Claim.Status.ARCHIVED:
        raise ValidationError(CLAIM_RESTORE_PARENT_FIRST)
    root = current.archived_with_id or current.pk
    swept = Claim.objects.filter(map_id=current.map_id, archived_with=root)
    ids = list(swept.values_list("pk", flat=True)) or [current.pk]
    _set_status(ids, Claim.Status.PUBLISHED, None, version, by=by, reason=reason or "Restored")
    _touch([current.parent_id], version)
    return ids


def claim_revert(
    *, claim: Claim, history_id: int, expected_version: int, by=None, reason: str = ""
) -> Claim:
    """Bring back the text and quote of an earlier version; the revert is itself a new version."""
    record = Claim.history.filter(history_id=history_id).first()
    if record is None or record.id != claim.pk:
        raise ValidationError(CLAIM_REVERT_OTHER)
    quote = (
        QuoteInput(
            exact=record.quote_exact,
            prefix=record.quote_prefix,
            suffix=record.quote_suffix,
            start=record.quote_start,
            end=record.quote_end,
        )
        if record.quote_start is not None
        else None
    )
    return claim_edit(
        claim=claim,
        expected_version=expected_version,
        text=record.text,
        quote=quote,
        by=by,
        reason=reason or f"Reverted to version {record.version}",
    )
