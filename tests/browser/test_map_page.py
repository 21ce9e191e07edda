"""The map page in a real browser: the first view, htmx expand, the keyboard, the article link.

Claim ids change from test to test (the database is flushed and re-seeded), so
every test finds its claims through the ORM by their place in the tree, never by a fixed id.
"""

from __future__ import annotations

import re

import pytest
from django.conf import settings
from playwright.sync_api import Locator, Page, expect

from argmap import anchors, services
from argmap.models import ArgumentMap, Claim
from tests.browser.conftest import children

ACTIVE = re.compile(r"\bactive\b")
CITED = re.compile(r"\bcited\b")
LINKED = re.compile(r"\blinked\b")


def item(page: Page, claim: Claim) -> Locator:
    return page.locator(f"#claim-{claim.pk}")


def toggle(page: Page, claim: Claim) -> Locator:
    return page.locator(f"#claim-{claim.pk} > .claim-row > a.toggle")


def group(page: Page, claim: Claim) -> Locator:
    return page.locator(f"#group-{claim.pk}")


def first_view(thesis: Claim) -> list[Claim]:
    """The claims the map page shows, in reading order: the thesis and two levels below it."""
    shown = [thesis]
    for level2 in children(thesis):
        shown += [level2, *children(level2)]
    return shown


def expect_one_tab_stop(page: Page, on: Claim) -> None:
    """The roving tabindex: exactly one element of the tree is in the Tab order."""
    expect(page.locator('#tree [tabindex="0"]')).to_have_count(1)
    expect(item(page, on)).to_have_attribute("tabindex", "0")


def test_map_page_shows_the_thesis_two_levels_and_the_highlighted_article(
    page: Page, map_url: str, seeded_map: ArgumentMap, thesis: Claim, collapsed_claim: Claim
):
    page.goto(map_url)

    expect(item(page, thesis)).to_be_visible()
    expect(item(page, thesis)).to_have_attribute("aria-level", "1")
    expect(item(page, thesis)).to_have_attribute("aria-expanded", "true")
    expect(item(page, thesis).locator(":scope > .claim-row .stance")).to_have_text("Thesis")
    level2 = children(thesis)
    level3 = [claim for parent in level2 for claim in children(parent)]
    expect(page.locator('#tree [role="treeitem"][aria-level="2"]:visible')).to_have_count(
        len(level2)
    )
    expect(page.locator('#tree [role="treeitem"][aria-level="3"]:visible')).to_have_count(
        len(level3)
    )
    expect(page.locator('#tree [role="treeitem"][aria-level="4"]')).to_have_count(0)
    expect(item(page, collapsed_claim)).to_have_attribute("aria-expanded", "false")
    expect(group(page, collapsed_claim)).to_be_hidden()
    expect_one_tab_stop(page, on=thesis)

    # Every anchored claim has its quote highlighted, and the highlight links to that claim.
    anchored = Claim.objects.visible_to(None).in_map(seeded_map).anchored()
    highlighted = page.eval_on_selector_all(
        "#article a.quote", "quotes => quotes.flatMap(q => q.dataset.claims.split(' '))"
    )
    assert {str(claim.pk) for claim in anchored} == set(highlighted)
    expect(page.locator(f'#article a.quote[data-claims~="{thesis.pk}"]').first).to_be_visible()

    touched, total = anchors.coverage(
        seeded_map.source.text, [(c.quote_start, c.quote_end) for c in anchored]
    )
    expect(page.locator("#coverage")).to_contain_text(
        f"{round(100 * touched / total)}% of the article: {touched} of {total} sentences"
    )


def test_desktop_map_page_puts_the_article_beside_the_tree(page: Page, map_url: str):
    page.set_viewport_size({"width": 1280, "height": 800})
    page.goto(map_url)

    tree = page.locator(".tree-panel").bounding_box()
    article = page.locator(".article-panel").bounding_box()
    assert tree and article
    assert article["x"] >= tree["x"] + tree["width"], "the article sits to the right of the tree"
    assert 0.5 < tree["width"] / (tree["width"] + article["width"]) < 0.7
    # The panel scrolls on its own, so the article stays in view beside a long tree.
    assert page.locator(".article-panel").evaluate("el => getComputedStyle(el).position") == (
        "sticky"
    )


def test_map_page_fits_a_phone_screen_without_horizontal_scrolling(
    page: Page, map_url: str, collapsed_claim: Claim
):
    page.set_viewport_size({"width": 375, "height": 812})
    page.goto(map_url)
    # Open two more levels: the deepest rows are the narrowest.
    toggle(page, collapsed_claim).click()
    deeper = next(claim for claim in children(collapsed_claim) if children(claim))
    toggle(page, deeper).click()
    expect(item(page, children(deeper)[0])).to_be_visible()

    scroll_width, inner_width = page.evaluate(
        "[document.documentElement.scrollWidth, window.innerWidth]"
    )
    assert scroll_width <= inner_width
    tree = page.locator(".tree-panel").bounding_box()
    article = page.locator(".article-panel").bounding_box()
    assert tree and article
    assert article["y"] >= tree["y"] + tree["height"], "one column: the article below the tree"


