"""Create the local demo admin account once and print its password (kept in var/)."""

from __future__ import annotations

import secrets

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError

USERNAME = "admin"


class Command(BaseCommand):
    help = "Create a local superuser 'admin' with a random password, or print the existing one."

    def handle(self, *args, **options) -> None:
        password_file = settings.VAR_DIR / "demo-admin-password.txt"
        User = get_user_model()
        user = User.objects.filter(username=USERNAME).first()
        if user is not None and not user.is_superuser:
            raise CommandError(
                f"An ordinary account named {USERNAME!r} exists; not taking it over. "
                "Rename it or create a superuser with 'manage.py createsuperuser'."
            )
        if user is not None and password_file.exists():
            password = password_file.read_text().strip()
            if not user.check_password(password):
                password = None
        else:
            password = None
        if user is None or password is None:
            password = secrets.token_urlsafe(12)
            if user is None:
                user = User.objects.create_superuser(USERNAME, "admin@localhost", password)
            else:
                user.set_password(password)
                user.save(update_fields=["password"])
            password_file.parent.mkdir(parents=True, exist_ok=True)
            password_file.write_text(password + "\n")
            password_file.chmod(0o600)
        self.stdout.write(
            self.style.SUCCESS(
                f"Demo admin: username {USERNAME!r}, password {password!r} "
                f"(local only; stored in {password_file})."
            )
        )
