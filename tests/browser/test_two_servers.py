"""Several app processes on one PostgreSQL, as in production: the bus is LISTEN/NOTIFY, so a change
written through one process reaches the browsers whose event stream is held by another.

The processes are real uvicorn servers (subprocesses) on the test database. SQLite has no bus
between processes (its hub is in-process), so these tests need PostgreSQL; CI has it.
"""

from __future__ import annotations

import http.client
import os
import re
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import IO
from urllib.parse import quote

import pytest
from django.conf import settings
from django.contrib.auth.hashers import PBKDF2PasswordHasher
from django.db import connection
from playwright.sync_api import expect

from argmap import services
from argmap.models import ArgumentMap, Claim
from tests.browser.conftest import children, free_port, make_user
from tests.conftest import PASSWORD

UVICORN = Path(sys.executable).with_name("uvicorn")
LIVE = 2_000  # ms, as in test_writing_together


def database_url() -> str:
    """The test database (not the development one) as a DATABASE_URL for another process."""
    db = connection.settings_dict
    user = quote(db.get("USER") or "postgres", safe="")
    password = f":{quote(db['PASSWORD'], safe='')}" if db.get("PASSWORD") else ""
    host, port = db.get("HOST") or "127.0.0.1", db.get("PORT") or 5432
    return f"postgres://{user}{password}@{host}:{port}/{db['NAME']}"


@pytest.fixture
def start_server(transactional_db, tmp_path: Path) -> Iterator[Callable[..., str]]:
    """Start an app process (``uvicorn config.asgi:application``) on the test database; return
    its base URL. Every process started is stopped at the end of the test."""
    if connection.vendor != "postgresql":
        pytest.skip(
            "needs PostgreSQL: app processes share live updates through LISTEN/NOTIFY, which "
            "SQLite does not have (run with DATABASE_URL=postgres://...; CI does)"
        )
    processes: list[subprocess.Popen] = []
    logs: list[IO[str]] = []
    # The app's own environment: not the test process's licence to call the ORM from async
    # code (conftest.py sets it for Playwright), which would hide such a bug in the app.
    base_env = {k: v for k, v in os.environ.items() if k != "DJANGO_ALLOW_ASYNC_UNSAFE"}

    def start(**env: str) -> str:
        port = free_port()
        log = tmp_path / f"uvicorn-{port}.log"
        logs.append(log.open("w"))
        command = [str(UVICORN), "config.asgi:application", "--host", "127.0.0.1"]
        command += ["--port", str(port), "--lifespan", "off", "--log-level", "warning"]
        command += ["--timeout-graceful-shutdown", "2"]  # open event streams end at once
        process = subprocess.Popen(
            command,
            cwd=settings.BASE_DIR,
            env={
                **base_env,
                "DATABASE_URL": database_url(),
                "ARGMAP_VAR_DIR": str(tmp_path / "var"),
                **env,
            },
            stdout=logs[-1],
            stderr=subprocess.STDOUT,
        )
        processes.append(process)
        url = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 30
        while True:
            try:
                with urllib.request.urlopen(f"{url}/", timeout=2) as response:
                    if response.status == 200:
                        return url
            except (urllib.error.URLError, ConnectionError, TimeoutError):
                pass
            if process.poll() is not None or time.monotonic() > deadline:
                pytest.fail(f"the app process on port {port} did not start:\n{log.read_text()}")
            time.sleep(0.1)

    yield start
    for process in processes:
        process.terminate()
    for process in processes:
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
    for log in logs:
        log.close()


def portable_password(user) -> None:
    """Give the user a hash the app processes accept: tests hash with MD5 for speed, but the
    processes run with the project's own PASSWORD_HASHERS."""
    hasher = PBKDF2PasswordHasher()
    user.password = hasher.encode(PASSWORD, hasher.salt())
    user.save(update_fields=["password"])


