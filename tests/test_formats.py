"""Import and export in every format: round trips, refusals that name the line or node and
create nothing, no overwrite unless asked, the management commands, and property tests."""

from __future__ import annotations

import csv
import io
import json
from typing import Any

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from argmap import formats, services
from argmap.anchors import resolve_quote
from argmap.formats import aif, argdown, kialo
from argmap.formats import csv as csv_format
from argmap.interchange import DocumentError, export_map
from argmap.models import (
    ArgumentMap,
    Claim,
    ClaimAnchor,
    Comment,
    Flag,
    ModerationAction,
    Source,
    Vote,
)
from tests.conftest import ARTICLE, claim_by_text

# --- helpers -------------------------------------------------------------------------------------


def counts() -> tuple[int, int, int, int]:
    return (
        ArgumentMap.objects.count(),
        Claim.objects.count(),
        Source.objects.count(),
        Comment.objects.count(),
    )


def tree_of(argument_map: ArgumentMap, *, extras: bool = True) -> Any:
    """The map as nested tuples without ids: what an equal map must share."""
    document = export_map(ArgumentMap.objects.select_related("source").get(pk=argument_map.pk))
    children: dict[Any, list[dict[str, Any]]] = {}
    for claim in document["claims"]:
        children.setdefault(claim["parent"], []).append(claim)
    for siblings in children.values():
        siblings.sort(key=lambda claim: claim["position"])

    def comments(claim):
        index = {comment["id"]: n for n, comment in enumerate(claim["comments"])}
        return tuple(
            (
                comment["body"],
                comment["status"],
                comment["author"],
                index.get(comment["parent"]),
                comment["created"],
            )
            for comment in claim["comments"]
        )

    def node(claim):
        quote = claim["quote"]
        base = (
            claim["text"],
            claim["stance"],
            claim["status"],
            None if quote is None else tuple(sorted(quote.items())),
        )
        if extras:
            anchors = tuple(tuple(sorted(a.items())) for a in claim["anchors"])
            base += (claim["locked"], claim["author"], anchors, comments(claim))
        return (*base, tuple(node(child) for child in children.get(claim["id"], [])))

    (thesis,) = children[None]
    return node(thesis)


def simple_tree(argument_map: ArgumentMap) -> Any:
    """Tree, texts and stances only: what Kialo and AIF carry."""
    claims = Claim.objects.filter(map=argument_map).order_by("position", "pk")
    children: dict[Any, list[Claim]] = {}
    for claim in claims:
        children.setdefault(claim.parent_id, []).append(claim)

    def node(claim):
        kids = tuple(node(child) for child in children.get(claim.pk, []))
        return (claim.text, claim.stance, kids)

    (thesis,) = children[None]
    return node(thesis)


@pytest.fixture
def rich_map(make_map, owner, writer, viewer, moderator):
    """A map with quotes, every status, votes, a threaded discussion, an extra anchor, a lock."""
    argument_map = make_map(
        slug="cars",
        title="Car-free centres",
        thesis="Cities should ban cars from their centres.",
        thesis_quote="Cities should ban cars from their centres",
        source_text=ARTICLE,
        claims=[
            (None, "support", "Streets get safer.", "Car-free streets are safer"),
            (None, "counter", "Deliveries get harder.", "Critics say deliveries get harder."),
            ("Streets get safer.", "support", "Children can walk to school."),
            ("Streets get safer.", "counter", "Cyclists go faster then."),
            ("Deliveries get harder.", "counter", "=SUM(A1:A9) vans at night"),
            (None, "support", "Air gets cleaner.", "Air quality improves within months"),
        ],
    )
    Claim.objects.filter(map=argument_map, text="Cyclists go faster then.").update(
        status=Claim.Status.ARCHIVED
    )
    Claim.objects.filter(map=argument_map, text="Air gets cleaner.").update(
        status=Claim.Status.HIDDEN, locked=True
    )
    pending = services.claim_add(
        parent=claim_by_text(argument_map, "Streets get safer."),
        stance="support",
        text="Pending idea [with brackets] #tag",
        by=writer,
        status=Claim.Status.PENDING,
    )
    safer = claim_by_text(argument_map, "Streets get safer.")
    Claim.objects.filter(pk=safer.pk).update(author=writer)
    ClaimAnchor.objects.create(
        claim=safer, **resolve_quote(ARTICLE, "Noise drops sharply at night").as_dict()
    )
    for user, value in ((owner, 4), (writer, 3), (viewer, 3)):
        Vote.objects.create(claim=safer, user=user, value=value)
    first = Comment.objects.create(
        map=argument_map, claim=safer, author=writer, body="Why *safer*?"
    )
    Comment.objects.create(
        map=argument_map, claim=safer, parent=first, author=moderator, body="Fewer cars."
    )
    Comment.objects.create(
        map=argument_map, claim=safer, author=viewer, body="off topic", status="hidden"
    )
    Comment.objects.create(map=argument_map, claim=pending, author=writer, body="Pending talk")
    return ArgumentMap.objects.select_related("source").get(pk=argument_map.pk)


