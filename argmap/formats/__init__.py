"""Maps in and out of Argmap: ``argmap/1`` JSON, Argdown, AIF JSON, Kialo outline and CSV.

Each format module has ``export(argument_map, *, statuses=None) -> str`` and (except CSV)
``parse(text) -> Plan``; parsing validates the whole file before anything is written and raises
``DocumentError`` naming the line or node that is wrong. :func:`import_plan` then writes a plan
in one transaction. The formats are documented in ``docs/formats.md``.
"""

from __future__ import annotations

from collections.abc import Callable, Collection
from dataclasses import dataclass
from datetime import datetime

from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from argmap import services
from argmap.formats import aif, argdown, kialo
from argmap.formats import csv as csv_format
from argmap.formats import json as json_format
from argmap.interchange import DocumentError, Plan
from argmap.models import ArgumentMap, Claim, ClaimAnchor, Comment

__all__ = ["FORMATS", "DocumentError", "Format", "export", "import_plan", "parse"]

MAP_EXISTS = (
    "A map with the address {slug!r} already exists; choose another slug, or replace it "
    "(--replace) to overwrite it."
)
UNKNOWN_FORMAT = "Unknown format {name!r}; choose one of {choices}."
NOT_IMPORTABLE = "The {name} format is for export only."
NOT_TEXT = "The file is not UTF-8 text."


@dataclass(frozen=True, slots=True)
class Format:
    name: str
    label: str
    extension: str
    content_type: str
    export: Callable[..., str]
    parse: Callable[[str], Plan] | None


FORMATS: dict[str, Format] = {
    "json": Format(
        "json", "JSON (argmap/1)", "json", "application/json", json_format.export, json_format.parse
    ),
    "argdown": Format("argdown", "Argdown", "argdown", "text/plain", argdown.export, argdown.parse),
    "aif": Format("aif", "AIF JSON", "json", "application/json", aif.export, aif.parse),
    "kialo": Format("kialo", "Kialo outline", "txt", "text/plain", kialo.export, kialo.parse),
    "csv": Format("csv", "CSV (claims and votes)", "csv", "text/csv", csv_format.export, None),
}
IMPORT_FORMATS = [name for name, fmt in FORMATS.items() if fmt.parse is not None]


def get_format(name: str, *, importing: bool = False) -> Format:
    """The format called ``name``, or ValueError with a readable message."""
    fmt = FORMATS.get(name)
    if fmt is None:
        raise ValueError(UNKNOWN_FORMAT.format(name=name, choices=", ".join(FORMATS)))
    if importing and fmt.parse is None:
        raise ValueError(NOT_IMPORTABLE.format(name=fmt.label))
    return fmt


def export(argument_map: ArgumentMap, name: str, *, statuses: Collection[str] | None = None) -> str:
    """The map in format ``name``; ``statuses`` limits the claims (None: every claim)."""
    return get_format(name).export(argument_map, statuses=statuses)


def parse(data: str | bytes, name: str) -> Plan:
    """Validate a file in format ``name``: a plan, or DocumentError naming what is wrong."""
    fmt = get_format(name, importing=True)
    if isinstance(data, bytes):
        try:
            data = data.decode("utf-8-sig")
        except UnicodeDecodeError as error:
            raise DocumentError([NOT_TEXT]) from error
    elif data.startswith("\ufeff"):
        data = data[1:]
    assert fmt.parse is not None
    return fmt.parse(data)


@transaction.atomic
def import_plan(
    *,
    plan: Plan,
    slug: str | None = None,
    owner=None,
    replace: bool = False,
    reason: str = "Imported",
) -> ArgumentMap:
    """Create a map from a validated plan, all or nothing; an existing map with the slug is
    refused unless ``replace``, which deletes it in the same transaction."""
    slug = slug or plan.slug
    existing = ArgumentMap.objects.filter(slug=slug).first()
    if existing is not None:
        if not replace:
            raise ValidationError({"slug": MAP_EXISTS.format(slug=slug)})
        existing.delete()
    argument_map = services.map_import(plan=plan, owner=owner, slug=slug, reason=reason)
    _apply_extras(argument_map, plan, owner=owner, reason=reason)
    return argument_map


def _created_order(plan: Plan) -> list[str]:
    """The plan's claim keys in the order ``services.map_import`` creates them (thesis, then
    depth by depth in plan order), which is the order of their primary keys."""
    thesis, *rest = plan.claims
    keys = [thesis.key]
    for depth in sorted({claim.depth for claim in rest}):
        keys.extend(claim.key for claim in rest if claim.depth == depth)
    return keys


def _apply_extras(argument_map: ArgumentMap, plan: Plan, *, owner, reason: str) -> None:
    """What ``services.map_import`` does not write: map status and policy, claim authors and
    locks, extra anchors and comments."""
    changed = {}
    if plan.status != argument_map.status:
        changed["status"] = plan.status
    if plan.moderation_policy != argument_map.moderation_policy:
        changed["moderation_policy"] = plan.moderation_policy
    if changed:
        ArgumentMap.objects.filter(pk=argument_map.pk).update(**changed)
        for key, value in changed.items():
            setattr(argument_map, key, value)
    rows = list(Claim.objects.filter(map=argument_map).order_by("pk").values_list("pk", "text"))
    keys = _created_order(plan)
    planned = {claim.key: claim for claim in plan.claims}
    if [text for _pk, text in rows] != [planned[key].text for key in keys]:
        raise AssertionError("map_import created claims in an unexpected order")
    ids = {key: pk for key, (pk, _text) in zip(keys, rows, strict=True)}
    usernames = {claim.author for claim in plan.claims if claim.author}
    usernames |= {c.author for claim in plan.claims for c in claim.comments if c.author}
    User = get_user_model()
    users = {u.get_username(): u for u in User.objects.filter(username__in=usernames)}
    by_author: dict[int, list[int]] = {}
    for claim in plan.claims:
        user = users.get(claim.author or "")
        if user is not None and user != owner:
            by_author.setdefault(user.pk, []).append(ids[claim.key])
    for user_id, claim_ids in by_author.items():
        Claim.objects.filter(pk__in=claim_ids).update(author_id=user_id)
    locked = [ids[claim.key] for claim in plan.claims if claim.locked]
    if locked:
        Claim.objects.filter(pk__in=locked).update(locked=True)
    ClaimAnchor.objects.bulk_create(
        ClaimAnchor(
            claim_id=ids[claim.key],
            exact=anchor.exact,
            prefix=anchor.prefix,
            suffix=anchor.suffix,
            start=anchor.start,
            end=anchor.end,
        )
        for claim in plan.claims
        for anchor in claim.anchors
    )
    comment_ids: dict[str, int] = {}
    for claim in plan.claims:
        for planned_comment in claim.comments:
            user = users.get(planned_comment.author or "")
            comment = Comment(
                map=argument_map,
                claim_id=ids[claim.key],
                parent_id=comment_ids.get(planned_comment.parent or ""),
                author=user,
                body=planned_comment.body,
                status=planned_comment.status,
            )
            comment._history_user = owner
            comment._change_reason = reason
            comment.save()
            comment_ids[planned_comment.key] = comment.pk
            if planned_comment.created is not None:
                Comment.objects.filter(pk=comment.pk).update(
                    created_at=_aware(planned_comment.created)
                )


def _aware(moment: datetime) -> datetime:
    return moment if timezone.is_aware(moment) else timezone.make_aware(moment)
