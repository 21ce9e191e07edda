"""Argmap's Argdown export read by the reference parser (@argdown/core 2.0.1 under Node.js):
the same statements, texts, relations and data as the map. Needs ``node`` and ``npm``; the
parser is installed with ``npm ci`` in tools/argdown on first use. Skipped without Node.js,
except in CI (``CI=true``), where a missing Node.js fails."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from typing import Any

import pytest
from django.conf import settings
from hypothesis import HealthCheck, given
from hypothesis import settings as hypothesis_settings

from argmap import formats
from argmap.formats import argdown
from argmap.models import ArgumentMap, Claim
from tests.test_formats import build_map, map_specs

TOOLS = settings.BASE_DIR / "tools" / "argdown"
NO_NODE = "Node.js and npm are needed to run the reference Argdown parser (tools/argdown)."


@pytest.fixture(scope="session")
def reference_parser():
    """A function that parses Argdown text with @argdown/core and returns its summary."""
    node, npm = shutil.which("node"), shutil.which("npm")
    if node is None or npm is None:
        if os.environ.get("CI", "").lower() in ("1", "true", "yes"):
            pytest.fail(NO_NODE)
        pytest.skip(NO_NODE)
    if not (TOOLS / "node_modules" / "@argdown" / "core").is_dir():
        subprocess.run(
            [npm, "ci", "--no-audit", "--no-fund", "--loglevel=error"],
            cwd=TOOLS,
            check=True,
            timeout=600,
        )

    def parse(text: str) -> dict[str, Any]:
        done = subprocess.run(
            [node, str(TOOLS / "parse.mjs")],
            input=text,
            capture_output=True,
            text=True,
            encoding="utf-8",
            check=True,
            timeout=60,
        )
        return json.loads(done.stdout)

    return parse


def assert_parser_agrees(argument_map: ArgumentMap, summary: dict[str, Any]) -> None:
    claims = list(Claim.objects.filter(map=argument_map))
    by_title = {f"c{claim.pk}": claim for claim in claims}
    assert summary["errors"] == []
    assert summary["statements"] == len(claims)
    assert summary["relations"] == len(claims) - 1
    assert {title: text.strip() for title, text in summary["texts"].items()} == {
        title: claim.text for title, claim in by_title.items()
    }
    expected = {
        (title, f"c{claim.parent_id}", "support" if claim.stance == "support" else "attack")
        for title, claim in by_title.items()
        if claim.parent_id is not None
    }
    assert {(r["from"], r["to"], r["type"]) for r in summary["relationList"]} == expected
    for title, claim in by_title.items():
        data = summary["data"][title] or {}
        assert data.get("status", "published") == claim.status
        quote = data.get("quote")
        assert (quote or {}).get("exact") == (claim.quote_exact if claim.has_quote else None)
        if quote:
            assert (quote["start"], quote["end"]) == (claim.quote_start, claim.quote_end)
    assert summary["frontMatter"]["title"] == argument_map.title
    assert summary["frontMatter"]["slug"] == argument_map.slug
    if argument_map.source is not None:
        assert summary["frontMatter"]["source"]["text"] == argument_map.source.text


@pytest.mark.django_db
def test_the_reference_parser_reads_the_seeded_map(seeded_map, reference_parser):
    summary = reference_parser(formats.export(seeded_map, "argdown"))
    assert summary["statements"] == seeded_map.claims.count() >= 30
    assert_parser_agrees(seeded_map, summary)


@pytest.mark.django_db
def test_the_reference_parser_reads_markup_characters_as_text(make_map, reference_parser):
    argument_map = make_map(
        thesis="Is [c1] <Arg> #tag @[x] *bold* _it_ // not a comment?",
        claims=[
            (None, "support", "e.g. :+1: and .ok. stay text; {braces} (too)"),
            (None, "counter", "- starts with a dash, + and = signs == ==="),
            ("- starts with a dash, + and = signs == ===", "support", "Back\\slash and ‘quotes’ ✓"),
        ],
    )
    assert_parser_agrees(argument_map, reference_parser(formats.export(argument_map, "argdown")))


@pytest.mark.django_db
def test_without_escaping_the_parser_reads_something_else(make_map, reference_parser, monkeypatch):
    """Negative control: the checks above can fail."""
    argument_map = make_map(thesis="Is [c1] <Arg> #tag *bold* e.g. a thesis?")
    monkeypatch.setattr(argdown, "escape_text", lambda text: text)
    summary = reference_parser(formats.export(argument_map, "argdown"))
    with pytest.raises(AssertionError):
        assert_parser_agrees(argument_map, summary)


@pytest.mark.django_db
@hypothesis_settings(
    max_examples=10,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(specs=map_specs())
def test_the_reference_parser_agrees_on_random_maps(specs, reference_parser):
    try:
        argument_map = build_map(specs, "random")
        summary = reference_parser(formats.export(argument_map, "argdown"))
        assert_parser_agrees(argument_map, summary)
    finally:
        ArgumentMap.objects.all().delete()
