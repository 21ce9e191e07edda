"""The reading views and the account pages, each against its HTTP contract (STYLE.md)."""

from __future__ import annotations

import json
import re
from html import unescape
from html.parser import HTMLParser

import pytest
from django.contrib.auth import get_user_model
from django.test import Client

from argmap import anchors
from argmap.models import ArgumentMap, Claim
from tests.conftest import PASSWORD, claim_by_text
from tests.conftest import response_text as _text
from tests.conftest import signed_in_client as _as

pytestmark = pytest.mark.django_db

HTMX = {"HTTP_HX_REQUEST": "true"}


class _Elements(HTMLParser):
    """Collects (tag, attrs) of every start tag, in document order."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.elements: list[tuple[str, dict[str, str | None]]] = []

    def handle_starttag(self, tag, attrs):
        self.elements.append((tag, dict(attrs)))


def _elements(html: str) -> list[tuple[str, dict[str, str | None]]]:
    parser = _Elements()
    parser.feed(html)
    return parser.elements


def _treeitems(html: str) -> list[dict[str, str | None]]:
    return [attrs for tag, attrs in _elements(html) if attrs.get("role") == "treeitem"]


def _claim_ids(html: str) -> list[int]:
    return [int(item["data-claim"]) for item in _treeitems(html)]


def _thesis(argument_map: ArgumentMap) -> Claim:
    return Claim.objects.get(map=argument_map, parent__isnull=True)


@pytest.fixture
def wide_map(make_map):
    """A map whose thesis has 20 children (a page is 15) and whose first child has 2."""
    children = [
        (None, "support" if n % 2 else "counter", f"Reason number {n:02d}") for n in range(20)
    ]
    grandchildren = [
        ("Reason number 00", "support", "Deeper support"),
        ("Reason number 00", "counter", "Deeper counter"),
    ]
    return make_map(slug="wide", claims=children + grandchildren)


# --- home ---------------------------------------------------------------------------------------


def test_home_lists_public_maps_featured_first_with_claim_counts(client, make_map):
    make_map(title="Featured map", featured=True, claims=[(None, "support", "One")])
    recent = make_map(
        title="Recent map", claims=[(None, "support", "One"), (None, "counter", "Two")]
    )
    make_map(title="Private map", visibility=ArgumentMap.Visibility.PRIVATE)
    make_map(title="Unlisted map", visibility=ArgumentMap.Visibility.UNLISTED)
    recent.save()  # the most recent activity, yet listed after the featured map

    response = client.get("/")

    assert response.status_code == 200
    html = _text(response)
    titles = re.findall(r'<h2><a href="/maps/[^"]+/">([^<]+)</a></h2>', html)
    assert titles == ["Featured map", "Recent map"]
    cards = html.split('<li class="map-card')[1:]
    assert "2 claims" in cards[0] and "Featured" in cards[0]
    assert "3 claims" in cards[1]


def test_home_without_maps_says_how_to_seed(client):
    response = client.get("/")
    assert response.status_code == 200
    assert "manage.py seed" in _text(response)


# --- map page -----------------------------------------------------------------------------------


def test_map_page_shows_the_thesis_and_two_levels_as_an_aria_tree(client, seeded_map):
    response = client.get("/maps/kaliningrad/")
    assert response.status_code == 200
    html = _text(response)
    thesis = _thesis(seeded_map)
    assert '<ul class="tree" role="tree" id="tree"' in html
    items = _treeitems(html)
    assert items[0]["data-claim"] == str(thesis.pk)
    assert items[0]["aria-level"] == "1" and items[0]["aria-expanded"] == "true"
    assert unescape(thesis.text) in unescape(html)
    levels = {item["aria-level"] for item in items}
    assert levels == {"1", "2", "3"}
    level_one = Claim.objects.filter(parent=thesis).count()
    assert sum(item["aria-level"] == "2" for item in items) == level_one
    for item in items:
        assert item["id"] == f"claim-{item['data-claim']}"
        assert item["aria-labelledby"] == f"text-{item['data-claim']}"
    # Level 3 is not loaded yet: a parent there is collapsed with an empty, hidden group.
    collapsed = [item for item in items if item.get("aria-expanded") == "false"]
    assert collapsed and all(item["aria-level"] == "3" for item in collapsed)
    assert 'role="group"' in html


def test_map_page_highlights_every_anchored_quote_and_shows_coverage(client, seeded_map):
    html = _text(client.get("/maps/kaliningrad/"))
    text = seeded_map.source.text
    quoted = {
        int(pk)
        for ids in re.findall(r'<a class="quote" [^>]*data-claims="([^"]+)"', html)
        for pk in ids.split()
    }
    assert quoted == set(Claim.objects.filter(map=seeded_map).values_list("pk", flat=True))
    spans = Claim.objects.filter(map=seeded_map).values_list("quote_start", "quote_end")
    touched, total = anchors.coverage(text, spans)
    assert total > 0 and touched > 0
    percent = round(100 * touched / total)
    assert (
        f"The map anchors <strong>{percent}%</strong> of the article: "
        f"{touched} of {total} sentences." in html
    )


def test_article_links_follow_a_renamed_map(client, seeded_map):
    assert client.get("/maps/kaliningrad/").status_code == 200  # fills the article cache
    seeded_map.slug = "kaliningrad-renamed"
    seeded_map.save()  # what ArgumentMapAdmin does on a change
    html = _text(client.get("/maps/kaliningrad-renamed/"))
    links = re.findall(r'<a class="quote" href="([^"]+)"', html)
    assert links
    assert all(link.startswith("/maps/kaliningrad-renamed/claims/") for link in links)


def test_map_page_escapes_markup_in_the_source_and_claims(client, make_map):
    article = "Intro line.\nThe <script>alert(1)</script> line is here."
    make_map(
        slug="xss",
        source_text=article,
        thesis="<b>Bold</b> thesis",
        claims=[(None, "support", "<img src=x onerror=alert(1)>", "<script>alert(1)</script>")],
    )
    html = _text(client.get("/maps/xss/"))
    assert "<script>alert(1)</script>" not in html
    assert "<img src=x" not in html and "<b>Bold</b>" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html


def test_map_page_without_source_has_no_article(client, make_map):
    make_map(slug="plain")
    response = client.get("/maps/plain/")
    assert response.status_code == 200
    assert 'id="article"' not in _text(response)


def test_unknown_map_is_404(client):
    assert client.get("/maps/no-such-map/").status_code == 404


# --- claim page ---------------------------------------------------------------------------------


def test_claim_page_shows_its_path_to_the_thesis_and_its_quote_in_context(client, seeded_map):
    claim = Claim.objects.filter(map=seeded_map, parent__parent__parent__isnull=False).first()
    response = client.get(f"/maps/kaliningrad/claims/{claim.pk}/")
    assert response.status_code == 200
    html = _text(response)
    crumbs = html.split('aria-label="Path to the thesis"')[1].split("</nav>")[0]
    crumb_links = re.findall(r'<a href="([^"]+)">', crumbs)
    path, node = [], claim.parent
    while node is not None:
        path.insert(0, f"/maps/kaliningrad/claims/{node.pk}/")
        node = node.parent
    assert crumb_links == ["/maps/kaliningrad/", *path]
    assert f"<mark>{claim.quote_exact}</mark>" in unescape(html)
    before = seeded_map.source.text[claim.quote_start - 40 : claim.quote_start]
    assert f"{before}<mark>" in unescape(html)
    assert f'<h1 class="claim-title">{claim.text}</h1>' in unescape(html)


def test_claim_page_lists_its_children_as_tree_items(client, seeded_map):
    thesis = _thesis(seeded_map)
    html = _text(client.get(f"/maps/kaliningrad/claims/{thesis.pk}/"))
    children = Claim.objects.children_of(thesis.pk).values_list("pk", flat=True)
    assert _claim_ids(html) == list(children)


def test_leaf_claim_page_says_nothing_is_under_it(client, make_map):
    argument_map = make_map(claims=[(None, "support", "Leaf")])
    leaf = claim_by_text(argument_map, "Leaf")
    html = _text(client.get(f"/maps/{argument_map.slug}/claims/{leaf.pk}/"))
    assert "Nothing supports or counters this claim yet." in html


def test_claim_of_another_map_is_404(client, make_map):
    first = make_map(claims=[(None, "support", "Mine")])
    second = make_map()
    mine = claim_by_text(first, "Mine")
    assert client.get(f"/maps/{second.slug}/claims/{mine.pk}/").status_code == 404
    assert client.get(f"/maps/{first.slug}/claims/{mine.pk}/").status_code == 200
    children_url = f"/maps/{second.slug}/claims/{mine.pk}/children/"
    assert client.get(children_url, **HTMX).status_code == 404


@pytest.mark.parametrize("pk", [987654, 2**63 + 5])
def test_unknown_claim_is_404(client, seeded_map, pk):
    assert client.get(f"/maps/kaliningrad/claims/{pk}/").status_code == 404
    assert client.get(f"/maps/kaliningrad/claims/{pk}/children/", **HTMX).status_code == 404


@pytest.mark.parametrize("status", ["hidden", "pending", "archived"])
def test_claim_that_is_not_published_is_404(client, make_map, status):
    argument_map = make_map(claims=[(None, "support", "Gone")])
    Claim.objects.filter(text="Gone").update(status=status)
    gone = claim_by_text(argument_map, "Gone")
    assert client.get(f"/maps/{argument_map.slug}/claims/{gone.pk}/").status_code == 404
    assert "Gone" not in _text(client.get(f"/maps/{argument_map.slug}/"))


# --- children fragment --------------------------------------------------------------------------


def test_expand_with_htmx_returns_only_the_tree_items(client, seeded_map):
    thesis = _thesis(seeded_map)
    parent = Claim.objects.filter(parent=thesis).first()
    response = client.get(f"/maps/kaliningrad/claims/{parent.pk}/children/?level=2", **HTMX)
    assert response.status_code == 200
    html = _text(response)
    assert html.startswith('<li role="treeitem"')
    assert "<html" not in html and "<body" not in html and "<head" not in html
    assert _claim_ids(html) == list(
        Claim.objects.children_of(parent.pk).values_list("pk", flat=True)
    )
    assert {item["aria-level"] for item in _treeitems(html)} == {"2"}


def test_expand_without_htmx_redirects_to_the_claim_page(client, seeded_map):
    thesis = _thesis(seeded_map)
    response = client.get(f"/maps/kaliningrad/claims/{thesis.pk}/children/")
    assert response.status_code == 302
    assert response["Location"] == f"/maps/kaliningrad/claims/{thesis.pk}/"


def test_show_more_without_htmx_redirects_keeping_the_offset(client, wide_map):
    thesis = _thesis(wide_map)
    response = client.get(f"/maps/wide/claims/{thesis.pk}/children/?offset=15&level=2")
    assert response.status_code == 302
    assert response["Location"] == f"/maps/wide/claims/{thesis.pk}/?offset=15"
    page = client.get(response["Location"])
    assert page.status_code == 200
    assert len(_claim_ids(_text(page))) == 5


@pytest.mark.parametrize("offset", ["-3", "abc", "1e3", ""])
def test_show_more_without_htmx_drops_an_invalid_offset(client, wide_map, offset):
    thesis = _thesis(wide_map)
    response = client.get(f"/maps/wide/claims/{thesis.pk}/children/", {"offset": offset})
    assert response.status_code == 302
    assert response["Location"] == f"/maps/wide/claims/{thesis.pk}/"


@pytest.mark.parametrize("offset", ["²", "9" * 5000])
def test_show_more_without_htmx_survives_digit_like_offsets(client, wide_map, offset):
    thesis = _thesis(wide_map)
    client.raise_request_exception = False
    response = client.get(f"/maps/wide/claims/{thesis.pk}/children/", {"offset": offset})
    assert response.status_code == 302


@pytest.mark.parametrize(
    "query",
    [
        {"offset": "abc"},
        {"offset": "-5"},
        {"offset": "99999999999999999999999"},
        {"offset": "9" * 5000},
        {"offset": "²"},
        {"level": "abc"},
        {"level": "-1"},
        {"level": "0"},
        {"level": "1e9"},
        {"level": "9" * 5000},
        {"offset": "", "level": ""},
        {"offset": "1.5", "level": "2.5"},
    ],
)
def test_garbage_paging_parameters_do_not_fail(client, wide_map, query):
    thesis = _thesis(wide_map)
    client.raise_request_exception = False
    url = f"/maps/wide/claims/{thesis.pk}/"
    assert client.get(url + "children/", query, **HTMX).status_code == 200
    assert client.get(url, query).status_code == 200


def test_show_more_appears_past_a_page_and_the_next_page_continues(client, wide_map):
    thesis = _thesis(wide_map)
    all_children = list(Claim.objects.children_of(thesis.pk).values_list("pk", flat=True))
    assert len(all_children) == 20

    html = _text(client.get("/maps/wide/"))
    first_page = [int(item["data-claim"]) for item in _treeitems(html) if item["aria-level"] == "2"]
    assert first_page == all_children[:15]
    more = re.search(
        rf'<li role="none" class="more" id="more-{thesis.pk}-15">'
        rf'<a href="([^"]+)" hx-get="([^"]+)"[^>]*>Show 5 more of 5</a>',
        html,
    )
    assert more, "no 'Show 5 more' link"
    href, hx_get = unescape(more.group(1)), unescape(more.group(2))
    assert href == f"/maps/wide/claims/{thesis.pk}/?offset=15"

    fragment = _text(client.get(hx_get, **HTMX))
    second_page = _claim_ids(fragment)
    assert second_page == all_children[15:]
    assert {item["aria-level"] for item in _treeitems(fragment)} == {"2"}
    assert "Show" not in fragment  # nothing left after the second page


def test_a_middle_page_offers_the_rest(client, wide_map, settings):
    settings.ARGMAP_PAGE_SIZE = 8
    thesis = _thesis(wide_map)
    fragment = _text(
        client.get(f"/maps/wide/claims/{thesis.pk}/children/?offset=8&level=2", **HTMX)
    )
    all_children = list(Claim.objects.children_of(thesis.pk).values_list("pk", flat=True))
    assert _claim_ids(fragment) == all_children[8:16]
    assert f'id="more-{thesis.pk}-16"' in fragment
    assert "Show 4 more of 4" in fragment


def test_claim_page_offset_shows_the_later_children(client, wide_map):
    thesis = _thesis(wide_map)
    all_children = list(Claim.objects.children_of(thesis.pk).values_list("pk", flat=True))
    html = _text(client.get(f"/maps/wide/claims/{thesis.pk}/?offset=15"))
    assert _claim_ids(html) == all_children[15:]


# --- methods ------------------------------------------------------------------------------------


def test_read_views_refuse_post(client, seeded_map):
    thesis = _thesis(seeded_map)
    for url in [
        "/",
        "/maps/kaliningrad/",
        f"/maps/kaliningrad/claims/{thesis.pk}/",
        f"/maps/kaliningrad/claims/{thesis.pk}/children/",
    ]:
        assert client.post(url).status_code == 405, url
        assert client.post(url, **HTMX).status_code == 405, url
        assert client.get(url, **HTMX).status_code == 200, url


# --- private maps -------------------------------------------------------------------------------


@pytest.fixture
def private_map(make_map, owner):
    return make_map(
        slug="secret",
        owner=owner,
        visibility=ArgumentMap.Visibility.PRIVATE,
        claims=[(None, "support", "Hidden reason"), ("Hidden reason", "counter", "Deeper")],
    )


def _private_urls(private_map) -> list[tuple[str, dict]]:
    reason = claim_by_text(private_map, "Hidden reason")
    return [
        ("/maps/secret/", {}),
        (f"/maps/secret/claims/{reason.pk}/", {}),
        (f"/maps/secret/claims/{reason.pk}/children/", HTMX),
    ]


@pytest.mark.parametrize("who", ["anonymous", "stranger", "writer"])
def test_private_map_is_404_to_others(request, private_map, who):
    client = _as(None if who == "anonymous" else request.getfixturevalue(who))
    for url, headers in _private_urls(private_map):
        assert client.get(url, **headers).status_code == 404, url
    assert "secret" not in _text(client.get("/"))


@pytest.mark.parametrize("who", ["owner", "staff", "admin_user"])
def test_private_map_opens_for_its_owner_and_staff(request, private_map, who):
    client = _as(request.getfixturevalue(who))
    for url, headers in _private_urls(private_map):
        response = client.get(url, **headers)
        assert response.status_code == 200, url
    assert "Hidden reason" in _text(client.get("/maps/secret/"))


def test_unlisted_map_opens_by_its_address(client, make_map):
    make_map(slug="quiet", title="Quiet map", visibility=ArgumentMap.Visibility.UNLISTED)
    assert client.get("/maps/quiet/").status_code == 200
    assert "Quiet map" not in _text(client.get("/"))


# --- accounts -----------------------------------------------------------------------------------


def test_signup_creates_the_user_and_logs_them_in(client):
    response = client.post(
        "/accounts/signup/",
        {"username": "newcomer", "password1": PASSWORD, "password2": PASSWORD},
    )
    assert response.status_code == 302
    assert response["Location"] == "/"
    user = get_user_model().objects.get(username="newcomer")
    assert client.session["_auth_user_id"] == str(user.pk)
    assert "Signed in as <strong>newcomer</strong>" in _text(client.get("/"))


@pytest.mark.parametrize(
    "data",
    [
        {"username": "newcomer", "password1": PASSWORD, "password2": PASSWORD + "x"},
        {"username": "newcomer", "password1": "123", "password2": "123"},
        {"username": "", "password1": PASSWORD, "password2": PASSWORD},
        {"username": "walter-writer", "password1": PASSWORD, "password2": PASSWORD},
    ],
    ids=["mismatch", "weak-password", "no-username", "taken-username"],
)
def test_invalid_signup_re_renders_with_errors(client, writer, data):
    users = get_user_model().objects.count()
    response = client.post("/accounts/signup/", data)
    assert response.status_code == 200
    assert 'class="errorlist' in _text(response)
    assert get_user_model().objects.count() == users
    assert "_auth_user_id" not in client.session


def test_signup_page_redirects_a_signed_in_user(writer):
    assert _as(writer).get("/accounts/signup/").status_code == 302


def test_login_and_logout(client, writer):
    response = client.post("/accounts/login/", {"username": "walter-writer", "password": PASSWORD})
    assert response.status_code == 302
    assert client.session["_auth_user_id"] == str(writer.pk)
    assert client.get("/accounts/logout/").status_code == 405  # logging out is a POST
    assert "_auth_user_id" in client.session
    response = client.post("/accounts/logout/")
    assert response.status_code == 302 and response["Location"] == "/"
    assert "_auth_user_id" not in client.session


def test_login_with_a_wrong_password_re_renders_with_an_error(client, writer):
    response = client.post("/accounts/login/", {"username": "walter-writer", "password": "no"})
    assert response.status_code == 200
    assert "errorlist" in _text(response)
    assert "_auth_user_id" not in client.session


def test_password_change_needs_a_login(client):
    response = client.get("/accounts/password/")
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/?next=")


def test_password_change_works(writer):
    client = _as(writer)
    new = "a-brand-new-passphrase-77"
    response = client.post(
        "/accounts/password/",
        {"old_password": PASSWORD, "new_password1": new, "new_password2": new},
    )
    assert response.status_code == 302
    assert response["Location"] == "/accounts/password/done/"
    assert client.get("/accounts/password/done/").status_code == 200
    writer.refresh_from_db()
    assert writer.check_password(new)
    assert Client().login(username="walter-writer", password=new)


def test_password_change_with_a_wrong_old_password_changes_nothing(writer):
    new = "a-brand-new-passphrase-77"
    response = _as(writer).post(
        "/accounts/password/",
        {"old_password": "wrong", "new_password1": new, "new_password2": new},
    )
    assert response.status_code == 200
    writer.refresh_from_db()
    assert writer.check_password(PASSWORD)


# --- CSP, htmx config, CSRF ---------------------------------------------------------------------


@pytest.mark.parametrize("url", ["/", "/maps/kaliningrad/", "/accounts/login/"])
def test_csp_header_carries_a_nonce_that_every_script_tag_has(client, seeded_map, url):
    response = client.get(url)
    policy = response["Content-Security-Policy"]
    directives = dict(
        (part.split()[0], part.split()[1:]) for part in policy.split(";") if part.strip()
    )
    nonces = [value for value in directives["script-src"] if value.startswith("'nonce-")]
    assert len(nonces) == 1
    nonce = nonces[0][len("'nonce-") : -1]
    assert len(nonce) >= 16
    assert "'unsafe-inline'" not in policy and "'unsafe-eval'" not in policy
    assert directives["object-src"] == ["'none'"]
    assert directives["default-src"] == ["'self'"]
    scripts = [attrs for tag, attrs in _elements(_text(response)) if tag == "script"]
    assert scripts
    assert all(attrs.get("nonce") == nonce for attrs in scripts), scripts
    assert any("htmx" in (attrs.get("src") or "") for attrs in scripts)


def test_csp_nonce_changes_per_response(client):
    first = client.get("/")["Content-Security-Policy"]
    second = client.get("/")["Content-Security-Policy"]
    assert first != second


def test_htmx_config_meta_is_hardened_and_in_the_head(client, seeded_map):
    html = _text(client.get("/maps/kaliningrad/"))
    head = html.split("<head>", 1)[1].split("</head>", 1)[0]
    metas = [
        attrs
        for tag, attrs in _elements(html)
        if tag == "meta" and attrs.get("name") == "htmx-config"
    ]
    assert len(metas) == 1
    assert 'name="htmx-config"' in head
    config = json.loads(metas[0]["content"])
    assert config["allowEval"] is False
    assert config["allowScriptTags"] is False
    assert config["includeIndicatorStyles"] is False
    assert config["historyCacheSize"] == 0
    # It precedes any script, so htmx reads it before doing anything.
    assert head.index("htmx-config") < head.index("<script")


def test_body_sends_a_working_csrf_token_with_every_htmx_request(writer):
    client = Client(enforce_csrf_checks=True)
    client.force_login(writer)
    html = _text(client.get("/"))
    body = next(attrs for tag, attrs in _elements(html) if tag == "body")
    token = json.loads(body["hx-headers"])["X-CSRFToken"]
    assert token
    # Without the header the POST is refused; with it (as htmx sends it) it goes through.
    assert client.post("/accounts/logout/").status_code == 403
    response = client.post("/accounts/logout/", HTTP_X_CSRFTOKEN=token)
    assert response.status_code == 302
    assert "_auth_user_id" not in client.session


def test_pages_have_no_inline_styles_or_handlers_that_the_csp_would_block(
    client, seeded_map, wide_map
):
    thesis = _thesis(seeded_map)
    for url in ["/", "/maps/kaliningrad/", f"/maps/kaliningrad/claims/{thesis.pk}/", "/maps/wide/"]:
        html = _text(client.get(url))
        assert "<style" not in html, url
        for tag, attrs in _elements(html):
            assert "style" not in attrs, (url, tag, attrs)
            assert not [name for name in attrs if name.startswith("on")], (url, tag, attrs)
            if tag == "script":
                assert attrs.get("src"), (url, "inline script")


def test_every_htmx_link_keeps_an_href_that_works_without_javascript(client, wide_map):
    html = _text(client.get("/maps/wide/"))
    links = [attrs for tag, attrs in _elements(html) if tag == "a" and "hx-get" in attrs]
    assert len(links) >= 2  # expand toggles and "show more"
    # The only non-link that fetches is the background pull of live changes.
    others = [attrs for tag, attrs in _elements(html) if tag != "a" and "hx-get" in attrs]
    assert [attrs["id"] for attrs in others] == ["live-pull"]
    for attrs in links:
        assert attrs.get("href"), attrs
        response = client.get(attrs["href"])
        assert response.status_code == 200, attrs["href"]
        fragment = client.get(attrs["hx-get"], **HTMX)
        assert fragment.status_code == 200, attrs["hx-get"]
        assert _treeitems(_text(fragment)), attrs["hx-get"]
