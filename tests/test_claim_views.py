"""The writing endpoints (add, edit, move, reorder, archive, restore, history, revert) and the
claim page, each against its HTTP contract (STYLE.md) and DESIGN.md "Writing together"."""

from __future__ import annotations

import json
import re
from html import unescape
from html.parser import HTMLParser

import pytest
from django.test import Client
from django.utils.html import escape

from argmap import anchors, services
from argmap.models import ArgumentMap, Claim, Role
from tests.conftest import ARTICLE, add_member, claim_by_text
from tests.conftest import response_text as _text
from tests.conftest import signed_in_client as _as

pytestmark = pytest.mark.django_db

HTMX = {"HTTP_HX_REQUEST": "true"}

SAFER = "Car-free streets are safer"
WALK = "Children can walk to school"
CYCLISTS = "Cyclists still cause accidents"
DELIVERIES = "Deliveries get harder"

STREET_CLAIMS = [
    (None, "support", SAFER),
    (SAFER, "support", WALK),
    (SAFER, "counter", CYCLISTS),
    (None, "counter", DELIVERIES),
]

WRITES = ["add", "edit", "move", "reorder", "archive", "restore", "revert"]
CHANGES = ["edit", "move", "reorder", "archive", "restore", "revert"]  # author or staff only


# --- helpers ------------------------------------------------------------------------------------


class _Elements(HTMLParser):
    """Collects (tag, attrs) of every start tag and the text of every textarea."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.elements: list[tuple[str, dict[str, str | None]]] = []
        self.textareas: list[str] = []
        self._in_textarea = False

    def handle_starttag(self, tag, attrs):
        self.elements.append((tag, dict(attrs)))
        if tag == "textarea":
            self._in_textarea = True
            self.textareas.append("")

    def handle_endtag(self, tag):
        if tag == "textarea":
            self._in_textarea = False

    def handle_data(self, data):
        if self._in_textarea:
            self.textareas[-1] += data


def _parse(html: str) -> _Elements:
    parser = _Elements()
    parser.feed(html)
    return parser


def _inputs(html: str) -> dict[str, str]:
    """name -> value of every <input> (the last one wins)."""
    return {
        attrs["name"]: attrs.get("value") or ""
        for tag, attrs in _parse(html).elements
        if tag == "input" and attrs.get("name")
    }


def _textarea(html: str) -> str:
    (text,) = _parse(html).textareas
    return text


def _treeitems(html: str) -> list[dict[str, str | None]]:
    return [attrs for _, attrs in _parse(html).elements if attrs.get("role") == "treeitem"]


def _url(claim: Claim, action: str = "") -> str:
    return f"/maps/{claim.map.slug}/claims/{claim.pk}/" + (f"{action}/" if action else "")


def _version(argument_map: ArgumentMap) -> int:
    return ArgumentMap.objects.values_list("version", flat=True).get(pk=argument_map.pk)


def _thesis(argument_map: ArgumentMap) -> Claim:
    return Claim.objects.get(map=argument_map, parent__isnull=True)


def _fresh(claim: Claim) -> Claim:
    return Claim.objects.select_related("map").get(pk=claim.pk)


@pytest.fixture
def street_map(make_map):
    """A public map quoting ARTICLE; every claim is the owner's."""
    return make_map(slug="streets", source_text=ARTICLE, claims=STREET_CLAIMS)


def _prepare(action: str, argument_map: ArgumentMap, owner) -> tuple[Claim, dict]:
    """The claim a write acts on (the WALK leaf) and the form data of a valid write."""
    claim = claim_by_text(argument_map, WALK)
    if action == "restore":
        services.claim_archive(claim=claim, by=owner)
        claim = _fresh(claim)
    data = {
        "add": lambda: {"stance": "counter", "text": "Parents still drive them"},
        "edit": lambda: {"text": "Children can walk to school alone", "version": claim.version},
        "move": lambda: {
            "target": claim_by_text(argument_map, DELIVERIES).pk,
            "stance": "counter",
        },
        "reorder": lambda: {"direction": "down"},
        "archive": dict,
        "restore": dict,
        "history": dict,
        "revert": lambda: {
            "history_id": claim.history.earliest("history_id").history_id,
            "version": claim.version,
        },
    }[action]()
    return claim, data


# --- the contract every write shares ------------------------------------------------------------


@pytest.mark.parametrize("action", WRITES)
def test_anonymous_write_is_sent_to_login_and_changes_nothing(client, street_map, owner, action):
    claim, data = _prepare(action, street_map, owner)
    before = _version(street_map)

    response = client.post(_url(claim, action), data)

    assert response.status_code == 302
    assert response["Location"] == f"/accounts/login/?next={_url(claim, action)}"
    assert _version(street_map) == before


@pytest.mark.parametrize(
    ("action", "method"),
    [
        ("add", "put"),
        ("add", "delete"),
        ("edit", "put"),
        ("move", "patch"),
        ("reorder", "get"),
        ("archive", "get"),
        ("restore", "get"),
        ("revert", "get"),
        ("history", "post"),
    ],
)
def test_wrong_method_is_405(street_map, owner, action, method):
    claim = claim_by_text(street_map, WALK)
    response = getattr(_as(owner), method)(_url(claim, action))
    assert response.status_code == 405


