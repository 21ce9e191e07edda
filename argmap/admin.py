"""The Django admin for curators: sources, maps and claims, each with its history."""

from __future__ import annotations

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import ValidationError
from django.db.models import Count, Q
from django.http import HttpResponseRedirect
from django.urls import reverse
from django.utils.html import format_html
from simple_history.admin import SimpleHistoryAdmin

from argmap import services
from argmap.models import ArgumentMap, Claim, Source


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
            obj._history_user = request.user
            obj._change_reason = "Edited in the admin"
            super().save_model(request, obj, form, change)
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

    @admin.display(description="Claims", ordering="num_claims")
    def claim_count(self, obj: ArgumentMap) -> int:
        return obj.num_claims

    @admin.display(description="On the site")
    def view_on_site_link(self, obj: ArgumentMap) -> str:
        return format_html('<a href="{}">{}</a>', obj.get_absolute_url(), obj.get_absolute_url())


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


@admin.register(Claim)
class ClaimAdmin(SimpleHistoryAdmin):
    form = ClaimAdminForm
    list_display = ["short_text", "map", "stance", "status", "parent_link", "position", "version"]
    list_filter = ["status", "stance", "map"]
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
