"""Page query counts do not grow with the map: 10 claims and 2,000 claims cost the same."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from argmap import services
from argmap.interchange import FORMAT, plan_document
from argmap.models import ArgumentMap, Claim
from tests.conftest import ARTICLE

pytestmark = pytest.mark.django_db

HTMX = {"HTTP_HX_REQUEST": "true"}

# Anonymous readers (no session, no user lookup):
# map + source, thesis with level 1, level 2, the shown claims' votes and comment counts (one
# query for all of them), article highlights, article text (a cache miss)
MAP_PAGE_QUERIES = 6
# map + source, the claim with its child counts, a page of its children, their votes and comments
EXPAND_QUERIES = 4
# map, claim + author, node, children, votes and comments of the claim and its children,
# ancestors (one CTE), article text for the quote
CLAIM_PAGE_QUERIES = 7
HOME_QUERIES = 1  # maps with claim counts and sources


def _big_document(size: int = 2000) -> dict:
    """thesis → 20 claims → 20 each (400) → the rest spread over level 3. Every claim quoted."""
    sentences = [f"Sentence number {n:05d} says something." for n in range(size)]
    text = "\n".join(sentences)
    offsets, position = [], 0
    for sentence in sentences:
        offsets.append((position, position + len(sentence)))
        position += len(sentence) + 1

    claims: list[dict] = []

    def add(parent, stance):
        n = len(claims)
        start, end = offsets[n]
        claims.append(
            {
                "id": f"c{n}",
                "parent": parent,
                "stance": stance,
                "text": f"Claim {n}",
                "quote": {"exact": sentences[n], "start": start, "end": end},
            }
        )
        return f"c{n}"

    thesis = add(None, None)
    level_one = [add(thesis, "support" if i % 3 else "counter") for i in range(20)]
    level_two = [
        add(parent, "counter" if i % 2 else "support") for parent in level_one for i in range(20)
    ]
    index = 0
    while len(claims) < size:
        add(level_two[index % len(level_two)], "support" if index % 2 else "counter")
        index += 1
    return {
        "format": FORMAT,
        "map": {"slug": "big", "title": "A big map"},
        "source": {"title": "A long article", "text": text},
        "claims": claims,
    }


@pytest.fixture
def small_map(make_map):
    """Ten claims over three levels, some quoted: the first view shows all of them."""
    return make_map(
        slug="small",
        source_text=ARTICLE,
        thesis_quote="Cities should ban cars",
        claims=[
            (None, "support", "Safer streets", "Car-free streets are safer"),
            (None, "support", "Better trade", "higher sales"),
            (None, "counter", "Harder deliveries", "deliveries get harder"),
            ("Safer streets", "support", "Children walk to school"),
            ("Safer streets", "counter", "Cyclists go faster"),
            ("Better trade", "support", "Cleaner air", "Air quality improves"),
            ("Better trade", "counter", "Rents go up"),
            ("Harder deliveries", "counter", "Cargo bikes"),
            ("Harder deliveries", "support", "Parking", "losing parking"),
        ],
    )


@pytest.fixture
def big_map(owner):
    return services.map_import(plan=plan_document(_big_document()), owner=owner)


def _count(client, url, **headers) -> tuple[int, str]:
    with CaptureQueriesContext(connection) as queries:
        response = client.get(url, **headers)
    assert response.status_code == 200, url
    return len(queries), response.content.decode()


def test_the_big_map_has_the_intended_shape(big_map):
    assert Claim.objects.filter(map=big_map).count() == 2000
    thesis = Claim.objects.get(map=big_map, parent=None)
    assert thesis.children.count() == 20
    assert all(claim.children.count() == 20 for claim in thesis.children.all())


def test_map_page_runs_the_same_queries_for_10_and_2000_claims(client, small_map, big_map):
    assert small_map.claims.count() == 10
    small, small_html = _count(client, "/maps/small/")
    big, big_html = _count(client, "/maps/big/")
    assert small == big == MAP_PAGE_QUERIES
    # Both first views really show three levels; the big one pages its children.
    assert 'aria-level="3"' in small_html and 'aria-level="3"' in big_html
    assert "Show 5 more of 5" in big_html
    assert big_html.count('role="treeitem"') == 1 + 15 + 15 * 15


def test_expand_runs_the_same_queries_for_10_and_2000_claims(client, small_map, big_map):
    small_parent = Claim.objects.get(map=small_map, text="Safer streets")
    big_parent = Claim.objects.filter(map=big_map, parent__parent__isnull=True).first()
    small, small_html = _count(
        client, f"/maps/small/claims/{small_parent.pk}/children/?level=2", **HTMX
    )
    big, big_html = _count(client, f"/maps/big/claims/{big_parent.pk}/children/?level=2", **HTMX)
    assert small == big == EXPAND_QUERIES
    assert small_html.count('role="treeitem"') == 2
    assert big_html.count('role="treeitem"') == 15


def test_show_more_page_runs_the_same_queries_as_the_first_page(client, big_map):
    parent = Claim.objects.filter(map=big_map, parent__parent__isnull=True).first()
    url = f"/maps/big/claims/{parent.pk}/children/"
    first, _ = _count(client, url + "?level=2", **HTMX)
    second, html = _count(client, url + "?offset=15&level=2", **HTMX)
    assert first == second == EXPAND_QUERIES
    assert html.count('role="treeitem"') == 5


def test_claim_page_runs_the_same_queries_for_10_and_2000_claims(client, small_map, big_map):
    small_claim = Claim.objects.get(map=small_map, text="Safer streets")
    deep = Claim.objects.filter(map=big_map, parent__parent__parent__isnull=False).first()
    small, _ = _count(client, f"/maps/small/claims/{small_claim.pk}/")
    big, big_html = _count(client, f"/maps/big/claims/{deep.pk}/")
    assert small == big == CLAIM_PAGE_QUERIES
    assert big_html.count("/maps/big/claims/") >= 3  # the breadcrumbs down to it


def test_home_runs_one_query_whatever_the_number_of_maps(client, make_map):
    make_map(claims=[(None, "support", "One")])
    one, _ = _count(client, "/")
    for _ in range(5):
        make_map(source_text=None, claims=[(None, "counter", "Two")])
    many, html = _count(client, "/")
    assert one == many == HOME_QUERIES
    assert html.count('class="map-card') == 6


def test_map_page_article_is_cached_until_the_map_changes(client, small_map):
    first, _ = _count(client, "/maps/small/")
    again, _ = _count(client, "/maps/small/")
    assert again == first - 2  # the highlights and the article text are not needed: cached
    thesis = Claim.objects.get(map=small_map, parent=None)
    services.claim_add(
        parent=thesis, stance="counter", text="Noise", quote=services.QuoteInput(exact="Noise")
    )
    changed, html = _count(client, "/maps/small/")
    assert changed == first
    noise = Claim.objects.get(map=small_map, text="Noise")
    assert f'data-claims="{noise.pk}"' in html
    assert ArgumentMap.objects.get(pk=small_map.pk).version == small_map.version + 1
