"""Reading maps: the home page, a map's first view, a claim's page and the expand fragment."""

from __future__ import annotations

from django.conf import settings
from django.core.cache import cache
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.safestring import mark_safe
from django.views.decorators.http import require_GET
from django_htmx.middleware import HtmxDetails

from argmap import anchors, permissions, tree, votes
from argmap.models import ArgumentMap, Claim


class HtmxHttpRequest(HttpRequest):
    htmx: HtmxDetails


def _get_map(request: HttpRequest, slug: str) -> ArgumentMap:
    """The map, if it exists and this user may read it; a private map is a 404 to others."""
    # The article text is read only when the cached article must be rebuilt (measured: the
    # 400 kB text of a big map cost 6 ms on every page and expand).
    argument_map = (
        ArgumentMap.objects.select_related("source").defer("source__text").filter(slug=slug).first()
    )
    if argument_map is None or not permissions.can_view_map(request.user, argument_map):
        raise Http404("No such map.")
    return argument_map


def _int_param(request: HttpRequest, name: str, default: int, *, low: int, high: int) -> int:
    try:
        value = int(request.GET.get(name, default))
    except (TypeError, ValueError):
        return default
    return min(max(value, low), high)


def _article(argument_map: ArgumentMap) -> dict[str, object] | None:
    """The source rendered with its highlights plus coverage, cached per map version."""
    source = argument_map.source
    if source is None:
        return None
    key = (
        f"argmap:article:{argument_map.pk}:{argument_map.slug}:{argument_map.version}:"
        f"{source.sha256[:16]}"
    )
    cached = cache.get(key)
    if cached is None:
        spans = tree.fetch_highlights(argument_map)
        highlights = [anchors.Highlight(start, end, ids) for start, end, ids in spans]
        claim_url = f"/maps/{argument_map.slug}/claims/{{id}}/"
        touched, total = anchors.coverage(source.text, [(s, e) for s, e, _ in spans])
        cached = {
            "html": anchors.render_article(source.text, highlights, claim_url),
            "sentences_anchored": touched,
            "sentences_total": total,
            "coverage_percent": round(100 * touched / total) if total else 0,
        }
        cache.set(key, cached, 60 * 60)
    # Rendered by anchors.render_article, which escapes every piece of the source text.
    return {**cached, "html": mark_safe(cached["html"])}


@require_GET
def home(request: HttpRequest) -> HttpResponse:
    """The maps anyone may browse, featured first, with claim counts and last activity."""
    maps = ArgumentMap.objects.listed().with_claim_counts().select_related("source")
    return render(request, "argmap/home.html", {"maps": maps})


@require_GET
def map_detail(request: HtmxHttpRequest, slug: str) -> HttpResponse:
    """A map's first view: the thesis and two levels as a tree, beside the highlighted article."""
    argument_map = _get_map(request, slug)
    viewer = tree.viewer_for(request.user, argument_map)
    sort = tree.sort_of(request.GET.get("sort"))
    thesis = tree.fetch_first_view(argument_map, viewer=viewer, sort=sort)
    renderer = tree.TreeRenderer(argument_map.slug, viewer=viewer, sort=sort)
    tree_html = mark_safe(renderer.node(thesis, 1)) if thesis else ""
    return render(
        request,
        "argmap/map.html",
        {
            "map": argument_map,
            "thesis": thesis,
            "tree_html": tree_html,
            "article": _article(argument_map),
            "sort": sort,
            "can_manage": permissions.can_manage_map(request.user, argument_map),
        },
    )


