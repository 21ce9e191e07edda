"""The live-update bus: "map M is now at version V", delivered to this process's event streams.

Notify-then-pull: only ``(map, version)`` travels, never rendered HTML; a stream that hears of a
new version tells its browser, which asks for the changes since the version it has.

Two backends behind one small interface (``announce`` inside a write's transaction, ``Hub``
subscriptions in async views):

- ``local``: in-process. ``announce`` registers an ``on_commit`` hook that hands the version to
  the hub. Enough for the single-process default (``make run``).
- ``postgres``: ``announce`` runs ``pg_notify`` inside the transaction, so PostgreSQL delivers it
  at commit (and never for a rolled-back write) to every process. Each process holds one
  listening connection (psycopg async) that fans notifications out to its own streams, and
  reconnects by itself; after a reconnect every stream is told its map's current version, so
  nothing is missed while the listener was away.

Presence ("N people here") rides the same bus: each process announces how many streams it holds
per map, and every process sums the latest figure from each live process.
"""

from __future__ import annotations

import asyncio
import logging
import os
import threading
import time
import uuid
from collections import defaultdict
from dataclasses import dataclass, field

from django.conf import settings
from django.db import connection, transaction

logger = logging.getLogger(__name__)

CHANNEL = "argmap_events"
PRESENCE_TTL = 45.0  # seconds a process's presence report stays valid
PRESENCE_REFRESH = 15.0
# Joins and leaves within this many seconds reach a map's streams (and the other processes) as
# one presence update: with N viewers, telling all N of every join costs O(N) sends per join.
PRESENCE_COALESCE = 1.0
PROCESS_ID = f"{os.getpid()}-{uuid.uuid4().hex[:8]}"


def backend_name() -> str:
    configured = getattr(settings, "ARGMAP_BUS", "")
    if configured:
        return configured
    return "postgres" if connection.vendor == "postgresql" else "local"


def announce(map_id: int, version: int) -> None:
    """Publish a map's new version once the current transaction commits."""
    if backend_name() == "postgres":
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_notify(%s, %s)", [CHANNEL, f"v:{map_id}:{version}"])
    else:
        transaction.on_commit(lambda: hub().deliver(map_id, version))


@dataclass(eq=False)
class Subscription:
    """One event stream's view of one map: wakes when the map's version or presence changes."""

    hub: Hub
    map_id: int
    loop: asyncio.AbstractEventLoop
    version: int = 0
    presence: int = 0
    _event: asyncio.Event = field(default_factory=asyncio.Event)

    def _notify(self, version: int | None = None, presence: int | None = None) -> None:
        if version is not None and version > self.version:
            self.version = version
        if presence is not None:
            self.presence = presence
        self._event.set()

    async def wait(self, timeout: float) -> bool:
        """Wait until something changed (True) or the timeout passed (False)."""
        try:
            await asyncio.wait_for(self._event.wait(), timeout)
        except TimeoutError:
            return False
        self._event.clear()
        return True

    def close(self) -> None:
        self.hub.unsubscribe(self)


