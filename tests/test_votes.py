"""Impact votes: the services (cast, change, withdraw; refusals; real-thread races), the vote view's
HTTP contract, aggregates and how the tree shows them (distribution, own vote, comment counts,
status markers, what each reader sees), and sorting siblings by impact."""

from __future__ import annotations

import re
import threading
from datetime import timedelta

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, connections, transaction
from django.utils import timezone

from argmap import services, tree, votes
from argmap.models import ArgumentMap, Claim, Comment, Role, Vote
from argmap.ratelimit import RATE_LIMITED
from argmap.views.votes import VOTE_NONE_TO_WITHDRAW, VOTE_SAVED, VOTE_WITHDRAWN
from tests.conftest import add_member, claim_by_text, response_text, signed_in_client

HTMX = {"HTTP_HX_REQUEST": "true"}
SAFER = "Car-free streets are safer"
TRADE = "Shops sell more"
DELIVERIES = "Deliveries get harder"
CLAIMS = [(None, "support", SAFER), (None, "support", TRADE), (None, "counter", DELIVERIES)]


@pytest.fixture
def vote_map(make_map) -> ArgumentMap:
    return make_map(slug="votes", claims=CLAIMS)


def _url(argument_map: ArgumentMap, claim: Claim, suffix: str = "vote/") -> str:
    return f"/maps/{argument_map.slug}/claims/{claim.pk}/{suffix}"


def _version(argument_map: ArgumentMap) -> int:
    return ArgumentMap.objects.values_list("version", flat=True).get(pk=argument_map.pk)


def _set_status(claim: Claim, status: str) -> None:
    Claim.objects.filter(pk=claim.pk).update(status=status)
    claim.refresh_from_db()


# --- services -----------------------------------------------------------------------------------


@pytest.mark.django_db
def test_cast_creates_one_vote_and_a_change_updates_it(vote_map, writer, viewer):
    claim = claim_by_text(vote_map, SAFER)
    votes.vote_cast(claim=claim, user=writer, value=3)
    votes.vote_cast(claim=claim, user=writer, value=1)
    votes.vote_cast(claim=claim, user=viewer, value=4)
    assert sorted(Vote.objects.filter(claim=claim).values_list("user__username", "value")) == [
        (viewer.username, 4),
        (writer.username, 1),
    ]


@pytest.mark.django_db
def test_cast_and_withdraw_tick_the_map_clock_and_touch_the_claim(vote_map, writer):
    claim = claim_by_text(vote_map, SAFER)
    before = _version(vote_map)
    votes.vote_cast(claim=claim, user=writer, value=2)
    after_cast = _version(vote_map)
    claim.refresh_from_db()
    assert after_cast == before + 1 and claim.changed_in == after_cast
    assert votes.vote_withdraw(claim=claim, user=writer) is True
    claim.refresh_from_db()
    assert _version(vote_map) == after_cast + 1 == claim.changed_in
    assert not Vote.objects.filter(claim=claim).exists()


@pytest.mark.django_db
def test_withdrawing_no_vote_changes_nothing(vote_map, writer):
    claim = claim_by_text(vote_map, SAFER)
    before = _version(vote_map)
    assert votes.vote_withdraw(claim=claim, user=writer) is False
    assert _version(vote_map) == before


@pytest.mark.django_db
@pytest.mark.parametrize("value", [-1, 5, 99, "5", "x", "", " ", "2.5", 2.5, True, None, "٣"])
def test_out_of_range_values_are_refused(vote_map, writer, value):
    claim = claim_by_text(vote_map, SAFER)
    before = _version(vote_map)
    with pytest.raises(ValidationError) as refused:
        votes.vote_cast(claim=claim, user=writer, value=value)
    assert votes.VOTE_OUT_OF_RANGE in refused.value.messages
    assert not Vote.objects.exists()
    assert _version(vote_map) == before


@pytest.mark.django_db
@pytest.mark.parametrize("value", [0, 4, "0", "4", " 3 "])
def test_values_at_the_ends_of_the_scale_and_digit_strings_are_accepted(vote_map, writer, value):
    claim = claim_by_text(vote_map, SAFER)
    vote = votes.vote_cast(claim=claim, user=writer, value=value)
    assert vote.value == int(str(value).strip())


