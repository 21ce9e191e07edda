"""Live updates: "what changed since version v", the bus (local and PostgreSQL LISTEN/NOTIFY) and
the server-sent-events stream (DESIGN.md "Writing together": notify-then-pull).

pytest-asyncio is not installed: async scenarios run in ``asyncio.run`` inside sync tests, and
database writes that must commit on their own run in threads with their own connections.
"""

from __future__ import annotations

import asyncio
import contextlib
import threading
import time
from collections.abc import Callable
from html.parser import HTMLParser

import psycopg
import pytest
from asgiref.sync import sync_to_async
from django.db import connection, connections, transaction
from django.test import AsyncClient, Client
from django.test.utils import CaptureQueriesContext

from argmap import bus, services
from argmap.models import ArgumentMap, Claim
from argmap.views import live
from tests.conftest import claim_by_text


def run_async(coroutine):
    """``asyncio.run`` in a fresh thread: Playwright's sync API keeps an event loop running in
    the test thread once a browser test has run, and asyncio.run refuses to nest."""
    outcome: dict = {}

    def target() -> None:
        try:
            outcome["value"] = asyncio.run(coroutine)
        except BaseException as error:  # re-raised in the test thread
            outcome["error"] = error
        finally:
            connections.close_all()

    thread = threading.Thread(target=target)
    thread.start()
    thread.join()
    if "error" in outcome:
        raise outcome["error"]
    return outcome["value"]


SAFER = "Car-free streets are safer"
WALK = "Children can walk to school"
DELIVERIES = "Deliveries get harder"
CLAIMS = [(None, "support", SAFER), (SAFER, "support", WALK), (None, "counter", DELIVERIES)]


def _version(map_id: int) -> int:
    return ArgumentMap.objects.values_list("version", flat=True).get(pk=map_id)


def _thesis(argument_map: ArgumentMap) -> Claim:
    return Claim.objects.get(map=argument_map, parent__isnull=True)


# --- GET /maps/<slug>/changes/?since=V ----------------------------------------------------------


class _Templates(HTMLParser):
    """The <template data-claim=...> of a changes response, by claim id, and its container."""

    def __init__(self, html: str):
        super().__init__(convert_charrefs=True)
        self.html = html
        self.changes: dict[int, dict[str, str | None]] = {}
        self.container: dict[str, str | None] = {}

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "template":
            self.changes[int(attrs["data-claim"])] = attrs
        elif attrs.get("id") == "live-changes":
            self.container = attrs


def _changes(client: Client, argument_map: ArgumentMap, since) -> _Templates:
    response = client.get(f"/maps/{argument_map.slug}/changes/", {"since": since})
    assert response.status_code == 200
    parser = _Templates(response.content.decode())
    parser.feed(parser.html)
    return parser


@pytest.fixture
def live_map(make_map):
    return make_map(slug="live", claims=CLAIMS)


@pytest.mark.django_db
def test_changes_after_an_edit_list_only_the_edited_claim(client, live_map):
    walk = claim_by_text(live_map, WALK)
    since = _version(live_map.pk)
    services.claim_edit(claim=walk, expected_version=1, text="Kids walk to school", quote=None)

    changes = _changes(client, live_map, since)

    assert set(changes.changes) == {walk.pk}
    change = changes.changes[walk.pk]
    assert change["data-parent"] == str(walk.parent_id)
    assert change["data-position"] == str(walk.position)
    assert change["data-state"] == "visible"
    assert "Kids walk to school" in changes.html
    assert changes.container["data-version"] == str(since + 1)
    assert changes.container["data-since"] == str(since)


@pytest.mark.django_db
def test_changes_after_an_add_include_the_new_claim_and_its_parent_with_new_counts(
    client, live_map
):
    safer = claim_by_text(live_map, SAFER)
    since = _version(live_map.pk)
    added = services.claim_add(parent=safer, stance="counter", text="Cyclists crash too")

    changes = _changes(client, live_map, since)

    assert set(changes.changes) == {added.pk, safer.pk}
    assert changes.changes[added.pk]["data-parent"] == str(safer.pk)
    assert changes.changes[added.pk]["data-position"] == "1"
    assert changes.changes[safer.pk]["data-state"] == "visible"
    assert '<span class="count-con">1 con</span>' in changes.html


