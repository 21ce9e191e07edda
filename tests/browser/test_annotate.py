"""Annotating an article in Chromium: a selected passage with emoji, combining marks, curly quotes,
a no-break space or right-to-left text becomes a claim anchored to exactly that passage.

The browser measures selections in UTF-16 code units, the server in code points; an emoji before
the passage is where the two differ, so every passage here has one before it (or inside it).
"""

from __future__ import annotations

import pytest
from playwright.sync_api import Page, expect

from argmap import services
from argmap.models import ArgumentMap, Claim
from tests.browser.conftest import make_user

ARTICLE = (
    "Ca\u0301fe\u0301 owners 😀 say “bike lanes” help trade.\n"
    "👍🏽 שלום עולם: residents\u00a0agree in Tel Aviv.\n"
    "The mayor 🚲 said the “car-free” plan starts in May 🎉 next year."
)


@pytest.fixture
def curator(transactional_db):
    return make_user("cora-curator", is_staff=True)


@pytest.fixture
def article_map(asgi_server, curator) -> ArgumentMap:
    source = services.source_create(title="Lanes", text=ARTICLE, by=curator)
    return services.map_create(
        slug="lanes", title="Lanes", thesis="Bike lanes help.", source=source, owner=curator
    )


def select_passage(page: Page, passage: str) -> None:
    """Select ``passage`` in the article the way a drag would: a DOM Range over its text, whose
    offsets are UTF-16 code units (JavaScript's indexOf)."""
    found = page.evaluate(
        """(passage) => {
            for (const block of document.querySelectorAll("[data-annotate] [data-offset]")) {
                const walker = document.createTreeWalker(block, NodeFilter.SHOW_TEXT);
                for (let node = walker.nextNode(); node; node = walker.nextNode()) {
                    const at = node.data.indexOf(passage);
                    if (at < 0) continue;
                    const range = document.createRange();
                    range.setStart(node, at);
                    range.setEnd(node, at + passage.length);
                    const selection = window.getSelection();
                    selection.removeAllRanges();
                    selection.addRange(range);
                    return true;
                }
            }
            return false;
        }""",
        passage,
    )
    assert found, f"{passage!r} is not in the rendered article"


def open_annotate(page: Page, argument_map: ArgumentMap) -> None:
    page.goto(f"/maps/{argument_map.slug}/annotate/")
    expect(page.locator("[data-annotate] [data-offset]").first).to_be_visible()


def add_from_selection(page: Page, *, stance: str = "Support") -> None:
    button = page.get_by_role("button", name="Claim from this passage")
    expect(button).to_be_visible()
    button.click()
    page.get_by_label(stance).check()
    page.get_by_role("button", name="Add claim").click()
    expect(page.locator("#annotate-panel .message.success")).to_be_visible()


@pytest.mark.parametrize(
    "passage",
    [
        "“bike lanes” help trade",  # after an emoji (2 UTF-16 units, 1 code point)
        "שלום עולם: residents\u00a0agree",  # RTL, NBSP, after an emoji with a skin-tone modifier
        "Ca\u0301fe\u0301 owners 😀 say",  # combining marks, an emoji inside
        "“car-free” plan starts in May 🎉",  # ends with an emoji
    ],
    ids=["curly-after-emoji", "rtl-nbsp", "combining-emoji-inside", "ends-with-emoji"],
)
def test_a_selected_passage_becomes_a_claim_anchored_exactly_to_it(
    open_page, article_map, curator, passage
):
    page = open_page(curator)
    open_annotate(page, article_map)
    select_passage(page, passage)
    add_from_selection(page)

    claim = Claim.objects.get(map=article_map, parent__isnull=False)
    assert claim.quote_exact == passage
    assert ARTICLE[claim.quote_start : claim.quote_end] == passage
    assert claim.text == " ".join(passage.split())  # prefilled from the selection
    assert claim.parent == Claim.objects.get(map=article_map, parent__isnull=True)
    # The article now highlights the new claim's passage, exactly.
    highlight = page.locator(f'#annotate-article a.quote[data-claims~="{claim.pk}"]')
    expect(highlight).to_have_count(1)
    assert highlight.inner_text() == passage


def test_a_triple_clicked_rtl_line_anchors_to_the_whole_line(open_page, article_map, curator):
    """A real gesture: triple-click selects the paragraph (with its trailing line break)."""
    page = open_page(curator)
    open_annotate(page, article_map)
    page.locator("[data-annotate] [data-offset]").nth(1).click(click_count=3)
    add_from_selection(page, stance="Counter")
    claim = Claim.objects.get(map=article_map, parent__isnull=False)
    line = ARTICLE.splitlines()[1]
    assert (claim.quote_exact, claim.stance) == (line, "counter")
    assert ARTICLE[claim.quote_start : claim.quote_end] == line


def test_the_claim_text_can_be_rewritten_before_adding(open_page, article_map, curator):
    page = open_page(curator)
    open_annotate(page, article_map)
    select_passage(page, "“bike lanes” help trade")
    page.get_by_role("button", name="Claim from this passage").click()
    text = page.locator("#annotate-form [name=text]")
    expect(text).to_have_value("“bike lanes” help trade")
    text.fill("Bike lanes bring customers to shops")
    page.get_by_role("button", name="Add claim").click()
    expect(page.locator("#annotate-panel .message.success")).to_be_visible()
    claim = Claim.objects.get(map=article_map, parent__isnull=False)
    assert claim.text == "Bike lanes bring customers to shops"
    assert ARTICLE[claim.quote_start : claim.quote_end] == "“bike lanes” help trade"


def test_a_too_large_article_is_stopped_in_the_browser_keeping_the_form(open_page, curator):
    page = open_page(curator)
    page.goto("/maps/new/")
    page.get_by_label("Article title").fill("Huge")
    page.get_by_label("Thesis").fill("Size matters")
    page.get_by_label("Article text").evaluate(
        "(el, n) => { el.value = 'a'.repeat(n); }", services.SOURCE_MAX_CHARS + 1
    )
    page.get_by_role("button", name="Create the map").click()
    expect(page.locator("[data-size-error]")).to_contain_text("larger than 1,000,000 characters")
    expect(page.get_by_label("Thesis")).to_have_value("Size matters")
    assert not ArgumentMap.objects.filter(title="Huge").exists()
