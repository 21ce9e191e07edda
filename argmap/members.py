"""A map's settings, its members and their roles, and transfer of ownership.

Every change here is written to the map's moderation log (``ModerationAction``) and the member
concerned is notified. The map's owner is ``ArgumentMap.owner``: nobody demotes or removes them
through the member services, and the owner role is handed over only by ``map_transfer``.
"""

from __future__ import annotations

from django.contrib.auth import get_user_model
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction

from argmap import audit, permissions
from argmap.models import ArgumentMap, Membership, ModerationAction, Notification, Role

Action = ModerationAction.Action

NOT_ALLOWED = "Only the map's owner (or site staff) may manage its settings and members."
TRANSFER_NOT_ALLOWED = "Only the map's owner (or site staff) may transfer the map."
TITLE_REQUIRED = "A map needs a title."
TITLE_TOO_LONG = "A title can be at most {limit} characters long (this one has {length})."
CHOICE_INVALID = "Choose one of the offered options."
FLAG_THRESHOLD_INVALID = "The flag threshold is a whole number from {low} to {high}."
USERNAME_REQUIRED = "Type the username of the person to add."
USER_UNKNOWN = "There is no user called {username!r}."
USER_INACTIVE = "{username!r} has a deactivated account."
ALREADY_MEMBER = "{username} is already a member of this map (as {role}); change their role below."
ALREADY_OWNER = "{username} owns this map already."
ROLE_NOT_ASSIGNABLE = (
    "Choose a role from viewer to moderator; ownership is handed over by transfer."
)
OWNER_UNTOUCHABLE = "The map's owner keeps their role; hand the map over by transfer first."
MEMBER_OTHER_MAP = "That membership belongs to another map."
TRANSFER_TO_SELF = "{username} owns this map already: choose someone else."

TITLE_MAX_LENGTH = ArgumentMap._meta.get_field("title").max_length
FLAG_THRESHOLD_MIN = 1
FLAG_THRESHOLD_MAX = 1000
# Roles a member form may give; "owner" only comes with the map, by transfer.
ASSIGNABLE_ROLES = [role for role in Role if role != Role.OWNER]

SETTINGS_FIELDS = (
    "title",
    "description",
    "visibility",
    "moderation_policy",
    "default_role",
    "flag_threshold",
)


def _require_manager(by, argument_map: ArgumentMap) -> None:
    if not permissions.can_manage_map(by, argument_map):
        raise PermissionDenied(NOT_ALLOWED)


def find_user(username: str, *, field: str):
    """The active user with this username (case-insensitive as a fallback), or a field error."""
    username = (username or "").strip()
    if not username:
        raise ValidationError({field: USERNAME_REQUIRED})
    users = get_user_model()._default_manager
    name_field = get_user_model().USERNAME_FIELD
    user = users.filter(**{name_field: username}).first()
    if user is None:
        matches = list(users.filter(**{f"{name_field}__iexact": username})[:2])
        user = matches[0] if len(matches) == 1 else None
    if user is None:
        raise ValidationError({field: USER_UNKNOWN.format(username=username)})
    if not user.is_active:
        raise ValidationError({field: USER_INACTIVE.format(username=username)})
    return user


def _check_role(role: str) -> str:
    if role not in {r.value for r in ASSIGNABLE_ROLES}:
        raise ValidationError({"role": ROLE_NOT_ASSIGNABLE})
    return role


def _role_label(role: str) -> str:
    return Role(role).label if role in Role.values else role


def _check_member(membership: Membership, argument_map: ArgumentMap) -> None:
    if membership.map_id != argument_map.pk:
        raise ValidationError(MEMBER_OTHER_MAP)
    if membership.user_id == argument_map.owner_id:
        raise ValidationError(OWNER_UNTOUCHABLE)


