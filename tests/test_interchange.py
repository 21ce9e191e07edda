"""The argmap/1 interchange format: validating documents, exporting maps, importing them back."""

from __future__ import annotations

import copy
import json
from typing import Any

import pytest
from django.core.exceptions import ValidationError

from argmap import services
from argmap.interchange import (
    DOC_BAD_FORMAT,
    DOC_NOT_OBJECT,
    FORMAT,
    DocumentError,
    dumps,
    export_map,
    plan_document,
)
from argmap.models import ArgumentMap, Claim, Source, text_sha256

TEXT = "Trams are quiet. Trams are expensive to build. Buses can go anywhere."


def _document(*claims: dict[str, Any], text: str | None = TEXT, **extra) -> dict[str, Any]:
    document = {
        "format": FORMAT,
        "map": {"slug": "trams", "title": "Trams or buses?"},
        "source": None if text is None else {"title": "On trams", "text": text},
        "claims": list(claims)
        or [
            {"id": "t", "parent": None, "stance": None, "text": "Build trams."},
            {"id": "quiet", "parent": "t", "stance": "support", "text": "Trams are quiet."},
            {"id": "cost", "parent": "t", "stance": "counter", "text": "Trams cost a lot."},
        ],
    }
    document.update(extra)
    return document


def _errors(document: Any) -> list[str]:
    with pytest.raises(DocumentError) as refused:
        plan_document(document)
    return refused.value.errors


def _thesis(text="Build trams.", **fields):
    return {"id": "t", "parent": None, "stance": None, "text": text, **fields}


def _claim(claim_id, parent, stance="support", text=None, **fields):
    return {"id": claim_id, "parent": parent, "stance": stance, "text": text or claim_id, **fields}


# --- plan_document -------------------------------------------------------------------------------


def test_a_valid_document_plans_the_thesis_first_and_parents_before_children():
    plan = plan_document(
        _document(
            _thesis(),
            _claim("deep", "mid", "counter", "Deep"),  # listed before its parent
            _claim("mid", "t", "support", "Mid"),
            _claim("quiet", "t", "support", "Quiet", quote={"exact": "Trams are quiet."}),
        )
    )
    assert [(claim.key, claim.depth) for claim in plan.claims] == [
        ("t", 0),
        ("mid", 1),
        ("quiet", 1),
        ("deep", 2),
    ]
    quote = plan.claims[2].quote
    assert (quote.start, quote.end, quote.exact) == (0, 16, "Trams are quiet.")
    assert (plan.slug, plan.title, plan.source["text"]) == ("trams", "Trams or buses?", TEXT)


def test_a_quote_that_does_not_match_is_refused_naming_the_claim():
    errors = _errors(_document(_thesis(), _claim("loud", "t", quote={"exact": "Trams are loud."})))
    assert len(errors) == 1
    assert errors[0].startswith("claim 'loud': the quote does not match the article")
    assert "'Trams are loud.'" in errors[0]


def test_a_quote_with_forged_offsets_is_refused_naming_the_claim():
    quote = {"exact": "Trams are quiet.", "start": 17, "end": 33}
    errors = _errors(_document(_thesis(), _claim("forged", "t", quote=quote)))
    assert len(errors) == 1 and errors[0].startswith("claim 'forged': the quote does not match")


def test_an_ambiguous_quote_is_refused_naming_the_claim():
    errors = _errors(_document(_thesis(), _claim("twice", "t", quote={"exact": "Trams are"})))
    assert len(errors) == 1
    assert errors[0].startswith("claim 'twice':") and "occurs 2 times" in errors[0]


def test_a_quote_without_a_source_is_refused_naming_the_claim():
    errors = _errors(_document(_thesis(), _claim("q", "t", quote={"exact": "Trams"}), text=None))
    assert errors == ["claim 'q': has a quote but the document has no source text."]


def test_a_dangling_parent_is_refused_naming_the_claim_and_the_parent():
    errors = _errors(_document(_thesis(), _claim("orphan", "ghost")))
    assert errors == ["claim 'orphan': its parent 'ghost' does not exist in the file."]


