"""Live-update benchmark: how fast a committed write reaches every open event stream.

Run with ``.venv/bin/python bench/live.py`` (``--quick``: 1 and 50 streams only, under a minute).
On PostgreSQL when ``DATABASE_URL`` names one (the main target): it works in a throwaway database
``argmap_bench_live`` that it drops at the end. Otherwise on SQLite, in ``var/bench-live/``.

It creates a small map through the services, starts ONE uvicorn process serving
``config.asgi:application`` and, for 1, 50, 500 and 2,000 open ``/maps/<slug>/events/`` streams
(raw HTTP/1.1 from an asyncio client in this process), measures:

1. latency from commit to receipt: M writes, spaced so coalescing does not merge them; for each
   stream and write, the time from just after the write committed to the first ``version`` event
   at or past that write's version (p50/p95/p99), and the versions never received (missed);
2. the floor in the same run: PostgreSQL, a bare ``NOTIFY`` to one psycopg async listener here,
   then an in-process fan-out to N waiters; SQLite, the in-process fan-out alone;
3. the server's CPU time per delivered event (``/proc/<pid>/stat``) over the write phase;
4. the server's RSS per open stream (``/proc/<pid>/status``), against the RSS with none open;
5. catch-up: 50 streams closed, 5 writes, reconnected with ``Last-Event-ID``: each must get the
   current version at once;
6. add-claim and edit-claim requests (server-side, ``django.test.Client``, median of 50) against
   the floor of a bare conditional ``UPDATE ... WHERE id = %s AND version = %s`` in its own
   transaction;
7. serving topology: requests per second for the home page and a claim page over ASGI and WSGI
   (``uvicorn --interface wsgi``, and gunicorn with one sync worker when it is installed), same
   client, same time.

Writes: on PostgreSQL the services are called from a thread in this process (``pg_notify`` reaches
the server's listener), so the commit time is exact. On SQLite the bus is in-process: a write made
here would never reach the server's streams (checked and reported), so the writes are POSTs to the
server's edit view and the latency is counted from the moment the request was sent (an upper
bound: it includes the write request's own work before its commit).

Prints PASS/MISSED lines per target and one table, and writes ``bench/live-results.json``. Only
errors exit non-zero. See docs/live.md.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import http.client
import os
import resource
import socket
import statistics
import subprocess
import sys
import time
import traceback
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import common
from common import BASE_DIR, BENCH_DIR, Bench

BENCH_DATABASE = "argmap_bench_live"
VAR_DIR = BASE_DIR / "var" / "bench-live"
RESULTS = BENCH_DIR / "live-results.json"
UVICORN = Path(sys.executable).parent / "uvicorn"

LEVELS = (1, 50, 500, 2_000)
QUICK_LEVELS = (1, 50)
WRITES = 20
WRITE_SPACING = 0.3  # seconds: more than twice the streams' 150 ms coalescing window
RECONNECT_STREAMS = 50
BASELINE_WRITES = 10  # writes with no stream open: the server's CPU for the writes themselves
RECONNECT_WRITES = 5
REQUEST_RUNS = 50
REQUEST_WARMUP = 5
THROUGHPUT_CLIENTS = 16
THROUGHPUT_SECONDS = 5.0
CONNECT_CONCURRENCY = 100  # connections being opened at once
CONNECT_SECONDS = 20.0  # the least time allowed to open a level's streams (--quick: 10)
NOFILE_WANTED = 8_192

# (largest number of streams it applies to, p99 target in ms)
P99_TARGETS_MS = ((500, 50.0), (2_000, 250.0))
MEMORY_TARGET_KIB = 64.0
MEMORY_TARGET_FROM = 50  # per-stream memory is noise below this many streams


# --- process limits ---------------------------------------------------------------------------


def raise_nofile(wanted: int = NOFILE_WANTED) -> int:
    """Raise this process's open-file limit (the server inherits it); return the soft limit."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    target = wanted if hard == resource.RLIM_INFINITY else min(max(soft, wanted), hard)
    if target > soft:
        resource.setrlimit(resource.RLIMIT_NOFILE, (target, hard))
    return resource.getrlimit(resource.RLIMIT_NOFILE)[0]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


# --- the server process ---------------------------------------------------------------------


class Server:
    """One uvicorn process on 127.0.0.1, with its CPU time and memory read from /proc."""

    def __init__(
        self, name: str, app: str, *, cwd: Path, env: dict[str, str], wsgi=False, gunicorn=False
    ):
        self.name, self.app, self.cwd, self.env = name, app, cwd, env
        self.wsgi, self.gunicorn = wsgi, gunicorn
        self.port = free_port()
        self.log_path = VAR_DIR / f"server-{name}.log"
        self.proc: subprocess.Popen | None = None
        self._log = None

    def start(self) -> None:
        if self.gunicorn:  # one sync worker: a WSGI deployment's unit of capacity
            args = [sys.executable, "-m", "gunicorn", self.app, "--bind", f"127.0.0.1:{self.port}"]
            args += ["--workers", "1", "--log-level", "warning"]
        else:
            args = [str(UVICORN), self.app, "--host", "127.0.0.1", "--port", str(self.port)]
            args += ["--lifespan", "off", "--log-level", "warning"]
            if self.wsgi:
                args += ["--interface", "wsgi"]
        self._log = open(self.log_path, "wb")  # noqa: SIM115 - closed in stop()
        # The open-file limit raised in this process is inherited: no preexec_fn needed (and
        # preexec_fn is unsafe once the database pool has started threads here).
        self.proc = subprocess.Popen(
            args,
            cwd=self.cwd,
            env=self.env,
            stdin=subprocess.DEVNULL,
            stdout=self._log,
            stderr=subprocess.STDOUT,
        )

    def wait_ready(self, path: str, timeout: float = 30.0) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"{self.name} server exited:\n{self.log_tail()}")
            try:
                conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=5)
                conn.request("GET", path)
                status = conn.getresponse().status
                conn.close()
                if status == 200:
                    return
                raise RuntimeError(f"{self.name} server: GET {path} -> HTTP {status}")
            except OSError:
                time.sleep(0.1)
        raise RuntimeError(f"{self.name} server did not answer in {timeout:.0f} s")

    def cpu_seconds(self) -> float:
        """User + system CPU time of the server and its live children (gunicorn's workers)."""
        return sum(_process_cpu(pid) for pid in _process_tree(self.proc.pid))

    def _status(self, key: str) -> int:
        for line in Path(f"/proc/{self.proc.pid}/status").read_text().splitlines():
            if line.startswith(key + ":"):
                return int(line.split()[1])
        return 0

    def rss_kib(self) -> int:
        return self._status("VmRSS")

    def threads(self) -> int:
        return self._status("Threads")

    def wait_quiet(self, *, busy: float = 0.05, window: float = 0.5, limit: float = 20.0) -> float:
        """Wait (bounded) until the server uses under ``busy`` of a CPU over ``window`` s, so
        one phase's leftovers (closing streams, queued requests) do not bill the next."""
        started = time.monotonic()
        while time.monotonic() - started < limit:
            cpu0 = self.cpu_seconds()
            time.sleep(window)
            if self.cpu_seconds() - cpu0 <= busy * window:
                break
        return time.monotonic() - started

    def log_tail(self, lines: int = 30) -> str:
        try:
            return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return ""

    def errors_logged(self) -> int:
        try:
            text = self.log_path.read_text(errors="replace")
        except OSError:
            return 0
        return text.count("Traceback (most recent call last)")

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(5)
        if self._log is not None:
            self._log.close()
            self._log = None


