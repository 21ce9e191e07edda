"""Back up the database while the site runs (docs/operations.md)."""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError

from argmap.backup import BackupError, backup


class Command(BaseCommand):
    help = (
        "Back up the configured database: SQLite through its online backup API, PostgreSQL "
        "through pg_dump -Fc. Safe while the site runs. Default path: "
        "var/backups/argmap-<UTC time>.sqlite3 or .dump."
    )

    def add_arguments(self, parser):
        parser.add_argument("path", nargs="?", help="Where to write the backup (must not exist).")

    def handle(self, *args, path: str | None = None, **options) -> None:
        try:
            outcome = backup(path)
        except BackupError as error:
            raise CommandError(str(error)) from error
        maps = ", ".join(f"{slug} at version {v}" for slug, v in outcome.versions.items())
        self.stdout.write(
            f"Backed up {outcome.vendor} database {outcome.target} to {outcome.path} "
            f"({outcome.size:,} bytes; {len(outcome.versions)} map(s)"
            + (f": {maps})." if maps else ").")
        )
