"""Writing claims: add, edit (with conflicts that lose nothing), move, reorder, archive,
restore, history and revert. Each URL serves a full page for plain requests and a fragment for
htmx; every mutation is a real form POST that redirects when JavaScript is off."""

from __future__ import annotations

import difflib
import json
from dataclasses import dataclass

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Q
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.utils.html import escape
from django.views.decorators.http import require_http_methods, require_POST

from argmap import permissions, services, tree
from argmap.forms import ClaimAddForm, ClaimEditForm, ClaimMoveForm, ClaimRevertForm
from argmap.models import ArgumentMap, Claim
from argmap.ratelimit import limited
from argmap.views.maps import HtmxHttpRequest, _get_map
from argmap.views.moderation import muted_refusal

MOVE_TARGETS_SHOWN = 30


def _trigger(name: str, **detail: int) -> str:
    """An HX-Trigger header value: one client event with its detail."""
    return json.dumps({name: detail})


def _claim(request: HtmxHttpRequest, slug: str, pk: int) -> tuple[ArgumentMap, Claim]:
    """The map and one of its claims this reader may see, or 404 (a claim of another map, or a
    pending, hidden or archived one they may not see, does not exist for them)."""
    argument_map = _get_map(request, slug)
    claim = Claim.objects.filter(map=argument_map, pk=pk).select_related("map__source").first()
    if claim is None or not permissions.can_view_claim(request.user, claim):
        raise Http404("No such claim in this map.")
    return argument_map, claim


CLAIM_CHANGE_REFUSED = (
    "Only the claim's author and the map's editors may change it; a locked claim, only its "
    "moderators."
)


def _require_change(request: HtmxHttpRequest, claim: Claim) -> None:
    if not permissions.can_change_claim(request.user, claim):
        raise PermissionDenied(CLAIM_CHANGE_REFUSED)


def _add_errors(form, error: ValidationError) -> None:
    if hasattr(error, "error_dict"):
        for field, messages in error.message_dict.items():
            form.add_error(field if field in form.fields else None, messages)
    else:
        form.add_error(None, error.messages)


def _render(
    request: HtmxHttpRequest, argument_map: ArgumentMap, claim_id: int | None, how: str
) -> str:
    """One claim as its reader sees it (their vote, pending claims they may see): the whole tree
    item (``node``), its row (``row``), or its row as an out-of-band swap (``oob``)."""
    if claim_id is None:
        return ""
    viewer = tree.viewer_for(request.user, argument_map)
    node = tree.fetch_claim(argument_map, claim_id, viewer=viewer)
    if node is None:
        return ""
    renderer = tree.TreeRenderer(argument_map.slug, viewer=viewer)
    if how == "node":
        return renderer.node(node, 0)
    return renderer.row(node, oob=how == "oob")