def _process_tree(pid: int) -> list[int]:
    pids, queue = [], [pid]
    while queue and len(pids) < 64:
        current = queue.pop()
        pids.append(current)
        with contextlib.suppress(OSError):
            for task in Path(f"/proc/{current}/task").iterdir():
                queue += [int(c) for c in (task / "children").read_text().split()]
    return pids


def _process_cpu(pid: int) -> float:
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return 0.0
    after = stat[stat.rindex(")") + 2 :].split()  # fields from 3 (state) on
    return (int(after[11]) + int(after[12])) / os.sysconf("SC_CLK_TCK")


class MachineLoad:
    """How busy the whole machine was between start() and stop() (/proc/stat), and how much
    CPU this benchmark process (the client) used meanwhile."""

    def start(self) -> None:
        self._machine = self._read()
        self._client = self._self_cpu()

    def stop(self) -> dict[str, float]:
        busy0, total0 = self._machine
        busy1, total1 = self._read()
        return {
            "machine_busy_share": round((busy1 - busy0) / max(1, total1 - total0), 3),
            "client_cpu_seconds": round(self._self_cpu() - self._client, 3),
            "load_average_1min": round(os.getloadavg()[0], 2),
        }

    @staticmethod
    def _read() -> tuple[int, int]:
        fields = [int(x) for x in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
        idle = fields[3] + fields[4]  # idle + iowait
        return sum(fields) - idle, sum(fields)

    @staticmethod
    def _self_cpu() -> float:
        usage = resource.getrusage(resource.RUSAGE_SELF)
        return usage.ru_utime + usage.ru_stime


# --- the event-stream client ----------------------------------------------------------------


@dataclass
class Activity:
    """When any stream last received anything (to wait for a connect storm to settle)."""

    last: float = 0.0


class EventStream(asyncio.Protocol):
    """One SSE connection: de-chunks the body, parses events, timestamps each on arrival.

    A Protocol rather than StreamReader keeps the client's own cost per event small, so that at
    2,000 streams the receipt times measure the server, not this loop.
    """

    def __init__(self, request: bytes, activity: Activity):
        self.request = request
        self.activity = activity
        self.transport: asyncio.Transport | None = None
        self.status: int | None = None
        self.error: str | None = None
        self._head = bytearray()
        self._chunked = False
        self._body = bytearray()
        self._text = ""
        self.versions: list[tuple[int, float]] = []  # (version, receipt time)
        self.last_id: int | None = None
        self.presence: str | None = None
        self.events = 0
        self.ready = asyncio.Event()  # the first real event arrived (or the request failed)
        self.opened_at = time.perf_counter()
        self.ready_at: float | None = None

    def connection_made(self, transport) -> None:
        self.transport = transport
        transport.write(self.request)

    def connection_lost(self, exc) -> None:
        if not self.ready.is_set():
            self.error = self.error or f"closed before any event ({exc or 'EOF'})"
            self.ready.set()

    def close(self) -> None:
        if self.transport is not None:
            self.transport.close()

    def data_received(self, data: bytes) -> None:
        now = time.perf_counter()
        self.activity.last = now
        if self.status is None:
            self._head += data
            end = self._head.find(b"\r\n\r\n")
            if end < 0:
                return
            status_line, *lines = self._head[:end].decode("latin-1").split("\r\n")
            data = bytes(self._head[end + 4 :])
            self._head.clear()
            self.status = int(status_line.split()[1])
            headers = {
                k.strip().lower(): v.strip() for k, _, v in (x.partition(":") for x in lines)
            }
            self._chunked = "chunked" in headers.get("transfer-encoding", "").lower()
            if self.status != 200:
                self.error = f"HTTP {self.status}"
                self.ready.set()
                self.close()
                return
        if not self._chunked:
            self._feed(data, now)
            return
        buf = self._body
        buf += data
        while True:
            eol = buf.find(b"\r\n")
            if eol < 0:
                return
            size = int(bytes(buf[:eol]).split(b";")[0], 16)
            if size == 0:
                del buf[:]
                return
            end = eol + 2 + size
            if len(buf) < end + 2:
                return
            payload = bytes(buf[eol + 2 : end])
            del buf[: end + 2]
            self._feed(payload, now)

    def _feed(self, payload: bytes, now: float) -> None:
        self._text += payload.decode("utf-8")
        while "\n\n" in self._text:
            block, self._text = self._text.split("\n\n", 1)
            name, data, event_id = "message", [], None
            for line in block.split("\n"):
                key, _, value = line.partition(":")
                value = value[1:] if value.startswith(" ") else value
                if key == "event":
                    name = value
                elif key == "data":
                    data.append(value)
                elif key == "id":
                    event_id = value
            if not data and event_id is None:
                continue  # a comment (keepalive) or the retry hint
            self.events += 1
            if name == "version":
                self.versions.append((int(data[0]), now))
                if event_id is not None and event_id.isdigit():
                    self.last_id = int(event_id)
            elif name == "presence":
                self.presence = data[0] if data else ""
            if not self.ready.is_set():
                self.ready_at = now
                self.ready.set()

    @property
    def seen(self) -> int:
        return self.versions[-1][0] if self.versions else -1


def stream_request(port: int, slug: str, *, since: int | None, last_event_id: int | None) -> bytes:
    path = f"/maps/{slug}/events/" + (f"?v={since}" if since is not None else "")
    lines = [
        f"GET {path} HTTP/1.1",
        f"Host: 127.0.0.1:{port}",
        "Accept: text/event-stream",
        "Cache-Control: no-cache",
    ]
    if last_event_id is not None:
        lines.append(f"Last-Event-ID: {last_event_id}")
    return ("\r\n".join(lines) + "\r\n\r\n").encode("ascii")


async def open_streams(
    port: int,
    slug: str,
    count: int,
    activity: Activity,
    *,
    since: int | None = None,
    last_event_ids: list[int | None] | None = None,
    deadline: float,
) -> tuple[list[EventStream], list[str]]:
    """Open ``count`` streams (a bounded number at a time) and wait for each one's first event."""
    loop = asyncio.get_running_loop()
    gate = asyncio.Semaphore(CONNECT_CONCURRENCY)

    async def one(index: int) -> EventStream | str:
        last_id = last_event_ids[index] if last_event_ids else None
        request = stream_request(port, slug, since=since, last_event_id=last_id)
        async with gate:
            left = deadline - time.perf_counter()
            if left <= 0:
                return "not tried: connect phase out of time"
            stream = None
            try:
                _, stream = await asyncio.wait_for(
                    loop.create_connection(
                        lambda: EventStream(request, activity), "127.0.0.1", port
                    ),
                    left,
                )
                await asyncio.wait_for(
                    stream.ready.wait(), max(0.1, deadline - time.perf_counter())
                )
            except (TimeoutError, OSError) as error:
                if stream is not None:
                    stream.close()
                return f"{type(error).__name__}: {error}" if str(error) else type(error).__name__
            if stream.error:
                stream.close()
                return stream.error
            return stream

    outcomes = await asyncio.gather(*(one(i) for i in range(count)))
    streams = [o for o in outcomes if isinstance(o, EventStream)]
    return streams, [o for o in outcomes if isinstance(o, str)]


async def settle(activity: Activity, *, quiet: float = 0.5, limit: float = 15.0) -> float:
    """Wait until no stream has received anything for ``quiet`` s (bounded); return the wait."""
    started = time.perf_counter()
    activity.last = max(activity.last, started)
    while time.perf_counter() - started < limit:
        if time.perf_counter() - activity.last >= quiet:
            break
        await asyncio.sleep(0.05)
    return time.perf_counter() - started


async def close_streams(streams: list[EventStream], server: Server, threads_before: int) -> None:
    for stream in streams:
        stream.close()
    # Let the server notice the disconnects and end the requests (bounded).
    deadline = time.perf_counter() + 15.0
    await asyncio.sleep(0.3)
    while time.perf_counter() < deadline and server.threads() > threads_before + 2:
        await asyncio.sleep(0.1)


# --- analysis -------------------------------------------------------------------------------


def percentiles(values: list[float]) -> dict[str, float | None]:
    if not values:
        return {"p50": None, "p95": None, "p99": None, "max": None, "n": 0}
    if len(values) == 1:
        v = values[0]
        return {"p50": v, "p95": v, "p99": v, "max": v, "n": 1}
    q = statistics.quantiles(values, n=100, method="inclusive")
    return {
        "p50": statistics.median(values),
        "p95": q[94],
        "p99": q[98],
        "max": max(values),
        "n": len(values),
    }


def analyse(streams: list[EventStream], commits: list[tuple[int, float]], first_version: int):
    """Latency per (stream, write): first receipt of a version >= the write's, minus its commit."""
    latencies, missed, coalesced, deliveries = [], 0, 0, 0
    for stream in streams:
        events = [(v, t) for v, t in stream.versions if v >= first_version]
        deliveries += len(events)
        exact = {v for v, _ in events}
        index = 0
        for version, committed in commits:
            while index < len(events) and events[index][0] < version:
                index += 1
            if index == len(events):
                missed += 1
                continue
            latencies.append((events[index][1] - committed) * 1000)
            if version not in exact:
                coalesced += 1
    return latencies, missed, coalesced, deliveries


# --- writes ---------------------------------------------------------------------------------


@dataclass
class World:
    """What the phases share: the map, the user, the servers and how writes are made."""

    vendor: str
    slug: str
    map_id: int
    user: Any
    thesis_id: int
    live_claim_id: int  # edited by the live phases
    edit_claim_id: int  # edited by the request phase
    floor_claim_id: int  # updated by the floor of the request phase
    page_claim_id: int  # the page of the throughput phase
    server: Server
    session_cookie: str = ""
    csrf_token: str = ""
    live_claim_version: int = 1
    counter: int = 0
    http_write_ms: list[float] = field(default_factory=list)

    @property
    def via_http(self) -> bool:
        # The local bus only reaches streams in the process that commits: write through the
        # server. PostgreSQL's NOTIFY reaches every process: call the service here.
        return self.vendor != "postgresql"

    def map_version(self) -> int:
        from argmap.models import ArgumentMap

        return ArgumentMap.objects.filter(pk=self.map_id).values_list("version", flat=True).get()

    def write(self, count: int, spacing: float, *, here: bool = False) -> list[tuple[int, float]]:
        """Make ``count`` edits ``spacing`` s apart; return (map version, commit time) of each.
        With ``here``, commit them in this process even where the server could not hear them.

        Runs in a worker thread, so the client's event loop keeps reading meanwhile.
        """
        from django.db import connection

        try:
            if self.via_http and not here:
                return self._write_http(count, spacing)
            return self._write(count, spacing)
        finally:
            connection.close()

    def _write(self, count: int, spacing: float) -> list[tuple[int, float]]:
        from argmap import services
        from argmap.models import Claim

        claim = Claim.objects.get(pk=self.live_claim_id)
        commits, start = [], time.perf_counter()
        for i in range(count):
            time.sleep(max(0.0, start + i * spacing - time.perf_counter()))
            self.counter += 1
            claim = services.claim_edit(
                claim=claim,
                expected_version=claim.version,
                text=f"Live updates reach every open tab, edit {self.counter}",
                quote=None,
                by=self.user,
            )
            commits.append((claim.changed_in, time.perf_counter()))  # just after the commit
        self.live_claim_version = claim.version
        return commits

    def _write_http(self, count: int, spacing: float) -> list[tuple[int, float]]:
        from argmap.models import Claim

        version = Claim.objects.filter(pk=self.live_claim_id).values_list("version", flat=True)
        version = version.get()
        url = f"/maps/{self.slug}/claims/{self.live_claim_id}/edit/"
        headers = {
            "Content-Type": "application/x-www-form-urlencoded",
            "Cookie": f"sessionid={self.session_cookie}; csrftoken={self.csrf_token}",
            "X-CSRFToken": self.csrf_token,
            "HX-Request": "true",
        }
        conn = http.client.HTTPConnection("127.0.0.1", self.server.port, timeout=30)
        commits, start = [], time.perf_counter()
        try:
            for i in range(count):
                time.sleep(max(0.0, start + i * spacing - time.perf_counter()))
                self.counter += 1
                text = f"Live updates reach every open tab, edit {self.counter}"
                body = urlencode({"text": text, "version": version})
                sent = time.perf_counter()
                conn.request("POST", url, body, headers)
                response = conn.getresponse()
                response.read()
                done = time.perf_counter()
                if response.status != 200:
                    raise RuntimeError(f"POST {url}: HTTP {response.status}")
                self.http_write_ms.append((done - sent) * 1000)
                version += 1
                # The commit happened between ``sent`` and ``done``: count from ``sent``.
                commits.append((self.map_version(), sent))
        finally:
            conn.close()
        self.live_claim_version = version
        return commits


# --- the floors -----------------------------------------------------------------------------


async def fanout_floor(world: World, subscribers: int, writes: int) -> dict[str, Any]:
    """The floor for the same number of writes and subscribers, without HTTP or Django.

    PostgreSQL: ``NOTIFY`` from a thread (autocommit, so the statement is the commit) to one
    psycopg async listener on this loop, which wakes ``subscribers`` asyncio waiters. SQLite: a
    thread wakes the waiters through ``call_soon_threadsafe``, as the in-process hub does.
    """
    loop = asyncio.get_running_loop()
    events = [asyncio.Event() for _ in range(subscribers)]
    received: list[list[tuple[int, float]]] = [[] for _ in range(subscribers)]
    heard: list[float] = []
    commits: list[float] = []
    fired = 0  # writes announced so far; one wake-up may cover several under load

    def fire() -> None:
        nonlocal fired
        fired += 1
        for event in events:
            event.set()

    async def waiter(index: int) -> None:
        event, seen = events[index], 0
        while seen < writes:
            await event.wait()
            event.clear()
            now = time.perf_counter()
            while seen < fired:
                received[index].append((seen, now))
                seen += 1

    tasks = [asyncio.ensure_future(waiter(i)) for i in range(subscribers)]
    listener = conn_info = None
    try:
        if world.vendor == "postgresql":
            import psycopg

            from argmap.bus import postgres_conninfo

            conn_info = await asyncio.to_thread(_conninfo, postgres_conninfo)
            listener = await psycopg.AsyncConnection.connect(conn_info, autocommit=True)
            await listener.execute("LISTEN argmap_bench_floor")

            async def listen() -> None:
                async for _ in listener.notifies():
                    heard.append(time.perf_counter())
                    fire()
                    if len(heard) >= writes:
                        return

            listening = asyncio.ensure_future(listen())

            def notify() -> None:
                with psycopg.connect(conn_info, autocommit=True) as conn:
                    for i in range(writes):
                        time.sleep(0.05)
                        conn.execute("SELECT pg_notify('argmap_bench_floor', %s)", [str(i)])
                        commits.append(time.perf_counter())

            await asyncio.to_thread(notify)
            await asyncio.wait([listening], timeout=10)
            listening.cancel()
        else:

            def wake() -> None:
                for _ in range(writes):
                    time.sleep(0.05)
                    commits.append(time.perf_counter())
                    loop.call_soon_threadsafe(fire)

            await asyncio.to_thread(wake)
        await asyncio.wait(tasks, timeout=10)
    finally:
        for task in tasks:
            task.cancel()
        if listener is not None:
            await listener.close()
    fanned = [(t - commits[i]) * 1000 for r in received for i, t in r if i < len(commits)]
    result = {
        "fanout_ms": percentiles(fanned),
        "subscribers": subscribers,
        "writes": writes,
        "received": len(fanned),
    }
    if heard:
        result["listener_ms"] = percentiles(
            [(t - c) * 1000 for t, c in zip(heard, commits, strict=False)]
        )
    return result


def _conninfo(make: Callable[[], str]) -> str:
    from django.db import connection

    try:
        return make()
    finally:
        connection.close()


# --- the live phases ------------------------------------------------------------------------


async def measure_level(
    world: World, streams_wanted: int, baseline_rss: int, threads0: int, write_cpu: float
):
    server, activity = world.server, Activity()
    await asyncio.to_thread(server.wait_quiet)
    version = await asyncio.to_thread(_map_version, world)
    connect_deadline = time.perf_counter() + max(CONNECT_SECONDS, streams_wanted * 0.03)
    began = time.perf_counter()
    streams, failures = await open_streams(
        server.port, world.slug, streams_wanted, activity, since=version, deadline=connect_deadline
    )
    connect_seconds = time.perf_counter() - began
    connect_ms = [(s.ready_at - s.opened_at) * 1000 for s in streams if s.ready_at]
    settled = await settle(activity)
    rss_open = server.rss_kib()
    threads_open = server.threads()
    db_connections = await asyncio.to_thread(_db_connections, world)
    level: dict[str, Any] = {
        "streams": streams_wanted,
        "connected": len(streams),
        "connect_failures": _summarise(failures),
        "connect_seconds": round(connect_seconds, 2),
        "connect_ms": percentiles(connect_ms),
        "settle_seconds": round(settled, 2),
        "server_threads_open": threads_open,
        "server_db_connections_open": db_connections,
        "rss_kib_baseline": baseline_rss,
        "rss_kib_open": rss_open,
        "rss_kib_per_stream": round((rss_open - baseline_rss) / len(streams), 1)
        if streams
        else None,
    }
    print(
        f"  {streams_wanted:>5} streams: {len(streams)} connected in {connect_seconds:.1f} s "
        f"(settled {settled:.1f} s), RSS +{rss_open - baseline_rss:,} KiB, "
        f"{threads_open} threads",
        flush=True,
    )
    if failures:
        print(f"        connect failures: {_summarise(failures)}", flush=True)

    # 1 and 3: the writes, their delivery, and the server's CPU time meanwhile.
    first_version = version + 1
    machine = MachineLoad()
    machine.start()
    cpu0, wall0 = server.cpu_seconds(), time.perf_counter()
    commits = await asyncio.to_thread(world.write, WRITES, WRITE_SPACING)
    final = commits[-1][0]
    deadline = time.perf_counter() + 10.0
    while time.perf_counter() < deadline and any(s.seen < final for s in streams):
        await asyncio.sleep(0.02)
    cpu = server.cpu_seconds() - cpu0
    wall = time.perf_counter() - wall0
    load = machine.stop()
    latencies, missed, coalesced, deliveries = analyse(streams, commits, first_version)
    level.update(
        {
            "writes": len(commits),
            "latency_ms": percentiles(latencies),
            "missed": missed,
            "expected": len(commits) * len(streams),
            "coalesced": coalesced,
            "deliveries": deliveries,
            "server_cpu_seconds": round(cpu, 3),
            # minus what the same writes cost the server with no stream open (on SQLite the
            # writes are requests to it): what is left is the cost of delivering
            "server_cpu_seconds_writes_alone": round(write_cpu * len(commits), 3),
            "write_phase_seconds": round(wall, 2),
            "cpu_us_per_delivery": round(
                max(0.0, cpu - write_cpu * len(commits)) / deliveries * 1e6, 1
            )
            if deliveries
            else None,
            "client_cpu_us_per_delivery": round(load["client_cpu_seconds"] / deliveries * 1e6, 1)
            if deliveries
            else None,
            "machine_busy_share": load["machine_busy_share"],
            "load_average_1min": load["load_average_1min"],
        }
    )

    # 2: the floor, with the streams still open (same machine load as the app measurement).
    level["floor"] = await fanout_floor(world, max(1, len(streams)), WRITES)

    # 5: catch-up after reconnecting, on the level that has 50 streams (as many as connected).
    if streams_wanted == RECONNECT_STREAMS and streams:
        level["reconnect"] = await reconnect(world, streams[:RECONNECT_STREAMS], activity)

    if world.via_http and streams_wanted == 1 and streams:
        level["cross_process_write_delivered"] = await cross_process_check(world, streams[0])

    await close_streams(streams, server, threads0)
    level["rss_kib_after_close"] = server.rss_kib()
    lat = level["latency_ms"]
    floor = level["floor"]["fanout_ms"]
    print(
        f"        latency p50/p95/p99 {_ms(lat['p50'])}/{_ms(lat['p95'])}/{_ms(lat['p99'])} ms, "
        f"missed {missed}/{level['expected']}, coalesced {coalesced}, "
        f"{level['cpu_us_per_delivery']} us CPU/delivery; floor p99 {_ms(floor['p99'])} ms; "
        f"machine {load['machine_busy_share']:.0%} busy, load {load['load_average_1min']}",
        flush=True,
    )
    return level


async def reconnect(world: World, streams: list[EventStream], activity: Activity) -> dict:
    """Close the streams, write, reconnect with Last-Event-ID: each must catch up at once."""
    last_ids = [s.last_id if s.last_id is not None else s.seen for s in streams]
    for stream in streams:
        stream.close()
    await asyncio.sleep(0.3)
    commits = await asyncio.to_thread(world.write, RECONNECT_WRITES, 0.05)
    current = commits[-1][0]
    began = time.perf_counter()
    again, failures = await open_streams(
        world.server.port,
        world.slug,
        len(streams),
        activity,
        last_event_ids=last_ids,
        deadline=time.perf_counter() + 20.0,
    )
    # The catch-up event comes first, before presence; give stragglers a moment.
    deadline = time.perf_counter() + 3.0
    while time.perf_counter() < deadline and any(s.seen < current for s in again):
        await asyncio.sleep(0.02)
    caught_up = [s for s in again if s.versions and s.versions[0][0] == current]
    catch_up_ms = [(s.versions[0][1] - s.opened_at) * 1000 for s in caught_up]
    for stream in again:
        stream.close()
    result = {
        "closed": len(streams),
        "writes_while_away": len(commits),
        "reconnected": len(again),
        "reconnect_failures": _summarise(failures),
        "caught_up": len(caught_up),
        "missed": len(streams) - len(caught_up),
        "catch_up_ms": percentiles(catch_up_ms),
        "seconds": round(time.perf_counter() - began, 2),
    }
    print(
        f"        reconnect: {len(caught_up)}/{len(streams)} caught up with Last-Event-ID "
        f"(p99 {_ms(result['catch_up_ms']['p99'])} ms from connect)",
        flush=True,
    )
    return result


async def cross_process_check(world: World, stream: EventStream) -> bool:
    """SQLite: does a write committed in this process (not the server) reach a stream?"""
    [(version, _)] = await asyncio.to_thread(world.write, 1, 0.0, here=True)
    deadline = time.perf_counter() + 1.5
    while time.perf_counter() < deadline and stream.seen < version:
        await asyncio.sleep(0.02)
    delivered = stream.seen >= version
    print(
        "        a write committed outside the server process "
        f"{'reached' if delivered else 'did NOT reach'} the stream within 1.5 s "
        "(local bus: expected not to)",
        flush=True,
    )
    return delivered


async def live_phases(world: World, levels: tuple[int, ...]) -> dict[str, Any]:
    server = world.server
    # Warm up: one stream opened and closed, a write delivered, so the listener, the thread
    # pools and the code paths exist before the baseline is taken.
    activity = Activity()
    version = await asyncio.to_thread(_map_version, world)
    streams, failures = await open_streams(
        server.port, world.slug, 1, activity, since=version, deadline=time.perf_counter() + 20
    )
    if failures:
        raise RuntimeError(f"warm-up stream failed: {failures[0]}\n{server.log_tail()}")
    await asyncio.to_thread(world.write, 2, 0.2)
    await asyncio.sleep(0.5)
    threads0 = server.threads()
    await close_streams(streams, server, threads0 - 2)
    await asyncio.sleep(0.5)
    threads0 = server.threads()
    baseline_rss = server.rss_kib()
    print(f"  server: RSS {baseline_rss:,} KiB with no stream open, {threads0} threads", flush=True)
    # What the writes alone cost the server (no stream open), to subtract from each level.
    cpu0 = server.cpu_seconds()
    await asyncio.to_thread(world.write, BASELINE_WRITES, 0.1)
    await asyncio.sleep(0.3)
    write_cpu = (server.cpu_seconds() - cpu0) / BASELINE_WRITES
    print(f"  server CPU per write with no stream open: {write_cpu * 1000:.2f} ms", flush=True)
    results = {
        "baseline_rss_kib": baseline_rss,
        "baseline_threads": threads0,
        "server_cpu_ms_per_write_alone": round(write_cpu * 1000, 3),
        "levels": [],
    }
    for n in levels:
        results["levels"].append(await measure_level(world, n, baseline_rss, threads0, write_cpu))
    return results


def _map_version(world: World) -> int:
    from django.db import connection

    try:
        return world.map_version()
    finally:
        connection.close()


def _db_connections(world: World) -> int | None:
    """PostgreSQL: connections open to the benchmark database (this process's included)."""
    if world.vendor != "postgresql":
        return None
    from django.db import connection

    try:
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database()"
            )
            return cursor.fetchone()[0]
    finally:
        connection.close()


