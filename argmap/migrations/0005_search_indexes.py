"""GIN indexes for full-text search on PostgreSQL (argmap/search.py); nothing on SQLite.

Each index is on exactly the expression ``argmap.search.search_vector`` builds, so the planner
can use it for ``... @@ websearch_to_tsquery('english', ...)``.
"""

from __future__ import annotations

from django.db import migrations

INDEXES = {
    "argmap_claim_search": (
        "argmap_claim",
        "to_tsvector('english'::regconfig, COALESCE(text, ''))",
    ),
    "argmap_comment_search": (
        "argmap_comment",
        "to_tsvector('english'::regconfig, COALESCE(body, ''))",
    ),
    "argmap_map_search": (
        "argmap_argumentmap",
        "(setweight(to_tsvector('english'::regconfig, COALESCE(title, '')), 'A') || "
        "setweight(to_tsvector('english'::regconfig, COALESCE(description, '')), 'B'))",
    ),
}


def create_indexes(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    for name, (table, expression) in INDEXES.items():
        schema_editor.execute(
            f"CREATE INDEX IF NOT EXISTS {name} ON {table} USING gin ({expression})"
        )


def drop_indexes(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    for name in INDEXES:
        schema_editor.execute(f"DROP INDEX IF EXISTS {name}")


class Migration(migrations.Migration):
    dependencies = [("argmap", "0004_moderation_and_discussion")]

    operations = [migrations.RunPython(create_indexes, drop_indexes, elidable=False)]