def test_a_second_thesis_is_refused_naming_both():
    errors = _errors(_document(_thesis(), {"id": "t2", "parent": None, "text": "Also me."}))
    assert errors == ["claim 't2': a second thesis (parent is null) besides claim 't'."]


def test_a_document_without_a_thesis_is_refused():
    errors = _errors(_document(_claim("a", "b"), _claim("b", "a")))
    assert errors[0] == "The map has no thesis (a claim whose parent is null)."


def test_a_cycle_unreachable_from_the_thesis_is_refused_naming_its_claims():
    errors = _errors(_document(_thesis(), _claim("a", "b"), _claim("b", "a")))
    assert len(errors) == 1
    assert errors[0].startswith("claim 'a': its parent chain forms a cycle (")
    assert "a → b → a" in errors[0]


def test_a_claim_that_is_its_own_parent_is_a_cycle():
    errors = _errors(_document(_thesis(), _claim("self", "self")))
    assert errors == ["claim 'self': its parent chain forms a cycle (self → self)."]


def test_claims_hanging_under_a_cycle_report_the_cycle_once():
    errors = _errors(_document(_thesis(), _claim("a", "b"), _claim("b", "a"), _claim("leaf", "a")))
    assert len(errors) == 1 and "cycle" in errors[0]


@pytest.mark.parametrize("stance", [None, "", "neutral", "pro"])
def test_a_bad_stance_is_refused_naming_the_claim(stance):
    errors = _errors(_document(_thesis(), _claim("x", "t", stance=stance)))
    assert errors == [f"claim 'x': stance must be 'support' or 'counter', not {stance or ''!r}."]


def test_a_thesis_with_a_stance_is_refused():
    errors = _errors(_document(_thesis(stance="support")))
    assert errors == ["claim 't': the thesis has no stance (found 'support')."]


@pytest.mark.parametrize("text", ["", "   ", None])
def test_an_empty_claim_text_is_refused_naming_the_claim(text):
    errors = _errors(_document(_thesis(), _claim("blank", "t", text=None) | {"text": text}))
    assert errors == ["claim 'blank': the text is empty."]


def test_an_over_long_claim_text_is_refused_naming_the_claim():
    errors = _errors(_document(_thesis(), _claim("long", "t", text="w" * 501)))
    assert errors == ["claim 'long': the text has 501 characters; at most 500 are allowed."]


def test_a_duplicate_id_is_refused():
    errors = _errors(_document(_thesis(), _claim("x", "t"), _claim("x", "t", text="Other")))
    assert errors == ["claim 'x': the id is used twice."]


def test_duplicate_siblings_are_refused_naming_the_claim():
    errors = _errors(
        _document(
            _thesis(),
            _claim("a", "t", text="Trams are quiet."),
            _claim("b", "t", text="trams are QUIET."),
        )
    )
    assert errors == ["claim 'b': the same text already stands under 't' (claim 'a')."]


def test_an_unknown_status_is_refused_naming_the_claim():
    errors = _errors(_document(_thesis(), _claim("x", "t", status="deleted")))
    assert errors == ["claim 'x': unknown status 'deleted'."]


def test_an_unknown_format_is_refused():
    errors = _errors(_document(format="argmap/2"))
    assert errors == [DOC_BAD_FORMAT.format(found="argmap/2", expected=FORMAT)]


@pytest.mark.parametrize("document", [None, [], "claims", {"map": {}}, {"claims": {}}])
def test_something_that_is_not_a_document_is_refused(document):
    assert _errors(document) == [DOC_NOT_OBJECT]


def test_a_map_without_slug_or_title_is_refused():
    errors = _errors(_document(map={}))
    assert errors == ["map: 'slug' is required.", "map: 'title' is required."]