def _summarise(failures: list[str]) -> dict[str, int]:
    counts: dict[str, int] = {}
    for failure in failures:
        counts[failure] = counts.get(failure, 0) + 1
    return counts


def _or(value: object) -> str:
    return "-" if value is None else str(value)


def _ms(value: float | None) -> str:
    if value is None:
        return "-"
    return f"{value:.1f}" if value < 100 else f"{value:.0f}"


# --- 6: write requests against their floor --------------------------------------------------


def request_phase(world: World, *, runs: int, warmup: int) -> dict[str, Any]:
    from django.conf import settings
    from django.db import connection
    from django.test import Client

    from argmap.models import Claim

    client = Client()
    client.force_login(world.user)
    htmx = {"HX-Request": "true"}
    add_url = f"/maps/{world.slug}/claims/{world.thesis_id}/add/"
    edit_url = f"/maps/{world.slug}/claims/{world.edit_claim_id}/edit/"
    db = settings.DATABASES["default"]
    raw, placeholder = raw_connection(world.vendor, db)
    begin = "BEGIN IMMEDIATE" if world.vendor == "sqlite" else "BEGIN"
    floor_sql = (
        "UPDATE argmap_claim SET text = %s, version = version + 1 WHERE id = %s AND version = %s"
    ).replace("%s", placeholder)
    floor_version = Claim.objects.filter(pk=world.floor_claim_id).values_list("version", flat=True)
    floor_version = floor_version.get()
    samples: dict[str, list[float]] = {"add claim": [], "edit claim": [], "floor: UPDATE": []}

    def add(i: int) -> None:
        response = client.post(
            add_url, {"stance": "counter", "text": f"Counterpoint number {i}"}, headers=htmx
        )
        if response.status_code != 200:
            raise RuntimeError(f"POST {add_url}: HTTP {response.status_code}")

    def edit(i: int, version: int) -> None:
        response = client.post(
            edit_url, {"text": f"Edited by the benchmark, {i}", "version": version}, headers=htmx
        )
        if response.status_code != 200:
            raise RuntimeError(f"POST {edit_url}: HTTP {response.status_code}")

    def floor(i: int) -> None:
        nonlocal floor_version
        cursor = raw.cursor()
        cursor.execute(begin)
        cursor.execute(floor_sql, (f"Floor text {i}", world.floor_claim_id, floor_version))
        if cursor.rowcount != 1:
            raise RuntimeError("floor UPDATE matched no row")
        cursor.execute("COMMIT")
        floor_version += 1

    try:
        for i in range(warmup + runs):
            version = Claim.objects.filter(pk=world.edit_claim_id).values_list("version", flat=True)
            version = version.get()
            connection.close()  # as at the end of a request: each timed request starts alike
            for name, run, run_args in (
                ("add claim", add, (i,)),
                ("edit claim", edit, (i, version)),
                ("floor: UPDATE", floor, (i,)),
            ):
                started = time.perf_counter()
                run(*run_args)
                elapsed = (time.perf_counter() - started) * 1000
                if i >= warmup:
                    samples[name].append(elapsed)
    finally:
        raw.close()
        connection.close()
    floor_median = statistics.median(samples["floor: UPDATE"])
    result = {}
    for name, values in samples.items():
        result[name] = {
            "median_ms": round(statistics.median(values), 3),
            "p90_ms": round(statistics.quantiles(values, n=10, method="inclusive")[-1], 3),
            "x_floor": round(statistics.median(values) / floor_median, 1),
            "runs": len(values),
        }
    return result


