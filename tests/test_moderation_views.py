"""HTTP contracts of the moderation views: the queue, reports, moderator actions, mutes and the
public log (page, htmx fragment and CSV)."""

from __future__ import annotations

import csv
import io
from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from argmap import moderation, services
from argmap.models import (
    ArgumentMap,
    Claim,
    Comment,
    Flag,
    Membership,
    ModerationAction,
    Role,
)
from argmap.views import claims as claim_views
from argmap.views import moderation as views
from tests.conftest import add_member, response_text, signed_in_client

HTMX = {"HTTP_HX_REQUEST": "true"}
Action = ModerationAction.Action


@pytest.fixture
def mod_map(make_map, moderator, writer, suggester):
    argument_map = make_map(slug="streets", claims=[(None, "support", "Streets get safer")])
    add_member(argument_map, moderator, Role.MODERATOR)
    add_member(argument_map, writer, Role.WRITER)
    add_member(argument_map, suggester, Role.SUGGESTER)
    return argument_map


@pytest.fixture
def claim(mod_map, writer):
    thesis = Claim.objects.get(map=mod_map, parent__isnull=True)
    return services.claim_add(parent=thesis, stance="counter", text="Shops lose trade", by=writer)


@pytest.fixture
def pending(mod_map, suggester):
    thesis = Claim.objects.get(map=mod_map, parent__isnull=True)
    return services.claim_add(
        parent=thesis,
        stance="support",
        text="Children walk to school",
        by=suggester,
        status=Claim.Status.PENDING,
    )


@pytest.fixture
def comment(mod_map, claim, writer):
    return Comment.objects.create(map=mod_map, claim=claim, author=writer, body="Really?")


def url(name: str, *args) -> str:
    return reverse(name, args=args)


# -- the queue -----------------------------------------------------------------------------------


def test_queue_contract(mod_map, moderator, writer, pending):
    path = url("moderation_queue", mod_map.slug)
    anonymous = signed_in_client(None).get(path)
    assert anonymous.status_code == 302 and "/accounts/login/" in anonymous["Location"]
    assert signed_in_client(writer).get(path).status_code == 403
    client = signed_in_client(moderator)
    page = client.get(path)
    assert page.status_code == 200
    assert "<html" in response_text(page) and pending.text in response_text(page)
    fragment = client.get(path, **HTMX)
    assert "<html" not in response_text(fragment)
    assert 'id="queue"' in response_text(fragment)
    assert client.post(path).status_code == 405


def test_private_map_queue_and_log_are_404_to_outsiders(make_map, stranger):
    private = make_map(visibility=ArgumentMap.Visibility.PRIVATE)
    client = signed_in_client(stranger)
    for path in (
        url("moderation_queue", private.slug),
        url("moderation_log", private.slug),
        url("moderation_log_csv", private.slug),
    ):
        assert client.get(path).status_code == 404, path
    assert signed_in_client(None).get(url("moderation_log", private.slug)).status_code == 404


def test_queue_groups_reports_per_item_with_reasons_and_notes(
    mod_map, moderator, claim, viewer, stranger
):
    moderation.flag_create(claim=claim, by=viewer, reason=Flag.Reason.SPAM, note="Selling pills")
    moderation.flag_create(
        claim=claim, by=stranger, reason=Flag.Reason.FALLACY, fallacy="Straw man"
    )
    text = response_text(signed_in_client(moderator).get(url("moderation_queue", mod_map.slug)))
    assert f'id="queue-flag-claim-{claim.pk}"' in text
    assert "2 reports" in text
    assert "Selling pills" in text and "Straw man" in text
    assert text.count(f'id="queue-flag-claim-{claim.pk}"') == 1


def test_approve_from_queue_plain_redirects_and_htmx_removes_the_item(
    mod_map, moderator, pending, suggester
):
    client = signed_in_client(moderator)
    path = url("suggestion_claim", mod_map.slug, pending.pk, "approve")
    assert client.get(path).status_code == 405
    response = client.post(path, {"from": "queue"}, **HTMX)
    assert response.status_code == 200
    assert response["HX-Reswap"] == "delete"
    assert 'id="queue-count"' in response_text(response)
    pending.refresh_from_db()
    assert pending.status == Claim.Status.PUBLISHED
    # A second suggestion through a plain POST: back to the queue.
    thesis = Claim.objects.get(map=mod_map, parent__isnull=True)
    other = services.claim_add(
        parent=thesis, stance="counter", text="Deliveries", by=suggester, status="pending"
    )
    response = client.post(
        url("suggestion_claim", mod_map.slug, other.pk, "approve"), {"from": "queue"}
    )
    assert response.status_code == 302
    assert response["Location"] == url("moderation_queue", mod_map.slug)