def round_trip(argument_map: ArgumentMap, name: str, slug: str, **kwargs) -> ArgumentMap:
    text = formats.export(argument_map, name, **kwargs)
    return formats.import_plan(plan=formats.parse(text, name), slug=slug)


def refused(name: str, text: str) -> list[str]:
    """Parse must refuse ``text`` and an import must create nothing."""
    before = counts()
    with pytest.raises(DocumentError) as error:
        formats.import_plan(plan=formats.parse(text, name), slug="never")
    assert counts() == before
    return error.value.errors


# --- JSON ----------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_json_round_trip_keeps_tree_statuses_anchors_locks_authors_and_comments(rich_map):
    copy = round_trip(rich_map, "json", "cars-copy")
    assert tree_of(copy) == tree_of(rich_map)
    assert copy.source_id == rich_map.source_id
    assert Comment.objects.filter(map=copy, parent__isnull=False).count() == 1
    assert ClaimAnchor.objects.filter(claim__map=copy).count() == 1


@pytest.mark.django_db
def test_json_export_carries_vote_aggregates_and_history(rich_map):
    document = json.loads(formats.export(rich_map, "json"))
    safer = next(c for c in document["claims"] if c["text"] == "Streets get safer.")
    assert safer["votes"] == {"count": 3, "mean": 3.333, "counts": [0, 0, 0, 2, 1]}
    assert safer["history"]["versions"] >= 1 and safer["history"]["last_change"]
    assert [c["body"] for c in safer["comments"]] == ["Why *safer*?", "Fewer cars.", "off topic"]
    assert safer["comments"][1]["parent"] == safer["comments"][0]["id"]


@pytest.mark.django_db
def test_reader_export_leaves_out_pending_and_hidden_claims_and_comments(rich_map):
    statuses = {Claim.Status.PUBLISHED, Claim.Status.ARCHIVED}
    document = json.loads(formats.export(rich_map, "json", statuses=statuses))
    texts = {c["text"] for c in document["claims"]}
    assert "Cyclists go faster then." in texts  # archived stays
    assert "Air gets cleaner." not in texts and not any(t.startswith("Pending") for t in texts)
    bodies = [m["body"] for c in document["claims"] for m in c["comments"]]
    assert bodies == ["Why *safer*?", "Fewer cars."]


@pytest.mark.django_db
def test_an_old_json_file_without_the_extras_still_imports(rich_map):
    document = json.loads(formats.export(rich_map, "json"))
    for claim in document["claims"]:
        for key in ("votes", "comments", "anchors", "history", "locked", "author"):
            claim.pop(key)
    for key in ("status", "moderation_policy"):
        document["map"].pop(key)
    copy = formats.import_plan(plan=formats.parse(json.dumps(document), "json"), slug="old")
    assert tree_of(copy, extras=False) == tree_of(rich_map, extras=False)


@pytest.mark.django_db
def test_json_import_keeps_map_status_and_moderation_policy(rich_map):
    ArgumentMap.objects.filter(pk=rich_map.pk).update(status="locked", moderation_policy="pre")
    copy = round_trip(ArgumentMap.objects.get(pk=rich_map.pk), "json", "locked-copy")
    copy.refresh_from_db()
    assert (copy.status, copy.moderation_policy) == ("locked", "pre")