def raw_connection(vendor: str, db: dict[str, Any]):
    """A plain DB-API connection in autocommit mode; transactions are explicit."""
    if vendor == "sqlite":
        import sqlite3

        conn = sqlite3.connect(db["NAME"], isolation_level=None, timeout=20)
        conn.execute("PRAGMA synchronous=NORMAL")  # as the app's connections
        return conn, "?"
    import psycopg

    return psycopg.connect(autocommit=True, **common.psycopg_params(db)), "%s"


# --- 7: serving topology --------------------------------------------------------------------


async def hammer(port: int, path: str, clients: int, seconds: float) -> dict[str, Any]:
    """``clients`` HTTP/1.1 connections each sending GETs back to back (keep-alive; a server
    that closes after each response, like gunicorn's sync worker, gets a new connection)."""
    request = f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n\r\n".encode("ascii")
    counts = {"ok": 0, "errors": 0}
    measuring = {"on": False}
    stop_at = time.perf_counter() + 1.0 + seconds  # one warm-up second first

    async def one() -> None:
        reader = writer = None
        try:
            while time.perf_counter() < stop_at:
                if writer is None:
                    reader, writer = await asyncio.open_connection("127.0.0.1", port)
                writer.write(request)
                head = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), 10)
                lines = head.decode("latin-1").split("\r\n")
                status = int(lines[0].split()[1])
                headers = {
                    k.strip().lower(): v.strip()
                    for k, _, v in (x.partition(":") for x in lines[1:])
                }
                if "content-length" in headers:
                    await reader.readexactly(int(headers["content-length"]))
                elif "chunked" in headers.get("transfer-encoding", ""):
                    while True:
                        size = int((await reader.readuntil(b"\r\n")).split(b";")[0], 16)
                        await reader.readexactly(size + 2)
                        if size == 0:
                            break
                if measuring["on"]:
                    counts["ok" if status == 200 else "errors"] += 1
                if headers.get("connection", "").lower() == "close":
                    writer.close()
                    reader = writer = None
        finally:
            if writer is not None:
                writer.close()

    tasks = [asyncio.ensure_future(one()) for _ in range(clients)]
    await asyncio.sleep(1.0)
    measuring["on"] = True
    began = time.perf_counter()
    done, _ = await asyncio.wait(tasks, timeout=seconds + 15)
    elapsed = min(time.perf_counter(), stop_at) - began
    measuring["on"] = False
    errors = [t.exception() for t in done if t.exception() is not None]
    for task in tasks:
        task.cancel()
    return {
        "requests": counts["ok"],
        "errors": counts["errors"] + len(errors),
        "seconds": round(elapsed, 2),
        "req_per_s": round(counts["ok"] / elapsed, 1) if elapsed > 0 else None,
    }


