"""The site's curation views: /maps/new/ (staff) and /maps/<slug>/annotate/ (staff, owner,
editors) — their HTTP contracts, refusals that keep what was typed, and exact Unicode anchors."""

from __future__ import annotations

import pytest

from argmap import curation_forms, services
from argmap.models import ArgumentMap, Claim, Role, Source
from argmap.views import curation as views
from tests.conftest import ARTICLE, add_member, response_text, signed_in_client

pytestmark = pytest.mark.django_db

HTMX = {"HTTP_HX_REQUEST": "true"}

# Curly quotes, NBSP, a combining acute, Hebrew (RTL) and emoji, including one outside the BMP
# (two UTF-16 code units, one Python character) before the passages that are quoted.
UNICODE_ARTICLE = (
    "Ca\u0301fe\u0301 owners say “bike lanes” help 😀 trade.\n"
    "שלום עולם: residents\u00a0agree 👍🏽 in Tel Aviv.\n"
    "The mayor 🚲 said the “car-free” plan starts in May."
)


def _new_map_data(**overrides) -> dict[str, str]:
    return {
        "article_title": "Bike lanes and trade",
        "publisher": "The Daily",
        "url": "https://example.test/bikes",
        "published": "2026-11-01",
        "article_text": UNICODE_ARTICLE,
        "map_title": "",
        "slug": "",
        "description": "",
        "thesis": "Bike lanes help local trade.",
        "visibility": "public",
    } | overrides


# --- /maps/new/ ----------------------------------------------------------------------------------


def test_anonymous_is_sent_to_log_in():
    response = signed_in_client(None).get("/maps/new/")
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/")


def test_non_staff_is_forbidden(writer):
    assert signed_in_client(writer).get("/maps/new/").status_code == 403
    assert signed_in_client(writer).post("/maps/new/", _new_map_data()).status_code == 403
    assert not ArgumentMap.objects.exists()


def test_wrong_method_is_405(staff):
    assert signed_in_client(staff).put("/maps/new/").status_code == 405


def test_staff_gets_the_form_page_and_htmx_gets_the_fragment(staff):
    page = signed_in_client(staff).get("/maps/new/")
    assert page.status_code == 200
    assert "<html" in response_text(page) and 'id="new-map-form"' in response_text(page)
    fragment = signed_in_client(staff).get("/maps/new/", **HTMX)
    assert "<html" not in response_text(fragment)
    assert response_text(fragment).lstrip().startswith("<form")


def test_home_links_staff_to_the_new_map_form(staff, writer):
    assert 'href="/maps/new/"' in response_text(signed_in_client(staff).get("/"))
    assert 'href="/maps/new/"' not in response_text(signed_in_client(writer).get("/"))


def test_creating_a_map_stores_the_source_exactly_and_redirects_to_annotate(staff):
    response = signed_in_client(staff).post(
        "/maps/new/", _new_map_data(article_text=UNICODE_ARTICLE.replace("\n", "\r\n"))
    )
    argument_map = ArgumentMap.objects.get()
    assert response.status_code == 302
    assert response["Location"] == f"/maps/{argument_map.slug}/annotate/"
    assert argument_map.slug == "bike-lanes-and-trade"  # made from the title
    assert argument_map.owner == staff
    assert argument_map.source.text == UNICODE_ARTICLE  # CRLF from the form becomes LF
    assert (argument_map.source.publisher, str(argument_map.source.published)) == (
        "The Daily",
        "2026-11-01",
    )
    assert argument_map.claims.get().text == "Bike lanes help local trade."


def test_htmx_success_redirects_with_hx_redirect(staff):
    response = signed_in_client(staff).post("/maps/new/", _new_map_data(slug="bikes"), **HTMX)
    assert response.status_code == 204
    assert response["HX-Redirect"] == "/maps/bikes/annotate/"


def test_the_same_article_twice_reuses_its_source(staff):
    client = signed_in_client(staff)
    client.post("/maps/new/", _new_map_data(slug="first"))
    response = client.post("/maps/new/", _new_map_data(slug="second"), follow=True)
    assert Source.objects.count() == 1
    assert (
        ArgumentMap.objects.get(slug="second").source
        == ArgumentMap.objects.get(slug="first").source
    )
    shown = [str(message) for message in response.context["messages"]]
    assert views.SOURCE_REUSED.format(title="Bike lanes and trade") in shown


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("", services.SOURCE_EMPTY),
        (" \n\t ", services.SOURCE_EMPTY),
        (
            "x" * (services.SOURCE_MAX_CHARS + 1),
            services.SOURCE_TOO_LARGE.format(limit=f"{services.SOURCE_MAX_CHARS:,}"),
        ),
    ],
    ids=["empty", "blank", "huge"],
)
def test_an_empty_or_huge_article_is_refused_keeping_everything_typed(staff, text, message):
    data = _new_map_data(article_text=text, thesis="My carefully typed thesis")
    response = signed_in_client(staff).post("/maps/new/", data)
    assert response.status_code == 200
    form = response.context["form"]
    assert form.errors["article_text"] == [message]
    html = response_text(response)
    assert "My carefully typed thesis" in html and "The Daily" in html
    assert not ArgumentMap.objects.exists() and not Source.objects.exists()