@pytest.mark.django_db
@pytest.mark.parametrize("status", ["pending", "hidden", "archived"])
def test_votes_on_claims_that_are_not_published_are_refused(vote_map, writer, status):
    claim = claim_by_text(vote_map, SAFER)
    _set_status(claim, status)
    before = _version(vote_map)
    with pytest.raises(ValidationError) as refused:
        votes.vote_cast(claim=claim, user=writer, value=2)
    assert refused.value.messages == [votes.VOTE_CLAIM_NOT_OPEN]
    assert not Vote.objects.exists()
    assert _version(vote_map) == before  # the tick was rolled back with the refusal


@pytest.mark.django_db
def test_tally_counts_each_value_and_the_mean_from_the_rows(vote_map, make_user_list):
    claim = claim_by_text(vote_map, SAFER)
    for user, value in zip(make_user_list(5), [4, 4, 3, 0, 4], strict=True):
        votes.vote_cast(claim=claim, user=user, value=value)
    result = votes.tally(claim)
    assert result.counts == [1, 0, 0, 1, 3]
    assert result.total == 5 and result.mean == pytest.approx(3.0)
    assert tree.vote_summary(result, thesis=False) == "Impact: 5 votes, mean 3.0"
    assert tree.vote_summary(votes.tally(claim_by_text(vote_map, TRADE)), thesis=True) == (
        "Agreement: no votes yet"
    )


@pytest.fixture
def make_user_list(django_user_model):
    def make(count: int, prefix: str = "voter"):
        return [
            django_user_model.objects.create_user(username=f"{prefix}-{n}", password="x")
            for n in range(count)
        ]

    return make


# --- real threads, real transactions ------------------------------------------------------------


def _run_threads(count: int, work) -> list[BaseException]:
    errors: list[BaseException] = []

    def wrapper(index: int) -> None:
        try:
            work(index)
        except BaseException as error:  # collected for the test to inspect
            errors.append(error)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=wrapper, args=(i,)) for i in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return errors


@pytest.mark.concurrency
@pytest.mark.django_db(transaction=True)
def test_concurrent_casts_and_changes_leave_exactly_one_vote_per_user(make_map, make_user_list):
    """6 users, each voting from 2 threads at once, 10 casts or changes per thread: one row per
    user at the end, holding a value that user cast, and the map clock counted every cast."""
    argument_map = make_map(slug="race", claims=[(None, "support", SAFER)])
    claim = claim_by_text(argument_map, SAFER)
    users = make_user_list(6, "racer")
    cast: dict[int, set[int]] = {user.pk: set() for user in users}
    before = _version(argument_map)

    def work(index: int) -> None:
        user = users[index % len(users)]
        for step in range(10):
            value = (index + step) % 5
            cast[user.pk].add(value)
            votes.vote_cast(claim=claim, user=user, value=value)

    assert _run_threads(12, work) == []
    rows = list(Vote.objects.filter(claim=claim).values_list("user_id", "value"))
    assert sorted(user_id for user_id, _ in rows) == sorted(cast)
    assert all(value in cast[user_id] for user_id, value in rows)
    assert _version(argument_map) == before + 120
    assert votes.tally(claim).total == 6


@pytest.mark.concurrency
@pytest.mark.django_db(transaction=True)
def test_control_naive_check_then_insert_races_into_the_unique_constraint(make_map, writer):
    """The negative control: "is there a vote? no: insert one", from two threads that both check
    before either inserts, collides (the race the service's lock and upsert are there for)."""
    argument_map = make_map(slug="naive", claims=[(None, "support", SAFER)])
    claim = claim_by_text(argument_map, SAFER)
    both_checked = threading.Barrier(2, timeout=10)

    def naive(_: int) -> None:
        exists = Vote.objects.filter(claim=claim, user=writer).exists()
        both_checked.wait()
        if not exists:
            with transaction.atomic():
                Vote.objects.create(claim=claim, user=writer, value=1)

    errors = _run_threads(2, naive)
    assert len(errors) == 1 and isinstance(errors[0], IntegrityError)
    assert Vote.objects.filter(claim=claim).count() == 1