SERVER_NAMES = {
    "asgi": "ASGI: uvicorn",
    "wsgi": "WSGI: uvicorn --interface wsgi",
    "gunicorn": "WSGI: gunicorn, 1 sync worker",
}


def topology_phase(world: World, server_env: dict[str, str], cwd: Path, seconds: float) -> dict:
    """Two pages over ASGI and over WSGI, one process each, the same client and duration."""
    pages = {"home": "/", "claim page": f"/maps/{world.slug}/claims/{world.page_claim_id}/"}
    results: dict[str, Any] = {"pages": pages, "clients": THROUGHPUT_CLIENTS, "runs": []}
    servers = [world.server]
    extra = [Server("wsgi", "config.wsgi:application", cwd=cwd, env=server_env, wsgi=True)]
    if _importable("gunicorn"):
        extra.append(
            Server("gunicorn", "config.wsgi:application", cwd=cwd, env=server_env, gunicorn=True)
        )
    else:
        results["gunicorn"] = "not installed (pyproject.toml does not list it): not measured"
    try:
        for server in extra:
            try:
                server.start()
                server.wait_ready("/")
                servers.append(server)
            except Exception as error:  # reported, not fatal
                results[f"{server.name}_skipped"] = f"did not serve: {error}"
        for page, path in pages.items():
            for server in servers:
                server.wait_quiet(limit=5)
                cpu0 = server.cpu_seconds()
                outcome = asyncio.run(hammer(server.port, path, THROUGHPUT_CLIENTS, seconds))
                cpu = server.cpu_seconds() - cpu0
                # The CPU figure covers the warm-up second too: count its requests alike.
                served = outcome["requests"] * (outcome["seconds"] + 1.0) / outcome["seconds"]
                outcome["server_cpu_ms_per_request"] = (
                    round(cpu / served * 1000, 2) if served else None
                )
                outcome.update({"page": page, "path": path, "server": SERVER_NAMES[server.name]})
                results["runs"].append(outcome)
                print(
                    f"  {page:<10} {SERVER_NAMES[server.name]:<32} {outcome['req_per_s']:>7} "
                    f"req/s, {outcome['errors']} errors, "
                    f"{outcome['server_cpu_ms_per_request']} ms server CPU per request",
                    flush=True,
                )
    finally:
        for server in extra:
            server.stop()
    return results


