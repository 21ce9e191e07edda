"""The write services: every invariant of creating sources, maps and claims lives here."""

from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError

from argmap import services
from argmap.anchors import QUOTE_NOT_FOUND
from argmap.models import ArgumentMap, Claim, Source
from tests.conftest import ARTICLE, claim_by_text

pytestmark = pytest.mark.django_db

LIMIT = 500  # settings.ARGMAP_CLAIM_MAX_LENGTH


def _errors(refused: pytest.ExceptionInfo[ValidationError]) -> dict[str, list[str]]:
    return refused.value.message_dict


def _thesis(argument_map: ArgumentMap) -> Claim:
    return Claim.objects.get(map=argument_map, parent__isnull=True)


def _version(argument_map: ArgumentMap) -> int:
    return ArgumentMap.objects.values_list("version", flat=True).get(pk=argument_map.pk)


# --- map_create ----------------------------------------------------------------------------------


def test_map_create_makes_exactly_one_thesis(owner):
    argument_map = services.map_create(
        slug="cars", title=" Cars ", thesis="  Ban   cars  in town. ", owner=owner
    )
    claims = list(Claim.objects.filter(map=argument_map))
    assert len(claims) == 1
    thesis = claims[0]
    assert (thesis.parent_id, thesis.stance, thesis.status) == (None, "", "published")
    assert thesis.text == "Ban cars in town."
    assert thesis.author == owner
    assert argument_map.title == "Cars"
    assert argument_map.version == 1 == thesis.changed_in


def test_map_create_refuses_a_taken_slug_and_creates_nothing(make_map):
    make_map(slug="taken")
    with pytest.raises(ValidationError) as refused:
        services.map_create(slug="taken", title="Again", thesis="Another thesis.")
    assert _errors(refused) == {"slug": [services.MAP_SLUG_TAKEN.format(slug="taken")]}
    assert ArgumentMap.objects.filter(slug="taken").count() == 1


@pytest.mark.parametrize("thesis", ["", "   ", "\n\t"])
def test_map_create_without_thesis_text_creates_no_map(thesis):
    with pytest.raises(ValidationError) as refused:
        services.map_create(slug="empty", title="Empty", thesis=thesis)
    assert _errors(refused) == {"text": [services.CLAIM_EMPTY]}
    assert not ArgumentMap.objects.exists()


def test_map_create_anchors_the_thesis_in_the_source():
    source = services.source_create(title="Article", text=ARTICLE)
    argument_map = services.map_create(
        slug="anchored",
        title="Anchored",
        thesis="Cars out.",
        source=source,
        thesis_quote=services.QuoteInput(exact="Cities should ban cars"),
    )
    thesis = _thesis(argument_map)
    assert (thesis.quote_start, thesis.quote_end) == (0, len("Cities should ban cars"))
    assert ARTICLE[thesis.quote_start : thesis.quote_end] == thesis.quote_exact


def test_map_create_refuses_a_thesis_quote_without_a_source():
    with pytest.raises(ValidationError) as refused:
        services.map_create(
            slug="nosource",
            title="No source",
            thesis="Cars out.",
            thesis_quote=services.QuoteInput(exact="anything"),
        )
    assert _errors(refused) == {"quote": [services.CLAIM_NO_SOURCE]}
    assert not ArgumentMap.objects.exists()


# --- claim_add -----------------------------------------------------------------------------------


@pytest.mark.parametrize("stance", ["", None, "neutral", "Support"])
def test_claim_add_requires_a_stance(make_map, writer, stance):
    argument_map = make_map()
    with pytest.raises(ValidationError) as refused:
        services.claim_add(parent=_thesis(argument_map), stance=stance, text="A reason", by=writer)
    assert _errors(refused) == {"stance": [services.CLAIM_STANCE_REQUIRED]}


@pytest.mark.parametrize("text", ["", "   ", "\n\t \u00a0", None])
def test_claim_add_refuses_empty_text(make_map, writer, text):
    argument_map = make_map()
    with pytest.raises(ValidationError) as refused:
        services.claim_add(parent=_thesis(argument_map), stance="support", text=text, by=writer)
    assert _errors(refused) == {"text": [services.CLAIM_EMPTY]}


def test_claim_add_refuses_text_over_the_limit(make_map, writer):
    argument_map = make_map()
    with pytest.raises(ValidationError) as refused:
        services.claim_add(
            parent=_thesis(argument_map), stance="support", text="x" * (LIMIT + 1), by=writer
        )
    assert _errors(refused) == {
        "text": [services.CLAIM_TOO_LONG.format(limit=LIMIT, length=LIMIT + 1)]
    }