@login_required
@require_http_methods(["GET", "POST"])
@limited("claim")
def claim_add(request: HtmxHttpRequest, slug: str, pk: int) -> HttpResponse:
    """Add a support or a counterpoint under a claim."""
    argument_map, parent = _claim(request, slug, pk)
    if not permissions.can_add_claim(request.user, argument_map, parent):
        refusal = muted_refusal(request, argument_map)
        if refusal is not None:
            return refusal
        raise PermissionDenied("You may not add claims to this map.")
    # A suggester's claim waits for a moderator (pre-moderated maps make newcomers suggesters).
    direct = permissions.publishes_directly(request.user, argument_map)
    if parent.status != Claim.Status.PUBLISHED:
        raise Http404("Claims can only be added under a published claim.")
    stance = request.GET.get("stance", Claim.Stance.SUPPORT)
    form = ClaimAddForm(request.POST or None, initial={"stance": stance})
    if request.method == "POST" and form.is_valid():
        try:
            claim = services.claim_add(
                parent=parent,
                stance=form.cleaned_data["stance"],
                text=form.cleaned_data["text"],
                quote=form.quote(),
                by=request.user,
                status=Claim.Status.PUBLISHED if direct else Claim.Status.PENDING,
            )
        except ValidationError as error:
            _add_errors(form, error)
        else:
            if not request.htmx:
                if not direct:
                    messages.info(request, CLAIM_PENDING)
                    return redirect(claim.get_absolute_url())
                return redirect(f"{parent.get_absolute_url()}#claim-{claim.pk}")
            # The new claim goes at the end of its parent's group (a suggestion too: its author
            # sees it marked pending); the parent's row is refreshed (counts, toggle) out of band,
            # and the compose box is emptied, or says the suggestion waits for approval.
            compose = (
                ""
                if direct
                else f'<p class="notice pending-notice" role="status">{escape(CLAIM_PENDING)} '
                f'<a href="{escape(claim.get_absolute_url())}">See it</a></p>'
            )
            response = HttpResponse(
                _render(request, argument_map, claim.pk, "node")
                + _render(request, argument_map, parent.pk, "oob")
                + f'<div id="compose-{parent.pk}" class="compose" hx-swap-oob="true">'
                + f"{compose}</div>"
            )
            response["HX-Retarget"] = f"#group-{parent.pk}"
            response["HX-Reswap"] = "beforeend"
            response["HX-Trigger"] = _trigger("argmap:claimAdded", id=claim.pk)
            return response
    template = "argmap/claim_add.html#form" if request.htmx else "argmap/claim_add.html"
    return render(
        request, template, {"map": argument_map, "parent": parent, "form": form, "stance": stance}
    )


CLAIM_PENDING = "Your claim was saved. It awaits a moderator's approval before others see it."


@login_required
@require_http_methods(["GET", "POST"])
def claim_edit(request: HtmxHttpRequest, slug: str, pk: int) -> HttpResponse:
    """Edit a claim's text and quote; a stale version answers 409 with both texts side by side."""
    argument_map, claim = _claim(request, slug, pk)
    _require_change(request, claim)
    if request.method == "GET" and request.htmx and request.GET.get("cancel"):
        return HttpResponse(_render(request, argument_map, claim.pk, "row"))
    form = ClaimEditForm(
        request.POST or None,
        initial={
            "text": claim.text,
            "version": claim.version,
            "quote_exact": claim.quote_exact,
            "quote_prefix": claim.quote_prefix,
            "quote_suffix": claim.quote_suffix,
            "quote_start": claim.quote_start,
            "quote_end": claim.quote_end,
        },
    )
    status, conflict = 200, None
    if request.method == "POST" and form.is_valid():
        try:
            claim = services.claim_edit(
                claim=claim,
                expected_version=form.cleaned_data["version"],
                text=form.cleaned_data["text"],
                quote=form.quote(),
                by=request.user,
            )
        except services.ClaimConflict as error:
            # Nothing is thrown away: the draft stays in the form, the current text beside it,
            # and the form now carries the current version so "keep mine" can go through.
            conflict = error.current
            status = 409
            data = form.data.copy()
            data["version"] = conflict.version
            form = ClaimEditForm(data)
            form.is_valid()
        except ValidationError as error:
            _add_errors(form, error)
            status = 422 if request.htmx else 200
        else:
            if not request.htmx:
                return redirect(claim.get_absolute_url())
            return HttpResponse(_render(request, argument_map, claim.pk, "row"))
    context = {
        "map": argument_map,
        "claim": claim,
        "form": form,
        "conflict": conflict,
        "draft": form.data.get("text", "") if conflict else "",
    }
    template = "argmap/claim_edit.html#form" if request.htmx else "argmap/claim_edit.html"
    return render(request, template, context, status=status)