@pytest.mark.django_db
def test_changes_after_a_move_include_the_claim_and_both_parents(client, live_map):
    walk = claim_by_text(live_map, WALK)
    safer = claim_by_text(live_map, SAFER)
    deliveries = claim_by_text(live_map, DELIVERIES)
    since = _version(live_map.pk)
    services.claim_move(claim=walk, new_parent=deliveries, stance="counter")

    changes = _changes(client, live_map, since)

    assert set(changes.changes) == {walk.pk, safer.pk, deliveries.pk}
    moved = changes.changes[walk.pk]
    assert (moved["data-parent"], moved["data-position"]) == (str(deliveries.pk), "0")
    assert all(change["data-state"] == "visible" for change in changes.changes.values())
    assert changes.container["data-version"] == str(since + 1)


@pytest.mark.django_db
def test_changes_after_an_archive_mark_the_subtree_gone_and_refresh_the_parent(client, live_map):
    safer = claim_by_text(live_map, SAFER)
    walk = claim_by_text(live_map, WALK)
    thesis = _thesis(live_map)
    since = _version(live_map.pk)
    services.claim_archive(claim=safer)

    changes = _changes(client, live_map, since)

    assert set(changes.changes) == {safer.pk, walk.pk, thesis.pk}
    assert changes.changes[safer.pk]["data-state"] == "gone"
    assert changes.changes[walk.pk]["data-state"] == "gone"
    assert changes.changes[thesis.pk]["data-state"] == "visible"
    assert SAFER not in changes.html and WALK not in changes.html
    # the thesis is re-rendered with its new counts: no more pro, one con
    assert '<span class="count-pro">0 pro</span>' in changes.html


@pytest.mark.django_db
def test_changes_since_the_current_version_are_empty(client, live_map):
    changes = _changes(client, live_map, _version(live_map.pk))
    assert changes.changes == {}
    assert changes.container["data-version"] == str(_version(live_map.pk))


@pytest.mark.django_db
@pytest.mark.parametrize("since", ["abc", "", "-4", "1e3", "²", "9" * 5000])
def test_changes_since_garbage_is_treated_as_zero(client, live_map, since):
    changes = _changes(client, live_map, since)
    everything = set(Claim.objects.filter(map=live_map).values_list("pk", flat=True))
    assert set(changes.changes) == everything
    assert changes.container["data-since"] == "0"


@pytest.mark.django_db
@pytest.mark.parametrize("who", ["anonymous", "stranger"])
def test_changes_of_a_private_map_are_404_to_strangers(request, make_map, owner, who):
    make_map(slug="secret", claims=CLAIMS, visibility=ArgumentMap.Visibility.PRIVATE)
    client = Client()
    if who == "stranger":
        client.force_login(request.getfixturevalue("stranger"))
    assert client.get("/maps/secret/changes/", {"since": 0}).status_code == 404
    client.force_login(owner)
    assert client.get("/maps/secret/changes/", {"since": 0}).status_code == 200


@pytest.mark.django_db
def test_changes_query_count_does_not_grow_with_the_number_of_changes(client, live_map):
    thesis = _thesis(live_map)
    since = _version(live_map.pk)

    def fetch() -> tuple[int, int]:
        with CaptureQueriesContext(connection) as queries:
            changes = _changes(client, live_map, since)
        return len(queries), len(changes.changes)

    for number in range(3):
        services.claim_add(parent=thesis, stance="support", text=f"Reason {number}")
    few_queries, few = fetch()
    for number in range(3, 30):
        services.claim_add(parent=thesis, stance="support", text=f"Reason {number}")
    many_queries, many = fetch()

    assert (few, many) >= (3, 30)
    assert many_queries == few_queries
    assert few_queries <= 4


# --- the bus, local backend ---------------------------------------------------------------------


