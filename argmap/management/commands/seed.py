"""Load the seed maps from ``seeds/`` through the services; idempotent."""

from __future__ import annotations

import json
from pathlib import Path

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError

from argmap import services
from argmap.interchange import DocumentError, plan_document
from argmap.models import ArgumentMap


class Command(BaseCommand):
    help = "Load every seeds/*.json map that is not loaded yet (a map is known by its slug)."

    def add_arguments(self, parser):
        parser.add_argument("files", nargs="*", help="Map files (default: seeds/*.json).")

    def handle(self, *args, files: list[str], **options) -> None:
        paths = [Path(f) for f in files] or sorted((settings.BASE_DIR / "seeds").glob("*.json"))
        if not paths:
            raise CommandError("No seed files found in seeds/.")
        for path in paths:
            try:
                document = json.loads(path.read_text(encoding="utf-8"))
            except (OSError, json.JSONDecodeError) as error:
                raise CommandError(f"{path}: cannot read the map file: {error}") from error
            try:
                plan = plan_document(document, base_dir=path.parent)
            except DocumentError as error:
                raise CommandError(
                    f"{path}: refused, nothing loaded:\n  " + "\n  ".join(error.errors)
                ) from error
            if ArgumentMap.objects.filter(slug=plan.slug).exists():
                self.stdout.write(f"{path.name}: map {plan.slug!r} is already loaded; unchanged.")
                continue
            try:
                argument_map = services.map_import(plan=plan, reason=f"Seeded from {path.name}")
            except ValidationError as error:
                raise CommandError(f"{path}: refused, nothing loaded: {error}") from error
            count = argument_map.claims.count()
            self.stdout.write(
                self.style.SUCCESS(f"{path.name}: loaded map {plan.slug!r} with {count} claims.")
            )
