"""The seed command and the Kaliningrad map it loads."""

from __future__ import annotations

import itertools
import json
import shutil
from pathlib import Path

import pytest
from django.conf import settings
from django.core.management import CommandError, call_command

from argmap.models import ArgumentMap, Claim, Source, text_sha256

pytestmark = pytest.mark.django_db

SEEDS = Path(settings.BASE_DIR) / "seeds"
ARTICLE_FILE = SEEDS / "kaliningrad-article.txt"
DOCUMENTED_SHA256 = "808ff37d0479a58f978b71e0a3a11e250934a26257a2beaef9e97e0813223c20"


def _depths(argument_map: ArgumentMap) -> dict[int, int]:
    parents = dict(Claim.objects.filter(map=argument_map).values_list("pk", "parent_id"))
    depths: dict[int, int] = {}

    def depth(pk: int) -> int:
        if pk not in depths:
            parent = parents[pk]
            depths[pk] = 0 if parent is None else depth(parent) + 1
        return depths[pk]

    for pk in parents:
        depth(pk)
    return depths


def test_seed_loads_the_kaliningrad_map_with_a_deep_two_sided_tree(seeded_map):
    claims = list(Claim.objects.filter(map=seeded_map))
    assert len(claims) >= 30
    assert all(claim.status == Claim.Status.PUBLISHED for claim in claims)
    depths = _depths(seeded_map)
    assert max(depths.values()) >= 4
    for level in (1, 2):
        stances = {claim.stance for claim in claims if depths[claim.pk] == level}
        assert stances == {"support", "counter"}, level
    assert seeded_map.featured
    assert seeded_map.title == "NATO deterrence and Kaliningrad: a road to wider war?"


def test_seeded_source_is_the_article_file_byte_for_byte(seeded_map):
    source = seeded_map.source
    raw = ARTICLE_FILE.read_bytes()
    assert source.text.encode("utf-8") == raw
    assert source.sha256 == text_sha256(source.text) == DOCUMENTED_SHA256


def test_every_seeded_claim_is_anchored_to_the_exact_article_text(seeded_map):
    text = seeded_map.source.text
    claims = Claim.objects.filter(map=seeded_map)
    for claim in claims:
        assert claim.has_quote, claim.text
        assert text[claim.quote_start : claim.quote_end] == claim.quote_exact, claim.text
        assert text[: claim.quote_start].endswith(claim.quote_prefix)
        assert text[claim.quote_end :].startswith(claim.quote_suffix)


def test_every_bullet_of_the_article_is_the_quote_of_some_claim(seeded_map):
    quotes = set(Claim.objects.filter(map=seeded_map).values_list("quote_exact", flat=True))
    bullets = [line[2:] for line in seeded_map.source.text.splitlines() if line.startswith("- ")]
    assert len(bullets) == 10
    assert [bullet for bullet in bullets if bullet not in quotes] == []


def test_every_section_of_the_article_is_anchored(seeded_map):
    text = seeded_map.source.text
    headings = [
        "Russia Accuses NATO of Escalating Tensions with New Deterrence Strategy",
        "Potential Implications of NATO’s Enhanced Military Plans on Kaliningrad",
        "Expert Analysis on the Risks of Heightened NATO-Russia Confrontation",
        "Strategies for De-escalation and Diplomatic Engagement Amid Growing Hostilities",
    ]
    cuts = [0, *(text.index(heading) for heading in headings), text.rindex("\n") + 1, len(text)]
    starts = list(Claim.objects.filter(map=seeded_map).values_list("quote_start", flat=True))
    sections = list(itertools.pairwise(cuts))
    assert len(sections) == 6  # intro, four headed sections, the closing paragraph
    for start, end in sections:
        assert any(start <= quote < end for quote in starts), text[start:end][:60]


def test_seeding_twice_changes_nothing():
    call_command("seed", verbosity=0)
    argument_map = ArgumentMap.objects.get(slug="kaliningrad")

    def snapshot():
        return (
            ArgumentMap.objects.count(),
            Claim.objects.count(),
            Source.objects.count(),
            ArgumentMap.objects.get(pk=argument_map.pk).version,
            ArgumentMap.history.count(),
            Claim.history.count(),
            Source.history.count(),
        )

    before = snapshot()
    call_command("seed", verbosity=0)
    assert snapshot() == before


