"""The synthetic map generator: shape, stances, anchors, determinism, and --replace."""

from __future__ import annotations

import io

import pytest
from django.conf import settings
from django.core.management import call_command
from django.core.management.base import CommandError

from argmap.management.commands.generate_map import MAP_EXISTS, build_document
from argmap.models import ArgumentMap, Claim, Source

pytestmark = pytest.mark.django_db

SLUG = "generated"
CLAIMS = 300


def generate(slug: str = SLUG, claims: int = CLAIMS, seed: int = 1, **options) -> str:
    out = io.StringIO()
    call_command("generate_map", slug=slug, claims=claims, seed=seed, stdout=out, **options)
    return out.getvalue()


def claim_rows(slug: str) -> list[dict]:
    return list(
        Claim.objects.filter(map__slug=slug)
        .order_by("pk")
        .values(
            "pk", "parent_id", "map_id", "stance", "text", "quote_exact", "quote_start", "quote_end"
        )
    )


def depths(rows: list[dict]) -> dict[int, int]:
    parents = {row["pk"]: row["parent_id"] for row in rows}
    found: dict[int, int] = {}
    for pk in parents:
        chain, current = [], pk
        while current is not None and current not in found:
            chain.append(current)
            current = parents[current]
        depth = -1 if current is None else found[current]
        for node in reversed(chain):
            depth += 1
            found[node] = depth
    return found


@pytest.fixture
def generated() -> ArgumentMap:
    generate()
    return ArgumentMap.objects.select_related("source").get(slug=SLUG)


def test_generates_exactly_the_requested_number_of_claims(generated):
    assert Claim.objects.filter(map=generated).count() == CLAIMS


def test_map_has_exactly_one_thesis(generated):
    assert Claim.objects.filter(map=generated, parent__isnull=True).count() == 1


def test_every_parent_is_in_the_same_map(generated):
    rows = claim_rows(SLUG)
    ids = {row["pk"] for row in rows}
    assert all(row["parent_id"] in ids for row in rows if row["parent_id"] is not None)
    assert (
        not Claim.objects.filter(map=generated)
        .exclude(parent__isnull=True)
        .exclude(parent__map=generated)
    )


def test_tree_is_more_than_five_levels_deep(generated):
    assert max(depths(claim_rows(SLUG)).values()) > 5


def test_top_is_bushy_with_some_claim_past_a_page(generated):
    thesis = Claim.objects.get(map=generated, parent__isnull=True)
    level1 = Claim.objects.filter(parent=thesis)
    assert 8 <= level1.count() <= 20
    page = settings.ARGMAP_PAGE_SIZE
    assert any(claim.children.count() > page for claim in level1)


def test_both_stances_are_present(generated):
    stances = set(Claim.objects.filter(map=generated).values_list("stance", flat=True))
    assert {"support", "counter"} <= stances


def test_claim_texts_are_sized_and_unique_among_siblings(generated):
    rows = claim_rows(SLUG)
    assert all(40 <= len(row["text"]) <= 200 for row in rows)
    siblings: dict[int | None, list[str]] = {}
    for row in rows:
        siblings.setdefault(row["parent_id"], []).append(row["text"].casefold())
    assert all(len(texts) == len(set(texts)) for texts in siblings.values())


def test_anchored_quotes_match_the_source_exactly(generated):
    text = generated.source.text
    anchored = [row for row in claim_rows(SLUG) if row["quote_start"] is not None]
    assert 0.6 * CLAIMS <= len(anchored) <= 0.8 * CLAIMS
    for row in anchored:
        assert row["quote_exact"] == text[row["quote_start"] : row["quote_end"]]


def test_article_is_sized_to_the_map():
    article = build_document(slug="x", claims=1_000, seed=3)["source"]["text"]
    assert 40_000 <= len(article.encode("utf-8")) < 45_000
    assert "\n- " in article  # bullet lines
    small = build_document(slug="x", claims=10, seed=3)["source"]["text"]
    assert 5_000 <= len(small.encode("utf-8")) < 6_000


def test_same_seed_gives_the_same_map_and_another_seed_does_not():
    generate(slug="first", seed=7)
    generate(slug="second", seed=7)
    generate(slug="third", seed=8)
    texts = {
        slug: [row["text"] for row in claim_rows(slug)] for slug in ("first", "second", "third")
    }
    assert texts["first"] == texts["second"]
    assert texts["first"] != texts["third"]


def test_existing_slug_without_replace_is_refused(generated):
    with pytest.raises(CommandError, match="--replace") as error:
        generate(claims=50)
    assert str(error.value) == MAP_EXISTS.format(slug=SLUG)
    assert Claim.objects.filter(map__slug=SLUG).count() == CLAIMS


def test_replace_regenerates_the_map_and_drops_its_orphaned_source(generated):
    old_source = generated.source_id
    output = generate(claims=50, seed=2, replace=True)
    assert "Replaced map" in output
    assert ArgumentMap.objects.filter(slug=SLUG).count() == 1
    assert Claim.objects.filter(map__slug=SLUG).count() == 50
    assert not Source.objects.filter(pk=old_source).exists()
    assert Source.objects.count() == 1