def test_reject_without_reason_is_422_and_keeps_nothing_lost(mod_map, moderator, pending):
    client = signed_in_client(moderator)
    path = url("suggestion_claim", mod_map.slug, pending.pk, "reject")
    response = client.post(path, {"from": "queue", "reason": ""}, **HTMX)
    assert response.status_code == 422
    assert moderation.REASON_REQUIRED in response_text(response)
    assert response["HX-Retarget"] == "#queue"
    plain = client.post(path, {"from": "queue", "reason": "x" * 1001})
    assert plain.status_code == 422
    assert "x" * 1001 in response_text(plain)  # the typed reason comes back in the form
    pending.refresh_from_db()
    assert pending.status == Claim.Status.PENDING


def test_non_moderators_cannot_act(mod_map, writer, pending, claim):
    client = signed_in_client(writer)
    for path in (
        url("suggestion_claim", mod_map.slug, pending.pk, "approve"),
        url("flag_resolve", mod_map.slug, "claim", claim.pk, "dismiss"),
        url("claim_moderate", mod_map.slug, claim.pk, "hide"),
        url("map_moderate", mod_map.slug, "lock"),
        url("member_mute", mod_map.slug),
    ):
        assert client.post(path, {"reason": "because"}).status_code == 403, path
    assert (
        signed_in_client(None)
        .post(url("claim_moderate", mod_map.slug, claim.pk, "hide"), {"reason": "x"})
        .status_code
        == 302
    )
    pending.refresh_from_db()
    claim.refresh_from_db()
    assert (pending.status, claim.status) == (Claim.Status.PENDING, Claim.Status.PUBLISHED)


def test_uphold_and_dismiss_from_the_queue(mod_map, moderator, claim, comment, viewer):
    moderation.flag_create(claim=claim, by=viewer, reason=Flag.Reason.ABUSIVE)
    moderation.flag_create(comment=comment, by=viewer, reason=Flag.Reason.SPAM)
    client = signed_in_client(moderator)
    response = client.post(
        url("flag_resolve", mod_map.slug, "claim", claim.pk, "uphold"),
        {"from": "queue", "reason": "Insults"},
        **HTMX,
    )
    assert response.status_code == 200 and response["HX-Reswap"] == "delete"
    claim.refresh_from_db()
    assert claim.status == Claim.Status.HIDDEN
    response = client.post(
        url("flag_resolve", mod_map.slug, "comment", comment.pk, "dismiss"),
        {"from": "queue", "reason": "Not spam"},
    )
    assert response.status_code == 302
    assert Flag.objects.get(comment=comment).status == Flag.Status.DISMISSED
    bad = client.post(url("flag_resolve", mod_map.slug, "vote", claim.pk, "uphold"), {})
    assert bad.status_code == 404


# -- claim and comment actions -------------------------------------------------------------------


def test_hide_claim_form_and_action(mod_map, moderator, claim):
    client = signed_in_client(moderator)
    path = url("claim_moderate", mod_map.slug, claim.pk, "hide")
    page = client.get(path)
    assert page.status_code == 200 and "<html" in response_text(page)
    fragment = client.get(path, **HTMX)
    assert "<html" not in response_text(fragment) and "data-mod-form" in response_text(fragment)
    missing = client.post(path, {"reason": ""})
    assert missing.status_code == 422
    assert moderation.REASON_REQUIRED in response_text(missing)
    done = client.post(path, {"reason": "Abusive"})
    assert done.status_code == 302 and done["Location"] == claim.get_absolute_url()
    live = client.post(
        url("claim_moderate", mod_map.slug, claim.pk, "lock"), {"reason": "x"}, **HTMX
    )
    assert live.status_code == 200 and live["HX-Trigger"] == "argmap:pull"
    assert f'id="compose-{claim.pk}"' in response_text(live)  # the bar's form closes
    assert 'id="queue-count"' not in response_text(live)  # no such element on the map page
    refused = client.post(
        url("claim_moderate", mod_map.slug, claim.pk, "unlock"), {"from": "tree"}, **HTMX
    )
    assert refused.status_code == 422
    assert "data-mod-form" in response_text(refused) and "<html" not in response_text(refused)
    assert moderation.REASON_REQUIRED in response_text(refused)
    claim.refresh_from_db()
    assert claim.status == Claim.Status.HIDDEN and claim.locked
    assert client.post(url("claim_moderate", mod_map.slug, claim.pk, "explode")).status_code == 404
    assert client.put(path).status_code == 405