# --- the vote view ------------------------------------------------------------------------------


@pytest.mark.django_db
def test_anonymous_is_sent_to_log_in(client, vote_map):
    claim = claim_by_text(vote_map, SAFER)
    for method in (client.get, client.post):
        response = method(_url(vote_map, claim))
        assert response.status_code == 302 and "/accounts/login/" in response["Location"]
    assert not Vote.objects.exists()


@pytest.mark.django_db
@pytest.mark.parametrize("method", ["put", "delete", "patch"])
def test_wrong_method_is_405(vote_map, writer, method):
    claim = claim_by_text(vote_map, SAFER)
    response = getattr(signed_in_client(writer), method)(_url(vote_map, claim))
    assert response.status_code == 405


@pytest.mark.django_db
def test_get_shows_the_vote_page_without_htmx_and_the_form_fragment_with_it(vote_map, writer):
    claim = claim_by_text(vote_map, SAFER)
    client = signed_in_client(writer)
    page = response_text(client.get(_url(vote_map, claim)))
    assert "<html" in page and "How much does this claim bear on its parent?" in page
    assert page.count('name="value"') == 5 and "Medium impact" in page
    fragment = response_text(client.get(_url(vote_map, claim), **HTMX))
    assert "<html" not in fragment and fragment.count('name="value"') == 5
    assert f'id="vote-form-{claim.pk}"' in fragment


@pytest.mark.django_db
def test_thesis_asks_for_agreement(vote_map, writer):
    thesis = Claim.objects.get(map=vote_map, parent=None)
    page = response_text(signed_in_client(writer).get(_url(vote_map, thesis)))
    assert "How true do you find the thesis?" in page and "Probably true" in page


@pytest.mark.django_db
def test_plain_post_casts_and_redirects_back_to_a_page_of_ours(vote_map, writer):
    claim = claim_by_text(vote_map, SAFER)
    client = signed_in_client(writer)
    response = client.post(_url(vote_map, claim), {"value": "3", "next": "/maps/votes/"})
    assert response.status_code == 302 and response["Location"] == f"/maps/votes/#claim-{claim.pk}"
    assert Vote.objects.get(claim=claim, user=writer).value == 3
    page = response_text(client.get("/maps/votes/"))
    assert VOTE_SAVED.format(value=3, label="High impact") in page
    # Somewhere else entirely: back to the claim's own page instead.
    response = client.post(_url(vote_map, claim), {"value": "2", "next": "https://evil.test/"})
    assert response["Location"] == f"/maps/votes/claims/{claim.pk}/#claim-{claim.pk}"


@pytest.mark.django_db
def test_htmx_post_answers_the_refreshed_form_and_from_the_tree_also_the_row(vote_map, writer):
    claim = claim_by_text(vote_map, SAFER)
    client = signed_in_client(writer)
    response = client.post(_url(vote_map, claim), {"value": "4"}, **HTMX)
    html = response_text(response)
    assert response.status_code == 200
    assert 'aria-pressed="true" data-vote-value="4"' in html
    assert "Impact: 1 vote, mean 4.0" in html
    assert f'id="row-{claim.pk}"' not in html  # no tree around the claim page's panel
    response = client.post(_url(vote_map, claim), {"value": "1", "in": "tree"}, **HTMX)
    html = response_text(response)
    assert f'<div class="claim-row" id="row-{claim.pk}" hx-swap-oob="true">' in html
    assert "You: 1" in html and 'id="live-notice"' in html


@pytest.mark.django_db
def test_withdraw_removes_the_vote_and_says_so(vote_map, writer):
    claim = claim_by_text(vote_map, SAFER)
    votes.vote_cast(claim=claim, user=writer, value=2)
    client = signed_in_client(writer)
    html = response_text(client.post(_url(vote_map, claim), {"withdraw": "1"}, **HTMX))
    assert VOTE_WITHDRAWN in html and not Vote.objects.exists()
    assert "Withdraw my vote" not in html
    html = response_text(client.post(_url(vote_map, claim), {"withdraw": "1"}, **HTMX))
    assert VOTE_NONE_TO_WITHDRAW in html