@pytest.mark.parametrize("action", CHANGES)
@pytest.mark.parametrize("headers", [{}, HTMX], ids=["plain", "htmx"])
def test_signed_in_non_author_cannot_change_a_claim(street_map, owner, writer, action, headers):
    claim, data = _prepare(action, street_map, owner)
    before = _version(street_map)

    response = _as(writer).post(_url(claim, action), data, **headers)

    # Someone else's archived claim does not exist for those who may not restore it (as on its
    # page): 404; the published ones they can see answer 403.
    assert response.status_code == (404 if action == "restore" else 403)
    assert _version(street_map) == before


@pytest.mark.parametrize("action", ["edit", "move"])
def test_non_author_cannot_even_open_the_change_forms(street_map, writer, action):
    claim = claim_by_text(street_map, WALK)
    assert _as(writer).get(_url(claim, action)).status_code == 403


@pytest.mark.parametrize("action", CHANGES)
def test_staff_may_change_anyones_claim(street_map, owner, staff, action):
    claim, data = _prepare(action, street_map, owner)
    before = _version(street_map)

    response = _as(staff).post(_url(claim, action), data)

    assert response.status_code == 302
    assert _version(street_map) == before + 1


def test_anyone_signed_in_may_add_under_a_public_map(street_map, writer):
    parent = claim_by_text(street_map, WALK)
    response = _as(writer).post(_url(parent, "add"), {"stance": "support", "text": "It is near"})
    assert response.status_code == 302
    added = claim_by_text(street_map, "It is near")
    assert (added.parent_id, added.author_id) == (parent.pk, writer.pk)


def test_adding_to_a_locked_map_is_forbidden(street_map, writer):
    ArgumentMap.objects.filter(pk=street_map.pk).update(status=ArgumentMap.Status.LOCKED)
    parent = claim_by_text(street_map, WALK)
    response = _as(writer).post(_url(parent, "add"), {"stance": "support", "text": "It is near"})
    assert response.status_code == 403
    assert not Claim.objects.filter(text="It is near").exists()


@pytest.mark.parametrize("action", [*WRITES, "history"])
def test_private_map_is_404_to_a_stranger(make_map, owner, stranger, action):
    private = make_map(
        slug="secret", claims=STREET_CLAIMS, visibility=ArgumentMap.Visibility.PRIVATE
    )
    claim, data = _prepare(action, private, owner)
    before = _version(private)
    client = _as(stranger)

    if action == "history":
        assert client.get(_url(claim, action)).status_code == 404
        assert _as(owner).get(_url(claim, action)).status_code == 200
    else:
        assert client.post(_url(claim, action), data).status_code == 404
        if action in ("add", "edit", "move"):
            assert client.get(_url(claim, action)).status_code == 404
    assert _version(private) == before


@pytest.mark.parametrize("action", [*WRITES, "history"])
def test_claim_of_another_map_is_404(make_map, street_map, owner, action):
    other = make_map(slug="elsewhere", claims=STREET_CLAIMS)
    claim, data = _prepare(action, other, owner)
    before = (_version(street_map), _version(other))
    url = f"/maps/{street_map.slug}/claims/{claim.pk}/{action}/"
    client = _as(owner)

    if action == "history":
        assert client.get(url).status_code == 404
    else:
        assert client.post(url, data).status_code == 404
    assert (_version(street_map), _version(other)) == before


@pytest.mark.parametrize("action", WRITES)
def test_every_write_bumps_the_map_version_exactly_once(street_map, owner, action):
    claim, data = _prepare(action, street_map, owner)
    before = _version(street_map)

    response = _as(owner).post(_url(claim, action), data, **HTMX)

    assert response.status_code in (200, 204)
    assert _version(street_map) == before + 1


@pytest.mark.parametrize("action", WRITES)
def test_write_without_htmx_redirects_post_redirect_get(street_map, owner, action):
    claim, data = _prepare(action, street_map, owner)
    parent = claim.parent
    expected = {
        "add": f"{_url(claim)}#claim-",
        "edit": _url(claim),
        "move": _url(claim),
        "reorder": _url(parent),
        "archive": _url(claim),
        "restore": _url(claim),
        "revert": _url(claim, "history"),
    }[action]

    response = _as(owner).post(_url(claim, action), data)

    assert response.status_code == 302
    assert response["Location"].startswith(expected)
    assert _as(owner).get(response["Location"]).status_code == 200


@pytest.mark.parametrize(
    ("action", "marker"),
    [
        ("add", 'id="add-form-{pk}"'),
        ("edit", 'id="row-{pk}"'),
        ("move", 'id="move-dialog-{pk}"'),
        ("history", 'id="history-{pk}"'),
    ],
)
def test_htmx_gets_the_fragment_and_a_plain_request_the_full_page(
    street_map, owner, action, marker
):
    claim = claim_by_text(street_map, WALK)
    client = _as(owner)

    fragment = client.get(_url(claim, action), **HTMX)
    page = client.get(_url(claim, action))

    assert fragment.status_code == page.status_code == 200
    assert marker.format(pk=claim.pk) in _text(fragment)
    assert "<html" not in _text(fragment) and "<body" not in _text(fragment)
    assert marker.format(pk=claim.pk) in _text(page)
    assert _text(page).lstrip().lower().startswith("<!doctype html>")


