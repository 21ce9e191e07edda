"""Moderation: the queue, reports (flags), moderator actions, mutes and the public moderation log.

Every page is a full page for plain requests and a fragment for htmx; every action is a real form
POST (with a reason) that redirects back when JavaScript is off, and, from the queue, takes the
item out of the queue in place.
"""

from __future__ import annotations

import csv
from datetime import datetime, time, timedelta

from django import forms
from django.contrib import messages
from django.contrib.auth import get_user_model
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.db.models import QuerySet
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.urls import NoReverseMatch, path, reverse
from django.utils import timezone
from django.utils.html import escape
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from argmap import moderation, permissions
from argmap.models import ArgumentMap, Claim, Comment, Flag, Membership, ModerationAction
from argmap.ratelimit import limited
from argmap.views.maps import HtmxHttpRequest, _get_map

NOT_MODERATOR = "Only this map's moderators may do that."
MAY_NOT_FLAG = "You may not report content in this map."
MUTED = "You are muted in this map until {until}: you can read, but not write. Reason: {reason}"
NO_SUCH_USER = "There is no user called {name!r}."
CUSTOM_UNTIL_REQUIRED = "Choose when the mute ends."
FLAG_THANKS = "Thank you: a moderator will review your report."
LOG_PAGE_SIZE = 50
FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")

DURATIONS = {"1h": timedelta(hours=1), "1d": timedelta(days=1), "1w": timedelta(weeks=1)}


# -- forms ---------------------------------------------------------------------------------------


class ReasonForm(forms.Form):
    # Required-ness and length are the service's to check, with its own clear messages; a browser
    # cap (maxlength) would silently cut a pasted text.
    reason = forms.CharField(
        required=False, widget=forms.Textarea(attrs={"rows": 2}), label="Reason", strip=True
    )


class FlagForm(forms.Form):
    reason = forms.ChoiceField(
        choices=Flag.Reason.choices, widget=forms.RadioSelect, label="What is wrong with it?"
    )
    fallacy = forms.CharField(required=False, label="Which fallacy?")
    note = forms.CharField(
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
        label="Note for the moderators (optional)",
    )


class MuteForm(forms.Form):
    username = forms.CharField(label="Username")
    duration = forms.ChoiceField(
        choices=[("1h", "1 hour"), ("1d", "1 day"), ("1w", "1 week"), ("custom", "Until…")],
        initial="1d",
        label="For",
    )
    until = forms.DateTimeField(
        required=False,
        label="Until (for “Until…”)",
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}),
    )
    reason = forms.CharField(required=False, widget=forms.Textarea(attrs={"rows": 2}))

    def clean(self):
        cleaned = super().clean()
        if cleaned.get("duration") == "custom" and not cleaned.get("until"):
            self.add_error("until", CUSTOM_UNTIL_REQUIRED)
        return cleaned

    def ends_at(self) -> datetime:
        duration = self.cleaned_data["duration"]
        if duration == "custom":
            return self.cleaned_data["until"]
        return timezone.now() + DURATIONS[duration]


class LogFilterForm(forms.Form):
    action = forms.ChoiceField(
        required=False, choices=[("", "Any action"), *ModerationAction.Action.choices]
    )
    actor = forms.CharField(required=False, label="By (username)")
    since = forms.DateField(
        required=False, label="From", widget=forms.DateInput(attrs={"type": "date"})
    )
    until = forms.DateField(
        required=False, label="To", widget=forms.DateInput(attrs={"type": "date"})
    )


# -- helpers -------------------------------------------------------------------------------------


def _moderated_map(request: HtmxHttpRequest, slug: str) -> ArgumentMap:
    """The map if this user moderates it: 404 when they may not even see it, else 403."""
    argument_map = _get_map(request, slug)
    if not permissions.can_moderate(request.user, argument_map):
        raise PermissionDenied(NOT_MODERATOR)
    return argument_map


def _errors(error: ValidationError) -> str:
    return " ".join(error.messages)


