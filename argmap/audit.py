"""The two records every area writes: notifications to the user concerned, and the map's append-only
moderation log. Call these inside the service's transaction so a rollback takes them back too."""

from __future__ import annotations

from typing import Any

from argmap.models import ArgumentMap, Claim, Comment, ModerationAction, Notification


def _summary(claim: Claim | None, comment: Comment | None, subject) -> str:
    if comment is not None:
        return comment.body[:300]
    if claim is not None:
        return claim.text[:300]
    if subject is not None:
        return subject.get_username()[:300]
    return ""


def notify(
    *,
    recipient,
    kind: str,
    argument_map: ArgumentMap,
    actor=None,
    claim: Claim | None = None,
    comment: Comment | None = None,
    message: str = "",
) -> Notification | None:
    """Tell ``recipient`` about something; nobody is notified of their own doing."""
    if recipient is None or (actor is not None and recipient.pk == actor.pk):
        return None
    return Notification.objects.create(
        recipient=recipient,
        actor=actor if actor is not None and actor.is_authenticated else None,
        kind=kind,
        map=argument_map,
        claim=claim,
        comment=comment,
        message=message[:500],
    )


def log_action(
    *,
    argument_map: ArgumentMap,
    action: str,
    actor=None,
    claim: Claim | None = None,
    comment: Comment | None = None,
    subject=None,
    reason: str = "",
    detail: dict[str, Any] | None = None,
    public: bool = True,
) -> ModerationAction:
    """Append one entry to the map's moderation log."""
    return ModerationAction.objects.create(
        map=argument_map,
        actor=actor if actor is not None and actor.is_authenticated else None,
        action=action,
        claim=claim,
        comment=comment,
        subject=subject,
        target_summary=_summary(claim, comment, subject),
        reason=reason,
        detail=detail or {},
        public=public,
    )
