"""Import and export: a map downloaded in one of the interchange formats, and a file uploaded
by site staff as a new map. The formats themselves live in ``argmap.formats``."""

from __future__ import annotations

from django import forms
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.validators import validate_slug
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.urls import path
from django.views.decorators.http import require_GET, require_http_methods

from argmap import formats, permissions
from argmap.models import ArgumentMap
from argmap.views.maps import HtmxHttpRequest

IMPORT_FORBIDDEN = "Only site staff may import maps."
IMPORT_TOO_LARGE = "The file is larger than {limit} MB."
IMPORT_MAX_BYTES = 20 * 1024 * 1024

# File names per format: AIF and JSON are both .json, so AIF says what it is.
FILENAMES = {"aif": "{slug}.aif.json", "kialo": "{slug}.kialo.txt"}


class MapImportForm(forms.Form):
    """A file, its format and the new map's address."""

    file = forms.FileField(label="File")
    format = forms.ChoiceField(
        choices=[(name, formats.FORMATS[name].label) for name in formats.IMPORT_FORMATS]
    )
    slug = forms.CharField(
        label="New map's address",
        max_length=80,
        validators=[validate_slug],
        help_text="Letters, digits, '-' and '_'; the map opens at /maps/<address>/.",
    )
    replace = forms.BooleanField(
        required=False, label="Replace an existing map with this address (it is deleted)"
    )

    def clean_file(self):
        upload = self.cleaned_data["file"]
        if upload.size > IMPORT_MAX_BYTES:
            raise ValidationError(IMPORT_TOO_LARGE.format(limit=IMPORT_MAX_BYTES // 2**20))
        return upload


@require_GET
def map_export(request: HtmxHttpRequest, slug: str, format: str) -> HttpResponse:
    """The map as a download in one format; readers get published and archived claims,
    moderators and the owner everything."""
    argument_map = ArgumentMap.objects.select_related("source").filter(slug=slug).first()
    if argument_map is None or not permissions.can_view_map(request.user, argument_map):
        raise Http404("No such map.")
    fmt = formats.FORMATS.get(format)
    if fmt is None:
        raise Http404("No such export format.")
    statuses = permissions.export_statuses(request.user, argument_map)
    content = fmt.export(argument_map, statuses=statuses)
    response = HttpResponse(content, content_type=f"{fmt.content_type}; charset=utf-8")
    filename = FILENAMES.get(fmt.name, "{slug}.{ext}").format(slug=slug, ext=fmt.extension)
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    response["X-Content-Type-Options"] = "nosniff"
    return response


@login_required
@require_http_methods(["GET", "POST"])
def map_import(request: HtmxHttpRequest) -> HttpResponse:
    """Site staff upload a file as a new map; a refused file shows every problem and keeps the
    typed address."""
    if not permissions.can_import_maps(request.user):
        raise PermissionDenied(IMPORT_FORBIDDEN)
    problems: list[str] = []
    if request.method == "POST":
        form = MapImportForm(request.POST, request.FILES)
        if form.is_valid():
            data = form.cleaned_data
            try:
                plan = formats.parse(data["file"].read(), data["format"])
                argument_map = formats.import_plan(
                    plan=plan,
                    slug=data["slug"],
                    owner=request.user,
                    replace=data["replace"],
                    reason=f"Imported from {data['file'].name} ({data['format']})",
                )
            except formats.DocumentError as error:
                problems = error.errors
            except ValidationError as error:
                problems = error.messages
            else:
                if request.htmx:
                    response = HttpResponse(status=204)
                    response["HX-Redirect"] = argument_map.get_absolute_url()
                    return response
                return redirect(argument_map)
    else:
        form = MapImportForm()
    invalid = bool(form.errors or problems)
    template = "argmap/import.html#import-form" if request.htmx else "argmap/import.html"
    status = 422 if invalid and request.htmx else 200
    return render(request, template, {"form": form, "problems": problems}, status=status)


urlpatterns = [
    # Not under maps/: config/urls.py reads maps/<slug>/ as a map before this module's patterns.
    path("import/", map_import, name="map_import"),
    path("maps/<slug:slug>/export/<str:format>/", map_export, name="map_export"),
]
