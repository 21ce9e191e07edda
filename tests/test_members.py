"""Map settings, members and transfer of ownership: the services in argmap/members.py and the
owner's pages in argmap/views/map_settings.py."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils import timezone
from django.utils.html import escape

from argmap import members
from argmap.models import ArgumentMap, Membership, ModerationAction, Notification, Role
from argmap.views import map_settings as views
from tests.conftest import add_member, response_text, signed_in_client

Action = ModerationAction.Action
HTMX = {"HX-Request": "true"}


@pytest.fixture
def the_map(make_map) -> ArgumentMap:
    return make_map(slug="roles", title="Roles map")


@pytest.fixture
def private_map(make_map) -> ArgumentMap:
    return make_map(slug="hidden", visibility=ArgumentMap.Visibility.PRIVATE)


def _settings(argument_map: ArgumentMap, **changes) -> dict[str, object]:
    values = {name: getattr(argument_map, name) for name in members.SETTINGS_FIELDS}
    values.update(changes)
    return values


def _log(argument_map: ArgumentMap, action: str) -> list[ModerationAction]:
    return list(ModerationAction.objects.in_map(argument_map).filter(action=action))


def _messages(error: ValidationError) -> dict[str, list[str]]:
    return error.message_dict


# --- services: settings --------------------------------------------------------------------------


def test_settings_change_ticks_the_clock_and_logs_each_changed_field(the_map, owner):
    before = the_map.version
    members.map_update_settings(
        argument_map=the_map,
        by=owner,
        **_settings(
            the_map,
            title="  A   new title ",
            visibility=ArgumentMap.Visibility.PRIVATE,
            moderation_policy=ArgumentMap.ModerationPolicy.PRE,
            flag_threshold=5,
        ),
    )
    the_map.refresh_from_db()
    assert the_map.title == "A new title"
    assert the_map.visibility == "private"
    assert the_map.moderation_policy == "pre"
    assert the_map.flag_threshold == 5
    assert the_map.version == before + 1
    [entry] = _log(the_map, Action.SETTINGS)
    assert entry.actor == owner
    assert entry.detail["changed"]["title"] == ["Roles map", "A new title"]
    assert entry.detail["changed"]["visibility"] == ["public", "private"]
    assert "description" not in entry.detail["changed"]


def test_settings_without_a_change_log_nothing(the_map, owner):
    members.map_update_settings(argument_map=the_map, by=owner, **_settings(the_map))
    assert _log(the_map, Action.SETTINGS) == []


def test_settings_refuse_bad_values_field_by_field(the_map, owner):
    with pytest.raises(ValidationError) as caught:
        members.map_update_settings(
            argument_map=the_map,
            by=owner,
            **_settings(
                the_map,
                title="   ",
                visibility="secret",
                moderation_policy="none",
                default_role="owner",
                flag_threshold=0,
            ),
        )
    errors = _messages(caught.value)
    assert errors["title"] == [members.TITLE_REQUIRED]
    assert errors["visibility"] == [members.CHOICE_INVALID]
    assert errors["moderation_policy"] == [members.CHOICE_INVALID]
    assert errors["default_role"] == [members.CHOICE_INVALID]
    assert "flag_threshold" in errors
    the_map.refresh_from_db()
    assert the_map.title == "Roles map"


@pytest.mark.parametrize("who", ["moderator", "writer", "stranger"])
def test_only_the_owner_or_staff_change_settings(request, the_map, moderator, writer, who):
    add_member(the_map, moderator, Role.MODERATOR)
    add_member(the_map, writer, Role.WRITER)
    with pytest.raises(PermissionDenied):
        members.map_update_settings(
            argument_map=the_map, by=request.getfixturevalue(who), **_settings(the_map, title="X")
        )


def test_staff_change_settings_of_any_map(the_map, staff):
    members.map_update_settings(argument_map=the_map, by=staff, **_settings(the_map, title="X"))
    the_map.refresh_from_db()
    assert the_map.title == "X"


# --- services: members ---------------------------------------------------------------------------


def test_adding_a_member_logs_and_notifies_them(the_map, owner, writer):
    membership = members.member_add(
        argument_map=the_map, by=owner, username=writer.username, role=Role.EDITOR
    )
    assert membership.role == Role.EDITOR
    [entry] = _log(the_map, Action.MEMBER_ADD)
    assert (entry.actor, entry.subject, entry.detail) == (owner, writer, {"role": "editor"})
    [note] = Notification.objects.filter(recipient=writer)
    assert note.kind == Notification.Kind.ROLE
    assert "editor" in note.message


def test_adding_finds_a_username_regardless_of_case(the_map, owner, writer):
    membership = members.member_add(
        argument_map=the_map, by=owner, username=writer.username.upper(), role=Role.VIEWER
    )
    assert membership.user == writer


def test_adding_an_unknown_username_says_so(the_map, owner):
    with pytest.raises(ValidationError) as caught:
        members.member_add(argument_map=the_map, by=owner, username="nobody-here", role="writer")
    assert _messages(caught.value)["username"] == [
        members.USER_UNKNOWN.format(username="nobody-here")
    ]


def test_adding_a_member_twice_says_they_are_a_member(the_map, owner, writer):
    add_member(the_map, writer, Role.VIEWER)
    with pytest.raises(ValidationError) as caught:
        members.member_add(argument_map=the_map, by=owner, username=writer.username, role="editor")
    assert _messages(caught.value)["username"] == [
        members.ALREADY_MEMBER.format(username=writer.username, role="Viewer")
    ]
    assert Membership.objects.get(map=the_map, user=writer).role == Role.VIEWER


def test_the_owner_role_is_not_given_by_adding(the_map, owner, writer):
    with pytest.raises(ValidationError) as caught:
        members.member_add(argument_map=the_map, by=owner, username=writer.username, role="owner")
    assert _messages(caught.value)["role"] == [members.ROLE_NOT_ASSIGNABLE]
    assert not Membership.objects.filter(map=the_map).exists()


def test_the_owner_cannot_be_added_as_a_member(the_map, owner):
    with pytest.raises(ValidationError) as caught:
        members.member_add(argument_map=the_map, by=owner, username=owner.username, role="viewer")
    assert _messages(caught.value)["username"] == [
        members.ALREADY_OWNER.format(username=owner.username)
    ]


def test_a_moderator_cannot_manage_members(the_map, moderator, writer):
    add_member(the_map, moderator, Role.MODERATOR)
    with pytest.raises(PermissionDenied):
        members.member_add(
            argument_map=the_map, by=moderator, username=writer.username, role="viewer"
        )


def test_changing_a_role_logs_from_and_to_and_notifies(the_map, owner, writer):
    membership = add_member(the_map, writer, Role.WRITER)
    members.member_set_role(
        argument_map=the_map, by=owner, membership=membership, role=Role.MODERATOR
    )
    assert Membership.objects.get(pk=membership.pk).role == Role.MODERATOR
    [entry] = _log(the_map, Action.ROLE_CHANGE)
    assert entry.subject == writer
    assert entry.detail == {"from": "writer", "to": "moderator"}
    assert Notification.objects.filter(recipient=writer, kind=Notification.Kind.ROLE).count() == 1


def test_setting_the_same_role_changes_and_logs_nothing(the_map, owner, writer):
    membership = add_member(the_map, writer, Role.WRITER)
    members.member_set_role(argument_map=the_map, by=owner, membership=membership, role="writer")
    assert _log(the_map, Action.ROLE_CHANGE) == []


def test_nobody_demotes_or_removes_the_owner_through_member_forms(the_map, owner, staff):
    own = add_member(the_map, owner, Role.WRITER)  # a stray row: the owner is map.owner
    with pytest.raises(ValidationError, match=members.OWNER_UNTOUCHABLE):
        members.member_set_role(argument_map=the_map, by=staff, membership=own, role="viewer")
    with pytest.raises(ValidationError, match=members.OWNER_UNTOUCHABLE):
        members.member_remove(argument_map=the_map, by=staff, membership=own)
    assert Membership.objects.filter(pk=own.pk).exists()


def test_the_owner_role_is_not_given_by_a_role_change(the_map, owner, writer):
    membership = add_member(the_map, writer, Role.WRITER)
    with pytest.raises(ValidationError):
        members.member_set_role(argument_map=the_map, by=owner, membership=membership, role="owner")
    assert Membership.objects.get(pk=membership.pk).role == Role.WRITER


def test_a_membership_of_another_map_is_refused(the_map, make_map, owner, writer):
    other = make_map(slug="other")
    membership = add_member(other, writer, Role.WRITER)
    with pytest.raises(ValidationError, match=members.MEMBER_OTHER_MAP):
        members.member_remove(argument_map=the_map, by=owner, membership=membership)


def test_removing_a_member_logs_and_notifies(the_map, owner, writer):
    membership = add_member(the_map, writer, Role.EDITOR)
    members.member_remove(argument_map=the_map, by=owner, membership=membership)
    assert not Membership.objects.filter(map=the_map, user=writer).exists()
    [entry] = _log(the_map, Action.MEMBER_REMOVE)
    assert (entry.subject, entry.detail) == (writer, {"role": "editor"})
    assert Notification.objects.filter(recipient=writer, kind=Notification.Kind.ROLE).count() == 1


# --- services: transfer --------------------------------------------------------------------------


def test_transfer_makes_the_new_owner_owner_and_the_old_one_a_moderator(the_map, owner, writer):
    add_member(the_map, writer, Role.WRITER)
    members.map_transfer(argument_map=the_map, by=owner, to_username=writer.username)
    the_map.refresh_from_db()
    assert the_map.owner == writer
    assert Membership.objects.get(map=the_map, user=owner).role == Role.MODERATOR
    # The new owner's old membership would only shadow the owner's rights.
    assert not Membership.objects.filter(map=the_map, user=writer).exists()
    [entry] = _log(the_map, Action.TRANSFER)
    assert entry.subject == writer
    assert entry.detail == {"from": owner.username, "to": writer.username}
    assert Notification.objects.filter(recipient=writer, kind=Notification.Kind.ROLE).exists()
    # The old owner can no longer manage the map; the new one can.
    with pytest.raises(PermissionDenied):
        members.member_add(argument_map=the_map, by=owner, username="x", role="viewer")


@pytest.mark.parametrize("role", [Role.MODERATOR, Role.OWNER])
def test_members_cannot_transfer_a_map_not_theirs(the_map, writer, stranger, role):
    add_member(the_map, writer, role)
    with pytest.raises(PermissionDenied):
        members.map_transfer(argument_map=the_map, by=writer, to_username=stranger.username)
    the_map.refresh_from_db()
    assert the_map.owner.username == "olivia-owner"


def test_staff_may_transfer_and_the_owner_is_told(the_map, owner, staff, writer):
    members.map_transfer(argument_map=the_map, by=staff, to_username=writer.username)
    the_map.refresh_from_db()
    assert the_map.owner == writer
    assert Notification.objects.filter(recipient=owner, kind=Notification.Kind.ROLE).exists()


def test_transfer_to_the_owner_or_an_unknown_user_is_refused(the_map, owner):
    with pytest.raises(ValidationError) as caught:
        members.map_transfer(argument_map=the_map, by=owner, to_username=owner.username)
    assert _messages(caught.value)["username"] == [
        members.TRANSFER_TO_SELF.format(username=owner.username)
    ]
    with pytest.raises(ValidationError, match="no user"):
        members.map_transfer(argument_map=the_map, by=owner, to_username="ghost")
    assert _log(the_map, Action.TRANSFER) == []


def test_every_role_change_is_logged(the_map, owner, writer, viewer, staff):
    membership = members.member_add(
        argument_map=the_map, by=owner, username=writer.username, role="writer"
    )
    members.member_set_role(argument_map=the_map, by=owner, membership=membership, role="editor")
    members.member_add(argument_map=the_map, by=owner, username=viewer.username, role="viewer")
    members.member_remove(
        argument_map=the_map, by=owner, membership=Membership.objects.get(user=viewer)
    )
    members.map_transfer(argument_map=the_map, by=owner, to_username=writer.username)
    actions = list(
        ModerationAction.objects.in_map(the_map).order_by("pk").values_list("action", flat=True)
    )
    assert actions == [
        Action.MEMBER_ADD,
        Action.ROLE_CHANGE,
        Action.MEMBER_ADD,
        Action.MEMBER_REMOVE,
        Action.TRANSFER,
    ]


# --- views: settings -----------------------------------------------------------------------------


def test_settings_page_asks_anonymous_visitors_to_log_in(client, the_map):
    response = client.get("/maps/roles/settings/")
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/")


def test_settings_page_is_forbidden_to_moderators_and_404_on_private_maps(
    the_map, private_map, moderator, stranger
):
    add_member(the_map, moderator, Role.MODERATOR)
    assert signed_in_client(moderator).get("/maps/roles/settings/").status_code == 403
    assert signed_in_client(stranger).get("/maps/roles/settings/").status_code == 403
    assert signed_in_client(stranger).get("/maps/hidden/settings/").status_code == 404
    assert signed_in_client(stranger).get("/maps/hidden/settings/members/").status_code == 404
    assert signed_in_client(stranger).get("/maps/hidden/settings/transfer/").status_code == 404


@pytest.mark.parametrize("path", ["", "members/", "transfer/"])
def test_settings_pages_refuse_other_methods(the_map, owner, path):
    assert signed_in_client(owner).put(f"/maps/roles/settings/{path}").status_code == 405


def test_settings_page_shows_the_form_with_current_values(the_map, owner):
    response = signed_in_client(owner).get("/maps/roles/settings/")
    text = response_text(response)
    assert response.status_code == 200
    assert 'value="Roles map"' in text
    assert 'name="visibility" value="public"' in text
    assert "<html" in text


def test_settings_post_redirects_and_saves(the_map, owner):
    client = signed_in_client(owner)
    data = _settings(the_map, title="Renamed", moderation_policy="pre")
    response = client.post("/maps/roles/settings/", data)
    assert response.status_code == 302
    assert response["Location"] == "/maps/roles/settings/"
    the_map.refresh_from_db()
    assert (the_map.title, the_map.moderation_policy) == ("Renamed", "pre")
    assert views.SETTINGS_SAVED in response_text(client.get(response["Location"]))


def test_settings_htmx_post_answers_with_the_form_fragment(the_map, owner):
    response = signed_in_client(owner).post(
        "/maps/roles/settings/", _settings(the_map, title="Renamed"), headers=HTMX
    )
    text = response_text(response)
    assert response.status_code == 200
    assert "<html" not in text
    assert 'id="settings-form"' in text
    assert "Settings saved." in text
    assert 'value="Renamed"' in text


@pytest.mark.parametrize("headers,status", [({}, 200), (HTMX, 422)])
def test_invalid_settings_keep_what_was_typed_and_show_errors(the_map, owner, headers, status):
    data = _settings(the_map, title=" ", description="My typed description", flag_threshold="lots")
    response = signed_in_client(owner).post("/maps/roles/settings/", data, headers=headers)
    text = response_text(response)
    assert response.status_code == status
    assert "My typed description" in text
    assert members.TITLE_REQUIRED in text
    assert 'value="lots"' in text
    the_map.refresh_from_db()
    assert the_map.description == ""


def test_map_page_links_settings_only_for_those_who_manage_it(the_map, owner, writer, staff):
    add_member(the_map, writer, Role.MODERATOR)
    link = 'href="/maps/roles/settings/"'
    assert link in response_text(signed_in_client(owner).get("/maps/roles/"))
    assert link in response_text(signed_in_client(staff).get("/maps/roles/"))
    assert link not in response_text(signed_in_client(writer).get("/maps/roles/"))
    assert link not in response_text(signed_in_client(None).get("/maps/roles/"))


# --- views: members ------------------------------------------------------------------------------


def test_members_page_lists_members_with_roles_and_mute_state(the_map, owner, writer, viewer):
    add_member(the_map, writer, Role.EDITOR)
    add_member(
        the_map,
        viewer,
        Role.VIEWER,
        muted_until=timezone.now() + timedelta(days=1),
        mute_reason="Cooling off",
    )
    text = response_text(signed_in_client(owner).get("/maps/roles/settings/members/"))
    assert writer.username in text and viewer.username in text
    assert '<option value="editor" selected>' in text
    assert "Muted until" in text and "Cooling off" in text
    assert text.count("Muted until") == 1


def test_adding_a_member_by_plain_post_redirects(the_map, owner, writer):
    client = signed_in_client(owner)
    response = client.post(
        "/maps/roles/settings/members/",
        {"action": "add", "username": writer.username, "role": "editor"},
    )
    assert response.status_code == 302
    assert Membership.objects.get(map=the_map, user=writer).role == Role.EDITOR
    page = response_text(client.get(response["Location"]))
    assert views.MEMBER_ADDED.format(username=writer.username, role="editor") in page


def test_adding_a_member_by_htmx_answers_the_members_fragment(the_map, owner, writer):
    response = signed_in_client(owner).post(
        "/maps/roles/settings/members/",
        {"action": "add", "username": writer.username, "role": "viewer"},
        headers=HTMX,
    )
    text = response_text(response)
    assert response.status_code == 200
    assert "<html" not in text
    assert text.lstrip().startswith('<section class="members" id="members"')
    assert writer.username in text
    assert views.MEMBER_ADDED.format(username=writer.username, role="viewer") in text


@pytest.mark.parametrize("headers,status", [({}, 200), (HTMX, 422)])
def test_adding_an_unknown_user_keeps_the_typed_name(the_map, owner, headers, status):
    response = signed_in_client(owner).post(
        "/maps/roles/settings/members/",
        {"action": "add", "username": "no-such-person", "role": "moderator"},
        headers=headers,
    )
    text = response_text(response)
    assert response.status_code == status
    assert 'value="no-such-person"' in text
    assert '<option value="moderator" selected>' in text
    assert "There is no user called &#x27;no-such-person&#x27;." in text


def test_adding_an_existing_member_shows_a_clear_message(the_map, owner, writer):
    add_member(the_map, writer, Role.WRITER)
    response = signed_in_client(owner).post(
        "/maps/roles/settings/members/",
        {"action": "add", "username": writer.username, "role": "editor"},
    )
    assert f"{writer.username} is already a member of this map (as Writer)" in response_text(
        response
    )


def test_changing_a_role_by_htmx_updates_the_list_in_place(the_map, owner, writer):
    membership = add_member(the_map, writer, Role.WRITER)
    response = signed_in_client(owner).post(
        "/maps/roles/settings/members/",
        {"action": "role", "member": membership.pk, "role": "moderator"},
        headers=HTMX,
    )
    text = response_text(response)
    assert response.status_code == 200
    assert '<option value="moderator" selected>' in text
    assert Membership.objects.get(pk=membership.pk).role == Role.MODERATOR
    assert len(_log(the_map, Action.ROLE_CHANGE)) == 1


def test_removing_a_member_by_plain_post_redirects(the_map, owner, writer):
    membership = add_member(the_map, writer, Role.WRITER)
    response = signed_in_client(owner).post(
        "/maps/roles/settings/members/", {"action": "remove", "member": membership.pk}
    )
    assert response.status_code == 302
    assert not Membership.objects.filter(pk=membership.pk).exists()


def test_the_owner_cannot_be_removed_or_demoted_through_the_members_page(the_map, owner, staff):
    stray = add_member(the_map, owner, Role.WRITER)
    client = signed_in_client(staff)
    for data in (
        {"action": "remove", "member": stray.pk},
        {"action": "role", "member": stray.pk, "role": "viewer"},
    ):
        response = client.post("/maps/roles/settings/members/", data, headers=HTMX)
        assert response.status_code == 422
        assert escape(members.OWNER_UNTOUCHABLE) in response_text(response)
    assert Membership.objects.get(pk=stray.pk).role == Role.WRITER
    the_map.refresh_from_db()
    assert the_map.owner == owner


def test_a_bad_member_id_or_action_is_a_clear_error(the_map, owner):
    client = signed_in_client(owner)
    for data, message in (
        ({"action": "remove", "member": "abc"}, views.MEMBER_UNKNOWN),
        ({"action": "remove", "member": "999999"}, views.MEMBER_UNKNOWN),
        ({"action": "explode"}, views.ACTION_UNKNOWN),
    ):
        response = client.post("/maps/roles/settings/members/", data)
        assert response.status_code == 200
        assert message in response_text(response)


def test_members_page_is_forbidden_to_editors(the_map, editor, writer):
    add_member(the_map, editor, Role.EDITOR)
    client = signed_in_client(editor)
    assert client.get("/maps/roles/settings/members/").status_code == 403
    response = client.post(
        "/maps/roles/settings/members/",
        {"action": "add", "username": writer.username, "role": "moderator"},
    )
    assert response.status_code == 403
    assert not Membership.objects.filter(user=writer).exists()


# --- views: transfer -----------------------------------------------------------------------------


def test_transfer_asks_for_confirmation_before_handing_over(the_map, owner, writer):
    client = signed_in_client(owner)
    assert client.get("/maps/roles/settings/transfer/").status_code == 200
    response = client.post("/maps/roles/settings/transfer/", {"username": writer.username})
    text = response_text(response)
    assert response.status_code == 200
    assert f"Hand “Roles map” to {writer.username}?" in text
    assert 'name="confirm" value="yes"' in text
    the_map.refresh_from_db()
    assert the_map.owner == owner  # nothing happened yet

    response = client.post(
        "/maps/roles/settings/transfer/", {"username": writer.username, "confirm": "yes"}
    )
    assert response.status_code == 302
    assert response["Location"] == "/maps/roles/"
    the_map.refresh_from_db()
    assert the_map.owner == writer
    assert Membership.objects.get(map=the_map, user=owner).role == Role.MODERATOR
    # The old owner's settings pages are closed now.
    assert client.get("/maps/roles/settings/").status_code == 403


def test_transfer_by_htmx_redirects_the_whole_page(the_map, owner, writer):
    response = signed_in_client(owner).post(
        "/maps/roles/settings/transfer/",
        {"username": writer.username, "confirm": "yes"},
        headers=HTMX,
    )
    assert response.status_code == 204
    assert response["HX-Redirect"] == "/maps/roles/"


@pytest.mark.parametrize("headers,status", [({}, 200), (HTMX, 422)])
def test_transfer_to_an_unknown_user_keeps_the_typed_name(the_map, owner, headers, status):
    response = signed_in_client(owner).post(
        "/maps/roles/settings/transfer/", {"username": "ghost-user"}, headers=headers
    )
    text = response_text(response)
    assert response.status_code == status
    assert 'value="ghost-user"' in text
    assert "There is no user called" in text


def test_transfer_is_forbidden_to_moderators_and_co_owners(the_map, moderator, writer, editor):
    add_member(the_map, moderator, Role.MODERATOR)
    add_member(the_map, editor, Role.OWNER)
    for user in (moderator, editor):
        client = signed_in_client(user)
        assert client.get("/maps/roles/settings/transfer/").status_code == 403
        response = client.post(
            "/maps/roles/settings/transfer/", {"username": writer.username, "confirm": "yes"}
        )
        assert response.status_code == 403
    the_map.refresh_from_db()
    assert the_map.owner.username == "olivia-owner"
    # A co-owner member still manages settings and members (but not the transfer).
    assert signed_in_client(editor).get("/maps/roles/settings/").status_code == 200


@pytest.mark.parametrize(
    "path,marker",
    [
        ("", 'id="settings-form"'),
        ("members/", '<section class="members" id="members"'),
        ("transfer/", '<div id="transfer">'),
    ],
)
def test_htmx_get_answers_the_fragment_and_plain_get_the_page(the_map, owner, path, marker):
    client = signed_in_client(owner)
    fragment = response_text(client.get(f"/maps/roles/settings/{path}", headers=HTMX))
    page = response_text(client.get(f"/maps/roles/settings/{path}"))
    assert marker in fragment and "<html" not in fragment
    assert marker in page and "<html" in page


def test_an_empty_add_form_says_what_is_missing_once(the_map, owner):
    response = signed_in_client(owner).post(
        "/maps/roles/settings/members/",
        {"action": "add", "username": "", "role": "bogus"},
        headers=HTMX,
    )
    text = response_text(response)
    assert response.status_code == 422
    assert text.count(members.USERNAME_REQUIRED) == 1
    assert text.count("Select a valid choice.") == 1
    assert not Membership.objects.filter(map=the_map).exists()
