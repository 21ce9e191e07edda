"""The owner's pages in a real browser: members are added, re-roled and removed in place (htmx,
no reload), and a refused setting shows its error beside the field with the typing kept."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, expect

from argmap import services
from argmap.models import ArgumentMap, Membership, ModerationAction, Role
from tests.browser.conftest import make_user


@pytest.fixture
def olivia(transactional_db):
    return make_user("olivia-owner")


@pytest.fixture
def walter(transactional_db):
    return make_user("walter-writer")


@pytest.fixture
def owned_map(olivia) -> ArgumentMap:
    return services.map_create(
        slug="owned", title="Owned map", thesis="Cities should ban cars.", owner=olivia
    )


def _not_reloaded(page: Page) -> None:
    page.evaluate("window.argmapNotReloaded = true")


def _still_same_page(page: Page) -> bool:
    return page.evaluate("window.argmapNotReloaded === true")


def test_members_are_added_rerolled_and_removed_in_place(
    open_page, owned_map: ArgumentMap, olivia, walter, expected_problems
):
    # The unknown username is answered 422 on purpose; the browser logs that.
    expected_problems.append(re.compile(r"status of 422 .*/maps/owned/settings/members/"))
    page = open_page(olivia)
    page.goto("/maps/owned/")
    page.get_by_role("link", name="Settings").click()
    page.get_by_role("link", name="Members").click()
    _not_reloaded(page)

    page.get_by_label("Username").fill("no-such-person")
    page.get_by_role("button", name="Add member").click()
    expect(page.locator("#members")).to_contain_text("There is no user called 'no-such-person'.")
    expect(page.get_by_label("Username")).to_have_value("no-such-person")

    page.get_by_label("Username").fill("Walter-Writer")  # any case finds the account
    page.get_by_label("Role", exact=True).select_option("editor")
    page.get_by_role("button", name="Add member").click()
    expect(page.locator("#members")).to_contain_text("walter-writer is now a member (editor).")
    membership = Membership.objects.get(map=owned_map, user=walter)
    assert membership.role == Role.EDITOR

    page.get_by_label("Role of walter-writer").select_option("moderator")
    page.locator(f"#member-{membership.pk}").get_by_role("button", name="Change").click()
    expect(page.locator("#members")).to_contain_text("walter-writer is now moderator.")
    assert Membership.objects.get(pk=membership.pk).role == Role.MODERATOR

    page.once("dialog", lambda dialog: dialog.accept())
    page.locator(f"#member-{membership.pk}").get_by_role("button", name="Remove").click()
    expect(page.locator("#members")).to_contain_text("walter-writer is no longer a member.")
    expect(page.locator(f"#member-{membership.pk}")).to_have_count(0)
    assert _still_same_page(page), "the members page was reloaded"
    actions = set(ModerationAction.objects.filter(map=owned_map).values_list("action", flat=True))
    assert actions == {"member_add", "role_change", "member_remove"}


def test_a_refused_setting_shows_its_error_in_place_and_keeps_the_typing(
    open_page, owned_map: ArgumentMap, olivia, expected_problems
):
    expected_problems.append(re.compile(r"status of 422 .*/maps/owned/settings/"))
    page = open_page(olivia)
    page.goto("/maps/owned/settings/")
    _not_reloaded(page)
    page.get_by_label("Title").fill("")
    page.get_by_label("Description").fill("What I typed stays.")
    page.get_by_label("Title").evaluate("el => el.removeAttribute('required')")
    page.get_by_role("button", name="Save settings").click()
    expect(page.locator(".field-title .errorlist")).to_have_text("A map needs a title.")
    expect(page.get_by_label("Description")).to_have_value("What I typed stays.")

    page.get_by_label("Title").fill("A better title")
    page.get_by_label("Private").check()
    page.get_by_role("button", name="Save settings").click()
    expect(page.locator("#settings-form")).to_contain_text("Settings saved.")
    expect(page.locator("h1")).to_have_text("Settings of “A better title”")
    assert _still_same_page(page), "the settings page was reloaded"
    owned_map.refresh_from_db()
    assert (owned_map.title, owned_map.visibility) == ("A better title", "private")
