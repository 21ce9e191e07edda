"""The Django admin for curators: sources, maps and claims with their history; a map's tree as an
outline with move, stance, reorder, archive/restore and merge; new maps from articles; bulk hide
and restore with a reason; the moderation log, read-only. Every change goes through a service."""

from __future__ import annotations

from collections.abc import Callable
from html import escape

from django import forms
from django.contrib import admin, messages
from django.contrib.admin.helpers import ACTION_CHECKBOX_NAME
from django.contrib.admin.options import ActionLocation
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Count, Exists, OuterRef, Q
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404, redirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.html import format_html
from django.utils.safestring import mark_safe
from simple_history.admin import SimpleHistoryAdmin

from argmap import curation, moderation, services
from argmap.curation_forms import MergeForm, MoveForm, NewMapForm, ReasonForm, StanceForm
from argmap.models import (
    ArgumentMap,
    Claim,
    Comment,
    Flag,
    Membership,
    ModerationAction,
    Notification,
    Source,
)
from argmap.views.curation import add_errors, create_map_from_form

CLAIM_ACTIONS = ("move", "stance", "up", "down", "archive", "restore", "merge", "unmerge")
BULK_DONE = "{verb} {done} {noun}."
BULK_REFUSED = "Not {verb_lower} #{pk}: {reason}"
NO_MERGE_TO_UNDO = "This claim is not merged into another: there is no merge to undo."


class ArgumentMapAddForm(forms.ModelForm):
    thesis = forms.CharField(
        max_length=500, widget=forms.Textarea(attrs={"rows": 2}), help_text="The map's thesis."
    )

    class Meta:
        model = ArgumentMap
        fields = ["slug", "title", "description", "source", "visibility", "featured", "owner"]


@admin.register(Source)
class SourceAdmin(SimpleHistoryAdmin):
    list_display = ["title", "publisher", "published", "map_count", "created_at"]
    list_filter = ["publisher", "published"]
    search_fields = ["title", "publisher", "url", "text", "sha256"]
    readonly_fields = ["sha256", "created_at"]
    date_hierarchy = "created_at"

    def get_queryset(self, request):
        return super().get_queryset(request).annotate(num_maps=Count("maps"))

    @admin.display(description="Maps", ordering="num_maps")
    def map_count(self, obj: Source) -> int:
        return obj.num_maps

    def get_readonly_fields(self, request, obj=None):
        # A cited source is immutable: a corrected article is a new Source.
        if obj is not None and obj.maps.exists():
            return [*self.readonly_fields, "text"]
        return self.readonly_fields


def _reason_page(
    modeladmin: admin.ModelAdmin,
    request: HttpRequest,
    queryset,
    *,
    title: str,
    verb: str,
    apply: Callable[[object, str], object],
) -> HttpResponse | None:
    """An admin action that asks for a reason first, the way Django's delete confirmation asks
    "are you sure": the intermediate page posts the selection back with ``apply`` set. Each
    object goes through ``apply`` (a service) on its own; refusals are reported, not fatal."""
    form = ReasonForm(request.POST if "apply" in request.POST else None)
    if form.is_valid():
        reason = form.cleaned_data["reason"]
        done = 0
        for obj in queryset:
            try:
                apply(obj, reason)
            except ValidationError as error:
                modeladmin.message_user(
                    request,
                    BULK_REFUSED.format(
                        verb_lower=verb.lower(), pk=obj.pk, reason=" ".join(error.messages)
                    ),
                    messages.WARNING,
                )
            else:
                done += 1
        noun = (
            modeladmin.model._meta.verbose_name
            if done == 1
            else (modeladmin.model._meta.verbose_name_plural)
        )
        modeladmin.message_user(request, BULK_DONE.format(verb=verb, done=done, noun=noun))
        return None
    opts = modeladmin.model._meta
    context = {
        **modeladmin.admin_site.each_context(request),
        "title": title,
        "opts": opts,
        "queryset": queryset,
        "form": form,
        "action": request.POST.get("action", ""),
        "action_checkbox_name": ACTION_CHECKBOX_NAME,
        "verb": verb,
    }
    return TemplateResponse(request, "admin/argmap/reason_confirmation.html", context)


