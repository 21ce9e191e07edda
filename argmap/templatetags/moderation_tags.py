"""Template questions for moderation: what this reader may do in a map, asked of permissions.py."""

from __future__ import annotations

from django import template

from argmap import moderation, permissions
from argmap.models import ArgumentMap, Claim

register = template.Library()


@register.simple_tag(takes_context=True)
def map_rights(context, argument_map: ArgumentMap, claim: Claim | None = None) -> dict:
    """What the current user may do here (under ``claim`` if given), for templates and live.js."""
    user = context["request"].user
    can_moderate = permissions.can_moderate(user, argument_map)
    return {
        "can_add": permissions.can_add_claim(user, argument_map, claim),
        "can_write": permissions.can_add_claim(user, argument_map),
        "can_flag": permissions.can_flag(user, argument_map),
        "can_moderate": can_moderate,
        "muted": permissions.is_muted(user, argument_map),
        "membership": permissions.membership(user, argument_map),
        "open_count": moderation.open_item_count(argument_map) if can_moderate else 0,
    }
