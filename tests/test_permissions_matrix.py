"""The permission matrix: every actor against every action, through the real views.

For each kind of map (public post-moderated, public pre-moderated, private) the test drives each
action with Django's test client as each actor, each cell in a savepoint rolled back afterwards,
and renders the answers as a fixed-width table. The expected table is the golden file
``tests/golden/permissions.txt``; ``ARGMAP_UPDATE_GOLDEN=1`` rewrites it (review the diff by eye:
every cell must be what DESIGN.md and issue 4 intend, see docs/roles.md).

Cells: ``200``/``302``/``403``/``404``/... the HTTP status; ``login`` a redirect to the login
page; ``pending`` the claim was created but waits for a moderator; ``n/a`` the endpoint does not
exist (yet): its URL name does not resolve.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

import pytest
from django.contrib.auth import get_user_model
from django.core.cache import cache
from django.db import transaction
from django.shortcuts import resolve_url
from django.test import Client
from django.urls import NoReverseMatch, reverse
from django.utils import timezone

from argmap import discussion, services
from argmap.models import ArgumentMap, Claim, Comment, Role
from tests.conftest import PASSWORD, add_member

LOGIN_URL = "login"  # settings.LOGIN_URL, resolved when used
GOLDEN = Path(__file__).parent / "golden" / "permissions.txt"
UPDATE = os.environ.get("ARGMAP_UPDATE_GOLDEN") == "1"

# Column order of the table, and the role each actor holds in the map under test.
ACTORS: list[tuple[str, str | None]] = [
    ("anonymous", None),
    ("viewer", Role.VIEWER),
    ("suggester", Role.SUGGESTER),
    ("writer", Role.WRITER),
    ("editor", Role.EDITOR),
    ("moderator", Role.MODERATOR),
    ("owner", None),  # the map's owner (ArgumentMap.owner), no membership row
    ("staff", None),  # site staff, not a member
    ("muted", Role.WRITER),  # a writer muted in this map
    ("other-map", None),  # a writer in another map, a stranger here
    ("non-member", None),  # signed in, no membership anywhere
]

Visibility, Policy, Status = (
    ArgumentMap.Visibility,
    ArgumentMap.ModerationPolicy,
    ArgumentMap.Status,
)
MAP_KINDS: list[tuple[str, str, str, str]] = [
    ("public, post-moderated", Visibility.PUBLIC, Policy.POST, Status.OPEN),
    ("public, pre-moderated", Visibility.PUBLIC, Policy.PRE, Status.OPEN),
    ("private, post-moderated", Visibility.PRIVATE, Policy.POST, Status.OPEN),
    ("unlisted, post-moderated", Visibility.UNLISTED, Policy.POST, Status.OPEN),
    ("public, locked by a moderator", Visibility.PUBLIC, Policy.POST, Status.LOCKED),
]

HTMX = {"HX-Request": "true"}


@dataclass
class World:
    """One map with every actor's own claim, someone else's claim and an archived one."""

    map: ArgumentMap
    thesis: Claim
    others: Claim  # published, written by a writer who is not an actor, edited once
    target: Claim  # where moves go
    archived: Claim  # someone else's, archived
    pending: Claim  # someone else's suggestion, waiting for a moderator
    locked: Claim  # locked by a moderator: no children, no edits
    comment: Comment  # a visible comment by another writer, on ``others``
    own: dict[str, Claim]  # actor -> a published claim they wrote
    own_comments: dict[str, Comment]  # actor -> a visible comment they wrote on ``others``
    users: dict[str, object]

    def own_claim(self, actor: str) -> Claim:
        return self.own.get(actor, self.others)

    def own_comment(self, actor: str) -> Comment:
        return self.own_comments.get(actor, self.comment)


class Missing(Exception):
    """The endpoint's URL name does not resolve (not built yet)."""


def _url(name: str, *args) -> str:
    try:
        return reverse(name, args=args)
    except NoReverseMatch as error:
        raise Missing(name) from error


Request = Callable[[Client, World, str], object]


@dataclass(frozen=True)
class Action:
    label: str
    url_name: str
    run: Request
    creates: type[Claim] | type[Comment] | None = None


def _get(name: str, pick: Callable[[World, str], tuple], **headers) -> Request:
    return lambda client, world, actor: client.get(_url(name, *pick(world, actor)), headers=headers)


