"""Writing together in real browsers: two people (two browser contexts, A and B) on one map.

What one person does reaches the other through the event stream and the "changes since" pull,
without a reload: an added counterpoint, an edited text, a moved subtree. Two edits of one
claim meet in the conflict view, which loses nothing. The action bar works from the keyboard
alone, and a selection in the article becomes a quoted claim.

Every page here is checked for console errors and CSP violations (conftest.py). Claim ids change
from test to test, so claims are found through the ORM by their place in the tree.
"""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Locator, Page, expect

from argmap import services
from argmap.models import ArgumentMap, Claim
from tests.browser.conftest import children, make_user

# "Within about two seconds": the stream coalesces writes for 150 ms, then B pulls the changes.
LIVE = 2_000  # ms

EXPANDED = re.compile(r"^true$")


@pytest.fixture
def ann(transactional_db):
    """A curator (staff may change every claim, including the seeded ones)."""
    return make_user("ann-curator", is_staff=True)


@pytest.fixture
def ben(transactional_db):
    return make_user("ben-curator", is_staff=True)


@pytest.fixture
def wendy(transactional_db):
    """A writer: adds claims, changes only her own."""
    return make_user("wendy-writer")


def item(page: Page, claim: Claim | int) -> Locator:
    return page.locator(f"#claim-{getattr(claim, 'pk', claim)}")


def row(page: Page, claim: Claim | int) -> Locator:
    return page.locator(f"#row-{getattr(claim, 'pk', claim)}")


def actions(page: Page, claim: Claim) -> Locator:
    """The action bar that appears on a claim's row when the claim has focus."""
    return page.locator(f"#row-{claim.pk} .claim-actions")


def open_map(page: Page, argument_map: ArgumentMap) -> None:
    """Open the map and wait until its event stream is connected; mark the document so a
    reload (which would make "appears live" meaningless) can be detected afterwards."""
    page.goto(argument_map.get_absolute_url())
    expect(page.locator("#presence")).to_have_text(re.compile(r"\d+ (person|people) here"))
    page.evaluate("window.argmapNotReloaded = true")


def assert_not_reloaded(page: Page) -> None:
    assert page.evaluate("window.argmapNotReloaded === true"), "the page was reloaded"


def focus_actions(page: Page, claim: Claim) -> Locator:
    item(page, claim).focus()
    bar = actions(page, claim)
    expect(bar).to_be_visible()
    return bar


def test_a_counterpoint_added_by_a_appears_for_b_without_reload(
    open_page, seeded_map: ArgumentMap, thesis: Claim, wendy, ben
):
    parent = children(thesis)[0]
    before = children(parent)
    a, b = open_page(wendy, name="A"), open_page(ben, name="B")
    open_map(a, seeded_map)
    open_map(b, seeded_map)
    expect(b.locator(f"#group-{parent.pk} > [role=treeitem]")).to_have_count(len(before))

    focus_actions(a, parent).get_by_role("button", name="+ Con").click()
    form = a.locator(f"#compose-{parent.pk} form")
    expect(form.get_by_label("Con counters it")).to_be_checked()
    form.get_by_label("Your claim").fill("Deterrence has kept the Baltic quiet for decades.")
    form.get_by_role("button", name="Add claim").click()

    # A sees it at once, from the response to the form.
    added = a.locator(f"#group-{parent.pk} > [role=treeitem]").last
    expect(added).to_contain_text("Deterrence has kept the Baltic quiet for decades.")
    claim = Claim.objects.get(text="Deterrence has kept the Baltic quiet for decades.")
    assert (claim.parent_id, claim.stance, claim.author) == (parent.pk, "counter", wendy)
    expect(item(a, claim)).to_be_focused()
    expect(a.locator(f"#compose-{parent.pk} form")).to_have_count(0)

    # B sees it arrive in the same place, and the parent's counts follow.
    new = b.locator(f"#group-{parent.pk} > #claim-{claim.pk}")
    expect(new).to_be_visible(timeout=LIVE)
    expect(new.locator(":scope > .claim-row .stance")).to_have_text("Con")
    expect(new).to_have_attribute("aria-level", "3")
    expect(b.locator(f"#group-{parent.pk} > [role=treeitem]")).to_have_count(len(before) + 1)
    expect(b.locator(f"#group-{parent.pk} > [role=treeitem]").last).to_have_id(f"claim-{claim.pk}")
    counters = sum(1 for c in before if c.stance == "counter") + 1
    expect(b.locator(f"#counts-{parent.pk} .count-con")).to_have_text(f"{counters} con")
    assert_not_reloaded(b)
    # Only one copy of it in A, even though A's own stream announced it too.
    expect(item(a, claim)).to_have_count(1)


