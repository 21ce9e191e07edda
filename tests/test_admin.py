"""The curators' admin: every list, filter, search, change form and history page loads."""

from __future__ import annotations

import pytest
from django.test import Client

from argmap.models import ArgumentMap, Claim

pytestmark = pytest.mark.django_db

MODELS = ["source", "argumentmap", "claim"]


@pytest.fixture
def admin_client(admin_user, seeded_map) -> Client:
    client = Client()
    client.force_login(admin_user)
    return client


def _object_ids(seeded_map) -> dict[str, int]:
    return {
        "source": seeded_map.source_id,
        "argumentmap": seeded_map.pk,
        "claim": Claim.objects.filter(map=seeded_map, parent__isnull=False).first().pk,
    }


@pytest.mark.parametrize("model", MODELS)
def test_changelist_loads_and_lists_the_seeded_rows(admin_client, seeded_map, model):
    response = admin_client.get(f"/admin/argmap/{model}/")
    assert response.status_code == 200
    changelist = response.context["cl"]
    assert changelist.result_count >= 1
    if model == "claim":
        assert changelist.result_count == seeded_map.claims.count()


@pytest.mark.parametrize(
    ("model", "term", "expected"),
    [
        ("source", "Kaliningrad", 1),
        ("source", "808ff37d", 1),  # by sha256
        ("source", "no such words anywhere", 0),
        ("argumentmap", "kaliningrad", 1),
        ("argumentmap", "Russia warns", 1),  # by the source's title
        ("argumentmap", "no such words anywhere", 0),
        ("claim", "Missile readiness", 1),
        ("claim", "Increased missile readiness near Russian borders", 1),  # by quote
        ("claim", "no such words anywhere", 0),
    ],
)
def test_changelist_search_finds_by_the_configured_fields(admin_client, model, term, expected):
    response = admin_client.get(f"/admin/argmap/{model}/", {"q": term})
    assert response.status_code == 200
    assert response.context["cl"].result_count == expected


@pytest.mark.parametrize("model", MODELS)
def test_every_filter_choice_of_every_changelist_loads(admin_client, model):
    changelist = admin_client.get(f"/admin/argmap/{model}/").context["cl"]
    assert changelist.filter_specs, "the changelist has filters"
    urls = {
        choice["query_string"]
        for spec in changelist.filter_specs
        for choice in spec.choices(changelist)
    }
    assert len(urls) > len(changelist.filter_specs)
    for query in sorted(urls):
        response = admin_client.get(f"/admin/argmap/{model}/{query}")
        assert response.status_code == 200, query  # an invalid filter redirects to ?e=1


def test_claim_filters_narrow_the_list(admin_client, seeded_map):
    counters = Claim.objects.filter(map=seeded_map, stance="counter").count()
    response = admin_client.get("/admin/argmap/claim/", {"stance__exact": "counter"})
    assert response.context["cl"].result_count == counters
    response = admin_client.get("/admin/argmap/claim/", {"map__id__exact": seeded_map.pk})
    assert response.context["cl"].result_count == seeded_map.claims.count()


def test_source_date_hierarchy_loads(admin_client, seeded_map):
    year = seeded_map.source.created_at.year
    response = admin_client.get("/admin/argmap/source/", {"created_at__year": year})
    assert response.status_code == 200
    assert response.context["cl"].result_count == 1


@pytest.mark.parametrize("model", MODELS)
def test_change_page_loads(admin_client, seeded_map, model):
    pk = _object_ids(seeded_map)[model]
    response = admin_client.get(f"/admin/argmap/{model}/{pk}/change/")
    assert response.status_code == 200


@pytest.mark.parametrize("model", MODELS)
def test_add_page_loads(admin_client, model):
    assert admin_client.get(f"/admin/argmap/{model}/add/").status_code == 200


def test_cited_source_text_is_read_only_in_the_admin(admin_client, seeded_map):
    response = admin_client.get(f"/admin/argmap/source/{seeded_map.source_id}/change/")
    form = response.context["adminform"].form
    assert "text" not in form.fields
    assert "title" in form.fields


def test_argument_map_change_page_links_to_the_site(admin_client, seeded_map):
    response = admin_client.get(f"/admin/argmap/argumentmap/{seeded_map.pk}/change/")
    assert 'href="/maps/kaliningrad/"' in response.content.decode()


