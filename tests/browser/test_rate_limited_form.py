"""A write over its rate limit, in the browser: the message appears beside the form, and the form
(with what was typed in it) stays on the page to be sent again later."""

from __future__ import annotations

import re

from playwright.sync_api import expect

from argmap.models import ArgumentMap, Claim
from argmap.ratelimit import RATE_LIMITED
from tests.browser.conftest import children, make_user


def test_a_claim_over_the_limit_keeps_the_form_and_the_text(
    open_page, expected_problems, settings, seeded_map: ArgumentMap, thesis: Claim
):
    settings.ARGMAP_RATE_LIMITS_ENABLED = True
    # A new account may add one claim a minute.
    settings.ARGMAP_RATE_LIMITS = {**settings.ARGMAP_RATE_LIMITS, "claim": ((5, 60), (1, 60))}
    # Chromium logs every 4xx answer on the console; this one is the point of the test.
    expected_problems.append(re.compile(r"^newcomer console\.error: .*status of 429 .*/add/'"))
    parent = children(thesis)[0]
    page = open_page(make_user("nina-newcomer"), name="newcomer")
    page.goto(seeded_map.get_absolute_url())
    expect(page.locator("#presence")).to_have_text(re.compile(r"\d+ (person|people) here"))

    def compose(text: str):
        page.locator(f"#claim-{parent.pk}").focus()
        page.locator(f"#row-{parent.pk} .claim-actions").get_by_role("button", name="+ Pro").click()
        form = page.locator(f"#compose-{parent.pk} form")
        form.get_by_label("Your claim").fill(text)
        form.get_by_role("button", name="Add claim").click()
        return form

    compose("The first claim goes through.")
    expect(page.locator(f"#group-{parent.pk}")).to_contain_text("The first claim goes through.")

    form = compose("The second one is too soon, and must not be lost.")
    message = page.locator(f"#compose-{parent.pk} .rate-limited")
    expect(message).to_have_count(1)
    expect(message).to_contain_text(RATE_LIMITED.split("{")[0])
    expect(message).to_have_attribute("role", "alert")
    expect(form).to_be_visible()
    expect(form.get_by_label("Your claim")).to_have_value(
        "The second one is too soon, and must not be lost."
    )
    assert not Claim.objects.filter(text__startswith="The second one").exists()