def _outline_html(argument_map: ArgumentMap, rows: list[curation.OutlineRow]) -> str:
    """The outline as nested lists, escaped here (thousands of rows: a template would crawl)."""
    base = reverse("admin:argmap_argumentmap_claim_action", args=[argument_map.pk, 0, "x"])
    base = base.removesuffix("0/x/")
    marks = {"support": "Pro", "counter": "Con", "": "Thesis"}
    html: list[str] = ['<div class="argmap-outline" id="outline">']
    depth = -1
    for row in rows:
        while depth < row.depth:
            html.append("<ul>")
            depth += 1
        while depth > row.depth:
            html.append("</li></ul>")
            depth -= 1
        if html[-1] not in ("<ul>",):
            html.append("</li>")
        url = f"{base}{row.id}/"
        actions = []
        if row.parent_id is not None:
            if row.status != Claim.Status.ARCHIVED:
                actions += [("move", "Move"), ("stance", "Stance")]
                if not row.first:
                    actions.append(("up", "↑"))
                if not row.last:
                    actions.append(("down", "↓"))
                actions += [("archive", "Archive"), ("merge", "Merge into…")]
            elif row.merged_into_id:
                actions.append(("unmerge", "Undo merge"))
            else:
                actions.append(("restore", "Restore"))
        links = " ".join(
            f'<a href="{url}{name}/" data-action="{name}">{escape(label)}</a>'
            for name, label in actions
        )
        merged = (
            f' <span class="merged">merged into #{row.merged_into_id}</span>'
            if row.merged_into_id
            else ""
        )
        change = reverse("admin:argmap_claim_change", args=[row.id])
        html.append(
            f'<li id="outline-claim-{row.id}" class="{escape(row.status)}">'
            f'<span class="outline-line">'
            f'<span class="stance stance-{row.stance or "thesis"}">{marks[row.stance]}</span>'
            f'<a class="text" href="{change}">{escape(row.text)}</a>'
            f'<span class="status status-{escape(row.status)}">{escape(row.status)}</span>'
            f"{merged}"
            f'<span class="counts">{row.supports} pro · {row.counters} con · '
            f"{row.votes} vote{'s' if row.votes != 1 else ''} · "
            f"{row.comments} comment{'s' if row.comments != 1 else ''}</span>"
            f'<span class="outline-actions">{links}</span>'
            f"</span>"
        )
    while depth >= 0:
        html.append("</li></ul>")
        depth -= 1
    html.append("</div>")
    return "".join(html)


