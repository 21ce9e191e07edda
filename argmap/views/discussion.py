"""Discussion: a claim's thread (side panel with htmx, full page without), posting comments and
replies, editing (conflicts keep the draft), deleting (a tombstone keeps the thread's shape) and
a comment's edit history.

Every mutation is a real form POST: a plain request is redirected back to the thread, an htmx
request gets the fragment it swaps in. Who may do what is asked of ``argmap.permissions``.
"""

from __future__ import annotations

import json

from django import forms
from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.urls import path, reverse
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from argmap import discussion, markup, permissions
from argmap.models import ArgumentMap, Claim, Comment
from argmap.ratelimit import limited
from argmap.views.maps import HtmxHttpRequest, _get_map

CANNOT_COMMENT = "You may not comment on this claim."
CANNOT_CHANGE_COMMENT = "Only its author may change this comment, while it is shown."
NO_SUCH_PARENT = "The comment you replied to is not in this thread."
DELETED_HISTORY_HIDDEN = "This comment was deleted: its earlier text is shown to moderators only."


class CommentForm(forms.Form):
    body = forms.CharField(
        label="Comment",
        widget=forms.Textarea(attrs={"rows": 4}),
        max_length=settings.ARGMAP_COMMENT_MAX_LENGTH,
        strip=False,
    )
    parent = forms.IntegerField(required=False, widget=forms.HiddenInput)


class CommentEditForm(forms.Form):
    body = forms.CharField(
        label="Comment",
        widget=forms.Textarea(attrs={"rows": 4}),
        max_length=settings.ARGMAP_COMMENT_MAX_LENGTH,
        strip=False,
    )
    version = forms.IntegerField(widget=forms.HiddenInput, min_value=1)


def _add_errors(form: forms.Form, error: ValidationError) -> None:
    if hasattr(error, "error_dict"):
        for name, messages in error.message_dict.items():
            form.add_error(name if name in form.fields and name != "parent" else None, messages)
    else:
        form.add_error(None, error.messages)


def _claim(request: HtmxHttpRequest, slug: str, pk: int) -> tuple[ArgumentMap, Claim]:
    """The map and a claim of it this reader may see, or 404."""
    argument_map = _get_map(request, slug)
    claim = Claim.objects.filter(map=argument_map, pk=pk).first()
    if claim is None:
        raise Http404("No such claim in this map.")
    claim.map = argument_map
    if not permissions.can_view_claim(request.user, claim):
        raise Http404("No such claim in this map.")
    return argument_map, claim


def _comment(request: HtmxHttpRequest, slug: str, pk: int) -> tuple[ArgumentMap, Comment]:
    """The map and a comment of it this reader may see, or 404."""
    argument_map = _get_map(request, slug)
    comment = (
        Comment.objects.filter(map=argument_map, pk=pk)
        .select_related("claim", "author", "parent__author")
        .first()
    )
    if comment is None:
        raise Http404("No such comment in this map.")
    comment.map = comment.claim.map = argument_map
    if not permissions.can_view_comment(request.user, comment):
        raise Http404("No such comment in this map.")
    return argument_map, comment


def _context(request: HtmxHttpRequest, argument_map: ArgumentMap, claim: Claim, **extra) -> dict:
    user = request.user
    return {
        "map": argument_map,
        "claim": claim,
        "items": discussion.thread_for(user, claim),
        "visible_total": discussion.visible_count(claim),
        "can_comment": permissions.can_comment(user, claim),
        "can_flag": permissions.can_flag(user, argument_map),
        "can_moderate": permissions.can_moderate(user, argument_map),
        "publishes_directly": permissions.publishes_directly(user, argument_map),
        "thread_url": reverse("claim_thread", kwargs={"slug": argument_map.slug, "pk": claim.pk}),
        "form": CommentForm(),
        "reply_to": None,
        "reply_form": None,
        **extra,
    }


