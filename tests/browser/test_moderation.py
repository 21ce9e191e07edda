"""Moderation in real browsers: a suggestion waits and, approved, appears live for everyone; a
reported comment, upheld, disappears for everyone; a muted member is offered no compose form and
is refused when posting anyway.

Every page is checked for console errors and CSP violations (conftest.py); the refusals the
muted member provokes on purpose are expected there, narrowly.
"""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from django.utils import timezone
from playwright.sync_api import Page, expect

from argmap import moderation, services
from argmap.models import (
    ArgumentMap,
    Claim,
    Comment,
    Flag,
    Membership,
    ModerationAction,
    Notification,
    Role,
    Vote,
)
from tests.browser.conftest import make_user

LIVE = 3_000  # ms: the stream coalesces for 150 ms, then each reader pulls what changed


@pytest.fixture
def cast(transactional_db):
    """An owner, a moderator, and three participants (roles come from the map's default)."""
    names = ["olga-owner", "mo-moderator", "sue-suggester", "rita-reader", "bob-bystander"]
    return {name.split("-")[0]: make_user(name) for name in names}


def small_map(cast, *, pre: bool) -> ArgumentMap:
    argument_map = services.map_create(
        slug="streets",
        title="Car-free centres",
        thesis="Cities should ban cars from their centres.",
        owner=cast["olga"],
    )
    thesis = Claim.objects.get(map=argument_map, parent__isnull=True)
    services.claim_add(parent=thesis, stance="support", text="Streets get safer.", by=cast["olga"])
    if pre:
        argument_map.moderation_policy = ArgumentMap.ModerationPolicy.PRE
        argument_map.save()
    Membership.objects.create(map=argument_map, user=cast["mo"], role=Role.MODERATOR)
    return argument_map


def open_map(page: Page, argument_map: ArgumentMap) -> None:
    page.goto(argument_map.get_absolute_url())
    expect(page.locator("#presence")).to_have_text(re.compile(r"\d+ (person|people) here"))
    page.evaluate("window.argmapNotReloaded = true")


def assert_not_reloaded(page: Page) -> None:
    assert page.evaluate("window.argmapNotReloaded === true"), "the page was reloaded"


def toolbar(page: Page, claim: Claim):
    page.locator(f"#claim-{claim.pk}").focus()
    bar = page.locator(f"#row-{claim.pk} .claim-actions")
    expect(bar).to_be_visible()
    return bar


def test_a_suggestion_waits_then_appears_live_for_everyone_once_approved(open_page, cast):
    argument_map = small_map(cast, pre=True)
    thesis = Claim.objects.get(map=argument_map, parent__isnull=True)
    sue, bob = open_page(cast["sue"], name="sue"), open_page(cast["bob"], name="bob")
    open_map(sue, argument_map)
    open_map(bob, argument_map)

    toolbar(sue, thesis).get_by_role("button", name="+ Pro").click()
    form = sue.locator(f"#compose-{thesis.pk} form")
    form.get_by_label("Your claim").fill("Children can walk to school alone.")
    form.get_by_role("button", name="Add claim").click()
    expect(sue.locator(f"#compose-{thesis.pk}")).to_contain_text("awaits a moderator's approval")

    suggestion = Claim.objects.get(text="Children can walk to school alone.")
    assert suggestion.status == Claim.Status.PENDING
    # Others do not see it: not even after their next pull.
    bob.wait_for_timeout(600)
    expect(bob.locator(f"#claim-{suggestion.pk}")).to_have_count(0)

    mo = open_page(cast["mo"], name="mo")
    open_map(mo, argument_map)
    queue_link = mo.get_by_role("link", name=re.compile("Moderation queue"))
    expect(queue_link).to_contain_text("1")
    queue_link.click()
    entry = mo.locator(f"#queue-claim-{suggestion.pk}")
    expect(entry).to_contain_text("Children can walk to school alone.")
    entry.get_by_role("button", name="Approve").click()
    expect(entry).to_have_count(0)  # gone from the queue in place
    expect(mo.locator("#queue-count")).to_have_text("0")
    expect(mo.locator("#live-notice")).to_contain_text("Approved")

    # Everyone with the map open sees it arrive, without a reload.
    arrived = bob.locator(f"#group-{thesis.pk} > #claim-{suggestion.pk}")
    expect(arrived).to_be_visible(timeout=LIVE)
    expect(arrived).to_contain_text("Children can walk to school alone.")
    assert_not_reloaded(bob)
    suggestion.refresh_from_db()
    assert suggestion.status == Claim.Status.PUBLISHED
    assert Notification.objects.filter(
        recipient=cast["sue"], kind=Notification.Kind.APPROVED
    ).exists()
    log = ModerationAction.objects.get(claim=suggestion)
    assert (log.action, log.actor) == (ModerationAction.Action.APPROVE, cast["mo"])


