"""Per-action rate limits: budgets per user and per address, stricter for new accounts, 429 with
a readable message, htmx gets the message beside its form, and counting shared through Redis."""

from __future__ import annotations

import itertools
import json
import os
import random
import socket
import subprocess
import sys
import time
from datetime import timedelta
from pathlib import Path

import pytest
from django.conf import settings as django_settings
from django.contrib.auth.models import AnonymousUser
from django.http import HttpResponse
from django.test import Client, RequestFactory
from django.utils import timezone

from argmap import ratelimit
from argmap.models import Claim
from argmap.ratelimit import RATE_LIMITED, limited
from tests.conftest import claim_by_text, response_text

ROOT = Path(__file__).resolve().parent.parent
HTMX = {"HTTP_HX_REQUEST": "true"}
ACTIONS = sorted(django_settings.ARGMAP_RATE_LIMITS)
# Per action: 3 per minute for an established account, 1 for a new one, 5 per address.
SMALL = ((3, 60), (1, 60), (5, 60))
REFUSED_START = RATE_LIMITED.split("{")[0]


@pytest.fixture
def small_limits(settings):
    settings.ARGMAP_RATE_LIMITS_ENABLED = True
    settings.ARGMAP_RATE_LIMITS = {action: SMALL for action in ACTIONS}
    return settings


def established(user):
    """Make ``user`` older than a day (the cast is created just now: new accounts)."""
    type(user).objects.filter(pk=user.pk).update(date_joined=timezone.now() - timedelta(days=2))
    user.refresh_from_db()
    return user


def request_as(user, *, ip: str = "192.0.2.10", method: str = "post", htmx: bool = False):
    factory = RequestFactory()
    request = getattr(factory, method)("/write/", {"text": "My careful words"}, REMOTE_ADDR=ip)
    request.user = user if user is not None else AnonymousUser()
    request.htmx = htmx
    return request


def statuses(view, user, times: int, **kwargs) -> list[int]:
    return [view(request_as(user, **kwargs)).status_code for _ in range(times)]


def make_view(action: str):
    @limited(action)
    def view(request):
        return HttpResponse("written")

    return view


# --- The decorator, for every action ---------------------------------------------------------


@pytest.mark.parametrize("action", ACTIONS)
def test_budget_exhausted_answers_429_with_message_and_retry_after(small_limits, writer, action):
    view = make_view(action)
    established(writer)
    assert statuses(view, writer, 3) == [200, 200, 200]
    response = view(request_as(writer))
    assert response.status_code == 429
    assert REFUSED_START in response_text(response)
    assert "Please wait" in response_text(response)
    assert 1 <= int(response["Retry-After"]) <= 60


@pytest.mark.parametrize("action", ACTIONS)
def test_new_accounts_get_the_stricter_budget(small_limits, writer, action):
    view = make_view(action)
    assert statuses(view, writer, 2) == [200, 429]


@pytest.mark.parametrize("action", ACTIONS)
def test_budget_is_per_user_across_addresses(small_limits, writer, viewer, action):
    view = make_view(action)
    established(writer)
    established(viewer)
    assert statuses(view, writer, 3, ip="192.0.2.10") == [200, 200, 200]
    # A new address does not give the same person a new budget ...
    assert statuses(view, writer, 1, ip="198.51.100.20") == [429]
    # ... and someone else from the first address still has theirs.
    assert statuses(view, viewer, 1, ip="192.0.2.10") == [200]


@pytest.mark.parametrize("action", ACTIONS)
def test_budget_is_per_address_across_users(small_limits, writer, viewer, editor, action):
    view = make_view(action)
    for user in (writer, viewer, editor):
        established(user)
    assert statuses(view, writer, 3) == [200, 200, 200]
    assert statuses(view, viewer, 2) == [200, 200]  # the address's 5 are spent now
    assert statuses(view, editor, 1) == [429]
    assert statuses(view, editor, 1, ip="198.51.100.20") == [200]


def test_actions_are_counted_apart(small_limits, writer):
    established(writer)
    assert statuses(make_view("claim"), writer, 4) == [200, 200, 200, 429]
    assert statuses(make_view("vote"), writer, 1) == [200]


