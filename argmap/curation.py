"""Curation services: a new map from an article, merging duplicate claims (and undoing it), and
the curator's actions on whole maps and on many claims or comments at once.

Like ``argmap/services.py``, every function here is keyword-only and transactional; the admin and
the curation views call these and nothing else, so history rows, the live clock and the moderation
log are written the same way whoever acts.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Count, Max

from argmap import audit, tree
from argmap.models import (
    ArgumentMap,
    Claim,
    ClaimAnchor,
    Comment,
    ModerationAction,
    Source,
    Vote,
    text_sha256,
)
from argmap.services import (
    _lock_map_and_tick,
    _save_with_history,
    _touch,
    map_create,
    retry_on_conflict,
    source_create,
)

Action = ModerationAction.Action

MERGE_SAME_CLAIM = "A claim cannot be merged into itself."
MERGE_OTHER_MAP = "Both claims must belong to the same map."
MERGE_THESIS = "The thesis cannot be merged away; merge the other claim into it instead."
MERGE_INTO_DESCENDANT = (
    "The claim to keep lies under the duplicate: merging would put the duplicate's children "
    "under their own descendant. Move the claim to keep out of that subtree first, or merge the "
    "other way round."
)
MERGE_DUPLICATE_GONE = "The duplicate is already archived or merged; restore it first."
MERGE_KEEP_NOT_PUBLISHED = "The claim to keep must be published."
UNMERGE_NOT_A_MERGE = "That log entry is not a merge."
UNMERGE_ALREADY_UNDONE = "This merge was already undone (or the duplicate changed since)."
UNMERGE_WOULD_CYCLE = (
    "The claims changed since the merge so that undoing it would put a claim under its own "
    "descendant; move them apart first."
)
MAP_ALREADY = "The map is already {state}."


# -- a new map from an article --------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class NewMap:
    """What ``map_from_article`` made: the map, its source, and whether the source was reused."""

    map: ArgumentMap
    source: Source
    source_reused: bool


@transaction.atomic
def map_from_article(
    *,
    article_title: str,
    article_text: str,
    slug: str,
    map_title: str,
    thesis: str,
    publisher: str = "",
    url: str = "",
    published: date | None = None,
    description: str = "",
    visibility: str = ArgumentMap.Visibility.PUBLIC,
    by=None,
) -> NewMap:
    """Store the article (or reuse the stored one with the same text) and start a map on it.

    All or nothing: a refused map (say, its address is taken) leaves no new source behind.
    """
    normalized = (article_text or "").replace("\r\n", "\n").replace("\r", "\n")
    before = (
        Source.objects.filter(sha256=text_sha256(normalized)).values_list("pk", flat=True).first()
    )
    source = source_create(
        title=article_title,
        text=article_text,
        publisher=publisher,
        url=url,
        published=published,
        by=by,
        reason="Added with a new map",
    )
    argument_map = map_create(
        slug=slug,
        title=map_title or article_title,
        thesis=thesis,
        description=description,
        source=source,
        owner=by,
        visibility=visibility,
        reason="Created from an article",
    )
    return NewMap(map=argument_map, source=source, source_reused=before == source.pk)


# -- merging duplicates ---------------------------------------------------------------------------


def _history(obj, *, by, reason: str) -> None:
    _save_with_history(obj, by=by, reason=reason)


@retry_on_conflict
@transaction.atomic
def claim_merge(*, keep: Claim, duplicate: Claim, by=None, reason: str = "") -> ModerationAction:
    """Merge ``duplicate`` into ``keep``: children, votes, comments and quote move to ``keep``;
    the duplicate is archived with ``merged_into`` set. Returns the log entry (undo with it)."""
    if keep.pk == duplicate.pk:
        raise ValidationError(MERGE_SAME_CLAIM)
    version = _lock_map_and_tick(duplicate.map_id)
    # Re-read both under the map lock: a concurrent move or merge may have changed them.
    dup = Claim.objects.select_related("map").get(pk=duplicate.pk)
    kept = Claim.objects.get(pk=keep.pk)
    if kept.map_id != dup.map_id:
        raise ValidationError(MERGE_OTHER_MAP)
    if dup.parent_id is None:
        raise ValidationError(MERGE_THESIS)
    if dup.status == Claim.Status.ARCHIVED or dup.merged_into_id is not None:
        raise ValidationError(MERGE_DUPLICATE_GONE)
    if kept.status != Claim.Status.PUBLISHED:
        raise ValidationError(MERGE_KEEP_NOT_PUBLISHED)
    if dup.pk in tree.ancestor_ids(kept.pk):
        raise ValidationError(MERGE_INTO_DESCENDANT)
    why = reason or f"Merged into #{kept.pk}"

    # Children: appended after the kept claim's own, in their order; stances stay (they were
    # toward a claim saying the same thing).
    children = list(Claim.objects.filter(parent=dup).order_by("position", "pk"))
    last = Claim.objects.filter(parent=kept).aggregate(m=Max("position"))["m"]
    next_position = 0 if last is None else last + 1
    moved_children = []
    for child in children:
        moved_children.append([child.pk, child.position])
        child.parent = kept
        child.position = next_position
        child.changed_in = version
        next_position += 1
        _history(child, by=by, reason=f"Moved under #{kept.pk}: its parent was merged there")

    # Votes: one per user; where the user voted on both, the kept claim's vote wins.
    kept_voters = set(Vote.objects.filter(claim=kept).values_list("user_id", flat=True))
    votes_moved, votes_dropped = [], []
    for vote in Vote.objects.filter(claim=dup).order_by("pk"):
        if vote.user_id in kept_voters:
            votes_dropped.append({"user": vote.user_id, "value": vote.value})
            vote.delete()
        else:
            votes_moved.append(vote.pk)
    Vote.objects.filter(pk__in=votes_moved).update(claim=kept)

    # Comments move with their replies (the whole thread comes along).
    comments_moved = []
    for comment in Comment.objects.filter(claim=dup).order_by("pk"):
        comments_moved.append(comment.pk)
        comment.claim = kept
        _history(comment, by=by, reason=f"Thread moved: claim merged into #{kept.pk}")

    # Anchors: the duplicate's quote becomes a further anchor of the kept claim when different;
    # its own extra anchors follow where the kept claim lacks them.
    kept_spans = {(kept.quote_start, kept.quote_end)} | set(
        ClaimAnchor.objects.filter(claim=kept).values_list("start", "end")
    )
    anchor_created = None
    if dup.quote_start is not None and (dup.quote_start, dup.quote_end) not in kept_spans:
        anchor = ClaimAnchor.objects.create(
            claim=kept,
            exact=dup.quote_exact,
            prefix=dup.quote_prefix,
            suffix=dup.quote_suffix,
            start=dup.quote_start,
            end=dup.quote_end,
        )
        anchor_created = anchor.pk
        kept_spans.add((anchor.start, anchor.end))
    anchors_moved = []
    for extra in ClaimAnchor.objects.filter(claim=dup):
        if (extra.start, extra.end) not in kept_spans:
            anchors_moved.append(extra.pk)
            kept_spans.add((extra.start, extra.end))
    ClaimAnchor.objects.filter(pk__in=anchors_moved).update(claim=kept)

    previous = {"status": dup.status, "archived_with": dup.archived_with_id}
    dup.status = Claim.Status.ARCHIVED
    dup.merged_into = kept
    dup.archived_with = dup
    dup.changed_in = version
    dup.version += 1
    _history(dup, by=by, reason=why)
    kept.changed_in = version
    _history(kept, by=by, reason=f"#{dup.pk} merged into this claim: {why}")
    _touch([dup.parent_id], version)

    detail: dict[str, Any] = {
        "keep": kept.pk,
        "duplicate": dup.pk,
        "duplicate_text": dup.text,
        "previous": previous,
        "children": moved_children,
        "votes_moved": votes_moved,
        "votes_dropped": votes_dropped,
        "comments": comments_moved,
        "anchor_created": anchor_created,
        "anchors_moved": anchors_moved,
    }
    return audit.log_action(
        argument_map=dup.map,
        action=Action.MERGE,
        actor=by,
        claim=kept,
        reason=why,
        detail=detail,
    )


def latest_merge(duplicate: Claim) -> ModerationAction | None:
    """The log entry of the merge that archived ``duplicate``, if it is still merged."""
    if duplicate.merged_into_id is None:
        return None
    return (
        ModerationAction.objects.filter(
            map_id=duplicate.map_id, action=Action.MERGE, detail__duplicate=duplicate.pk
        )
        .order_by("-created_at", "-pk")
        .first()
    )


@retry_on_conflict
@transaction.atomic
def claim_unmerge(*, entry: ModerationAction, by=None, reason: str = "") -> Claim:
    """Undo a merge from its log entry: the duplicate comes back with its children, votes,
    comments and anchors; the kept claim loses the anchor the merge gave it. Returns it."""
    if entry.action != Action.MERGE or "duplicate" not in entry.detail:
        raise ValidationError(UNMERGE_NOT_A_MERGE)
    detail = entry.detail
    version = _lock_map_and_tick(entry.map_id)
    dup = Claim.objects.select_related("map").filter(pk=detail["duplicate"]).first()
    kept = Claim.objects.filter(pk=detail["keep"]).first()
    if dup is None or kept is None or dup.merged_into_id != kept.pk:
        raise ValidationError(UNMERGE_ALREADY_UNDONE)
    if latest_merge(dup) != entry or dup.status != Claim.Status.ARCHIVED:
        raise ValidationError(UNMERGE_ALREADY_UNDONE)
    why = reason or f"Merge into #{kept.pk} undone"

    # Children that still stand under the kept claim go back, in their old places.
    children = {
        child.pk: child
        for child in Claim.objects.filter(pk__in=[pk for pk, _ in detail["children"]], parent=kept)
    }
    above_dup = set(tree.ancestor_ids(dup.pk))
    if above_dup & set(children):
        raise ValidationError(UNMERGE_WOULD_CYCLE)
    for pk, position in detail["children"]:
        child = children.get(pk)
        if child is None:
            continue  # moved elsewhere since: it stays where a curator put it
        child.parent = dup
        child.position = position
        child.changed_in = version
        _history(child, by=by, reason=f"Back under #{dup.pk}: merge undone")

    Vote.objects.filter(pk__in=detail["votes_moved"], claim=kept).exclude(
        user__in=Vote.objects.filter(claim=dup).values("user")
    ).update(claim=dup)
    for dropped in detail["votes_dropped"]:
        Vote.objects.get_or_create(
            claim=dup, user_id=dropped["user"], defaults={"value": dropped["value"]}
        )

    for comment in Comment.objects.filter(pk__in=detail["comments"], claim=kept):
        comment.claim = dup
        _history(comment, by=by, reason=f"Thread moved back to #{dup.pk}: merge undone")

    if detail.get("anchor_created"):
        ClaimAnchor.objects.filter(pk=detail["anchor_created"], claim=kept).delete()
    ClaimAnchor.objects.filter(pk__in=detail.get("anchors_moved", []), claim=kept).update(claim=dup)

    previous = detail.get("previous", {})
    dup.status = previous.get("status", Claim.Status.PUBLISHED)
    dup.archived_with_id = previous.get("archived_with")
    dup.merged_into = None
    dup.changed_in = version
    dup.version += 1
    _history(dup, by=by, reason=why)
    kept.changed_in = version
    _history(kept, by=by, reason=f"Merge of #{dup.pk} undone: {why}")
    _touch([dup.parent_id], version)
    audit.log_action(
        argument_map=dup.map,
        action=Action.RESTORE,
        actor=by,
        claim=dup,
        reason=why,
        detail={"unmerge_of": entry.pk, "keep": kept.pk},
    )
    return dup


# -- maps -----------------------------------------------------------------------------------------


@retry_on_conflict
@transaction.atomic
def map_feature(
    *, argument_map: ArgumentMap, featured: bool, by=None, reason: str = ""
) -> ArgumentMap:
    """Feature a map on the home page, or stop featuring it."""
    _lock_map_and_tick(argument_map.pk)
    current = ArgumentMap.objects.get(pk=argument_map.pk)
    if current.featured == featured:
        raise ValidationError(MAP_ALREADY.format(state="featured" if featured else "not featured"))
    current.featured = featured
    action = Action.FEATURE if featured else Action.UNFEATURE
    _save_with_history(current, by=by, reason=reason or Action(action).label)
    audit.log_action(argument_map=current, action=action, actor=by, reason=reason)
    return current


@retry_on_conflict
@transaction.atomic
def map_archive(*, argument_map: ArgumentMap, by=None, reason: str = "") -> ArgumentMap:
    """Archive a map: it stays readable, nobody writes in it any more."""
    _lock_map_and_tick(argument_map.pk)
    current = ArgumentMap.objects.get(pk=argument_map.pk)
    if current.status == ArgumentMap.Status.ARCHIVED:
        raise ValidationError(MAP_ALREADY.format(state="archived"))
    previous = current.status
    current.status = ArgumentMap.Status.ARCHIVED
    _save_with_history(current, by=by, reason=reason or "Archived")
    audit.log_action(
        argument_map=current,
        action=Action.ARCHIVE_MAP,
        actor=by,
        reason=reason,
        detail={"previous_status": previous},
    )
    return current


# -- reading a map as an outline ------------------------------------------------------------------

OUTLINE_LIMIT = 5000


@dataclass(slots=True)
class OutlineRow:
    """One claim of the outline, with its depth (0 for the thesis) and its counts."""

    id: int
    parent_id: int | None
    stance: str
    text: str
    status: str
    position: int
    locked: bool
    merged_into_id: int | None
    depth: int
    supports: int = 0
    counters: int = 0
    votes: int = 0
    comments: int = 0
    first: bool = False
    last: bool = False


def outline(
    argument_map: ArgumentMap, *, statuses: tuple[str, ...] | None = None
) -> list[OutlineRow]:
    """The map's claims depth-first in sibling order (all statuses unless narrowed), three
    queries whatever the size; at most ``OUTLINE_LIMIT`` rows."""
    claims = Claim.objects.filter(map=argument_map)
    if statuses is not None:
        claims = claims.filter(status__in=statuses)
    rows = [
        OutlineRow(*values, depth=0)
        for values in claims.order_by("position", "pk").values_list(
            "pk", "parent_id", "stance", "text", "status", "position", "locked", "merged_into_id"
        )
    ]
    by_parent: dict[int | None, list[OutlineRow]] = {}
    for row in rows:
        by_parent.setdefault(row.parent_id, []).append(row)
    ids = {row.id for row in rows}
    votes = dict(
        Vote.objects.filter(claim__map=argument_map)
        .values("claim")
        .annotate(n=Count("pk"))
        .values_list("claim", "n")
    )
    comments = dict(
        Comment.objects.filter(map=argument_map)
        .values("claim")
        .annotate(n=Count("pk"))
        .values_list("claim", "n")
    )
    ordered: list[OutlineRow] = []
    roots = [row for row in rows if row.parent_id is None or row.parent_id not in ids]
    stack = [(row, 0) for row in reversed(roots)]
    while stack and len(ordered) < OUTLINE_LIMIT:
        row, depth = stack.pop()
        row.depth = depth
        kids = by_parent.get(row.id, [])
        row.supports = sum(1 for kid in kids if kid.stance == Claim.Stance.SUPPORT)
        row.counters = len(kids) - row.supports
        row.votes, row.comments = votes.get(row.id, 0), comments.get(row.id, 0)
        if kids:
            kids[0].first, kids[-1].last = True, True
        ordered.append(row)
        stack.extend((kid, depth + 1) for kid in reversed(kids))
    return ordered


def claim_choices(
    argument_map: ArgumentMap, *, exclude_subtree_of: int | None = None, published_only: bool = True
) -> list[tuple[int, str]]:
    """(id, indented label) of the map's claims for a parent or merge chooser, depth-first."""
    statuses = (Claim.Status.PUBLISHED,) if published_only else None
    rows = outline(argument_map, statuses=statuses)
    skip = set(tree.subtree_ids(exclude_subtree_of)) if exclude_subtree_of else set()
    marks = {"support": "Pro: ", "counter": "Con: ", "": "Thesis: "}
    return [
        (row.id, f"{'\u2003' * row.depth}{marks[row.stance]}{row.text[:100]} (#{row.id})")
        for row in rows
        if row.id not in skip and row.merged_into_id is None
    ]