# --- add ----------------------------------------------------------------------------------------


def test_htmx_add_appends_the_new_item_and_refreshes_the_parents_counts(street_map, writer):
    parent = claim_by_text(street_map, SAFER)

    response = _as(writer).post(
        _url(parent, "add"), {"stance": "support", "text": "Fewer  crashes\nat crossings"}, **HTMX
    )

    assert response.status_code == 200
    added = claim_by_text(street_map, "Fewer crashes at crossings")
    assert (added.parent_id, added.stance, added.author_id) == (parent.pk, "support", writer.pk)
    assert response["HX-Retarget"] == f"#group-{parent.pk}"
    assert response["HX-Reswap"] == "beforeend"
    assert json.loads(response["HX-Trigger"]) == {"argmap:claimAdded": {"id": added.pk}}
    html = _text(response)
    assert html.startswith(f'<li role="treeitem" id="claim-{added.pk}"')
    assert [item["data-claim"] for item in _treeitems(html)] == [str(added.pk)]
    oob = re.search(
        rf'<div class="claim-row" id="row-{parent.pk}" hx-swap-oob="true">.*?</div>', html
    )
    assert oob, html
    assert "2 pro" in oob.group(0) and "1 con" in oob.group(0)
    assert "<html" not in html


def test_htmx_add_by_a_suggester_shows_them_their_pending_claim_in_place(street_map, suggester):
    add_member(street_map, suggester, Role.SUGGESTER)
    parent = claim_by_text(street_map, SAFER)

    response = _as(suggester).post(
        _url(parent, "add"), {"stance": "counter", "text": "Crossings are not the problem"}, **HTMX
    )

    assert response.status_code == 200
    added = claim_by_text(street_map, "Crossings are not the problem")
    assert added.status == Claim.Status.PENDING
    item = _treeitems(_text(response))[0]
    assert item["data-claim"] == str(added.pk)
    assert "is-pending" in item["class"]
    assert "Pending approval" in _text(response)


def test_add_without_htmx_redirects_to_the_parent_at_the_new_claim(street_map, writer):
    parent = claim_by_text(street_map, SAFER)
    response = _as(writer).post(_url(parent, "add"), {"stance": "counter", "text": "Not always"})
    added = claim_by_text(street_map, "Not always")
    assert response.status_code == 302
    assert response["Location"] == f"{_url(parent)}#claim-{added.pk}"


@pytest.mark.parametrize(
    ("typed", "message"),
    [
        ("", services.CLAIM_EMPTY),
        ("   \t  ", services.CLAIM_EMPTY),
        ("x" * 501, services.CLAIM_TOO_LONG.format(limit=500, length=501)),
        ("cyclists STILL cause   accidents", services.CLAIM_DUPLICATE_SIBLING),
    ],
    ids=["empty", "whitespace", "too-long", "duplicate-sibling"],
)
@pytest.mark.parametrize("headers", [HTMX, {}], ids=["htmx", "plain"])
def test_refused_add_shows_the_message_by_the_field_and_keeps_the_typed_text(
    street_map, writer, typed, message, headers
):
    parent = claim_by_text(street_map, SAFER)
    before = (_version(street_map), Claim.objects.count())

    response = _as(writer).post(
        _url(parent, "add"), {"stance": "counter", "text": typed}, **headers
    )

    assert response.status_code == 200
    html = _text(response)
    errors = re.search(
        rf'<ul class="errorlist" id="text-errors-{parent.pk}">(.*?)</ul>', html, re.DOTALL
    )
    assert errors and escape(message) in errors.group(1)
    textarea = next(a for t, a in _parse(html).elements if t == "textarea")
    assert textarea["aria-describedby"] == f"text-errors-{parent.pk}"
    assert textarea["aria-invalid"] == "true"
    assert _textarea(html) == typed
    assert ("<html" in html) is (not headers)
    assert (_version(street_map), Claim.objects.count()) == before


def test_typed_markup_is_kept_escaped_in_a_refused_form(street_map, writer):
    parent = claim_by_text(street_map, SAFER)
    typed = '</textarea><script>alert("x")</script>' + "y" * 500
    html = _text(
        _as(writer).post(_url(parent, "add"), {"stance": "support", "text": typed}, **HTMX)
    )
    assert "<script>alert" not in html
    assert _textarea(html) == typed


def test_add_stores_a_quote_from_a_selection_with_its_context(street_map, writer):
    parent = claim_by_text(street_map, SAFER)
    exact = "Noise drops sharply at night"
    start = ARTICLE.index(exact)
    end = start + len(exact)

    response = _as(writer).post(
        _url(parent, "add"),
        {
            "stance": "support",
            "text": "Nights get quieter",
            "quote_exact": exact,
            "quote_start": start,
            "quote_end": end,
        },
        **HTMX,
    )

    assert response.status_code == 200
    added = claim_by_text(street_map, "Nights get quieter")
    assert (added.quote_exact, added.quote_start, added.quote_end) == (exact, start, end)
    assert added.quote_prefix == ARTICLE[start - anchors.CONTEXT_CHARS : start]
    assert added.quote_suffix == ARTICLE[end : end + anchors.CONTEXT_CHARS]
    assert f'data-quote-start="{start}" data-quote-end="{end}"' in _text(response)