@admin.register(ArgumentMap)
class ArgumentMapAdmin(SimpleHistoryAdmin):
    list_display = [
        "title",
        "slug",
        "visibility",
        "status",
        "moderation_policy",
        "featured",
        "claim_count",
        "version",
        "updated_at",
    ]
    list_filter = ["visibility", "status", "moderation_policy", "featured"]
    list_editable = ["featured"]
    search_fields = ["title", "slug", "description", "source__title"]
    readonly_fields = ["version", "created_at", "updated_at", "view_on_site_link"]
    raw_id_fields = ["owner", "source"]
    prepopulated_fields = {"slug": ["title"]}
    actions = ["feature_maps", "unfeature_maps", "lock_maps", "unlock_maps", "archive_maps"]

    def get_queryset(self, request):
        published = Count("claims", filter=Q(claims__status=Claim.Status.PUBLISHED))
        return super().get_queryset(request).annotate(num_claims=published)

    def get_form(self, request, obj=None, change=False, **kwargs):
        if obj is None:
            kwargs["form"] = ArgumentMapAddForm
            kwargs["fields"] = [*ArgumentMapAddForm.Meta.fields, "thesis"]
        return super().get_form(request, obj, change=change, **kwargs)

    def get_readonly_fields(self, request, obj=None):
        return self.readonly_fields if obj is not None else []

    def save_model(self, request, obj, form, change):
        if change:
            # Featuring and the map's status are logged actions: they go through their services;
            # the other fields are saved as they are.
            routed = {"featured", "status"} & set(form.changed_data)
            old = ArgumentMap.objects.get(pk=obj.pk)
            wanted = {name: getattr(obj, name) for name in routed}
            for name in routed:
                setattr(obj, name, getattr(old, name))
            obj._history_user = request.user
            obj._change_reason = "Edited in the admin"
            super().save_model(request, obj, form, change)
            try:
                if "featured" in wanted:
                    curation.map_feature(
                        argument_map=obj,
                        featured=wanted["featured"],
                        by=request.user,
                        reason="Changed in the admin",
                    )
                if "status" in wanted:
                    self._set_status(request, obj, wanted["status"], "Changed in the admin")
            except ValidationError as error:
                self.message_user(request, " ".join(error.messages), messages.ERROR)
            obj.refresh_from_db()
            return
        # A new map is created with its thesis, through the service that keeps the invariants.
        created = services.map_create(
            slug=obj.slug,
            title=obj.title,
            description=obj.description,
            thesis=form.cleaned_data["thesis"],
            source=obj.source,
            owner=obj.owner or request.user,
            featured=obj.featured,
            visibility=obj.visibility,
            reason="Created in the admin",
        )
        obj.pk = created.pk
        obj.refresh_from_db()

    @staticmethod
    def _set_status(request, argument_map: ArgumentMap, status: str, reason: str) -> None:
        if status == ArgumentMap.Status.ARCHIVED:
            curation.map_archive(argument_map=argument_map, by=request.user, reason=reason)
        elif status == ArgumentMap.Status.LOCKED:
            moderation.map_lock(argument_map=argument_map, by=request.user, reason=reason)
        else:
            moderation.map_unlock(argument_map=argument_map, by=request.user, reason=reason)

    @admin.display(description="Claims", ordering="num_claims")
    def claim_count(self, obj: ArgumentMap) -> int:
        return obj.num_claims

    @admin.display(description="On the site")
    def view_on_site_link(self, obj: ArgumentMap) -> str:
        return format_html('<a href="{}">{}</a>', obj.get_absolute_url(), obj.get_absolute_url())

    # -- map actions (each asks for a reason, each is logged) -------------------------------------

    def _map_action(self, request, queryset, *, title, verb, apply):
        return _reason_page(self, request, queryset, title=title, verb=verb, apply=apply)

    @admin.action(description="Feature the selected maps", permissions=["change"])
    def feature_maps(self, request, queryset):
        return self._map_action(
            request,
            queryset,
            title="Feature maps",
            verb="Featured",
            apply=lambda m, why: curation.map_feature(
                argument_map=m, featured=True, by=request.user, reason=why
            ),
        )

    @admin.action(description="Stop featuring the selected maps", permissions=["change"])
    def unfeature_maps(self, request, queryset):
        return self._map_action(
            request,
            queryset,
            title="Stop featuring maps",
            verb="Unfeatured",
            apply=lambda m, why: curation.map_feature(
                argument_map=m, featured=False, by=request.user, reason=why
            ),
        )

    @admin.action(description="Lock the selected maps (read-only)", permissions=["change"])
    def lock_maps(self, request, queryset):
        return self._map_action(
            request,
            queryset,
            title="Lock maps",
            verb="Locked",
            apply=lambda m, why: moderation.map_lock(argument_map=m, by=request.user, reason=why),
        )

    @admin.action(description="Unlock the selected maps", permissions=["change"])
    def unlock_maps(self, request, queryset):
        return self._map_action(
            request,
            queryset,
            title="Unlock maps",
            verb="Unlocked",
            apply=lambda m, why: moderation.map_unlock(argument_map=m, by=request.user, reason=why),
        )

    @admin.action(description="Archive the selected maps", permissions=["change"])
    def archive_maps(self, request, queryset):
        return self._map_action(
            request,
            queryset,
            title="Archive maps",
            verb="Archived",
            apply=lambda m, why: curation.map_archive(argument_map=m, by=request.user, reason=why),
        )

    # -- the outline, its claim actions, and new maps from articles -------------------------------

    def get_urls(self):
        wrap = self.admin_site.admin_view
        return [
            path(
                "from-article/",
                wrap(self.from_article_view),
                name="argmap_argumentmap_from_article",
            ),
            path(
                "<int:map_id>/claims/<int:claim_id>/<str:action>/",
                wrap(self.claim_action_view),
                name="argmap_argumentmap_claim_action",
            ),
            *super().get_urls(),
        ]

    def change_view(self, request, object_id, form_url="", extra_context=None):
        extra_context = extra_context or {}
        argument_map = ArgumentMap.objects.filter(pk=object_id).first() if object_id else None
        if argument_map is not None and str(object_id).isdigit():
            rows = curation.outline(argument_map)
            extra_context["outline_html"] = mark_safe(_outline_html(argument_map, rows))
            extra_context["outline_truncated"] = len(rows) >= curation.OUTLINE_LIMIT
            extra_context["outline_limit"] = curation.OUTLINE_LIMIT
            extra_context["annotate_url"] = reverse(
                "map_annotate", kwargs={"slug": argument_map.slug}
            )
        return super().change_view(request, object_id, form_url, extra_context)

    def from_article_view(self, request: HttpRequest) -> HttpResponse:
        """New map from an article: the same form and service as the site's /maps/new/."""
        if not self.has_add_permission(request):
            raise PermissionDenied
        form = NewMapForm(request.POST or None)
        if request.method == "POST" and form.is_valid():
            made = create_map_from_form(form, request.user)
            if made is not None:
                if made.source_reused:
                    self.message_user(
                        request,
                        f"This article was stored before (as “{made.source.title}”); "
                        "the new map cites that copy.",
                        messages.INFO,
                    )
                annotate = reverse("map_annotate", kwargs={"slug": made.map.slug})
                self.message_user(
                    request,
                    format_html(
                        'Created the map “{}”. <a href="{}">Annotate its article</a> next.',
                        made.map.title,
                        annotate,
                    ),
                )
                return redirect("admin:argmap_argumentmap_change", made.map.pk)
        context = {
            **self.admin_site.each_context(request),
            "title": "New map from an article",
            "opts": self.model._meta,
            "form": form,
            "max_chars": services.SOURCE_MAX_CHARS,
        }
        return TemplateResponse(request, "admin/argmap/argumentmap/from_article.html", context)

    def claim_action_view(
        self, request: HttpRequest, map_id: int, claim_id: int, action: str
    ) -> HttpResponse:
        """One outline action on one claim: a small form with a reason, then the service."""
        argument_map = get_object_or_404(ArgumentMap, pk=map_id)
        if not self.has_change_permission(request, argument_map):
            raise PermissionDenied
        claim = get_object_or_404(Claim, pk=claim_id, map=argument_map)
        if action not in CLAIM_ACTIONS:
            raise Http404("No such action.")
        data = request.POST if request.method == "POST" else None
        entry = curation.latest_merge(claim) if action == "unmerge" else None
        if action == "unmerge" and entry is None:
            self.message_user(request, NO_MERGE_TO_UNDO, messages.ERROR)
            return self._back_to_outline(argument_map, claim)
        if action == "move":
            parents = curation.claim_choices(argument_map, exclude_subtree_of=claim.pk)
            form = MoveForm(
                data, parents=parents, initial={"parent": claim.parent_id, "stance": claim.stance}
            )
        elif action == "stance":
            flipped = (
                Claim.Stance.COUNTER
                if claim.stance == Claim.Stance.SUPPORT
                else Claim.Stance.SUPPORT
            )
            form = StanceForm(data, initial={"stance": flipped})
        elif action == "merge":
            choices = [c for c in curation.claim_choices(argument_map) if c[0] != claim.pk]
            form = MergeForm(data, claims=choices)
        else:
            form = ReasonForm(data)
        if data is not None and form.is_valid():
            try:
                done = self._apply_claim_action(request, action, claim, form.cleaned_data, entry)
            except ValidationError as error:
                add_errors(form, error)
            else:
                self.message_user(request, done)
                return self._back_to_outline(argument_map, claim)
        context = {
            **self.admin_site.each_context(request),
            "title": f"{action.capitalize()}: {claim.text[:60]}",
            "opts": self.model._meta,
            "original": argument_map,
            "claim": claim,
            "action": action,
            "form": form,
            "entry": entry,
            "outline_url": reverse("admin:argmap_argumentmap_change", args=[argument_map.pk]),
        }
        return TemplateResponse(request, "admin/argmap/argumentmap/claim_action.html", context)

    @staticmethod
    def _back_to_outline(argument_map: ArgumentMap, claim: Claim) -> HttpResponseRedirect:
        url = reverse("admin:argmap_argumentmap_change", args=[argument_map.pk])
        return HttpResponseRedirect(f"{url}#outline-claim-{claim.pk}")

    @staticmethod
    def _apply_claim_action(request, action: str, claim: Claim, data: dict, entry) -> str:
        by, reason = request.user, data["reason"]
        if action == "move":
            parent = get_object_or_404(Claim, pk=data["parent"], map_id=claim.map_id)
            services.claim_move(
                claim=claim, new_parent=parent, stance=data["stance"], by=by, reason=reason
            )
            return f"Moved #{claim.pk} under #{parent.pk}."
        if action == "stance":
            parent = Claim.objects.get(pk=claim.parent_id) if claim.parent_id else claim
            services.claim_move(
                claim=claim, new_parent=parent, stance=data["stance"], by=by, reason=reason
            )
            verb = "supports" if data["stance"] == Claim.Stance.SUPPORT else "counters"
            return f"#{claim.pk} now {verb} its parent."
        if action in ("up", "down"):
            offset = -1 if action == "up" else 1
            services.claim_reorder(claim=claim, offset=offset, by=by, reason=reason)
            return f"Moved #{claim.pk} {action}."
        if action == "archive":
            ids = services.claim_archive(claim=claim, by=by, reason=reason)
            return f"Archived #{claim.pk} ({len(ids)} claim{'s' if len(ids) != 1 else ''})."
        if action == "restore":
            ids = services.claim_restore(claim=claim, by=by, reason=reason)
            return f"Restored #{claim.pk} ({len(ids)} claim{'s' if len(ids) != 1 else ''})."
        if action == "merge":
            keep = get_object_or_404(Claim, pk=data["keep"], map_id=claim.map_id)
            curation.claim_merge(keep=keep, duplicate=claim, by=by, reason=reason)
            return f"Merged #{claim.pk} into #{keep.pk}. Undo it from the outline if needed."
        curation.claim_unmerge(entry=entry, by=by, reason=reason)
        return f"Undid the merge of #{claim.pk}."