def _post(name: str, pick: Callable[[World, str], tuple], data: Callable[[World, str], dict]):
    return lambda client, world, actor: client.post(
        _url(name, *pick(world, actor)), data(world, actor)
    )


def _slug(world: World, actor: str) -> tuple:
    return (world.map.slug,)


def _others(world: World, actor: str) -> tuple:
    return (world.map.slug, world.others.pk)


def _own(world: World, actor: str) -> tuple:
    return (world.map.slug, world.own_claim(actor).pk)


def _thesis(world: World, actor: str) -> tuple:
    return (world.map.slug, world.thesis.pk)


def _archived(world: World, actor: str) -> tuple:
    return (world.map.slug, world.archived.pk)


def _pending(world: World, actor: str) -> tuple:
    return (world.map.slug, world.pending.pk)


def _site_search(client: Client, world: World, actor: str) -> str:
    """Whether site-wide search shows the map's claim to this actor."""
    response = client.get(_url("search") + "?q=children")
    if response.status_code != 200:
        return str(response.status_code)
    permalink = reverse("claim_detail", args=[world.map.slug, world.others.pk])
    return "found" if f'href="{permalink}' in response.content.decode() else "none"


def _shows_pending(name: str, query: str = "", **headers) -> Request:
    """Whether a page or fragment of the map carries someone else's pending claim's text."""

    def run(client: Client, world: World, actor: str) -> str:
        response = client.get(_url(name, world.map.slug) + query, headers=headers)
        if response.status_code != 200:
            return str(response.status_code)
        return "shown" if world.pending.text in response.content.decode() else "none"

    return run


def _comment_edit(comment_of: Callable[[World, str], Comment]) -> Callable[[World, str], dict]:
    def data(world: World, actor: str) -> dict:
        comment = comment_of(world, actor)
        return {"body": f"{comment.body} (edited by {actor})", "version": comment.version}

    return data


def _own_comment(world: World, actor: str) -> tuple:
    return (world.map.slug, world.own_comment(actor).pk)


def _others_comment(world: World, actor: str) -> tuple:
    return (world.map.slug, world.comment.pk)


def _edit(claim_of: Callable[[World, str], Claim]) -> Callable[[World, str], dict]:
    def data(world: World, actor: str) -> dict:
        claim = claim_of(world, actor)
        return {"text": f"{claim.text} (edited by {actor})", "version": claim.version}

    return data


def _revert(world: World, actor: str) -> dict:
    first = world.others.history.order_by("history_id").first()
    return {"history_id": first.history_id, "version": world.others.version}


def _events(client: Client, world: World, actor: str):
    return client.get(_url("map_events", world.map.slug))


