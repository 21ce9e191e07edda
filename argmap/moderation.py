"""Moderation services: suggestions, flags, moderator actions and mutes.

Each one is a single transaction that changes the content, appends one entry to the map's
moderation log (``audit.log_action``) and tells the user concerned (``audit.notify``). A change to
a claim row also ticks the map's live clock and stamps the claim, so every open tab re-renders it.
Who may call them is decided by ``argmap.permissions`` in the views, not here.

Decisions worth knowing:
- A rejected claim suggestion is *archived*: removed from the map but kept with its history (as
  Kialo does with declined suggestions); its text no longer blocks a better-worded resubmission.
  A rejected comment suggestion is *hidden*: its author and the moderators still see it.
- Open flags on an item reaching the map's ``flag_threshold`` (0 turns this off) hide it
  automatically (an ``auto_hide`` log entry) until a moderator upholds or dismisses the flags;
  dismissing restores an item that the flags hid.
- Restoring a hidden item reviews it: its open flags are dismissed, so the next flag does not
  hide it again at once.
"""

from __future__ import annotations

from collections import Counter
from datetime import datetime

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Count, Q, QuerySet
from django.utils import timezone

from argmap import discussion, permissions
from argmap.audit import log_action, notify
from argmap.models import (
    ArgumentMap,
    Claim,
    Comment,
    Flag,
    Membership,
    ModerationAction,
    Notification,
    Role,
)
from argmap.services import _lock_map_and_tick, _save_with_history, _touch, retry_on_conflict

Action = ModerationAction.Action
Kind = Notification.Kind

REASON_REQUIRED = "Give a reason: it is shown in the moderation log and to the people concerned."
REASON_TOO_LONG = "A reason can be at most 1000 characters long."
ONE_TARGET = "Name exactly one claim or one comment."
SUGGESTION_NOT_PENDING = "This is not a pending suggestion (someone may have acted on it already)."
SUGGESTION_PARENT_GONE = "The claim this suggestion answers is no longer published."
FLAG_REASON_INVALID = "Choose a reason for the report."
FLAG_FALLACY_REQUIRED = "Name the fallacy."
FLAG_FALLACY_TOO_LONG = "Name the fallacy in at most 100 characters."
FLAG_NOTE_TOO_LONG = "A note can be at most 1000 characters long."
FLAG_ALREADY_OPEN = "You have already reported this; a moderator will review it."
FLAG_NOT_FLAGGABLE = "Only published claims and visible comments can be reported."
FLAG_NONE_OPEN = "There are no open reports on this item (a moderator may have resolved them)."
HIDE_THESIS = "The thesis cannot be hidden; lock the map instead."
HIDE_NOT_VISIBLE = "Only a published claim or a visible comment can be hidden."
UNHIDE_NOT_HIDDEN = "This is not hidden."
CLAIM_ALREADY_LOCKED = "This claim is already locked."
CLAIM_NOT_LOCKED = "This claim is not locked."
MAP_NOT_OPEN = "Only an open map can be locked."
MAP_NOT_LOCKED = "This map is not locked."
MUTE_NOT_ALLOWED = "The map's owner and site staff cannot be muted."
MUTE_OUTRANKS = "Only the owner can mute a moderator."
MUTE_IN_PAST = "Choose a time in the future for the mute to end."
MUTE_SELF = "You cannot mute yourself."
NOT_MUTED = "This member is not muted."

REASON_MAX = 1000


def _reason(reason: str, *, required: bool = True) -> str:
    cleaned = (reason or "").strip()
    if required and not cleaned:
        raise ValidationError({"reason": REASON_REQUIRED})
    if len(cleaned) > REASON_MAX:
        raise ValidationError({"reason": REASON_TOO_LONG})
    return cleaned


def _one(claim: Claim | None, comment: Comment | None) -> None:
    if (claim is None) == (comment is None):
        raise ValueError(ONE_TARGET)


def _fresh_claim(claim: Claim) -> Claim:
    return Claim.objects.select_related("map", "author").get(pk=claim.pk)