@pytest.mark.parametrize(
    ("mutate", "expected"),
    [
        (lambda d: d["claims"][1].update(parent=999), "its parent '999' does not exist"),
        (lambda d: d["claims"][1]["comments"].append({"id": 1, "body": "x"}), "comment '1'"),
        (
            lambda d: d["claims"][1].update(anchors=[{"exact": "not in the text"}]),
            "anchor 0: The quote does not occur",
        ),
        (
            lambda d: d["claims"][1]["comments"].append({"id": "z", "parent": "q", "body": "x"}),
            "its parent 'q' is not an earlier comment",
        ),
        (lambda d: d["map"].update(status="burning"), "'status' must be one of"),
    ],
)
@pytest.mark.django_db
def test_malformed_json_is_refused_naming_the_claim_and_nothing_is_created(
    rich_map, mutate, expected
):
    document = json.loads(formats.export(rich_map, "json"))
    document["claims"][1]["comments"] = [{"id": 1, "body": "first"}]
    mutate(document)
    errors = refused("json", json.dumps(document))
    assert any(expected in error for error in errors), errors


@pytest.mark.django_db
def test_text_that_is_not_json_is_refused_with_its_line():
    errors = refused("json", '{\n  "format": "argmap/1",\n  oops\n}')
    assert errors[0].startswith("line 3, column 3: this is not JSON")


# --- Argdown -------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_argdown_round_trip_keeps_tree_texts_stances_statuses_and_quotes(rich_map):
    copy = round_trip(rich_map, "argdown", "cars-argdown")
    assert tree_of(copy, extras=False) == tree_of(rich_map, extras=False)
    assert copy.title == rich_map.title and copy.description == rich_map.description


@pytest.mark.django_db
def test_argdown_export_writes_statements_and_relations(rich_map):
    text = formats.export(rich_map, "argdown")
    lines = text.splitlines()
    assert lines[0] == "===" and lines[1] == 'title: "Car-free centres"'
    thesis = claim_by_text(rich_map, "Cities should ban cars from their centres.")
    safer = claim_by_text(rich_map, "Streets get safer.")
    assert any(line.startswith(f"[c{thesis.pk}]: Cities should ban cars") for line in lines)
    assert any(line.startswith(f"  + [c{safer.pk}]: Streets get safer.") for line in lines)
    assert any("\\[with brackets\\] \\#tag" in line for line in lines)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            "[a]: Thesis\n  + [b]: Fine\n      - [c]: Too deep\n",
            "line 3: statement 'c' is indented",
        ),
        ("[a]: Thesis\n  [b]: No sign\n", "line 2: statement 'b' needs '+'"),
        ("[a]: Thesis\n[b]: Another\n", "line 2: a second top-level statement 'b'"),
        ("[a]: Thesis\n  + [a]: Again\n", "line 2: statement title 'a' is used twice"),
        ("[a]: Thesis\n  + just words\n", "line 2: expected a statement"),
        ("===\ntitle: Thesis\n===\n[a]: T\n", "line 2: front matter 'title' is not valid JSON"),
        ('===\ntitle: "x"\n', "line 1: the front matter opened with '===' is never closed"),
        ('[a]: Thesis {"status": [}\n', "line 1: the data block of 'a' is not valid JSON"),
        ("[a]: Thesis\n  + [b]: \n", "claim 'b': the text is empty."),
        ("", "line 1: The file has no statements"),
    ],
)
@pytest.mark.django_db
def test_malformed_argdown_is_refused_with_the_line_and_nothing_is_created(text, expected):
    errors = refused("argdown", text)
    assert any(error.startswith(expected) for error in errors), errors


@pytest.mark.parametrize(
    "text",
    ["a.b: c", "e.g. :+1: and .ok.", "x -> y <- z", "[[a]] {b} (c) #d @e *f* _g_", "\\ // /* */"],
)
def test_argdown_escaping_is_undone_by_unescaping(text):
    assert argdown.unescape_text(argdown.escape_text(text)) == text


# --- AIF -----------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_aif_export_has_i_nodes_ra_and_ca_nodes_and_edges(rich_map):
    graph = json.loads(formats.export(rich_map, "aif"))
    published = Claim.objects.filter(map=rich_map, status="published").count()
    types = [node["type"] for node in graph["nodes"]]
    assert types.count("I") == published
    assert types.count("RA") + types.count("CA") == published - 1 == len(graph["edges"]) // 2
    assert graph["locutions"] == []
    ids = {node["nodeID"] for node in graph["nodes"]}
    assert all(edge["fromID"] in ids and edge["toID"] in ids for edge in graph["edges"])


