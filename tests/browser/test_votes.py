"""Impact votes in real browsers: a vote cast by A reaches B's open page live, and the vote control
works from the keyboard alone ("Vote" in the claim's toolbar, Enter/Space on the row's
control, Escape closes)."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, expect

from argmap.models import ArgumentMap, Claim, Vote
from tests.browser.conftest import children, make_user

LIVE = 2_000  # ms: the stream coalesces for 150 ms, then B pulls the changes


@pytest.fixture
def ann(transactional_db):
    return make_user("ann-voter")


@pytest.fixture
def ben(transactional_db):
    return make_user("ben-reader")


def open_map(page: Page, argument_map: ArgumentMap) -> None:
    page.goto(argument_map.get_absolute_url())
    expect(page.locator("#presence")).to_have_text(re.compile(r"\d+ (person|people) here"))
    page.evaluate("window.argmapNotReloaded = true")


def test_a_vote_by_a_shows_in_bs_distribution_without_reload(
    open_page, seeded_map: ArgumentMap, thesis: Claim, ann, ben
):
    claim = children(thesis)[0]
    a, b = open_page(ann), open_page(ben)
    open_map(a, seeded_map)
    open_map(b, seeded_map)
    summary = f"#votes-{claim.pk} .visually-hidden"
    expect(b.locator(summary)).to_have_text("Impact: no votes yet")

    a.locator(f"#row-{claim.pk} .vote-toggle").click()
    pop = a.locator(f"#vote-pop-{claim.pk}")
    expect(pop.get_by_role("button", name=re.compile("High impact"))).to_be_visible()
    pop.get_by_role("button", name=re.compile("^3 High impact")).click()

    expect(pop).to_have_count(0)
    expect(a.locator(f"#row-{claim.pk} .vote-toggle")).to_contain_text("You: 3")
    expect(b.locator(summary)).to_have_text("Impact: 1 vote, mean 3.0", timeout=LIVE)
    expect(b.locator(f"#votes-{claim.pk} .vote-bar.h8")).to_have_count(1)
    expect(b.locator(f"#row-{claim.pk} .vote-toggle")).to_have_text("Vote")  # B's own: none
    assert b.evaluate("window.argmapNotReloaded === true"), "B's page was reloaded"
    assert Vote.objects.get(claim=claim, user=ann).value == 3


def test_the_vote_control_works_from_the_keyboard(
    open_page, seeded_map: ArgumentMap, thesis: Claim, ann
):
    claim = children(thesis)[0]
    page = open_page(ann)
    open_map(page, seeded_map)
    page.locator(f"#claim-{claim.pk}").focus()
    page.keyboard.press("Tab")  # into the claim's toolbar, then along it to "Vote"
    vote = page.locator(f'#row-{claim.pk} [data-action="vote"]')
    for _ in range(12):
        if vote.evaluate("el => el === document.activeElement"):
            break
        page.keyboard.press("ArrowRight")
    expect(vote).to_be_focused()
    toggle = page.locator(f"#row-{claim.pk} .vote-toggle")

    page.keyboard.press("Enter")
    pop = page.locator(f"#vote-pop-{claim.pk}")
    expect(pop.get_by_role("button", name=re.compile("^0 No impact"))).to_be_focused()
    expect(toggle).to_have_attribute("aria-expanded", "true")
    for _ in range(4):
        page.keyboard.press("Tab")
    expect(pop.get_by_role("button", name=re.compile("^4 Very high impact"))).to_be_focused()
    page.keyboard.press("Enter")

    expect(pop).to_have_count(0)
    toggle = page.locator(f"#row-{claim.pk} .vote-toggle")
    expect(toggle).to_contain_text("You: 4")
    expect(toggle).to_be_focused()
    expect(page.locator("#live-notice")).to_contain_text("Your vote is saved: 4")

    page.keyboard.press(" ")  # Space opens it too, on your vote
    expect(pop.get_by_role("button", name=re.compile("^4 Very high impact"))).to_be_focused()
    expect(pop.locator('[aria-pressed="true"]')).to_have_count(1)
    page.keyboard.press("Escape")
    expect(pop).to_have_count(0)
    expect(toggle).to_be_focused()
    expect(toggle).to_have_attribute("aria-expanded", "false")

    page.keyboard.press("Enter")
    expect(pop.get_by_role("button", name="Withdraw my vote")).to_be_visible()
    pop.get_by_role("button", name="Withdraw my vote").focus()
    page.keyboard.press("Enter")
    expect(pop).to_have_count(0)
    expect(page.locator(f"#row-{claim.pk} .vote-toggle")).to_have_text("Vote")
    assert not Vote.objects.filter(claim=claim).exists()