def _item_context(request: HtmxHttpRequest, argument_map: ArgumentMap, comment: Comment) -> dict:
    """What ``_comment.html`` needs for one comment outside a whole thread."""
    item = next(
        (
            i
            for i in discussion.thread_for(request.user, comment.claim)
            if i.comment.pk == comment.pk
        ),
        None,
    )
    if item is None:  # a tombstone without replies: rendered as one, so the swap removes nothing
        item = discussion.ThreadItem(comment, 0, tombstone=True)
    return {
        "map": argument_map,
        "claim": comment.claim,
        "item": item,
        "can_comment": permissions.can_comment(request.user, comment.claim),
        "can_flag": permissions.can_flag(request.user, argument_map),
        "can_moderate": permissions.can_moderate(request.user, argument_map),
        "thread_url": reverse(
            "claim_thread", kwargs={"slug": argument_map.slug, "pk": comment.claim_id}
        ),
    }


@limited("comment")
@require_http_methods(["GET", "POST"])
def claim_thread(request: HtmxHttpRequest, slug: str, pk: int) -> HttpResponse:
    """A claim's discussion: the thread (page, or side-panel fragment for htmx); POST comments."""
    if request.method == "POST" and not request.user.is_authenticated:
        return redirect_to_login(request.get_full_path())
    argument_map, claim = _claim(request, slug, pk)
    if request.method == "GET":
        reply_to = _reply_target(request, claim)
        if reply_to is not None and request.htmx:
            # The inline reply form under one comment.
            if not permissions.can_comment(request.user, claim):
                raise PermissionDenied(CANNOT_COMMENT)
            form = CommentForm(initial={"parent": reply_to.pk})
            return render(
                request,
                "argmap/_comment_form.html",
                {
                    "map": argument_map,
                    "claim": claim,
                    "form": form,
                    "reply_to": reply_to,
                    "publishes_directly": permissions.publishes_directly(
                        request.user, argument_map
                    ),
                },
            )
        context = _context(request, argument_map, claim)
        if reply_to is not None and context["can_comment"]:
            context["reply_to"] = reply_to
            context["reply_form"] = CommentForm(initial={"parent": reply_to.pk})
        template = "argmap/thread.html#panel" if request.htmx else "argmap/thread.html"
        return render(request, template, context)
    if not permissions.can_comment(request.user, claim):
        raise PermissionDenied(CANNOT_COMMENT)
    form = CommentForm(request.POST)
    parent = None
    if form.is_valid():
        parent_id = form.cleaned_data.get("parent")
        if parent_id:
            parent = Comment.objects.filter(pk=parent_id, claim=claim).first()
            if parent is None:
                form.add_error(None, NO_SUCH_PARENT)
    if form.is_valid():
        try:
            comment = discussion.comment_post(
                claim=claim, author=request.user, body=form.cleaned_data["body"], parent=parent
            )
        except ValidationError as error:
            _add_errors(form, error)
        else:
            if not request.htmx:
                return redirect(comment.get_absolute_url())
            context = _context(request, argument_map, claim)
            response = render(request, "argmap/thread.html#comments", context)
            response["HX-Trigger"] = json.dumps({"argmap:commentPosted": {"id": comment.pk}})
            return response
    return _invalid_post(request, argument_map, claim, form, parent)


def _reply_target(request: HtmxHttpRequest, claim: Claim) -> Comment | None:
    try:
        parent_id = int(request.GET.get("reply", ""))
    except ValueError:
        return None
    parent = Comment.objects.filter(pk=parent_id, claim=claim).select_related("author").first()
    if parent is None or parent.status == Comment.Status.DELETED:
        return None
    parent.claim = claim
    if not permissions.can_view_comment(request.user, parent):
        return None
    return parent


def _invalid_post(request, argument_map, claim, form, parent) -> HttpResponse:
    """The form again, with its errors and the draft: inline for htmx (422), else the page."""
    raw_parent = form.data.get("parent") or ""
    if request.htmx:
        response = render(
            request,
            "argmap/_comment_form.html",
            {
                "map": argument_map,
                "claim": claim,
                "form": form,
                "reply_to": parent,
                "publishes_directly": permissions.publishes_directly(request.user, argument_map),
            },
            status=422,
        )
        # Swap the form that was sent, wherever it sits (top of the thread or under a comment).
        target = f"reply-form-{parent.pk}" if parent else f"comment-form-{claim.pk}"
        if raw_parent and parent is None:
            target = f"comment-form-{claim.pk}"
        response["HX-Retarget"] = f"#{target}"
        response["HX-Reswap"] = "outerHTML"
        return response
    context = _context(request, argument_map, claim)
    if parent is not None:
        context.update(reply_to=parent, reply_form=form)
    else:
        context["form"] = form
    return render(request, "argmap/thread.html", context)


