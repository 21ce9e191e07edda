"""argmap/permissions.py as a pure matrix: the same actors as tests/test_permissions_matrix.py,
asked every question directly, with memberships preloaded: no test here may touch the database
(pytest-django refuses any query without the db mark), so each answer is decided in Python."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.contrib.auth.models import AnonymousUser, User
from django.utils import timezone

from argmap import permissions
from argmap.models import ArgumentMap, Claim, Comment, Membership, Role

ACTORS = [
    "anonymous",
    "viewer",
    "suggester",
    "writer",
    "editor",
    "moderator",
    "owner",
    "staff",
    "muted",
    "other-map",
    "non-member",
]
MEMBER_ROLES = {
    "viewer": Role.VIEWER,
    "suggester": Role.SUGGESTER,
    "writer": Role.WRITER,
    "editor": Role.EDITOR,
    "moderator": Role.MODERATOR,
    "muted": Role.WRITER,
}
AUTHOR_PK = 999


def _users() -> dict[str, object]:
    users: dict[str, object] = {"anonymous": AnonymousUser()}
    for pk, actor in enumerate(ACTORS[1:], start=1):
        users[actor] = User(pk=pk, username=actor, is_staff=actor == "staff")
    return users


def _map(users, **fields) -> ArgumentMap:
    """An unsaved map whose membership cache already holds every actor's answer."""
    argument_map = ArgumentMap(pk=1, slug="m", title="M", owner_id=users["owner"].pk, **fields)
    cache = argument_map.__dict__.setdefault(permissions._CACHE_ATTR, {})
    for actor, user in users.items():
        if actor == "anonymous":
            continue
        role = MEMBER_ROLES.get(actor)
        cache[user.pk] = (
            None
            if role is None
            else Membership(
                map=argument_map,
                user_id=user.pk,
                role=role,
                muted_until=timezone.now() + timedelta(hours=1) if actor == "muted" else None,
            )
        )
    return argument_map


def _claim(argument_map, *, author_id=AUTHOR_PK, status=Claim.Status.PUBLISHED, **extra) -> Claim:
    return Claim(pk=5, map=argument_map, parent_id=1, author_id=author_id, status=status, **extra)


def _allowed(question) -> set[str]:
    users = _users()
    return {actor for actor in ACTORS if question(users[actor], users)}


ALL = set(ACTORS)
SIGNED_IN = ALL - {"anonymous"}
STAFFISH = {"owner", "staff"}
MODERATORS = {"moderator"} | STAFFISH
EDITORS = {"editor"} | MODERATORS
WRITERS = {"writer"} | EDITORS
SUGGESTERS = {"suggester"} | WRITERS
READERS = {"viewer"} | SUGGESTERS
NON_MEMBERS = {"other-map", "non-member"}

KINDS = {
    "public-post": {},
    "public-pre": {"moderation_policy": ArgumentMap.ModerationPolicy.PRE},
    "private": {"visibility": ArgumentMap.Visibility.PRIVATE},
    "locked": {"status": ArgumentMap.Status.LOCKED},
}

