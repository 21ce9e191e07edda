"""Search on both databases: matching, ranking, escaped snippets, visibility and the views.

The same behavioural tests run on SQLite (the fallback) and PostgreSQL (full-text search); only
the index test is PostgreSQL's own.
"""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from argmap import search, services
from argmap.models import ArgumentMap, Claim, Comment, Role
from tests.conftest import add_member, claim_by_text, response_text, signed_in_client

pytestmark = pytest.mark.django_db

HTMX_RESULTS = {"HTTP_HX_REQUEST": "true", "HTTP_HX_TARGET": "search-results"}

PARKING = "Parking fees fund the new buses"
TRAMS = "Trams replace parking in the old town"
BIKES = "Bicycle lanes make streets calmer"


def _texts(results) -> list[str]:
    return [hit.snippet.replace("<mark>", "").replace("</mark>", "") for hit in results]


@pytest.fixture
def streets(make_map) -> ArgumentMap:
    return make_map(
        slug="streets",
        title="Streets for people",
        claims=[(None, "support", PARKING), (None, "counter", TRAMS), (None, "support", BIKES)],
    )


# -- matching and snippets -----------------------------------------------------------------------


def test_search_finds_claims_with_every_word_and_marks_them(streets, stranger):
    results = search.search_claims(user=stranger, query="parking buses")
    assert _texts(results) == [PARKING]
    snippet = results.hits[0].snippet
    assert "<mark>Parking</mark>" in snippet and "<mark>buses</mark>" in snippet
    assert results.hits[0].url == f"/maps/streets/claims/{claim_by_text(streets, PARKING).pk}/"


def test_search_needs_every_word(streets, stranger):
    assert not search.search_claims(user=stranger, query="parking bicycle")
    assert set(_texts(search.search_claims(user=stranger, query="parking"))) == {PARKING, TRAMS}


def test_search_is_case_insensitive(streets, stranger):
    assert _texts(search.search_claims(user=stranger, query="BICYCLE")) == [BIKES]


def test_empty_query_finds_nothing_without_touching_the_database(streets, stranger):
    with CaptureQueriesContext(connection) as queries:
        for query in ("", "   ", None):
            assert not search.search_claims(user=stranger, query=query)
            assert not search.search_maps(user=stranger, query=query)
    assert len(queries) == 0


def test_snippet_escapes_html_in_claims(make_map, stranger):
    argument_map = make_map(claims=[(None, "support", "<script>alert(1)</script> parking & <b>")])
    hit = search.search_claims(user=stranger, query="parking").hits[0]
    assert "<script>" not in hit.snippet and "<b>" not in hit.snippet
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in hit.snippet
    assert "&amp;" in hit.snippet
    page = response_text(signed_in_client(stranger).get("/search/", {"q": "parking"}))
    assert "&lt;script&gt;alert(1)" in page and "<script>alert(1)" not in page
    map_page = signed_in_client(stranger).get(f"/maps/{argument_map.slug}/search/?q=parking")
    assert "<script>alert(1)" not in response_text(map_page)


def test_marker_characters_typed_by_a_user_cannot_open_marks(make_map, stranger):
    make_map(claims=[(None, "support", f"parking {search.START}unclosed and {search.STOP} stray")])
    hit = search.search_claims(user=stranger, query="parking").hits[0]
    assert hit.snippet.count("<mark>") == hit.snippet.count("</mark>") == 1
    assert "<mark>parking</mark>" in hit.snippet


def test_marked_html_balances_and_escapes():
    marked = f"a<{search.START}b{search.START}c{search.STOP}{search.STOP}d{search.START}e"
    assert search.marked_html(marked) == "a&lt;<mark>bc</mark>d<mark>e</mark>"


def test_long_comment_snippet_is_an_excerpt_around_the_match(streets, writer):
    claim = claim_by_text(streets, BIKES)
    body = "Filler words. " * 80 + "The zebra crossing matters. " + "More filler. " * 80
    Comment.objects.create(map=streets, claim=claim, author=writer, body=body)
    hit = search.search_comments(user=writer, query="zebra", argument_map=streets).hits[0]
    assert "<mark>zebra</mark>" in hit.snippet
    assert len(hit.snippet) < len(body) / 3


