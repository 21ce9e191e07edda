"""A map owner's pages: settings, members and transfer of ownership. Each serves a full page for
plain requests and its fragment for htmx; every change is a real form POST that redirects when
JavaScript is off. Who may open them is decided by ``argmap.permissions``."""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.urls import path, reverse
from django.utils import timezone
from django.views.decorators.http import require_http_methods

from argmap import members, permissions
from argmap.models import ArgumentMap, Membership
from argmap.views.maps import HtmxHttpRequest, _get_map

SETTINGS_SAVED = "Settings saved."
MEMBER_ADDED = "{username} is now a member ({role})."
ROLE_CHANGED = "{username} is now {role}."
MEMBER_REMOVED = "{username} is no longer a member."
MEMBER_UNKNOWN = "That member is no longer in this map; the list has been refreshed."
ACTION_UNKNOWN = "Unknown action."
TRANSFERRED = "{username} now owns this map; you stay on as a moderator."
TRANSFERRED_BY_STAFF = "{username} now owns this map."


class MapSettingsForm(forms.Form):
    """The owner's settings. Values are checked by ``members.map_update_settings``."""

    title = forms.CharField(
        max_length=members.TITLE_MAX_LENGTH, error_messages={"required": members.TITLE_REQUIRED}
    )
    description = forms.CharField(widget=forms.Textarea(attrs={"rows": 4}), required=False)
    visibility = forms.ChoiceField(
        choices=ArgumentMap.Visibility.choices,
        widget=forms.RadioSelect,
        help_text="Unlisted maps are left off the home page but open to anyone with the address; "
        "private maps exist only for their members.",
    )
    moderation_policy = forms.ChoiceField(
        choices=ArgumentMap.ModerationPolicy.choices,
        widget=forms.RadioSelect,
        help_text="Pre-moderated: newcomers' claims and comments wait for a moderator's approval.",
    )
    default_role = forms.ChoiceField(
        choices=ArgumentMap.DefaultRole.choices,
        label="Default role of signed-in non-members",
        help_text="On a private map non-members have no role whatever this says.",
    )
    flag_threshold = forms.IntegerField(
        min_value=members.FLAG_THRESHOLD_MIN,
        max_value=members.FLAG_THRESHOLD_MAX,
        help_text="Content with this many open flags is hidden until a moderator reviews it.",
    )


class MemberAddForm(forms.Form):
    username = forms.CharField(
        max_length=150, error_messages={"required": members.USERNAME_REQUIRED}
    )
    role = forms.ChoiceField(
        choices=[(r.value, r.label) for r in members.ASSIGNABLE_ROLES],
        initial="writer",
    )


class TransferForm(forms.Form):
    username = forms.CharField(max_length=150, required=False, label="New owner's username")


def _form_errors(form: forms.Form, error: ValidationError) -> None:
    if hasattr(error, "error_dict"):
        for field, field_messages in error.message_dict.items():
            form.add_error(field if field in form.fields else None, field_messages)
    else:
        form.add_error(None, error.messages)


def _managed_map(request: HtmxHttpRequest, slug: str) -> ArgumentMap:
    """The map if this user may manage it: 404 when they may not even see it, else 403."""
    argument_map = _get_map(request, slug)
    if not permissions.can_manage_map(request.user, argument_map):
        raise PermissionDenied(members.NOT_ALLOWED)
    return argument_map


@login_required
@require_http_methods(["GET", "POST"])
def map_settings(request: HtmxHttpRequest, slug: str) -> HttpResponse:
    """The owner's settings: title, description, visibility, moderation, default role, flags."""
    argument_map = _managed_map(request, slug)
    initial = {name: getattr(argument_map, name) for name in members.SETTINGS_FIELDS}
    form = MapSettingsForm(request.POST or None, initial=initial)
    status, saved = 200, False
    if request.method == "POST":
        if form.is_valid():
            try:
                members.map_update_settings(
                    argument_map=argument_map, by=request.user, **form.cleaned_data
                )
            except ValidationError as error:
                _form_errors(form, error)
            else:
                if not request.htmx:
                    messages.success(request, SETTINGS_SAVED)
                    return redirect("map_settings", slug=argument_map.slug)
                saved = True
                form = MapSettingsForm(initial={n: getattr(argument_map, n) for n in initial})
        if form.errors:
            status = 422 if request.htmx else 200
    context = {
        "map": argument_map,
        "form": form,
        "saved": saved,
        "can_transfer": permissions.can_transfer_map(request.user, argument_map),
    }
    template = "argmap/settings/map.html#form" if request.htmx else "argmap/settings/map.html"
    return render(request, template, context, status=status)


def _member_rows(argument_map: ArgumentMap) -> list[dict[str, object]]:
    now = timezone.now()
    rows = []
    for membership in (
        Membership.objects.filter(map=argument_map)
        .exclude(user_id=argument_map.owner_id)
        .select_related("user")
        .order_by("user__username")
    ):
        muted = membership.muted_until is not None and membership.muted_until > now
        rows.append({"membership": membership, "muted": muted})
    return rows