# kind -> question -> the actors allowed. The questions are below, in QUESTIONS.
EXPECTED: dict[str, dict[str, set[str]]] = {
    "public-post": {
        "view map": ALL,
        "vote": SIGNED_IN - {"muted"},
        "flag": SIGNED_IN - {"muted"},
        "add claim": SUGGESTERS | NON_MEMBERS,
        "publishes directly": WRITERS | NON_MEMBERS | {"muted"},
        "change own claim": WRITERS | NON_MEMBERS,
        "change others' claim": EDITORS,
        "change others' pending claim": EDITORS,
        "view others' pending claim": MODERATORS,
        "view own pending claim": SIGNED_IN,
        "comment": SUGGESTERS | NON_MEMBERS,
        "change own comment": WRITERS | NON_MEMBERS,
        "change own pending comment": SIGNED_IN - {"muted"},
        "moderate": MODERATORS,
        "manage map": STAFFISH,
        "transfer map": STAFFISH,
    },
    "public-pre": {
        "view map": ALL,
        "vote": SIGNED_IN - {"muted"},
        "flag": SIGNED_IN - {"muted"},
        "add claim": SUGGESTERS | NON_MEMBERS,
        "publishes directly": WRITERS | {"muted"},
        "change own claim": WRITERS,
        "change others' claim": EDITORS,
        "change others' pending claim": EDITORS,
        "view others' pending claim": MODERATORS,
        "view own pending claim": SIGNED_IN,
        "comment": SUGGESTERS | NON_MEMBERS,
        "change own comment": WRITERS,
        "change own pending comment": SIGNED_IN - {"muted"},
        "moderate": MODERATORS,
        "manage map": STAFFISH,
        "transfer map": STAFFISH,
    },
    "private": {
        "view map": READERS | {"muted"},
        "vote": READERS,
        "flag": READERS,
        "add claim": SUGGESTERS,
        "publishes directly": WRITERS | {"muted"},
        "change own claim": WRITERS,
        "change others' claim": EDITORS,
        "change others' pending claim": EDITORS,
        "view others' pending claim": MODERATORS,
        "view own pending claim": READERS | {"muted"},
        "comment": SUGGESTERS,
        "change own comment": WRITERS,
        "change own pending comment": READERS,
        "moderate": MODERATORS,
        "manage map": STAFFISH,
        # Transfer is not gated on seeing the map: owner and staff always see it anyway.
        "transfer map": STAFFISH,
    },
    "locked": {
        "view map": ALL,
        "vote": MODERATORS,
        "flag": SIGNED_IN - {"muted"},
        "add claim": MODERATORS,
        "publishes directly": WRITERS | NON_MEMBERS | {"muted"},
        "change own claim": MODERATORS,
        "change others' claim": MODERATORS,
        "change others' pending claim": MODERATORS,
        "view others' pending claim": MODERATORS,
        "view own pending claim": SIGNED_IN,
        "comment": MODERATORS,
        "change own comment": MODERATORS,
        "change own pending comment": MODERATORS,
        "moderate": MODERATORS,
        "manage map": STAFFISH,
        "transfer map": STAFFISH,
    },
}


def _own_comment(m, user, status=Comment.Status.VISIBLE) -> Comment:
    claim = _claim(m)
    return Comment(pk=7, map=m, claim=claim, author_id=user.pk, status=status)


QUESTIONS = {
    "view map": lambda u, m: permissions.can_view_map(u, m),
    "vote": lambda u, m: permissions.can_vote(u, m),
    "flag": lambda u, m: permissions.can_flag(u, m),
    "add claim": lambda u, m: permissions.can_add_claim(u, m),
    "publishes directly": lambda u, m: permissions.publishes_directly(u, m),
    "change own claim": lambda u, m: permissions.can_change_claim(u, _claim(m, author_id=u.pk)),
    "change others' claim": lambda u, m: permissions.can_change_claim(u, _claim(m)),
    "change others' pending claim": lambda u, m: permissions.can_change_claim(
        u, _claim(m, status=Claim.Status.PENDING)
    ),
    "view others' pending claim": lambda u, m: permissions.can_view_claim(
        u, _claim(m, status=Claim.Status.PENDING)
    ),
    "view own pending claim": lambda u, m: permissions.can_view_claim(
        u, _claim(m, author_id=u.pk, status=Claim.Status.PENDING)
    ),
    "comment": lambda u, m: permissions.can_comment(u, _claim(m)),
    "change own comment": lambda u, m: permissions.can_change_comment(u, _own_comment(m, u)),
    "change own pending comment": lambda u, m: permissions.can_change_comment(
        u, _own_comment(m, u, status=Comment.Status.PENDING)
    ),
    "moderate": lambda u, m: permissions.can_moderate(u, m),
    "manage map": lambda u, m: permissions.can_manage_map(u, m),
    "transfer map": lambda u, m: permissions.can_transfer_map(u, m),
}


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("question", QUESTIONS)
def test_permission_answers(kind, question):
    users = _users()
    argument_map = _map(users, **KINDS[kind])
    ask = QUESTIONS[question]
    allowed = {actor for actor in ACTORS if ask(users[actor], argument_map)}
    expected = EXPECTED[kind][question]
    assert allowed == expected, (
        f"{question} on a {kind} map: unexpectedly allowed {sorted(allowed - expected)}, "
        f"unexpectedly refused {sorted(expected - allowed)}"
    )


