"""Search views: across maps (titles, descriptions, claims) and within one map (claims and
comments). A plain GET form that htmx upgrades to search-as-you-type: a request aimed at the
results region gets just the results; any other request gets the whole page."""

from __future__ import annotations

from django.http import HttpResponse
from django.shortcuts import render
from django.urls import path, reverse
from django.views.decorators.http import require_GET

from argmap import search as finder
from argmap.views.maps import HtmxHttpRequest, _get_map

RESULTS_ID = "search-results"
MAPS_SHOWN = 5


def _page(request: HtmxHttpRequest) -> int:
    try:
        return min(max(int(request.GET.get("page", 1)), 1), finder.MAX_PAGE)
    except (TypeError, ValueError):
        return 1


def _render(request: HtmxHttpRequest, context: dict) -> HttpResponse:
    """The results fragment for htmx requests aimed at the results region, else the page."""
    query, truncated = context["query"], context.pop("truncated")
    context.update(
        notice=finder.QUERY_TRUNCATED.format(limit=finder.MAX_QUERY_LENGTH) if truncated else "",
        results_id=RESULTS_ID,
        max_length=finder.MAX_QUERY_LENGTH,
        any_results=any(context[name] for name in ("maps", "claims", "comments")),
        has_next=any(context[name].has_next for name in ("claims", "comments")),
        has_previous=context["page"] > 1,
        empty_query=not query,
    )
    template = "argmap/search.html"
    context["fragment"] = bool(request.htmx and request.htmx.target == RESULTS_ID)
    if context["fragment"]:
        template += "#results"
    return render(request, template, context)


@require_GET
def search(request: HtmxHttpRequest) -> HttpResponse:
    """Search every map the reader may find: maps by title and description, and their claims."""
    query, truncated = finder.clean_query(request.GET.get("q"))
    page = _page(request)
    user = request.user
    return _render(
        request,
        {
            "query": query,
            "truncated": truncated,
            "page": page,
            "action": reverse("search"),
            # Maps head the first page only; the pages after it page through the claims.
            "maps": finder.search_maps(user=user, query=query, per_page=MAPS_SHOWN)
            if page == 1
            else finder.EMPTY,
            "claims": finder.search_claims(user=user, query=query, page=page),
            "comments": finder.EMPTY,
            "map": None,
        },
    )


@require_GET
def map_search(request: HtmxHttpRequest, slug: str) -> HttpResponse:
    """Search one map's claims and discussion (a private map is a 404 to non-members)."""
    argument_map = _get_map(request, slug)
    query, truncated = finder.clean_query(request.GET.get("q"))
    page = _page(request)
    user = request.user
    return _render(
        request,
        {
            "query": query,
            "truncated": truncated,
            "page": page,
            "action": reverse("map_search", kwargs={"slug": argument_map.slug}),
            "maps": finder.EMPTY,
            "claims": finder.search_claims(
                user=user, query=query, argument_map=argument_map, page=page
            ),
            "comments": finder.search_comments(
                user=user, query=query, argument_map=argument_map, page=page
            ),
            "map": argument_map,
        },
    )


urlpatterns = [
    path("search/", search, name="search"),
    path("maps/<slug:slug>/search/", map_search, name="map_search"),
]