@login_required
@require_POST
def claim_archive(request: HtmxHttpRequest, slug: str, pk: int) -> HttpResponse:
    """Archive a claim and its subtree: gone from the tree, kept in history, restorable."""
    argument_map, claim = _claim(request, slug, pk)
    _require_change(request, claim)
    try:
        services.claim_archive(claim=claim, by=request.user, reason=request.POST.get("reason", ""))
    except ValidationError as error:
        return _refusal(request, error, claim)
    if not request.htmx:
        return redirect(claim.get_absolute_url())
    notice = render(
        request, "argmap/_archived_notice.html", {"map": argument_map, "claim": claim}
    ).content.decode()
    # The claim's <li> is replaced by nothing; the notice with its Undo button goes out of band.
    return HttpResponse(notice + _render(request, argument_map, claim.parent_id, "oob"))


@login_required
@require_POST
def claim_restore(request: HtmxHttpRequest, slug: str, pk: int) -> HttpResponse:
    """Restore an archived claim with the subtree that was archived with it."""
    _, claim = _claim(request, slug, pk)
    _require_change(request, claim)
    try:
        services.claim_restore(claim=claim, by=request.user)
    except ValidationError as error:
        return _refusal(request, error, claim)
    if not request.htmx:
        return redirect(claim.get_absolute_url())
    response = HttpResponse(
        '<div id="live-notice" class="notice" role="status" hx-swap-oob="true">Restored.</div>'
    )
    response["HX-Trigger"] = "argmap:pull"
    return response


def _refusal(request: HtmxHttpRequest, error: ValidationError, claim: Claim) -> HttpResponse:
    """A refused write: 422 with the reason, shown in the page's notice area or on its own."""
    message = " ".join(error.messages)
    if request.htmx:
        response = HttpResponse(
            f'<div id="live-notice" class="notice error" role="alert" hx-swap-oob="true">'
            f"{escape(message)}</div>",
            status=422,
        )
        response["HX-Reswap"] = "none"
        return response
    return render(
        request,
        "argmap/refused.html",
        {"map": claim.map, "claim": claim, "message": message},
        status=422,
    )


@login_required
@require_http_methods(["GET", "POST"])
def claim_move(request: HtmxHttpRequest, slug: str, pk: int) -> HttpResponse:
    """Move a claim with its subtree under another claim of the map, choosing the new stance."""
    argument_map, claim = _claim(request, slug, pk)
    _require_change(request, claim)
    if claim.is_thesis:
        raise Http404("The thesis cannot move.")
    form = ClaimMoveForm(request.POST or None, initial={"stance": claim.stance})
    if request.method == "POST" and form.is_valid():
        target = Claim.objects.filter(map=argument_map, pk=form.cleaned_data["target"]).first()
        if target is None:
            form.add_error("target", "Choose a claim of this map.")
        else:
            try:
                services.claim_move(
                    claim=claim,
                    new_parent=target,
                    stance=form.cleaned_data["stance"],
                    by=request.user,
                )
            except ValidationError as error:
                _add_errors(form, error)
            else:
                if not request.htmx:
                    return redirect(claim.get_absolute_url())
                response = HttpResponse(
                    '<div id="live-notice" class="notice" role="status" hx-swap-oob="true">'
                    "Moved.</div>"
                )
                response["HX-Trigger"] = _trigger("argmap:pull", focus=claim.pk)
                return response
    query = request.GET.get("q", "").strip()
    targets = _move_targets(argument_map, claim, query)
    context = {"map": argument_map, "claim": claim, "form": form, "targets": targets, "q": query}
    if request.htmx and request.GET.get("part") == "targets":
        return render(request, "argmap/claim_move.html#targets", context)
    template = "argmap/claim_move.html#dialog" if request.htmx else "argmap/claim_move.html"
    return render(request, template, context, status=422 if form.errors and request.htmx else 200)


def _move_targets(argument_map: ArgumentMap, claim: Claim, query: str) -> list[tuple[int, str]]:
    """Claims the claim may move under: published, not itself nor its subtree, matching query."""
    excluded = tree.subtree_ids(claim.pk)
    candidates = (
        Claim.objects.visible_to(None).in_map(argument_map).exclude(pk__in=excluded).order_by("pk")
    )
    if query:
        terms = Q()
        for word in query.split():
            terms &= Q(text__icontains=word)
        number = int(query) if query.isascii() and query.isdigit() and len(query) <= 18 else None
        candidates = candidates.filter(terms | Q(pk=number) if number is not None else terms)
    return list(candidates.values_list("pk", "text")[:MOVE_TARGETS_SHOWN])


