"""Concurrency with real threads and real transactions, on whichever database the suite runs.

Each property is paired with a negative control (the same work without the guard) that shows
the test can detect the failure it is about.
"""

from __future__ import annotations

import contextlib
import random
import re
import threading
import time
from collections.abc import Callable

import pytest
from django.core.exceptions import ValidationError
from django.db import connection, connections, transaction

from argmap import services, tree
from argmap.interchange import plan_document
from argmap.models import Claim

pytestmark = [pytest.mark.concurrency, pytest.mark.django_db(transaction=True)]

EDITORS, EDITS_EACH = 16, 25
MOVERS, MOVES_EACH, MAP_SIZE = 8, 500, 300


def run_threads(count: int, work: Callable[[int], None]) -> None:
    """Run ``work(i)`` in ``count`` threads, each with its own connection; re-raise any error."""
    errors: list[BaseException] = []

    def wrapper(index: int) -> None:
        try:
            work(index)
        except BaseException as error:  # collected and re-raised below
            errors.append(error)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=wrapper, args=(i,)) for i in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    if errors:
        raise errors[0]


def counter_value(text: str) -> int:
    return int(re.fullmatch(r"Counter (\d+)", text).group(1))


@pytest.fixture
def counter_claim(make_map):
    argument_map = make_map(thesis="Counting is hard")
    thesis = argument_map.claims.get()
    return services.claim_add(parent=thesis, stance="support", text="Counter 0")


def test_concurrent_editors_lose_no_edit(counter_claim):
    """16 editors x 25 increments through claim_edit, retrying on conflict: all 400 survive."""
    conflicts = []

    def editor(_: int) -> None:
        for _ in range(EDITS_EACH):
            while True:
                text, version = Claim.objects.values_list("text", "version").get(
                    pk=counter_claim.pk
                )
                try:
                    services.claim_edit(
                        claim=counter_claim,
                        expected_version=version,
                        text=f"Counter {counter_value(text) + 1}",
                        quote=None,
                    )
                    break
                except services.ClaimConflict:
                    conflicts.append(1)  # someone else won: re-read and apply on top

    run_threads(EDITORS, editor)
    final = Claim.objects.get(pk=counter_claim.pk)
    assert counter_value(final.text) == EDITORS * EDITS_EACH
    assert final.version == 1 + EDITORS * EDITS_EACH
    # Every successful edit left its own history row.
    assert final.history.filter(history_type="~").count() == EDITORS * EDITS_EACH


def test_naive_read_modify_write_loses_edits(counter_claim):
    """Negative control: the same increments without the version check lose updates."""

    def editor(_: int) -> None:
        for _ in range(EDITS_EACH):
            text = Claim.objects.values_list("text", flat=True).get(pk=counter_claim.pk)
            time.sleep(0.0005)  # the think time between reading and saving a form
            with transaction.atomic():
                Claim.objects.filter(pk=counter_claim.pk).update(
                    text=f"Counter {counter_value(text) + 1}"
                )

    run_threads(EDITORS, editor)
    final = Claim.objects.get(pk=counter_claim.pk)
    assert counter_value(final.text) < EDITORS * EDITS_EACH


