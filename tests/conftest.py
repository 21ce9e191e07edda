"""Shared fixtures: a fixed cast of users, the seeded Kaliningrad map and a small-map factory.

Browser fixtures (Playwright) live in ``tests/browser/conftest.py``, not here.
"""

from __future__ import annotations

import itertools
import time
from collections.abc import Callable, Iterable, Sequence

import pytest
from django.contrib.auth import get_user_model
from django.core.cache import cache
from django.core.management import call_command
from django.test import Client

from argmap import services
from argmap.models import ArgumentMap, Claim, Membership, Role, Source

PASSWORD = "correct-horse-battery-staple-42"

# A small article for maps that quote a source. Every sentence is unique, so quotes resolve.
ARTICLE = (
    "Cities should ban cars from their centres\n"
    "Car-free streets are safer for children and older people.\n"
    "Shops on pedestrian streets often report higher sales. Critics say deliveries get harder.\n"
    "- Air quality improves within months\n"
    "- Noise drops sharply at night\n"
    "Some residents worry about losing parking near their homes."
)


@pytest.fixture(scope="session")
def django_db_setup(django_db_setup, django_db_blocker):
    """pytest-django's test databases, plus: on PostgreSQL, end the sessions other threads leave
    behind (the in-process server's bus listener and sender, worker threads' connections) just
    before the test database is dropped, or the drop fails ("being accessed by other users") and
    the database stays on the machine."""
    yield
    from django.db import connection

    if connection.vendor != "postgresql":
        return
    with django_db_blocker.unblock(), connection.cursor() as cursor:
        for _ in range(20):  # a listener reconnects by itself: until none is left
            cursor.execute(
                "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity"
                " WHERE datname = current_database() AND pid <> pg_backend_pid()"
            )
            if cursor.fetchone()[0] == 0:
                break
            time.sleep(0.1)


@pytest.fixture(autouse=True)
def _fast_password_hashing(settings):
    """PBKDF2 takes seconds here per user; the tests are not about hash strength."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


def response_text(response) -> str:
    return response.content.decode()


def signed_in_client(user) -> Client:
    """A test client logged in as ``user`` (anonymous for None)."""
    client = Client()
    if user is not None:
        client.force_login(user)
    return client


@pytest.fixture(autouse=True)
def _no_rate_limits(settings):
    """Rate limits are off unless a test turns them on (tests/test_ratelimit.py does)."""
    settings.ARGMAP_RATE_LIMITS_ENABLED = False


@pytest.fixture(autouse=True)
def _no_login_lockout(settings):
    """django-axes is off unless a test turns it on (tests/test_axes.py does): Django's
    ``Client.login`` authenticates without a request, which axes' backend refuses."""
    settings.AXES_ENABLED = False


@pytest.fixture(autouse=True)
def _clear_cache():
    """The article cache outlives a test's transaction; start every test from an empty one."""
    cache.clear()
    yield
    cache.clear()


def _user(username: str, **extra):
    return get_user_model().objects.create_user(
        username=username, email=f"{username}@example.test", password=PASSWORD, **extra
    )


@pytest.fixture
def owner(db):
    return _user("olivia-owner")


@pytest.fixture
def writer(db):
    return _user("walter-writer")


@pytest.fixture
def viewer(db):
    return _user("vera-viewer")


@pytest.fixture
def moderator(db):
    return _user("mona-moderator")


@pytest.fixture
def editor(db):
    return _user("eddie-editor")


@pytest.fixture
def suggester(db):
    return _user("suzy-suggester")


@pytest.fixture
def stranger(db):
    return _user("sam-stranger")


@pytest.fixture
def staff(db):
    """A staff member who is not a superuser (a curator)."""
    return _user("carl-curator", is_staff=True)


@pytest.fixture
def admin_user(db):
    """A superuser. Overrides pytest-django's fixture so the cast shares one password."""
    return get_user_model().objects.create_superuser(
        username="ada-admin", email="ada-admin@example.test", password=PASSWORD
    )


@pytest.fixture
def seeded_map(db) -> ArgumentMap:
    """The Kaliningrad map, loaded by the seed command exactly as `make seed` does."""
    call_command("seed", verbosity=0)
    return ArgumentMap.objects.select_related("source").get(slug="kaliningrad")


ClaimSpec = tuple[str | None, str, str] | tuple[str | None, str, str, str]


@pytest.fixture
def make_map(db, owner) -> Callable[..., ArgumentMap]:
    """Build a small map through the services.

    ``claims`` is a sequence of ``(parent_text, stance, text)`` or
    ``(parent_text, stance, text, quote_exact)``; ``parent_text`` None means the thesis. Parents
    must come before their children. ``source_text`` attaches an article to quote from.
    """
    numbers = itertools.count(1)

    def make(
        *,
        slug: str | None = None,
        title: str | None = None,
        thesis: str = "Cities should ban cars from their centres.",
        thesis_quote: str | None = None,
        claims: Iterable[ClaimSpec] = (),
        source_text: str | None = None,
        owner=owner,
        visibility: str = ArgumentMap.Visibility.PUBLIC,
        featured: bool = False,
    ) -> ArgumentMap:
        number = next(numbers)
        source: Source | None = None
        if source_text is not None:
            source = services.source_create(title=f"Article {number}", text=source_text, by=owner)
        argument_map = services.map_create(
            slug=slug or f"map-{number}",
            title=title or f"Map number {number}",
            thesis=thesis,
            thesis_quote=services.QuoteInput(exact=thesis_quote) if thesis_quote else None,
            source=source,
            owner=owner,
            visibility=visibility,
            featured=featured,
        )
        by_text = {None: Claim.objects.get(map=argument_map, parent__isnull=True)}
        for spec in claims:
            parent_text, stance, text, *quote = spec
            by_text[text] = services.claim_add(
                parent=by_text[parent_text],
                stance=stance,
                text=text,
                by=owner,
                quote=services.QuoteInput(exact=quote[0]) if quote else None,
            )
        argument_map.refresh_from_db()
        return argument_map

    return make


def claim_by_text(argument_map: ArgumentMap, text: str) -> Claim:
    return Claim.objects.get(map=argument_map, text=text)


def fan(parent: str | None, stance: str, texts: Sequence[str]) -> list[ClaimSpec]:
    """Claim specs for several children of one parent."""
    return [(parent, stance, text) for text in texts]


def add_member(argument_map: ArgumentMap, user, role: str = Role.WRITER, **extra) -> Membership:
    """Give ``user`` a role in the map (tests set memberships up directly, not through views)."""
    member, _ = Membership.objects.update_or_create(
        map=argument_map, user=user, defaults={"role": role, **extra}
    )
    return member