def test_query_is_cut_to_the_limit():
    query, cut = search.clean_query("word " * 100)
    assert cut and len(query) <= search.MAX_QUERY_LENGTH
    assert search.clean_query("  two   words ") == ("two words", False)


# -- ranking -------------------------------------------------------------------------------------


def test_more_occurrences_rank_higher(make_map, stranger):
    once = (
        "A long claim where the word tariff appears only once among many other words about "
        "streets, squares, markets, schools and the harbour"
    )
    often = "Tariff after tariff: the tariff decides"
    make_map(claims=[(None, "support", once), (None, "counter", often)])
    assert _texts(search.search_claims(user=stranger, query="tariff")) == [often, once]


def test_title_match_ranks_above_description_match(make_map, stranger, owner):
    make_map(slug="desc", title="Harbour plans")
    ArgumentMap.objects.filter(slug="desc").update(description="The ferry timetable matters.")
    make_map(slug="title", title="Ferry timetable")
    results = search.search_maps(user=stranger, query="ferry timetable")
    assert [hit.map_slug for hit in results] == ["title", "desc"]
    assert "<mark>Ferry</mark>" in results.hits[0].title
    assert "<mark>ferry</mark>" in results.hits[1].snippet


# -- visibility ----------------------------------------------------------------------------------


def test_private_map_claims_never_reach_non_members(make_map, owner, writer, stranger):
    private = make_map(
        visibility=ArgumentMap.Visibility.PRIVATE, claims=[(None, "support", PARKING)]
    )
    add_member(private, writer, Role.VIEWER)
    anonymous = signed_in_client(None)
    for user in (stranger,):
        assert not search.search_claims(user=user, query="parking")
        assert not search.search_maps(user=user, query=private.title)
    assert "Parking" not in response_text(anonymous.get("/search/", {"q": "parking"}))
    assert anonymous.get(f"/maps/{private.slug}/search/", {"q": "parking"}).status_code == 404
    stranger_client = signed_in_client(stranger)
    assert stranger_client.get(f"/maps/{private.slug}/search/?q=parking").status_code == 404
    for user in (writer, owner):
        assert _texts(search.search_claims(user=user, query="parking")) == [PARKING]


def test_unlisted_map_is_found_only_inside_it_by_non_members(make_map, owner, stranger):
    unlisted = make_map(
        visibility=ArgumentMap.Visibility.UNLISTED, claims=[(None, "support", PARKING)]
    )
    assert not search.search_claims(user=stranger, query="parking")
    assert not search.search_maps(user=stranger, query=unlisted.title)
    inside = search.search_claims(user=stranger, query="parking", argument_map=unlisted)
    assert _texts(inside) == [PARKING]
    assert _texts(search.search_claims(user=owner, query="parking")) == [PARKING]


def test_pending_and_hidden_claims_only_for_author_and_moderators(
    streets, suggester, moderator, writer, stranger
):
    add_member(streets, moderator, Role.MODERATOR)
    add_member(streets, suggester, Role.SUGGESTER)
    thesis = Claim.objects.get(map=streets, parent=None)
    services.claim_add(
        parent=thesis,
        stance="support",
        text="Pending zebra crossings",
        by=suggester,
        status=Claim.Status.PENDING,
    )
    hidden = services.claim_add(
        parent=thesis, stance="counter", text="Hidden zebra rant", by=writer
    )
    Claim.objects.filter(pk=hidden.pk).update(status=Claim.Status.HIDDEN)

    def found(user) -> set[str]:
        return set(_texts(search.search_claims(user=user, query="zebra", argument_map=streets)))

    assert found(stranger) == set()
    assert found(suggester) == {"Pending zebra crossings"}
    assert found(writer) == {"Hidden zebra rant"}
    assert found(moderator) == {"Pending zebra crossings", "Hidden zebra rant"}
    assert found(streets.owner) == {"Pending zebra crossings", "Hidden zebra rant"}


