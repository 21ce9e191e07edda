"""The export downloads and the staff import page: HTTP contracts, visibility, refusals."""

from __future__ import annotations

import json

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from argmap import formats
from argmap.models import ArgumentMap, Claim, Role
from tests.conftest import add_member, response_text, signed_in_client

HTMX = {"HTTP_HX_REQUEST": "true"}


@pytest.fixture
def mixed_map(make_map, writer):
    """A public map with a published, an archived, a hidden and a pending claim."""
    argument_map = make_map(
        slug="mixed",
        claims=[
            (None, "support", "Published one"),
            (None, "support", "Archived one"),
            (None, "counter", "Hidden one"),
            (None, "counter", "Pending one"),
        ],
    )
    for text, status in (("Archived one", "archived"), ("Hidden one", "hidden")):
        Claim.objects.filter(map=argument_map, text=text).update(status=status)
    Claim.objects.filter(map=argument_map, text="Pending one").update(status="pending")
    return argument_map


def _url(slug: str, name: str) -> str:
    return reverse("map_export", kwargs={"slug": slug, "format": name})


def _texts(response) -> set[str]:
    return {claim["text"] for claim in json.loads(response.content)["claims"]}


# --- export --------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "content_type", "filename"),
    [
        ("json", "application/json", "mixed.json"),
        ("argdown", "text/plain", "mixed.argdown"),
        ("aif", "application/json", "mixed.aif.json"),
        ("kialo", "text/plain", "mixed.kialo.txt"),
        ("csv", "text/csv", "mixed.csv"),
    ],
)
@pytest.mark.django_db
def test_export_downloads_each_format_with_type_and_filename(
    mixed_map, name, content_type, filename
):
    response = signed_in_client(None).get(_url("mixed", name))
    assert response.status_code == 200
    assert response["Content-Type"] == f"{content_type}; charset=utf-8"
    assert response["Content-Disposition"] == f'attachment; filename="{filename}"'
    assert "Published one" in response_text(response)


@pytest.mark.django_db
def test_export_is_get_only(mixed_map, owner):
    response = signed_in_client(owner).post(_url("mixed", "json"))
    assert response.status_code == 405


@pytest.mark.django_db
def test_an_unknown_format_is_404(mixed_map):
    assert signed_in_client(None).get(_url("mixed", "docx")).status_code == 404


@pytest.mark.django_db
def test_readers_get_published_and_archived_claims_only(mixed_map, stranger):
    for user in (None, stranger):
        texts = _texts(signed_in_client(user).get(_url("mixed", "json")))
        assert {"Published one", "Archived one"} <= texts
        assert not {"Hidden one", "Pending one"} & texts


@pytest.mark.django_db
def test_moderators_and_the_owner_get_every_claim(mixed_map, owner, moderator):
    add_member(mixed_map, moderator, Role.MODERATOR)
    for user in (owner, moderator):
        texts = _texts(signed_in_client(user).get(_url("mixed", "json")))
        assert {"Hidden one", "Pending one", "Archived one"} <= texts


@pytest.mark.django_db
def test_kialo_export_for_anyone_holds_published_claims_only(mixed_map, owner):
    text = response_text(signed_in_client(owner).get(_url("mixed", "kialo")))
    assert "Published one" in text
    assert "Archived one" not in text and "Hidden one" not in text


@pytest.mark.django_db
def test_a_private_map_is_404_to_non_members_and_exports_for_members(make_map, viewer, stranger):
    make_map(slug="secret", visibility=ArgumentMap.Visibility.PRIVATE)
    private = ArgumentMap.objects.get(slug="secret")
    for user in (None, stranger):
        assert signed_in_client(user).get(_url("secret", "json")).status_code == 404
    add_member(private, viewer, Role.VIEWER)
    assert signed_in_client(viewer).get(_url("secret", "json")).status_code == 200


@pytest.mark.django_db
def test_a_missing_map_is_404():
    assert signed_in_client(None).get(_url("nowhere", "json")).status_code == 404


@pytest.mark.django_db
def test_the_map_page_offers_the_export_menu(mixed_map):
    page = response_text(signed_in_client(None).get(mixed_map.get_absolute_url()))
    for name in formats.FORMATS:
        assert f'href="{_url("mixed", name)}"' in page


# --- import --------------------------------------------------------------------------------------

IMPORT_URL = "/import/"
KIALO = "Discussion Title: Cars\n\n1. Ban cars.\n1.1. Pro: Safer.\n1.2. Con: Slower.\n"