@transaction.atomic
def map_update_settings(
    *,
    argument_map: ArgumentMap,
    by,
    title: str,
    description: str,
    visibility: str,
    moderation_policy: str,
    default_role: str,
    flag_threshold: int,
) -> ArgumentMap:
    """Change a map's title, description, visibility, moderation policy, default role and flag
    threshold; the change is logged with each field's old and new value."""
    from argmap import services

    _require_manager(by, argument_map)
    errors: dict[str, str] = {}
    title = " ".join((title or "").split())
    if not title:
        errors["title"] = TITLE_REQUIRED
    elif len(title) > TITLE_MAX_LENGTH:
        errors["title"] = TITLE_TOO_LONG.format(limit=TITLE_MAX_LENGTH, length=len(title))
    for name, value, choices in (
        ("visibility", visibility, ArgumentMap.Visibility.values),
        ("moderation_policy", moderation_policy, ArgumentMap.ModerationPolicy.values),
        ("default_role", default_role, ArgumentMap.DefaultRole.values),
    ):
        if value not in choices:
            errors[name] = CHOICE_INVALID
    if (
        not isinstance(flag_threshold, int)
        or isinstance(flag_threshold, bool)
        or not FLAG_THRESHOLD_MIN <= flag_threshold <= FLAG_THRESHOLD_MAX
    ):
        errors["flag_threshold"] = FLAG_THRESHOLD_INVALID.format(
            low=FLAG_THRESHOLD_MIN, high=FLAG_THRESHOLD_MAX
        )
    if errors:
        raise ValidationError(errors)
    version = services._lock_map_and_tick(argument_map.pk)
    current = ArgumentMap.objects.get(pk=argument_map.pk)
    new = {
        "title": title,
        "description": (description or "").strip(),
        "visibility": visibility,
        "moderation_policy": moderation_policy,
        "default_role": default_role,
        "flag_threshold": flag_threshold,
    }
    changed = {
        name: [getattr(current, name), value]
        for name, value in new.items()
        if getattr(current, name) != value
    }
    for name, value in new.items():
        setattr(current, name, value)
    current.version = version
    current._history_user = by
    current._change_reason = "Settings changed"
    current.save()
    if changed:
        audit.log_action(
            argument_map=current,
            action=Action.SETTINGS,
            actor=by,
            detail={"changed": changed},
        )
    # The caller's object follows, so a re-rendered page shows what was saved.
    for name in (*SETTINGS_FIELDS, "version"):
        setattr(argument_map, name, getattr(current, name))
    permissions.forget_memberships(argument_map)
    return argument_map


@transaction.atomic
def member_add(*, argument_map: ArgumentMap, by, username: str, role: str) -> Membership:
    """Make a user a member of the map with a role (viewer to moderator)."""
    _require_manager(by, argument_map)
    user = find_user(username, field="username")
    _check_role(role)
    if user.pk == argument_map.owner_id:
        raise ValidationError({"username": ALREADY_OWNER.format(username=user.get_username())})
    existing = Membership.objects.filter(map=argument_map, user=user).first()
    if existing is not None:
        raise ValidationError(
            {
                "username": ALREADY_MEMBER.format(
                    username=user.get_username(), role=_role_label(existing.role)
                )
            }
        )
    membership = Membership(map=argument_map, user=user, role=role)
    membership._history_user = by
    membership._change_reason = "Member added"
    membership.save()
    audit.log_action(
        argument_map=argument_map,
        action=Action.MEMBER_ADD,
        actor=by,
        subject=user,
        detail={"role": role},
    )
    audit.notify(
        recipient=user,
        kind=Notification.Kind.ROLE,
        argument_map=argument_map,
        actor=by,
        message=f"You were added to “{argument_map.title}” as {_role_label(role).lower()}.",
    )
    permissions.forget_memberships(argument_map)
    return membership


