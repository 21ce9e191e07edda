"""Browser tests: Playwright drives Debian's ``chromium`` against the app served over ASGI.

Never ``playwright install``: we launch the system Chromium (``apt-get install chromium``).
Every test here is marked ``browser`` and fails if any of its pages logs a JavaScript error or a
Content Security Policy violation.

The app is served by uvicorn in a thread of the test process (``asgi_server``), not by
pytest-django's ``live_server``: that one is a WSGI server, and the map page's event stream is an
async view that WSGI would buffer forever. Data is committed (``transactional_db``) so the
server's threads see it. ``open_page`` gives each simulated person their own browser context.
"""

from __future__ import annotations

import os
import re
import shutil
import socket
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
import uvicorn
from django.contrib.auth import get_user_model
from django.core.cache import cache
from django.core.management import call_command
from playwright.sync_api import Browser, BrowserContext, ConsoleMessage, Error, Page, expect

from argmap.models import ArgumentMap, Claim
from tests.conftest import PASSWORD

# Playwright's sync API runs an event loop in the test thread, so Django would refuse the ORM
# calls the ASGI server's threads and the fixtures make (SynchronousOnlyOperation) without this.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

CHROMIUM = shutil.which("chromium")
# Without the networking flags Chromium floods the closed network with refused connections.
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
]
BROWSER_DIR = Path(__file__).parent
CSP_MARKERS = ("Content Security Policy", "Refused to")


# WhiteNoise serves static files through a sync iterator, which Django's ASGI handler warns
# about on every file (config/asgi.py silences it for uvicorn; pytest resets warning filters).
WHITENOISE_UNDER_ASGI = "ignore:StreamingHttpResponse must consume synchronous iterators"


@pytest.hookimpl(trylast=True)  # after pytest-django's own ordering by database use
def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Mark every test in this folder ``browser`` (``-m "not browser"`` skips them), and run them
    last: Playwright's sync API leaves an event loop running in the main thread for the rest of
    the session, under which Django's test client cannot call an async view (AsyncToSync refuses);
    and the quick tests report first."""
    browser, others = [], []
    for item in items:
        if BROWSER_DIR in item.path.parents:
            item.add_marker(pytest.mark.browser)
            item.add_marker(pytest.mark.filterwarnings(WHITENOISE_UNDER_ASGI))
            browser.append(item)
        else:
            others.append(item)
    items[:] = others + browser


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args: dict) -> dict:
    """Launch the system Chromium; without one, skip loudly (and fail on CI)."""
    if CHROMIUM is None:
        reason = (
            "BROWSER TESTS NOT RUN: no `chromium` on PATH. Install it with "
            "`apt-get install -y chromium` (never `playwright install`)."
        )
        if os.environ.get("CI") == "true":
            pytest.fail(reason)
        pytest.skip(reason)
    return {**browser_type_launch_args, "executable_path": CHROMIUM, "args": CHROMIUM_ARGS}


def watch(page: Page, problems: list[str], *, name: str = "page") -> None:
    """Record the page's console errors, CSP violations and uncaught exceptions in ``problems``."""

    def on_console(message: ConsoleMessage) -> None:
        if message.type == "error" or any(marker in message.text for marker in CSP_MARKERS):
            problems.append(f"{name} console.{message.type}: {message.text} ({message.location})")

    def on_page_error(error: Error) -> None:
        problems.append(f"{name} uncaught: {error.name}: {error.message}\n{error.stack}")

    page.on("console", on_console)
    page.on("pageerror", on_page_error)
    # Console wording changes between Chromium versions; the DOM event does not.
    page.add_init_script(
        "document.addEventListener('securitypolicyviolation', (e) => console.error("
        "`Content Security Policy violation: ${e.violatedDirective} ${e.blockedURI}`))"
    )


@pytest.fixture
def expected_problems() -> list[re.Pattern[str]]:
    """Patterns of problems a test provokes on purpose (say, the browser's own console line for
    a 409 answer it asked for). Append narrowly: one pattern per deliberate error."""
    return []