@require_GET
def claim_detail(request: HtmxHttpRequest, slug: str, pk: int) -> HttpResponse:
    """A claim's own page: its path to the thesis, its quote in context, its children, and the
    forms that change it (the no-JavaScript way to do everything the tree's action bar does)."""
    argument_map = _get_map(request, slug)
    claim = Claim.objects.filter(map=argument_map, pk=pk).select_related("author").first()
    if claim is None:
        raise Http404("No such claim in this map.")
    if claim.merged_into_id is not None and claim.status == Claim.Status.ARCHIVED:
        # A duplicate merged away: its permalink leads to the claim it was merged into (302, as
        # the merge can be undone).
        return redirect("claim_detail", slug=argument_map.slug, pk=claim.merged_into_id)
    claim.map = argument_map  # already loaded: spare the checks and the template a query
    viewer = tree.viewer_for(request.user, argument_map)
    sort = tree.sort_of(request.GET.get("sort"))
    node = tree.fetch_claim(argument_map, pk, viewer=viewer, annotate=False)
    can_change = permissions.can_change_claim(request.user, claim)
    if not permissions.can_view_claim(request.user, claim):
        raise Http404("No such claim in this map.")
    if node is None:  # archived (or hidden): only its author and staff see it, to restore it
        node = tree.Node(
            claim.pk,
            claim.parent_id,
            claim.stance,
            claim.text,
            None,
            None,
            claim.position,
            claim.author_id,
            0,
            0,
            status=claim.status,
            locked=claim.locked,
        )
    offset = _int_param(request, "offset", 0, low=0, high=max(node.child_count - 1, 0))
    children = tree.fetch_children(
        [node.id], offset=offset, viewer=viewer, sort=sort, annotate=False
    ).get(node.id, [])
    tree.annotate([node, *children], viewer)  # the claim's and its children's votes: one query
    tree.sort_nodes(children, sort)
    renderer = tree.TreeRenderer(argument_map.slug, viewer=viewer, sort=sort)
    children_html = mark_safe(renderer.children_page(node, children, 1, offset))
    context = {
        "sort": sort,
        "vote": votes.panel(claim, node, viewer),
        "map": argument_map,
        "claim": claim,
        "node": node,
        "ancestors": tree.fetch_ancestors(node.id),
        "children_html": children_html,
        "offset": offset,
        "quote_context": _quote_context(argument_map, claim),
        "can_add": claim.status == Claim.Status.PUBLISHED
        and permissions.can_add_claim(request.user, argument_map, claim),
        "can_change": can_change,
    }
    return render(request, "argmap/claim.html", context)


def _quote_context(argument_map: ArgumentMap, claim: Claim) -> dict[str, str] | None:
    if argument_map.source is None or claim.quote_start is None:
        return None
    text, start, end = argument_map.source.text, claim.quote_start, claim.quote_end
    before = text[max(0, start - 300) : start]
    after = text[end : end + 300]
    return {
        "before": ("…" if start > 300 else "") + before,
        "exact": text[start:end],
        "after": after + ("…" if end + 300 < len(text) else ""),
    }


@require_GET
def claim_children(request: HtmxHttpRequest, slug: str, pk: int) -> HttpResponse:
    """The children of a claim, a page at a time, as tree items for an htmx expand."""
    if not request.htmx:
        url = f"/maps/{slug}/claims/{pk}/"
        offset = _int_param(request, "offset", 0, low=0, high=2**31 - 1)
        query = [f"offset={offset}"] if offset else []
        if tree.sort_of(request.GET.get("sort")) == tree.SORT_IMPACT:
            query.append(f"sort={tree.SORT_IMPACT}")
        return redirect(f"{url}?{'&'.join(query)}" if query else url)
    argument_map = _get_map(request, slug)
    viewer = tree.viewer_for(request.user, argument_map)
    sort = tree.sort_of(request.GET.get("sort"))
    node = tree.fetch_claim(argument_map, pk, viewer=viewer, annotate=False)
    if node is None:
        raise Http404("No such claim in this map.")
    offset = _int_param(request, "offset", 0, low=0, high=max(node.child_count, 0))
    level = _int_param(request, "level", 2, low=1, high=10_000)
    children = tree.fetch_children([node.id], offset=offset, viewer=viewer, sort=sort).get(
        node.id, []
    )
    renderer = tree.TreeRenderer(
        argument_map.slug, page_size=settings.ARGMAP_PAGE_SIZE, viewer=viewer, sort=sort
    )
    return HttpResponse(renderer.children_page(node, children, level, offset))
