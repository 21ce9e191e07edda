"""Who may do what. Every view, service caller and template asks this module; nothing else decides.

Each map gives every user an *effective role*: site staff and the map's owner are owners; a member
has their membership's role; a signed-in non-member has the map's default role (``auto``: writer on
a post-moderated map and suggester on a pre-moderated one), except on a private map, where they have
none and cannot even see it; an anonymous visitor has none. Roles are ordered (viewer < suggester <
writer < editor < moderator < owner) and each has the rights of those below it:

- viewer: read and vote
- suggester: propose claims and comments, which wait for a moderator's approval
- writer: add claims and comments directly; edit, move and archive their own claims
- editor: edit, move and archive any claim
- moderator: the queue, flags and moderator actions (hide, restore, lock, mute)
- owner: the map's settings and members

A muted member may read but not write (no claims, comments, votes or flags) until the mute ends. A
locked map (status ``locked``) is read-only for everyone but its moderators, who may unlock it; a
locked claim takes no new children and no edits except from moderators.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.db.models import Exists, OuterRef, Q
from django.utils import timezone

from argmap.models import ArgumentMap, Claim, Comment, Membership, Role

if TYPE_CHECKING:
    from django.db.models import QuerySet

    from argmap.models import ArgumentMapQuerySet

_CACHE_ATTR = "_argmap_memberships"


def membership(user, argument_map: ArgumentMap) -> Membership | None:
    """The user's membership of the map, looked up once per map object (views reuse the object)."""
    if not user.is_authenticated:
        return None
    cache = argument_map.__dict__.setdefault(_CACHE_ATTR, {})
    if user.pk not in cache:
        cache[user.pk] = Membership.objects.filter(map=argument_map, user=user).first()
    return cache[user.pk]


def forget_memberships(argument_map: ArgumentMap) -> None:
    """Drop the per-object cache after a membership changed."""
    argument_map.__dict__.pop(_CACHE_ATTR, None)


def default_role(argument_map: ArgumentMap) -> str | None:
    """The role a signed-in non-member gets on this map (None: read only, or nothing if private)."""
    if argument_map.visibility == ArgumentMap.Visibility.PRIVATE:
        return None
    chosen = argument_map.default_role
    if chosen == ArgumentMap.DefaultRole.AUTO:
        if argument_map.moderation_policy == ArgumentMap.ModerationPolicy.PRE:
            return Role.SUGGESTER
        return Role.WRITER
    if chosen == ArgumentMap.DefaultRole.NONE:
        return None
    return chosen


def role_of(user, argument_map: ArgumentMap) -> str | None:
    """The user's effective role in the map, or None."""
    if not user.is_authenticated:
        return None
    if user.is_staff or argument_map.owner_id == user.pk:
        return Role.OWNER
    member = membership(user, argument_map)
    if member is not None:
        return member.role
    return default_role(argument_map)


def rank(user, argument_map: ArgumentMap) -> int:
    return Role.rank(role_of(user, argument_map))


def has_role(user, argument_map: ArgumentMap, role: str) -> bool:
    return rank(user, argument_map) >= Role.rank(role)


def is_member(user, argument_map: ArgumentMap) -> bool:
    return membership(user, argument_map) is not None


def is_muted(user, argument_map: ArgumentMap) -> bool:
    """Muted members read but do not write. Owners and site staff are never muted."""
    if not user.is_authenticated or user.is_staff or argument_map.owner_id == user.pk:
        return False
    member = membership(user, argument_map)
    return bool(member and member.muted_until and member.muted_until > timezone.now())


# -- reading -------------------------------------------------------------------------------------


def viewable_maps(maps: ArgumentMapQuerySet, user) -> ArgumentMapQuerySet:
    """Restrict ``maps`` to those ``user`` may open (unlisted maps open by their address)."""
    if user.is_authenticated and user.is_staff:
        return maps
    readable = ~Q(visibility=ArgumentMap.Visibility.PRIVATE)
    if user.is_authenticated:
        readable |= _owned_or_joined(user)
    return maps.filter(readable)


def _owned_or_joined(user) -> Q:
    """A Q on maps matching those ``user`` owns or is a member of."""
    member = Membership.objects.filter(map=OuterRef("pk"), user=user)
    return Q(owner=user) | Q(Exists(member))