ACTIONS: list[Action] = [
    Action("view map page", "map_detail", _get("map_detail", _slug)),
    Action("view claim", "claim_detail", _get("claim_detail", _others)),
    Action("expand children", "claim_children", _get("claim_children", _thesis, **HTMX)),
    Action("event stream", "map_events", _events),
    Action(
        "changes feed",
        "map_changes",
        lambda c, w, a: c.get(_url("map_changes", w.map.slug) + "?since=0"),
    ),
    Action("claim history", "claim_history", _get("claim_history", _others)),
    Action("view others' pending", "claim_detail", _get("claim_detail", _pending)),
    Action("expand others' pending", "claim_children", _get("claim_children", _pending, **HTMX)),
    Action("history of others' pending", "claim_history", _get("claim_history", _pending)),
    Action("thread of others' pending", "claim_thread", _get("claim_thread", _pending)),
    Action(
        "vote on others' pending",
        "claim_vote",
        _post("claim_vote", _pending, lambda w, a: {"value": 3}),
    ),
    Action("map page shows pending", "map_detail", _shows_pending("map_detail")),
    Action(
        "changes feed shows pending",
        "map_changes",
        _shows_pending("map_changes", "?since=0", **HTMX),
    ),
    Action("read thread", "claim_thread", _get("claim_thread", _others)),
    Action("read thread (htmx)", "claim_thread", _get("claim_thread", _others, **HTMX)),
    Action(
        "search in map",
        "map_search",
        lambda c, w, a: c.get(_url("map_search", w.map.slug) + "?q=children"),
    ),
    Action("site search shows it", "search", _site_search),
    Action(
        "export (JSON)", "map_export", lambda c, w, a: c.get(_url("map_export", w.map.slug, "json"))
    ),
    Action(
        "add claim",
        "claim_add",
        _post(
            "claim_add",
            _thesis,
            lambda w, a: {"stance": "support", "text": f"A brand new claim by {a}"},
        ),
        creates=Claim,
    ),
    Action(
        "add under a locked claim",
        "claim_add",
        _post(
            "claim_add",
            lambda w, a: (w.map.slug, w.locked.pk),
            lambda w, a: {"stance": "counter", "text": f"Under the lock, by {a}"},
        ),
        creates=Claim,
    ),
    Action("edit own claim", "claim_edit", _post("claim_edit", _own, _edit(World.own_claim))),
    Action(
        "edit others' claim",
        "claim_edit",
        _post("claim_edit", _others, _edit(lambda w, a: w.others)),
    ),
    Action(
        "move own claim",
        "claim_move",
        _post("claim_move", _own, lambda w, a: {"target": w.target.pk, "stance": "counter"}),
    ),
    Action(
        "move others' claim",
        "claim_move",
        _post("claim_move", _others, lambda w, a: {"target": w.target.pk, "stance": "counter"}),
    ),
    Action("archive own claim", "claim_archive", _post("claim_archive", _own, lambda w, a: {})),
    Action(
        "archive others' claim",
        "claim_archive",
        _post("claim_archive", _others, lambda w, a: {}),
    ),
    Action(
        "restore others' claim",
        "claim_restore",
        _post("claim_restore", _archived, lambda w, a: {}),
    ),
    Action("revert others' claim", "claim_revert", _post("claim_revert", _others, _revert)),
    Action("vote", "claim_vote", _post("claim_vote", _others, lambda w, a: {"value": 3})),
    Action(
        "comment",
        "claim_thread",
        _post("claim_thread", _others, lambda w, a: {"body": f"A comment by {a}."}),
        creates=Comment,
    ),
    Action(
        "edit own comment",
        "comment_edit",
        _post("comment_edit", _own_comment, _comment_edit(World.own_comment)),
    ),
    Action(
        "edit others' comment",
        "comment_edit",
        _post("comment_edit", _others_comment, _comment_edit(lambda w, a: w.comment)),
    ),
    Action(
        "delete own comment",
        "comment_delete",
        _post("comment_delete", _own_comment, lambda w, a: {}),
    ),
    Action(
        "delete others' comment",
        "comment_delete",
        _post("comment_delete", _others_comment, lambda w, a: {}),
    ),
    Action(
        "flag comment",
        "flag_comment",
        _post("flag_comment", _others_comment, lambda w, a: {"reason": "spam", "note": "x"}),
    ),
    Action(
        "flag claim",
        "flag_claim",
        _post(
            "flag_claim",
            _others,
            lambda w, a: {"reason": "unclear", "note": f"Flagged by {a}."},
        ),
    ),
    Action("moderation queue", "moderation_queue", _get("moderation_queue", _slug)),
    Action(
        "approve a suggestion",
        "suggestion_claim",
        lambda c, w, a: c.post(
            _url("suggestion_claim", w.map.slug, w.pending.pk, "approve"), {"reason": "Fine."}
        ),
    ),
    Action(
        "hide others' claim",
        "claim_moderate",
        lambda c, w, a: c.post(
            _url("claim_moderate", w.map.slug, w.others.pk, "hide"), {"reason": "Off topic."}
        ),
    ),
    Action(
        "hide others' comment",
        "comment_moderate",
        lambda c, w, a: c.post(
            _url("comment_moderate", w.map.slug, w.comment.pk, "hide"), {"reason": "Rude."}
        ),
    ),
    Action(
        "mute a member",
        "member_mute",
        lambda c, w, a: c.get(_url("member_mute", w.map.slug) + "?username=matrix-author"),
    ),
    Action(
        "lock (unlock) the map",
        "map_moderate",
        lambda c, w, a: c.post(
            _url("map_moderate", w.map.slug, "unlock" if w.map.status == Status.LOCKED else "lock"),
            {"reason": "Cooling down."},
        ),
    ),
    Action("moderation log", "moderation_log", _get("moderation_log", _slug)),
    Action("moderation log CSV", "moderation_log_csv", _get("moderation_log_csv", _slug)),
    Action("annotate article", "map_annotate", _get("map_annotate", _slug)),
    Action("settings", "map_settings", _get("map_settings", _slug)),
    Action(
        "change settings",
        "map_settings",
        lambda c, w, a: c.post(
            _url("map_settings", w.map.slug),
            {
                "title": f"Renamed by {a}",
                "description": "",
                "visibility": w.map.visibility,
                "moderation_policy": w.map.moderation_policy,
                "default_role": w.map.default_role,
                "flag_threshold": 3,
            },
        ),
    ),
    Action("members", "map_members", _get("map_members", _slug)),
    Action("transfer", "map_transfer", _get("map_transfer", _slug)),
    Action(
        "add a member",
        "map_members",
        lambda c, w, a: c.post(
            _url("map_members", w.map.slug),
            {"action": "add", "username": "matrix-nobody", "role": "viewer"},
        ),
    ),
    # Site-wide, the same on every map: creating and importing maps.
    Action("create a map (site)", "map_new", lambda c, w, a: c.get(_url("map_new"))),
    Action("import a map (site)", "map_import", lambda c, w, a: c.get(_url("map_import"))),
]