class Hub:
    """This process's subscriptions, fanned out by map. Thread-safe for ``deliver``."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._subs: dict[int, set[Subscription]] = defaultdict(set)
        # presence reports: map id -> process id -> (count, reported at)
        self._remote: dict[int, dict[str, tuple[int, float]]] = defaultdict(dict)
        self._listener: asyncio.Task | None = None
        self._listener_loop: asyncio.AbstractEventLoop | None = None
        self._presence_due: set[int] = set()
        self._tasks: set[asyncio.Future] = set()
        self.listener_connected = asyncio.Event()

    # -- subscriptions -------------------------------------------------------------------
    def subscribe(self, map_id: int, version: int = 0) -> Subscription:
        loop = asyncio.get_running_loop()
        sub = Subscription(self, map_id, loop, version=version)
        with self._lock:
            self._subs[map_id].add(sub)
        if backend_name() == "postgres":
            self._ensure_listener(loop)
        sub.presence = self.presence(map_id)  # its own first figure at once, the others soon
        self._presence_changed(map_id, loop)
        return sub

    def unsubscribe(self, sub: Subscription) -> None:
        with self._lock:
            self._subs[sub.map_id].discard(sub)
            if not self._subs[sub.map_id]:
                del self._subs[sub.map_id]
        self._presence_changed(sub.map_id, sub.loop)

    def local_count(self, map_id: int) -> int:
        with self._lock:
            return len(self._subs.get(map_id, ()))

    def subscribed_maps(self) -> list[int]:
        with self._lock:
            return list(self._subs)

    # -- delivery --------------------------------------------------------------------------
    def deliver(self, map_id: int, version: int) -> None:
        """Wake every local stream of ``map_id``; callable from any thread."""
        with self._lock:
            subs = list(self._subs.get(map_id, ()))
        for sub in subs:
            sub.loop.call_soon_threadsafe(sub._notify, version, None)

    def _deliver_presence(self, map_id: int) -> None:
        count = self.presence(map_id)
        with self._lock:
            subs = list(self._subs.get(map_id, ()))
        for sub in subs:
            sub.loop.call_soon_threadsafe(sub._notify, None, count)

    # -- presence ------------------------------------------------------------------------
    def presence(self, map_id: int) -> int:
        now = time.monotonic()
        remote = sum(
            count
            for process, (count, at) in self._remote.get(map_id, {}).items()
            if process != PROCESS_ID and now - at < PRESENCE_TTL
        )
        return self.local_count(map_id) + remote

    def _presence_changed(self, map_id: int, loop: asyncio.AbstractEventLoop) -> None:
        """Schedule one presence update for the map, PRESENCE_COALESCE after the first change."""
        if PRESENCE_COALESCE <= 0:
            self._flush_presence(map_id)
            return
        with self._lock:
            if map_id in self._presence_due:
                return
            self._presence_due.add(map_id)
        loop.call_soon_threadsafe(loop.call_later, PRESENCE_COALESCE, self._flush_presence, map_id)

    def _flush_presence(self, map_id: int) -> None:
        with self._lock:
            self._presence_due.discard(map_id)
        if backend_name() == "postgres" and self._listener_loop is not None:
            self._listener_loop.call_soon_threadsafe(
                asyncio.ensure_future, self._send_presence([map_id])
            )
        self._deliver_presence(map_id)

    def _record_presence(self, map_id: int, process: str, count: int) -> None:
        if process == PROCESS_ID:
            return
        new = process not in self._remote[map_id]
        self._remote[map_id][process] = (count, time.monotonic())
        self._deliver_presence(map_id)
        if new and self.local_count(map_id):
            # A process we had not heard from: tell it about us now, not at the next refresh.
            task = asyncio.ensure_future(self._send_presence([map_id]))
            self._tasks.add(task)  # keep a reference until it is done (asyncio holds weak ones)
            task.add_done_callback(self._tasks.discard)

    # -- the PostgreSQL listener -----------------------------------------------------------
    def _ensure_listener(self, loop: asyncio.AbstractEventLoop) -> None:
        if self._listener is not None and not self._listener.done():
            return
        self._listener_loop = loop
        self.listener_connected = asyncio.Event()
        self._listener = loop.create_task(self._listen_forever())

    async def _send_presence(self, map_ids: list[int]) -> None:
        """Tell the other processes how many streams this one holds for these maps."""
        conn = getattr(self, "_notify_conn", None)
        if conn is None or conn.closed:
            return
        try:
            for map_id in map_ids:
                payload = f"p:{map_id}:{PROCESS_ID}:{self.local_count(map_id)}"
                await conn.execute("SELECT pg_notify(%s, %s)", [CHANNEL, payload])
        except Exception as error:  # the listener reconnects; the next refresh resends
            logger.warning("could not send presence (%s)", error)

    async def _listen_forever(self) -> None:
        import psycopg

        delay = 0.2
        while True:
            try:
                async with (
                    await psycopg.AsyncConnection.connect(
                        postgres_conninfo(), autocommit=True
                    ) as conn,
                    await psycopg.AsyncConnection.connect(
                        postgres_conninfo(), autocommit=True
                    ) as sender,
                ):
                    # notifies() holds the listening connection's lock while it waits, so this
                    # process's own presence reports go out on a second connection.
                    self._listen_conn, self._notify_conn = conn, sender
                    await conn.execute(f"LISTEN {CHANNEL}")
                    delay = 0.2
                    await self._resync(conn)
                    self.listener_connected.set()
                    refresher = asyncio.ensure_future(self._refresh_presence())
                    try:
                        async for notice in conn.notifies():
                            self._handle(notice.payload)
                    finally:
                        refresher.cancel()
            except asyncio.CancelledError:
                raise
            except Exception as error:  # the database went away: retry with backoff
                logger.warning("event listener lost its connection (%s); reconnecting", error)
            self.listener_connected.clear()
            await asyncio.sleep(delay)
            delay = min(delay * 2, 5.0)

    async def _refresh_presence(self) -> None:
        while True:
            await self._send_presence(self.subscribed_maps())
            await asyncio.sleep(PRESENCE_REFRESH)

    async def _resync(self, conn) -> None:
        """After (re)connecting, tell each stream its map's current version: catch-up."""
        maps = self.subscribed_maps()
        if not maps:
            return
        cursor = await conn.execute(
            "SELECT id, version FROM argmap_argumentmap WHERE id = ANY(%s)", [maps]
        )
        for map_id, version in await cursor.fetchall():
            self.deliver(map_id, version)

    def _handle(self, payload: str) -> None:
        kind, _, rest = payload.partition(":")
        try:
            if kind == "v":
                map_id, version = rest.split(":")
                self.deliver(int(map_id), int(version))
            elif kind == "p":
                map_id, process, count = rest.split(":")
                self._record_presence(int(map_id), process, int(count))
        except ValueError:
            logger.warning("ignoring a malformed event %r", payload)


def postgres_conninfo() -> str:
    """The default database's connection string, for the listening connection."""
    from psycopg.conninfo import make_conninfo

    params = connection.get_connection_params()
    keys = ("dbname", "user", "password", "host", "port", "sslmode", "options")
    chosen = {key: params[key] for key in keys if params.get(key) not in (None, "")}
    # Named, so operators can find the listener in pg_stat_activity.
    return make_conninfo(**chosen, application_name="argmap-listener")


_hub: Hub | None = None
_hub_lock = threading.Lock()


def hub() -> Hub:
    global _hub
    with _hub_lock:
        if _hub is None:
            _hub = Hub()
        return _hub