class ClaimAdminForm(forms.ModelForm):
    class Meta:
        model = Claim
        fields = [
            "map",
            "parent",
            "stance",
            "text",
            "status",
            "position",
            "author",
            "quote_exact",
            "quote_start",
            "quote_end",
        ]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        # A quote is exact text: leading and trailing spaces are part of it.
        if "quote_exact" in self.fields:
            self.fields["quote_exact"].strip = False


class ReviewFilter(admin.SimpleListFilter):
    """What needs a curator's eye: pending, flagged (open reports) or hidden items."""

    title = "review"
    parameter_name = "review"
    pending_status = "pending"

    def lookups(self, request, model_admin):
        return [("pending", "Pending"), ("flagged", "Flagged (open reports)"), ("hidden", "Hidden")]

    def queryset(self, request, queryset):
        value = self.value()
        if value == "pending":
            return queryset.filter(status=self.pending_status)
        if value == "hidden":
            return queryset.filter(status="hidden")
        if value == "flagged":
            field = queryset.model._meta.model_name  # "claim" or "comment"
            open_flags = Flag.objects.filter(status=Flag.Status.OPEN, **{field: OuterRef("pk")})
            return queryset.filter(Exists(open_flags))
        return queryset


def _hide_actions(hide_service, unhide_service, noun: str):
    """The bulk "hide" and "restore" admin actions for claims or comments, with a reason."""

    @admin.action(description=f"Hide the selected {noun}…", permissions=["change"])
    def hide_selected(modeladmin, request, queryset):
        return _reason_page(
            modeladmin,
            request,
            queryset,
            title=f"Hide {noun}",
            verb="Hid",
            apply=lambda obj, why: hide_service(obj, by=request.user, reason=why),
        )

    @admin.action(description=f"Restore the selected hidden {noun}…", permissions=["change"])
    def restore_selected(modeladmin, request, queryset):
        return _reason_page(
            modeladmin,
            request,
            queryset,
            title=f"Restore {noun}",
            verb="Restored",
            apply=lambda obj, why: unhide_service(obj, by=request.user, reason=why),
        )

    # The admin names an action after its function: give each its own name.
    hide_selected.__name__ = f"hide_{noun}"
    restore_selected.__name__ = f"restore_{noun}"
    return hide_selected, restore_selected