@pytest.mark.django_db
def test_aif_and_kialo_round_trips_keep_the_published_tree(make_map):
    argument_map = make_map(
        claims=[
            (None, "support", "Pro one"),
            (None, "counter", "Con one"),
            ("Pro one", "counter", "Con of pro: with colon"),
            ("Con of pro: with colon", "support", "1. Numbered-looking text"),
        ]
    )
    for name in ("aif", "kialo"):
        copy = round_trip(argument_map, name, f"copy-{name}")
        assert simple_tree(copy) == simple_tree(argument_map)


def _aif(nodes, edges) -> str:
    return json.dumps({"nodes": nodes, "edges": edges, "locutions": []})


def _i(node_id, text="Text"):
    return {"nodeID": node_id, "text": f"{text} {node_id}", "type": "I"}


def _s(node_id, kind="RA"):
    return {"nodeID": node_id, "text": "scheme", "type": kind}


def _e(edge_id, source, target):
    return {"edgeID": edge_id, "fromID": source, "toID": target}


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (_aif([_i("1"), _i("2"), _s("3")], [_e("a", "2", "3"), _e("b", "3", "9")]), "node '9'"),
        (
            _aif(
                [_i("1"), _i("2"), _i("4"), _s("3"), _s("5", "CA")],
                [_e("a", "2", "3"), _e("b", "3", "1"), _e("c", "2", "5"), _e("d", "5", "4")],
            ),
            "node '2': the claim is the premise of 2 relations",
        ),
        (_aif([_i("1"), _i("2")], []), "node '2': a second root claim besides node '1'"),
        (
            _aif(
                [_i("1"), _i("2"), _i("4"), _s("3"), _s("5", "CA")],
                [_e("a", "2", "3"), _e("b", "3", "4"), _e("c", "4", "5"), _e("d", "5", "2")],
            ),
            "its relations form a cycle",
        ),
        (_aif([_i("1"), {"nodeID": "2", "type": "XX", "text": "?"}], []), "node '2': unknown"),
        (_aif([_i("1"), _i("1")], []), "node '1': the nodeID is used twice"),
        (_aif([_i("1"), _i("2"), _s("3")], [_e("a", "2", "3")]), "node '3': an RA node links"),
        ('{"nodes": [', "This is not JSON"),
        ("[]", "The file must be a JSON object"),
    ],
)
@pytest.mark.django_db
def test_malformed_aif_is_refused_naming_the_node_and_nothing_is_created(text, expected):
    errors = refused("aif", text)
    assert any(expected in error for error in errors), errors


@pytest.mark.django_db
def test_aif_from_ova_with_locutions_imports_its_claims():
    nodes = [_i("1"), _i("2"), _s("3", "CA"), {"nodeID": "7", "type": "L", "text": "Bob: x"}]
    nodes.append({"nodeID": "8", "type": "YA", "text": "Asserting"})
    edges = [_e("a", "2", "3"), _e("b", "3", "1"), _e("c", "7", "8"), _e("d", "8", "2")]
    argument_map = formats.import_plan(plan=formats.parse(_aif(nodes, edges), "aif"), slug="ova")
    assert simple_tree(argument_map) == ("Text 1", "", (("Text 2", "counter", ()),))


# --- Kialo ---------------------------------------------------------------------------------------


KIALO = """Discussion Title: Car-free centres?

1. Cities should ban cars.
1.1. Pro: Streets get safer.
1.1.1. Con: Cyclists go faster.
1.2. Con: Deliveries get harder,
especially for small shops.
"""


@pytest.mark.django_db
def test_kialo_import_reads_title_numbers_stances_and_wrapped_lines():
    argument_map = formats.import_plan(plan=formats.parse(KIALO, "kialo"), slug="kialo")
    assert argument_map.title == "Car-free centres?"
    assert simple_tree(argument_map) == (
        "Cities should ban cars.",
        "",
        (
            ("Streets get safer.", "support", (("Cyclists go faster.", "counter", ()),)),
            ("Deliveries get harder, especially for small shops.", "counter", ()),
        ),
    )