@pytest.fixture(autouse=True)
def page_problems(page: Page, expected_problems: list[re.Pattern[str]]) -> Iterator[list[str]]:
    """Collect console errors, CSP violations and uncaught exceptions; none may occur.

    Pages opened with ``open_page`` report here too; they are closed before this check runs.
    """
    problems: list[str] = []
    watch(page, problems)
    yield problems
    unexpected = [p for p in problems if not any(e.search(p) for e in expected_problems)]
    assert unexpected == [], "the page reported problems:\n" + "\n".join(unexpected)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture(scope="session")
def _asgi_server(django_db_setup) -> Iterator[str]:
    """uvicorn serving the ASGI app from a thread of this process, for the whole session.

    Started after the test database exists, so the server's threads connect to it. One server
    for the session: each test's data comes from ``asgi_server`` (``transactional_db``).
    """
    from django.core.asgi import get_asgi_application

    port = free_port()
    config = uvicorn.Config(
        get_asgi_application(),
        host="127.0.0.1",
        port=port,
        lifespan="off",
        log_level="warning",
        # Open event streams would otherwise hold the shutdown forever.
        timeout_graceful_shutdown=2,
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, name="asgi-server", daemon=True)
    thread.start()
    deadline = time.monotonic() + 15
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            pytest.fail(f"uvicorn did not start on port {port}")
        time.sleep(0.02)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=10)


@pytest.fixture
def asgi_server(_asgi_server: str, transactional_db) -> str:
    """The base URL of the app served over ASGI, with committed (``transactional_db``) data."""
    return _asgi_server


@pytest.fixture
def open_page(
    browser: Browser, asgi_server: str, page_problems: list[str]
) -> Iterator[Callable[..., Page]]:
    """Open a page in a fresh browser context (its own cookies: one person), logged in as
    ``user`` if given, on ``base_url`` (default: ``asgi_server``). Its console is checked like
    ``page``'s; all are closed at the end, before the database is flushed."""
    contexts: list[BrowserContext] = []

    def open_(
        user=None,
        *,
        name: str | None = None,
        viewport: dict | None = None,
        base_url: str | None = None,
    ) -> Page:
        context = browser.new_context(
            base_url=base_url or asgi_server, viewport=viewport or {"width": 1280, "height": 900}
        )
        contexts.append(context)
        new_page = context.new_page()
        watch(new_page, page_problems, name=name or (user.get_username() if user else "anon"))
        if user is not None:
            log_in(new_page, user)
        return new_page

    yield open_
    for context in contexts:
        context.close()


def log_in(page: Page, user, password: str = PASSWORD) -> None:
    """Log in through the login form, as a person would."""
    page.goto("/accounts/login/")
    page.get_by_label("Username").fill(user.get_username())
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Log in").click()
    expect(page.locator(".site-header .who")).to_contain_text(user.get_username())


def make_user(username: str, **extra):
    return get_user_model().objects.create_user(
        username=username, email=f"{username}@example.test", password=PASSWORD, **extra
    )


@pytest.fixture
def seeded_map(transactional_db) -> ArgumentMap:
    """The Kaliningrad map, committed so the ASGI server's threads see it.

    The server needs committed data, hence ``transactional_db``; it flushes the database
    after each test, so every test seeds afresh. Claim ids change between tests: look them up.
    """
    cache.clear()  # the rendered article is cached per map; never serve a previous test's
    call_command("seed", verbosity=0)
    return ArgumentMap.objects.select_related("source").get(slug="kaliningrad")


@pytest.fixture
def map_url(asgi_server: str, seeded_map: ArgumentMap) -> str:
    return f"{asgi_server}{seeded_map.get_absolute_url()}"


def children(claim: Claim) -> list[Claim]:
    """A claim's visible children in the order the tree shows them."""
    return list(Claim.objects.visible_to(None).children_of(claim.pk))


@pytest.fixture
def thesis(seeded_map: ArgumentMap) -> Claim:
    return Claim.objects.get(map=seeded_map, parent__isnull=True)


@pytest.fixture
def collapsed_claim(thesis: Claim) -> Claim:
    """The first claim, in tree order, that the map page shows collapsed.

    The page renders the thesis and two levels below it, so a level-3 claim with children of
    its own is the first one whose children are not in the page yet.
    """
    for level2 in children(thesis):
        for level3 in children(level2):
            if children(level3):
                return level3
    raise AssertionError("the seed map has no collapsed claim in its first view")