def test_an_edit_by_a_shows_up_in_b(open_page, seeded_map: ArgumentMap, thesis: Claim, ann, ben):
    claim = children(children(thesis)[1])[0]
    a, b = open_page(ann, name="A"), open_page(ben, name="B")
    open_map(a, seeded_map)
    open_map(b, seeded_map)

    focus_actions(a, claim).get_by_role("button", name="Edit").click()
    field = a.locator(f"#edit-text-{claim.pk}")
    expect(field).to_be_focused()
    expect(field).to_have_value(claim.text)
    field.fill("NATO's Baltic strategy is a shift in posture, not a new doctrine.")
    a.locator(f"form#row-{claim.pk}").get_by_role("button", name="Save").click()

    expect(a.locator(f"#text-{claim.pk}")).to_have_text(
        "NATO's Baltic strategy is a shift in posture, not a new doctrine."
    )
    expect(b.locator(f"#text-{claim.pk}")).to_have_text(
        "NATO's Baltic strategy is a shift in posture, not a new doctrine.", timeout=LIVE
    )
    claim.refresh_from_db()
    assert claim.text == "NATO's Baltic strategy is a shift in posture, not a new doctrine."
    assert claim.version == 2
    assert_not_reloaded(b)


def test_two_edits_of_one_claim_meet_in_the_conflict_view_and_keep_mine_saves_bs_text(
    open_page, expected_problems, seeded_map: ArgumentMap, thesis: Claim, ann, ben
):
    claim = children(thesis)[2]
    # Chromium logs every 4xx answer on the console; this one is the point of the test.
    expected_problems.append(
        re.compile(rf"^B console\.error: .*status of 409 .*/claims/{claim.pk}/edit/'")
    )
    original = claim.text
    a, b = open_page(ann, name="A"), open_page(ben, name="B")
    open_map(a, seeded_map)
    open_map(b, seeded_map)
    for page in (a, b):
        focus_actions(page, claim).get_by_role("button", name="Edit").click()
        expect(page.locator(f"#edit-text-{claim.pk}")).to_have_value(original)

    a.locator(f"#edit-text-{claim.pk}").fill("A: the new measures lower the threshold for war.")
    a.locator(f"form#row-{claim.pk}").get_by_role("button", name="Save").click()
    expect(a.locator(f"#text-{claim.pk}")).to_have_text(
        "A: the new measures lower the threshold for war."
    )

    # A's save reaches B while B is still typing: B's open form is left alone.
    b_form = b.locator(f"form#row-{claim.pk}")
    b.locator(f"#edit-text-{claim.pk}").fill("B: analysts warn the threshold may drop.")
    b.wait_for_timeout(500)  # give the live update every chance to (wrongly) replace the form
    expect(b.locator(f"#edit-text-{claim.pk}")).to_have_value(
        "B: analysts warn the threshold may drop."
    )
    with b.expect_response(lambda r: r.url.endswith(f"/claims/{claim.pk}/edit/")) as saved:
        b_form.get_by_role("button", name="Save").click()
    assert saved.value.status == 409

    conflict = b.locator(f"#conflict-{claim.pk}")
    expect(conflict).to_be_visible()
    expect(conflict.locator("[data-theirs]")).to_have_text(
        "A: the new measures lower the threshold for war."
    )
    expect(conflict.locator("[data-mine]")).to_have_text("B: analysts warn the threshold may drop.")
    # The draft is not thrown away: it is still in the field, ready to merge.
    expect(b.locator(f"#edit-text-{claim.pk}")).to_have_value(
        "B: analysts warn the threshold may drop."
    )
    claim.refresh_from_db()
    assert claim.text == "A: the new measures lower the threshold for war."

    b_form.get_by_role("button", name="Keep mine").click()

    expect(b.locator(f"#text-{claim.pk}")).to_have_text("B: analysts warn the threshold may drop.")
    expect(b.locator(f"#conflict-{claim.pk}")).to_have_count(0)
    claim.refresh_from_db()
    assert claim.text == "B: analysts warn the threshold may drop."
    assert claim.version == 3
    # ...and A, in turn, sees B's text arrive.
    expect(a.locator(f"#text-{claim.pk}")).to_have_text(
        "B: analysts warn the threshold may drop.", timeout=LIVE
    )
    assert_not_reloaded(a)
    assert_not_reloaded(b)