@pytest.mark.parametrize("headers", [HTMX, {}], ids=["htmx", "plain"])
def test_add_refuses_a_quote_whose_offsets_do_not_match(street_map, writer, headers):
    parent = claim_by_text(street_map, SAFER)
    exact = "Noise drops sharply at night"
    start = ARTICLE.index(exact) + 1  # stale: the article does not read `exact` there
    before = _version(street_map)

    response = _as(writer).post(
        _url(parent, "add"),
        {
            "stance": "support",
            "text": "Nights get quieter",
            "quote_exact": exact,
            "quote_start": start,
            "quote_end": start + len(exact),
        },
        **headers,
    )

    assert response.status_code == 200
    html = _text(response)
    message = anchors.QUOTE_OFFSETS_MISMATCH.format(
        start=start, end=start + len(exact), found=ARTICLE[start : start + len(exact)]
    )
    assert escape(message) in html
    assert _textarea(html) == "Nights get quieter"
    assert _inputs(html)["quote_exact"] == exact  # the selection is kept, too
    assert not Claim.objects.filter(text="Nights get quieter").exists()
    assert _version(street_map) == before


def test_add_refuses_non_numeric_quote_offsets_with_a_message(street_map, writer):
    parent = claim_by_text(street_map, SAFER)
    response = _as(writer).post(
        _url(parent, "add"),
        {
            "stance": "support",
            "text": "Nights get quieter",
            "quote_exact": "Noise drops sharply at night",
            "quote_start": "ten",
            "quote_end": "20",
        },
        **HTMX,
    )
    assert response.status_code == 200
    assert not Claim.objects.filter(text="Nights get quieter").exists()
    assert _textarea(_text(response)) == "Nights get quieter"
    assert 'class="errorlist' in _text(response)


@pytest.mark.parametrize("version", ["", "zero"])
def test_edit_without_a_usable_version_is_refused_with_a_message(street_map, owner, version):
    claim = claim_by_text(street_map, WALK)
    response = _as(owner).post(
        _url(claim, "edit"), {"text": "Kids walk", "version": version}, **HTMX
    )
    assert response.status_code in (200, 422)
    assert _fresh(claim).text == WALK
    assert _textarea(_text(response)) == "Kids walk"
    assert 'class="errorlist' in _text(response)


def test_add_under_an_archived_claim_is_404(street_map, owner, writer):
    parent = claim_by_text(street_map, SAFER)
    services.claim_archive(claim=parent, by=owner)
    response = _as(writer).post(_url(parent, "add"), {"stance": "support", "text": "Late"})
    assert response.status_code == 404
    assert not Claim.objects.filter(text="Late").exists()


# --- edit ---------------------------------------------------------------------------------------


def test_edit_form_carries_the_claims_version_and_text(street_map, owner):
    claim = claim_by_text(street_map, WALK)
    services.claim_edit(claim=claim, expected_version=1, text="Kids walk to school", quote=None)
    html = _text(_as(owner).get(_url(claim, "edit"), **HTMX))
    assert _inputs(html)["version"] == "2"
    assert _textarea(html) == "Kids walk to school"


def test_htmx_edit_saves_and_returns_the_row(street_map, owner):
    claim = claim_by_text(street_map, WALK)

    response = _as(owner).post(
        _url(claim, "edit"), {"text": "Kids walk to school <safely>", "version": 1}, **HTMX
    )

    assert response.status_code == 200
    html = _text(response)
    assert html.startswith(f'<div class="claim-row" id="row-{claim.pk}">')
    assert "Kids walk to school &lt;safely&gt;" in html
    saved = _fresh(claim)
    assert (saved.text, saved.version) == ("Kids walk to school <safely>", 2)


def test_edit_cancel_returns_the_unchanged_row(street_map, owner):
    claim = claim_by_text(street_map, WALK)
    response = _as(owner).get(_url(claim, "edit") + "?cancel=1", **HTMX)
    assert response.status_code == 200
    assert _text(response).startswith(f'<div class="claim-row" id="row-{claim.pk}">')
    assert WALK in _text(response)


@pytest.mark.parametrize("headers", [HTMX, {}], ids=["htmx", "plain"])
def test_stale_edit_answers_409_with_both_texts_and_keep_mine_then_succeeds(
    street_map, owner, staff, headers
):
    claim = claim_by_text(street_map, WALK)
    # Someone else saves while the author is still typing on version 1.
    services.claim_edit(claim=claim, expected_version=1, text="Their text", quote=None, by=staff)
    client = _as(owner)
    draft = "My careful draft & <notes>"

    response = client.post(_url(claim, "edit"), {"text": draft, "version": 1}, **headers)

    assert response.status_code == 409
    html = _text(response)
    assert ("<html" in html) is (not headers)
    assert re.search(r"<p class=\"conflict-text\" data-theirs>Their text</p>", html)
    assert f'<p class="conflict-text" data-mine>{escape(draft)}</p>' in html
    assert _textarea(html) == draft  # the draft is never thrown away
    form = _inputs(html)
    assert form["version"] == "2"
    assert _fresh(claim).text == "Their text"

    keep_mine = client.post(
        _url(claim, "edit"), {"text": _textarea(html), "version": form["version"]}, **headers
    )

    assert keep_mine.status_code == (200 if headers else 302)
    saved = _fresh(claim)
    assert (saved.text, saved.version) == (draft, 3)


