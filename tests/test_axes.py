"""Login brute-force protection (django-axes) on the site login and the admin login."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.test import Client
from django.utils import timezone

from tests.conftest import PASSWORD, response_text

LOGIN = "/accounts/login/"
ADMIN_LOGIN = "/admin/login/?next=/admin/"
LOCKOUT_TITLE = "Too many failed logins"


@pytest.fixture(autouse=True)
def _axes_on(settings):
    """tests/conftest.py turns axes off for everyone else; these tests are about it."""
    settings.AXES_ENABLED = True


def attempt(url: str, username: str, password: str, ip: str = "203.0.113.7"):
    return Client(REMOTE_ADDR=ip).post(url, {"username": username, "password": password})


def fail(url: str, username: str, times: int, ip: str = "203.0.113.7") -> list[int]:
    return [attempt(url, username, "wrong-password", ip).status_code for _ in range(times)]


def signed_in(response) -> bool:
    return "_auth_user_id" in response.client.session


def test_four_wrong_passwords_still_show_the_login_form(writer):
    assert fail(LOGIN, writer.username, 4) == [200, 200, 200, 200]
    response = attempt(LOGIN, writer.username, PASSWORD)
    assert response.status_code == 302
    assert signed_in(response)


def test_fifth_wrong_password_locks_the_account_out_with_a_readable_page(writer):
    statuses = fail(LOGIN, writer.username, 5)
    assert statuses == [200, 200, 200, 200, 429]
    response = attempt(LOGIN, writer.username, "wrong-password")
    assert response.status_code == 429
    text = response_text(response)
    assert LOCKOUT_TITLE in text
    assert "15 minutes" in text
    assert writer.username in text


def test_correct_password_is_refused_while_locked_out(writer):
    fail(LOGIN, writer.username, 5)
    response = attempt(LOGIN, writer.username, PASSWORD)
    assert response.status_code == 429
    assert LOCKOUT_TITLE in response_text(response)
    assert not signed_in(response)


def test_lockout_is_per_username_and_address(writer, viewer):
    fail(LOGIN, writer.username, 5, ip="203.0.113.7")
    # The same account from another address, and another account from the same address, log in.
    assert signed_in(attempt(LOGIN, writer.username, PASSWORD, ip="198.51.100.9"))
    assert signed_in(attempt(LOGIN, viewer.username, PASSWORD, ip="203.0.113.7"))
    assert attempt(LOGIN, writer.username, PASSWORD, ip="203.0.113.7").status_code == 429


def test_lockout_ends_after_the_cool_off(writer):
    from axes.models import AccessAttempt

    fail(LOGIN, writer.username, 5)
    assert attempt(LOGIN, writer.username, PASSWORD).status_code == 429
    AccessAttempt.objects.update(attempt_time=timezone.now() - timedelta(minutes=16))
    response = attempt(LOGIN, writer.username, PASSWORD)
    assert response.status_code == 302
    assert signed_in(response)


def test_successful_login_resets_the_failure_count(writer):
    fail(LOGIN, writer.username, 4)
    assert signed_in(attempt(LOGIN, writer.username, PASSWORD))
    # Four more wrong passwords are again only four: not locked.
    assert fail(LOGIN, writer.username, 4) == [200, 200, 200, 200]
    assert signed_in(attempt(LOGIN, writer.username, PASSWORD))


def test_admin_login_locks_out_after_five_wrong_passwords(admin_user):
    statuses = fail(ADMIN_LOGIN, admin_user.username, 5)
    assert statuses == [200, 200, 200, 200, 429]
    response = attempt(ADMIN_LOGIN, admin_user.username, PASSWORD)
    assert response.status_code == 429
    assert LOCKOUT_TITLE in response_text(response)
    assert not signed_in(response)
    assert Client(REMOTE_ADDR="203.0.113.7").get("/admin/").status_code == 302


def test_failures_on_site_and_admin_login_count_together(admin_user):
    fail(LOGIN, admin_user.username, 3)
    fail(ADMIN_LOGIN, admin_user.username, 2)
    assert attempt(ADMIN_LOGIN, admin_user.username, PASSWORD).status_code == 429
    assert attempt(LOGIN, admin_user.username, PASSWORD).status_code == 429


def test_admin_login_still_works_with_the_right_password(admin_user):
    response = attempt(ADMIN_LOGIN, admin_user.username, PASSWORD)
    assert response.status_code == 302
    assert signed_in(response)


@pytest.mark.django_db(transaction=True)
def test_lockout_page_under_asgi(writer):
    """Under ASGI (uvicorn) axes' middleware runs its async path; the page must be the same."""
    import asyncio
    import threading

    from django.test import AsyncClient

    client = AsyncClient()

    def post(path: str, data: dict):
        # A thread of its own: Playwright's sync API may already run an event loop in this one.
        result = []
        thread = threading.Thread(
            target=lambda: result.append(asyncio.run(client.post(path, data)))
        )
        thread.start()
        thread.join()
        return result[0]

    data = {"username": writer.username, "password": "wrong-password"}
    statuses = [post(LOGIN, data).status_code for _ in range(5)]
    assert statuses == [200, 200, 200, 200, 429]
    response = post(LOGIN, {"username": writer.username, "password": PASSWORD})
    assert response.status_code == 429
    assert LOCKOUT_TITLE in response_text(response)
    assert writer.username in response_text(response)