hide_claims, restore_claims = _hide_actions(
    lambda c, **kw: moderation.claim_hide(claim=c, **kw),
    lambda c, **kw: moderation.claim_unhide(claim=c, **kw),
    "claims",
)
hide_comments, restore_comments = _hide_actions(
    lambda c, **kw: moderation.comment_hide(comment=c, **kw),
    lambda c, **kw: moderation.comment_unhide(comment=c, **kw),
    "comments",
)


def _without_delete(actions: dict) -> dict:
    # Deleting would bypass the services (history, the live clock, the log): archive or hide.
    actions.pop("delete_selected", None)
    return actions


@admin.register(Claim)
class ClaimAdmin(SimpleHistoryAdmin):
    form = ClaimAdminForm
    list_display = ["short_text", "map", "stance", "status", "parent_link", "position", "version"]
    list_filter = [ReviewFilter, "status", "stance", "map"]
    actions = [hide_claims, restore_claims]

    def get_actions(self, request, action_location=ActionLocation.CHANGE_LIST):
        return _without_delete(super().get_actions(request, action_location))

    list_select_related = ["map", "parent"]
    search_fields = ["text", "quote_exact", "map__title", "map__slug"]
    raw_id_fields = ["map", "parent", "author"]
    # The quote's context is derived from its offsets by the service; it is shown, not typed.
    readonly_fields = [
        "version",
        "changed_in",
        "created_at",
        "updated_at",
        "quote_prefix",
        "quote_suffix",
    ]
    fieldsets = [
        (None, {"fields": ["map", "parent", "stance", "text", "status", "position", "author"]}),
        (
            "Quote anchor",
            {"fields": ["quote_exact", "quote_prefix", "quote_suffix", "quote_start", "quote_end"]},
        ),
        ("Clock", {"fields": ["version", "changed_in", "created_at", "updated_at"]}),
    ]

    def get_readonly_fields(self, request, obj=None):
        if obj is None:
            return self.readonly_fields
        # Structure and status change through their own services (move, archive), not this form.
        return [*self.readonly_fields, "map", "parent", "stance", "status", "position", "author"]

    def save_model(self, request, obj, form, change):
        """Adds and edits go through the services, so versions, history and anchors stay right."""
        quote = (
            services.QuoteInput(exact=obj.quote_exact, start=obj.quote_start, end=obj.quote_end)
            if obj.quote_exact
            else None
        )
        try:
            if change:
                saved = services.claim_edit(
                    claim=obj,
                    expected_version=form.initial.get("version", obj.version),
                    text=obj.text,
                    quote=quote,
                    by=request.user,
                    reason="Edited in the admin",
                )
            else:
                saved = services.claim_add(
                    parent=obj.parent,
                    stance=obj.stance,
                    text=obj.text,
                    quote=quote,
                    by=request.user,
                    reason="Added in the admin",
                )
        except services.ClaimConflict as conflict:
            request._argmap_not_saved = True
            messages.error(
                request,
                f"Someone changed this claim meanwhile (now version {conflict.current.version}); "
                "your edit was not saved. Reopen it to see the current text.",
            )
            return
        except ValidationError as error:
            request._argmap_not_saved = True
            messages.error(request, "; ".join(error.messages))
            return
        obj.pk = saved.pk
        obj.refresh_from_db()

    def response_change(self, request, obj):
        # A refused edit must not be reported as saved: back to the form, with the reason shown.
        if getattr(request, "_argmap_not_saved", False):
            return HttpResponseRedirect(request.get_full_path())
        return super().response_change(request, obj)

    def response_add(self, request, obj, post_url_continue=None):
        if getattr(request, "_argmap_not_saved", False):
            return HttpResponseRedirect(request.get_full_path())
        return super().response_add(request, obj, post_url_continue)

    @admin.display(description="Text", ordering="text")
    def short_text(self, obj: Claim) -> str:
        return obj.text[:90]

    @admin.display(description="Parent")
    def parent_link(self, obj: Claim) -> str:
        if obj.parent_id is None:
            return "— thesis —"
        url = reverse("admin:argmap_claim_change", args=[obj.parent_id])
        return format_html('<a href="{}">#{}</a>', url, obj.parent_id)