def test_comment_hide_and_restore_views(mod_map, moderator, comment):
    client = signed_in_client(moderator)
    client.post(url("comment_moderate", mod_map.slug, comment.pk, "hide"), {"reason": "Rude"})
    comment.refresh_from_db()
    assert comment.status == Comment.Status.HIDDEN
    response = client.post(
        url("comment_moderate", mod_map.slug, comment.pk, "restore"),
        {"reason": "OK", "from": "queue"},
        **HTMX,
    )
    assert response["HX-Reswap"] == "delete"
    comment.refresh_from_db()
    assert comment.status == Comment.Status.VISIBLE


def test_map_lock_view(mod_map, moderator, writer):
    client = signed_in_client(moderator)
    response = client.post(url("map_moderate", mod_map.slug, "lock"), {"reason": "Cool off"})
    assert response.status_code == 302
    mod_map.refresh_from_db()
    assert mod_map.status == ArgumentMap.Status.LOCKED
    thesis = Claim.objects.get(map=mod_map, parent__isnull=True)
    refused = signed_in_client(writer).post(
        url("claim_add", mod_map.slug, thesis.pk), {"stance": "support", "text": "New"}
    )
    assert refused.status_code == 403
    again = client.post(url("map_moderate", mod_map.slug, "lock"), {"reason": "Twice"})
    assert again.status_code == 422
    assert moderation.MAP_NOT_OPEN in response_text(again)


# -- mutes ---------------------------------------------------------------------------------------


def test_mute_form_contract(mod_map, moderator, stranger):
    client = signed_in_client(moderator)
    path = url("member_mute", mod_map.slug)
    assert client.get(path).status_code == 200
    unknown = client.post(path, {"username": "nobody", "duration": "1h", "reason": "x"})
    assert unknown.status_code == 422
    assert views.NO_SUCH_USER.format(name="nobody") in response_text(unknown).replace("&#x27;", "'")
    custom = client.post(
        path, {"username": stranger.username, "duration": "custom", "reason": "x"}, **HTMX
    )
    assert custom.status_code == 422 and views.CUSTOM_UNTIL_REQUIRED in response_text(custom)
    no_reason = client.post(path, {"username": stranger.username, "duration": "1h"})
    assert no_reason.status_code == 422
    done = client.post(path, {"username": stranger.username, "duration": "1d", "reason": "Spam"})
    assert done.status_code == 302
    member = Membership.objects.get(map=mod_map, user=stranger)
    assert member.muted_until > timezone.now() + timedelta(hours=23)
    unmute = client.post(
        url("member_unmute", mod_map.slug), {"username": stranger.username, "reason": "Sorry"}
    )
    assert unmute.status_code == 302
    member.refresh_from_db()
    assert member.muted_until is None


def test_muted_members_get_403_with_a_reason_and_no_compose_forms(
    mod_map, moderator, writer, claim
):
    moderation.member_mute(
        argument_map=mod_map,
        user=writer,
        until=timezone.now() + timedelta(hours=2),
        reason="Cooling off",
        by=moderator,
    )
    client = signed_in_client(writer)
    thesis = Claim.objects.get(map=mod_map, parent__isnull=True)
    add = client.post(url("claim_add", mod_map.slug, thesis.pk), {"stance": "support", "text": "x"})
    assert add.status_code == 403
    assert "You are muted in this map" in response_text(add)
    assert "Cooling off" in response_text(add)
    flag = client.post(url("flag_claim", mod_map.slug, claim.pk), {"reason": "spam"})
    assert flag.status_code == 403 and "You are muted" in response_text(flag)
    assert not Flag.objects.exists()
    page = response_text(client.get(mod_map.get_absolute_url()))
    assert 'data-can-add="false"' in page and 'data-can-flag="false"' in page
    assert "You are muted in this map" in page
    claim_page = response_text(client.get(claim.get_absolute_url()))
    assert url("flag_claim", mod_map.slug, claim.pk) not in claim_page
    assert url("claim_add", mod_map.slug, claim.pk) not in claim_page


def test_map_page_links_queue_for_moderators_and_log_for_everyone(
    mod_map, moderator, writer, pending
):
    queue = url("moderation_queue", mod_map.slug)
    log = url("moderation_log", mod_map.slug)
    mine = response_text(signed_in_client(moderator).get(mod_map.get_absolute_url()))
    assert queue in mine and log in mine
    assert '<span class="queue-count">1</span>' in mine
    theirs = response_text(signed_in_client(writer).get(mod_map.get_absolute_url()))
    assert f'href="{queue}"' not in theirs and log in theirs
    assert 'data-can-add="true"' in theirs
    assert log in response_text(signed_in_client(None).get(mod_map.get_absolute_url()))