def _claim_of(argument_map: ArgumentMap, pk: int) -> Claim:
    claim = Claim.objects.filter(map=argument_map, pk=pk).select_related("author", "map").first()
    if claim is None:
        raise Http404("No such claim in this map.")
    return claim


def _comment_of(argument_map: ArgumentMap, pk: int) -> Comment:
    comment = (
        Comment.objects.filter(map=argument_map, pk=pk)
        .select_related("author", "claim__map", "map")
        .first()
    )
    if comment is None:
        raise Http404("No such comment in this map.")
    return comment


def _thread_url(comment: Comment) -> str:
    """Where a comment is read: its thread if the discussion pages exist, else its claim."""
    try:
        return comment.get_absolute_url()
    except NoReverseMatch:
        return reverse("claim_detail", args=[comment.map.slug, comment.claim_id])


def muted_refusal(request: HtmxHttpRequest, argument_map: ArgumentMap) -> HttpResponse | None:
    """A 403 that says why, for a muted member's write; None when they are not muted."""
    if not permissions.is_muted(request.user, argument_map):
        return None
    member = permissions.membership(request.user, argument_map)
    until = timezone.localtime(member.muted_until)
    message = MUTED.format(until=f"{until:%Y-%m-%d %H:%M %Z}", reason=member.mute_reason or "—")
    return _refused(request, argument_map, message, status=403)


def _refused(
    request: HtmxHttpRequest, argument_map: ArgumentMap, message: str, *, status: int
) -> HttpResponse:
    if request.htmx:
        response = HttpResponse(
            f'<div id="live-notice" class="notice error" role="alert" hx-swap-oob="true">'
            f"{escape(message)}</div>",
            status=status,
        )
        response["HX-Reswap"] = "none"
        return response
    return render(
        request,
        "argmap/moderation/refused.html",
        {"map": argument_map, "message": message},
        status=status,
    )


# -- the queue -----------------------------------------------------------------------------------


def _flag_groups(argument_map: ArgumentMap) -> list[dict]:
    """Open reports grouped per item: the item, how many, and each report's reason and note."""
    flags = (
        Flag.objects.filter(map=argument_map, status=Flag.Status.OPEN)
        .select_related("reporter")
        .order_by("created_at", "pk")
    )
    by_item: dict[tuple[str, int], list[Flag]] = {}
    for flag in flags:
        key = ("comment", flag.comment_id) if flag.comment_id else ("claim", flag.claim_id)
        by_item.setdefault(key, []).append(flag)
    claims = Claim.objects.in_bulk([pk for kind, pk in by_item if kind == "claim"])
    comments = Comment.objects.select_related("claim", "author").in_bulk(
        [pk for kind, pk in by_item if kind == "comment"]
    )
    groups = []
    for (kind, pk), item_flags in by_item.items():
        item = claims.get(pk) if kind == "claim" else comments.get(pk)
        if item is None:
            continue
        reasons: dict[str, int] = {}
        for flag in item_flags:
            label = flag.get_reason_display()
            reasons[label] = reasons.get(label, 0) + 1
        groups.append(
            {
                "kind": kind,
                "item": item,
                "key": f"flag-{kind}-{pk}",
                "flags": item_flags,
                "count": len(item_flags),
                "reasons": sorted(reasons.items(), key=lambda pair: -pair[1]),
            }
        )
    groups.sort(key=lambda group: -group["count"])
    return groups


def _hidden(argument_map: ArgumentMap) -> tuple[QuerySet[Claim], QuerySet[Comment]]:
    claims = Claim.objects.filter(map=argument_map, status=Claim.Status.HIDDEN).select_related(
        "author"
    )
    comments = Comment.objects.filter(
        map=argument_map, status=Comment.Status.HIDDEN
    ).select_related("author", "claim")
    return claims.order_by("-updated_at"), comments.order_by("-updated_at")


def _muted_members(argument_map: ArgumentMap) -> QuerySet[Membership]:
    return (
        Membership.objects.filter(map=argument_map, muted_until__gt=timezone.now())
        .select_related("user")
        .order_by("muted_until")
    )