def _fresh_comment(comment: Comment) -> Comment:
    return Comment.objects.select_related("map", "author", "claim").get(pk=comment.pk)


def _set_claim_status(claim: Claim, status: str, version: int, *, by, reason: str) -> None:
    claim.status = status
    claim.changed_in = version
    if status == Claim.Status.ARCHIVED:
        claim.archived_with = claim
    _save_with_history(claim, by=by, reason=reason)
    _touch([claim.parent_id], version)


def _set_comment_status(comment: Comment, status: str, version: int, *, by, reason: str) -> None:
    """Change a comment's status and stamp its claim, so live readers refresh its counts."""
    comment.status = status
    _save_with_history(comment, by=by, reason=reason)
    _touch([comment.claim_id], version)


# -- suggestions ---------------------------------------------------------------------------------


@retry_on_conflict
@transaction.atomic
def suggestion_approve(
    *, by, claim: Claim | None = None, comment: Comment | None = None, reason: str = ""
) -> Claim | Comment:
    """Publish a pending claim or comment; its author is told."""
    _one(claim, comment)
    reason = _reason(reason, required=False)
    if claim is not None:
        version = _lock_map_and_tick(claim.map_id)
        claim = _fresh_claim(claim)
        if claim.status != Claim.Status.PENDING:
            raise ValidationError(SUGGESTION_NOT_PENDING)
        if claim.parent is not None and claim.parent.status != Claim.Status.PUBLISHED:
            raise ValidationError(SUGGESTION_PARENT_GONE)
        _set_claim_status(
            claim, Claim.Status.PUBLISHED, version, by=by, reason=reason or "Suggestion approved"
        )
        target, argument_map = claim, claim.map
    else:
        version = _lock_map_and_tick(comment.map_id)
        comment = _fresh_comment(comment)
        if comment.status != Comment.Status.PENDING:
            raise ValidationError(SUGGESTION_NOT_PENDING)
        _set_comment_status(
            comment, Comment.Status.VISIBLE, version, by=by, reason=reason or "Suggestion approved"
        )
        target, argument_map = comment, comment.map
    log_action(
        argument_map=argument_map,
        action=Action.APPROVE,
        actor=by,
        claim=claim if claim is not None else comment.claim,
        comment=comment,
        reason=reason,
    )
    # What readers can now see tells those it concerns, as if it had been published at once.
    if comment is not None:
        discussion.notify_published(comment)
    elif claim.stance == Claim.Stance.COUNTER and claim.parent is not None:
        notify(
            recipient=claim.parent.author,
            kind=Kind.COUNTERED,
            argument_map=argument_map,
            actor=claim.author,
            claim=claim,
        )
    notify(
        recipient=target.author,
        kind=Kind.APPROVED,
        argument_map=argument_map,
        actor=by,
        claim=claim if claim is not None else comment.claim,
        comment=comment,
        message=reason or "Your suggestion was approved.",
    )
    return target


@retry_on_conflict
@transaction.atomic
def suggestion_reject(
    *, by, reason: str, claim: Claim | None = None, comment: Comment | None = None
) -> Claim | Comment:
    """Turn down a pending claim (archived: out of the map, kept) or comment (hidden), with a
    reason its author is told."""
    _one(claim, comment)
    reason = _reason(reason)
    if claim is not None:
        version = _lock_map_and_tick(claim.map_id)
        claim = _fresh_claim(claim)
        if claim.status != Claim.Status.PENDING:
            raise ValidationError(SUGGESTION_NOT_PENDING)
        _set_claim_status(
            claim, Claim.Status.ARCHIVED, version, by=by, reason=f"Suggestion rejected: {reason}"
        )
        target, argument_map = claim, claim.map
    else:
        version = _lock_map_and_tick(comment.map_id)
        comment = _fresh_comment(comment)
        if comment.status != Comment.Status.PENDING:
            raise ValidationError(SUGGESTION_NOT_PENDING)
        _set_comment_status(
            comment, Comment.Status.HIDDEN, version, by=by, reason=f"Suggestion rejected: {reason}"
        )
        target, argument_map = comment, comment.map
    log_action(
        argument_map=argument_map,
        action=Action.REJECT,
        actor=by,
        claim=claim if claim is not None else comment.claim,
        comment=comment,
        reason=reason,
    )
    notify(
        recipient=target.author,
        kind=Kind.REJECTED,
        argument_map=argument_map,
        actor=by,
        claim=claim if claim is not None else comment.claim,
        comment=comment,
        message=reason,
    )
    return target