@pytest.mark.django_db
def test_kialo_export_numbers_claims_like_kialo(make_map):
    argument_map = make_map(
        title="Cars?",
        claims=[(None, "support", "A"), ("A", "counter", "B"), (None, "counter", "C")],
    )
    assert formats.export(argument_map, "kialo") == (
        "Discussion Title: Cars?\n\n1. Cities should ban cars from their centres.\n"
        "1.1. Pro: A\n1.1.1. Con: B\n1.2. Con: C\n"
    )


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("1. T\n1.2. Pro: skipped one\n", "line 2: claim '1.2.' is out of order"),
        ("1. T\n1.1.1. Pro: orphan\n", "line 2: claim '1.1.1.' has no parent"),
        ("1. T\n1.1. Because reasons\n", "line 2: claim '1.1.' must start with 'Pro:' or 'Con:'"),
        ("1. T\n2. Another\n", "line 2: a second thesis '2.'"),
        ("2. T\n", "line 1: the thesis must be numbered '1.'"),
        ("Discussion Title: x\nstray\n1. T\n", "line 2: text before the thesis"),
        ("1. T\n1.1. Pro: -> See 1.\n", "line 2: claim '1.1.' is a Kialo link"),
        ("1. T\n1.01. Pro: zero\n", "line 2: '1.01.' is not a claim number"),
        ("1. T\n1.1. Pro:\n", "claim 'line 2': the text is empty."),
        ("Discussion Title: nothing\n", "line 1: The file has no claims"),
    ],
)
@pytest.mark.django_db
def test_malformed_kialo_is_refused_with_the_line_and_nothing_is_created(text, expected):
    errors = refused("kialo", text)
    assert any(error.startswith(expected) for error in errors), errors


# --- CSV -----------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_csv_has_one_row_per_claim_with_votes_comments_and_quote(rich_map):
    rows = list(csv.DictReader(io.StringIO(formats.export(rich_map, "csv"))))
    assert list(rows[0]) == csv_format.COLUMNS
    assert len(rows) == Claim.objects.filter(map=rich_map).count()
    safer = next(row for row in rows if row["text"] == "Streets get safer.")
    assert (safer["votes"], safer["mean"], safer["votes_3"], safer["votes_4"]) == (
        "3",
        "3.333",
        "2",
        "1",
    )
    assert (safer["comments"], safer["depth"], safer["stance"], safer["author"]) == (
        "3",
        "1",
        "support",
        "walter-writer",
    )
    assert safer["quote_exact"] == "Car-free streets are safer"


@pytest.mark.django_db
def test_csv_cells_cannot_start_a_formula(rich_map):
    rows = list(csv.DictReader(io.StringIO(formats.export(rich_map, "csv"))))
    texts = [row["text"] for row in rows]
    assert "'=SUM(A1:A9) vans at night" in texts
    for row in rows:
        assert not any(value.startswith(("=", "+", "-", "@")) for value in row.values())


@pytest.mark.parametrize("value", ["=1+1", "+1", "-1", "@x", "\tx", "\rx"])
def test_safe_cell_neutralizes_formula_starts(value):
    assert csv_format.safe_cell(value) == "'" + value
    assert csv_format.safe_cell(3) == 3


def test_csv_cannot_be_imported():
    with pytest.raises(ValueError, match="export only"):
        formats.parse("id,parent\n", "csv")


# --- overwrite, transactions, commands -----------------------------------------------------------


@pytest.mark.django_db
def test_import_never_overwrites_a_map_unless_asked(rich_map, make_map):
    other = make_map(slug="taken", claims=[(None, "support", "Kept")])
    plan = formats.parse(formats.export(rich_map, "json"), "json")
    before = counts()
    with pytest.raises(Exception, match="already exists"):
        formats.import_plan(plan=plan, slug="taken")
    assert counts() == before
    assert simple_tree(ArgumentMap.objects.get(pk=other.pk))[2][0][0] == "Kept"
    replaced = formats.import_plan(plan=plan, slug="taken", replace=True)
    assert not ArgumentMap.objects.filter(pk=other.pk).exists()
    assert tree_of(replaced) == tree_of(rich_map)


@pytest.mark.django_db
def test_a_failed_replace_keeps_the_old_map(rich_map, make_map):
    make_map(slug="taken", claims=[(None, "support", "Kept")])
    plan = formats.parse(formats.export(rich_map, "json"), "json")
    plan.visibility = "galactic"  # passes parsing, fails the model's own validation
    with pytest.raises(Exception, match="galactic"):
        formats.import_plan(plan=plan, slug="taken", replace=True)
    assert Claim.objects.filter(map__slug="taken", text="Kept").exists()


