"""Discussion in real browsers: a claim's thread in the map's side panel, a threaded reply with
a mention that reaches the mentioned person's notifications, and a comment that appears live in
another reader's open panel without touching what they are typing."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, expect

from argmap import discussion
from argmap.models import ArgumentMap, Claim
from tests.browser.conftest import children, make_user

LIVE = 3_000  # ms: the stream coalesces writes, then the reader pulls the changes


@pytest.fixture
def alice(transactional_db):
    return make_user("alice-a")


@pytest.fixture
def bob(transactional_db):
    return make_user("bob-b")


def open_map(page: Page, argument_map: ArgumentMap) -> None:
    page.goto(argument_map.get_absolute_url())
    expect(page.locator("#presence")).to_have_text(re.compile(r"\d+ (person|people) here"))
    page.evaluate("window.argmapNotReloaded = true")


def open_thread(page: Page, claim: Claim) -> None:
    """Focus the claim, then "Discuss" in its action bar: the thread opens in the side panel."""
    page.locator(f"#claim-{claim.pk}").focus()
    bar = page.locator(f"#row-{claim.pk} .claim-actions")
    expect(bar).to_be_visible()
    bar.get_by_role("link", name="Discuss").click()
    expect(page.locator(f"#thread-panel #thread-{claim.pk}")).to_be_visible()


def test_a_threaded_reply_with_a_mention_notifies_the_mentioned_user(
    open_page, seeded_map: ArgumentMap, thesis: Claim, alice, bob
):
    claim = children(thesis)[0]
    first = discussion.comment_post(claim=claim, author=alice, body="Is this *sourced*?")
    a, b = open_page(alice, name="A"), open_page(bob, name="B")
    a.goto("/")
    expect(a.locator("#notifications-badge")).to_be_hidden()

    open_map(b, seeded_map)
    open_thread(b, claim)
    comment = b.locator(f"#comment-{first.pk}")
    expect(comment.locator(".comment-body em")).to_have_text("sourced")
    comment.get_by_role("link", name="Reply").click()
    field = b.get_by_label("Reply to alice-a")
    expect(field).to_be_focused()
    field.fill("@alice-a yes: see paragraph 3.")
    b.locator(f"#reply-form-{first.pk}").get_by_role("button", name="Reply").click()

    reply = b.locator(f"#thread-comments-{claim.pk} .comment.depth-1")
    expect(reply).to_contain_text("yes: see paragraph 3.")
    expect(reply.locator(".mention")).to_have_text("@alice-a")
    expect(b.locator(f"#reply-form-{first.pk}")).to_have_count(0)
    assert b.evaluate("window.argmapNotReloaded === true")

    a.reload()
    expect(a.locator("#notifications-badge")).to_be_visible()
    expect(a.locator("#notifications-badge")).to_contain_text("1")
    a.locator(".notifications-link").click()
    note = a.locator(".notification.unread")
    expect(note).to_have_count(1)
    expect(note).to_contain_text("bob-b replied to your comment")
    note.get_by_role("link", name="bob-b replied to your comment").click()
    expect(a).to_have_url(re.compile(rf"/claims/{claim.pk}/thread/#comment-\d+$"))
    expect(a.locator(".comment.depth-1")).to_contain_text("yes: see paragraph 3.")


def test_a_new_comment_appears_live_in_another_open_panel_keeping_their_draft(
    open_page, seeded_map: ArgumentMap, thesis: Claim, alice, bob
):
    claim = children(thesis)[0]
    a, b = open_page(alice, name="A"), open_page(bob, name="B")
    open_map(a, seeded_map)
    open_map(b, seeded_map)
    open_thread(a, claim)
    open_thread(b, claim)
    draft = b.get_by_label("Add to the discussion")
    draft.fill("half-written thought")

    a.get_by_label("Add to the discussion").fill("Fresh **evidence** here.")
    a.locator(f"#comment-form-{claim.pk}").get_by_role("button", name="Comment").click()
    expect(a.locator(f"#thread-comments-{claim.pk}")).to_contain_text("Fresh evidence here.")
    expect(a.get_by_label("Add to the discussion")).to_have_value("")

    comments = b.locator(f"#thread-comments-{claim.pk}")
    expect(comments.locator(".comment strong", has_text="evidence")).to_be_visible(timeout=LIVE)
    expect(b.locator(f"#thread-count-{claim.pk}")).to_have_text("(1)")
    expect(draft).to_have_value("half-written thought")
    assert b.evaluate("window.argmapNotReloaded === true")

    # Closing the panel gives the focus back to the claim.
    b.get_by_role("button", name="Close the discussion").click()
    expect(b.locator("#thread-panel")).to_be_hidden()


def boxes_overlap(a: dict, b: dict) -> bool:
    return not (
        a["x"] + a["width"] <= b["x"]
        or b["x"] + b["width"] <= a["x"]
        or a["y"] + a["height"] <= b["y"]
        or b["y"] + b["height"] <= a["y"]
    )


@pytest.mark.parametrize("width", [1400, 390])
def test_panel_header_and_comment_actions_are_laid_out_in_rows(
    open_page, seeded_map: ArgumentMap, thesis: Claim, alice, width
):
    claim = children(thesis)[0]
    discussion.comment_post(claim=claim, author=alice, body="Mine, so Reply, Edit and Delete.")
    a = open_page(alice, name="A", viewport={"width": width, "height": 844})
    open_map(a, seeded_map)
    open_thread(a, claim)
    panel = a.locator("#thread-panel")
    heading = panel.locator(".thread-header h2").bounding_box()
    close = panel.get_by_role("button", name="Close the discussion").bounding_box()
    summary = panel.locator(".thread-claim").bounding_box()
    assert not boxes_overlap(close, heading) and not boxes_overlap(close, summary)
    assert close["y"] < heading["y"] + heading["height"]  # beside the heading, not below it
    assert close["x"] > heading["x"]
    assert summary["y"] >= heading["y"] + heading["height"]  # the claim below both

    actions = panel.locator(".comment-actions").first
    controls = [actions.get_by_role("link", name="Reply"), actions.get_by_role("link", name="Edit")]
    controls.append(actions.get_by_role("button", name="Delete"))
    tops = [c.bounding_box()["y"] for c in controls]
    sizes = {c.evaluate("e => getComputedStyle(e).fontSize") for c in controls}
    colours = {c.evaluate("e => getComputedStyle(e).color") for c in controls}
    assert max(tops) - min(tops) < 2, tops  # one row
    assert len(sizes) == 1 and len(colours) == 1


def test_edited_opens_the_comments_earlier_versions_in_place(
    open_page, seeded_map: ArgumentMap, thesis: Claim, alice, bob
):
    claim = children(thesis)[0]
    comment = discussion.comment_post(claim=claim, author=alice, body="First *take*.")
    discussion.comment_edit(comment=comment, by=alice, body="Second take.", version=1)
    b = open_page(bob, name="B")
    open_map(b, seeded_map)
    open_thread(b, claim)
    item = b.locator(f"#comment-{comment.pk}")
    toggle = item.get_by_role("link", name="edited")
    expect(toggle).to_have_attribute("aria-expanded", "false")
    toggle.click()
    history = item.locator(f"#comment-history-{comment.pk}")
    expect(history).to_be_visible()
    expect(toggle).to_have_attribute("aria-expanded", "true")
    versions = history.locator(".comment-version")
    expect(versions).to_have_count(2)
    expect(versions.first).to_contain_text("Second take.")
    expect(versions.last.locator("em")).to_have_text("take")
    expect(history.get_by_role("heading", name=re.compile("Edit history"))).to_be_focused()

    history.get_by_role("link", name="Hide history").click()
    expect(history).to_have_count(0)
    expect(toggle).to_be_focused()
    toggle.click()  # open again, then "edited" itself closes it
    expect(item.locator(".comment-version")).to_have_count(2)
    toggle.click()
    expect(item.locator(".comment-history")).to_have_count(0)
    expect(toggle).to_have_attribute("aria-expanded", "false")
    assert b.evaluate("window.argmapNotReloaded === true")