@pytest.mark.django_db
@pytest.mark.parametrize("value", ["7", "-1", "abc", ""])
def test_a_bad_value_is_422_with_the_reason_for_htmx_and_plain(vote_map, writer, value):
    claim = claim_by_text(vote_map, SAFER)
    client = signed_in_client(writer)
    for headers in ({}, HTMX):
        response = client.post(_url(vote_map, claim), {"value": value}, **headers)
        assert response.status_code == 422
        assert votes.VOTE_OUT_OF_RANGE in response_text(response)
    assert not Vote.objects.exists()


@pytest.mark.django_db
def test_pending_claim_is_422_for_its_author_and_404_for_others(vote_map, suggester, writer):
    claim = claim_by_text(vote_map, SAFER)
    Claim.objects.filter(pk=claim.pk).update(status="pending", author=suggester)
    response = signed_in_client(suggester).post(_url(vote_map, claim), {"value": "2"}, **HTMX)
    assert response.status_code == 422
    assert votes.VOTE_CLAIM_NOT_OPEN in response_text(response)
    assert signed_in_client(writer).post(_url(vote_map, claim), {"value": "2"}).status_code == 404


@pytest.mark.django_db
def test_forbidden_voters_get_403(vote_map, writer, viewer, stranger):
    claim = claim_by_text(vote_map, SAFER)
    add_member(vote_map, viewer, Role.VIEWER)
    add_member(vote_map, writer, Role.WRITER, muted_until=timezone.now() + timedelta(hours=1))
    assert signed_in_client(viewer).post(_url(vote_map, claim), {"value": "1"}).status_code == 302
    assert signed_in_client(writer).post(_url(vote_map, claim), {"value": "1"}).status_code == 403
    assert signed_in_client(writer).get(_url(vote_map, claim)).status_code == 403
    ArgumentMap.objects.filter(pk=vote_map.pk).update(default_role="none")
    assert signed_in_client(stranger).post(_url(vote_map, claim), {"value": "1"}).status_code == 403
    ArgumentMap.objects.filter(pk=vote_map.pk).update(default_role="auto", status="locked")
    assert signed_in_client(viewer).post(_url(vote_map, claim), {"value": "1"}).status_code == 403
    assert list(Vote.objects.values_list("user_id", flat=True)) == [viewer.pk]


@pytest.mark.django_db
def test_private_map_is_404_to_strangers(make_map, stranger, owner):
    secret = make_map(slug="secret", visibility="private", claims=[(None, "support", SAFER)])
    claim = claim_by_text(secret, SAFER)
    assert signed_in_client(stranger).get(_url(secret, claim)).status_code == 404
    assert signed_in_client(stranger).post(_url(secret, claim), {"value": "1"}).status_code == 404
    assert signed_in_client(owner).post(_url(secret, claim), {"value": "1"}).status_code == 302


@pytest.mark.django_db
def test_claim_of_another_map_is_404(vote_map, make_map, writer):
    other = make_map(slug="other", claims=[(None, "support", "Elsewhere")])
    claim = claim_by_text(other, "Elsewhere")
    assert signed_in_client(writer).get(_url(vote_map, claim)).status_code == 404


@pytest.mark.django_db
def test_votes_are_rate_limited(vote_map, writer, settings):
    settings.ARGMAP_RATE_LIMITS_ENABLED = True
    settings.ARGMAP_RATE_LIMITS = {
        **settings.ARGMAP_RATE_LIMITS,
        "vote": ((2, 60), (2, 60), (9, 60)),
    }
    claim = claim_by_text(vote_map, SAFER)
    client = signed_in_client(writer)
    codes = [client.post(_url(vote_map, claim), {"value": "1"}).status_code for _ in range(3)]
    assert codes[:2] == [302, 302] and codes[2] == 429
    assert RATE_LIMITED.split("{")[0] in response_text(
        client.post(_url(vote_map, claim), {"value": "1"})
    )


# --- the tree shows votes, comments and status --------------------------------------------------


def _row(html: str, claim: Claim) -> str:
    match = re.search(rf'<div class="claim-row" id="row-{claim.pk}".*?</div>', html, re.S)
    assert match, f"no row for claim {claim.pk}"
    return match.group(0)