def discoverable_maps(maps: ArgumentMapQuerySet, user) -> ArgumentMapQuerySet:
    """Restrict ``maps`` to those that may turn up in ``user``'s site-wide search: public maps and
    the ones they own or belong to (an unlisted map is found only by those who know it)."""
    if user.is_authenticated and user.is_staff:
        return maps
    found = Q(visibility=ArgumentMap.Visibility.PUBLIC)
    if user.is_authenticated:
        found |= _owned_or_joined(user)
    return maps.filter(found)


def can_view_map(user, argument_map: ArgumentMap) -> bool:
    """Private maps exist only for their members, their owner and site staff (others get 404)."""
    if argument_map.visibility != ArgumentMap.Visibility.PRIVATE:
        return True
    if not user.is_authenticated:
        return False
    return user.is_staff or argument_map.owner_id == user.pk or is_member(user, argument_map)


def moderated_maps_q(user, prefix: str = "") -> Q:
    """A Q on the map at ``prefix`` (e.g. ``"map__"``) matching maps ``user`` moderates (the
    queryset counterpart of ``can_moderate``; staff moderate every map)."""
    if not user.is_authenticated:
        return Q(pk__in=[])
    if user.is_staff:
        return Q()
    roles = [Role.MODERATOR, Role.OWNER]
    moderators = Membership.objects.filter(user=user, role__in=roles).values("map_id")
    return Q(**{f"{prefix}owner": user}) | Q(**{f"{prefix}pk__in": moderators})


def searchable_claims(claims: QuerySet[Claim], user) -> QuerySet[Claim]:
    """Restrict ``claims`` to those search may show ``user``: published claims of maps they may
    open, plus pending and hidden ones they wrote or moderate. Archived and merged-away claims
    are never searched (their permalinks still work for those allowed)."""
    maps = viewable_maps(ArgumentMap.objects.all(), user).values("pk")
    claims = claims.filter(map__in=maps, merged_into__isnull=True).exclude(
        status=Claim.Status.ARCHIVED
    )
    if user.is_authenticated and user.is_staff:
        return claims
    allowed = Q(status=Claim.Status.PUBLISHED)
    if user.is_authenticated:
        allowed |= Q(author=user) | moderated_maps_q(user, "map__")
    return claims.filter(allowed)


def searchable_comments(comments: QuerySet[Comment], user) -> QuerySet[Comment]:
    """Restrict ``comments`` to those search may show ``user``: on a claim search may show them,
    visible, or pending/hidden ones they wrote or moderate. Deleted comments are never searched."""
    claims = searchable_claims(Claim.objects.all(), user).values("pk")
    comments = comments.filter(claim__in=claims).exclude(status=Comment.Status.DELETED)
    if user.is_authenticated and user.is_staff:
        return comments
    allowed = Q(status=Comment.Status.VISIBLE)
    if user.is_authenticated:
        allowed |= Q(author=user) | moderated_maps_q(user, "map__")
    return comments.filter(allowed)


def can_moderate(user, argument_map: ArgumentMap) -> bool:
    """The queue, flags, hide/restore, locks and mutes."""
    return can_view_map(user, argument_map) and has_role(user, argument_map, Role.MODERATOR)


def can_manage_map(user, argument_map: ArgumentMap) -> bool:
    """The settings page, members and transfer of ownership."""
    return can_view_map(user, argument_map) and has_role(user, argument_map, Role.OWNER)


def can_transfer_map(user, argument_map: ArgumentMap) -> bool:
    """Hand the map to someone else: its owner and site staff only (not co-owner members)."""
    return user.is_authenticated and (user.is_staff or argument_map.owner_id == user.pk)


def can_view_claim(user, claim: Claim) -> bool:
    """Published claims are read by whoever reads the map; pending and hidden ones by their author
    and the map's moderators; archived ones by whoever may change them."""
    argument_map = claim.map
    if not can_view_map(user, argument_map):
        return False
    if claim.status == Claim.Status.PUBLISHED:
        return True
    if can_moderate(user, argument_map):
        return True
    own = user.is_authenticated and claim.author_id == user.pk
    if claim.status in (Claim.Status.PENDING, Claim.Status.HIDDEN):
        return own
    return can_change_claim(user, claim)


def can_view_comment(user, comment: Comment) -> bool:
    """Visible and deleted (tombstone) comments are read with their claim; pending and hidden ones
    by their author and moderators."""
    if not can_view_claim(user, comment.claim):
        return False
    if comment.status in (Comment.Status.VISIBLE, Comment.Status.DELETED):
        return True
    if can_moderate(user, comment.claim.map):
        return True
    return user.is_authenticated and comment.author_id == user.pk