@pytest.mark.parametrize("model", MODELS)
def test_history_page_loads_and_lists_the_creation(admin_client, seeded_map, model):
    pk = _object_ids(seeded_map)[model]
    response = admin_client.get(f"/admin/argmap/{model}/{pk}/history/")
    assert response.status_code == 200
    assert "Seeded from kaliningrad.json" in response.content.decode()


def test_claim_history_shows_an_edit_made_in_the_admin(admin_client, seeded_map):
    claim = Claim.objects.filter(map=seeded_map, parent__isnull=False).first()
    claim.text = "An edited claim text"
    claim._change_reason = "Tightened the wording"
    claim.save()
    response = admin_client.get(f"/admin/argmap/claim/{claim.pk}/history/")
    html = response.content.decode()
    assert "Tightened the wording" in html
    assert claim.history.count() == 2


def test_admin_needs_staff(writer, seeded_map):
    client = Client()
    client.force_login(writer)
    response = client.get("/admin/argmap/claim/")
    assert response.status_code == 302
    assert response["Location"].startswith("/admin/login/")


def test_featured_is_editable_in_the_map_list(admin_client, seeded_map):
    response = admin_client.get("/admin/argmap/argumentmap/")
    assert 'name="form-0-featured"' in response.content.decode()


# --- editing through the admin -------------------------------------------------------------------


def _change_form_data(response) -> dict[str, str]:
    """The change form's fields as the browser would submit them, untouched."""
    form = response.context["adminform"].form
    data = {}
    for name, field in form.fields.items():
        value = form.initial.get(name, field.initial)
        data[name] = "" if value is None else str(value)
    return {**data, "_save": "Save"}


def test_saving_an_untouched_anchored_claim_in_the_admin_works(admin_client, seeded_map):
    claim = Claim.objects.filter(map=seeded_map, parent__isnull=False).first()
    url = f"/admin/argmap/claim/{claim.pk}/change/"
    response = admin_client.post(url, _change_form_data(admin_client.get(url)))
    errors = response.context["adminform"].form.errors if response.status_code == 200 else {}
    assert response.status_code == 302, errors
    claim.refresh_from_db()
    assert seeded_map.source.text[claim.quote_start : claim.quote_end] == claim.quote_exact


def test_editing_a_claim_in_the_admin_bumps_the_map_version_and_records_history(
    admin_client, admin_user, make_map
):
    argument_map = make_map(claims=[(None, "support", "Old wording")])
    claim = Claim.objects.get(map=argument_map, text="Old wording")
    url = f"/admin/argmap/claim/{claim.pk}/change/"
    data = _change_form_data(admin_client.get(url)) | {"text": "New wording"}
    response = admin_client.post(url, data)
    assert response.status_code == 302
    claim.refresh_from_db()
    argument_map.refresh_from_db()
    assert claim.text == "New wording"
    assert claim.changed_in == argument_map.version == 3
    latest = claim.history.first()
    assert (latest.text, latest.history_user) == ("New wording", admin_user)


def test_an_edit_the_service_refuses_is_not_reported_as_saved(admin_client, make_map):
    argument_map = make_map(claims=[(None, "support", "Taken"), (None, "counter", "Mine")])
    claim = Claim.objects.get(map=argument_map, text="Mine")
    url = f"/admin/argmap/claim/{claim.pk}/change/"
    data = _change_form_data(admin_client.get(url)) | {"text": "taken"}
    response = admin_client.post(url, data, follow=True)
    shown = [str(message) for message in response.context["messages"]]
    claim.refresh_from_db()
    assert claim.text == "Mine"
    assert any("already stands under this parent" in message for message in shown), shown
    assert not any("successfully" in message for message in shown), shown


def test_adding_a_map_in_the_admin_creates_it_with_its_thesis(admin_client, admin_user):
    response = admin_client.post(
        "/admin/argmap/argumentmap/add/",
        {
            "slug": "from-admin",
            "title": "Made in the admin",
            "description": "",
            "visibility": "public",
            "thesis": "  Admins   can start maps. ",
            "_save": "Save",
        },
    )
    assert response.status_code == 302
    argument_map = ArgumentMap.objects.get(slug="from-admin")
    thesis = argument_map.claims.get()
    assert (thesis.parent_id, thesis.text) == (None, "Admins can start maps.")
    assert argument_map.owner == admin_user
    assert argument_map.version == 1 == thesis.changed_in