@pytest.mark.django_db
def test_rows_show_the_distribution_the_mean_and_the_readers_own_vote(
    vote_map, writer, make_user_list
):
    claim = claim_by_text(vote_map, SAFER)
    for user, value in zip(make_user_list(3), [2, 2, 4], strict=True):
        votes.vote_cast(claim=claim, user=user, value=value)
    votes.vote_cast(claim=claim, user=writer, value=4)
    thesis = Claim.objects.get(map=vote_map, parent=None)
    votes.vote_cast(claim=thesis, user=writer, value=1)

    mine = _row(response_text(signed_in_client(writer).get("/maps/votes/")), claim)
    assert "Impact: 4 votes, mean 3.0" in mine
    # Two 2s and two 4s: both full height; the reader's bucket (4) marked as theirs.
    assert re.findall(r'class="vote-bar (h\d)( mine)?"', mine) == [
        ("h0", ""),
        ("h0", ""),
        ("h8", ""),
        ("h0", ""),
        ("h8", " mine"),
    ]
    assert ">You: 4<" in mine and 'class="vote-toggle voted"' in mine
    assert f'href="/maps/votes/claims/{claim.pk}/vote/"' in mine

    page = response_text(signed_in_client(None).get("/maps/votes/"))
    anon = _row(page, claim)
    assert "Impact: 4 votes, mean 3.0" in anon and "vote-toggle" not in anon and " mine" not in anon
    assert "Agreement: 1 vote, mean 1.0" in _row(page, thesis)


@pytest.mark.django_db
def test_rows_offer_a_vote_only_to_those_who_may_vote(vote_map, writer, stranger):
    claim = claim_by_text(vote_map, SAFER)
    votes.vote_cast(claim=claim, user=writer, value=3)
    add_member(vote_map, writer, Role.WRITER, muted_until=timezone.now() + timedelta(hours=1))
    muted = _row(response_text(signed_in_client(writer).get("/maps/votes/")), claim)
    assert "vote-toggle" not in muted and 'class="vote-mine">You: 3<' in muted
    assert ">Vote<" in _row(response_text(signed_in_client(stranger).get("/maps/votes/")), claim)


@pytest.mark.django_db
def test_rows_count_visible_comments_and_link_to_the_thread(vote_map, writer):
    claim = claim_by_text(vote_map, SAFER)
    for status in ["visible", "visible", "pending", "hidden", "deleted"]:
        Comment.objects.create(map=vote_map, claim=claim, author=writer, body="Hm", status=status)
    row = _row(response_text(signed_in_client(None).get("/maps/votes/")), claim)
    assert f'href="/maps/votes/claims/{claim.pk}/thread/"' in row
    assert ">2 comments</a>" in row and 'aria-label="Discussion: 2 comments"' in row
    other = _row(
        response_text(signed_in_client(None).get("/maps/votes/")), claim_by_text(vote_map, TRADE)
    )
    assert ">0 comments</a>" in other


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("status", "marker"), [("pending", "Pending approval"), ("hidden", "Hidden")]
)
def test_pending_and_hidden_claims_show_to_their_author_and_moderators_only(
    vote_map, writer, moderator, stranger, status, marker
):
    claim = claim_by_text(vote_map, SAFER)
    Claim.objects.filter(pk=claim.pk).update(status=status, author=writer)
    add_member(vote_map, moderator, Role.MODERATOR)
    css = f"marker-{status}"
    for reader in (writer, moderator):
        html = response_text(signed_in_client(reader).get("/maps/votes/"))
        assert f'<span class="marker {css}">{marker}</span>' in _row(html, claim)
        assert f'class="claim support is-{status}"' in html
        assert "vote-toggle" not in _row(html, claim)  # not open for votes
    for reader in (stranger, None):
        html = response_text(signed_in_client(reader).get("/maps/votes/"))
        assert f'id="claim-{claim.pk}"' not in html
    # The thesis's counts follow the reader too: SAFER and TRADE support it.
    thesis = Claim.objects.get(map=vote_map, parent=None)
    for reader, pros in ((stranger, "1 pro"), (writer, "2 pro"), (moderator, "2 pro")):
        html = response_text(signed_in_client(reader).get("/maps/votes/"))
        assert f'<span class="count-pro">{pros}</span>' in _row(html, thesis)