def _importable(module: str) -> bool:
    import importlib.util

    return importlib.util.find_spec(module) is not None


# --- set-up, reporting ----------------------------------------------------------------------


def create_world(vendor: str, server: Server) -> World:
    from django.conf import settings
    from django.contrib.auth import get_user_model
    from django.test import Client
    from django.utils.crypto import get_random_string

    from argmap import services
    from argmap.models import Claim

    user = get_user_model().objects.create_user(
        "bench-live", password=get_random_string(24), email="bench@example.org"
    )
    argument_map = services.map_create(
        slug="live-bench",
        title="Live updates",
        thesis="Live updates reach every open tab quickly",
        owner=user,
        reason="Benchmark",
    )
    thesis = Claim.objects.get(map=argument_map, parent__isnull=True)
    claims = [
        services.claim_add(
            parent=thesis,
            stance="support" if i % 2 == 0 else "counter",
            text=f"Reason number {i} for or against live updates",
            by=user,
        )
        for i in range(6)
    ]
    for claim in claims[:3]:
        services.claim_add(parent=claim, stance="support", text="A supporting detail", by=user)
    world = World(
        vendor=vendor,
        slug=argument_map.slug,
        map_id=argument_map.pk,
        user=user,
        thesis_id=thesis.pk,
        live_claim_id=claims[0].pk,
        edit_claim_id=claims[1].pk,
        floor_claim_id=claims[2].pk,
        page_claim_id=claims[3].pk,
        server=server,
    )
    if world.via_http:
        client = Client()
        client.force_login(user)
        world.session_cookie = client.cookies[settings.SESSION_COOKIE_NAME].value
        world.csrf_token = get_random_string(32)
    return world