@transaction.atomic
def member_set_role(
    *, argument_map: ArgumentMap, by, membership: Membership, role: str
) -> Membership:
    """Change a member's role (viewer to moderator); the owner's role cannot change here."""
    _require_manager(by, argument_map)
    _check_member(membership, argument_map)
    _check_role(role)
    membership = (
        Membership.objects.select_for_update(of=("self",))
        .select_related("user")
        .get(pk=membership.pk)
    )
    old = membership.role
    if old == role:
        return membership
    membership.role = role
    membership._history_user = by
    membership._change_reason = "Role changed"
    membership.save()
    audit.log_action(
        argument_map=argument_map,
        action=Action.ROLE_CHANGE,
        actor=by,
        subject=membership.user,
        detail={"from": old, "to": role},
    )
    audit.notify(
        recipient=membership.user,
        kind=Notification.Kind.ROLE,
        argument_map=argument_map,
        actor=by,
        message=(
            f"Your role in “{argument_map.title}” changed from {_role_label(old).lower()} "
            f"to {_role_label(role).lower()}."
        ),
    )
    permissions.forget_memberships(argument_map)
    return membership


@transaction.atomic
def member_remove(*, argument_map: ArgumentMap, by, membership: Membership) -> None:
    """Remove a member from the map; they keep only the map's default role (none if private)."""
    _require_manager(by, argument_map)
    _check_member(membership, argument_map)
    user = membership.user
    old = membership.role
    membership._history_user = by
    membership._change_reason = "Member removed"
    membership.delete()
    audit.log_action(
        argument_map=argument_map,
        action=Action.MEMBER_REMOVE,
        actor=by,
        subject=user,
        detail={"role": old},
    )
    audit.notify(
        recipient=user,
        kind=Notification.Kind.ROLE,
        argument_map=argument_map,
        actor=by,
        message=f"You are no longer a member of “{argument_map.title}”.",
    )
    permissions.forget_memberships(argument_map)


@transaction.atomic
def map_transfer(*, argument_map: ArgumentMap, by, to_username: str) -> ArgumentMap:
    """Hand the map to another user: they become its owner, the old owner a moderator member."""
    if not permissions.can_transfer_map(by, argument_map):
        raise PermissionDenied(TRANSFER_NOT_ALLOWED)
    new_owner = find_user(to_username, field="username")
    current = (
        ArgumentMap.objects.select_for_update(of=("self",))
        .select_related("owner")
        .get(pk=argument_map.pk)
    )
    old_owner = current.owner
    if old_owner is not None and old_owner.pk == new_owner.pk:
        raise ValidationError(
            {"username": TRANSFER_TO_SELF.format(username=new_owner.get_username())}
        )
    current.owner = new_owner
    current._history_user = by
    current._change_reason = "Ownership transferred"
    current.save()
    # The owner's rights come with the map; a membership of their own would only shadow them.
    for shadow in Membership.objects.filter(map=current, user=new_owner):
        shadow._history_user = by
        shadow._change_reason = "Became the owner"
        shadow.delete()
    if old_owner is not None:
        kept = Membership.objects.filter(map=current, user=old_owner).first() or Membership(
            map=current, user=old_owner
        )
        kept.role = Role.MODERATOR
        kept._history_user = by
        kept._change_reason = "Handed the map over"
        kept.save()
    audit.log_action(
        argument_map=current,
        action=Action.TRANSFER,
        actor=by,
        subject=new_owner,
        detail={
            "from": old_owner.get_username() if old_owner is not None else None,
            "to": new_owner.get_username(),
        },
    )
    audit.notify(
        recipient=new_owner,
        kind=Notification.Kind.ROLE,
        argument_map=current,
        actor=by,
        message=f"You now own “{current.title}”.",
    )
    if old_owner is not None:
        audit.notify(
            recipient=old_owner,
            kind=Notification.Kind.ROLE,
            argument_map=current,
            actor=by,
            message=(
                f"“{current.title}” now belongs to {new_owner.get_username()}; "
                "you stay on as a moderator."
            ),
        )
    argument_map.owner = new_owner
    permissions.forget_memberships(argument_map)
    return argument_map