def _run(*args, stdin: str | None = None, monkeypatch=None) -> str:
    out = io.StringIO()
    call_command(*args, stdout=out, stderr=io.StringIO())
    return out.getvalue()


@pytest.mark.parametrize("name", list(formats.FORMATS))
@pytest.mark.django_db
def test_export_command_prints_every_format(rich_map, name):
    assert _run("export_map", "cars", "--format", name) == formats.export(rich_map, name)


@pytest.mark.django_db
def test_import_command_reads_a_file_and_refuses_to_overwrite(rich_map, tmp_path, owner):
    path = tmp_path / "cars.argdown"
    path.write_text(formats.export(rich_map, "argdown"), encoding="utf-8")
    output = _run(
        "import_map", str(path), "--format", "argdown", "--slug", "cars2", "--owner", owner.username
    )
    assert "Imported map 'cars2'" in output
    assert ArgumentMap.objects.get(slug="cars2").owner == owner
    with pytest.raises(CommandError, match="already exists"):
        _run("import_map", str(path), "--format", "argdown", "--slug", "cars2")
    _run("import_map", str(path), "--format", "argdown", "--slug", "cars2", "--replace")
    assert ArgumentMap.objects.get(slug="cars2").owner is None


@pytest.mark.django_db
def test_import_command_reads_standard_input(rich_map, monkeypatch):
    data = formats.export(rich_map, "kialo").encode()
    monkeypatch.setattr("sys.stdin", io.TextIOWrapper(io.BytesIO(data)))
    _run("import_map", "-", "--format", "kialo", "--slug", "from-stdin")
    assert ArgumentMap.objects.get(slug="from-stdin").title == rich_map.title


@pytest.mark.django_db
def test_import_command_errors_name_the_line_and_create_nothing(tmp_path):
    path = tmp_path / "bad.txt"
    path.write_text("1. T\n1.2. Pro: gap\n", encoding="utf-8")
    before = counts()
    with pytest.raises(CommandError) as error:
        _run("import_map", str(path), "--format", "kialo", "--slug", "bad")
    assert "refused, nothing imported" in str(error.value)
    assert "line 2: claim '1.2.' is out of order" in str(error.value)
    assert counts() == before


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (["--slug", "bad slug"], "not a valid map address"),
        (["--slug", "ok", "--owner", "nobody"], "No user called 'nobody'"),
    ],
)
@pytest.mark.django_db
def test_import_command_refuses_bad_options(tmp_path, args, expected):
    path = tmp_path / "x.txt"
    path.write_text("1. T\n", encoding="utf-8")
    with pytest.raises(CommandError, match=expected):
        _run("import_map", str(path), "--format", "kialo", *args)


@pytest.mark.django_db
def test_import_command_of_a_missing_file_is_an_error():
    with pytest.raises(CommandError, match="cannot read the file"):
        _run("import_map", "/no/such/file.json", "--slug", "x")


@pytest.mark.django_db
def test_a_file_that_is_not_utf8_is_refused():
    with pytest.raises(DocumentError, match="not UTF-8"):
        formats.parse(b"\xff\xfe1. T", "kialo")


@pytest.mark.django_db
def test_the_seeded_map_round_trips_through_every_importable_format(seeded_map):
    full = tree_of(seeded_map, extras=False)
    for name in ("json", "argdown"):
        assert tree_of(round_trip(seeded_map, name, f"k-{name}"), extras=False) == full
    for name in ("aif", "kialo"):
        assert simple_tree(round_trip(seeded_map, name, f"k-{name}")) == simple_tree(seeded_map)


# --- property tests ------------------------------------------------------------------------------

_TEXT = st.text(
    alphabet=st.characters(exclude_categories=("Cs", "Cc", "Co", "Cn")), min_size=1, max_size=30
).map(lambda text: " ".join(text.split()))

SPAN = st.tuples(st.integers(0, len(ARTICLE) - 1), st.integers(1, 40))