def test_a_moves_a_subtree_and_bs_tree_rearranges(
    open_page, seeded_map: ArgumentMap, thesis: Claim, collapsed_claim: Claim, ann, ben
):
    moving = collapsed_claim  # a level-3 claim with children of its own, collapsed
    old_parent = moving.parent
    new_parent = children(thesis)[-1]  # level 2: its children are in the first view
    kids = children(moving)
    a, b = open_page(ann, name="A"), open_page(ben, name="B")
    open_map(a, seeded_map)
    open_map(b, seeded_map)
    expect(b.locator(f"#group-{old_parent.pk} > #claim-{moving.pk}")).to_have_count(1)

    focus_actions(a, moving).get_by_role("button", name="Move", exact=True).click()
    dialog = a.locator(f"#move-dialog-{moving.pk}")
    expect(dialog.get_by_label("Find the new parent")).to_be_focused()
    dialog.get_by_label("Find the new parent").fill(" ".join(new_parent.text.split()[:4]))
    target = dialog.locator(".move-target", has_text=f"#{new_parent.pk}")
    expect(dialog.locator(".move-target")).to_have_count(1)
    target.locator("input").check()
    dialog.get_by_label("Con counters it").check()
    dialog.get_by_role("button", name="Move here").click()

    expect(a.locator("#live-notice")).to_have_text("Moved.")
    expect(a.locator(f"#group-{new_parent.pk} > #claim-{moving.pk}")).to_be_visible()
    expect(item(a, moving)).to_be_focused()
    moving.refresh_from_db()
    assert (moving.parent_id, moving.stance) == (new_parent.pk, "counter")

    # B: the claim left its old parent and sits last under the new one, as a Con, one level up.
    moved = b.locator(f"#group-{new_parent.pk} > #claim-{moving.pk}")
    expect(moved).to_be_visible(timeout=LIVE)
    expect(b.locator(f"#group-{old_parent.pk} > #claim-{moving.pk}")).to_have_count(0)
    expect(item(b, moving)).to_have_count(1)
    expect(b.locator(f"#group-{new_parent.pk} > [role=treeitem]").last).to_have_id(
        f"claim-{moving.pk}"
    )
    expect(moved.locator(":scope > .claim-row .stance")).to_have_text("Con")
    expect(moved).to_have_attribute("aria-level", "3")
    expect(moved).to_have_attribute("aria-expanded", "false")
    # Its subtree came along: opening it in B shows its children, one level deeper.
    moved.locator(":scope > .claim-row > a.toggle").click()
    for kid in kids:
        expect(b.locator(f"#group-{moving.pk} > #claim-{kid.pk}")).to_be_visible()
        expect(item(b, kid)).to_have_attribute("aria-level", "4")
    assert_not_reloaded(b)