# -- flags ---------------------------------------------------------------------------------------


def _open_flags(claim: Claim | None, comment: Comment | None) -> QuerySet[Flag]:
    if claim is not None:
        return Flag.objects.filter(claim=claim, status=Flag.Status.OPEN)
    return Flag.objects.filter(comment=comment, status=Flag.Status.OPEN)


def _hide(claim: Claim | None, comment: Comment | None, *, by, reason: str, version: int) -> None:
    """Hide a claim or comment (the map is locked and ticked by the caller; no log entry)."""
    if claim is not None:
        _set_claim_status(claim, Claim.Status.HIDDEN, version, by=by, reason=f"Hidden: {reason}")
    else:
        _set_comment_status(
            comment, Comment.Status.HIDDEN, version, by=by, reason=f"Hidden: {reason}"
        )


def _show(claim: Claim | None, comment: Comment | None, *, by, reason: str, version: int) -> None:
    if claim is not None:
        _set_claim_status(
            claim, Claim.Status.PUBLISHED, version, by=by, reason=f"Restored: {reason}"
        )
    else:
        _set_comment_status(
            comment, Comment.Status.VISIBLE, version, by=by, reason=f"Restored: {reason}"
        )


def _is_shown(claim: Claim | None, comment: Comment | None) -> bool:
    if claim is not None:
        return claim.status == Claim.Status.PUBLISHED
    return comment.status == Comment.Status.VISIBLE


def _is_hidden(claim: Claim | None, comment: Comment | None) -> bool:
    if claim is not None:
        return claim.status == Claim.Status.HIDDEN
    return comment.status == Comment.Status.HIDDEN


def _hidden_by_flags(claim: Claim | None, comment: Comment | None) -> bool:
    """Whether the item's last hide/restore in the log was the automatic one."""
    entries = ModerationAction.objects.filter(
        action__in=[Action.AUTO_HIDE, Action.HIDE, Action.RESTORE, Action.UPHOLD_FLAG]
    )
    entries = (
        entries.filter(comment=comment)
        if comment is not None
        else entries.filter(claim=claim, comment__isnull=True)
    )
    last = entries.order_by("-created_at", "-pk").values_list("action", flat=True).first()
    return last == Action.AUTO_HIDE


def _lock_map(map_id: int) -> ArgumentMap:
    """Lock the map row (serializes flags on one map; on SQLite the IMMEDIATE transaction does)."""
    return ArgumentMap.objects.select_for_update().get(pk=map_id)