def _in_thread(work: Callable[[], object]) -> Callable[[], object]:
    """``work`` wrapped to close this thread's connections when done (for asyncio.to_thread)."""

    def run():
        try:
            return work()
        finally:
            connections.close_all()

    return run


def _edit(claim_pk: int, text: str) -> int:
    """Edit a claim through the service (one transaction); return the map's new version."""
    claim = Claim.objects.get(pk=claim_pk)
    services.claim_edit(claim=claim, expected_version=claim.version, text=text, quote=None)
    return _version(claim.map_id)


class _Rollback(Exception):
    pass


@pytest.fixture
def fresh_hub(monkeypatch):
    """A hub of its own for each test: no subscription or listener leaks between tests."""
    monkeypatch.setattr(bus, "_hub", None)
    yield
    monkeypatch.setattr(bus, "_hub", None)


@pytest.fixture
def local_bus(settings, fresh_hub, monkeypatch):
    settings.ARGMAP_BUS = "local"
    monkeypatch.setattr(bus, "PRESENCE_COALESCE", 0)  # presence counts asserted at once


@pytest.mark.django_db(transaction=True)
def test_local_bus_delivers_only_after_commit(local_bus, live_map):
    walk = claim_by_text(live_map, WALK)
    start = _version(live_map.pk)
    inside, release = threading.Event(), threading.Event()

    def write_and_wait_in_the_transaction():
        with transaction.atomic():
            _edit(walk.pk, "Kids walk to school")
            inside.set()
            assert release.wait(5)

    async def scenario():
        subscription = bus.hub().subscribe(live_map.pk, version=start)
        await subscription.wait(0.05)  # the subscriber's own presence wake-up
        writer = asyncio.ensure_future(
            asyncio.to_thread(_in_thread(write_and_wait_in_the_transaction))
        )
        assert await asyncio.to_thread(inside.wait, 5)
        woke_inside = await subscription.wait(0.3)
        version_inside = subscription.version
        release.set()
        await writer
        woke_after = await subscription.wait(2)
        subscription.close()
        return woke_inside, version_inside, woke_after, subscription.version

    woke_inside, version_inside, woke_after, version_after = run_async(scenario())

    assert (woke_inside, version_inside) == (False, start)
    assert (woke_after, version_after) == (True, start + 1)


@pytest.mark.django_db(transaction=True)
def test_local_bus_never_delivers_a_rolled_back_write(local_bus, live_map):
    walk = claim_by_text(live_map, WALK)
    start = _version(live_map.pk)

    def rolled_back():
        with contextlib.suppress(_Rollback), transaction.atomic():
            _edit(walk.pk, "Never saved")
            raise _Rollback

    async def scenario():
        subscription = bus.hub().subscribe(live_map.pk, version=start)
        await subscription.wait(0.05)
        await asyncio.to_thread(_in_thread(rolled_back))
        after_rollback = (await subscription.wait(0.4), subscription.version)
        # Control: the same write, committed, does arrive.
        committed = await asyncio.to_thread(_in_thread(lambda: _edit(walk.pk, "Saved")))
        after_commit = (await subscription.wait(2), subscription.version)
        subscription.close()
        return after_rollback, committed, after_commit

    after_rollback, committed, after_commit = run_async(scenario())

    assert after_rollback == (False, start)
    assert committed == start + 1
    assert after_commit == (True, start + 1)
    assert _version(live_map.pk) == start + 1


def test_local_bus_coalesces_versions_and_counts_presence(local_bus):
    async def scenario():
        hub = bus.hub()
        first, second = hub.subscribe(7), hub.subscribe(7)
        other = hub.subscribe(8)
        await asyncio.sleep(0)  # let the presence notifications land
        presence = (hub.presence(7), first.presence, second.presence, hub.presence(8))
        await first.wait(0.05)
        for version in (5, 6, 7):  # a burst from other threads
            await asyncio.to_thread(hub.deliver, 7, version)
        burst = (await first.wait(1), first.version, await first.wait(0.1))
        hub.deliver(7, 3)  # an older version never moves a stream backwards
        await asyncio.sleep(0)
        stale = first.version
        second.close()
        await asyncio.sleep(0)
        after_close = (hub.presence(7), first.presence)
        first.close()
        other.close()
        return presence, burst, stale, after_close, hub.presence(7), other.version

    presence, burst, stale, after_close, empty, other_version = run_async(scenario())

    assert presence == (2, 2, 2, 1)
    assert burst == (True, 7, False)  # three versions, one wake-up, nothing left over
    assert stale == 7
    assert after_close == (1, 1)
    assert empty == 0
    assert other_version == 0  # map 8 heard nothing of map 7