def test_keyboard_only_add_a_support_then_edit_it_then_cancel_an_edit_with_escape(
    open_page, seeded_map: ArgumentMap, thesis: Claim, wendy
):
    a = open_page(wendy)
    open_map(a, seeded_map)
    target = children(thesis)[0]
    keys = a.keyboard

    # Into the tree (a single Tab stop, on the thesis), then down to the claim.
    for _ in range(20):
        keys.press("Tab")
        if a.evaluate("document.activeElement.id") == f"claim-{thesis.pk}":
            break
    expect(item(a, thesis)).to_be_focused()
    keys.press("ArrowDown")
    expect(item(a, target)).to_be_focused()

    # Tab enters the claim's action bar: "+ Pro" first.
    keys.press("Tab")
    expect(actions(a, target).get_by_role("button", name="+ Pro")).to_be_focused()
    keys.press("Enter")
    field = a.locator(f"#compose-{target.pk} textarea")
    expect(field).to_be_focused()
    expect(a.locator(f"#compose-{target.pk}").get_by_label("Pro supports it")).to_be_checked()
    keys.type("Moscow's own statements show it reads the plan as aimed at Kaliningrad.")
    keys.press("Control+Enter")

    added = a.locator(f"#group-{target.pk} > [role=treeitem]").last
    expect(added).to_contain_text("Moscow's own statements show it reads the plan")
    new = Claim.objects.get(text__startswith="Moscow's own statements")
    assert (new.parent_id, new.stance, new.author) == (target.pk, "support", wendy)
    expect(item(a, new)).to_be_focused()
    expect(item(a, new)).to_have_attribute("tabindex", "0")

    # Edit it: Tab into its toolbar, arrow along to Edit, Enter; change the text; Tab to Save.
    keys.press("Tab")
    bar = actions(a, new)
    expect(bar).to_have_attribute("role", "toolbar")
    expect(bar.get_by_role("button", name="+ Pro")).to_be_focused()
    keys.press("ArrowRight")
    keys.press("ArrowRight")
    expect(bar.get_by_role("button", name="Edit")).to_be_focused()
    keys.press("Enter")
    field = a.locator(f"#edit-text-{new.pk}")
    expect(field).to_be_focused()
    keys.press("Control+A")
    keys.type("Moscow's statements show it reads the plan as aimed at Kaliningrad itself.")
    keys.press("Tab")  # past the quote fields' hint to the Save button
    expect(a.locator(f"form#row-{new.pk}").get_by_role("button", name="Save")).to_be_focused()
    keys.press("Enter")
    expect(a.locator(f"#text-{new.pk}")).to_have_text(
        "Moscow's statements show it reads the plan as aimed at Kaliningrad itself."
    )
    expect(item(a, new)).to_be_focused()
    new.refresh_from_db()
    assert new.text == "Moscow's statements show it reads the plan as aimed at Kaliningrad itself."

    # Open the edit form again, type, and cancel with Escape: nothing changes, focus returns.
    keys.press("Tab")
    bar = actions(a, new)
    keys.press("ArrowLeft")  # wraps round to the last one
    expect(bar.get_by_role("button", name="Report")).to_be_focused()
    keys.press("Home")
    expect(bar.get_by_role("button", name="+ Pro")).to_be_focused()
    keys.press("ArrowRight")
    keys.press("ArrowRight")
    expect(bar.get_by_role("button", name="Edit")).to_be_focused()
    keys.press("Enter")
    expect(a.locator(f"#edit-text-{new.pk}")).to_be_focused()
    keys.type(" Not saved.")
    keys.press("Escape")
    expect(a.locator(f"form#row-{new.pk}")).to_have_count(0)
    expect(a.locator(f"#text-{new.pk}")).to_have_text(
        "Moscow's statements show it reads the plan as aimed at Kaliningrad itself."
    )
    expect(item(a, new)).to_be_focused()
    new.refresh_from_db()
    assert new.version == 2
    assert new.text.endswith("Kaliningrad itself.")