def test_a_huge_article_answers_htmx_with_422_and_the_form(staff):
    data = _new_map_data(article_text="y" * (services.SOURCE_MAX_CHARS + 5))
    response = signed_in_client(staff).post("/maps/new/", data, **HTMX)
    assert response.status_code == 422
    assert "<html" not in response_text(response)
    assert "larger than" in response_text(response)


def test_a_taken_address_is_refused_and_leaves_no_new_source(staff, make_map):
    make_map(slug="taken")
    response = signed_in_client(staff).post(
        "/maps/new/", _new_map_data(slug="taken", article_text="A brand new article.")
    )
    assert response.status_code == 200
    assert response.context["form"].errors["slug"] == [services.MAP_SLUG_TAKEN.format(slug="taken")]
    assert not Source.objects.filter(text="A brand new article.").exists()


def test_the_reserved_address_new_is_refused(staff):
    response = signed_in_client(staff).post("/maps/new/", _new_map_data(slug="new"))
    assert response.context["form"].errors["slug"] == [
        curation_forms.SLUG_RESERVED.format(slug="new")
    ]


def test_a_title_without_latin_letters_needs_an_address(staff):
    response = signed_in_client(staff).post(
        "/maps/new/", _new_map_data(article_title="שלום עולם", map_title="")
    )
    assert response.context["form"].errors["slug"] == [curation_forms.SLUG_NEEDED]


# --- /maps/<slug>/annotate/ -----------------------------------------------------------------------


@pytest.fixture
def unicode_map(make_map) -> ArgumentMap:
    return make_map(slug="unicode", source_text=UNICODE_ARTICLE)


def _thesis(argument_map: ArgumentMap) -> Claim:
    return Claim.objects.get(map=argument_map, parent__isnull=True)


def _annotate(client, argument_map, passage: str):
    source = argument_map.source.text
    start = source.index(passage)  # Python str offsets: code points
    data = {
        "parent": _thesis(argument_map).pk,
        "stance": "support",
        "text": "",
        "quote_exact": passage,
        "quote_start": start,
        "quote_end": start + len(passage),
    }
    return client.post(f"/maps/{argument_map.slug}/annotate/", data)


def test_annotate_needs_login(unicode_map):
    response = signed_in_client(None).get("/maps/unicode/annotate/")
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/")


@pytest.mark.parametrize(
    ("role", "status"),
    [
        (None, 403),  # a signed-in non-member: the map's default role (writer)
        (Role.VIEWER, 403),
        (Role.SUGGESTER, 403),
        (Role.WRITER, 403),
        (Role.EDITOR, 200),
        (Role.MODERATOR, 200),
    ],
)
def test_only_editors_and_above_may_annotate(unicode_map, writer, role, status):
    if role is not None:
        add_member(unicode_map, writer, role)
    assert signed_in_client(writer).get("/maps/unicode/annotate/").status_code == status


def test_annotating_an_archived_map_is_refused_even_to_its_owner(unicode_map, owner):
    ArgumentMap.objects.filter(pk=unicode_map.pk).update(status=ArgumentMap.Status.ARCHIVED)
    assert signed_in_client(owner).get("/maps/unicode/annotate/").status_code == 403


def test_a_private_map_is_404_to_strangers(make_map, stranger):
    make_map(slug="secret", source_text=ARTICLE, visibility=ArgumentMap.Visibility.PRIVATE)
    assert signed_in_client(stranger).get("/maps/secret/annotate/").status_code == 404


def test_wrong_method_on_annotate_is_405(unicode_map, owner):
    assert signed_in_client(owner).delete("/maps/unicode/annotate/").status_code == 405


@pytest.mark.parametrize("who", ["owner", "editor", "staff"])
def test_owner_editor_and_staff_may_annotate(unicode_map, request, who):
    user = request.getfixturevalue(who)
    if who == "editor":
        add_member(unicode_map, user, Role.EDITOR)
    response = signed_in_client(user).get("/maps/unicode/annotate/")
    assert response.status_code == 200
    html = response_text(response)
    assert "data-annotate" in html and 'data-offset="0"' in html
    assert 'name="quote_start"' in html


def test_htmx_get_of_annotate_is_the_panel_fragment(unicode_map, owner):
    response = signed_in_client(owner).get("/maps/unicode/annotate/", **HTMX)
    html = response_text(response)
    assert "<html" not in html and 'id="annotate-panel"' in html


@pytest.mark.parametrize(
    "passage",
    [
        "“bike lanes” help 😀 trade",
        "שלום עולם: residents\u00a0agree 👍🏽",
        "Ca\u0301fe\u0301 owners",
        "“car-free” plan",
    ],
    ids=["curly-quotes-emoji", "rtl-nbsp-emoji-modifier", "combining-marks", "after-emoji"],
)
def test_a_unicode_passage_anchors_exactly(unicode_map, owner, passage):
    response = _annotate(signed_in_client(owner), unicode_map, passage)
    assert response.status_code == 302
    claim = Claim.objects.get(map=unicode_map, parent__isnull=False)
    assert claim.quote_exact == passage
    assert UNICODE_ARTICLE[claim.quote_start : claim.quote_end] == passage
    assert claim.text == " ".join(passage.split())  # prefilled from the passage
    assert claim.author == owner