def test_archived_claims_are_not_searched(streets, owner, staff):
    services.claim_archive(claim=claim_by_text(streets, BIKES), by=owner)
    for user in (owner, staff):
        assert not search.search_claims(user=user, query="bicycle")


def test_comment_visibility(streets, writer, suggester, moderator, stranger, staff):
    add_member(streets, moderator, Role.MODERATOR)
    claim = claim_by_text(streets, BIKES)
    statuses = {
        "visible": Comment.Status.VISIBLE,
        "pending": Comment.Status.PENDING,
        "hidden": Comment.Status.HIDDEN,
        "deleted": Comment.Status.DELETED,
    }
    for word, status in statuses.items():
        Comment.objects.create(
            map=streets, claim=claim, author=suggester, body=f"Walrus {word} remark", status=status
        )

    def found(user) -> set[str]:
        results = search.search_comments(user=user, query="walrus", argument_map=streets)
        return {text.split()[1] for text in _texts(results)}

    assert found(stranger) == found(writer) == {"visible"}
    assert found(suggester) == found(moderator) == found(staff) == {"visible", "pending", "hidden"}


def test_comments_of_private_maps_and_archived_claims_are_not_searched(
    make_map, owner, writer, stranger
):
    private = make_map(visibility=ArgumentMap.Visibility.PRIVATE, claims=[(None, "support", BIKES)])
    Comment.objects.create(
        map=private, claim=claim_by_text(private, BIKES), author=owner, body="Walrus secret"
    )
    assert not search.search_comments(user=stranger, query="walrus")
    assert len(search.search_comments(user=owner, query="walrus")) == 1
    services.claim_archive(claim=claim_by_text(private, BIKES), by=owner)
    assert not search.search_comments(user=owner, query="walrus")


# -- views ---------------------------------------------------------------------------------------


def test_search_page_has_a_plain_form_upgraded_by_htmx(streets, stranger):
    response = signed_in_client(stranger).get("/search/", {"q": "parking"})
    assert response.status_code == 200
    page = response_text(response)
    assert '<form class="search-form" method="get" action="/search/"' in page
    assert 'hx-trigger="input changed delay:250ms, search"' in page
    assert 'hx-target="#search-results"' in page and 'hx-push-url="true"' in page
    assert "<mark>Parking</mark> fees fund the new buses" in page
    assert page.count('class="search-hit search-hit-claim"') == 2


def test_htmx_request_for_the_results_gets_the_fragment(streets, stranger):
    client = signed_in_client(stranger)
    fragment = response_text(client.get("/search/", {"q": "bicycle"}, **HTMX_RESULTS))
    assert "<html" not in fragment and "<form" not in fragment
    assert "<mark>Bicycle</mark> lanes" in fragment
    # An htmx request aimed elsewhere (e.g. a boosted link) gets the whole page.
    other = response_text(client.get("/search/", {"q": "bicycle"}, HTTP_HX_REQUEST="true"))
    assert "<html" in other


def test_search_rejects_other_methods(streets, stranger):
    client = signed_in_client(stranger)
    assert client.post("/search/", {"q": "x"}).status_code == 405
    assert client.post("/maps/streets/search/", {"q": "x"}).status_code == 405


def test_empty_query_shows_the_form_and_no_results(streets):
    response = signed_in_client(None).get("/search/")
    assert response.status_code == 200
    assert 'class="search-hit' not in response_text(response)
    assert "Type a word or two" in response_text(response)


def test_anonymous_visitors_search_public_maps(streets):
    page = response_text(signed_in_client(None).get("/search/", {"q": "bicycle"}))
    assert "<mark>Bicycle</mark>" in page


def test_nothing_found_says_so(streets):
    page = response_text(signed_in_client(None).get("/search/", {"q": "xylophone"}))
    assert "Nothing found for “xylophone”" in page


def test_very_long_query_is_cut_with_a_notice(streets):
    response = signed_in_client(None).get("/search/", {"q": "bicycle " + "x" * 500})
    assert response.status_code == 200
    notice = search.QUERY_TRUNCATED.format(limit=search.MAX_QUERY_LENGTH)
    assert notice in response_text(response)
    fragment = signed_in_client(None).get("/search/", {"q": "y" * 300}, **HTMX_RESULTS)
    assert fragment.status_code == 200 and notice in response_text(fragment)