# -- suggestions through the claim form ----------------------------------------------------------


def test_a_suggesters_claim_is_saved_pending_and_says_so(mod_map, suggester):
    thesis = Claim.objects.get(map=mod_map, parent__isnull=True)
    client = signed_in_client(suggester)
    path = url("claim_add", mod_map.slug, thesis.pk)
    response = client.post(path, {"stance": "support", "text": "Kids play outside"}, **HTMX)
    assert response.status_code == 200
    assert claim_views.CLAIM_PENDING.replace("'", "&#x27;") in response_text(response)
    claim = Claim.objects.get(text="Kids play outside")
    assert claim.status == Claim.Status.PENDING
    plain = client.post(path, {"stance": "counter", "text": "Kids get bored"})
    assert plain.status_code == 302
    assert Claim.objects.get(text="Kids get bored").status == Claim.Status.PENDING
    followed = client.get(plain["Location"])
    assert claim_views.CLAIM_PENDING.replace("'", "&#x27;") in response_text(followed)


def test_a_writers_claim_is_published(mod_map, writer):
    thesis = Claim.objects.get(map=mod_map, parent__isnull=True)
    signed_in_client(writer).post(
        url("claim_add", mod_map.slug, thesis.pk), {"stance": "support", "text": "Quieter"}
    )
    assert Claim.objects.get(text="Quieter").status == Claim.Status.PUBLISHED


def test_no_claims_under_a_locked_claim(mod_map, moderator, writer, claim):
    moderation.claim_lock(claim=claim, by=moderator, reason="Settled")
    response = signed_in_client(writer).post(
        url("claim_add", mod_map.slug, claim.pk), {"stance": "support", "text": "More"}
    )
    assert response.status_code == 403
    assert not Claim.objects.filter(text="More").exists()


# -- reports -------------------------------------------------------------------------------------


def test_flag_claim_contract(mod_map, viewer, claim):
    path = url("flag_claim", mod_map.slug, claim.pk)
    assert signed_in_client(None).get(path).status_code == 302
    client = signed_in_client(viewer)
    page = client.get(path)
    assert page.status_code == 200 and "<html" in response_text(page)
    fragment = client.get(path, **HTMX)
    assert "<html" not in response_text(fragment) and "data-flag-form" in response_text(fragment)
    assert client.put(path).status_code == 405
    invalid = client.post(path, {"reason": "fallacy", "fallacy": ""}, **HTMX)
    assert invalid.status_code == 422
    assert moderation.FLAG_FALLACY_REQUIRED in response_text(invalid)
    done = client.post(path, {"reason": "spam", "note": "Ads"})
    assert done.status_code == 302 and done["Location"] == claim.get_absolute_url()
    again = client.post(path, {"reason": "unclear"}, **HTMX)
    assert again.status_code == 422
    assert moderation.FLAG_ALREADY_OPEN in response_text(again)
    assert Flag.objects.get(claim=claim).note == "Ads"


def test_flag_by_htmx_thanks_and_pulls(mod_map, viewer, claim):
    response = signed_in_client(viewer).post(
        url("flag_claim", mod_map.slug, claim.pk), {"reason": "unclear"}, **HTMX
    )
    assert response.status_code == 200
    assert views.FLAG_THANKS in response_text(response)
    assert response["HX-Trigger"] == "argmap:pull"


def test_flag_comment_and_unseen_targets(mod_map, make_map, viewer, stranger, comment, pending):
    client = signed_in_client(viewer)
    response = client.post(url("flag_comment", mod_map.slug, comment.pk), {"reason": "off_topic"})
    assert response.status_code == 302
    assert Flag.objects.get(comment=comment).reason == Flag.Reason.OFF_TOPIC
    # A pending claim is not the viewer's to see, let alone report; another map's is a 404 here.
    assert client.get(url("flag_claim", mod_map.slug, pending.pk)).status_code == 404
    other = make_map(slug="elsewhere")
    assert client.get(url("flag_comment", other.slug, comment.pk)).status_code == 404
    private = make_map(slug="secret", visibility=ArgumentMap.Visibility.PRIVATE)
    thesis = Claim.objects.get(map=private, parent__isnull=True)
    assert (
        signed_in_client(stranger).get(url("flag_claim", private.slug, thesis.pk)).status_code
        == 404
    )