def test_clicking_a_toggle_loads_the_children_with_htmx_and_stays_on_the_page(
    page: Page, map_url: str, collapsed_claim: Claim
):
    page.goto(map_url)
    kids = children(collapsed_claim)

    with page.expect_request(f"**/claims/{collapsed_claim.pk}/children/?level=4") as request:
        toggle(page, collapsed_claim).click()
    assert request.value.headers.get("hx-request") == "true"

    expect(item(page, collapsed_claim)).to_have_attribute("aria-expanded", "true")
    expect(group(page, collapsed_claim)).to_have_attribute("data-loaded", "true")
    for kid in kids:
        expect(item(page, kid)).to_be_visible()
        expect(item(page, kid)).to_have_attribute("aria-level", "4")
    expect(item(page, collapsed_claim)).to_be_focused()
    expect_one_tab_stop(page, on=collapsed_claim)
    assert page.url == map_url

    # Closing and reopening reuses the loaded children: no second request.
    fetched: list[str] = []
    page.on("request", lambda req: fetched.append(req.url) if "/children/" in req.url else None)
    toggle(page, collapsed_claim).click()
    expect(item(page, collapsed_claim)).to_have_attribute("aria-expanded", "false")
    expect(group(page, collapsed_claim)).to_be_hidden()
    toggle(page, collapsed_claim).click()
    expect(item(page, kids[0])).to_be_visible()
    assert fetched == []


def test_keyboard_alone_moves_through_expands_and_collapses_the_tree(
    page: Page, map_url: str, thesis: Claim, collapsed_claim: Claim
):
    page.goto(map_url)
    shown = first_view(thesis)
    kids = children(collapsed_claim)

    # The tree is a single Tab stop, and it starts on the thesis.
    for _ in range(15):
        page.keyboard.press("Tab")
        if page.evaluate("document.activeElement.id") == f"claim-{thesis.pk}":
            break
    expect(item(page, thesis)).to_be_focused()

    # Down walks the visible items in reading order.
    for claim in shown[1 : shown.index(collapsed_claim) + 1]:
        page.keyboard.press("ArrowDown")
        expect(item(page, claim)).to_be_focused()

    # Right on a collapsed item loads and opens it, and focus stays put...
    page.keyboard.press("ArrowRight")
    expect(item(page, collapsed_claim)).to_have_attribute("aria-expanded", "true")
    expect(item(page, kids[0])).to_be_visible()
    expect(item(page, collapsed_claim)).to_be_focused()
    # ...Right again steps into the first child, Up comes back, Left from a child goes to it.
    page.keyboard.press("ArrowRight")
    expect(item(page, kids[0])).to_be_focused()
    page.keyboard.press("ArrowUp")
    expect(item(page, collapsed_claim)).to_be_focused()
    page.keyboard.press("ArrowDown")
    expect(item(page, kids[0])).to_be_focused()
    page.keyboard.press("ArrowLeft")
    expect(item(page, collapsed_claim)).to_be_focused()

    # Left on an open item closes it; Down then skips the hidden children.
    page.keyboard.press("ArrowLeft")
    expect(item(page, collapsed_claim)).to_have_attribute("aria-expanded", "false")
    expect(group(page, collapsed_claim)).to_be_hidden()
    page.keyboard.press("ArrowDown")
    expect(item(page, shown[shown.index(collapsed_claim) + 1])).to_be_focused()
    page.keyboard.press("ArrowUp")

    # Enter toggles.
    page.keyboard.press("Enter")
    expect(item(page, kids[0])).to_be_visible()
    page.keyboard.press("Enter")
    expect(item(page, kids[0])).to_be_hidden()
    expect(item(page, collapsed_claim)).to_be_focused()

    # Left on a closed item goes to its parent; End and Home reach the ends.
    page.keyboard.press("ArrowLeft")
    expect(item(page, collapsed_claim.parent)).to_be_focused()
    page.keyboard.press("End")
    expect(item(page, shown[-1])).to_be_focused()
    page.keyboard.press("Home")
    expect(item(page, thesis)).to_be_focused()
    expect_one_tab_stop(page, on=thesis)
    assert page.url == map_url


def test_shift_enter_opens_the_focused_claims_own_page(
    page: Page, asgi_server: str, map_url: str, collapsed_claim: Claim
):
    page.goto(map_url)
    item(page, collapsed_claim).focus()

    page.keyboard.press("Shift+Enter")

    expect(page).to_have_url(f"{asgi_server}{collapsed_claim.get_absolute_url()}")
    expect(page.locator("h1")).to_have_text(collapsed_claim.text)


