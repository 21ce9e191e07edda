"""Impact votes: one vote per user per claim on Kialo's 0..4 scale.

On a claim the vote says how much it bears on its parent (impact); on the thesis, how true the
voter finds it (agreement). Votes are rows (``Vote``), one per user and claim by a unique
constraint; every aggregate (how many at each value, the mean) is computed from those rows, never
kept as a counter. Casting, changing and withdrawing tick the map's clock and touch the claim, so
its row (with the new distribution) is re-rendered live for every reader.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Count

from argmap import services
from argmap.models import Claim, Vote
from argmap.tree import AGREEMENT_LABELS, IMPACT_LABELS, Node, Tally, Viewer, vote_summary

VOTE_OUT_OF_RANGE = "A vote is a whole number from 0 to 4."
VOTE_CLAIM_NOT_OPEN = "Only published claims take votes."
VOTE_NOT_ALLOWED = "You may not vote in this map."

__all__ = [
    "AGREEMENT_LABELS",
    "IMPACT_LABELS",
    "VOTE_CLAIM_NOT_OPEN",
    "VOTE_NOT_ALLOWED",
    "VOTE_OUT_OF_RANGE",
    "Panel",
    "panel",
    "parse_value",
    "tally",
    "vote_cast",
    "vote_withdraw",
]


def parse_value(raw: object) -> int:
    """A vote value from user input: an integer 0..4 (as int or decimal digits), else refused."""
    if isinstance(raw, bool):
        raise ValidationError({"value": VOTE_OUT_OF_RANGE})
    if isinstance(raw, str):
        raw = raw.strip()
        if not (raw.isascii() and raw.isdigit() and len(raw) <= 2):
            raise ValidationError({"value": VOTE_OUT_OF_RANGE})
        raw = int(raw)
    if not isinstance(raw, int) or not Vote.MIN <= raw <= Vote.MAX:
        raise ValidationError({"value": VOTE_OUT_OF_RANGE})
    return raw


@services.retry_on_conflict
@transaction.atomic
def vote_cast(*, claim: Claim, user, value: int) -> Vote:
    """Cast or change ``user``'s vote on ``claim`` (0..4); one vote per user per claim."""
    value = parse_value(value)
    version = services._lock_map_and_tick(claim.map_id)
    # Re-read under the lock: the claim may have been hidden or archived meanwhile.
    status = Claim.objects.filter(pk=claim.pk).values_list("status", flat=True).first()
    if status != Claim.Status.PUBLISHED:
        raise ValidationError(VOTE_CLAIM_NOT_OPEN)
    # The map lock serializes writers in this map; the savepoint and the unique constraint make
    # the upsert safe even for a caller that reaches here without it (IntegrityError: re-read).
    try:
        with transaction.atomic():
            vote, _ = Vote.objects.update_or_create(
                claim_id=claim.pk, user=user, defaults={"value": value}
            )
    except IntegrityError:
        Vote.objects.filter(claim_id=claim.pk, user=user).update(value=value)
        vote = Vote.objects.get(claim_id=claim.pk, user=user)
    services._touch([claim.pk], version)
    return vote


@services.retry_on_conflict
@transaction.atomic
def vote_withdraw(*, claim: Claim, user) -> bool:
    """Withdraw ``user``'s vote on ``claim``; False when there was none (nothing changes)."""
    if not Vote.objects.filter(claim_id=claim.pk, user=user).exists():
        return False
    version = services._lock_map_and_tick(claim.map_id)
    Vote.objects.filter(claim_id=claim.pk, user=user).delete()
    services._touch([claim.pk], version)
    return True


def tally(claim: Claim, user=None) -> Tally:
    """A claim's votes counted from the rows (and ``user``'s own vote), in one query."""
    result = Tally()
    rows = Vote.objects.filter(claim=claim).values("value").annotate(n=Count("pk"))
    for row in rows.order_by():
        result.counts[row["value"]] = row["n"]
    if user is not None and user.is_authenticated:
        result.mine = (
            Vote.objects.filter(claim=claim, user=user).values_list("value", flat=True).first()
        )
    return result


@dataclass(frozen=True, slots=True)
class Option:
    value: int
    label: str
    count: int
    height: int  # 0..8, relative to the largest bucket (a CSS class; CSP forbids inline styles)
    mine: bool


@dataclass(frozen=True, slots=True)
class Panel:
    """What the vote form shows: the question, the scale with its counts, the reader's vote."""

    claim_id: int
    thesis: bool
    question: str
    summary: str
    options: list[Option]
    mine: int | None
    mine_label: str
    mean: str
    total: int
    can_vote: bool
    open: bool


def panel(claim: Claim, node: Node | Tally, viewer: Viewer) -> Panel:
    """The vote panel of a claim for this reader (claim page, vote page, the tree's popover)."""
    votes = node.tally if isinstance(node, Node) else node
    thesis = claim.parent_id is None
    labels = AGREEMENT_LABELS if thesis else IMPACT_LABELS
    peak = max(votes.counts) or 1
    options = [
        Option(value, labels[value], n, -(-8 * n // peak), votes.mine == value)
        for value, n in enumerate(votes.counts)
    ]
    mean = votes.mean
    return Panel(
        claim_id=claim.pk,
        thesis=thesis,
        question=(
            "How true do you find the thesis?"
            if thesis
            else "How much does this claim bear on its parent?"
        ),
        summary=vote_summary(votes, thesis=thesis),
        options=options,
        mine=votes.mine,
        mine_label="" if votes.mine is None else labels[votes.mine],
        mean="–" if mean is None else f"{mean:.1f}",
        total=votes.total,
        can_vote=viewer.can_vote,
        open=claim.status == Claim.Status.PUBLISHED,
    )