# --- the bus, PostgreSQL backend ----------------------------------------------------------------


@pytest.fixture
def postgres_bus(settings, fresh_hub):
    if connection.vendor != "postgresql":
        pytest.skip("LISTEN/NOTIFY needs PostgreSQL (CI runs this on PostgreSQL)")
    settings.ARGMAP_BUS = "postgres"


async def _connected(hub: bus.Hub, timeout: float = 5.0) -> None:
    await asyncio.wait_for(hub.listener_connected.wait(), timeout)


async def _until(predicate: Callable[[], bool], timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            return False
        await asyncio.sleep(0.02)
    return True


@pytest.mark.django_db(transaction=True)
def test_postgres_bus_delivers_a_committed_write_through_listen_notify(postgres_bus, live_map):
    walk = claim_by_text(live_map, WALK)
    start = _version(live_map.pk)

    async def scenario():
        hub = bus.hub()
        subscription = hub.subscribe(live_map.pk)
        await _connected(hub)
        caught_up = subscription.version  # told the current version on connect
        await subscription.wait(0.05)
        committed = await asyncio.to_thread(_in_thread(lambda: _edit(walk.pk, "Kids walk")))
        arrived = await _until(lambda: subscription.version == committed, 2)
        subscription.close()
        return caught_up, committed, arrived

    caught_up, committed, arrived = run_async(scenario())

    assert caught_up == start
    assert committed == start + 1
    assert arrived


@pytest.mark.django_db(transaction=True)
def test_postgres_bus_never_delivers_a_rolled_back_write(postgres_bus, live_map):
    walk = claim_by_text(live_map, WALK)
    start = _version(live_map.pk)

    def rolled_back():
        with contextlib.suppress(_Rollback), transaction.atomic():
            _edit(walk.pk, "Never saved")
            raise _Rollback

    async def scenario():
        hub = bus.hub()
        subscription = hub.subscribe(live_map.pk)
        await _connected(hub)
        await asyncio.to_thread(_in_thread(rolled_back))
        after_rollback = await _until(lambda: subscription.version != start, 0.5)
        committed = await asyncio.to_thread(_in_thread(lambda: _edit(walk.pk, "Saved")))
        after_commit = await _until(lambda: subscription.version == committed, 2)
        subscription.close()
        return after_rollback, after_commit

    after_rollback, after_commit = run_async(scenario())

    assert after_rollback is False
    assert after_commit is True


def _terminate(pid: int) -> bool:
    with psycopg.connect(bus.postgres_conninfo(), autocommit=True) as admin:
        return admin.execute("SELECT pg_terminate_backend(%s)", [pid]).fetchone()[0]


def _backend_alive(pid: int) -> bool:
    with psycopg.connect(bus.postgres_conninfo(), autocommit=True) as admin:
        query = "SELECT count(*) FROM pg_stat_activity WHERE pid = %s"
        return admin.execute(query, [pid]).fetchone()[0] == 1


@pytest.mark.django_db(transaction=True)
def test_postgres_listener_reconnects_by_itself_and_catches_every_stream_up(postgres_bus, make_map):
    first, second = make_map(slug="first", claims=CLAIMS), make_map(slug="second")
    walk = claim_by_text(first, WALK)
    start = [_version(first.pk), _version(second.pk)]

    async def scenario():
        hub = bus.hub()
        subscriptions = [hub.subscribe(first.pk), hub.subscribe(second.pk)]
        await _connected(hub)
        await _until(lambda: all(s.version for s in subscriptions), 2)
        before = [s.version for s in subscriptions]
        # Versions that change while nobody can hear (no NOTIFY): only a catch-up can tell.
        await asyncio.to_thread(
            _in_thread(
                lambda: ArgumentMap.objects.filter(pk__in=[first.pk, second.pk]).update(version=100)
            )
        )
        silent = await _until(lambda: any(s.version == 100 for s in subscriptions), 0.3)
        # The listener's last statement is its catch-up SELECT, not LISTEN, so
        # pg_stat_activity's `query LIKE 'LISTEN%'` does not find it: ask the hub for its pid.
        pid = hub._listen_conn.info.backend_pid
        assert await asyncio.to_thread(_terminate, pid)
        gone = await _until(lambda: not _backend_alive(pid), 2)
        caught_up = await _until(lambda: all(s.version == 100 for s in subscriptions), 5)
        await _connected(hub)
        reconnected_pid = hub._listen_conn.info.backend_pid
        later = await asyncio.to_thread(_in_thread(lambda: _edit(walk.pk, "After the outage")))
        arrived = await _until(lambda: subscriptions[0].version == later, 2)
        for subscription in subscriptions:
            subscription.close()
        return before, silent, gone, caught_up, pid, reconnected_pid, later, arrived

    before, silent, gone, caught_up, pid, reconnected_pid, later, arrived = run_async(scenario())

    assert before == start
    assert silent is False
    assert gone is True
    assert caught_up is True
    assert reconnected_pid != pid
    assert later == 101
    assert arrived is True


# --- the event stream: GET /maps/<slug>/events/ -------------------------------------------------


def _event(chunk: bytes) -> dict[str, str]:
    """One server-sent event (or comment) as a dict of its fields."""
    fields: dict[str, str] = {}
    for line in chunk.decode().strip("\n").split("\n"):
        name, _, value = line.partition(":")
        fields[name or "comment"] = value.strip()
    return fields


class _Stream:
    """Reads an event stream in a task of its own, so a timed-out read never cancels (and so
    ends) the stream's generator."""

    def __init__(self, response):
        self.response = response
        self.content = response.streaming_content
        self.queue: asyncio.Queue[bytes] = asyncio.Queue()
        self.pump = asyncio.ensure_future(self._pump())

    async def _pump(self) -> None:
        async for chunk in self.content:
            await self.queue.put(chunk)

    async def next(self, timeout: float = 2.0) -> dict[str, str]:
        return _event(await asyncio.wait_for(self.queue.get(), timeout))

    async def close(self) -> None:
        self.pump.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await self.pump
        await self.content.aclose()
        await sync_to_async(connections.close_all)()


async def _open(path: str, **headers) -> _Stream:
    response = await AsyncClient().get(path, headers=headers)
    return _Stream(response)


@pytest.fixture
def stream_bus(settings, fresh_hub):
    """The bus the database would use in production: local on SQLite, LISTEN on PostgreSQL."""
    settings.ARGMAP_BUS = "postgres" if connection.vendor == "postgresql" else "local"


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("behind", ["last-event-id", "query", "none"])
def test_stream_starts_with_retry_then_the_version_when_the_client_is_behind(
    stream_bus, live_map, behind
):
    current = _version(live_map.pk)
    path, headers = "/maps/live/events/", {}
    if behind == "last-event-id":
        headers = {"Last-Event-ID": str(current - 2)}
    elif behind == "query":
        path += f"?v={current - 1}"

    async def scenario():
        stream = await _open(path, **headers)
        try:
            return stream.response, [await stream.next(), await stream.next(), await stream.next()]
        finally:
            await stream.close()

    response, (first, second, third) = run_async(scenario())

    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/event-stream")
    assert response["Cache-Control"] == "no-cache"
    assert first == {"retry": "2000"}
    assert second == {"event": "version", "id": str(current), "data": str(current)}
    assert third == {"event": "presence", "data": "1 person here"}


@pytest.mark.django_db(transaction=True)
def test_stream_of_an_up_to_date_client_sends_no_version_then_one_per_write(stream_bus, live_map):
    walk = claim_by_text(live_map, WALK)
    current = _version(live_map.pk)

    async def scenario():
        stream = await _open(f"/maps/live/events/?v={current}")
        try:
            opening = [await stream.next(), await stream.next()]
            quiet = None
            with contextlib.suppress(TimeoutError):
                quiet = await stream.next(timeout=0.4)
            written_at = time.monotonic()
            written = await asyncio.to_thread(_in_thread(lambda: _edit(walk.pk, "Kids walk")))
            event = await stream.next(timeout=2)
            return opening, quiet, written, event, time.monotonic() - written_at
        finally:
            await stream.close()

    opening, quiet, written, event, delay = run_async(scenario())

    assert opening == [{"retry": "2000"}, {"event": "presence", "data": "1 person here"}]
    assert quiet is None
    assert written == current + 1
    assert event == {"event": "version", "id": str(written), "data": str(written)}
    assert delay < 1.0


@pytest.mark.django_db(transaction=True)
def test_stream_coalesces_a_burst_of_writes_into_few_events_ending_at_the_last(
    stream_bus, live_map
):
    walk = claim_by_text(live_map, WALK)
    current = _version(live_map.pk)

    def burst() -> tuple[int, float]:
        started = time.monotonic()
        for number in range(10):
            version = _edit(walk.pk, f"Kids walk, take {number}")
        return version, time.monotonic() - started

    async def scenario():
        stream = await _open(f"/maps/live/events/?v={current}")
        try:
            await stream.next(), await stream.next()  # retry, presence
            final, took = await asyncio.to_thread(_in_thread(burst))
            versions = []
            while not versions or versions[-1] < final:
                event = await stream.next(timeout=2)
                if event.get("event") == "version":
                    versions.append(int(event["id"]))
            return final, versions, took
        finally:
            await stream.close()

    final, versions, took = run_async(scenario())

    assert final == current + 10
    assert versions[-1] == final
    # The first write goes out at once, then at most one event per coalescing window.
    windows = 1 + int(took / live.COALESCE_SECONDS) + 1
    assert len(versions) <= min(windows, 9), (versions, took)
    assert versions == sorted(set(versions))


@pytest.mark.django_db(transaction=True)
def test_stream_tells_every_tab_how_many_people_are_here(stream_bus, live_map):
    current = _version(live_map.pk)
    path = f"/maps/live/events/?v={current}"

    async def scenario():
        first = await _open(path)
        try:
            await first.next()  # retry
            alone = await first.next()
            second = await _open(path)
            try:
                await second.next()
                joined = [await second.next(), await first.next()]
            finally:
                await second.close()  # the tab goes away
            left = await first.next()
            return alone, joined, left
        finally:
            await first.close()

    alone, joined, left = run_async(scenario())

    assert alone == {"event": "presence", "data": "1 person here"}
    assert joined == [{"event": "presence", "data": "2 people here"}] * 2
    assert left == {"event": "presence", "data": "1 person here"}


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("last_id", ["²", "9" * 5000])
def test_stream_treats_a_digit_like_last_event_id_as_unknown(stream_bus, live_map, last_id):
    current = _version(live_map.pk)

    async def scenario():
        client = AsyncClient(raise_request_exception=False)
        response = await client.get("/maps/live/events/", headers={"Last-Event-ID": last_id})
        if response.status_code != 200:
            await sync_to_async(connections.close_all)()
            return response.status_code, []
        stream = _Stream(response)
        try:
            return response.status_code, [await stream.next(), await stream.next()]
        finally:
            await stream.close()

    status, events = run_async(scenario())

    assert status == 200
    assert events[1] == {"event": "version", "id": str(current), "data": str(current)}


@pytest.mark.django_db(transaction=True)
def test_stream_of_a_private_map_is_404(stream_bus, make_map, owner):
    make_map(slug="secret", visibility=ArgumentMap.Visibility.PRIVATE)

    async def scenario():
        stranger = await AsyncClient().get("/maps/secret/events/")
        await sync_to_async(connections.close_all)()
        return stranger.status_code

    assert run_async(scenario()) == 404