def test_reads_are_never_counted(small_limits, writer):
    view = make_view("claim")
    assert statuses(view, writer, 10, method="get") == [200] * 10
    assert statuses(view, writer, 1) == [200]


def test_anonymous_writes_are_not_counted(small_limits, writer):
    """They are refused by the view anyway; counting them would let anyone spend a shared
    address's budget without an account."""
    view = make_view("comment")
    established(writer)
    assert statuses(view, None, 10) == [200] * 10
    assert statuses(view, writer, 1) == [200]


def test_ipv6_addresses_count_per_64(small_limits, writer, viewer, editor):
    view = make_view("flag")
    people = [established(user) for user in (writer, viewer, editor)]
    addresses = [f"2001:db8:1:2::{n:x}" for n in range(1, 7)]
    codes = [
        view(request_as(person, ip=address)).status_code
        for person, address in zip(itertools.cycle(people), addresses, strict=False)
    ]
    assert codes == [200] * 5 + [429]
    assert view(request_as(editor, ip="2001:db8:1:3::1")).status_code == 200


def test_ipv4_mapped_ipv6_counts_as_the_ipv4_address():
    request = request_as(None, ip="::ffff:192.0.2.10")
    assert ratelimit.client_ip(request) == "192.0.2.10"


def test_the_window_ends_and_the_budget_returns(small_limits, writer, monkeypatch):
    view = make_view("claim")
    now = 60.0 * 16_666_667 + 20  # 20 seconds into a 60-second window
    monkeypatch.setattr(ratelimit.time, "time", lambda: now)
    assert statuses(view, writer, 2) == [200, 429]
    assert view(request_as(writer))["Retry-After"] == "40"
    now += 40
    assert statuses(view, writer, 1) == [200]


def test_rate_limits_switched_off_count_nothing(settings, writer):
    settings.ARGMAP_RATE_LIMITS_ENABLED = False
    settings.ARGMAP_RATE_LIMITS = {action: SMALL for action in ACTIONS}
    assert statuses(make_view("claim"), writer, 5) == [200] * 5


def test_an_unreachable_cache_lets_the_write_through_and_says_so(
    small_limits, writer, monkeypatch, caplog
):
    def broken(*args, **kwargs):
        raise ConnectionError("cache down")

    monkeypatch.setattr(ratelimit.cache, "add", broken)
    with caplog.at_level("ERROR", logger="argmap.ratelimit"):
        assert statuses(make_view("claim"), writer, 3) == [200, 200, 200]
    assert [r.getMessage() for r in caplog.records] == [
        "Rate limit for 'claim' not counted: the cache failed"
    ] * 3


def test_two_element_entries_give_the_address_three_times_the_account_budget(settings):
    settings.ARGMAP_RATE_LIMITS = {"claim": ((4, 60), (2, 60))}
    limits = ratelimit.budgets("claim")
    assert limits.address == ratelimit.Budget(12, 60)
    assert limits.new_account == ratelimit.Budget(2, 60)


def test_unknown_action_fails_at_import_time():
    with pytest.raises(KeyError):
        limited("no-such-action")


@pytest.mark.parametrize(
    ("seconds", "text"),
    [
        (1, "1 second"),
        (45, "45 seconds"),
        (89, "89 seconds"),
        (90, "2 minutes"),
        (3599, "60 minutes"),
    ],
)
def test_wait_is_said_in_words(seconds, text):
    assert ratelimit.wait_text(seconds) == text


# --- The refusal: htmx keeps its form, a plain POST can send again ---------------------------


def test_htmx_gets_the_message_fragment_placed_before_its_form(small_limits, writer):
    view = make_view("comment")
    view(request_as(writer, htmx=True))
    response = view(request_as(writer, htmx=True))
    assert response.status_code == 429
    text = response_text(response)
    assert text.strip().startswith('<p class="form-errors rate-limited" role="alert">')
    assert "<html" not in text
    assert REFUSED_START in text
    assert response["HX-Retarget"] == "this"
    assert response["HX-Reswap"] == "beforebegin"
    assert "Retry-After" in response