def test_every_problem_is_reported_at_once():
    errors = _errors(
        _document(
            _thesis(stance="counter"),
            _claim("loud", "t", quote={"exact": "Trams are loud."}),
            _claim("orphan", "ghost"),
            {"id": "t2", "parent": None, "text": "Second thesis"},
            _claim("a", "b"),
            _claim("b", "a"),
            _claim("odd", "t", stance="maybe"),
            _claim("blank", "t", text=" "),
            _claim("loud", "t", text="Duplicate id"),
            format="argmap/0",
        )
    )
    expected_fragments = [
        "Unknown format 'argmap/0'",
        "claim 'loud': the quote does not match",
        "claim 'orphan': its parent 'ghost'",
        "claim 't2': a second thesis",
        "its parent chain forms a cycle",
        "claim 'odd': stance must be",
        "claim 'blank': the text is empty.",
        "claim 'loud': the id is used twice.",
        "claim 't': the thesis has no stance",
    ]
    for fragment in expected_fragments:
        assert any(fragment in error for error in errors), fragment
    assert len(errors) == len(expected_fragments)


@pytest.mark.parametrize(
    "document",
    [
        pytest.param(_document(map="trams")),
        pytest.param(
            _document(source="Trams are quiet."),
        ),
        pytest.param(
            _document(source={"title": "On trams", "text": 42}),
        ),
        pytest.param(
            _document(source={"title": "On trams", "text": TEXT, "published": "last week"}),
        ),
        pytest.param(
            _document(_thesis(), _claim("q", "t", quote="Trams are quiet.")),
        ),
        pytest.param(
            _document(_thesis(), _claim("q", "t", quote={"exact": 42})),
        ),
        pytest.param(
            _document(
                _thesis(), _claim("q", "t", quote={"exact": "Trams", "start": "0", "end": "5"})
            ),
        ),
        pytest.param(
            _document(
                _thesis(), _claim("q", "t", quote={"exact": "Trams", "start": 0.0, "end": 5.0})
            ),
        ),
        _document(_thesis(), _claim("q", "t", stance=["support"])),
        _document(_thesis(), "not a claim"),
    ],
    ids=[
        "map-is-a-string",
        "source-is-a-string",
        "source-text-is-a-number",
        "published-is-not-a-date",
        "quote-is-a-string",
        "quote-exact-is-a-number",
        "offsets-are-strings",
        "offsets-are-floats",
        "stance-is-a-list",
        "claim-is-a-string",
    ],
)
def test_values_of_the_wrong_type_are_refused_as_document_errors(document):
    assert _errors(document)


def test_source_text_can_come_from_a_file_next_to_the_document(tmp_path):
    (tmp_path / "article.txt").write_text(TEXT, encoding="utf-8")
    document = _document(
        _thesis(), _claim("quiet", "t", quote={"exact": "Trams are quiet."}), text=None
    )
    document["source"] = {"title": "On trams", "text_file": "article.txt"}
    plan = plan_document(document, base_dir=tmp_path)
    assert plan.source["text"] == TEXT


def test_a_missing_source_file_is_refused():
    document = _document(text=None)
    document["source"] = {"title": "On trams", "text_file": "no-such-file.txt"}
    errors = _errors(document)
    assert len(errors) == 1
    assert errors[0].startswith("source: cannot read text_file 'no-such-file.txt'")


# --- export_map ----------------------------------------------------------------------------------


@pytest.mark.django_db
def test_export_of_the_seeded_map_has_the_documented_shape(seeded_map):
    document = json.loads(dumps(export_map(seeded_map)))  # survives JSON as it is
    assert document["format"] == "argmap/1"
    assert document["map"]["slug"] == "kaliningrad"
    assert document["map"]["title"] == seeded_map.title
    source = document["source"]
    assert source["text"] == seeded_map.source.text
    assert source["title"] == seeded_map.source.title
    assert source["sha256"] == text_sha256(source["text"])
    claims = document["claims"]
    assert len(claims) == seeded_map.claims.count() >= 30
    ids = [claim["id"] for claim in claims]
    assert len(set(ids)) == len(ids)
    seen: set[int] = set()
    for claim in claims:
        assert {"id", "parent", "stance", "text", "status", "quote"} <= set(claim)
        if claim["parent"] is None:
            assert claim["stance"] is None
        else:
            assert claim["stance"] in {"support", "counter"}
            assert claim["parent"] in seen  # parents come before their children
        seen.add(claim["id"])
        assert claim["status"] == "published"
        quote = claim["quote"]
        assert set(quote) == {"exact", "prefix", "suffix", "start", "end"}
        assert source["text"][quote["start"] : quote["end"]] == quote["exact"]
        assert source["text"][: quote["start"]].endswith(quote["prefix"])
        assert source["text"][quote["end"] :].startswith(quote["suffix"])
    assert sum(claim["parent"] is None for claim in claims) == 1