def _upload(text: str, name: str = "map.txt") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, text.encode(), content_type="text/plain")


def _post(client, text=KIALO, *, fmt="kialo", slug="cars", replace=False, **extra):
    data = {"file": _upload(text), "format": fmt, "slug": slug}
    if replace:
        data["replace"] = "on"
    return client.post(IMPORT_URL, data, **extra)


@pytest.mark.django_db
def test_import_url_is_the_named_route():
    assert reverse("map_import") == IMPORT_URL


@pytest.mark.django_db
def test_import_asks_anonymous_visitors_to_log_in():
    response = signed_in_client(None).get(IMPORT_URL)
    assert response.status_code == 302 and response["Location"].startswith(reverse("login"))


@pytest.mark.django_db
def test_import_is_for_site_staff_only(writer, owner):
    for user in (writer, owner):
        response = signed_in_client(user).get(IMPORT_URL)
        assert response.status_code == 403
        assert _post(signed_in_client(user)).status_code == 403
    assert not ArgumentMap.objects.filter(slug="cars").exists()


@pytest.mark.django_db
def test_import_refuses_other_methods(staff):
    assert signed_in_client(staff).put(IMPORT_URL).status_code == 405


@pytest.mark.django_db
def test_import_page_and_its_fragment(staff):
    client = signed_in_client(staff)
    page = response_text(client.get(IMPORT_URL))
    assert "<html" in page and 'id="import-form"' in page
    fragment = response_text(client.get(IMPORT_URL, **HTMX))
    assert "<html" not in fragment and 'id="import-form"' in fragment


@pytest.mark.django_db
def test_a_good_file_becomes_a_map_owned_by_the_importer(staff):
    response = _post(signed_in_client(staff))
    assert response.status_code == 302 and response["Location"] == "/maps/cars/"
    argument_map = ArgumentMap.objects.get(slug="cars")
    assert argument_map.owner == staff and argument_map.claims.count() == 3


@pytest.mark.django_db
def test_htmx_import_redirects_with_a_header(staff):
    response = _post(signed_in_client(staff), **HTMX)
    assert response.status_code == 204 and response["HX-Redirect"] == "/maps/cars/"


@pytest.mark.django_db
def test_a_bad_file_shows_every_problem_keeps_the_slug_and_creates_nothing(staff):
    bad = "1. Ban cars.\n1.2. Pro: gap\n1.1. Because\n"
    response = _post(signed_in_client(staff), bad, slug="typed-slug")
    text = response_text(response)
    assert response.status_code == 200
    assert "line 2: claim &#x27;1.2.&#x27; is out of order" in text
    assert "line 3: claim &#x27;1.1.&#x27; must start with" in text
    assert 'value="typed-slug"' in text
    assert not ArgumentMap.objects.filter(slug="typed-slug").exists()


@pytest.mark.django_db
def test_a_bad_file_over_htmx_is_a_422_fragment(staff):
    response = _post(signed_in_client(staff), "nonsense", **HTMX)
    assert response.status_code == 422
    assert "<html" not in response_text(response) and "text before the thesis" in (
        response_text(response)
    )


@pytest.mark.django_db
def test_a_taken_slug_is_refused_unless_replace_is_ticked(staff, make_map):
    make_map(slug="cars")
    client = signed_in_client(staff)
    response = _post(client)
    assert response.status_code == 200 and "already exists" in response_text(response)
    assert ArgumentMap.objects.get(slug="cars").title != "Cars"
    assert _post(client, replace=True).status_code == 302
    assert ArgumentMap.objects.get(slug="cars").title == "Cars"


@pytest.mark.django_db
def test_an_invalid_slug_is_a_form_error(staff):
    response = _post(signed_in_client(staff), slug="no spaces")
    assert response.status_code == 200 and 'value="no spaces"' in response_text(response)
    assert ArgumentMap.objects.count() == 0


@pytest.mark.django_db
def test_an_exported_map_imports_back_through_the_page(mixed_map, staff):
    client = signed_in_client(staff)
    exported = response_text(client.get(_url("mixed", "argdown")))
    assert _post(client, exported, fmt="argdown", slug="mixed-copy").status_code == 302
    copy = ArgumentMap.objects.get(slug="mixed-copy")
    statuses = sorted(copy.claims.values_list("status", flat=True))
    assert statuses == sorted(mixed_map.claims.values_list("status", flat=True))