@st.composite
def map_specs(draw) -> list[dict[str, Any]]:
    """A random tree: (parent index, stance, text, status, quote span), thesis first."""
    size = draw(st.integers(1, 12))
    claims: list[dict[str, Any]] = []
    seen: set[tuple[int | None, str]] = set()
    for index in range(size):
        parent = None if index == 0 else draw(st.integers(0, index - 1))
        text = draw(_TEXT.filter(bool))
        while (parent, text.casefold()) in seen:
            text += f" {index}"
        seen.add((parent, text.casefold()))
        span = draw(st.none() | SPAN)
        claims.append(
            {
                "parent": parent,
                "stance": None if parent is None else draw(st.sampled_from(["support", "counter"])),
                "text": text,
                "status": "published"
                if parent is None
                else draw(st.sampled_from(["published"] * 3 + ["archived", "hidden", "pending"])),
                "quote": None if span is None else (span[0], min(len(ARTICLE), sum(span))),
            }
        )
    return claims


def build_map(specs: list[dict[str, Any]], slug: str, *, with_source: bool = True) -> ArgumentMap:
    source = services.source_create(title="Cars", text=ARTICLE) if with_source else None
    thesis = specs[0]
    quote = thesis["quote"] if with_source else None
    argument_map = services.map_create(
        slug=slug,
        title="Random map",
        thesis=thesis["text"],
        source=source,
        thesis_quote=None
        if quote is None
        else services.QuoteInput(exact=ARTICLE[quote[0] : quote[1]], start=quote[0], end=quote[1]),
    )
    claims = [argument_map.claims.get()]
    for spec in specs[1:]:
        parent = claims[spec["parent"]]
        position = Claim.next_position(parent.pk)
        claim = Claim(
            map=argument_map,
            parent=parent,
            stance=spec["stance"],
            text=spec["text"],
            status=spec["status"],
            position=position,
        )
        if with_source and spec["quote"] is not None:
            start, end = spec["quote"]
            claim.quote_exact = ARTICLE[start:end]
            claim.quote_start, claim.quote_end = start, end
            claim.quote_prefix = ARTICLE[max(0, start - 32) : start]
            claim.quote_suffix = ARTICLE[end : end + 32]
        claim.save()
        claims.append(claim)
    return ArgumentMap.objects.select_related("source").get(pk=argument_map.pk)


def _clear() -> None:
    ArgumentMap.objects.all().delete()


PROPERTY = settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)


@pytest.mark.django_db
@PROPERTY
@given(specs=map_specs())
def test_property_json_export_then_import_gives_an_equal_map(specs):
    try:
        original = build_map(specs, "random")
        copy = round_trip(original, "json", "random-copy")
        assert tree_of(copy) == tree_of(original)
    finally:
        _clear()


@pytest.mark.django_db
@PROPERTY
@given(specs=map_specs())
def test_property_argdown_export_then_import_gives_an_equal_map(specs):
    try:
        original = build_map(specs, "random")
        copy = round_trip(original, "argdown", "random-copy")
        assert tree_of(copy, extras=False) == tree_of(original, extras=False)
    finally:
        _clear()


@pytest.mark.django_db
@PROPERTY
@given(specs=map_specs(), name=st.sampled_from(["kialo", "aif"]))
def test_property_kialo_and_aif_keep_the_published_tree(specs, name):
    for spec in specs:
        spec["status"] = "published"
    try:
        original = build_map(specs, "random", with_source=False)
        copy = round_trip(original, name, "random-copy")
        assert simple_tree(copy) == simple_tree(original)
    finally:
        _clear()


def test_every_format_module_exports_and_the_importable_ones_parse():
    for module in (argdown, aif, kialo, csv_format):
        assert callable(module.export)
    assert formats.IMPORT_FORMATS == ["json", "argdown", "aif", "kialo"]


@pytest.mark.django_db
def test_replace_deletes_the_old_map_with_its_log_flags_and_votes(make_map, owner, writer):
    old = make_map(slug="taken", claims=[(None, "support", "Kept")])
    claim = claim_by_text(old, "Kept")
    ModerationAction.objects.create(map=old, actor=owner, action="hide", claim=claim)
    Flag.objects.create(map=old, claim=claim, reporter=writer, reason="spam")
    Vote.objects.create(claim=claim, user=writer, value=2)
    plan = formats.parse("1. New thesis\n1.1. Pro: New claim\n", "kialo")
    new = formats.import_plan(plan=plan, slug="taken", replace=True)
    assert simple_tree(new) == ("New thesis", "", (("New claim", "support", ()),))
    assert not ModerationAction.objects.exists() and not Flag.objects.exists()
    assert not Vote.objects.exists()