MEMBER_ROLE_ORDER = [None, "viewer", "suggester", "writer", "editor", "moderator"]
# The rest: owner, staff, muted (a writer), other-map and non-member (the default role).
EXPECTED_ROLES = {
    "public-post": [*MEMBER_ROLE_ORDER, "owner", "owner", "writer", "writer", "writer"],
    "public-pre": [*MEMBER_ROLE_ORDER, "owner", "owner", "writer", "suggester", "suggester"],
    "private": [*MEMBER_ROLE_ORDER, "owner", "owner", "writer", None, None],
}


@pytest.mark.parametrize("kind", EXPECTED_ROLES)
def test_effective_roles(kind):
    users = _users()
    argument_map = _map(users, **KINDS[kind])
    roles = [permissions.role_of(users[actor], argument_map) for actor in ACTORS]
    assert roles == EXPECTED_ROLES[kind]


@pytest.mark.parametrize(
    "default_role,expected",
    [
        (ArgumentMap.DefaultRole.AUTO, Role.WRITER),
        (ArgumentMap.DefaultRole.NONE, None),
        (ArgumentMap.DefaultRole.VIEWER, Role.VIEWER),
        (ArgumentMap.DefaultRole.SUGGESTER, Role.SUGGESTER),
        (ArgumentMap.DefaultRole.WRITER, Role.WRITER),
    ],
)
def test_default_role_is_what_signed_in_non_members_get(default_role, expected):
    users = _users()
    argument_map = _map(users, default_role=default_role)
    assert permissions.role_of(users["non-member"], argument_map) == expected
    # Members keep their own role whatever the default.
    assert permissions.role_of(users["viewer"], argument_map) == Role.VIEWER


def test_default_role_none_leaves_non_members_reading_only():
    users = _users()
    argument_map = _map(users, default_role=ArgumentMap.DefaultRole.NONE)
    stranger = users["non-member"]
    assert permissions.can_view_map(stranger, argument_map)
    assert not permissions.can_add_claim(stranger, argument_map)
    assert not permissions.can_vote(stranger, argument_map)


def test_an_expired_mute_no_longer_silences():
    users = _users()
    argument_map = _map(users)
    argument_map.__dict__[permissions._CACHE_ATTR][users["muted"].pk].muted_until = (
        timezone.now() - timedelta(minutes=1)
    )
    assert not permissions.is_muted(users["muted"], argument_map)
    assert permissions.can_add_claim(users["muted"], argument_map)


def test_a_co_owner_member_manages_but_does_not_transfer():
    users = _users()
    argument_map = _map(users)
    argument_map.__dict__[permissions._CACHE_ATTR][users["editor"].pk].role = Role.OWNER
    assert permissions.can_manage_map(users["editor"], argument_map)
    assert not permissions.can_transfer_map(users["editor"], argument_map)


def test_a_locked_claim_takes_children_and_edits_only_from_moderators():
    users = _users()
    argument_map = _map(users)
    locked = _claim(argument_map, locked=True)
    allowed = {a for a in ACTORS if permissions.can_add_claim(users[a], argument_map, locked)}
    assert allowed == MODERATORS
    allowed = {a for a in ACTORS if permissions.can_change_claim(users[a], locked)}
    assert allowed == MODERATORS
