"""The export_map and demo_admin management commands."""

from __future__ import annotations

import json
import re
from io import StringIO

import pytest
from django.contrib.auth import authenticate, get_user_model
from django.core.management import CommandError, call_command

from argmap.interchange import export_map, plan_document

pytestmark = pytest.mark.django_db


def _run(*args) -> str:
    out = StringIO()
    call_command(*args, stdout=out)
    return out.getvalue()


def test_export_map_prints_the_map_as_valid_json(seeded_map):
    output = _run("export_map", "kaliningrad")
    document = json.loads(output)
    assert document == json.loads(json.dumps(export_map(seeded_map)))
    assert document["format"] == "argmap/1"
    assert len(document["claims"]) == seeded_map.claims.count()
    assert "’" in output  # UTF-8 as is, not \u escapes
    assert plan_document(document).slug == "kaliningrad"  # and it imports back


def test_export_map_of_an_unknown_slug_is_a_command_error(db):
    with pytest.raises(CommandError, match="No map with the slug 'nowhere'"):
        _run("export_map", "nowhere")


@pytest.fixture
def var_dir(settings, tmp_path):
    """Keep the demo password out of the real var/ directory."""
    settings.VAR_DIR = tmp_path
    return tmp_path


def _password(output: str) -> str:
    found = re.search(r"password '([^']+)'", output)
    assert found, output
    return found.group(1)


def test_demo_admin_prints_the_same_working_password_twice(var_dir):
    first = _password(_run("demo_admin"))
    second = _password(_run("demo_admin"))
    assert first == second
    assert len(first) >= 16
    user = authenticate(username="admin", password=first)
    assert user is not None and user.is_superuser and user.is_staff
    assert get_user_model().objects.filter(username="admin").count() == 1
    password_file = var_dir / "demo-admin-password.txt"
    assert password_file.read_text().strip() == first
    assert password_file.stat().st_mode & 0o777 == 0o600


def test_demo_admin_resets_a_password_that_no_longer_works(var_dir):
    first = _password(_run("demo_admin"))
    user = get_user_model().objects.get(username="admin")
    user.set_password("changed-elsewhere-123")
    user.save()
    second = _password(_run("demo_admin"))
    assert second != first
    assert authenticate(username="admin", password=second) is not None


def test_demo_admin_does_not_take_over_an_ordinary_account_named_admin(var_dir):
    User = get_user_model()
    User.objects.create_user("admin", password="their-own-secret-99")
    with pytest.raises(CommandError):
        _run("demo_admin")
    assert authenticate(username="admin", password="their-own-secret-99") is not None
