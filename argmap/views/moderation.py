"""Moderation: the queue, flags, moderator actions and the public moderation log."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.urls import path


def _todo(request: HttpRequest, *args, **kwargs) -> HttpResponse:
    """Placeholder while the moderation views are being written."""
    return HttpResponse(status=501)


moderation_queue = moderation_log = moderation_log_csv = flag_claim = flag_comment = _todo
suggestion_claim = suggestion_comment = flag_item_resolve = claim_moderate = _todo
comment_moderate = map_moderate = member_mute = member_unmute = _todo

urlpatterns = [
    path("maps/<slug:slug>/moderation/", moderation_queue, name="moderation_queue"),
    path("maps/<slug:slug>/moderation/log/", moderation_log, name="moderation_log"),
    path("maps/<slug:slug>/moderation/log.csv", moderation_log_csv, name="moderation_log_csv"),
    path("maps/<slug:slug>/claims/<int:pk>/flag/", flag_claim, name="flag_claim"),
    path("maps/<slug:slug>/comments/<int:pk>/flag/", flag_comment, name="flag_comment"),
    path(
        "maps/<slug:slug>/moderation/claims/<int:pk>/<str:verdict>/",
        suggestion_claim,
        name="suggestion_claim",
    ),
    path(
        "maps/<slug:slug>/moderation/comments/<int:pk>/<str:verdict>/",
        suggestion_comment,
        name="suggestion_comment",
    ),
    path(
        "maps/<slug:slug>/moderation/flags/<str:kind>/<int:pk>/<str:verdict>/",
        flag_item_resolve,
        name="flag_resolve",
    ),
    path(
        "maps/<slug:slug>/claims/<int:pk>/moderate/<str:action>/",
        claim_moderate,
        name="claim_moderate",
    ),
    path(
        "maps/<slug:slug>/comments/<int:pk>/moderate/<str:action>/",
        comment_moderate,
        name="comment_moderate",
    ),
    path("maps/<slug:slug>/moderation/map/<str:action>/", map_moderate, name="map_moderate"),
    path("maps/<slug:slug>/moderation/mute/", member_mute, name="member_mute"),
    path("maps/<slug:slug>/moderation/unmute/", member_unmute, name="member_unmute"),
]