def _keyed(items, prefix: str, error_key: str, error: str, typed: str) -> list:
    """Give each queue item its DOM key, and the refused action's message and typed reason."""
    keyed = []
    for item in items:
        if isinstance(item, dict):
            key = item["key"]
        else:
            key = f"{prefix}-{item.pk if not isinstance(item, Membership) else item.user_id}"
            item.key = key
        mine = key == error_key
        if isinstance(item, dict):
            item.update(error=error if mine else "", typed=typed if mine else "")
        else:
            item.error, item.typed = (error, typed) if mine else ("", "")
        keyed.append(item)
    return keyed


def _queue_context(request: HtmxHttpRequest, argument_map: ArgumentMap, **extra) -> dict:
    hidden_claims, hidden_comments = _hidden(argument_map)
    mark = (extra.get("error_key", ""), extra.get("error", ""), extra.get("typed_reason", ""))
    return {
        "map": argument_map,
        "pending_claims": _keyed(moderation.pending_claims(argument_map), "claim", *mark),
        "pending_comments": _keyed(moderation.pending_comments(argument_map), "comment", *mark),
        "flag_groups": _keyed(_flag_groups(argument_map), "", *mark),
        "hidden_claims": _keyed(hidden_claims, "hidden-claim", *mark),
        "hidden_comments": _keyed(hidden_comments, "hidden-comment", *mark),
        "muted": _keyed(_muted_members(argument_map), "muted", *mark),
        "open_count": moderation.open_item_count(argument_map),
        "mute_form": extra.pop("mute_form", None) or MuteForm(),
        "can_manage": permissions.can_manage_map(request.user, argument_map),
        **extra,
    }


@login_required
@require_GET
def moderation_queue(request: HtmxHttpRequest, slug: str) -> HttpResponse:
    """The moderators' queue: pending suggestions, reported items, hidden items and mutes."""
    argument_map = _moderated_map(request, slug)
    template = (
        "argmap/moderation/queue.html#queue" if request.htmx else "argmap/moderation/queue.html"
    )
    return render(request, template, _queue_context(request, argument_map))


def _done(
    request: HtmxHttpRequest,
    argument_map: ArgumentMap,
    key: str,
    message: str,
    back: str,
    *,
    compose: int | None = None,
) -> HttpResponse:
    """After an action: from the queue with htmx, the item leaves in place (the count and a notice
    follow out of band); from a claim's action bar, its form closes and the live feed re-renders
    the claim; without JavaScript, back to where the form was."""
    if not request.htmx:
        messages.success(request, message)
        return redirect(back)
    from_queue = request.POST.get("from") == "queue"
    body = (
        f'<div id="live-notice" class="notice" role="status" hx-swap-oob="true">'
        f"{escape(message)}</div>"
    )
    if from_queue:
        count = moderation.open_item_count(argument_map)
        body += f'<span id="queue-count" class="queue-count" hx-swap-oob="true">{count}</span>'
    elif compose is not None:
        body += f'<div id="compose-{compose}" class="compose" hx-swap-oob="true"></div>'
    response = HttpResponse(body)
    if not from_queue:
        response["HX-Trigger"] = "argmap:pull"
    response["HX-Reswap"] = "delete" if from_queue and key else "none"
    return response


def _failed(
    request: HtmxHttpRequest,
    argument_map: ArgumentMap,
    key: str,
    error: ValidationError,
    back: str,
) -> HttpResponse:
    """A refused action: the queue (or the item, with htmx) again with the message and the
    reason as typed; 422."""
    message = _errors(error)
    if request.POST.get("from") != "queue":
        return _refused(request, argument_map, message, status=422)
    context = _queue_context(
        request,
        argument_map,
        error_key=key,
        error=message,
        typed_reason=request.POST.get("reason", ""),
    )
    if request.htmx:
        response = render(request, "argmap/moderation/queue.html#queue", context, status=422)
        response["HX-Retarget"] = "#queue"
        response["HX-Reswap"] = "outerHTML"
        return response
    return render(request, "argmap/moderation/queue.html", context, status=422)