def test_plain_refusal_page_sends_the_same_words_again(small_limits, writer):
    view = make_view("comment")
    view(request_as(writer))
    response = view(request_as(writer))
    assert response.status_code == 429
    text = response_text(response)
    assert "<html" in text
    assert "Send again" in text
    assert 'action="/write/"' in text
    assert "My careful words</textarea>" in text


def test_base_template_swaps_429_into_the_page():
    base = (ROOT / "templates" / "base.html").read_text()
    assert '{"code":"429","swap":true,"error":false}' in base
    assert base.index('"429"') < base.index('"[45].."')


# --- On the real views -----------------------------------------------------------------------


@pytest.fixture
def street_map(make_map):
    return make_map(claims=[(None, "support", "Streets get safer.")])


def add_url(argument_map, parent) -> str:
    return f"/maps/{argument_map.slug}/claims/{parent.pk}/add/"


def test_claim_add_over_budget_is_refused_and_nothing_is_saved(small_limits, street_map, writer):
    parent = claim_by_text(street_map, "Streets get safer.")
    client = Client(REMOTE_ADDR="192.0.2.10")
    client.force_login(writer)  # a new account: one claim a minute
    first = client.post(add_url(street_map, parent), {"stance": "support", "text": "First one."})
    assert first.status_code == 302
    second = client.post(
        add_url(street_map, parent), {"stance": "counter", "text": "Second, too soon."}, **HTMX
    )
    assert second.status_code == 429
    assert REFUSED_START in response_text(second)
    assert second["HX-Retarget"] == "this"
    assert not Claim.objects.filter(text="Second, too soon.").exists()
    # The form itself is still served (reads are not counted).
    assert client.get(add_url(street_map, parent)).status_code == 200


def test_claim_add_refusal_page_keeps_the_claim_text(small_limits, street_map, writer):
    parent = claim_by_text(street_map, "Streets get safer.")
    client = Client(REMOTE_ADDR="192.0.2.10")
    client.force_login(writer)
    client.post(add_url(street_map, parent), {"stance": "support", "text": "First one."})
    response = client.post(
        add_url(street_map, parent), {"stance": "counter", "text": "Words I\r\nwould hate to lose"}
    )
    assert response.status_code == 429
    text = response_text(response)
    assert "Words I\r\nwould hate to lose</textarea>" in text
    assert '<input type="hidden" name="stance" value="counter">' in text


def test_anonymous_claim_add_is_sent_to_log_in_and_not_counted(small_limits, street_map):
    parent = claim_by_text(street_map, "Streets get safer.")
    client = Client(REMOTE_ADDR="192.0.2.99")
    for _ in range(7):
        response = client.post(add_url(street_map, parent), {"stance": "support", "text": "x y"})
        assert response.status_code == 302
        assert "/accounts/login/" in response["Location"]


# Other areas' write views, as they land: each must be rate limited with its action.
LIMITED_VIEWS = [
    ("argmap.views.claims", "claim_add", "claim"),
    ("argmap.views.discussion", "claim_thread", "comment"),
    ("argmap.views.moderation", "flag_claim", "flag"),
    ("argmap.views.moderation", "flag_comment", "flag"),
    ("argmap.views.votes", "claim_vote", "vote"),
]


@pytest.mark.parametrize(("module", "name", "action"), LIMITED_VIEWS)
def test_write_views_are_rate_limited(module, name, action):
    import importlib

    view = getattr(importlib.import_module(module), name, None)
    if view is None or getattr(view, "__name__", "") == "_todo":
        pytest.skip(f"{module}.{name} does not exist yet")
    chain = [view]
    while hasattr(chain[-1], "__wrapped__"):
        chain.append(chain[-1].__wrapped__)
    actions = {getattr(layer, "rate_limit_action", None) for layer in chain} - {None}
    assert actions == {action}, f"{module}.{name} is not decorated with @limited({action!r})"


# --- Counting across processes through Redis ------------------------------------------------

