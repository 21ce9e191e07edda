"""Notifications: the signed-in user's replies, mentions and moderation outcomes, newest first,
with mark-one-read and mark-all-read (real form POSTs; htmx gets the fragment back)."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.urls import path
from django.utils import timezone
from django.views.decorators.http import require_GET, require_POST

from argmap.models import Notification
from argmap.views.maps import HtmxHttpRequest

PER_PAGE = 30

# How each kind reads, after the actor's name (or on its own when there is no actor).
KIND_TEXT = {
    Notification.Kind.REPLY: "replied to your comment",
    Notification.Kind.MENTION: "mentioned you",
    Notification.Kind.COUNTERED: "countered your claim",
    Notification.Kind.HIDDEN: "hid your contribution",
    Notification.Kind.RESTORED: "restored your contribution",
    Notification.Kind.APPROVED: "approved your suggestion",
    Notification.Kind.REJECTED: "turned down your suggestion",
    Notification.Kind.FLAG_RESOLVED: "resolved your report",
    Notification.Kind.MUTED: "changed your mute",
    Notification.Kind.ROLE: "changed your role",
}


def describe(notification: Notification) -> str:
    """One readable line for a notification (plain text: the template escapes it)."""
    text = KIND_TEXT.get(notification.kind, notification.get_kind_display().lower())
    actor = notification.actor.get_username() if notification.actor else "A moderator"
    if notification.actor is None and notification.kind in (
        Notification.Kind.REPLY,
        Notification.Kind.MENTION,
        Notification.Kind.COUNTERED,
    ):
        actor = "Someone"
    return f"{actor} {text}"


def target_url(notification: Notification) -> str:
    """Where a notification leads: the comment in its thread, else the claim, else the map."""
    if notification.comment_id is not None:
        return notification.comment.get_absolute_url()
    if notification.claim_id is not None:
        return notification.claim.get_absolute_url()
    return notification.map.get_absolute_url()


def _context(request: HtmxHttpRequest) -> dict:
    notifications = (
        Notification.objects.for_user(request.user)
        .select_related("actor", "map", "claim__map", "comment__map")
        .order_by("-created_at", "-pk")
    )
    page = Paginator(notifications, PER_PAGE).get_page(request.GET.get("page"))
    for notification in page:
        notification.text = describe(notification)
        notification.url = target_url(notification)
    unread = Notification.objects.for_user(request.user).unread().count()
    return {"page": page, "unread_count": unread}


@login_required
@require_GET
def notifications(request: HtmxHttpRequest) -> HttpResponse:
    """The user's notifications, newest first, unread ones marked."""
    template = "argmap/notifications.html#list" if request.htmx else "argmap/notifications.html"
    return render(request, template, _context(request))


@login_required
@require_POST
def notifications_read_all(request: HtmxHttpRequest) -> HttpResponse:
    """Mark every notification of the user read."""
    Notification.objects.for_user(request.user).unread().update(read_at=timezone.now())
    if not request.htmx:
        return redirect("notifications")
    return render(request, "argmap/notifications.html#list", _context(request))


@login_required
@require_POST
def notification_read(request: HtmxHttpRequest, pk: int) -> HttpResponse:
    """Mark one notification read (only one's own: another's is a 404)."""
    mine = Notification.objects.for_user(request.user).filter(pk=pk)
    if not mine.exists():
        raise Http404("No such notification.")
    mine.unread().update(read_at=timezone.now())
    if not request.htmx:
        return redirect("notifications")
    return render(request, "argmap/notifications.html#list", _context(request))


urlpatterns = [
    path("notifications/", notifications, name="notifications"),
    path("notifications/read/", notifications_read_all, name="notifications_read_all"),
    path("notifications/<int:pk>/read/", notification_read, name="notification_read"),
]
