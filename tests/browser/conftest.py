"""Browser tests: Playwright drives Debian's ``chromium`` against pytest-django's live server.

Never ``playwright install``: we launch the system Chromium (``apt-get install chromium``).
Every test here is marked ``browser`` and fails if the page logs a JavaScript error or a
Content Security Policy violation.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from django.core.cache import cache
from django.core.management import call_command
from playwright.sync_api import ConsoleMessage, Error, Page

from argmap.models import ArgumentMap, Claim

# Playwright's sync API runs an event loop in the test thread, so Django would refuse the ORM
# calls the live server and the fixtures make (SynchronousOnlyOperation) without this.
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


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Mark every test in this folder ``browser`` (``-m "not browser"`` skips them)."""
    for item in items:
        if BROWSER_DIR in item.path.parents:
            item.add_marker(pytest.mark.browser)


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


@pytest.fixture(autouse=True)
def page_problems(page: Page) -> Iterator[list[str]]:
    """Collect console errors, CSP violations and uncaught exceptions; none may occur."""
    problems: list[str] = []

    def on_console(message: ConsoleMessage) -> None:
        if message.type == "error" or any(marker in message.text for marker in CSP_MARKERS):
            problems.append(f"console.{message.type}: {message.text} ({message.location})")

    def on_page_error(error: Error) -> None:
        problems.append(f"uncaught: {error.name}: {error.message}\n{error.stack}")

    page.on("console", on_console)
    page.on("pageerror", on_page_error)
    # Console wording changes between Chromium versions; the DOM event does not.
    page.add_init_script(
        "document.addEventListener('securitypolicyviolation', (e) => console.error("
        "`Content Security Policy violation: ${e.violatedDirective} ${e.blockedURI}`))"
    )
    yield problems
    assert problems == [], "the page reported problems:\n" + "\n".join(problems)


@pytest.fixture
def seeded_map(transactional_db) -> ArgumentMap:
    """The Kaliningrad map, committed so the live server's thread sees it.

    The live server needs committed data, hence ``transactional_db``; it flushes the database
    after each test, so every test seeds afresh. Claim ids change between tests: look them up.
    """
    cache.clear()  # the rendered article is cached per map; never serve a previous test's
    call_command("seed", verbosity=0)
    return ArgumentMap.objects.select_related("source").get(slug="kaliningrad")


@pytest.fixture
def map_url(live_server, seeded_map: ArgumentMap) -> str:
    return f"{live_server.url}{seeded_map.get_absolute_url()}"


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