# Selects the first stretch of article text that no claim quotes yet (a text node outside the
# highlights), trimmed to a whole sentence, and returns it.
SELECT_UNQUOTED_SENTENCE = """() => {
  const article = document.getElementById("article");
  const walker = document.createTreeWalker(article, NodeFilter.SHOW_TEXT);
  for (let node = walker.nextNode(); node; node = walker.nextNode()) {
    if (node.parentElement.closest("a.quote")) continue;
    const match = /[A-Z][^.!?]{30,}[.!?]/.exec(node.data);
    if (!match) continue;
    node.parentElement.scrollIntoView({ block: "center" });  // one selects what one sees
    const range = document.createRange();
    range.setStart(node, match.index);
    range.setEnd(node, match.index + match[0].length);
    const selection = window.getSelection();
    selection.removeAllRanges();
    selection.addRange(range);
    return match[0];
  }
  return null;
}"""


def test_a_claim_made_from_a_selection_in_the_article_quotes_it(
    open_page, seeded_map: ArgumentMap, thesis: Claim, wendy, ben
):
    a, b = open_page(wendy, name="A"), open_page(ben, name="B")
    open_map(a, seeded_map)
    open_map(b, seeded_map)
    parent = children(thesis)[3]

    sentence = a.evaluate(SELECT_UNQUOTED_SENTENCE)
    assert sentence, "the seeded article has no unquoted sentence left to select"
    start = seeded_map.source.text.index(sentence)
    expect(a.locator(f'#article a.quote[data-start="{start}"]')).to_have_count(0)

    popup = a.locator(".selection-popup")
    expect(popup).to_be_visible()
    popup.get_by_role("button", name="New claim from selection").click()
    expect(a.locator(".pick-banner")).to_be_visible()
    a.locator(f"#text-{parent.pk}").click()

    form = a.locator(f"#compose-{parent.pk} form")
    expect(form.locator("[data-quote-preview]")).to_have_text(sentence)
    expect(form.get_by_label("Your claim")).to_be_focused()
    expect(a.locator(".pick-banner")).to_be_hidden()
    form.get_by_label("Your claim").fill("The article itself says as much.")
    form.get_by_role("button", name="Add claim").click()

    new = a.locator(f"#group-{parent.pk} > [role=treeitem]").last
    expect(new).to_contain_text("The article itself says as much.")
    claim = Claim.objects.get(text="The article itself says as much.")
    assert (claim.quote_exact, claim.quote_start, claim.quote_end) == (
        sentence,
        start,
        start + len(sentence),
    )
    expect(new).to_have_attribute("data-quote-start", str(start))

    # The article now highlights the quote and links it to the claim, for A and for B.
    for page in (a, b):
        quote = page.locator(f'#article a.quote[data-claims~="{claim.pk}"]')
        expect(quote).to_have_text(sentence, timeout=LIVE)
        expect(page.locator(f"#claim-{claim.pk}")).to_have_attribute("data-quote-start", str(start))
    assert_not_reloaded(a)
    assert_not_reloaded(b)


def test_presence_says_how_many_people_are_on_the_map(
    open_page, seeded_map: ArgumentMap, wendy, ben
):
    a = open_page(wendy, name="A")
    a.goto(seeded_map.get_absolute_url())
    expect(a.locator("#presence")).to_have_text("1 person here")

    b = open_page(ben, name="B")
    b.goto(seeded_map.get_absolute_url())
    expect(b.locator("#presence")).to_have_text("2 people here")
    expect(a.locator("#presence")).to_have_text("2 people here")

    b.close()
    expect(a.locator("#presence")).to_have_text("1 person here", timeout=5_000)