@retry_on_conflict
@transaction.atomic
def flag_create(
    *,
    by,
    reason: str,
    claim: Claim | None = None,
    comment: Comment | None = None,
    fallacy: str = "",
    note: str = "",
) -> Flag:
    """Report a claim or comment; enough open reports hide it until a moderator reviews it."""
    _one(claim, comment)
    if reason not in Flag.Reason.values:
        raise ValidationError({"reason": FLAG_REASON_INVALID})
    fallacy = " ".join((fallacy or "").split())
    if reason == Flag.Reason.FALLACY and not fallacy:
        raise ValidationError({"fallacy": FLAG_FALLACY_REQUIRED})
    if len(fallacy) > 100:
        raise ValidationError({"fallacy": FLAG_FALLACY_TOO_LONG})
    if reason != Flag.Reason.FALLACY:
        fallacy = ""
    note = (note or "").strip()
    if len(note) > 1000:
        raise ValidationError({"note": FLAG_NOTE_TOO_LONG})
    argument_map = _lock_map(claim.map_id if claim is not None else comment.map_id)
    if claim is not None:
        claim = _fresh_claim(claim)
    else:
        comment = _fresh_comment(comment)
    if not _is_shown(claim, comment):
        raise ValidationError(FLAG_NOT_FLAGGABLE)
    if _open_flags(claim, comment).filter(reporter=by).exists():
        raise ValidationError(FLAG_ALREADY_OPEN)
    try:
        with transaction.atomic():
            flag = Flag.objects.create(
                map=argument_map,
                claim=claim,
                comment=comment,
                reporter=by,
                reason=reason,
                fallacy=fallacy,
                note=note,
            )
    except IntegrityError as error:  # the partial unique index, should the lock ever be bypassed
        raise ValidationError(FLAG_ALREADY_OPEN) from error
    threshold = argument_map.flag_threshold
    if threshold and _open_flags(claim, comment).count() >= threshold:
        version = _lock_map_and_tick(argument_map.pk)
        why = f"{threshold} or more open reports"
        _hide(claim, comment, by=None, reason=why, version=version)
        target = claim if claim is not None else comment
        log_action(
            argument_map=argument_map,
            action=Action.AUTO_HIDE,
            claim=claim if claim is not None else comment.claim,
            comment=comment,
            reason=why,
            detail={"open_flags": _open_flags(claim, comment).count()},
        )
        notify(
            recipient=target.author,
            kind=Kind.HIDDEN,
            argument_map=argument_map,
            claim=claim if claim is not None else comment.claim,
            comment=comment,
            message=f"Hidden until a moderator reviews it: {why}.",
        )
    return flag


@retry_on_conflict
@transaction.atomic
def flag_resolve(
    *, by, uphold: bool, reason: str, claim: Claim | None = None, comment: Comment | None = None
) -> int:
    """Uphold (the item is hidden, its author told why) or dismiss (an item the flags hid comes
    back) every open report on a claim or comment; the reporters are told. Returns how many."""
    _one(claim, comment)
    reason = _reason(reason)
    version = _lock_map_and_tick(claim.map_id if claim is not None else comment.map_id)
    if claim is not None:
        claim = _fresh_claim(claim)
        argument_map, thread_claim = claim.map, claim
    else:
        comment = _fresh_comment(comment)
        argument_map, thread_claim = comment.map, comment.claim
    flags = list(_open_flags(claim, comment).select_related("reporter"))
    if not flags:
        raise ValidationError(FLAG_NONE_OPEN)
    target = claim if claim is not None else comment
    restored = False
    if uphold:
        if _is_shown(claim, comment):
            if claim is not None and claim.is_thesis:
                raise ValidationError(HIDE_THESIS)
            _hide(claim, comment, by=by, reason=reason, version=version)
        notify(
            recipient=target.author,
            kind=Kind.HIDDEN,
            argument_map=argument_map,
            actor=by,
            claim=thread_claim,
            comment=comment,
            message=reason,
        )
    elif _is_hidden(claim, comment) and _hidden_by_flags(claim, comment):
        _show(claim, comment, by=by, reason=reason, version=version)
        restored = True
        notify(
            recipient=target.author,
            kind=Kind.RESTORED,
            argument_map=argument_map,
            actor=by,
            claim=thread_claim,
            comment=comment,
            message=reason,
        )
    status = Flag.Status.UPHELD if uphold else Flag.Status.DISMISSED
    now = timezone.now()
    Flag.objects.filter(pk__in=[f.pk for f in flags]).update(
        status=status, resolved_by=by, resolved_at=now, resolution=reason[:500]
    )
    reasons = Counter(flag.reason for flag in flags)
    log_action(
        argument_map=argument_map,
        action=Action.UPHOLD_FLAG if uphold else Action.DISMISS_FLAG,
        actor=by,
        claim=thread_claim,
        comment=comment,
        reason=reason,
        detail={"flags": len(flags), "reasons": dict(reasons), "restored": restored},
    )
    verdict = "upheld" if uphold else "dismissed"
    for reporter in {flag.reporter_id: flag.reporter for flag in flags}.values():
        notify(
            recipient=reporter,
            kind=Kind.FLAG_RESOLVED,
            argument_map=argument_map,
            actor=by,
            claim=thread_claim,
            comment=comment,
            message=f"Your report was {verdict}: {reason}",
        )
    return len(flags)