@login_required
@require_http_methods(["GET", "POST"])
def map_members(request: HtmxHttpRequest, slug: str) -> HttpResponse:
    """The map's members: change a role, remove a member, add someone by username."""
    argument_map = _managed_map(request, slug)
    add_form = MemberAddForm(request.POST if request.POST.get("action") == "add" else None)
    status, notice, error_for, member_error = 200, "", None, ""
    if request.method == "POST":
        action = request.POST.get("action")
        try:
            notice = _members_change(request, argument_map, action, add_form)
        except _FormInvalid:
            status = 422 if request.htmx else 200
        except ValidationError as error:
            if action == "add":
                _form_errors(add_form, error)
            else:
                error_for = request.POST.get("member", "")
                member_error = " ".join(error.messages)
            status = 422 if request.htmx else 200
        else:
            if not request.htmx:
                messages.success(request, notice)
                return redirect("map_members", slug=argument_map.slug)
            if action == "add":
                add_form = MemberAddForm()
    rows = _member_rows(argument_map)
    for row in rows:
        if member_error and str(row["membership"].pk) == error_for:
            row["error"], member_error = member_error, ""
    context = {
        "map": argument_map,
        "owner": argument_map.owner,
        "rows": rows,
        "roles": members.ASSIGNABLE_ROLES,
        "add_form": add_form,
        "notice": notice,
        "member_error": member_error,
        "can_transfer": permissions.can_transfer_map(request.user, argument_map),
    }
    template = (
        "argmap/settings/members.html#members" if request.htmx else "argmap/settings/members.html"
    )
    return render(request, template, context, status=status)


class _FormInvalid(Exception):
    """The add form's own checks failed; its errors are already on it."""


def _members_change(
    request: HtmxHttpRequest, argument_map: ArgumentMap, action: str | None, add_form
) -> str:
    """Carry out one POSTed member change; the success message, or ValidationError."""
    if action == "add":
        if not add_form.is_valid():
            raise _FormInvalid
        membership = members.member_add(
            argument_map=argument_map,
            by=request.user,
            username=add_form.cleaned_data["username"],
            role=add_form.cleaned_data["role"],
        )
        return MEMBER_ADDED.format(
            username=membership.user.get_username(), role=membership.get_role_display().lower()
        )
    if action not in ("role", "remove"):
        raise ValidationError(ACTION_UNKNOWN)
    member_id = request.POST.get("member", "")
    membership = None
    if member_id.isascii() and member_id.isdigit() and len(member_id) <= 18:
        membership = (
            Membership.objects.filter(map=argument_map, pk=int(member_id))
            .select_related("user")
            .first()
        )
    if membership is None:
        raise ValidationError(MEMBER_UNKNOWN)
    username = membership.user.get_username()
    if action == "remove":
        members.member_remove(argument_map=argument_map, by=request.user, membership=membership)
        return MEMBER_REMOVED.format(username=username)
    membership = members.member_set_role(
        argument_map=argument_map,
        by=request.user,
        membership=membership,
        role=request.POST.get("role", ""),
    )
    return ROLE_CHANGED.format(username=username, role=membership.get_role_display().lower())


@login_required
@require_http_methods(["GET", "POST"])
def map_transfer(request: HtmxHttpRequest, slug: str) -> HttpResponse:
    """Hand the map to another user, after a confirmation step naming them."""
    argument_map = _get_map(request, slug)
    if not permissions.can_transfer_map(request.user, argument_map):
        raise PermissionDenied(members.TRANSFER_NOT_ALLOWED)
    form = TransferForm(request.POST or None)
    status, confirming = 200, None
    if request.method == "POST" and form.is_valid():
        username = form.cleaned_data["username"]
        try:
            if request.POST.get("confirm") == "yes":
                was_owner = argument_map.owner_id == request.user.pk
                members.map_transfer(
                    argument_map=argument_map, by=request.user, to_username=username
                )
            else:
                confirming = members.find_user(username, field="username")
                if confirming.pk == argument_map.owner_id:
                    raise ValidationError(
                        {"username": members.TRANSFER_TO_SELF.format(username=username)}
                    )
        except ValidationError as error:
            _form_errors(form, error)
            confirming = None
        else:
            if confirming is None:
                new_owner = argument_map.owner.get_username()
                text = TRANSFERRED if was_owner else TRANSFERRED_BY_STAFF
                messages.success(request, text.format(username=new_owner))
                url = reverse("map_detail", kwargs={"slug": argument_map.slug})
                if request.htmx:
                    response = HttpResponse(status=204)
                    response["HX-Redirect"] = url
                    return response
                return redirect(url)
    if form.errors:
        status = 422 if request.htmx else 200
    context = {"map": argument_map, "form": form, "confirming": confirming}
    template = (
        "argmap/settings/transfer.html#form" if request.htmx else "argmap/settings/transfer.html"
    )
    return render(request, template, context, status=status)


urlpatterns = [
    path("maps/<slug:slug>/settings/", map_settings, name="map_settings"),
    path("maps/<slug:slug>/settings/members/", map_members, name="map_members"),
    path("maps/<slug:slug>/settings/transfer/", map_transfer, name="map_transfer"),
]