@pytest.mark.parametrize("headers", [HTMX, {}], ids=["htmx", "plain"])
def test_refused_edit_keeps_the_draft_beside_the_message(street_map, owner, headers):
    claim = claim_by_text(street_map, WALK)
    before = _version(street_map)
    draft = "cyclists still CAUSE accidents"

    response = _as(owner).post(_url(claim, "edit"), {"text": draft, "version": 1}, **headers)

    assert response.status_code == (422 if headers else 200)
    html = _text(response)
    errors = re.search(rf'id="edit-errors-{claim.pk}">(.*?)</ul>', html, re.DOTALL)
    assert errors and escape(services.CLAIM_DUPLICATE_SIBLING) in errors.group(1)
    assert _textarea(html) == draft
    assert _fresh(claim).text == WALK
    assert _version(street_map) == before


def _quote_data(exact: str) -> dict:
    start = ARTICLE.index(exact)
    return {"quote_exact": exact, "quote_start": start, "quote_end": start + len(exact)}


def test_edit_adds_changes_and_removes_the_anchor(street_map, owner):
    claim = claim_by_text(street_map, WALK)
    client = _as(owner)
    first, second = "Car-free streets are safer for children", "older people"

    client.post(_url(claim, "edit"), {"text": WALK, "version": 1, **_quote_data(first)})
    added = _fresh(claim)
    start = ARTICLE.index(first)
    assert (added.quote_exact, added.quote_start) == (first, start)
    assert added.quote_prefix == ARTICLE[max(0, start - anchors.CONTEXT_CHARS) : start]

    client.post(_url(claim, "edit"), {"text": WALK, "version": 2, **_quote_data(second)})
    changed = _fresh(claim)
    assert (changed.quote_exact, changed.quote_start) == (second, ARTICLE.index(second))

    client.post(
        _url(claim, "edit"),
        {"text": WALK, "version": 3, **_quote_data(second), "remove_quote": "on"},
    )
    removed = _fresh(claim)
    assert (removed.quote_exact, removed.quote_start, removed.quote_end) == ("", None, None)
    assert removed.version == 4


def test_plain_edit_of_a_quoted_claim_keeps_its_anchor_across_line_breaks(make_map, owner):
    exact = "Shops on pedestrian streets often report higher sales."
    argument_map = make_map(
        source_text=ARTICLE, claims=[(None, "support", "Shops sell more", exact)]
    )
    claim = claim_by_text(argument_map, "Shops sell more")
    assert "\n" in claim.quote_prefix  # the anchor's context crosses a line break
    client = _as(owner)
    form = _inputs(_text(client.get(_url(claim, "edit"))))
    # What a browser submits without JavaScript: every line break normalized to CRLF (HTML spec,
    # "converting an entry list to a list of name-value pairs").
    posted = {name: re.sub(r"\r\n|\r|\n", "\r\n", value) for name, value in form.items()}
    posted.pop("remove_quote", None)
    posted["text"] = "Shops on car-free streets sell more"

    response = client.post(_url(claim, "edit"), posted)

    assert response.status_code == 302
    saved = _fresh(claim)
    assert saved.text == "Shops on car-free streets sell more"
    assert (saved.quote_exact, saved.quote_start) == (exact, ARTICLE.index(exact))


# --- move ---------------------------------------------------------------------------------------


def _target_ids(html: str) -> set[int]:
    return {
        int(attrs["value"])
        for tag, attrs in _parse(html).elements
        if tag == "input" and attrs.get("name") == "target"
    }


def test_move_dialog_lists_targets_except_the_claims_own_subtree(street_map, owner):
    safer = claim_by_text(street_map, SAFER)
    archived = services.claim_add(
        parent=claim_by_text(street_map, DELIVERIES), stance="support", text="Gone soon"
    )
    services.claim_archive(claim=archived)

    response = _as(owner).get(_url(safer, "move"), **HTMX)

    assert response.status_code == 200
    expected = {_thesis(street_map).pk, claim_by_text(street_map, DELIVERIES).pk}
    assert _target_ids(_text(response)) == expected


def test_move_search_filters_targets_and_part_targets_returns_only_the_list(street_map, owner):
    walk = claim_by_text(street_map, WALK)
    deliveries = claim_by_text(street_map, DELIVERIES)
    client = _as(owner)

    dialog = client.get(_url(walk, "move") + "?q=deliveries", **HTMX)
    part = client.get(_url(walk, "move") + "?q=DELIVER%20harder&part=targets", **HTMX)
    by_number = client.get(_url(walk, "move") + f"?q={deliveries.pk}&part=targets", **HTMX)
    nothing = client.get(_url(walk, "move") + "?q=zeppelin&part=targets", **HTMX)

    assert _target_ids(_text(dialog)) == {deliveries.pk}
    assert 'id="move-dialog-' in _text(dialog)
    html = _text(part)
    assert html.lstrip().startswith(f'<fieldset class="move-targets" id="move-targets-{walk.pk}"')
    assert 'id="move-dialog-' not in html and "<form" not in html
    assert _target_ids(html) == {deliveries.pk}
    assert deliveries.pk in _target_ids(_text(by_number))
    assert _target_ids(_text(nothing)) == set()
    assert "No claim matches “zeppelin”." in _text(nothing)