def test_claim_add_accepts_text_at_the_limit_after_collapsing_whitespace(make_map, writer):
    argument_map = make_map()
    text = "  " + "ab " * (LIMIT // 3) + "cd   "  # 500 characters once whitespace collapses
    claim = services.claim_add(parent=_thesis(argument_map), stance="support", text=text, by=writer)
    assert len(claim.text) == LIMIT
    assert "  " not in claim.text


@pytest.mark.parametrize(
    "duplicate", ["Buses are cheaper.", "BUSES ARE CHEAPER.", " buses  are cheaper. "]
)
def test_claim_add_refuses_a_duplicate_sibling_whatever_its_case(make_map, writer, duplicate):
    argument_map = make_map(claims=[(None, "support", "Buses are cheaper.")])
    version = _version(argument_map)
    with pytest.raises(ValidationError) as refused:
        services.claim_add(parent=_thesis(argument_map), stance="counter", text=duplicate)
    assert _errors(refused) == {"text": [services.CLAIM_DUPLICATE_SIBLING]}
    assert _version(argument_map) == version  # the refused write left no trace
    assert argument_map.claims.count() == 2


def test_claim_add_allows_the_same_text_under_another_parent(make_map):
    argument_map = make_map(
        claims=[(None, "support", "Buses are cheaper."), (None, "counter", "Cars are faster.")]
    )
    claim = services.claim_add(
        parent=claim_by_text(argument_map, "Cars are faster."),
        stance="counter",
        text="Buses are cheaper.",
    )
    assert claim.parent.text == "Cars are faster."


def test_claim_add_allows_the_text_of_an_archived_sibling(make_map):
    argument_map = make_map(claims=[(None, "support", "Buses are cheaper.")])
    Claim.objects.filter(text="Buses are cheaper.").update(status=Claim.Status.ARCHIVED)
    claim = services.claim_add(
        parent=_thesis(argument_map), stance="support", text="Buses are cheaper."
    )
    assert claim.status == Claim.Status.PUBLISHED


@pytest.mark.parametrize("status", ["pending", "hidden", "archived"])
def test_claim_add_refuses_a_parent_that_is_not_published(make_map, writer, status):
    argument_map = make_map(claims=[(None, "support", "Parent")])
    parent = claim_by_text(argument_map, "Parent")
    Claim.objects.filter(pk=parent.pk).update(status=status)
    with pytest.raises(ValidationError) as refused:
        services.claim_add(parent=parent, stance="counter", text="Child", by=writer)
    assert _errors(refused) == {"parent": [services.CLAIM_PARENT_NOT_OPEN]}
    assert not Claim.objects.filter(text="Child").exists()


def test_claim_add_rereads_the_parent_instead_of_trusting_a_stale_instance(make_map):
    argument_map = make_map(claims=[(None, "support", "Parent")])
    stale = claim_by_text(argument_map, "Parent")  # still says "published" in memory
    Claim.objects.filter(pk=stale.pk).update(status=Claim.Status.HIDDEN)
    with pytest.raises(ValidationError):
        services.claim_add(parent=stale, stance="counter", text="Child")


def test_claim_add_anchors_a_quote_in_the_maps_source(make_map, writer):
    argument_map = make_map(source_text=ARTICLE)
    claim = services.claim_add(
        parent=_thesis(argument_map),
        stance="support",
        text="Streets get quieter.",
        by=writer,
        quote=services.QuoteInput(exact="Noise drops sharply at night"),
    )
    start = ARTICLE.index("Noise drops")
    assert (claim.quote_start, claim.quote_end) == (start, start + 28)
    assert ARTICLE[claim.quote_start : claim.quote_end] == claim.quote_exact
    assert ARTICLE[: claim.quote_start].endswith(claim.quote_prefix)
    assert ARTICLE[claim.quote_end :].startswith(claim.quote_suffix)
    assert claim.has_quote


@pytest.mark.parametrize(
    "quote",
    [
        services.QuoteInput(exact="Noise drops sharply at noon"),
        services.QuoteInput(exact="Noise drops", start=0, end=11),  # forged offsets
        services.QuoteInput(exact="Noise drops", prefix="Quiet: "),
        services.QuoteInput(exact=""),
    ],
    ids=["not-in-article", "forged-offsets", "wrong-prefix", "empty"],
)
def test_claim_add_refuses_a_quote_that_does_not_resolve(make_map, quote):
    argument_map = make_map(source_text=ARTICLE)
    version = _version(argument_map)
    with pytest.raises(ValidationError) as refused:
        services.claim_add(
            parent=_thesis(argument_map), stance="support", text="Quiet", quote=quote
        )
    assert list(_errors(refused)) == ["quote"]
    assert not Claim.objects.filter(text="Quiet").exists()
    assert _version(argument_map) == version


def test_claim_add_says_why_a_quote_is_refused(make_map):
    argument_map = make_map(source_text=ARTICLE)
    with pytest.raises(ValidationError) as refused:
        services.claim_add(
            parent=_thesis(argument_map),
            stance="support",
            text="Quiet",
            quote=services.QuoteInput(exact="not in there"),
        )
    assert _errors(refused) == {"quote": [QUOTE_NOT_FOUND]}


def test_claim_add_refuses_a_quote_on_a_map_without_a_source(make_map):
    argument_map = make_map()
    with pytest.raises(ValidationError) as refused:
        services.claim_add(
            parent=_thesis(argument_map),
            stance="support",
            text="Quiet",
            quote=services.QuoteInput(exact="Noise drops"),
        )
    assert _errors(refused) == {"quote": [services.CLAIM_NO_SOURCE]}


def test_claims_take_the_next_sibling_position(make_map):
    argument_map = make_map(
        claims=[(None, "support", "One"), (None, "counter", "Two"), ("One", "support", "Deep")]
    )
    positions = dict(Claim.objects.filter(map=argument_map).values_list("text", "position"))
    assert (positions["One"], positions["Two"], positions["Deep"]) == (0, 1, 0)


# --- the map's version clock ----------------------------------------------------------------------


def test_each_claim_add_bumps_the_map_version_by_one_and_stamps_the_claim(make_map):
    argument_map = make_map()
    assert _version(argument_map) == 1
    thesis = _thesis(argument_map)
    for expected, text in enumerate(["First", "Second", "Third"], start=2):
        claim = services.claim_add(parent=thesis, stance="support", text=text)
        assert _version(argument_map) == expected
        claim.refresh_from_db()
        assert claim.changed_in == expected
    # The parent is stamped too: its counts changed, so live readers refresh its row.
    assert _thesis(argument_map).changed_in == 4


def test_claim_add_leaves_other_maps_versions_alone(make_map):
    first, second = make_map(), make_map()
    services.claim_add(parent=_thesis(first), stance="support", text="Only here")
    assert (_version(first), _version(second)) == (2, 1)


# --- history -------------------------------------------------------------------------------------


def test_every_create_leaves_a_history_row_with_who_and_why(owner, writer):
    source = services.source_create(title="Article", text=ARTICLE, by=owner)
    argument_map = services.map_create(
        slug="hist", title="History", thesis="Cars out.", source=source, owner=owner
    )
    claim = services.claim_add(
        parent=_thesis(argument_map), stance="counter", text="Vans need access.", by=writer
    )
    rows = {
        "source": source.history.get(),
        "map": argument_map.history.get(),
        "thesis": _thesis(argument_map).history.get(),
        "claim": claim.history.get(),
    }
    assert {name: row.history_type for name, row in rows.items()} == dict.fromkeys(rows, "+")
    assert {name: row.history_user for name, row in rows.items()} == {
        "source": owner,
        "map": owner,
        "thesis": owner,
        "claim": writer,
    }
    assert {name: row.history_change_reason for name, row in rows.items()} == {
        "source": "Source added",
        "map": "Map created",
        "thesis": "Thesis stated",
        "claim": "Claim added",
    }


def test_a_given_reason_is_recorded_in_history(make_map, writer):
    argument_map = make_map()
    claim = services.claim_add(
        parent=_thesis(argument_map),
        stance="support",
        text="Why not",
        by=writer,
        reason="Split from a longer claim",
    )
    assert claim.history.get().history_change_reason == "Split from a longer claim"


def test_a_refused_claim_leaves_no_history(make_map):
    argument_map = make_map(claims=[(None, "support", "Taken")])
    before = Claim.history.count()
    with pytest.raises(ValidationError):
        services.claim_add(parent=_thesis(argument_map), stance="support", text="taken")
    assert Claim.history.count() == before


# --- source_create -------------------------------------------------------------------------------


def test_source_create_returns_the_stored_row_for_the_same_text(owner):
    first = services.source_create(title="First title", text=ARTICLE, by=owner)
    again = services.source_create(title="Other title", text=ARTICLE, by=owner)
    assert again.pk == first.pk
    assert Source.objects.count() == 1
    assert Source.history.count() == 1


def test_source_create_keeps_the_text_byte_for_byte():
    text = "  Leading spaces, “curly” quotes and a trailing newline.\n"
    source = services.source_create(title="  Padded  ", text=text)
    source.refresh_from_db()
    assert source.text == text
    assert source.title == "Padded"


@pytest.mark.parametrize("text", ["", "   \n\t"])
def test_source_create_refuses_empty_text(text):
    with pytest.raises(ValidationError) as refused:
        services.source_create(title="Empty", text=text)
    assert _errors(refused) == {"text": [services.SOURCE_EMPTY]}
    assert not Source.objects.exists()


def test_source_create_refuses_text_over_a_million_characters():
    with pytest.raises(ValidationError) as refused:
        services.source_create(title="Huge", text="x" * (services.SOURCE_MAX_CHARS + 1))
    assert _errors(refused) == {
        "text": [services.SOURCE_TOO_LARGE.format(limit=services.SOURCE_MAX_CHARS)]
    }
    assert not Source.objects.exists()


def test_source_create_accepts_exactly_a_million_characters():
    source = services.source_create(title="Big", text="y" * services.SOURCE_MAX_CHARS)
    assert len(Source.objects.get(pk=source.pk).text) == services.SOURCE_MAX_CHARS