def _dismiss_open_flags(claim: Claim | None, comment: Comment | None, *, by, reason: str) -> None:
    """A moderator restored the item: that reviews its open reports (dismissed, reporters told)."""
    flags = list(_open_flags(claim, comment).select_related("reporter", "map"))
    if not flags:
        return
    Flag.objects.filter(pk__in=[f.pk for f in flags]).update(
        status=Flag.Status.DISMISSED,
        resolved_by=by,
        resolved_at=timezone.now(),
        resolution=reason[:500],
    )
    for reporter in {flag.reporter_id: flag.reporter for flag in flags}.values():
        notify(
            recipient=reporter,
            kind=Kind.FLAG_RESOLVED,
            argument_map=flags[0].map,
            actor=by,
            claim=claim if claim is not None else comment.claim,
            comment=comment,
            message=f"A moderator restored what you reported: {reason}",
        )


# -- hide and restore ----------------------------------------------------------------------------


@retry_on_conflict
@transaction.atomic
def claim_hide(*, claim: Claim, by, reason: str) -> Claim:
    """Hide a published claim (and so its subtree) from everyone but its author and moderators."""
    reason = _reason(reason)
    version = _lock_map_and_tick(claim.map_id)
    claim = _fresh_claim(claim)
    if claim.is_thesis:
        raise ValidationError(HIDE_THESIS)
    if claim.status != Claim.Status.PUBLISHED:
        raise ValidationError(HIDE_NOT_VISIBLE)
    _hide(claim, None, by=by, reason=reason, version=version)
    log_action(argument_map=claim.map, action=Action.HIDE, actor=by, claim=claim, reason=reason)
    notify(
        recipient=claim.author,
        kind=Kind.HIDDEN,
        argument_map=claim.map,
        actor=by,
        claim=claim,
        message=reason,
    )
    return claim


@retry_on_conflict
@transaction.atomic
def claim_unhide(*, claim: Claim, by, reason: str) -> Claim:
    """Restore a hidden claim to the map; its open reports are dismissed."""
    reason = _reason(reason)
    version = _lock_map_and_tick(claim.map_id)
    claim = _fresh_claim(claim)
    if claim.status != Claim.Status.HIDDEN:
        raise ValidationError(UNHIDE_NOT_HIDDEN)
    _show(claim, None, by=by, reason=reason, version=version)
    _dismiss_open_flags(claim, None, by=by, reason=reason)
    log_action(argument_map=claim.map, action=Action.RESTORE, actor=by, claim=claim, reason=reason)
    notify(
        recipient=claim.author,
        kind=Kind.RESTORED,
        argument_map=claim.map,
        actor=by,
        claim=claim,
        message=reason,
    )
    return claim


@retry_on_conflict
@transaction.atomic
def comment_hide(*, comment: Comment, by, reason: str) -> Comment:
    """Hide a visible comment from everyone but its author and moderators."""
    reason = _reason(reason)
    version = _lock_map_and_tick(comment.map_id)
    comment = _fresh_comment(comment)
    if comment.status != Comment.Status.VISIBLE:
        raise ValidationError(HIDE_NOT_VISIBLE)
    _hide(None, comment, by=by, reason=reason, version=version)
    log_action(
        argument_map=comment.map,
        action=Action.HIDE,
        actor=by,
        claim=comment.claim,
        comment=comment,
        reason=reason,
    )
    notify(
        recipient=comment.author,
        kind=Kind.HIDDEN,
        argument_map=comment.map,
        actor=by,
        claim=comment.claim,
        comment=comment,
        message=reason,
    )
    return comment


