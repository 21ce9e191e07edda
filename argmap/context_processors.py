"""Template context for every page."""

from __future__ import annotations

from django.http import HttpRequest
from django.utils.functional import SimpleLazyObject

from argmap.models import Notification


def unread_notifications(request: HttpRequest) -> dict:
    """The signed-in user's unread notification count for the header badge: one COUNT query,
    run only if a template actually shows it (fragments never do)."""
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {}
    return {
        "unread_notifications": SimpleLazyObject(
            lambda: Notification.objects.for_user(user).unread().count()
        )
    }
