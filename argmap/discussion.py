"""Discussion threads: posting, editing and deleting comments on a claim, and telling people
about replies and mentions.

Every service runs in one transaction that ticks the map's live clock and stamps the claim, so the
claim's row (with its comment count) and any open thread panel re-render for every viewer.
Permissions are the caller's question (``argmap.permissions``); these enforce the invariants.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import F
from django.utils import timezone
from django.utils.timesince import timesince

from argmap import audit, markup, permissions, services
from argmap.models import Claim, Comment, Notification

COMMENT_EMPTY = "A comment needs some text."
COMMENT_TOO_LONG = "A comment can be at most {limit} characters long (this one has {length})."
COMMENT_PARENT_OTHER_CLAIM = "You can only reply to a comment in this claim's thread."
COMMENT_PARENT_DELETED = "That comment was deleted; reply to the thread instead."
COMMENT_NOT_EDITABLE = "This comment can no longer be changed."
COMMENT_ALREADY_DELETED = "This comment is already deleted."

SNIPPET_LENGTH = 160


class CommentConflict(Exception):
    """The comment changed since the version an edit was based on; carries the current one."""

    def __init__(self, current: Comment):
        self.current = current
        super().__init__(f"Comment {current.pk} is at version {current.version}.")


def clean_body(body: str) -> str:
    """The body as stored: whitespace around it stripped, line breaks normalised, length checked."""
    cleaned = (body or "").replace("\r\n", "\n").replace("\r", "\n").strip()
    if not cleaned:
        raise ValidationError({"body": COMMENT_EMPTY})
    limit = settings.ARGMAP_COMMENT_MAX_LENGTH
    if len(cleaned) > limit:
        raise ValidationError({"body": COMMENT_TOO_LONG.format(limit=limit, length=len(cleaned))})
    return cleaned


def snippet(body: str) -> str:
    """A one-line excerpt of a comment for a notification (plain text, escaped when shown)."""
    line = " ".join(body.split())
    return line if len(line) <= SNIPPET_LENGTH else line[: SNIPPET_LENGTH - 1] + "…"


def _save(comment: Comment, *, by, reason: str) -> None:
    comment._history_user = by
    comment._change_reason = reason
    comment.save()


def _mentions(comment: Comment, *, skip: set[int]) -> None:
    """Tell each existing user mentioned in the comment (who can read it) that they were."""
    for user in markup.mentioned_users(comment.body):
        if user.pk in skip or not permissions.can_view_comment(user, comment):
            continue
        skip.add(user.pk)
        audit.notify(
            recipient=user,
            kind=Notification.Kind.MENTION,
            argument_map=comment.map,
            actor=comment.author,
            claim=comment.claim,
            comment=comment,
            message=snippet(comment.body),
        )


def notify_published(comment: Comment) -> None:
    """Send the reply and mention notifications of a comment that readers can now see.

    ``comment_post`` calls this for a comment published at once; moderation calls it when it
    approves a pending one. Nobody is told twice about one comment, nor about their own.
    """
    told: set[int] = set()
    if comment.author_id is not None:
        told.add(comment.author_id)
    parent = comment.parent
    if parent is not None and parent.author is not None and parent.author_id not in told:
        if permissions.can_view_comment(parent.author, comment):
            audit.notify(
                recipient=parent.author,
                kind=Notification.Kind.REPLY,
                argument_map=comment.map,
                actor=comment.author,
                claim=comment.claim,
                comment=comment,
                message=snippet(comment.body),
            )
        told.add(parent.author_id)
    _mentions(comment, skip=told)


@services.retry_on_conflict
@transaction.atomic
def comment_post(*, claim: Claim, author, body: str, parent: Comment | None = None) -> Comment:
    """Post a comment (or a reply to ``parent``) in a claim's thread; a suggester's waits."""
    cleaned = clean_body(body)
    version = services._lock_map_and_tick(claim.map_id)
    if parent is not None:
        parent = Comment.objects.select_related("author").filter(pk=parent.pk).first()
        if parent is None or parent.claim_id != claim.pk:
            raise ValidationError({"parent": COMMENT_PARENT_OTHER_CLAIM})
        if parent.status == Comment.Status.DELETED:
            raise ValidationError({"parent": COMMENT_PARENT_DELETED})
    visible = permissions.publishes_directly(author, claim.map)
    comment = Comment(
        map_id=claim.map_id,
        claim=claim,
        parent=parent,
        author=author,
        body=cleaned,
        status=Comment.Status.VISIBLE if visible else Comment.Status.PENDING,
    )
    _save(comment, by=author, reason="Comment posted")
    services._touch([claim.pk], version)
    if visible:
        notify_published(comment)
    return comment


@services.retry_on_conflict
@transaction.atomic
def comment_edit(*, comment: Comment, by, body: str, version: int) -> Comment:
    """Change a comment's text if nobody changed it since ``version`` (else CommentConflict)."""
    cleaned = clean_body(body)
    map_version = services._lock_map_and_tick(comment.map_id)
    current = Comment.objects.select_related("map", "claim", "author").get(pk=comment.pk)
    if current.version != version:
        raise CommentConflict(current)
    if current.status not in (Comment.Status.VISIBLE, Comment.Status.PENDING):
        raise ValidationError(COMMENT_NOT_EDITABLE)
    if cleaned == current.body:
        return current
    before = {user.pk for user in markup.mentioned_users(current.body)}
    now = timezone.now()
    updated = Comment.objects.filter(pk=current.pk, version=version).update(
        body=cleaned, version=F("version") + 1, edited_at=now, updated_at=now
    )
    if updated != 1:
        raise CommentConflict(Comment.objects.get(pk=current.pk))
    current.refresh_from_db()
    # QuerySet.update bypasses django-simple-history: write the history row ourselves.
    Comment.history.bulk_history_create(
        [current], update=True, default_user=by, default_change_reason="Comment edited"
    )
    services._touch([current.claim_id], map_version)
    if current.status == Comment.Status.VISIBLE:
        # Only people newly mentioned by the edit hear about it.
        _mentions(current, skip=before | {current.author_id})
    return current