@pytest.mark.django_db
def test_a_pending_claims_children_page_and_claim_page_follow_the_same_rule(
    vote_map, suggester, stranger
):
    claim = claim_by_text(vote_map, SAFER)
    child = services.claim_add(parent=claim, stance="support", text="Kids walk to school")
    Claim.objects.filter(pk=child.pk).update(status="pending", author=suggester)
    url = f"/maps/votes/claims/{claim.pk}/children/"
    assert "Pending approval" in response_text(signed_in_client(suggester).get(url, **HTMX))
    assert f"claim-{child.pk}" not in response_text(signed_in_client(stranger).get(url, **HTMX))
    page = response_text(signed_in_client(suggester).get(f"/maps/votes/claims/{child.pk}/"))
    assert 'class="marker marker-pending"' in page


@pytest.mark.django_db
def test_locked_claims_are_marked_for_everyone(vote_map):
    claim = claim_by_text(vote_map, SAFER)
    Claim.objects.filter(pk=claim.pk).update(locked=True)
    html = response_text(signed_in_client(None).get("/maps/votes/"))
    assert '<span class="marker marker-locked"' in _row(html, claim)
    assert "is-locked" in html


@pytest.mark.django_db
def test_live_changes_bring_a_vote_to_every_reader_rendered_for_them(vote_map, writer, viewer):
    claim = claim_by_text(vote_map, SAFER)
    since = _version(vote_map)
    votes.vote_cast(claim=claim, user=writer, value=3)
    for reader, own in ((writer, ">You: 3<"), (viewer, ">Vote<")):
        html = response_text(signed_in_client(reader).get("/maps/votes/changes/", {"since": since}))
        assert f'data-claim="{claim.pk}"' in html and 'data-state="visible"' in html
        assert "Impact: 1 vote, mean 3.0" in html and own in html


@pytest.mark.django_db
def test_live_changes_show_a_pending_claim_only_to_its_author_and_moderators(
    vote_map, suggester, moderator, stranger
):
    thesis = Claim.objects.get(map=vote_map, parent=None)
    add_member(vote_map, moderator, Role.MODERATOR)
    since = _version(vote_map)
    claim = services.claim_add(
        parent=thesis, stance="counter", text="Noise moves", by=suggester, status="pending"
    )

    def state(reader) -> str:
        html = response_text(signed_in_client(reader).get("/maps/votes/changes/", {"since": since}))
        match = re.search(rf'<template data-claim="{claim.pk}"[^>]*data-state="(\w+)"', html)
        return match.group(1)

    assert state(suggester) == state(moderator) == "visible"
    assert state(stranger) == state(None) == "gone"
    # Approved: now everyone gets it; hidden later: gone again for all but author and moderators.
    since = _version(vote_map)
    Claim.objects.filter(pk=claim.pk).update(status="published", changed_in=since + 1)
    ArgumentMap.objects.filter(pk=vote_map.pk).update(version=since + 1)
    assert state(stranger) == state(None) == "visible"
    Claim.objects.filter(pk=claim.pk).update(status="hidden", changed_in=since + 2)
    ArgumentMap.objects.filter(pk=vote_map.pk).update(version=since + 2)
    assert state(stranger) == "gone" and state(moderator) == "visible"


# --- sorting siblings by impact -----------------------------------------------------------------


@pytest.fixture
def ranked(vote_map, make_user_list):
    """SAFER mean 1.0 (2 votes), TRADE mean 3.0 (1 vote), DELIVERIES mean 3.0 (2 votes)."""
    users = make_user_list(2, "ranker")
    safer, trade, deliveries = (claim_by_text(vote_map, t) for t in (SAFER, TRADE, DELIVERIES))
    for user in users:
        votes.vote_cast(claim=safer, user=user, value=1)
        votes.vote_cast(claim=deliveries, user=user, value=3)
    votes.vote_cast(claim=trade, user=users[0], value=3)
    return safer, trade, deliveries


def _order(html: str, claims) -> list[str]:
    found = sorted((html.index(f'id="claim-{c.pk}"'), c.text) for c in claims)
    return [text for _, text in found]