def _make_user(username: str, **extra):
    return get_user_model().objects.create_user(
        username=username, email=f"{username}@example.test", password=PASSWORD, **extra
    )


def _build_world(
    kind: int, visibility: str, policy: str, status: str, users: dict[str, object]
) -> World:
    owner, author = users["owner"], users["author"]
    argument_map = services.map_create(
        slug=f"matrix-{kind}",
        title=f"Matrix map {kind}",
        thesis="Cities should ban cars from their centres.",
        owner=owner,
        visibility=visibility,
    )
    ArgumentMap.objects.filter(pk=argument_map.pk).update(moderation_policy=policy)
    argument_map.refresh_from_db()
    for actor, role in ACTORS:
        if role is not None:
            add_member(argument_map, users[actor], role)
    add_member(argument_map, author, Role.WRITER)
    add_member(
        argument_map,
        users["muted"],
        Role.WRITER,
        muted_until=timezone.now() + timedelta(days=1),
        mute_reason="Cooling off",
    )
    thesis = Claim.objects.get(map=argument_map, parent__isnull=True)

    def claim(text: str, by, parent: Claim = thesis) -> Claim:
        return services.claim_add(parent=parent, stance="support", text=text, by=by)

    others = claim("Car-free streets are safer.", author)
    others = services.claim_edit(
        claim=others,
        expected_version=others.version,
        text="Car-free streets are safer for children.",
        quote=None,
        by=author,
    )
    target = claim("Shops report higher sales.", author)
    archived = claim("Air quality improves.", author)
    services.claim_archive(claim=archived, by=author)
    archived.refresh_from_db()
    pending = services.claim_add(
        parent=thesis,
        stance="counter",
        text="Deliveries get harder.",
        by=author,
        status=Claim.Status.PENDING,
    )
    locked = claim("Noise drops at night.", author)
    Claim.objects.filter(pk=locked.pk).update(locked=True)
    locked.refresh_from_db()
    own = {
        actor: claim(f"A claim written by the {actor}.", users[actor])
        for actor, _ in ACTORS
        if actor != "anonymous"
    }
    ArgumentMap.objects.filter(pk=argument_map.pk).update(status=status)
    argument_map.refresh_from_db()
    comment = discussion.comment_post(claim=others, author=author, body="A comment by the author.")
    own_comments = {
        actor: Comment.objects.create(
            map=argument_map, claim=others, author=users[actor], body=f"Said by the {actor}."
        )
        for actor, _ in ACTORS
        if actor != "anonymous"
    }
    return World(
        argument_map,
        thesis,
        others,
        target,
        archived,
        pending,
        locked,
        comment,
        own,
        own_comments,
        users,
    )


def _cast() -> dict[str, object]:
    users = {actor: _make_user(f"matrix-{actor}") for actor, _ in ACTORS if actor != "anonymous"}
    users["staff"].is_staff = True
    users["staff"].save(update_fields=["is_staff"])
    users["author"] = _make_user("matrix-author")
    _make_user("matrix-nobody")
    elsewhere = services.map_create(
        slug="matrix-elsewhere", title="Elsewhere", thesis="Something else.", owner=users["author"]
    )
    add_member(elsewhere, users["other-map"], Role.WRITER)
    return users