def test_seed_reports_what_it_loaded(capsys):
    call_command("seed")
    call_command("seed")
    out = capsys.readouterr().out
    count = Claim.objects.count()
    assert f"kaliningrad.json: loaded map 'kaliningrad' with {count} claims." in out
    assert "kaliningrad.json: map 'kaliningrad' is already loaded; unchanged." in out


def _nothing_exists() -> bool:
    tables = [ArgumentMap, Claim, Source, ArgumentMap.history.model, Claim.history.model]
    return not any(model.objects.exists() for model in [*tables, Source.history.model])


def _claim(document: dict, claim_id: str) -> dict:
    return next(claim for claim in document["claims"] if claim["id"] == claim_id)


def _quote_mismatch(document):
    _claim(document, "missile-readiness")["quote"]["exact"] = "missile readiness near Mars"


def _dangling_parent(document):
    _claim(document, "deepens-mistrust")["parent"] = "no-such-claim"


def _second_thesis(document):
    claim = _claim(document, "volatile-landscape")
    claim["parent"], claim["stance"] = None, None


def _cycle(document):
    # ratchets-up-tensions moves under its own child: aggressive-atmosphere → ratchets → …
    _claim(document, "ratchets-up-tensions")["parent"] = "aggressive-atmosphere"


@pytest.mark.parametrize(
    ("defect", "claim_id", "problem"),
    [
        (_quote_mismatch, "missile-readiness", "the quote does not match the article"),
        (_dangling_parent, "deepens-mistrust", "its parent 'no-such-claim' does not exist"),
        (_second_thesis, "volatile-landscape", "a second thesis"),
        (_cycle, "ratchets-up-tensions", "its parent chain forms a cycle"),
    ],
    ids=["quote-mismatch", "dangling-parent", "second-thesis", "cycle"],
)
def test_a_bad_seed_file_is_refused_naming_the_claim_and_loads_nothing(
    tmp_path, defect, claim_id, problem
):
    document = json.loads((SEEDS / "kaliningrad.json").read_text(encoding="utf-8"))
    defect(document)
    shutil.copy(ARTICLE_FILE, tmp_path / ARTICLE_FILE.name)
    path = tmp_path / "kaliningrad.json"
    path.write_text(json.dumps(document, ensure_ascii=False), encoding="utf-8")

    with pytest.raises(CommandError) as refused:
        call_command("seed", str(path), verbosity=0)

    message = str(refused.value)
    assert "refused, nothing loaded" in message
    assert f"claim {claim_id!r}: {problem}" in message
    assert _nothing_exists()


def test_a_seed_file_that_fails_while_importing_leaves_nothing_behind(tmp_path):
    # Valid for the planner; map_create refuses the slug, after the source was already stored.
    document = json.loads((SEEDS / "kaliningrad.json").read_text(encoding="utf-8"))
    document["map"]["slug"] = "not a slug!"
    shutil.copy(ARTICLE_FILE, tmp_path / ARTICLE_FILE.name)
    path = tmp_path / "bad-slug.json"
    path.write_text(json.dumps(document), encoding="utf-8")
    with pytest.raises(CommandError, match="refused, nothing loaded"):
        call_command("seed", str(path), verbosity=0)
    assert _nothing_exists()


def test_a_seed_file_that_is_not_json_is_refused(tmp_path):
    path = tmp_path / "broken.json"
    path.write_text('{"format": "argmap/1", ', encoding="utf-8")
    with pytest.raises(CommandError, match="cannot read the map file"):
        call_command("seed", str(path), verbosity=0)
    assert _nothing_exists()


def test_a_seed_file_whose_article_is_missing_is_refused(tmp_path):
    shutil.copy(SEEDS / "kaliningrad.json", tmp_path / "kaliningrad.json")
    with pytest.raises(CommandError, match=r"cannot read text_file 'kaliningrad-article\.txt'"):
        call_command("seed", str(tmp_path / "kaliningrad.json"), verbosity=0)
    assert _nothing_exists()