def test_a_reported_comment_upheld_disappears_for_everyone(open_page, cast):
    from argmap.discussion import comment_post

    argument_map = small_map(cast, pre=False)
    claim = Claim.objects.get(map=argument_map, text="Streets get safer.")
    comment = comment_post(claim=claim, author=cast["sue"], body="Only idiots believe this.")
    body = "Only idiots believe this."

    # A bystander reads the thread in the map's side panel.
    bob = open_page(cast["bob"], name="bob")
    open_map(bob, argument_map)
    toolbar(bob, claim).get_by_role("link", name="Discuss").click()
    panel = bob.locator("#thread-panel")
    expect(panel.locator(f"#comment-{comment.pk}")).to_contain_text(body)

    # A reader reports it from the thread page.
    rita = open_page(cast["rita"], name="rita")
    rita.goto(f"/maps/{argument_map.slug}/claims/{claim.pk}/thread/")
    rita.locator(f"#comment-{comment.pk}").get_by_role("link", name="Report").click()
    rita.get_by_label("Abusive").check()
    rita.get_by_label("Note for the moderators (optional)").fill("Name-calling.")
    rita.get_by_role("button", name="Report").click()
    expect(rita.get_by_role("status").filter(has_text="review your report")).to_be_visible()
    flag = Flag.objects.get(comment=comment)
    assert (flag.reporter, flag.reason, flag.note) == (cast["rita"], "abusive", "Name-calling.")

    # The moderator upholds it from the queue, with a reason.
    mo = open_page(cast["mo"], name="mo")
    mo.goto(f"/maps/{argument_map.slug}/moderation/")
    entry = mo.locator(f"#queue-flag-comment-{comment.pk}")
    expect(entry).to_contain_text("1 report")
    expect(entry).to_contain_text("Name-calling.")
    entry.get_by_placeholder("Reason").first.fill("Personal attack")
    entry.get_by_role("button", name="Uphold and hide").click()
    expect(entry).to_have_count(0)
    expect(mo.locator("#queue-count")).to_have_text("0")

    # Gone for the bystander, live, without a reload; and for the reporter on her next visit.
    expect(panel).not_to_contain_text(body, timeout=LIVE)
    assert_not_reloaded(bob)
    rita.goto(f"/maps/{argument_map.slug}/claims/{claim.pk}/thread/")
    expect(rita.locator("main")).not_to_contain_text(body)
    comment.refresh_from_db()
    assert comment.status == Comment.Status.HIDDEN
    assert Notification.objects.filter(
        recipient=cast["sue"], kind=Notification.Kind.HIDDEN, message="Personal attack"
    ).exists()
    assert Notification.objects.filter(
        recipient=cast["rita"], kind=Notification.Kind.FLAG_RESOLVED
    ).exists()


def test_a_muted_member_gets_no_compose_forms_and_their_posts_are_refused(
    open_page, cast, expected_problems
):
    # The browser logs each refused request as a console error: exactly the four provoked here.
    expected_problems.append(re.compile(r"status of 403"))
    argument_map = small_map(cast, pre=False)
    thesis = Claim.objects.get(map=argument_map, parent__isnull=True)
    claim = Claim.objects.get(map=argument_map, text="Streets get safer.")
    rita = open_page(cast["rita"], name="rita")

    # Control: before the mute, the same reader is offered every compose form.
    open_map(rita, argument_map)
    bar = toolbar(rita, claim)
    expect(bar.get_by_role("button", name="+ Pro")).to_be_visible()
    expect(bar.get_by_role("button", name="Report")).to_be_visible()

    moderation.member_mute(
        argument_map=argument_map,
        user=cast["rita"],
        until=timezone.now() + timedelta(hours=1),
        reason="Cooling off",
        by=cast["mo"],
    )
    open_map(rita, argument_map)
    expect(rita.locator("main")).to_contain_text("You are muted in this map")
    bar = toolbar(rita, claim)
    for name in ("+ Pro", "+ Con", "Report"):
        expect(bar.get_by_role("button", name=name)).to_have_count(0)
    expect(bar.get_by_role("link", name="History")).to_be_visible()  # reading still works

    rita.goto(claim.get_absolute_url())
    main = rita.locator("main")
    expect(main.get_by_role("heading", name="Streets get safer.")).to_be_visible()
    for name in ("Add a pro", "Add a con", "Report"):
        expect(main.get_by_role("link", name=name)).to_have_count(0)
    expect(main.locator("form[data-vote-form]")).to_have_count(0)
    rita.goto(f"/maps/{argument_map.slug}/claims/{claim.pk}/thread/")
    expect(rita.locator("main textarea[name=body]")).to_have_count(0)

    # Posting anyway, as a crafted request with her session and CSRF token: refused, with a reason.
    statuses = rita.evaluate(
        """async (paths) => {
            const token = JSON.parse(document.body.getAttribute("hx-headers"))["X-CSRFToken"];
            const out = [];
            for (const [path, fields] of paths) {
              const response = await fetch(path, {
                method: "POST",
                headers: {"X-CSRFToken": token},
                body: new URLSearchParams(fields),
              });
              out.push([response.status, await response.text()]);
            }
            return out;
        }""",
        [
            [f"/maps/streets/claims/{thesis.pk}/add/", {"stance": "support", "text": "Sneaky"}],
            [f"/maps/streets/claims/{claim.pk}/flag/", {"reason": "spam"}],
            [f"/maps/streets/claims/{claim.pk}/thread/", {"body": "Sneaky comment"}],
            [f"/maps/streets/claims/{claim.pk}/vote/", {"value": "4"}],
        ],
    )
    assert [status for status, _ in statuses] == [403, 403, 403, 403]
    assert "You are muted in this map" in statuses[0][1]
    assert "Cooling off" in statuses[1][1]
    assert not Claim.objects.filter(text="Sneaky").exists()
    assert not Flag.objects.exists()
    assert not Comment.objects.filter(body="Sneaky comment").exists()
    assert not Vote.objects.exists()


