"""Restore a backup made by ``manage.py backup`` into a fresh database (docs/operations.md)."""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError

from argmap.backup import BackupError, restore


class Command(BaseCommand):
    help = (
        "Restore a backup into the configured database, or into --database-url (a SQLite file "
        "is created; a PostgreSQL database is created if missing). Refuses a database that "
        "already has maps unless --force. Stop the site before restoring over its database."
    )

    def add_arguments(self, parser):
        parser.add_argument("path", help="A backup file from manage.py backup.")
        parser.add_argument(
            "--database-url",
            dest="database_url",
            help="Restore into this database (sqlite:////abs/path.sqlite3 or postgres://...).",
        )
        parser.add_argument(
            "--force",
            action="store_true",
            help="Replace the contents of a database that already has maps.",
        )

    def handle(self, *args, path: str, database_url: str | None, force: bool, **options) -> None:
        try:
            outcome = restore(path, database_url=database_url, force=force)
        except BackupError as error:
            raise CommandError(str(error)) from error
        maps = ", ".join(f"{slug} at version {v}" for slug, v in outcome.versions.items())
        self.stdout.write(
            f"Restored {outcome.path} into {outcome.vendor} database {outcome.target} "
            f"({len(outcome.versions)} map(s)" + (f": {maps})." if maps else ").")
        )
