from __future__ import annotations

from django.apps import AppConfig


class ArgmapConfig(AppConfig):
    name = "argmap"
    verbose_name = "Argument maps"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        # Registers the system checks (argmap/checks.py) with Django's check framework.
        from argmap import checks  # noqa: F401