def can_view_comment_history(user, comment: Comment) -> bool:
    """A comment's earlier versions: whoever may read the comment, except that a deleted one's
    text (hidden behind its tombstone) is for the map's moderators only."""
    if not can_view_comment(user, comment):
        return False
    return comment.status != Comment.Status.DELETED or can_moderate(user, comment.claim.map)


# -- writing -------------------------------------------------------------------------------------


def _may_write(user, argument_map: ArgumentMap) -> bool:
    """Signed in, may see the map, not muted there, and the map is open (moderators may still
    write in a locked map)."""
    if not user.is_authenticated or not can_view_map(user, argument_map):
        return False
    if is_muted(user, argument_map):
        return False
    if argument_map.status == ArgumentMap.Status.ARCHIVED:
        return False
    if argument_map.status == ArgumentMap.Status.LOCKED:
        return has_role(user, argument_map, Role.MODERATOR)
    return True


def can_vote(user, argument_map: ArgumentMap) -> bool:
    return _may_write(user, argument_map) and has_role(user, argument_map, Role.VIEWER)


def can_flag(user, argument_map: ArgumentMap) -> bool:
    """Any signed-in reader who is not muted may report a claim or a comment."""
    return (
        user.is_authenticated
        and can_view_map(user, argument_map)
        and not is_muted(user, argument_map)
    )


def can_add_claim(user, argument_map: ArgumentMap, parent: Claim | None = None) -> bool:
    """Suggesters and above may add (a suggester's claim waits as pending); not under a locked
    claim unless a moderator."""
    if not (_may_write(user, argument_map) and has_role(user, argument_map, Role.SUGGESTER)):
        return False
    if parent is not None and parent.locked:
        return has_role(user, argument_map, Role.MODERATOR)
    return True


def publishes_directly(user, argument_map: ArgumentMap) -> bool:
    """Whether what the user writes is published at once (writer and above) or waits (suggester)."""
    return has_role(user, argument_map, Role.WRITER)


def can_change_claim(user, claim: Claim) -> bool:
    """Edit, move, reorder, archive, restore and revert: editors any claim, writers their own,
    suggesters their own pending suggestion; a locked claim only moderators."""
    argument_map = claim.map
    if not _may_write(user, argument_map):
        return False
    if claim.locked and not has_role(user, argument_map, Role.MODERATOR):
        return False
    if has_role(user, argument_map, Role.EDITOR):
        return True
    own = claim.author_id is not None and claim.author_id == user.pk
    if not own:
        return False
    if has_role(user, argument_map, Role.WRITER):
        return True
    return claim.status == Claim.Status.PENDING and has_role(user, argument_map, Role.SUGGESTER)


def can_comment(user, claim: Claim) -> bool:
    """Suggesters and above comment on a claim they can see (a suggester's comment waits)."""
    argument_map = claim.map
    return (
        _may_write(user, argument_map)
        and has_role(user, argument_map, Role.SUGGESTER)
        and can_view_claim(user, claim)
    )


def can_change_comment(user, comment: Comment) -> bool:
    """Authors edit and delete their own comments while they are visible or pending; those whose
    writing waits for approval (suggesters) only while pending, as with claims, so an approved
    comment cannot be rewritten past the moderators."""
    return (
        comment.author_id is not None
        and comment.author_id == user.pk
        and comment.status in (Comment.Status.VISIBLE, Comment.Status.PENDING)
        and _may_write(user, comment.map)
        and (comment.status == Comment.Status.PENDING or publishes_directly(user, comment.map))
    )


# -- curation ------------------------------------------------------------------------------------


def can_create_map(user) -> bool:
    """Start a new map from an article on the site: site staff (curators)."""
    return user.is_authenticated and user.is_staff


def can_annotate(user, argument_map: ArgumentMap) -> bool:
    """Turn passages of the map's article into claims (the annotate view): site staff and the
    map's owner and editors, while they may write in it."""
    return _may_write(user, argument_map) and has_role(user, argument_map, Role.EDITOR)


# -- import and export ---------------------------------------------------------------------------


def export_statuses(user, argument_map: ArgumentMap) -> frozenset[str] | None:
    """Which claims an export for this user holds: everything (None) for the map's moderators
    and owner; published and archived claims (and their comments) for other readers."""
    if can_moderate(user, argument_map):
        return None
    return frozenset({Claim.Status.PUBLISHED, Claim.Status.ARCHIVED})


def can_import_maps(user) -> bool:
    """Importing a file creates a new map: site staff only."""
    return user.is_authenticated and user.is_staff