@retry_on_conflict
@transaction.atomic
def comment_unhide(*, comment: Comment, by, reason: str) -> Comment:
    """Show a hidden comment again; its open reports are dismissed."""
    reason = _reason(reason)
    version = _lock_map_and_tick(comment.map_id)
    comment = _fresh_comment(comment)
    if comment.status != Comment.Status.HIDDEN:
        raise ValidationError(UNHIDE_NOT_HIDDEN)
    _show(None, comment, by=by, reason=reason, version=version)
    _dismiss_open_flags(None, comment, by=by, reason=reason)
    log_action(
        argument_map=comment.map,
        action=Action.RESTORE,
        actor=by,
        claim=comment.claim,
        comment=comment,
        reason=reason,
    )
    notify(
        recipient=comment.author,
        kind=Kind.RESTORED,
        argument_map=comment.map,
        actor=by,
        claim=comment.claim,
        comment=comment,
        message=reason,
    )
    return comment


# -- locks ---------------------------------------------------------------------------------------


def _claim_lock(claim: Claim, *, by, reason: str, locked: bool) -> Claim:
    reason = _reason(reason)
    version = _lock_map_and_tick(claim.map_id)
    claim = _fresh_claim(claim)
    if claim.locked == locked:
        raise ValidationError(CLAIM_ALREADY_LOCKED if locked else CLAIM_NOT_LOCKED)
    claim.locked = locked
    claim.changed_in = version
    _save_with_history(claim, by=by, reason=f"{'Locked' if locked else 'Unlocked'}: {reason}")
    log_action(
        argument_map=claim.map,
        action=Action.LOCK_CLAIM if locked else Action.UNLOCK_CLAIM,
        actor=by,
        claim=claim,
        reason=reason,
    )
    return claim


@retry_on_conflict
@transaction.atomic
def claim_lock(*, claim: Claim, by, reason: str) -> Claim:
    """Lock a claim: no new claims under it and no edits, except by moderators."""
    return _claim_lock(claim, by=by, reason=reason, locked=True)


@retry_on_conflict
@transaction.atomic
def claim_unlock(*, claim: Claim, by, reason: str) -> Claim:
    """Unlock a locked claim."""
    return _claim_lock(claim, by=by, reason=reason, locked=False)


def _map_status(argument_map: ArgumentMap, *, by, reason: str, lock: bool) -> ArgumentMap:
    reason = _reason(reason)
    current = _lock_map(argument_map.pk)
    expected = ArgumentMap.Status.OPEN if lock else ArgumentMap.Status.LOCKED
    if current.status != expected:
        raise ValidationError(MAP_NOT_OPEN if lock else MAP_NOT_LOCKED)
    current.status = ArgumentMap.Status.LOCKED if lock else ArgumentMap.Status.OPEN
    _save_with_history(current, by=by, reason=reason)
    log_action(
        argument_map=current,
        action=Action.LOCK_MAP if lock else Action.UNLOCK_MAP,
        actor=by,
        reason=reason,
    )
    argument_map.status = current.status
    return current


@retry_on_conflict
@transaction.atomic
def map_lock(*, argument_map: ArgumentMap, by, reason: str) -> ArgumentMap:
    """Lock the map: read-only for everyone but its moderators."""
    return _map_status(argument_map, by=by, reason=reason, lock=True)


@retry_on_conflict
@transaction.atomic
def map_unlock(*, argument_map: ArgumentMap, by, reason: str) -> ArgumentMap:
    """Open a locked map for writing again."""
    return _map_status(argument_map, by=by, reason=reason, lock=False)


# -- mutes ---------------------------------------------------------------------------------------