def _reason(request: HtmxHttpRequest) -> str:
    form = ReasonForm(request.POST)
    form.is_valid()
    return form.cleaned_data.get("reason", "")


def _verdict(
    request: HtmxHttpRequest,
    argument_map: ArgumentMap,
    verdict: str,
    key: str,
    approved: str,
    **target: Claim | Comment,
) -> HttpResponse:
    """Approve or reject one suggestion (``target`` is ``claim=`` or ``comment=``)."""
    if verdict not in ("approve", "reject"):
        raise Http404("No such verdict.")
    back = reverse("moderation_queue", args=[argument_map.slug])
    decide = moderation.suggestion_approve if verdict == "approve" else moderation.suggestion_reject
    try:
        decide(**target, by=request.user, reason=_reason(request))
    except ValidationError as error:
        return _failed(request, argument_map, key, error, back)
    return _done(
        request, argument_map, key, approved if verdict == "approve" else "Rejected.", back
    )


@login_required
@require_POST
def suggestion_claim(request: HtmxHttpRequest, slug: str, pk: int, verdict: str) -> HttpResponse:
    """Approve or reject a suggested (pending) claim."""
    argument_map = _moderated_map(request, slug)
    claim = _claim_of(argument_map, pk)
    return _verdict(
        request,
        argument_map,
        verdict,
        f"claim-{pk}",
        "Approved: the claim is published.",
        claim=claim,
    )


@login_required
@require_POST
def suggestion_comment(request: HtmxHttpRequest, slug: str, pk: int, verdict: str) -> HttpResponse:
    """Approve or reject a suggested (pending) comment."""
    argument_map = _moderated_map(request, slug)
    comment = _comment_of(argument_map, pk)
    return _verdict(
        request,
        argument_map,
        verdict,
        f"comment-{pk}",
        "Approved: the comment is visible.",
        comment=comment,
    )


@login_required
@require_POST
def flag_item_resolve(
    request: HtmxHttpRequest, slug: str, kind: str, pk: int, verdict: str
) -> HttpResponse:
    """Uphold (hide the item) or dismiss every open report on a claim or comment."""
    argument_map = _moderated_map(request, slug)
    if kind not in ("claim", "comment") or verdict not in ("uphold", "dismiss"):
        raise Http404("No such report action.")
    target = (
        {"claim": _claim_of(argument_map, pk)}
        if kind == "claim"
        else {"comment": _comment_of(argument_map, pk)}
    )
    key = f"flag-{kind}-{pk}"
    back = reverse("moderation_queue", args=[slug])
    try:
        count = moderation.flag_resolve(
            by=request.user, uphold=verdict == "uphold", reason=_reason(request), **target
        )
    except ValidationError as error:
        return _failed(request, argument_map, key, error, back)
    reports = "report" if count == 1 else "reports"
    message = (
        f"Upheld {count} {reports}: the {kind} is hidden."
        if verdict == "uphold"
        else f"Dismissed {count} {reports}."
    )
    return _done(request, argument_map, key, message, back)


CLAIM_ACTIONS = {
    "hide": (moderation.claim_hide, "Hidden."),
    "restore": (moderation.claim_unhide, "Restored."),
    "lock": (moderation.claim_lock, "Locked: no new claims under it, no edits."),
    "unlock": (moderation.claim_unlock, "Unlocked."),
}
COMMENT_ACTIONS = {
    "hide": (moderation.comment_hide, "Comment hidden."),
    "restore": (moderation.comment_unhide, "Comment restored."),
}