def test_reporting_from_the_action_bar_and_the_threshold_hides_live(
    open_page, cast, expected_problems
):
    # The refused first try (no fallacy named) is a 422 the browser logs.
    expected_problems.append(re.compile(r"status of 422 .*/flag/"))
    argument_map = small_map(cast, pre=False)
    argument_map.flag_threshold = 1
    argument_map.save()
    claim = Claim.objects.get(map=argument_map, text="Streets get safer.")
    rita, bob = open_page(cast["rita"], name="rita"), open_page(cast["bob"], name="bob")
    open_map(rita, argument_map)
    open_map(bob, argument_map)

    toolbar(rita, claim).get_by_role("button", name="Report").click()
    form = rita.locator(f"#compose-{claim.pk} form[data-flag-form]")
    expect(form).to_be_visible()
    fallacy = form.get_by_label("Which fallacy? (for “Fallacy”)")
    expect(fallacy).to_be_hidden()  # asked for only when "Fallacy" is the reason
    form.get_by_label("Fallacy", exact=True).check()
    expect(fallacy).to_be_visible()
    form.get_by_role("button", name="Report").click()
    # Refused with the reason next to the field; the form stays, with what was chosen.
    form = rita.locator(f"#compose-{claim.pk} form[data-flag-form]")
    expect(form).to_contain_text(moderation.FLAG_FALLACY_REQUIRED)
    expect(form.get_by_label("Fallacy", exact=True)).to_be_checked()
    form.get_by_label("Which fallacy? (for “Fallacy”)").fill("Post hoc")
    form.get_by_role("button", name="Report").click()

    # One report reaches this map's threshold: the claim is hidden for readers, live.
    expect(bob.locator(f"#claim-{claim.pk}")).to_have_count(0, timeout=LIVE)
    expect(rita.locator(f"#claim-{claim.pk}")).to_have_count(0, timeout=LIVE)
    assert_not_reloaded(bob)
    claim.refresh_from_db()
    assert claim.status == Claim.Status.HIDDEN
    assert Flag.objects.get(claim=claim).fallacy == "Post hoc"
    assert ModerationAction.objects.filter(
        claim=claim, action=ModerationAction.Action.AUTO_HIDE
    ).exists()


def test_a_moderator_hides_a_claim_from_the_action_bar_and_readers_lose_it_live(
    open_page, cast, expected_problems
):
    expected_problems.append(re.compile(r"status of 422 .*/moderate/hide/"))
    argument_map = small_map(cast, pre=False)
    claim = Claim.objects.get(map=argument_map, text="Streets get safer.")
    mo, bob = open_page(cast["mo"], name="mo"), open_page(cast["bob"], name="bob")
    open_map(mo, argument_map)
    open_map(bob, argument_map)
    expect(bob.locator(f"#claim-{claim.pk}")).to_be_visible()
    # A reader's bar has no moderator actions.
    expect(toolbar(bob, claim).get_by_role("button", name="Hide")).to_have_count(0)

    toolbar(mo, claim).get_by_role("button", name="Hide").click()
    form = mo.locator(f"#compose-{claim.pk} form[data-mod-form]")
    form.get_by_label(re.compile("Reason to hide")).fill("   ")  # blank: refused in place
    form.get_by_role("button", name="Hide").click()
    expect(form).to_contain_text(moderation.REASON_REQUIRED)
    form.get_by_label(re.compile("Reason to hide")).fill("Off-topic advertising")
    form.get_by_role("button", name="Hide").click()
    expect(mo.locator(f"#compose-{claim.pk} form")).to_have_count(0)
    expect(mo.locator("#live-notice")).to_contain_text("Hidden.")

    expect(bob.locator(f"#claim-{claim.pk}")).to_have_count(0, timeout=LIVE)
    assert_not_reloaded(bob)
    # The moderator still sees it, marked hidden.
    expect(mo.locator(f"#claim-{claim.pk}")).to_have_class(re.compile("is-hidden"), timeout=LIVE)
    entry = ModerationAction.objects.get(claim=claim)
    assert (entry.action, entry.reason) == (ModerationAction.Action.HIDE, "Off-topic advertising")