def random_map_document(size: int, seed: int) -> dict:
    rng = random.Random(seed)
    claims = [{"id": 0, "parent": None, "stance": None, "text": "Root"}]
    for index in range(1, size):
        parent = rng.randrange(max(1, index // 2)) if index > 8 else 0
        stance = rng.choice(["support", "counter"])
        claims.append({"id": index, "parent": parent, "stance": stance, "text": f"Claim {index}"})
    return {"map": {"slug": f"random-{seed}", "title": "Random"}, "source": None, "claims": claims}


def assert_tree_is_sound(map_id: int) -> None:
    """No cycles, no orphans, no cross-map parents: every claim's chain ends at the thesis."""
    parents = dict(Claim.objects.filter(map_id=map_id).values_list("pk", "parent_id"))
    theses = [pk for pk, parent in parents.items() if parent is None]
    assert len(theses) == 1
    for pk in parents:
        seen, current = set(), pk
        while parents[current] is not None:
            assert current not in seen, f"cycle through claim {current}"
            seen.add(current)
            assert parents[current] in parents, f"claim {current} has a parent outside the map"
            current = parents[current]
        assert current == theses[0]


def count_cycles(map_id: int) -> int:
    parents = dict(Claim.objects.filter(map_id=map_id).values_list("pk", "parent_id"))
    on_cycle = 0
    for pk in parents:
        seen, current = set(), pk
        while current is not None and current not in seen:
            seen.add(current)
            current = parents.get(current)
        on_cycle += current is not None
    return on_cycle


@pytest.fixture
def random_map():
    return services.map_import(plan=plan_document(random_map_document(MAP_SIZE, seed=7)))


def test_concurrent_random_moves_keep_the_tree_sound(random_map):
    """8 threads x 500 random moves leave no cycle, no orphan, every claim reachable."""
    ids = list(Claim.objects.filter(map=random_map).values_list("pk", flat=True))
    thesis = Claim.objects.get(map=random_map, parent__isnull=True).pk
    movable = [pk for pk in ids if pk != thesis]
    refused = []

    def mover(index: int) -> None:
        rng = random.Random(index)
        for _ in range(MOVES_EACH):
            claim, target = Claim(pk=rng.choice(movable), map_id=random_map.pk), rng.choice(ids)
            try:
                services.claim_move(
                    claim=claim,
                    new_parent=Claim(pk=target),
                    stance=rng.choice(["support", "counter"]),
                )
            except ValidationError:
                refused.append(1)  # a move under its own subtree: refused, as it should be

    run_threads(MOVERS, mover)
    assert_tree_is_sound(random_map.pk)
    assert Claim.objects.filter(map=random_map).count() == MAP_SIZE
    assert refused, "some random moves must have aimed into their own subtree"


def naive_move(claim_id: int, target_id: int, barrier: threading.Barrier) -> None:
    """The move without the map lock: lock only the moved row, check ancestry, write."""
    with transaction.atomic():
        # FOR NO KEY UPDATE, as an UPDATE takes: it does not block the FK checks of the other move.
        list(Claim.objects.select_for_update(no_key=True).filter(pk=claim_id))
        if claim_id in tree.ancestor_ids(target_id):
            return
        barrier.wait(timeout=10)  # both threads have checked before either writes
        Claim.objects.filter(pk=claim_id).update(parent_id=target_id)


def cross_moves(random_map, move: Callable[[int, int, threading.Barrier], None]) -> int:
    """30 rounds of two threads moving two siblings under each other; return cycles made."""
    thesis = Claim.objects.get(map=random_map, parent__isnull=True)
    cycles = 0
    for round_number in range(30):
        first = services.claim_add(parent=thesis, stance="support", text=f"A{round_number}")
        second = services.claim_add(parent=thesis, stance="counter", text=f"B{round_number}")
        barrier = threading.Barrier(2)
        pairs = [(first.pk, second.pk), (second.pk, first.pk)]
        run_threads(2, lambda i, pairs=pairs, barrier=barrier: move(*pairs[i], barrier))
        cycles += count_cycles(random_map.pk) > 0
        # Break any cycle so the next round starts from a sound tree.
        Claim.objects.filter(pk__in=[first.pk, second.pk]).update(parent=thesis)
    return cycles


def locked_move(claim_id: int, target_id: int, barrier: threading.Barrier) -> None:
    with contextlib.suppress(threading.BrokenBarrierError):
        barrier.wait(timeout=10)
    # The second mover sees the first one's move under the lock and is refused.
    with contextlib.suppress(ValidationError):
        services.claim_move(
            claim=Claim.objects.get(pk=claim_id),
            new_parent=Claim(pk=target_id),
            stance="support",
        )


def test_concurrent_cross_moves_never_make_a_cycle(random_map):
    assert cross_moves(random_map, locked_move) == 0
    assert_tree_is_sound(random_map.pk)


@pytest.mark.skipif(
    connection.vendor == "sqlite", reason="SQLite's IMMEDIATE transactions serialize every write"
)
def test_cross_moves_without_the_map_lock_make_cycles_on_postgresql(random_map):
    """Negative control: with row locks only, concurrent cross-moves build cycles."""
    assert cross_moves(random_map, naive_move) > 0


@pytest.mark.skipif(connection.vendor != "sqlite", reason="the SQLite variant of the control")
def test_cross_moves_checked_outside_the_write_transaction_make_cycles_on_sqlite(random_map):
    """Negative control on SQLite: checking ancestry before taking the write lock races."""

    def unlocked_move(claim_id: int, target_id: int, barrier: threading.Barrier) -> None:
        if claim_id in tree.ancestor_ids(target_id):
            return
        barrier.wait(timeout=10)
        with transaction.atomic():
            Claim.objects.filter(pk=claim_id).update(parent_id=target_id)

    assert cross_moves(random_map, unlocked_move) > 0