@pytest.mark.parametrize("query", ["²", "9" * 5000])
def test_move_search_survives_digit_like_queries(street_map, owner, query):
    walk = claim_by_text(street_map, WALK)
    response = _as(owner).get(_url(walk, "move"), {"q": query, "part": "targets"}, **HTMX)
    assert response.status_code == 200
    assert _target_ids(_text(response)) == set()


@pytest.mark.parametrize("headers", [HTMX, {}], ids=["htmx", "plain"])
def test_move_puts_the_claim_with_its_subtree_under_the_new_parent(street_map, owner, headers):
    safer = claim_by_text(street_map, SAFER)
    deliveries = claim_by_text(street_map, DELIVERIES)

    response = _as(owner).post(
        _url(safer, "move"), {"target": deliveries.pk, "stance": "counter"}, **headers
    )

    moved = _fresh(safer)
    assert (moved.parent_id, moved.stance) == (deliveries.pk, "counter")
    assert claim_by_text(street_map, WALK).parent_id == safer.pk  # the subtree came along
    if headers:
        assert response.status_code == 200
        assert json.loads(response["HX-Trigger"]) == {"argmap:pull": {"focus": safer.pk}}
    else:
        assert response.status_code == 302 and response["Location"] == _url(safer)


@pytest.mark.parametrize("into", [SAFER, WALK], ids=["itself", "its-child"])
@pytest.mark.parametrize("headers", [HTMX, {}], ids=["htmx", "plain"])
def test_move_under_its_own_subtree_is_refused(street_map, owner, into, headers):
    safer = claim_by_text(street_map, SAFER)
    target = claim_by_text(street_map, into)
    before = _version(street_map)

    response = _as(owner).post(
        _url(safer, "move"), {"target": target.pk, "stance": "support"}, **headers
    )

    assert response.status_code == (422 if headers else 200)
    assert escape(services.CLAIM_MOVE_INTO_SUBTREE) in _text(response)
    assert _fresh(safer).parent_id == _thesis(street_map).pk
    assert _version(street_map) == before


def test_move_under_a_claim_of_another_map_is_refused(make_map, street_map, owner):
    walk = claim_by_text(street_map, WALK)
    foreign = _thesis(make_map(slug="elsewhere"))
    response = _as(owner).post(
        _url(walk, "move"), {"target": foreign.pk, "stance": "support"}, **HTMX
    )
    assert response.status_code == 422
    assert "Choose a claim of this map." in _text(response)
    assert _fresh(walk).parent_id == claim_by_text(street_map, SAFER).pk


@pytest.mark.parametrize("method", ["get", "post"])
def test_the_thesis_cannot_move(street_map, owner, method):
    thesis = _thesis(street_map)
    deliveries = claim_by_text(street_map, DELIVERIES)
    data = {"target": deliveries.pk, "stance": "support"} if method == "post" else None
    response = getattr(_as(owner), method)(_url(thesis, "move"), data)
    assert response.status_code == 404
    assert _fresh(thesis).parent_id is None


# --- reorder ------------------------------------------------------------------------------------


def _child_order(argument_map: ArgumentMap, parent_text: str | None) -> list[str]:
    parent = (
        _thesis(argument_map) if parent_text is None else claim_by_text(argument_map, parent_text)
    )
    return list(Claim.objects.children_of(parent.pk).values_list("text", flat=True))


def test_reorder_moves_a_claim_up_and_down_among_its_siblings(street_map, owner):
    client = _as(owner)
    deliveries = claim_by_text(street_map, DELIVERIES)
    assert _child_order(street_map, None) == [SAFER, DELIVERIES]

    up = client.post(_url(deliveries, "reorder"), {"direction": "up"}, **HTMX)
    assert up.status_code == 204
    assert json.loads(up["HX-Trigger"]) == {"argmap:pull": {"focus": deliveries.pk}}
    assert _child_order(street_map, None) == [DELIVERIES, SAFER]
    fragment = client.get(_url(_thesis(street_map), "children"), **HTMX)
    safer = claim_by_text(street_map, SAFER)
    shown = [item["data-claim"] for item in _treeitems(_text(fragment))]
    assert shown == [str(deliveries.pk), str(safer.pk)]

    client.post(_url(deliveries, "reorder"), {"direction": "up"}, **HTMX)  # already first
    assert _child_order(street_map, None) == [DELIVERIES, SAFER]

    client.post(_url(deliveries, "reorder"), {"direction": "down"})
    assert _child_order(street_map, None) == [SAFER, DELIVERIES]


@pytest.mark.parametrize("action", ["reorder", "archive"])
@pytest.mark.parametrize("headers", [HTMX, {}], ids=["htmx", "plain"])
def test_the_thesis_cannot_be_reordered_or_archived(street_map, owner, action, headers):
    thesis = _thesis(street_map)
    before = _version(street_map)

    response = _as(owner).post(_url(thesis, action), {"direction": "up"}, **headers)

    assert response.status_code == 422
    assert escape(services.CLAIM_THESIS_FIXED) in _text(response)
    assert _fresh(thesis).status == Claim.Status.PUBLISHED
    assert _version(street_map) == before


# --- archive and restore ------------------------------------------------------------------------