def test_archive_by_a_removes_the_claim_for_b_and_undo_brings_it_back(
    open_page, seeded_map: ArgumentMap, thesis: Claim, ann, ben
):
    claim, next_sibling = children(children(thesis)[0])[2:4]
    a, b = open_page(ann, name="A"), open_page(ben, name="B")
    open_map(a, seeded_map)
    open_map(b, seeded_map)

    focus_actions(a, claim).get_by_role("button", name="Archive").click()
    expect(item(a, claim)).to_have_count(0)
    expect(a.locator("#live-notice")).to_contain_text("Archived")
    # Focus does not fall back to the top of the page: it goes to the next claim.
    expect(item(a, next_sibling)).to_be_focused()
    expect(item(b, claim)).to_have_count(0, timeout=LIVE)

    a.locator("#live-notice").get_by_role("button", name="Undo").click()
    expect(item(a, claim)).to_be_visible()
    expect(item(b, claim)).to_be_visible(timeout=LIVE)
    claim.refresh_from_db()
    assert claim.status == Claim.Status.PUBLISHED
    assert_not_reloaded(b)


def test_a_live_update_never_touches_a_claim_whose_children_b_has_not_loaded(
    open_page, seeded_map: ArgumentMap, collapsed_claim: Claim, ben
):
    b = open_page(ben, name="B")
    open_map(b, seeded_map)
    services.claim_add(
        parent=collapsed_claim, stance=Claim.Stance.SUPPORT, text="Added while B was reading."
    )
    # B's collapsed claim gets the new count, and still offers to load its children.
    expect(b.locator(f"#counts-{collapsed_claim.pk} .count-pro")).to_have_text(
        f"{sum(c.stance == 'support' for c in children(collapsed_claim))} pro", timeout=LIVE
    )
    expect(item(b, collapsed_claim)).to_have_attribute("aria-expanded", "false")
    expect(b.locator(f"#group-{collapsed_claim.pk}")).to_be_hidden()
    b.locator(f"#row-{collapsed_claim.pk} > a.toggle").click()
    expect(b.locator(f"#group-{collapsed_claim.pk}")).to_contain_text("Added while B was reading.")
    expect(item(b, collapsed_claim)).to_have_attribute("aria-expanded", EXPANDED)


def test_an_edit_form_opens_even_if_a_live_update_refreshes_the_row_meanwhile(
    open_page, seeded_map: ArgumentMap, thesis: Claim, ann
):
    """htmx resolves #row-<id> when Edit is pressed; a live update landing before the form
    arrives must not leave the form to be swapped into a detached row."""
    claim = children(thesis)[0]
    supports = sum(c.stance == "support" for c in children(claim))
    a = open_page(ann)
    open_map(a, seeded_map)
    held = []
    a.route(f"**/claims/{claim.pk}/edit/", lambda route: held.append(route))  # hold it back

    focus_actions(a, claim).get_by_role("button", name="Edit").click()
    while not held:
        a.wait_for_timeout(20)
    services.claim_add(parent=claim, stance=Claim.Stance.SUPPORT, text="Meanwhile, elsewhere.")
    expect(a.locator(f"#counts-{claim.pk} .count-pro")).to_have_text(f"{supports + 1} pro")
    held[0].continue_()

    expect(a.locator(f"#edit-text-{claim.pk}")).to_be_focused()
    expect(a.locator(f"#edit-text-{claim.pk}")).to_have_value(claim.text)


def test_a_moves_a_claim_up_and_b_sees_the_new_order(
    open_page, seeded_map: ArgumentMap, thesis: Claim, ann, ben
):
    parent = children(thesis)[1]
    first, second, *rest = children(parent)
    a, b = open_page(ann, name="A"), open_page(ben, name="B")
    open_map(a, seeded_map)
    open_map(b, seeded_map)
    siblings = f"#group-{parent.pk} > [role=treeitem]"
    expect(b.locator(siblings).first).to_have_id(f"claim-{first.pk}")

    focus_actions(a, second).get_by_role("button", name="Move up").click()

    expected = [f"claim-{c.pk}" for c in (second, first, *rest)]
    for page in (a, b):
        expect(page.locator(siblings).nth(0)).to_have_id(expected[0], timeout=LIVE)
        assert page.locator(siblings).evaluate_all("items => items.map(i => i.id)") == expected
    expect(item(a, second)).to_be_focused()  # the claim keeps the focus where it landed
    assert [c.pk for c in children(parent)] == [second.pk, first.pk, *(c.pk for c in rest)]
    assert_not_reloaded(b)