@login_required
@require_http_methods(["GET", "POST"])
def claim_moderate(request: HtmxHttpRequest, slug: str, pk: int, action: str) -> HttpResponse:
    """Hide, restore, lock or unlock a claim, with a reason (GET: the form)."""
    argument_map = _moderated_map(request, slug)
    claim = _claim_of(argument_map, pk)
    if action not in CLAIM_ACTIONS:
        raise Http404("No such action.")
    service, message = CLAIM_ACTIONS[action]
    if request.method == "GET":
        return _action_form(request, argument_map, claim, action, "claim")
    key = f"hidden-claim-{pk}" if action == "restore" else ""
    back = (
        reverse("moderation_queue", args=[slug])
        if request.POST.get("from") == "queue"
        else claim.get_absolute_url()
    )
    try:
        service(claim=claim, by=request.user, reason=_reason(request))
    except ValidationError as error:
        if request.POST.get("from") != "queue":
            return _action_form(
                request, argument_map, claim, action, "claim", error=_errors(error), status=422
            )
        return _failed(request, argument_map, key, error, back)
    return _done(request, argument_map, key, message, back, compose=claim.pk)


@login_required
@require_http_methods(["GET", "POST"])
def comment_moderate(request: HtmxHttpRequest, slug: str, pk: int, action: str) -> HttpResponse:
    """Hide or restore a comment, with a reason (GET: the form)."""
    argument_map = _moderated_map(request, slug)
    comment = _comment_of(argument_map, pk)
    if action not in COMMENT_ACTIONS:
        raise Http404("No such action.")
    service, message = COMMENT_ACTIONS[action]
    if request.method == "GET":
        return _action_form(request, argument_map, comment, action, "comment")
    key = f"hidden-comment-{pk}" if action == "restore" else ""
    back = (
        reverse("moderation_queue", args=[slug])
        if request.POST.get("from") == "queue"
        else _thread_url(comment)
    )
    try:
        service(comment=comment, by=request.user, reason=_reason(request))
    except ValidationError as error:
        if request.POST.get("from") != "queue":
            return _action_form(
                request, argument_map, comment, action, "comment", error=_errors(error), status=422
            )
        return _failed(request, argument_map, key, error, back)
    return _done(request, argument_map, key, message, back)


ACTION_LABELS = {"hide": "Hide", "restore": "Restore", "lock": "Lock", "unlock": "Unlock"}


def _action_form(
    request: HtmxHttpRequest,
    argument_map: ArgumentMap,
    target: Claim | Comment,
    action: str,
    kind: str,
    *,
    error: str = "",
    status: int = 200,
) -> HttpResponse:
    url_name = "claim_moderate" if kind == "claim" else "comment_moderate"
    context = {
        "map": argument_map,
        "target": target,
        "kind": kind,
        "action": action,
        "label": ACTION_LABELS[action],
        "post_url": reverse(url_name, args=[argument_map.slug, target.pk, action]),
        "form": ReasonForm(request.POST or None),
        "error": error,
        # In a claim's compose box (htmx) the form posts by htmx; on its own page, plainly.
        "inline": bool(request.htmx),
    }
    template = (
        "argmap/moderation/action.html#form" if request.htmx else "argmap/moderation/action.html"
    )
    return render(request, template, context, status=status)


@login_required
@require_POST
def map_moderate(request: HtmxHttpRequest, slug: str, action: str) -> HttpResponse:
    """Lock the map (read-only for all but moderators) or unlock it, with a reason."""
    argument_map = _moderated_map(request, slug)
    if action not in ("lock", "unlock"):
        raise Http404("No such action.")
    service = moderation.map_lock if action == "lock" else moderation.map_unlock
    back = reverse("moderation_queue", args=[slug])
    try:
        service(argument_map=argument_map, by=request.user, reason=_reason(request))
    except ValidationError as error:
        return _failed(request, argument_map, "map", error, back)
    message = "The map is locked." if action == "lock" else "The map is open again."
    if request.htmx:
        response = HttpResponse(status=204)
        response["HX-Refresh"] = "true"
        messages.success(request, message)
        return response
    messages.success(request, message)
    return redirect(back)