@pytest.fixture
def layered_map(make_map):
    """SAFER has three children; WALK has one of its own."""
    return make_map(
        slug="layered",
        claims=[
            *STREET_CLAIMS,
            (SAFER, "support", "Fewer crashes"),
            (WALK, "support", "Schools are close"),
        ],
    )


def _map_claim_ids(client: Client, argument_map: ArgumentMap) -> set[int]:
    html = _text(client.get(f"/maps/{argument_map.slug}/"))
    return {int(item["data-claim"]) for item in _treeitems(html)}


def test_archive_hides_the_claim_and_its_subtree_and_offers_undo(layered_map, owner):
    client = _as(owner)
    safer = claim_by_text(layered_map, SAFER)
    subtree = {safer.pk} | {
        claim_by_text(layered_map, text).pk
        for text in (WALK, CYCLISTS, "Fewer crashes", "Schools are close")
    }
    schools = claim_by_text(layered_map, "Schools are close").pk  # below the first view
    assert subtree - {schools} <= _map_claim_ids(client, layered_map)

    response = client.post(_url(safer, "archive"), **HTMX)

    assert response.status_code == 200
    html = _text(response)
    undo = re.search(r'<form method="post" action="([^"]+)"[^>]*hx-post="([^"]+)"', html)
    assert undo and undo.group(1) == undo.group(2) == _url(safer, "restore")
    assert ">Undo</button>" in html
    thesis = _thesis(layered_map)
    assert f'id="row-{thesis.pk}" hx-swap-oob="true"' in html
    assert not _map_claim_ids(client, layered_map) & subtree
    children = client.get(_url(thesis, "children"), **HTMX)
    assert [item["data-claim"] for item in _treeitems(_text(children))] == [
        str(claim_by_text(layered_map, DELIVERIES).pk)
    ]
    assert (
        set(Claim.objects.filter(status=Claim.Status.ARCHIVED).values_list("pk", flat=True))
        == subtree
    )


@pytest.mark.parametrize("headers", [HTMX, {}], ids=["htmx", "plain"])
def test_restore_brings_back_exactly_what_was_archived_with_it(layered_map, owner, headers):
    client = _as(owner)
    safer = claim_by_text(layered_map, SAFER)
    cyclists = claim_by_text(layered_map, CYCLISTS)
    services.claim_archive(claim=cyclists, by=owner)  # archived on its own, earlier
    client.post(_url(safer, "archive"), **HTMX)

    response = client.post(_url(safer, "restore"), **headers)

    if headers:
        assert response.status_code == 200
        assert response["HX-Trigger"] == "argmap:pull"
    else:
        assert response.status_code == 302 and response["Location"] == _url(safer)
    archived = set(
        Claim.objects.filter(status=Claim.Status.ARCHIVED).values_list("text", flat=True)
    )
    assert archived == {CYCLISTS}
    shown = _map_claim_ids(client, layered_map)
    assert {safer.pk, claim_by_text(layered_map, WALK).pk} <= shown
    assert cyclists.pk not in shown


@pytest.mark.parametrize("headers", [HTMX, {}], ids=["htmx", "plain"])
def test_restoring_under_an_archived_parent_is_refused_readably(layered_map, owner, headers):
    client = _as(owner)
    walk = claim_by_text(layered_map, WALK)
    services.claim_archive(claim=walk, by=owner)
    services.claim_archive(claim=claim_by_text(layered_map, SAFER), by=owner)
    before = _version(layered_map)

    response = client.post(_url(walk, "restore"), **headers)

    assert response.status_code == 422
    assert escape(services.CLAIM_RESTORE_PARENT_FIRST) in _text(response)
    assert ("<html" in _text(response)) is (not headers)
    if headers:
        assert response["HX-Reswap"] == "none"
    assert _fresh(walk).status == Claim.Status.ARCHIVED
    assert _version(layered_map) == before


def test_restoring_a_published_claim_and_archiving_twice_are_refused(street_map, owner):
    client = _as(owner)
    walk = claim_by_text(street_map, WALK)
    restore = client.post(_url(walk, "restore"), **HTMX)
    assert restore.status_code == 422
    assert escape(services.CLAIM_NOT_ARCHIVED) in _text(restore)
    client.post(_url(walk, "archive"), **HTMX)
    again = client.post(_url(walk, "archive"), **HTMX)
    assert again.status_code == 422
    assert escape(services.CLAIM_ALREADY_ARCHIVED) in _text(again)


# --- history and revert -------------------------------------------------------------------------


@pytest.fixture
def edited_claim(make_map, owner, staff):
    """A claim with markup in its first text, then edited by staff."""
    argument_map = make_map(slug="history", claims=[(None, "support", "Cars are loud")])
    claim = claim_by_text(argument_map, "Cars are loud")
    services.claim_edit(
        claim=claim,
        expected_version=1,
        text="Cars are <script>alert(1)</script> loud",
        quote=None,
        by=owner,
    )
    services.claim_edit(
        claim=claim,
        expected_version=2,
        text="Cars are very loud at night",
        quote=None,
        by=staff,
        reason="Sharper",
    )
    return _fresh(claim)