def _cell(action: Action, client: Client, world: World, actor: str) -> str:
    """Run one action as one actor and describe the answer; the caller rolls it back."""
    model = action.creates
    before = set(model.objects.filter(map=world.map).values_list("pk", flat=True)) if model else ()
    try:
        response = action.run(client, world, actor)
    except Missing:
        return "n/a"
    if isinstance(response, str):
        return response
    if response.status_code == 302 and response["Location"].startswith(resolve_url(LOGIN_URL)):
        return "login"
    if model is not None and response.status_code in (200, 302):
        created = model.objects.filter(map=world.map).exclude(pk__in=before)
        statuses = set(created.values_list("status", flat=True))
        if statuses == {model.Status.PENDING}:
            return "pending"
        if not statuses:
            return f"{response.status_code}:none"
    return str(response.status_code)


def _table(title: str, rows: dict[str, dict[str, str]]) -> str:
    names = [actor for actor, _ in ACTORS]
    first = max(len(label) for label in rows) + 2
    width = max(len(name) for name in names) + 2
    lines = [f"## {title}", "", "action".ljust(first) + "".join(n.rjust(width) for n in names)]
    lines.append("-" * len(lines[-1]))
    for label, cells in rows.items():
        lines.append(label.ljust(first) + "".join(cells[n].rjust(width) for n in names))
    return "\n".join(lines) + "\n"


HEADER = """\
# The permission matrix: what each actor gets from each action, through the real views.
# Rendered by tests/test_permissions_matrix.py; ARGMAP_UPDATE_GOLDEN=1 rewrites this file.
#
# Cells: 200/302/403/404/... HTTP status (302: done, redirected back); login: redirect to the
# login page; pending: the claim or comment was saved but waits for a moderator; n/a: no such
# endpoint yet.
# Actors: owner is the map's owner; staff is site staff (no membership); muted is a writer muted
# in this map; other-map is a writer in another map only; non-member is signed in, no membership.
# "own claim" is a published claim the actor wrote; "others' claim" one by another writer.
# found/none: whether site-wide search lists the map's claim for this actor; shown/none: whether
# the page or fragment carries the text of someone else's pending claim.
"""


@pytest.fixture
def _stream_keeps_the_connection(monkeypatch):
    """The event stream hands its connection back after reading the version (tests/test_live.py
    covers that); here every cell runs in a savepoint of the test's one connection."""
    from argmap.views import live

    monkeypatch.setattr(
        live,
        "_current_version",
        lambda map_id: ArgumentMap.objects.values_list("version", flat=True).get(pk=map_id),
    )


@pytest.mark.django_db
def test_permission_matrix_matches_the_golden_file(_stream_keeps_the_connection):
    users = _cast()
    clients = {}
    for actor, _ in ACTORS:
        client = Client()
        if actor != "anonymous":
            client.force_login(users[actor])
        clients[actor] = client
    tables, missing = [], set()
    for kind, (title, visibility, policy, status) in enumerate(MAP_KINDS, start=1):
        world = _build_world(kind, visibility, policy, status, users)
        rows: dict[str, dict[str, str]] = {}
        for action in ACTIONS:
            rows[action.label] = {}
            for actor, _ in ACTORS:
                cache.clear()
                with transaction.atomic():
                    rows[action.label][actor] = _cell(action, clients[actor], world, actor)
                    transaction.set_rollback(True)
                if rows[action.label][actor] == "n/a":
                    missing.add(action.url_name)
        tables.append(_table(title, rows))
    actual = HEADER + "\n" + "\n".join(tables)
    if missing:
        actual += "\n# Not built yet (n/a rows): " + ", ".join(sorted(missing)) + "\n"
    if UPDATE:
        GOLDEN.parent.mkdir(exist_ok=True)
        GOLDEN.write_text(actual)
    expected = GOLDEN.read_text() if GOLDEN.exists() else ""
    assert actual == expected, (
        "The permission matrix changed; rerun with ARGMAP_UPDATE_GOLDEN=1 and review the diff.\n"
        + actual
    )


def test_an_endpoint_not_built_yet_is_reported_as_n_a():
    action = Action("future", "no_such_view", _get("no_such_view", _slug))
    world = World(ArgumentMap(slug="x"), *([None] * 7), own={}, own_comments={}, users={})
    assert _cell(action, Client(), world, "anonymous") == "n/a"