class ReadOnlyAdmin(admin.ModelAdmin):
    """Rows written by the services only: the admin lists and shows them."""

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(Comment)
class CommentAdmin(SimpleHistoryAdmin):
    list_display = ["short_body", "author", "map", "claim_link", "status", "created_at"]
    list_filter = [ReviewFilter, "status", "map"]
    list_select_related = ["author", "map"]
    search_fields = ["body", "author__username", "map__title", "claim__text"]
    raw_id_fields = ["map", "claim", "parent", "author"]
    readonly_fields = ["map", "claim", "parent", "author", "status", "version", "edited_at"]
    date_hierarchy = "created_at"
    actions = [hide_comments, restore_comments]

    def get_actions(self, request, action_location=ActionLocation.CHANGE_LIST):
        return _without_delete(super().get_actions(request, action_location))

    @admin.display(description="Comment", ordering="body")
    def short_body(self, obj: Comment) -> str:
        return obj.body[:90]

    @admin.display(description="Claim")
    def claim_link(self, obj: Comment) -> str:
        url = reverse("admin:argmap_claim_change", args=[obj.claim_id])
        return format_html('<a href="{}">#{}</a>', url, obj.claim_id)


@admin.register(Flag)
class FlagAdmin(ReadOnlyAdmin):
    list_display = ["reason", "fallacy", "target_link", "reporter", "map", "status", "created_at"]
    list_filter = ["status", "reason", "map"]
    list_select_related = ["reporter", "map"]
    search_fields = ["note", "fallacy", "reporter__username", "claim__text", "comment__body"]
    date_hierarchy = "created_at"

    @admin.display(description="Reported")
    def target_link(self, obj: Flag) -> str:
        if obj.claim_id:
            url = reverse("admin:argmap_claim_change", args=[obj.claim_id])
            return format_html('<a href="{}">claim #{}</a>', url, obj.claim_id)
        url = reverse("admin:argmap_comment_change", args=[obj.comment_id])
        return format_html('<a href="{}">comment #{}</a>', url, obj.comment_id)