@retry_on_conflict
@transaction.atomic
def member_mute(*, argument_map: ArgumentMap, user, until: datetime, reason: str, by) -> Membership:
    """Mute a user in the map until ``until``: they may read, not write. A non-member becomes a
    member with the map's default role, so the mute has somewhere to live."""
    reason = _reason(reason)
    if user.pk == getattr(by, "pk", None):
        raise ValidationError(MUTE_SELF)
    if user.is_staff or argument_map.owner_id == user.pk:
        raise ValidationError(MUTE_NOT_ALLOWED)
    if until <= timezone.now():
        raise ValidationError({"until": MUTE_IN_PAST})
    _lock_map(argument_map.pk)
    permissions.forget_memberships(argument_map)
    if permissions.has_role(user, argument_map, Role.MODERATOR) and not (
        by is not None and permissions.can_manage_map(by, argument_map)
    ):
        raise ValidationError(MUTE_OUTRANKS)
    member = Membership.objects.filter(map=argument_map, user=user).first()
    if member is None:
        member = Membership(
            map=argument_map, user=user, role=permissions.default_role(argument_map) or Role.VIEWER
        )
    member.muted_until = until
    member.mute_reason = reason[:500]
    _save_with_history(member, by=by, reason=f"Muted: {reason}")
    permissions.forget_memberships(argument_map)
    log_action(
        argument_map=argument_map,
        action=Action.MUTE,
        actor=by,
        subject=user,
        reason=reason,
        detail={"until": until.isoformat()},
    )
    notify(
        recipient=user,
        kind=Kind.MUTED,
        argument_map=argument_map,
        actor=by,
        message=f"Muted until {timezone.localtime(until):%Y-%m-%d %H:%M %Z}: {reason}",
    )
    return member


@retry_on_conflict
@transaction.atomic
def member_unmute(*, argument_map: ArgumentMap, user, reason: str, by) -> Membership:
    """Lift a member's mute before it ends."""
    reason = _reason(reason)
    _lock_map(argument_map.pk)
    member = Membership.objects.filter(map=argument_map, user=user).first()
    if member is None or member.muted_until is None or member.muted_until <= timezone.now():
        raise ValidationError(NOT_MUTED)
    member.muted_until = None
    member.mute_reason = ""
    _save_with_history(member, by=by, reason=f"Unmuted: {reason}")
    permissions.forget_memberships(argument_map)
    log_action(
        argument_map=argument_map, action=Action.UNMUTE, actor=by, subject=user, reason=reason
    )
    notify(
        recipient=user,
        kind=Kind.MUTED,
        argument_map=argument_map,
        actor=by,
        message=f"Your mute was lifted: {reason}",
    )
    return member


# -- reads for the queue -------------------------------------------------------------------------


def pending_claims(argument_map: ArgumentMap) -> QuerySet[Claim]:
    return (
        Claim.objects.filter(map=argument_map, status=Claim.Status.PENDING)
        .select_related("author", "parent")
        .order_by("created_at", "pk")
    )


def pending_comments(argument_map: ArgumentMap) -> QuerySet[Comment]:
    return (
        Comment.objects.filter(map=argument_map, status=Comment.Status.PENDING)
        .select_related("author", "claim")
        .order_by("created_at", "pk")
    )


def flagged_claims(argument_map: ArgumentMap) -> QuerySet[Claim]:
    """Claims with open reports, most reported first, each with ``open_flags``."""
    return (
        Claim.objects.filter(map=argument_map, flags__status=Flag.Status.OPEN)
        .annotate(open_flags=Count("flags", filter=Q(flags__status=Flag.Status.OPEN)))
        .select_related("author")
        .order_by("-open_flags", "pk")
    )


def flagged_comments(argument_map: ArgumentMap) -> QuerySet[Comment]:
    return (
        Comment.objects.filter(map=argument_map, flags__status=Flag.Status.OPEN)
        .annotate(open_flags=Count("flags", filter=Q(flags__status=Flag.Status.OPEN)))
        .select_related("author", "claim")
        .order_by("-open_flags", "pk")
    )


def open_item_count(argument_map: ArgumentMap) -> int:
    """What waits for a moderator: pending suggestions plus items with open reports."""
    flags = Flag.objects.filter(map=argument_map, status=Flag.Status.OPEN)
    flagged = flags.values("claim_id", "comment_id").distinct().count()
    return pending_claims(argument_map).count() + pending_comments(argument_map).count() + flagged
