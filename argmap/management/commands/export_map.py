"""Print a map in the ``argmap/1`` JSON interchange format (docs/formats.md)."""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError

from argmap.interchange import dumps, export_map
from argmap.models import ArgumentMap


class Command(BaseCommand):
    help = "Export a map as JSON to standard output."

    def add_arguments(self, parser):
        parser.add_argument("slug")
        parser.add_argument("--format", choices=["json"], default="json")

    def handle(self, *args, slug: str, **options) -> None:
        argument_map = ArgumentMap.objects.select_related("source").filter(slug=slug).first()
        if argument_map is None:
            raise CommandError(f"No map with the slug {slug!r}.")
        self.stdout.write(dumps(export_map(argument_map)), ending="")
