"""Search in a real browser: results arrive as you type (no Enter) and the address follows them,
so a reload keeps them; user text is shown escaped with the match in <mark>; the header box and
the map page's "Search this map" form land on the right results; a private map's claims never
show to a signed-in non-member, even for a moment while typing, but do to a member; and without
JavaScript the plain GET forms still work."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator

import pytest
from playwright.sync_api import Browser, Page, expect

from argmap import services
from argmap.models import ArgumentMap, Claim, Role
from tests.browser.conftest import make_user
from tests.conftest import add_member

TOLLS = "Tolls on <b>bold</b> bridges pay for their upkeep."
FERRIES = "Ferries cost less than a new bridge."
ELSEWHERE = "A bridge elsewhere carries only trains."
SECRET = "The zeppelin hangar stays secret until spring."
EMPTY_HINT = "Type a word or two"
TYPING_DELAY = 60  # ms between key presses: slower than nobody, faster than hx-trigger's 250 ms
NO_JS_WAIT = 800  # ms: long past hx-trigger's delay, had anything been listening


@pytest.fixture
def olivia(transactional_db):
    return make_user("olivia-owner")


@pytest.fixture
def maps(olivia) -> dict[str, ArgumentMap]:
    """Two public maps that both mention bridges, and a private one with a secret claim."""
    bridges = services.map_create(
        slug="bridges",
        title="River crossings",
        thesis="The city needs more crossings.",
        owner=olivia,
    )
    thesis = Claim.objects.get(map=bridges, parent__isnull=True)
    services.claim_add(parent=thesis, stance="support", text=TOLLS, by=olivia)
    services.claim_add(parent=thesis, stance="counter", text=FERRIES, by=olivia)
    other = services.map_create(
        slug="railways", title="Railways", thesis="Trains beat planes.", owner=olivia
    )
    services.claim_add(
        parent=Claim.objects.get(map=other, parent__isnull=True),
        stance="support",
        text=ELSEWHERE,
        by=olivia,
    )
    secret = services.map_create(
        slug="hangar",
        title="Hangar plans",
        thesis="We should rent out the hangar.",
        owner=olivia,
        visibility=ArgumentMap.Visibility.PRIVATE,
    )
    services.claim_add(
        parent=Claim.objects.get(map=secret, parent__isnull=True),
        stance="counter",
        text=SECRET,
        by=olivia,
    )
    return {"bridges": bridges, "railways": other, "hangar": secret}


def results(page: Page):
    return page.locator("#search-results")


def claim_hits(page: Page):
    return page.locator("#search-results .search-hit-claim")


def mark_not_reloaded(page: Page) -> None:
    page.evaluate("window.argmapNotReloaded = true")


def not_reloaded(page: Page) -> bool:
    return page.evaluate("window.argmapNotReloaded === true")


def test_results_come_as_you_type_the_address_follows_and_text_is_escaped(open_page, maps):
    page = open_page()
    page.goto("/search/")
    expect(results(page)).to_contain_text(EMPTY_HINT)
    expect(page.locator("#search-results .search-hit")).to_have_count(0)
    mark_not_reloaded(page)

    page.locator("#search-q").press_sequentially("tolls", delay=TYPING_DELAY)  # no Enter

    hit = claim_hits(page)
    expect(hit).to_have_count(1)
    expect(hit).to_contain_text("in River crossings")
    snippet = hit.locator("a.search-snippet")
    # The claim's markup is text on the page: no <b> element, the angle brackets visible.
    expect(snippet).to_have_text(TOLLS)
    expect(hit.locator("b")).to_have_count(0)
    expect(snippet.locator("mark")).to_have_text(["Tolls"])
    assert not_reloaded(page), "the results came by reloading the page, not as you type"
    expect(page).to_have_url(re.compile(r"/search/\?q=tolls$"))
    expect(page).to_have_title(re.compile("^“tolls” · Search"))

    # Typing on narrows to nothing, and the address follows again.
    page.locator("#search-q").press_sequentially(" zebra", delay=TYPING_DELAY)
    expect(results(page)).to_contain_text("Nothing found for “tolls zebra”.")
    expect(claim_hits(page)).to_have_count(0)
    expect(page).to_have_url(re.compile(r"/search/\?q=tolls(\+|%20)zebra$"))

    # Back goes to the previous results; a reload keeps what the address says.
    page.go_back()
    expect(page).to_have_url(re.compile(r"/search/\?q=tolls$"))
    expect(claim_hits(page)).to_have_count(1)
    page.reload()
    expect(page.locator("#search-q")).to_have_value("tolls")
    expect(claim_hits(page)).to_have_count(1)
    expect(claim_hits(page).locator("a.search-snippet")).to_have_text(TOLLS)
    expect(claim_hits(page).locator("mark")).to_have_text(["Tolls"])
    assert not not_reloaded(page)  # the reload really reloaded

    # Clearing the box empties the results as well.
    page.locator("#search-q").fill("")
    expect(results(page)).to_contain_text(EMPTY_HINT)
    expect(claim_hits(page)).to_have_count(0)


def test_the_header_box_searches_every_map_and_the_map_form_only_that_map(open_page, maps):
    page = open_page()
    page.goto("/")
    expect(page.locator("#search-results")).to_have_count(0)
    page.get_by_role("searchbox", name="Search maps and claims").fill("bridge")
    page.get_by_role("searchbox", name="Search maps and claims").press("Enter")

    expect(page).to_have_url(re.compile(r"/search/\?q=bridge$"))
    expect(page.get_by_role("heading", name="Search", exact=True)).to_be_visible()
    expect(page.locator("#search-q")).to_have_value("bridge")
    expect(claim_hits(page)).to_have_count(3)
    for text in (TOLLS, FERRIES, ELSEWHERE):
        expect(claim_hits(page).filter(has_text=text)).to_have_count(1)

    page.goto(maps["bridges"].get_absolute_url())
    form = page.locator("form.map-search")
    form.get_by_label("Search this map").fill("bridge")
    form.get_by_role("button", name="Search").click()

    expect(page).to_have_url(re.compile(r"/maps/bridges/search/\?q=bridge$"))
    expect(page.get_by_role("heading", name="Search this map")).to_be_visible()
    expect(page.locator(".breadcrumbs")).to_have_text("River crossings")
    expect(claim_hits(page)).to_have_count(2)
    expect(claim_hits(page).filter(has_text=ELSEWHERE)).to_have_count(0)  # another map's claim

    # Typing on this page searches this map too, and keeps its address.
    mark_not_reloaded(page)
    page.locator("#search-q").fill("")
    expect(claim_hits(page)).to_have_count(0)
    page.locator("#search-q").press_sequentially("trains", delay=TYPING_DELAY)
    expect(results(page)).to_contain_text("Nothing found for “trains”.")
    page.locator("#search-q").fill("")
    page.locator("#search-q").press_sequentially("ferries", delay=TYPING_DELAY)
    expect(claim_hits(page)).to_have_count(1)
    expect(claim_hits(page)).to_contain_text(FERRIES)
    expect(page).to_have_url(re.compile(r"/maps/bridges/search/\?q=ferries$"))
    assert not_reloaded(page)

    # The hit leads to the claim.
    claim_hits(page).locator("a.search-snippet").click()
    ferries = Claim.objects.get(text=FERRIES)
    expect(page).to_have_url(re.compile(rf"/maps/bridges/claims/{ferries.pk}/"))


LEAK_WATCH = """() => {
  window.__leaked = [];
  const region = document.getElementById('search-results');
  new MutationObserver(() => {
    for (const hit of region.querySelectorAll('.search-hit')) {
      if (/hangar|zeppelin/i.test(hit.textContent)) window.__leaked.push(hit.textContent.trim());
    }
  }).observe(region, {childList: true, subtree: true, characterData: true});
}"""


def type_and_watch(page: Page, query: str) -> None:
    """Type ``query`` letter by letter into the search page's box, recording any moment a hit
    mentions the private map (its title, thesis and claim say "hangar" or "zeppelin")."""
    page.goto("/search/")
    expect(results(page)).to_contain_text(EMPTY_HINT)
    page.evaluate(LEAK_WATCH)
    page.locator("#search-q").press_sequentially(query, delay=TYPING_DELAY)


def test_a_private_maps_claim_never_shows_to_a_non_member_but_does_to_a_member(open_page, maps):
    secret = maps["hangar"]
    sam, mia = make_user("sam-stranger"), make_user("mia-member")
    add_member(secret, mia, Role.VIEWER)

    outsider = open_page(sam)
    type_and_watch(outsider, "zeppelin")
    expect(results(outsider)).to_contain_text("Nothing found for “zeppelin”.")
    expect(outsider).to_have_url(re.compile(r"/search/\?q=zeppelin$"))
    expect(claim_hits(outsider)).to_have_count(0)
    outsider.locator("#search-q").fill("hangar")  # the map's title and its thesis too
    expect(results(outsider)).to_contain_text("Nothing found for “hangar”.")
    assert outsider.evaluate("window.__leaked") == []
    # The private map's own search is a 404 to them (asked with their cookies).
    response = outsider.request.get(f"{secret.get_absolute_url()}search/?q=zeppelin")
    assert response.status == 404
    assert "secret until spring" not in response.text()

    member = open_page(mia)
    type_and_watch(member, "zeppelin")
    hit = claim_hits(member)
    expect(hit).to_have_count(1)
    expect(hit.locator("a.search-snippet")).to_have_text(SECRET)
    expect(hit).to_contain_text("in Hangar plans")
    expect(hit.locator("mark")).to_have_text(["zeppelin"])
    assert member.evaluate("window.__leaked") != []  # the watch does see it when it is there


@pytest.fixture
def no_js_page(browser: Browser, asgi_server: str) -> Iterator[Callable[[], Page]]:
    """A page in a browser context with JavaScript switched off."""
    contexts = []

    def open_() -> Page:
        context = browser.new_context(base_url=asgi_server, java_script_enabled=False)
        contexts.append(context)
        return context.new_page()

    yield open_
    for context in contexts:
        context.close()


def test_without_javascript_the_plain_forms_still_search(no_js_page, maps):
    page = no_js_page()
    page.goto("/search/")
    box = page.locator("#search-q")
    box.fill("tolls")
    page.wait_for_timeout(NO_JS_WAIT)
    expect(results(page)).to_contain_text(EMPTY_HINT)  # nothing happens until the form is sent
    expect(page).to_have_url(re.compile(r"/search/$"))

    page.locator("form.search-form").get_by_role("button", name="Search").click()
    expect(page).to_have_url(re.compile(r"/search/\?q=tolls$"))
    expect(claim_hits(page)).to_have_count(1)
    expect(claim_hits(page).locator("a.search-snippet")).to_have_text(TOLLS)
    expect(claim_hits(page).locator("mark")).to_have_text(["Tolls"])

    page.get_by_role("searchbox", name="Search maps and claims").fill("ferries")
    page.get_by_role("searchbox", name="Search maps and claims").press("Enter")
    expect(page).to_have_url(re.compile(r"/search/\?q=ferries$"))
    expect(claim_hits(page)).to_have_count(1)
    expect(claim_hits(page)).to_contain_text(FERRIES)

    page.goto(maps["bridges"].get_absolute_url())
    form = page.locator("form.map-search")
    form.get_by_label("Search this map").fill("bridge")
    form.get_by_role("button", name="Search").click()
    expect(page).to_have_url(re.compile(r"/maps/bridges/search/\?q=bridge$"))
    expect(claim_hits(page)).to_have_count(2)