@pytest.mark.django_db
def test_export_writes_null_for_a_claim_without_quote(make_map):
    argument_map = make_map(claims=[(None, "support", "Unquoted")])
    document = export_map(argument_map)
    assert document["source"] is None
    assert [claim["quote"] for claim in document["claims"]] == [None, None]
    assert [claim["stance"] for claim in document["claims"]] == [None, "support"]


def _tree(document: dict[str, Any]) -> Any:
    """The map as nested tuples, ids replaced by structure: what an equal tree must share."""
    children: dict[Any, list[dict[str, Any]]] = {}
    for claim in document["claims"]:
        children.setdefault(claim["parent"], []).append(claim)

    def node(claim):
        quote = claim["quote"]
        return (
            claim["text"],
            claim["stance"],
            claim["status"],
            None if quote is None else tuple(sorted(quote.items())),
            tuple(node(child) for child in children.get(claim["id"], [])),
        )

    (thesis,) = children[None]
    return node(thesis)


@pytest.mark.django_db
def test_export_then_import_under_a_new_slug_gives_an_equal_tree(seeded_map, owner):
    Claim.objects.filter(map=seeded_map, text__startswith="Missile readiness").update(
        status=Claim.Status.HIDDEN
    )
    Claim.objects.filter(map=seeded_map, text__startswith="Military exercises").update(
        status=Claim.Status.PENDING
    )
    exported = json.loads(dumps(export_map(seeded_map)))

    copy_map = services.map_import(
        plan=plan_document(copy.deepcopy(exported)), slug="kaliningrad-copy", owner=owner
    )

    again = export_map(ArgumentMap.objects.get(pk=copy_map.pk))
    assert _tree(again) == _tree(exported)
    assert {"hidden", "pending"} <= {claim["status"] for claim in again["claims"]}
    assert again["map"]["slug"] == "kaliningrad-copy"
    for key in ("title", "description", "featured", "visibility"):
        assert again["map"][key] == exported["map"][key]
    assert copy_map.source_id == seeded_map.source_id  # the same text is the same Source
    assert Source.objects.count() == 1


@pytest.mark.django_db
def test_import_keeps_the_status_of_the_thesis():
    plan = plan_document(_document(_thesis(status="hidden"), _claim("c", "t")))
    argument_map = services.map_import(plan=plan)
    assert argument_map.claims.get(parent=None).status == Claim.Status.HIDDEN


@pytest.mark.django_db
def test_import_writes_history_for_every_claim_with_user_and_reason(owner):
    plan = plan_document(_document())
    argument_map = services.map_import(plan=plan, owner=owner, reason="Imported from a file")
    history = Claim.history.filter(map_id=argument_map.pk)
    assert history.count() == 3
    assert {(row.history_user_id, row.history_change_reason) for row in history} == {
        (owner.pk, "Imported from a file")
    }


@pytest.mark.django_db
def test_import_ticks_the_map_version_once_and_stamps_every_claim(owner):
    argument_map = services.map_import(plan=plan_document(_document()), owner=owner)
    argument_map.refresh_from_db()
    assert argument_map.version == 2
    changed = dict(argument_map.claims.values_list("text", "changed_in"))
    assert changed == {"Build trams.": 1, "Trams are quiet.": 2, "Trams cost a lot.": 2}


@pytest.mark.django_db
def test_import_under_a_taken_slug_creates_nothing(make_map):
    make_map(slug="trams")
    before = (ArgumentMap.objects.count(), Claim.objects.count(), Source.objects.count())
    with pytest.raises(ValidationError, match="already exists"):
        services.map_import(plan=plan_document(_document()))
    after = (ArgumentMap.objects.count(), Claim.objects.count(), Source.objects.count())
    assert after == before