@login_required
@require_http_methods(["GET", "POST"])
def member_mute(request: HtmxHttpRequest, slug: str) -> HttpResponse:
    """Mute someone in this map for a while: they can read, not write (GET: the form)."""
    argument_map = _moderated_map(request, slug)
    form = MuteForm(request.POST or None, initial={"username": request.GET.get("username", "")})
    if request.method == "POST" and form.is_valid():
        user = get_user_model().objects.filter(username=form.cleaned_data["username"]).first()
        if user is None:
            form.add_error("username", NO_SUCH_USER.format(name=form.cleaned_data["username"]))
        else:
            try:
                moderation.member_mute(
                    argument_map=argument_map,
                    user=user,
                    until=form.ends_at(),
                    reason=form.cleaned_data["reason"],
                    by=request.user,
                )
            except ValidationError as error:
                if hasattr(error, "error_dict"):
                    for field, errors in error.message_dict.items():
                        form.add_error(field if field in form.fields else None, errors)
                else:
                    form.add_error(None, error.messages)
            else:
                message = f"{user.get_username()} is muted in this map."
                messages.success(request, message)
                if request.htmx:
                    response = HttpResponse(status=204)
                    response["HX-Refresh"] = "true"
                    return response
                return redirect("moderation_queue", slug=slug)
    status = 422 if form.errors else 200
    context = {"map": argument_map, "mute_form": form}
    template = "argmap/moderation/mute.html#form" if request.htmx else "argmap/moderation/mute.html"
    return render(request, template, context, status=status)


@login_required
@require_POST
def member_unmute(request: HtmxHttpRequest, slug: str) -> HttpResponse:
    """Lift a member's mute early, with a reason."""
    argument_map = _moderated_map(request, slug)
    user = get_user_model().objects.filter(username=request.POST.get("username", "")).first()
    if user is None:
        raise Http404("No such user.")
    back = reverse("moderation_queue", args=[slug])
    key = f"muted-{user.pk}"
    try:
        moderation.member_unmute(
            argument_map=argument_map, user=user, reason=_reason(request), by=request.user
        )
    except ValidationError as error:
        return _failed(request, argument_map, key, error, back)
    return _done(request, argument_map, key, f"{user.get_username()} may write again.", back)


# -- reports -------------------------------------------------------------------------------------


def _flag(request: HtmxHttpRequest, argument_map: ArgumentMap, target: Claim | Comment, kind: str):
    if not permissions.can_flag(request.user, argument_map):
        refusal = muted_refusal(request, argument_map)
        if refusal is not None:
            return refusal
        raise PermissionDenied(MAY_NOT_FLAG)
    back = target.get_absolute_url() if kind == "claim" else _thread_url(target)
    form = FlagForm(request.POST or None)
    status = 200
    if request.method == "POST":
        if form.is_valid():
            try:
                moderation.flag_create(
                    by=request.user,
                    reason=form.cleaned_data["reason"],
                    fallacy=form.cleaned_data["fallacy"],
                    note=form.cleaned_data["note"],
                    **{kind: target},
                )
            except ValidationError as error:
                if hasattr(error, "error_dict"):
                    for field, errors in error.message_dict.items():
                        form.add_error(field if field in form.fields else None, errors)
                else:
                    form.add_error(None, error.messages)
            else:
                if not request.htmx:
                    messages.success(request, FLAG_THANKS)
                    return redirect(back)
                response = render(
                    request, "argmap/flag.html#thanks", {"message": FLAG_THANKS, "kind": kind}
                )
                response["HX-Trigger"] = "argmap:pull"  # it may have been hidden just now
                return response
        status = 422
    url_name = "flag_claim" if kind == "claim" else "flag_comment"
    post_url = reverse(url_name, args=[argument_map.slug, target.pk])
    context = {
        "map": argument_map,
        "target": target,
        "kind": kind,
        "form": form,
        "post_url": post_url,
        "back": back,
    }
    template = "argmap/flag.html#form" if request.htmx else "argmap/flag.html"
    return render(request, template, context, status=status)


@login_required
@limited("flag")
@require_http_methods(["GET", "POST"])
def flag_claim(request: HtmxHttpRequest, slug: str, pk: int) -> HttpResponse:
    """Report a claim to the moderators (GET: the form)."""
    argument_map = _get_map(request, slug)
    claim = _claim_of(argument_map, pk)
    claim.map = argument_map
    if not permissions.can_view_claim(request.user, claim):
        raise Http404("No such claim in this map.")
    return _flag(request, argument_map, claim, "claim")


