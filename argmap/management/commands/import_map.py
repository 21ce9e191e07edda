"""Create a map from a file in one of the interchange formats (docs/formats.md)."""

from __future__ import annotations

import sys
from pathlib import Path

from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError
from django.core.validators import validate_slug

from argmap import formats

IMPORT_REFUSED = "{name}: refused, nothing imported:\n  {problems}"
IMPORT_NO_OWNER = "No user called {username!r}."
IMPORT_BAD_SLUG = "{slug!r} is not a valid map address (letters, digits, '-' and '_')."


class Command(BaseCommand):
    help = "Import a map from FILE ('-' for standard input) under a new slug, all or nothing."

    def add_arguments(self, parser):
        parser.add_argument("file", help="The file to read, or '-' for standard input.")
        parser.add_argument("--format", choices=formats.IMPORT_FORMATS, default="json")
        parser.add_argument("--slug", required=True, help="The new map's address.")
        parser.add_argument(
            "--replace", action="store_true", help="Delete an existing map with that slug first."
        )
        parser.add_argument("--owner", help="Username of the new map's owner.")

    def handle(self, *args, file: str, format: str, slug, replace, owner, **options) -> None:
        name = "<stdin>" if file == "-" else file
        try:
            data = sys.stdin.buffer.read() if file == "-" else Path(file).read_bytes()
        except OSError as error:
            raise CommandError(f"{name}: cannot read the file: {error}") from error
        user = None
        if owner:
            user = get_user_model().objects.filter(username=owner).first()
            if user is None:
                raise CommandError(IMPORT_NO_OWNER.format(username=owner))
        try:
            validate_slug(slug)
        except ValidationError as error:
            raise CommandError(IMPORT_BAD_SLUG.format(slug=slug)) from error
        try:
            plan = formats.parse(data, format)
        except formats.DocumentError as error:
            problems = "\n  ".join(error.errors)
            raise CommandError(IMPORT_REFUSED.format(name=name, problems=problems)) from error
        try:
            argument_map = formats.import_plan(
                plan=plan,
                slug=slug,
                owner=user,
                replace=replace,
                reason=f"Imported from {Path(name).name} ({format})",
            )
        except ValidationError as error:
            problems = "\n  ".join(error.messages)
            raise CommandError(IMPORT_REFUSED.format(name=name, problems=problems)) from error
        count = argument_map.claims.count()
        self.stdout.write(
            self.style.SUCCESS(f"Imported map {argument_map.slug!r} with {count} claims.")
        )