def test_history_lists_every_version_with_user_reason_and_escaped_diff(edited_claim, viewer):
    response = _as(viewer).get(_url(edited_claim, "history"))

    assert response.status_code == 200
    html = _text(response)
    entries = re.findall(r'<li class="history-entry">(.*?)</li>', html, re.DOTALL)
    assert len(entries) == 3
    newest, middle, oldest = entries
    assert "Version 3" in newest and "carl-curator" in newest and "Sharper" in newest
    assert "Version 2" in middle and "olivia-owner" in middle and "Claim edited" in middle
    assert "Version 1" in oldest and "olivia-owner" in oldest and "Claim added" in oldest
    assert "<ins>Cars are loud</ins>" in oldest
    assert "<ins>&lt;script&gt;alert(1)&lt;/script&gt;</ins>" in middle
    assert "<del>&lt;script&gt;alert(1)&lt;/script&gt;</del>" in newest
    assert "<ins>very</ins>" in newest and "<ins>at night</ins>" in newest
    assert "<script>alert" not in html
    assert "Revert to version" not in html  # a reader may not revert


def test_history_offers_revert_to_every_earlier_version_for_the_author(edited_claim, owner):
    html = _text(_as(owner).get(_url(edited_claim, "history")))
    assert re.findall(r"Revert to version (\d+)", html) == ["2", "1"]
    assert _inputs(html)["version"] == str(edited_claim.version)


@pytest.mark.parametrize("headers", [HTMX, {}], ids=["htmx", "plain"])
def test_revert_creates_a_new_version_with_the_old_text(edited_claim, owner, headers):
    first = edited_claim.history.earliest("history_id")

    response = _as(owner).post(
        _url(edited_claim, "revert"),
        {"history_id": first.history_id, "version": edited_claim.version},
        **headers,
    )

    if headers:
        assert response.status_code == 204
        assert response["HX-Redirect"] == _url(edited_claim, "history")
    else:
        assert response.status_code == 302
        assert response["Location"] == _url(edited_claim, "history")
    reverted = _fresh(edited_claim)
    assert (reverted.text, reverted.version) == ("Cars are loud", 4)
    latest = reverted.history.latest("history_id")
    assert latest.text == "Cars are loud"
    assert latest.history_change_reason == "Reverted to version 1"
    assert latest.history_user == owner
    assert reverted.history.count() == 4


@pytest.mark.parametrize("case", ["stale-version", "other-claims-version", "no-version"])
def test_refused_revert_answers_422_with_a_reason(edited_claim, make_map, owner, case):
    first = edited_claim.history.earliest("history_id")
    if case == "stale-version":
        data, message = (
            {"history_id": first.history_id, "version": 1},
            "The claim changed meanwhile; reload its history and try again.",
        )
    elif case == "other-claims-version":
        other = claim_by_text(make_map(claims=[(None, "support", "Other")]), "Other")
        data, message = (
            {"history_id": other.history.earliest("history_id").history_id, "version": 3},
            services.CLAIM_REVERT_OTHER,
        )
    else:
        data, message = {"history_id": first.history_id}, "Choose a version to revert to."

    response = _as(owner).post(_url(edited_claim, "revert"), data, **HTMX)

    assert response.status_code == 422
    assert escape(message) in _text(response)
    assert _fresh(edited_claim).text == "Cars are very loud at night"


def test_history_of_an_archived_claim_is_404_to_others_but_not_its_author(edited_claim, owner):
    services.claim_archive(claim=edited_claim, by=owner)
    assert Client().get(_url(edited_claim, "history")).status_code == 404
    assert _as(owner).get(_url(edited_claim, "history")).status_code == 200


# --- the claim page -----------------------------------------------------------------------------


def _actions(html: str) -> set[str]:
    """The change actions the page offers: links and form actions under the claim's URL."""
    found = set()
    for tag, attrs in _parse(html).elements:
        target = attrs.get("href") if tag == "a" else attrs.get("action") if tag == "form" else None
        match = re.fullmatch(r"/maps/[^/]+/claims/\d+/(\w+)/(?:\?.*)?", target or "")
        if match:
            found.add(match.group(1))
    return found


def test_claim_page_offers_its_author_every_action(street_map, owner):
    walk = claim_by_text(street_map, WALK)
    html = _text(_as(owner).get(_url(walk)))
    assert _actions(html) >= {"add", "edit", "move", "reorder", "archive", "history"}
    assert "restore" not in _actions(html)


@pytest.mark.parametrize("who", ["writer", "anonymous"])
def test_claim_page_offers_others_no_change_actions(request, street_map, who):
    walk = claim_by_text(street_map, WALK)
    user = None if who == "anonymous" else request.getfixturevalue(who)
    html = _text(_as(user).get(_url(walk)))
    actions = _actions(html)
    assert not actions & {"edit", "move", "reorder", "archive", "restore"}
    assert "history" in actions
    assert ("add" in actions) is (user is not None)


def test_archived_claim_page_is_404_to_others_and_offers_restore_to_its_author(
    street_map, owner, writer
):
    walk = claim_by_text(street_map, WALK)
    services.claim_archive(claim=walk, by=owner)

    assert Client().get(_url(walk)).status_code == 404
    assert _as(writer).get(_url(walk)).status_code == 404
    response = _as(owner).get(_url(walk))
    assert response.status_code == 200
    html = _text(response)
    assert _actions(html) & {"edit", "move", "archive", "add"} == set()
    assert "restore" in _actions(html)
    assert "This claim is archived" in unescape(html)