@login_required
@limited("flag")
@require_http_methods(["GET", "POST"])
def flag_comment(request: HtmxHttpRequest, slug: str, pk: int) -> HttpResponse:
    """Report a comment to the moderators (GET: the form)."""
    argument_map = _get_map(request, slug)
    comment = _comment_of(argument_map, pk)
    if not permissions.can_view_comment(request.user, comment):
        raise Http404("No such comment in this map.")
    return _flag(request, argument_map, comment, "comment")


# -- the log -------------------------------------------------------------------------------------


def _log_entries(request: HtmxHttpRequest, argument_map: ArgumentMap):
    """The map's log as this reader may see it (moderators also see non-public entries),
    filtered by the GET form; returns (form, queryset)."""
    entries = ModerationAction.objects.in_map(argument_map).select_related(
        "actor", "subject", "claim", "comment"
    )
    if not permissions.can_moderate(request.user, argument_map):
        entries = entries.public()
    form = LogFilterForm(request.GET or None)
    if form.is_valid():
        data = form.cleaned_data
        if data["action"]:
            entries = entries.filter(action=data["action"])
        if data["actor"]:
            entries = entries.filter(actor__username__iexact=data["actor"].strip())
        zone = timezone.get_current_timezone()
        if data["since"]:
            start = datetime.combine(data["since"], time.min, tzinfo=zone)
            entries = entries.filter(created_at__gte=start)
        if data["until"]:
            end = datetime.combine(data["until"] + timedelta(days=1), time.min, tzinfo=zone)
            entries = entries.filter(created_at__lt=end)
    return form, entries.order_by("-created_at", "-pk")


@require_GET
def moderation_log(request: HtmxHttpRequest, slug: str) -> HttpResponse:
    """The map's public moderation log, newest first, filterable and paginated."""
    argument_map = _get_map(request, slug)
    form, entries = _log_entries(request, argument_map)
    page = Paginator(entries, LOG_PAGE_SIZE).get_page(request.GET.get("page"))
    query = request.GET.copy()
    query.pop("page", None)
    context = {
        "map": argument_map,
        "form": form,
        "page": page,
        "query": query.urlencode(),
        "can_moderate": permissions.can_moderate(request.user, argument_map),
    }
    # A history restore (Back after a filtered page was pushed) needs the whole page.
    fragment = request.htmx and not request.htmx.history_restore_request
    template = "argmap/moderation/log.html#log" if fragment else "argmap/moderation/log.html"
    return render(request, template, context)


def csv_cell(value: object) -> str:
    """A CSV cell a spreadsheet will not run as a formula (OWASP: prefix with a quote)."""
    text = "" if value is None else str(value)
    return "'" + text if text.startswith(FORMULA_PREFIXES) else text


@require_GET
def moderation_log_csv(request: HtmxHttpRequest, slug: str) -> HttpResponse:
    """The same log, with the same filters, as a CSV download."""
    argument_map = _get_map(request, slug)
    _, entries = _log_entries(request, argument_map)
    response = HttpResponse(content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = (
        f'attachment; filename="{argument_map.slug}-moderation-log.csv"'
    )
    writer = csv.writer(response)
    writer.writerow(
        ["time", "action", "actor", "claim", "comment", "member", "target", "reason", "public"]
    )
    for entry in entries:
        writer.writerow(
            [
                csv_cell(entry.created_at.isoformat()),
                csv_cell(entry.get_action_display()),
                csv_cell(entry.actor.get_username() if entry.actor else "system"),
                csv_cell(entry.claim_id or ""),
                csv_cell(entry.comment_id or ""),
                csv_cell(entry.subject.get_username() if entry.subject else ""),
                csv_cell(entry.target_summary),
                csv_cell(entry.reason),
                csv_cell("yes" if entry.public else "no"),
            ]
        )
    return response


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
