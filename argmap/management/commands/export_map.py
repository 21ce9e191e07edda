"""Print a map in one of the interchange formats (docs/formats.md) to standard output."""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError

from argmap import formats
from argmap.models import ArgumentMap


class Command(BaseCommand):
    help = "Export a map (every claim, whatever its status) to standard output."

    def add_arguments(self, parser):
        parser.add_argument("slug")
        parser.add_argument("--format", choices=list(formats.FORMATS), default="json")

    def handle(self, *args, slug: str, format: str, **options) -> None:
        argument_map = ArgumentMap.objects.select_related("source").filter(slug=slug).first()
        if argument_map is None:
            raise CommandError(f"No map with the slug {slug!r}.")
        self.stdout.write(formats.export(argument_map, format), ending="")
