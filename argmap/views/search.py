"""Views for search (filled in by its work item)."""

from __future__ import annotations

urlpatterns: list = []