def p99_target(streams: int) -> float | None:
    for limit, target in P99_TARGETS_MS:
        if streams <= limit:
            return target
    return None


def check_targets(live: dict[str, Any]) -> tuple[list[str], list[str]]:
    passed, missed = [], []

    def judge(ok: bool, line: str) -> None:
        (passed if ok else missed).append(line)

    for level in live["levels"]:
        n = level["streams"]
        p99, target = level["latency_ms"]["p99"], p99_target(n)
        if level["connected"] < n:
            judge(False, f"{n:,} streams: only {level['connected']:,} connected")
        if target is not None:
            judge(
                p99 is not None and p99 < target,
                f"{n:,} streams: p99 commit-to-receipt {_ms(p99)} ms (target < {target:g} ms)",
            )
        judge(
            level["missed"] == 0 and level["expected"] > 0,
            f"{n:,} streams: missed versions {level['missed']}/{level['expected']} (target 0)",
        )
        per = level["rss_kib_per_stream"]
        if n >= MEMORY_TARGET_FROM and per is not None:
            judge(
                per < MEMORY_TARGET_KIB,
                f"{n:,} streams: {per:.1f} KiB RSS per open stream "
                f"(target < {MEMORY_TARGET_KIB:g} KiB)",
            )
        if "reconnect" in level:
            r = level["reconnect"]
            judge(
                r["missed"] == 0,
                f"reconnect with Last-Event-ID: missed {r['missed']}/{r['closed']} (target 0)",
            )
    return passed, missed