REDIS = ("127.0.0.1", 6379)
# One process: count ``hits`` writes by user ``uid`` from ``ip`` with a 5-a-day account budget.
WORKER = """
import json, sys
from datetime import datetime, timezone
from types import SimpleNamespace
import django
django.setup()
from django.test import RequestFactory
from django.test.utils import override_settings
from argmap import ratelimit
ip, uid, hits = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
request = RequestFactory().post("/", REMOTE_ADDR=ip)
request.user = SimpleNamespace(
    is_authenticated=True, pk=uid, date_joined=datetime(2000, 1, 1, tzinfo=timezone.utc)
)
limits = {"claim": ((5, 86400), (5, 86400), (1000, 86400))}
with override_settings(ARGMAP_RATE_LIMITS=limits, ARGMAP_RATE_LIMITS_ENABLED=True):
    print(json.dumps([ratelimit.hit("claim", request) for _ in range(hits)]))
"""


def redis_up() -> bool:
    try:
        with socket.create_connection(REDIS, timeout=0.5):
            return True
    except OSError:
        return False


@pytest.fixture
def redis_url() -> str:
    if not redis_up():
        reason = "REDIS TESTS NOT RUN: nothing listens on 127.0.0.1:6379 (start redis-server)."
        if os.environ.get("CI") == "true":
            pytest.fail(reason)
        pytest.skip(reason)
    return "redis://127.0.0.1:6379/0"


def run_workers(redis_url: str | None, *, processes: int = 2, hits: int = 4) -> list[int]:
    """Start ``processes`` processes at once, each counting ``hits`` writes by one person from
    one address; return every wait they answered (0: allowed)."""
    # Far from the day's window edge, so every process counts in the same window.
    if 86400 - time.time() % 86400 < 30:
        time.sleep(31)
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "config.settings", "REDIS_URL": redis_url or ""}
    env.pop("DATABASE_URL", None)
    ip = f"10.{random.randrange(256)}.{random.randrange(256)}.{random.randrange(1, 255)}"
    uid = random.randrange(10**9, 10**10)
    workers = [
        subprocess.Popen(
            [sys.executable, "-c", WORKER, ip, str(uid), str(hits)],
            cwd=ROOT,
            env=env,
            stdout=subprocess.PIPE,
            text=True,
        )
        for _ in range(processes)
    ]
    waits: list[int] = []
    for worker in workers:
        out, _ = worker.communicate(timeout=60)
        assert worker.returncode == 0
        waits += json.loads(out.strip().splitlines()[-1])
    return waits


def test_redis_counts_one_budget_across_processes(redis_url):
    waits = run_workers(redis_url, processes=2, hits=4)
    assert len(waits) == 8
    assert waits.count(0) == 5  # exactly the budget, however the two processes interleave


def test_local_memory_cache_grants_each_process_the_whole_budget(redis_url):
    """The negative control, and why argmap.E001 exists: per-process counts let 8 of 8 through."""
    waits = run_workers(None, processes=2, hits=4)
    assert waits.count(0) == 8


WRITE_URLS = {
    "claim": ("claim_add", {"stance": "support", "text": "A fresh point."}),
    "comment": ("claim_thread", {"body": "A fresh comment."}),
    "flag": ("flag_claim", {"reason": "spam", "note": "Looks like spam."}),
    "vote": ("claim_vote", {"value": "2"}),
}


@pytest.mark.parametrize("action", sorted(WRITE_URLS))
def test_each_write_view_answers_429_over_budget_and_never_counts_anonymous_posts(
    small_limits, street_map, writer, action
):
    from django.urls import reverse

    name, data = WRITE_URLS[action]
    claim = claim_by_text(street_map, "Streets get safer.")
    path = reverse(name, args=[street_map.slug, claim.pk])
    anonymous = Client(REMOTE_ADDR="192.0.2.10")
    for _ in range(6):  # more than the address's 5: none of them may count
        assert anonymous.post(path, data).status_code == 302
    client = Client(REMOTE_ADDR="192.0.2.10")
    client.force_login(writer)  # a new account: one a minute
    assert client.post(path, data).status_code != 429
    refused = client.post(path, data, **HTMX)
    assert refused.status_code == 429
    assert REFUSED_START in response_text(refused)
    assert 1 <= int(refused["Retry-After"]) <= 60
    assert refused["HX-Reswap"] == "beforebegin"
