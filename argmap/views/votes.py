"""Voting on a claim: one URL for the vote form (a small page without JavaScript, the tree's
popover with htmx) and for casting, changing or withdrawing a vote."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.urls import path
from django.utils.html import escape
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_http_methods

from argmap import permissions, tree, votes
from argmap.models import ArgumentMap, Claim
from argmap.ratelimit import limited
from argmap.views.maps import HtmxHttpRequest, _get_map

VOTE_SAVED = "Your vote is saved: {value} ({label})."
VOTE_WITHDRAWN = "Your vote is withdrawn."
VOTE_NONE_TO_WITHDRAW = "You had no vote on this claim."


def _claim(request: HtmxHttpRequest, slug: str, pk: int) -> tuple[ArgumentMap, Claim]:
    """The map and one of its claims this reader may see, or 404."""
    argument_map = _get_map(request, slug)
    claim = Claim.objects.filter(map=argument_map, pk=pk).first()
    if claim is None:
        raise Http404("No such claim in this map.")
    claim.map = argument_map
    if not permissions.can_view_claim(request.user, claim):
        raise Http404("No such claim in this map.")
    return argument_map, claim


def _next_url(request: HtmxHttpRequest, claim: Claim) -> str:
    """Where a plain POST goes back to: the page the vote was started from, if it is ours."""
    candidate = request.POST.get("next") or request.GET.get("next") or ""
    if candidate and url_has_allowed_host_and_scheme(
        candidate, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return candidate
    return f"{claim.get_absolute_url()}"


def _referer(request: HtmxHttpRequest) -> str:
    """The page that linked to the vote form, if it is one of ours (to go back after voting)."""
    referer = request.headers.get("Referer", "")
    if referer and url_has_allowed_host_and_scheme(
        referer, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return referer
    return ""


@login_required
@require_http_methods(["GET", "POST"])
@limited("vote")
def claim_vote(request: HtmxHttpRequest, slug: str, pk: int) -> HttpResponse:
    """Show the vote form for a claim, or cast, change (POST value) or withdraw (POST withdraw)."""
    argument_map, claim = _claim(request, slug, pk)
    if not permissions.can_vote(request.user, argument_map):
        raise PermissionDenied(votes.VOTE_NOT_ALLOWED)
    error, notice, status = "", "", 200
    if request.method == "POST":
        try:
            if "withdraw" in request.POST:
                withdrawn = votes.vote_withdraw(claim=claim, user=request.user)
                notice = VOTE_WITHDRAWN if withdrawn else VOTE_NONE_TO_WITHDRAW
            else:
                vote = votes.vote_cast(
                    claim=claim, user=request.user, value=request.POST.get("value", "")
                )
                labels = votes.AGREEMENT_LABELS if claim.is_thesis else votes.IMPACT_LABELS
                notice = VOTE_SAVED.format(value=vote.value, label=labels[vote.value])
        except ValidationError as refused:
            error, status = " ".join(refused.messages), 422
        else:
            if not request.htmx:
                messages.success(request, notice)
                return redirect(f"{_next_url(request, claim)}#claim-{claim.pk}")
        if not request.htmx:
            # Refused without JavaScript: the page again, with the reason beside the form.
            status = 422
    viewer = tree.viewer_for(request.user, argument_map)
    node = tree.fetch_claim(argument_map, claim.pk, viewer=viewer)
    tally = node.tally if node is not None else votes.tally(claim, request.user)
    context = {
        "map": argument_map,
        "claim": claim,
        "vote": votes.panel(claim, tally, viewer),
        "error": error,
        "notice": notice,
        "next": _next_url(request, claim) if request.method == "POST" else _referer(request),
        # The tree's popover: its answer also refreshes the claim's row (absent elsewhere).
        "in_tree": (request.POST if request.method == "POST" else request.GET).get("in") == "tree",
    }
    if not request.htmx:
        return render(request, "argmap/vote.html", context, status=status)
    response = render(request, "argmap/_vote_form.html", context, status=status)
    if request.method == "POST" and context["in_tree"] and node is not None and not error:
        # The claim's row in the tree (distribution, your vote) refreshed out of band, and the
        # outcome said where screen readers hear it.
        renderer = tree.TreeRenderer(argument_map.slug, viewer=viewer)
        response.write(renderer.row(node, oob=True))
        response.write(
            f'<div id="live-notice" class="notice" role="status" hx-swap-oob="true">'
            f"{escape(notice)}</div>"
        )
    return response


urlpatterns = [
    path("maps/<slug:slug>/claims/<int:pk>/vote/", claim_vote, name="claim_vote"),
]
