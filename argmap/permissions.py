"""Who may do what. Every view asks this module; nothing else decides.

Roles per map arrive with the moderation work; for now a map is readable by anyone unless it is
private, and a private map only by its owner and site staff.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.db.models import Q

if TYPE_CHECKING:
    from argmap.models import ArgumentMap, ArgumentMapQuerySet


def viewable_maps(maps: ArgumentMapQuerySet, user) -> ArgumentMapQuerySet:
    """Restrict ``maps`` to those ``user`` may open (unlisted maps open by their address)."""
    from argmap.models import ArgumentMap

    if user.is_authenticated and user.is_staff:
        return maps
    readable = ~Q(visibility=ArgumentMap.Visibility.PRIVATE)
    if user.is_authenticated:
        readable |= Q(owner=user)
    return maps.filter(readable)


def can_view_map(user, argument_map: ArgumentMap) -> bool:
    if argument_map.visibility != argument_map.Visibility.PRIVATE:
        return True
    return user.is_authenticated and (user.is_staff or argument_map.owner_id == user.pk)


# -- writing (for now every signed-in user may write; per-map roles arrive with moderation) --


def can_add_claim(user, argument_map: ArgumentMap) -> bool:
    return (
        user.is_authenticated
        and can_view_map(user, argument_map)
        and argument_map.status == argument_map.Status.OPEN
    )


def can_change_claim(user, claim) -> bool:
    """Edit, move, reorder, archive, restore and revert: the claim's author, or site staff."""
    if not can_add_claim(user, claim.map):
        return False
    return user.is_staff or (claim.author_id is not None and claim.author_id == user.pk)


def can_view_claim(user, claim) -> bool:
    """Published claims are read by whoever reads the map; others only by who may change them."""
    if not can_view_map(user, claim.map):
        return False
    return claim.status == claim.Status.PUBLISHED or can_change_claim(user, claim)