def test_flags_are_rate_limited(settings, mod_map, viewer, claim, comment):
    settings.ARGMAP_RATE_LIMITS_ENABLED = True
    settings.ARGMAP_RATE_LIMITS = {**settings.ARGMAP_RATE_LIMITS, "flag": ((1, 60), (1, 60))}
    client = signed_in_client(viewer)
    assert (
        client.post(url("flag_claim", mod_map.slug, claim.pk), {"reason": "spam"}).status_code
        == 302
    )
    refused = client.post(url("flag_comment", mod_map.slug, comment.pk), {"reason": "spam"})
    assert refused.status_code == 429


# -- the log -------------------------------------------------------------------------------------


@pytest.fixture
def logged(mod_map, moderator, owner, claim, writer):
    moderation.claim_hide(claim=claim, by=moderator, reason="Abusive")
    moderation.claim_unhide(claim=claim, by=owner, reason='=HYPERLINK("http://evil")')
    moderation.claim_lock(claim=claim, by=moderator, reason="@SUM(1)")
    ModerationAction.objects.create(
        map=mod_map, actor=owner, action=Action.SETTINGS, reason="private note", public=False
    )
    return mod_map


def test_log_is_public_newest_first_and_hides_private_entries(logged, moderator):
    path = url("moderation_log", logged.slug)
    text = response_text(signed_in_client(None).get(path))
    assert text.index("@SUM(1)") < text.index("Abusive")
    assert "private note" not in text
    assert "private note" in response_text(signed_in_client(moderator).get(path))
    fragment = response_text(signed_in_client(None).get(path, **HTMX))
    assert "<html" not in fragment and 'id="log"' in fragment
    assert signed_in_client(None).post(path).status_code == 405
    restore = signed_in_client(None).get(path, HTTP_HX_HISTORY_RESTORE_REQUEST="true", **HTMX)
    assert "<html" in response_text(restore)


def test_log_filters(logged, moderator, owner):
    client = signed_in_client(None)
    path = url("moderation_log", logged.slug)
    by_action = response_text(client.get(path, {"action": "hide"}))
    assert "Abusive" in by_action and "@SUM(1)" not in by_action
    by_actor = response_text(client.get(path, {"actor": owner.username}))
    assert "HYPERLINK" in by_actor and "Abusive" not in by_actor
    tomorrow = (timezone.localdate() + timedelta(days=1)).isoformat()
    future = response_text(client.get(path, {"since": tomorrow}))
    assert "Abusive" not in future and "No entries" in future
    today = timezone.localdate().isoformat()
    assert "Abusive" in response_text(client.get(path, {"since": today, "until": today}))
    # Nonsense filters are ignored with a message, not a 500.
    odd = client.get(path, {"since": "yesterday", "action": "nuke"})
    assert odd.status_code == 200 and "not understood" in response_text(odd)


def test_log_is_paginated(mod_map, moderator, claim, monkeypatch):
    monkeypatch.setattr(views, "LOG_PAGE_SIZE", 2)
    for n in range(3):
        moderation.claim_lock(claim=claim, by=moderator, reason=f"lock {n}")
        moderation.claim_unlock(claim=claim, by=moderator, reason=f"unlock {n}")
    client = signed_in_client(None)
    first = response_text(client.get(url("moderation_log", mod_map.slug)))
    assert "unlock 2" in first and "lock 0" not in first and "Page 1 of 3" in first
    last = response_text(client.get(url("moderation_log", mod_map.slug), {"page": 3}))
    assert "lock 0" in last
    assert client.get(url("moderation_log", mod_map.slug), {"page": "x"}).status_code == 200


def test_log_csv_escapes_formulas_and_keeps_filters(logged, moderator):
    response = signed_in_client(None).get(url("moderation_log_csv", logged.slug))
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/csv")
    assert "attachment" in response["Content-Disposition"]
    rows = list(csv.reader(io.StringIO(response_text(response))))
    header, *entries = rows
    assert header[0] == "time" and len(entries) == 3  # the private entry is left out
    reasons = [row[header.index("reason")] for row in entries]
    assert reasons == ["'@SUM(1)", '\'=HYPERLINK("http://evil")', "Abusive"]
    filtered = signed_in_client(None).get(
        url("moderation_log_csv", logged.slug), {"action": "lock_claim"}
    )
    assert len(list(csv.reader(io.StringIO(response_text(filtered))))) == 2


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("=1+1", "'=1+1"),
        ("+1", "'+1"),
        ("-1", "'-1"),
        ("@A1", "'@A1"),
        ("\tx", "'\tx"),
        ("ok", "ok"),
    ],
)
def test_csv_cell(value, expected):
    assert views.csv_cell(value) == expected