@admin.register(Membership)
class MembershipAdmin(ReadOnlyAdmin):
    """Members are managed on the map's settings page (its services log every change)."""

    list_display = ["user", "map", "role", "muted_until", "created_at"]
    list_filter = ["role", "map"]
    list_select_related = ["user", "map"]
    search_fields = ["user__username", "map__title", "map__slug", "mute_reason"]


@admin.register(ModerationAction)
class ModerationActionAdmin(ReadOnlyAdmin):
    """The append-only log: read, filter, search; an "undo" link on merges."""

    list_display = [
        "created_at",
        "action",
        "actor",
        "map",
        "target_summary",
        "reason",
        "public",
        "undo_link",
    ]
    list_filter = ["action", "public", "map"]
    list_select_related = ["actor", "map"]
    search_fields = ["target_summary", "reason", "actor__username", "map__title"]
    date_hierarchy = "created_at"
    readonly_fields = ["undo_link"]

    def get_actions(self, request, action_location=ActionLocation.CHANGE_LIST):
        return {}

    @admin.display(description="Undo")
    def undo_link(self, obj: ModerationAction) -> str:
        duplicate = (
            obj.detail.get("duplicate") if obj.action == ModerationAction.Action.MERGE else None
        )
        if not duplicate:
            return "—"
        url = reverse(
            "admin:argmap_argumentmap_claim_action", args=[obj.map_id, duplicate, "unmerge"]
        )
        return format_html('<a href="{}">Undo this merge…</a>', url)


@admin.register(Notification)
class NotificationAdmin(ReadOnlyAdmin):
    list_display = ["created_at", "recipient", "kind", "actor", "map", "message", "read_at"]
    list_filter = ["kind", ("read_at", admin.EmptyFieldListFilter)]
    list_select_related = ["recipient", "actor", "map"]
    search_fields = ["recipient__username", "actor__username", "message"]
    date_hierarchy = "created_at"