@login_required
@require_POST
def claim_reorder(request: HtmxHttpRequest, slug: str, pk: int) -> HttpResponse:
    """Move a claim up or down among its siblings."""
    _, claim = _claim(request, slug, pk)
    _require_change(request, claim)
    offset = -1 if request.POST.get("direction") == "up" else 1
    try:
        services.claim_reorder(claim=claim, offset=offset, by=request.user)
    except ValidationError as error:
        return _refusal(request, error, claim)
    if not request.htmx:
        return redirect(
            claim.parent.get_absolute_url() if claim.parent else claim.get_absolute_url()
        )
    response = HttpResponse(status=204)
    response["HX-Trigger"] = _trigger("argmap:pull", focus=claim.pk)
    return response


@dataclass
class Version:
    record: object
    number: int
    diff: str
    quote_changed: bool


def _diff_html(before: str, after: str) -> str:
    """A word-level diff with <del>/<ins>, every word escaped."""
    old, new = before.split(), after.split()
    parts = []
    for op, i1, i2, j1, j2 in difflib.SequenceMatcher(a=old, b=new).get_opcodes():
        if op == "equal":
            parts.append(escape(" ".join(old[i1:i2])))
        if op in ("delete", "replace"):
            parts.append(f"<del>{escape(' '.join(old[i1:i2]))}</del>")
        if op in ("insert", "replace"):
            parts.append(f"<ins>{escape(' '.join(new[j1:j2]))}</ins>")
    return " ".join(parts)


@require_http_methods(["GET"])
def claim_history(request: HtmxHttpRequest, slug: str, pk: int) -> HttpResponse:
    """Every version of a claim: who, when, why, and what changed, newest first."""
    argument_map, claim = _claim(request, slug, pk)
    if not permissions.can_view_claim(request.user, claim):
        raise Http404("No such claim in this map.")
    records = list(claim.history.select_related("history_user").order_by("history_id"))
    versions, previous = [], None
    for number, record in enumerate(records, start=1):
        before = previous.text if previous else ""
        quote_changed = previous is not None and (
            (previous.quote_start, previous.quote_end) != (record.quote_start, record.quote_end)
        )
        versions.append(Version(record, number, _diff_html(before, record.text), quote_changed))
        previous = record
    versions.reverse()
    context = {
        "map": argument_map,
        "claim": claim,
        "versions": versions,
        "can_revert": permissions.can_change_claim(request.user, claim),
    }
    template = "argmap/claim_history.html#history" if request.htmx else "argmap/claim_history.html"
    return render(request, template, context)


@login_required
@require_POST
def claim_revert(request: HtmxHttpRequest, slug: str, pk: int) -> HttpResponse:
    """Bring back an earlier version's text and quote, as a new version."""
    _, claim = _claim(request, slug, pk)
    _require_change(request, claim)
    form = ClaimRevertForm(request.POST)
    if not form.is_valid():
        return _refusal(request, ValidationError("Choose a version to revert to."), claim)
    try:
        services.claim_revert(
            claim=claim,
            history_id=form.cleaned_data["history_id"],
            expected_version=form.cleaned_data["version"],
            by=request.user,
        )
    except services.ClaimConflict:
        return _refusal(
            request,
            ValidationError("The claim changed meanwhile; reload its history and try again."),
            claim,
        )
    except ValidationError as error:
        return _refusal(request, error, claim)
    url = f"{claim.get_absolute_url()}history/"
    if not request.htmx:
        return redirect(url)
    response = HttpResponse(status=204)
    response["HX-Redirect"] = url  # a full page load of the history, not a partial into <body>
    return response