def test_map_search_finds_claims_and_comments_with_thread_links(streets, writer):
    claim = claim_by_text(streets, BIKES)
    comment = Comment.objects.create(
        map=streets, claim=claim, author=writer, body="Calmer streets need **bicycle** parking"
    )
    page = response_text(signed_in_client(writer).get("/maps/streets/search/", {"q": "bicycle"}))
    assert f'href="/maps/streets/claims/{claim.pk}/"' in page
    assert f'href="/maps/streets/claims/{claim.pk}/thread/#comment-{comment.pk}"' in page
    assert 'action="/maps/streets/search/"' in page


def test_map_search_stays_inside_its_map(streets, make_map, stranger):
    make_map(slug="elsewhere", claims=[(None, "support", "Bicycle lanes elsewhere")])
    page = response_text(signed_in_client(stranger).get("/maps/streets/search/", {"q": "bicycle"}))
    assert "Bicycle</mark> lanes make" in page and "elsewhere" not in page.split("<main")[1]


def test_results_are_paginated(make_map, stranger):
    texts = [f"Quokka reason number {n}" for n in range(search.PER_PAGE + 5)]
    make_map(claims=[(None, "support", text) for text in texts])
    client = signed_in_client(stranger)
    first = response_text(client.get("/search/", {"q": "quokka"}))
    assert first.count('class="search-hit search-hit-claim"') == search.PER_PAGE
    assert "page=2" in first and 'rel="next"' in first
    second = response_text(client.get("/search/", {"q": "quokka", "page": "2"}))
    assert second.count('class="search-hit search-hit-claim"') == 5
    assert 'rel="prev"' in second and 'rel="next"' not in second
    junk = response_text(client.get("/search/", {"q": "quokka", "page": "junk"}))
    assert junk.count('class="search-hit search-hit-claim"') == search.PER_PAGE


def test_query_count_does_not_grow_with_results(make_map, stranger):
    make_map(slug="few", claims=[(None, "support", f"Narwhal point {n}") for n in range(3)])
    make_map(slug="many", claims=[(None, "support", f"Okapi point {n}") for n in range(30)])
    client = signed_in_client(stranger)
    client.get("/")  # the session and user lookups are the same for every request below

    def count(url: str, query: str) -> int:
        with CaptureQueriesContext(connection) as queries:
            response = client.get(url, {"q": query})
        assert response.status_code == 200 and query.title() in response_text(response)
        return len(queries)

    counts = [count("/search/", "narwhal"), count("/search/", "okapi")]
    assert counts[0] == counts[1]
    in_map = [count("/maps/few/search/", "narwhal"), count("/maps/many/search/", "okapi")]
    assert in_map[0] == in_map[1]
    counts += in_map
    assert max(counts) <= 10


def test_header_and_map_page_have_search_forms(streets):
    client = signed_in_client(None)
    home = response_text(client.get("/"))
    assert 'class="site-search" method="get" action="/search/"' in home
    map_page = response_text(client.get("/maps/streets/"))
    assert 'action="/maps/streets/search/"' in map_page


@pytest.mark.skipif(connection.vendor != "postgresql", reason="GIN indexes exist on PostgreSQL")
def test_postgresql_uses_the_gin_indexes(streets):
    from argmap.search import search_vector

    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL enable_seqscan = off")
    plans = []
    for model, weights in (
        (Claim, {"text": "A"}),
        (Comment, {"body": "A"}),
        (ArgumentMap, {"title": "A", "description": "B"}),
    ):
        from django.contrib.postgres.search import SearchQuery

        query = SearchQuery("parking", search_type="websearch", config=search.CONFIG)
        queryset = model.objects.alias(document=search_vector(weights)).filter(document=query)
        plans.append(queryset.explain())
    assert "argmap_claim_search" in plans[0]
    assert "argmap_comment_search" in plans[1]
    assert "argmap_map_search" in plans[2]