def test_use_as_quote_reanchors_a_claim_being_edited(
    open_page, seeded_map: ArgumentMap, thesis: Claim, ann, ben
):
    claim = next(c for c in children(children(thesis)[2]) if c.quote_start is not None)
    a, b = open_page(ann, name="A"), open_page(ben, name="B")
    open_map(a, seeded_map)
    open_map(b, seeded_map)
    expect(b.locator(f'#article a.quote[data-claims~="{claim.pk}"]').first).to_be_attached()

    focus_actions(a, claim).get_by_role("button", name="Edit").click()
    form = a.locator(f"form#row-{claim.pk}")
    expect(form.locator("[data-quote-preview]")).to_have_text(claim.quote_exact)
    sentence = a.evaluate(SELECT_UNQUOTED_SENTENCE)
    start = seeded_map.source.text.index(sentence)
    a.locator(".selection-popup").get_by_role("button", name="Use as quote").click()
    expect(form.locator("[data-quote-preview]")).to_have_text(sentence)
    expect(a.locator(f"#edit-text-{claim.pk}")).to_be_focused()
    form.get_by_role("button", name="Save").click()

    expect(a.locator(f"#text-{claim.pk}")).to_have_text(claim.text)
    claim.refresh_from_db()
    assert (claim.quote_exact, claim.quote_start) == (sentence, start)
    # Both articles move the claim's highlight to the new sentence, without a reload.
    for page in (a, b):
        quotes = page.locator(f'#article a.quote[data-claims~="{claim.pk}"]')
        expect(quotes).to_have_text([sentence], timeout=LIVE)
        expect(page.locator(f"#claim-{claim.pk}")).to_have_attribute("data-quote-start", str(start))
    assert_not_reloaded(a)
    assert_not_reloaded(b)


def test_inline_forms_fit_a_phone_screen(
    open_page, seeded_map: ArgumentMap, collapsed_claim: Claim, ann
):
    """The deepest rows of the first view are the narrowest: their forms must still fit."""
    a = open_page(ann, viewport={"width": 375, "height": 812})
    open_map(a, seeded_map)
    claim = collapsed_claim
    fits = "document.documentElement.scrollWidth <= window.innerWidth"

    for action, opened in [
        ("+ Con", f"#compose-{claim.pk} form textarea"),
        ("Edit", f"#edit-text-{claim.pk}"),
        ("Move", f"#move-q-{claim.pk}"),
    ]:
        focus_actions(a, claim).get_by_role("button", name=action, exact=True).click()
        expect(a.locator(opened)).to_be_focused()
        assert a.evaluate(fits), f"the {action} form makes the page scroll sideways"
        a.keyboard.press("Escape")
        expect(item(a, claim)).to_be_focused()
    assert a.evaluate(fits)


def test_cancelling_the_pick_drops_the_selected_quote(
    open_page, seeded_map: ArgumentMap, thesis: Claim, wendy
):
    a = open_page(wendy)
    open_map(a, seeded_map)
    parent = children(thesis)[0]
    assert a.evaluate(SELECT_UNQUOTED_SENTENCE)
    a.locator(".selection-popup").get_by_role("button", name="New claim from selection").click()
    expect(a.locator(".pick-banner")).to_be_visible()
    a.keyboard.press("Escape")
    expect(a.locator(".pick-banner")).to_be_hidden()

    focus_actions(a, parent).get_by_role("button", name="+ Pro").click()
    form = a.locator(f"#compose-{parent.pk} form")
    expect(form.get_by_label("Your claim")).to_be_focused()
    expect(form.locator(".quote-preview")).to_be_hidden()
    expect(form.locator('[name="quote_exact"]')).to_have_value("")