def format_table(vendor: str, live: dict, requests: dict, topology: dict) -> str:
    header = (
        f"{'streams':>7} {'conn':>5} {'conn p99':>8} {'p50 ms':>7} {'p95 ms':>7} {'p99 ms':>7} "
        f"{'floor p50':>9} {'floor p99':>9} {'missed':>11} {'coal':>5} {'us CPU/dlv':>10} "
        f"{'client us':>9} {'KiB/strm':>8} {'threads':>7} {'db conns':>8} {'busy':>5}"
    )
    lines = [f"Live updates on {vendor}", header, "-" * len(header)]
    for lv in live["levels"]:
        lat, floor = lv["latency_ms"], lv["floor"]["fanout_ms"]
        lines.append(
            f"{lv['streams']:>7,} {lv['connected']:>5,} {_ms(lv['connect_ms']['p99']):>8} "
            f"{_ms(lat['p50']):>7} {_ms(lat['p95']):>7} {_ms(lat['p99']):>7} "
            f"{_ms(floor['p50']):>9} {_ms(floor['p99']):>9} "
            f"{lv['missed']:>5}/{lv['expected']:<5} {lv['coalesced']:>5} "
            f"{_or(lv['cpu_us_per_delivery']):>10} {_or(lv['client_cpu_us_per_delivery']):>9} "
            f"{_or(lv['rss_kib_per_stream']):>8} {lv['server_threads_open']:>7} "
            f"{_or(lv['server_db_connections_open']):>8} {lv['machine_busy_share']:>5.0%}"
        )
    for lv in live["levels"]:
        if "reconnect" in lv:
            r = lv["reconnect"]
            lines.append(
                f"reconnect with Last-Event-ID: {r['caught_up']}/{r['closed']} caught up, "
                f"missed {r['missed']}, catch-up p99 {_ms(r['catch_up_ms']['p99'])} ms"
            )
    lines.append("")
    lines.append(
        f"{'write request (server-side)':<30} {'median ms':>10} {'p90 ms':>8} {'x floor':>8}"
    )
    for name, r in requests.items():
        lines.append(
            f"{name:<30} {r['median_ms']:>10.2f} {r['p90_ms']:>8.2f} {r['x_floor']:>7.1f}x"
        )
    lines.append("")
    lines.append(
        f"{'page':<11} {'server, 1 process':<32} {'req/s':>8} {'errors':>7} {'CPU ms/req':>10}"
    )
    for r in topology["runs"]:
        cpu = r["server_cpu_ms_per_request"]
        lines.append(
            f"{r['page']:<11} {r['server']:<32} {r['req_per_s']:>8} {r['errors']:>7} "
            f"{cpu if cpu is not None else '-':>10}"
        )
    for key in ("gunicorn", "wsgi_skipped", "gunicorn_skipped"):
        if key in topology:
            lines.append(f"{key}: {topology[key]}")
    return "\n".join(lines)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="1 and 50 streams only (< 1 min)")
    parser.add_argument(
        "--levels", help="comma-separated numbers of streams (default 1,50,500,2000)"
    )
    parser.add_argument(
        "--server-dir",
        type=Path,
        default=BASE_DIR,
        help="serve the app from this copy of the tree (A/B of a proposed change); "
        "the benchmark itself still uses this tree",
    )
    parser.add_argument("--label", default="", help="suffix of the results key, e.g. 'proposed'")
    args = parser.parse_args()
    nofile = raise_nofile()
    VAR_DIR.mkdir(parents=True, exist_ok=True)  # the server's log goes there on any database
    return common.run_benchmark(
        lambda bench: measure(args, bench, nofile),
        BENCH_DATABASE,
        VAR_DIR,
        "max_connections",
        refuse_other="bench/live.py runs on PostgreSQL (DATABASE_URL) or SQLite (unset).",
    )


def measure(args: argparse.Namespace, bench: Bench, nofile: int) -> int:
    """The whole benchmark, on the database ``bench`` describes: table, verdicts, results file."""
    from django.db import connection

    from argmap import bus

    vendor, database = bench.vendor, bench.database
    levels = QUICK_LEVELS if args.quick else LEVELS
    if args.levels:
        levels = tuple(int(x) for x in args.levels.split(","))
    throughput_seconds = 2.0 if args.quick else THROUGHPUT_SECONDS
    if args.quick:
        global CONNECT_SECONDS
        CONNECT_SECONDS = 10.0
    request_runs = 20 if args.quick else REQUEST_RUNS
    server = None
    try:
        backend = bus.backend_name()
        server_env = dict(os.environ)
        server_env.update({"DJANGO_SETTINGS_MODULE": "config.settings", "PYTHONUNBUFFERED": "1"})
        server = Server("asgi", "config.asgi:application", cwd=args.server_dir, env=server_env)
        world = create_world(vendor, server)
        connection.close()
        print(
            f"Argmap live-update benchmark on {vendor} {database['version']} (bus: {backend}), "
            f"{os.cpu_count()} cores, open-file limit {nofile}, uvicorn {_version('uvicorn')} "
            f"({_uvicorn_stack()}), levels {', '.join(map(str, levels))}"
            + (f", server from {args.server_dir}" if args.server_dir != BASE_DIR else ""),
            flush=True,
        )
        server.start()
        server.wait_ready(f"/maps/{world.slug}/")
        live = asyncio.run(live_phases(world, levels))
        print("  write requests against their floor", flush=True)
        server.wait_quiet()
        requests = request_phase(world, runs=request_runs, warmup=REQUEST_WARMUP)
        print(f"  serving a page for {throughput_seconds:g} s each", flush=True)
        topology = topology_phase(world, server_env, args.server_dir, throughput_seconds)
        server_errors = server.errors_logged()

        print()
        print(format_table(f"{vendor} {database['version']}", live, requests, topology))
        if world.via_http:
            print(
                "(SQLite: writes are POSTs to the server, latency counted from sending the "
                f"request; the POST took median {statistics.median(world.http_write_ms):.1f} ms)"
            )
        print()
        passed, missed = check_targets(live)
        for line in passed:
            print(f"PASS: {line}")
        for line in missed:
            print(f"MISSED: {line}")
        if server_errors:
            print(f"WARNING: the server logged {server_errors} tracebacks: see {server.log_path}")
        seconds = time.perf_counter() - bench.began
        print(f"Benchmark took {seconds:.0f} s.")

        record = {
            **common.describe_run(bench, open_file_limit=nofile),
            "bus": backend,
            "server": {
                "stack": _uvicorn_stack(),
                **{name: _version(name) for name in ("uvicorn", "uvloop", "httptools", "gunicorn")},
            },
            "server_dir": str(args.server_dir),
            "settings": {
                "writes": WRITES,
                "write_spacing_s": WRITE_SPACING,
                "writes_via": "HTTP POST to the server" if world.via_http else "service call here",
                "request_runs": request_runs,
                "throughput_seconds": throughput_seconds,
            },
            "targets": {
                "p99_ms": {f"<= {n} streams": t for n, t in P99_TARGETS_MS},
                "rss_kib_per_stream": MEMORY_TARGET_KIB,
                "missed_versions": 0,
            },
            "live": live,
            "http_write_ms": percentiles(world.http_write_ms) if world.http_write_ms else None,
            "requests": requests,
            "topology": topology,
            "passed": passed,
            "missed": missed,
            "server_tracebacks": server_errors,
            "seconds": round(seconds, 1),
        }
        key = vendor + ("-quick" if args.quick else "") + (f"+{args.label}" if args.label else "")
        common.save_results(RESULTS, key, record, keep=lambda _: True)
        print(f"Results written to {RESULTS.relative_to(BASE_DIR)} under {key!r}.")
        return 0
    except Exception:
        traceback.print_exc()
        if server is not None:
            print(f"--- server log ({server.log_path}) ---\n{server.log_tail()}", file=sys.stderr)
        return 1
    finally:
        if server is not None:
            server.stop()


def _uvicorn_stack() -> str:
    """The event loop and HTTP parser uvicorn picks on its own (``--loop auto --http auto``)."""
    loop = "uvloop" if _importable("uvloop") else "asyncio"
    return f"{loop} + {'httptools' if _importable('httptools') else 'h11'}"


def _version(package: str) -> str | None:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version(package)
    except PackageNotFoundError:
        return None


if __name__ == "__main__":
    sys.exit(main())