@login_required
@limited("comment")
@require_http_methods(["GET", "POST"])
def comment_edit(request: HtmxHttpRequest, slug: str, pk: int) -> HttpResponse:
    """Edit one's own comment; a stale version answers 409 with both texts and the draft kept."""
    argument_map, comment = _comment(request, slug, pk)
    if not permissions.can_change_comment(request.user, comment):
        raise PermissionDenied(CANNOT_CHANGE_COMMENT)
    context = _item_context(request, argument_map, comment)
    if request.method == "GET" and request.htmx and request.GET.get("cancel"):
        return render(request, "argmap/_comment.html", context)
    form = CommentEditForm(
        request.POST or None, initial={"body": comment.body, "version": comment.version}
    )
    status, conflict = 200, None
    if request.method == "POST" and form.is_valid():
        try:
            comment = discussion.comment_edit(
                comment=comment,
                by=request.user,
                body=form.cleaned_data["body"],
                version=form.cleaned_data["version"],
            )
        except discussion.CommentConflict as error:
            # The draft stays in the form; the form now carries the current version, so saving
            # again means "keep mine" on purpose.
            conflict = error.current
            status = 409
            data = form.data.copy()
            data["version"] = conflict.version
            form = CommentEditForm(data)
            form.is_valid()
        except ValidationError as error:
            _add_errors(form, error)
            status = 422 if request.htmx else 200
        else:
            if not request.htmx:
                return redirect(comment.get_absolute_url())
            comment.map = comment.claim.map = argument_map
            return render(
                request, "argmap/_comment.html", _item_context(request, argument_map, comment)
            )
    elif request.method == "POST":
        status = 422 if request.htmx else 200
    context.update(
        editing=True,
        form=form,
        conflict=conflict,
        conflict_html=markup.render_markdown(conflict.body) if conflict else "",
    )
    template = "argmap/_comment.html" if request.htmx else "argmap/thread_comment_edit.html"
    return render(request, template, context, status=status)


@login_required
@require_POST
def comment_delete(request: HtmxHttpRequest, slug: str, pk: int) -> HttpResponse:
    """Delete one's own comment: it becomes a tombstone ("[deleted]"), replies stay in place."""
    argument_map, comment = _comment(request, slug, pk)
    if not permissions.can_change_comment(request.user, comment):
        raise PermissionDenied(CANNOT_CHANGE_COMMENT)
    try:
        comment = discussion.comment_delete(comment=comment, by=request.user)
    except ValidationError as error:
        raise PermissionDenied(error.messages[0]) from error
    if not request.htmx:
        return redirect(
            reverse("claim_thread", kwargs={"slug": argument_map.slug, "pk": comment.claim_id})
        )
    comment.map = comment.claim.map = argument_map
    return render(request, "argmap/_comment.html", _item_context(request, argument_map, comment))


@require_GET
def comment_history(request: HtmxHttpRequest, slug: str, pk: int) -> HttpResponse:
    """A comment's earlier versions, newest first (fragment into the comment, or a page)."""
    argument_map, comment = _comment(request, slug, pk)
    if not permissions.can_view_comment_history(request.user, comment):
        raise PermissionDenied(DELETED_HISTORY_HIDDEN)
    context = {
        "map": argument_map,
        "claim": comment.claim,
        "comment": comment,
        "versions": discussion.comment_versions(comment),
        # Inside a thread (under a comment, with its h2 above) or a page of its own.
        "inline": bool(request.htmx),
        "heading": "h3" if request.htmx else "h2",
        "thread_url": reverse(
            "claim_thread", kwargs={"slug": argument_map.slug, "pk": comment.claim_id}
        ),
    }
    template = (
        "argmap/thread_comment_history.html#history"
        if request.htmx
        else "argmap/thread_comment_history.html"
    )
    return render(request, template, context)


urlpatterns = [
    path("maps/<slug:slug>/claims/<int:pk>/thread/", claim_thread, name="claim_thread"),
    path("maps/<slug:slug>/comments/<int:pk>/edit/", comment_edit, name="comment_edit"),
    path("maps/<slug:slug>/comments/<int:pk>/delete/", comment_delete, name="comment_delete"),
    path("maps/<slug:slug>/comments/<int:pk>/history/", comment_history, name="comment_history"),
]
