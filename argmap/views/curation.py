"""Curation on the site: a new map from an article (staff), and the annotate view where staff and
a map's owner and editors turn passages of its article into anchored claims."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.urls import path, reverse
from django.views.decorators.http import require_http_methods

from argmap import curation, permissions, services
from argmap.curation_forms import AnnotateForm, NewMapForm
from argmap.models import ArgumentMap, Claim
from argmap.views.maps import HtmxHttpRequest, _article, _get_map

NEW_MAP_FORBIDDEN = "Only site staff may start new maps."
ANNOTATE_FORBIDDEN = "Only staff and the map's owner and editors may annotate its article."
MAP_CREATED = "The map “{title}” is ready: select passages of the article to add claims."
SOURCE_REUSED = "This article was stored before (as “{title}”); the new map cites that copy."
CLAIM_ADDED = "Added: “{text}”."
RECENT_SHOWN = 8


def add_errors(form, error: ValidationError, *, aliases: dict[str, str] | None = None) -> None:
    """Put a service's ValidationError on the form's fields (``aliases`` maps service field
    names to form field names)."""
    aliases = aliases or {}
    if hasattr(error, "error_dict"):
        for field, field_messages in error.message_dict.items():
            name = aliases.get(field, field)
            form.add_error(name if name in form.fields else None, field_messages)
    else:
        form.add_error(None, error.messages)


def create_map_from_form(form: NewMapForm, user) -> curation.NewMap | None:
    """Run the service on a valid form; on refusal put the reasons on the form and return None."""
    data = form.cleaned_data
    try:
        return curation.map_from_article(
            article_title=data["article_title"],
            article_text=data["article_text"],
            publisher=data["publisher"],
            url=data["url"],
            published=data["published"],
            slug=data["slug"],
            map_title=data["map_title"],
            thesis=data["thesis"],
            description=data["description"],
            visibility=data["visibility"],
            by=user,
        )
    except ValidationError as error:
        add_errors(form, error, aliases={"text": "article_text", "title": "map_title"})
        return None


def announce_new_map(request, made: curation.NewMap) -> None:
    if made.source_reused:
        messages.info(request, SOURCE_REUSED.format(title=made.source.title))
    messages.success(request, MAP_CREATED.format(title=made.map.title))


@login_required
@require_http_methods(["GET", "POST"])
def map_new(request: HtmxHttpRequest) -> HttpResponse:
    """Start a map from an article: store the article as a source and state the thesis."""
    if not permissions.can_create_map(request.user):
        raise PermissionDenied(NEW_MAP_FORBIDDEN)
    form = NewMapForm(request.POST or None)
    status = 200
    if request.method == "POST":
        made = create_map_from_form(form, request.user) if form.is_valid() else None
        if made is not None:
            announce_new_map(request, made)
            url = reverse("map_annotate", kwargs={"slug": made.map.slug})
            if request.htmx:
                response = HttpResponse(status=204)
                response["HX-Redirect"] = url
                return response
            return redirect(url)
        status = 422 if request.htmx else 200
    template = (
        "argmap/curation/new_map.html#form" if request.htmx else "argmap/curation/new_map.html"
    )
    return render(request, template, {"form": form}, status=status)


def _annotate_context(
    request: HtmxHttpRequest, argument_map: ArgumentMap, form: AnnotateForm | None
) -> dict:
    recent = (
        Claim.objects.filter(map=argument_map, quote_start__isnull=False)
        .exclude(status=Claim.Status.ARCHIVED)
        .order_by("-created_at", "-pk")[:RECENT_SHOWN]
    )
    return {
        "map": argument_map,
        "form": form,
        "article": _article(argument_map),
        "recent": recent,
    }


@login_required
@require_http_methods(["GET", "POST"])
def map_annotate(request: HtmxHttpRequest, slug: str) -> HttpResponse:
    """The map's article beside a form: a selected passage becomes a claim anchored to it."""
    argument_map = _get_map(request, slug)
    if not permissions.can_annotate(request.user, argument_map):
        raise PermissionDenied(ANNOTATE_FORBIDDEN)
    if argument_map.source_id is None:
        return render(
            request, "argmap/curation/annotate.html", _annotate_context(request, argument_map, None)
        )
    parents = curation.claim_choices(argument_map)
    thesis_id = parents[0][0] if parents else None
    initial = {"parent": request.GET.get("parent") or thesis_id, "stance": Claim.Stance.SUPPORT}
    form = AnnotateForm(request.POST or None, initial=initial, parents=parents)
    status = 200
    if request.method == "POST":
        claim = _annotate_save(request, argument_map, form) if form.is_valid() else None
        if claim is not None:
            added = CLAIM_ADDED.format(text=claim.text[:120])
            if not request.htmx:
                messages.success(request, added)
                url = reverse("map_annotate", kwargs={"slug": argument_map.slug})
                return redirect(f"{url}?parent={form.cleaned_data['parent']}")
            # A fresh form under the same parent and stance, the article with the new highlight
            # and the list of recent claims (out of band).
            argument_map.refresh_from_db()
            fresh = AnnotateForm(
                initial={
                    "parent": form.cleaned_data["parent"],
                    "stance": form.cleaned_data["stance"],
                },
                parents=curation.claim_choices(argument_map),
            )
            context = _annotate_context(request, argument_map, fresh) | {
                "added": added,
                "oob": True,
            }
            return render(request, "argmap/curation/annotate.html#panel", context)
        status = 422 if request.htmx else 200
    context = _annotate_context(request, argument_map, form)
    template = (
        "argmap/curation/annotate.html#panel" if request.htmx else "argmap/curation/annotate.html"
    )
    return render(request, template, context, status=status)


def _annotate_save(request: HtmxHttpRequest, argument_map: ArgumentMap, form: AnnotateForm):
    data = form.cleaned_data
    parent = Claim.objects.filter(map=argument_map, pk=data["parent"]).first()
    if parent is None:
        form.add_error("parent", services.CLAIM_PARENT_OTHER_MAP)
        return None
    try:
        return services.claim_add(
            parent=parent,
            stance=data["stance"],
            text=data["text"],
            quote=form.quote(),
            by=request.user,
            reason="Added from the article",
        )
    except ValidationError as error:
        add_errors(form, error, aliases={"quote": "quote_exact"})
        return None


urlpatterns = [
    path("maps/new/", map_new, name="map_new"),
    path("maps/<slug:slug>/annotate/", map_annotate, name="map_annotate"),
]