def test_a_change_through_one_process_reaches_a_browser_on_another(
    start_server, open_page, seeded_map: ArgumentMap, thesis: Claim
):
    server_1, server_2 = start_server(), start_server()
    ann, ben = make_user("ann-curator", is_staff=True), make_user("ben-writer")
    portable_password(ann)
    portable_password(ben)
    a = open_page(ann, name="A", base_url=server_1)
    b = open_page(ben, name="B", base_url=server_2)
    parent = children(thesis)[1]
    for page in (a, b):
        page.goto(seeded_map.get_absolute_url())
        expect(page.locator("#presence")).to_have_text(re.compile(r"here$"))  # stream is open
    assert a.url.startswith(server_1) and b.url.startswith(server_2)
    b.evaluate("window.argmapNotReloaded = true")

    a.locator(f"#claim-{parent.pk}").focus()
    a.locator(f"#row-{parent.pk} .claim-actions").get_by_role("button", name="+ Con").click()
    form = a.locator(f"#compose-{parent.pk} form")
    form.get_by_label("Your claim").fill("Written through the first server.")
    form.get_by_role("button", name="Add claim").click()
    expect(a.locator(f"#group-{parent.pk}")).to_contain_text("Written through the first server.")
    claim = Claim.objects.get(text="Written through the first server.")

    new = b.locator(f"#group-{parent.pk} > #claim-{claim.pk}")
    expect(new).to_be_visible(timeout=LIVE)
    expect(new.locator(":scope > .claim-row .stance")).to_have_text("Con")
    assert b.evaluate("window.argmapNotReloaded === true"), "B's page was reloaded"

    # A write from a third process (this one, through the service) reaches both browsers.
    services.claim_edit(
        claim=claim, expected_version=claim.version, text="Edited elsewhere.", quote=None
    )
    expect(a.locator(f"#text-{claim.pk}")).to_have_text("Edited elsewhere.", timeout=LIVE)
    expect(b.locator(f"#text-{claim.pk}")).to_have_text("Edited elsewhere.", timeout=LIVE)


def test_presence_counts_the_people_connected_to_every_process(
    start_server, open_page, seeded_map: ArgumentMap
):
    server_1, server_2 = start_server(), start_server()
    a = open_page(name="A", base_url=server_1)
    b = open_page(name="B", base_url=server_2)

    a.goto(seeded_map.get_absolute_url())
    expect(a.locator("#presence")).to_have_text("1 person here")
    b.goto(seeded_map.get_absolute_url())
    # A's stream is held by one process, B's by the other: each reports to the other.
    expect(b.locator("#presence")).to_have_text("2 people here")
    expect(a.locator("#presence")).to_have_text("2 people here")

    b.close()
    expect(a.locator("#presence")).to_have_text("1 person here")


def test_open_event_streams_do_not_hold_database_connections(start_server, seeded_map: ArgumentMap):
    """A map tab keeps its event stream open for hours. If each stream kept the pooled database
    connection it used to start, a process would stop answering after DATABASE_POOL_MAX tabs."""
    server = start_server(DATABASE_POOL_MAX="2")
    host, port = server.removeprefix("http://").split(":")
    url = seeded_map.get_absolute_url()
    streams: list[http.client.HTTPConnection] = []
    started = time.monotonic()
    try:
        for _ in range(4):  # twice the pool
            stream = http.client.HTTPConnection(host, int(port), timeout=10)
            streams.append(stream)
            stream.request("GET", f"{url}events/", headers={"Accept": "text/event-stream"})
            response = stream.getresponse()
            assert response.status == 200
            assert response.readline() == b"retry: 2000\n"  # this stream has started
        with urllib.request.urlopen(f"{server}{url}changes/?since=0", timeout=10) as response:
            assert response.status == 200
    except TimeoutError:
        pytest.fail(
            f"with {len(streams)} event streams open and a pool of 2, the process stopped "
            f"answering ({time.monotonic() - started:.0f} s): each open stream holds a pooled "
            "connection. Fix: give it back once the stream has read the map's version "
            "(argmap/views/live.py, _stream, after _current_version: "
            "`await sync_to_async(connection.close)()`)."
        )
    finally:
        for stream in streams:
            stream.close()