@pytest.mark.django_db
def test_map_page_sorts_siblings_by_impact_when_asked_and_keeps_map_order_otherwise(client, ranked):
    default = response_text(client.get("/maps/votes/"))
    assert _order(default, ranked) == [SAFER, TRADE, DELIVERIES]
    assert 'aria-current="true">map order' in default
    by_impact = response_text(client.get("/maps/votes/?sort=impact"))
    assert _order(by_impact, ranked) == [DELIVERIES, TRADE, SAFER]
    assert 'aria-current="true">by impact' in by_impact and 'data-sort="impact"' in by_impact
    assert "/changes/?sort=impact" in by_impact  # the live pull renders expand links alike
    garbage = response_text(client.get("/maps/votes/?sort=<script>"))
    assert _order(garbage, ranked) == [SAFER, TRADE, DELIVERIES]


@pytest.mark.django_db
def test_unvoted_claims_come_after_voted_ones_even_a_zero(vote_map, writer):
    safer, trade = claim_by_text(vote_map, SAFER), claim_by_text(vote_map, TRADE)
    votes.vote_cast(claim=trade, user=writer, value=0)
    html = response_text(signed_in_client(None).get("/maps/votes/?sort=impact"))
    assert _order(html, [safer, trade, claim_by_text(vote_map, DELIVERIES)]) == [
        TRADE,
        SAFER,
        DELIVERIES,
    ]


@pytest.mark.django_db
def test_expand_and_claim_page_honour_the_sort_and_links_carry_it(client, vote_map, ranked):
    thesis = Claim.objects.get(map=vote_map, parent=None)
    url = f"/maps/votes/claims/{thesis.pk}/children/"
    fragment = response_text(client.get(url + "?sort=impact&level=2", **HTMX))
    assert _order(fragment, ranked) == [DELIVERIES, TRADE, SAFER]
    page = response_text(client.get(f"/maps/votes/claims/{thesis.pk}/?sort=impact"))
    assert _order(page, ranked) == [DELIVERIES, TRADE, SAFER]
    plain = client.get(url + "?sort=impact&offset=2")
    assert plain["Location"] == f"/maps/votes/claims/{thesis.pk}/?offset=2&sort=impact"
    safer = ranked[0]
    services.claim_add(parent=safer, stance="support", text="Kids walk")
    html = response_text(client.get("/maps/votes/?sort=impact"))
    assert f'hx-get="/maps/votes/claims/{safer.pk}/children/?level=3&amp;sort=impact"' in html
    row = _row(response_text(client.get(f"/maps/votes/claims/{thesis.pk}/?sort=impact")), safer)
    assert f'hx-get="/maps/votes/claims/{safer.pk}/children/?level=2&amp;sort=impact"' in row
    assert f'href="/maps/votes/claims/{safer.pk}/?sort=impact"' in row


@pytest.mark.django_db
def test_paging_by_impact_pages_in_impact_order(client, make_map, settings, make_user_list):
    settings.ARGMAP_PAGE_SIZE = 2
    texts = [f"Reason {n}" for n in range(5)]
    argument_map = make_map(slug="paged", claims=[(None, "support", t) for t in texts])
    voter = make_user_list(1, "pager")[0]
    for n, text in enumerate(texts):  # Reason 4 has the most impact, Reason 0 the least
        votes.vote_cast(claim=claim_by_text(argument_map, text), user=voter, value=n)
    thesis = Claim.objects.get(map=argument_map, parent=None)
    first = response_text(client.get("/maps/paged/?sort=impact"))
    claims = [claim_by_text(argument_map, t) for t in texts]
    shown = [c for c in claims if f'id="claim-{c.pk}"' in first]
    assert _order(first, shown) == ["Reason 4", "Reason 3"]
    assert f"/maps/paged/claims/{thesis.pk}/children/?offset=2&amp;level=2&amp;sort=impact" in first
    url = f"/maps/paged/claims/{thesis.pk}/children/?offset=2&level=2&sort=impact"
    second = response_text(client.get(url, **HTMX))
    shown = [c for c in claims if f'id="claim-{c.pk}"' in second]
    assert _order(second, shown) == ["Reason 2", "Reason 1"]
