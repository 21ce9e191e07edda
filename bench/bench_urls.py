"""The app's URLs plus one empty view: the fixed cost of a request through Django's stack."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.urls import path
from django.views.decorators.http import require_GET

from config.urls import urlpatterns as app_urlpatterns


@require_GET
def empty(request: HttpRequest) -> HttpResponse:
    """Nothing at all: every middleware runs, no query, no template."""
    return HttpResponse(b"")


urlpatterns = [*app_urlpatterns, path("bench/empty/", empty)]