def test_without_offsets_the_passage_is_found_by_its_text(unicode_map, owner):
    """The no-JavaScript way: paste the passage, nothing else."""
    response = signed_in_client(owner).post(
        "/maps/unicode/annotate/",
        {
            "parent": _thesis(unicode_map).pk,
            "stance": "counter",
            "text": "Residents agree",
            "quote_exact": "residents\u00a0agree 👍🏽",
        },
    )
    assert response.status_code == 302
    claim = Claim.objects.get(map=unicode_map, text="Residents agree")
    assert (claim.stance, UNICODE_ARTICLE[claim.quote_start : claim.quote_end]) == (
        "counter",
        "residents\u00a0agree 👍🏽",
    )


def test_offsets_in_utf16_units_are_refused_not_misanchored(unicode_map, owner):
    """A client that sent JavaScript string offsets (UTF-16) would point one place too far after
    each emoji; the server refuses rather than anchoring the wrong text."""
    passage = "“car-free” plan"
    start = len(UNICODE_ARTICLE[: UNICODE_ARTICLE.index(passage)].encode("utf-16-le")) // 2
    response = signed_in_client(owner).post(
        "/maps/unicode/annotate/",
        {
            "parent": _thesis(unicode_map).pk,
            "stance": "support",
            "text": "A plan",
            "quote_exact": passage,
            "quote_start": start,
            "quote_end": start + len(passage),
        },
    )
    assert response.status_code == 200
    assert "do not point at the quote" in str(response.context["form"].errors["quote_exact"])
    assert not Claim.objects.filter(text="A plan").exists()


def test_a_missing_passage_is_refused_keeping_the_text(unicode_map, owner):
    response = signed_in_client(owner).post(
        "/maps/unicode/annotate/",
        {"parent": _thesis(unicode_map).pk, "stance": "support", "text": "My own words"},
    )
    assert response.status_code == 200
    assert response.context["form"].errors["quote_exact"] == [curation_forms.QUOTE_NEEDED]
    assert "My own words" in response_text(response)


def test_an_ambiguous_passage_asks_for_context_and_context_resolves_it(make_map, owner):
    argument_map = make_map(slug="twice", source_text="Yes, it works. Then: yes, it works.")
    client = signed_in_client(owner)
    data = {"parent": _thesis(argument_map).pk, "stance": "support", "text": "It works"}
    refused = client.post("/maps/twice/annotate/", data | {"quote_exact": "it works"})
    assert "occurs 2 times" in str(refused.context["form"].errors["quote_exact"])
    accepted = client.post(
        "/maps/twice/annotate/", data | {"quote_exact": "it works", "quote_prefix": "Then: yes, "}
    )
    assert accepted.status_code == 302
    assert Claim.objects.get(text="It works").quote_start == len("Yes, it works. Then: yes, ")


def test_htmx_annotate_returns_the_panel_and_the_highlighted_article(unicode_map, owner):
    passage = "“bike lanes” help 😀 trade"
    start = UNICODE_ARTICLE.index(passage)
    response = signed_in_client(owner).post(
        "/maps/unicode/annotate/",
        {
            "parent": _thesis(unicode_map).pk,
            "stance": "support",
            "text": "",
            "quote_exact": passage,
            "quote_start": start,
            "quote_end": start + len(passage),
        },
        **HTMX,
    )
    assert response.status_code == 200
    html = response_text(response)
    claim = Claim.objects.get(map=unicode_map, parent__isnull=False)
    assert 'id="annotate-panel"' in html and "<html" not in html
    assert 'hx-swap-oob="true"' in html
    assert f'data-claims="{claim.pk}"' in html  # the new highlight in the article
    assert views.CLAIM_ADDED.format(text=claim.text).replace("“", "") in html.replace("“", "")


def test_htmx_annotate_error_is_422_with_the_panel(unicode_map, owner):
    response = signed_in_client(owner).post(
        "/maps/unicode/annotate/",
        {"parent": _thesis(unicode_map).pk, "stance": "support", "quote_exact": "not there"},
        **HTMX,
    )
    assert response.status_code == 422
    assert 'id="annotate-panel"' in response_text(response)
    assert not Claim.objects.filter(map=unicode_map, parent__isnull=False).exists()


def test_annotate_refuses_a_parent_of_another_map(unicode_map, make_map, owner):
    other = make_map(slug="other")
    response = signed_in_client(owner).post(
        "/maps/unicode/annotate/",
        {"parent": _thesis(other).pk, "stance": "support", "quote_exact": "Ca\u0301fe\u0301"},
    )
    assert response.status_code == 200
    assert "parent" in response.context["form"].errors


def test_a_map_without_a_source_says_so(make_map, owner):
    make_map(slug="bare")
    response = signed_in_client(owner).get("/maps/bare/annotate/")
    assert response.status_code == 200
    assert "no source article" in response_text(response)