@services.retry_on_conflict
@transaction.atomic
def comment_delete(*, comment: Comment, by) -> Comment:
    """Delete a comment: a tombstone keeps the thread's shape; the text stays in its history."""
    version = services._lock_map_and_tick(comment.map_id)
    current = Comment.objects.select_related("map", "claim").get(pk=comment.pk)
    if current.status == Comment.Status.DELETED:
        raise ValidationError(COMMENT_ALREADY_DELETED)
    current.status = Comment.Status.DELETED
    current.version += 1
    _save(current, by=by, reason="Comment deleted by its author")
    services._touch([current.claim_id], version)
    return current


# -- reading --------------------------------------------------------------------------------------

MAX_DEPTH = 5


@dataclass(slots=True)
class ThreadItem:
    """One comment as a reader sees it in the thread, in display order."""

    comment: Comment
    depth: int
    html: str = ""
    tombstone: bool = False
    can_change: bool = False
    children: list[ThreadItem] = field(default_factory=list)

    @property
    def ago(self) -> str:
        """Relative time of posting: "just now", "5 minutes ago"."""
        if timezone.now() - self.comment.created_at < timezone.timedelta(minutes=1):
            return "just now"
        return f"{timesince(self.comment.created_at, depth=1)} ago"

    @property
    def indent(self) -> int:
        return min(self.depth, MAX_DEPTH)

    @property
    def capped(self) -> bool:
        """Deeper than the thread indents: the reply names who it answers instead."""
        return self.depth >= MAX_DEPTH


def thread_for(user, claim: Claim) -> list[ThreadItem]:
    """The comments ``user`` may read on ``claim``, replies under their parents (depth-first,
    oldest first), Markdown rendered. Tombstones are kept only where replies hang from them."""
    comments = list(Comment.objects.on_claim(claim).select_related("author", "parent__author"))
    for comment in comments:
        # The claim and its map are shared objects, so permission checks look memberships up once.
        comment.claim = claim
        comment.map = claim.map
    shown = [c for c in comments if permissions.can_view_comment(user, c)]
    by_parent: dict[int | None, list[Comment]] = {}
    for comment in shown:
        by_parent.setdefault(comment.parent_id, []).append(comment)
    shown_ids = {c.pk for c in shown}
    # A reply whose parent this reader cannot see (pending, hidden) hangs from the thread's top.
    for comment in shown:
        if comment.parent_id is not None and comment.parent_id not in shown_ids:
            by_parent[comment.parent_id].remove(comment)
            by_parent.setdefault(None, []).append(comment)
    for siblings in by_parent.values():
        siblings.sort(key=lambda c: (c.created_at, c.pk))

    def build(parent_id: int | None, depth: int) -> list[ThreadItem]:
        items = []
        for comment in by_parent.get(parent_id, []):
            children = build(comment.pk, depth + 1)
            tombstone = comment.status == Comment.Status.DELETED
            if tombstone and not children:
                continue
            can_change = not tombstone and permissions.can_change_comment(user, comment)
            items.append(
                ThreadItem(
                    comment, depth, tombstone=tombstone, can_change=can_change, children=children
                )
            )
        return items

    roots = build(None, 0)
    flat: list[ThreadItem] = []

    def walk(items: list[ThreadItem]) -> None:
        for item in items:
            flat.append(item)
            walk(item.children)

    walk(roots)
    names: set[str] = set()
    for item in flat:
        if not item.tombstone:
            names.update(markup.mention_candidates(item.comment.body))
    known = markup.known_usernames(names)
    for item in flat:
        if not item.tombstone:
            item.html = markup.render_markdown(item.comment.body, known=known)
    return flat


@dataclass(slots=True)
class CommentVersion:
    """One text of a comment in its edit history: who wrote it, when, rendered."""

    number: int
    user: object
    date: object
    html: str
    current: bool = False


def comment_versions(comment: Comment) -> list[CommentVersion]:
    """The texts a comment has had, newest first (status changes alone are not versions).

    Who may read them is the caller's question (``permissions.can_view_comment_history``)."""
    records = list(
        Comment.history.filter(id=comment.pk)
        .select_related("history_user")
        .order_by("history_date", "history_id")
    )
    texts: list[tuple[object, object, str]] = []
    for record in records:
        if not texts or record.body != texts[-1][2]:
            texts.append((record.history_user, record.history_date, record.body))
    names: set[str] = set()
    for _, _, body in texts:
        names.update(markup.mention_candidates(body))
    known = markup.known_usernames(names)
    versions = [
        CommentVersion(number, user, date, markup.render_markdown(body, known=known))
        for number, (user, date, body) in enumerate(texts, start=1)
    ]
    if versions:
        versions[-1].current = True
    versions.reverse()
    return versions


def visible_count(claim: Claim) -> int:
    """How many comments everyone can read on the claim (the number on its Discuss control)."""
    return Comment.objects.filter(claim=claim, status=Comment.Status.VISIBLE).count()