def test_clicking_a_highlight_reveals_and_focuses_the_claim_that_cites_it(
    page: Page, map_url: str, thesis: Claim
):
    page.goto(map_url)
    parent = children(thesis)[0]
    # A claim with a highlight of its own (not shared with another claim's quote).
    cited = next(
        claim
        for claim in children(parent)
        if page.locator(f'#article a.quote[data-claims="{claim.pk}"]').count()
    )
    # Hide it first, so following the highlight has to open its parent again.
    toggle(page, parent).click()
    expect(item(page, cited)).to_be_hidden()

    page.locator(f'#article a.quote[data-claims="{cited.pk}"]').first.click()

    expect(item(page, cited)).to_be_visible()
    expect(item(page, cited)).to_be_focused()
    assert page.evaluate("document.activeElement.id") == f"claim-{cited.pk}"
    expect(item(page, cited)).to_have_class(CITED)
    expect(item(page, parent)).to_have_attribute("aria-expanded", "true")
    expect_one_tab_stop(page, on=cited)
    assert page.url == map_url


def test_clicking_a_highlight_of_a_claim_not_in_the_tree_opens_its_claim_page(
    page: Page, asgi_server: str, map_url: str, collapsed_claim: Claim
):
    deep = next(claim for claim in children(collapsed_claim) if claim.quote_start is not None)
    page.goto(map_url)
    expect(item(page, deep)).to_have_count(0)

    page.locator(f'#article a.quote[data-claims="{deep.pk}"]').first.click()

    expect(page).to_have_url(f"{asgi_server}{deep.get_absolute_url()}")
    expect(page.locator("h1")).to_have_text(deep.text)


def test_hovering_or_focusing_a_claim_marks_its_quote_active(
    page: Page, map_url: str, thesis: Claim
):
    claim = next(claim for claim in children(thesis) if claim.quote_start is not None)
    page.goto(map_url)
    quotes = page.locator(f'#article a.quote[data-claims~="{claim.pk}"]')
    active = page.locator("#article a.quote.active")
    expect(active).to_have_count(0)

    item(page, claim).locator(":scope > .claim-row .claim-text").hover()
    expect(quotes.first).to_have_class(ACTIVE)
    expect(active).to_have_count(quotes.count())

    page.locator(".site-header").hover()
    expect(active).to_have_count(0)

    item(page, claim).focus()
    expect(quotes.first).to_have_class(ACTIVE)

    # And the other way round: pointing at a highlight marks the claims behind it.
    page.locator(f'#article a.quote[data-claims~="{thesis.pk}"]').first.hover()
    expect(item(page, thesis)).to_have_class(LINKED)


@pytest.fixture
def crowded_claim(collapsed_claim: Claim) -> Claim:
    """The collapsed claim with 20 more children, so expanding it shows one page and a "more"."""
    for number in range(1, 21):
        services.claim_add(
            parent=collapsed_claim,
            stance=Claim.Stance.SUPPORT if number % 2 else Claim.Stance.COUNTER,
            text=f"Extra point number {number} about this claim.",
        )
    return collapsed_claim


def test_show_more_link_loads_the_next_page_of_children(
    page: Page, map_url: str, crowded_claim: Claim
):
    total = len(children(crowded_claim))
    page_size = settings.ARGMAP_PAGE_SIZE
    assert total > page_size
    page.goto(map_url)
    toggle(page, crowded_claim).click()

    shown = page.locator(f'#group-{crowded_claim.pk} > [role="treeitem"]')
    more = page.locator(f"#group-{crowded_claim.pk} > li.more > a")
    expect(shown).to_have_count(page_size)
    rest = total - page_size
    expect(more).to_have_text(f"Show {min(rest, page_size)} more of {rest}")

    more.click()

    expect(shown).to_have_count(total)
    expect(more).to_have_count(0)
    expect(shown.last).to_have_attribute("aria-level", "4")
    expect(shown.last).to_have_text(re.compile("Extra point number 20"))
    assert page.url == map_url


def test_show_more_by_keyboard_moves_focus_to_the_first_new_claim(
    page: Page, map_url: str, crowded_claim: Claim
):
    page_size = settings.ARGMAP_PAGE_SIZE
    first_new = children(crowded_claim)[page_size]
    page.goto(map_url)
    item(page, crowded_claim).focus()
    page.keyboard.press("ArrowRight")
    more = page.locator(f"#group-{crowded_claim.pk} > li.more > a")
    expect(more).to_be_visible()

    # The "more" link is reached with the arrows, right after the last child shown.
    for _ in range(page_size + 1):
        page.keyboard.press("ArrowDown")
    expect(more).to_be_focused()
    page.keyboard.press("Enter")

    expect(item(page, first_new)).to_be_focused()
    expect_one_tab_stop(page, on=first_new)
