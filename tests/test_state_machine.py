"""A hypothesis state machine: random add/edit/move/archive/restore/revert sequences keep the
database equal to a plain Python model of the tree."""

from __future__ import annotations

import itertools
from dataclasses import dataclass

import pytest
from django.core.exceptions import ValidationError
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    invariant,
    precondition,
    rule,
    run_state_machine_as_test,
)

from argmap import services
from argmap.models import Claim

STANCES = st.sampled_from(["support", "counter"])
WORDS = st.text(alphabet="abcdefghij ", min_size=1, max_size=12).filter(lambda t: t.strip())


@dataclass
class Modelled:
    parent: int | None
    stance: str
    text: str
    status: str = "published"
    version: int = 1
    archived_with: int | None = None
    texts: tuple[str, ...] = ()  # every text this claim has had, oldest first


class TreeMachine(RuleBasedStateMachine):
    maps = itertools.count()

    def __init__(self) -> None:
        super().__init__()
        argument_map = services.map_create(
            slug=f"machine-{next(self.maps)}", title="Machine", thesis="The root claim"
        )
        self.thesis = argument_map.claims.get()
        self.model: dict[int, Modelled] = {
            self.thesis.pk: Modelled(None, "", "The root claim", texts=("The root claim",))
        }
        self.serial = itertools.count(1)

    # -- helpers over the model ------------------------------------------------------------
    def published(self) -> list[int]:
        return sorted(pk for pk, c in self.model.items() if c.status == "published")

    def subtree(self, pk: int) -> set[int]:
        found, frontier = {pk}, [pk]
        while frontier:
            current = frontier.pop()
            for child, claim in self.model.items():
                if claim.parent == current and child not in found:
                    found.add(child)
                    frontier.append(child)
        return found

    def sibling_texts(self, parent: int, exclude: int | None = None) -> set[str]:
        return {
            c.text.casefold()
            for pk, c in self.model.items()
            if c.parent == parent and c.status != "archived" and pk != exclude
        }

    # -- rules -------------------------------------------------------------------------------
    @rule(data=st.data(), stance=STANCES, words=WORDS)
    def add(self, data, stance, words):
        parent = data.draw(st.sampled_from(self.published()))
        text = f"{words.strip()} {next(self.serial)}"
        claim = services.claim_add(
            parent=Claim(pk=parent, map_id=self.thesis.map_id), stance=stance, text=text
        )
        self.model[claim.pk] = Modelled(parent, stance, claim.text, texts=(claim.text,))

    @rule(data=st.data(), words=WORDS, stale=st.booleans())
    def edit(self, data, words, stale):
        pk = data.draw(st.sampled_from(sorted(self.model)))
        claim = self.model[pk]
        text = " ".join(f"{words.strip()} edit {next(self.serial)}".split())
        version = claim.version - 1 if stale else claim.version
        try:
            services.claim_edit(
                claim=Claim(pk=pk, map_id=self.thesis.map_id),
                expected_version=version,
                text=text,
                quote=None,
            )
        except services.ClaimConflict as conflict:
            assert stale
            assert conflict.current.version == claim.version
            return
        except ValidationError:
            assert claim.status == "archived"  # restore it first
            return
        assert not stale
        assert claim.status != "archived"
        claim.text, claim.version = text, claim.version + 1
        claim.texts += (text,)

    @rule(data=st.data(), stance=STANCES)
    def move(self, data, stance):
        pk = data.draw(st.sampled_from(sorted(self.model)))
        target = data.draw(st.sampled_from(sorted(self.model)))
        claim = self.model[pk]
        refused = (
            claim.parent is None
            or target in self.subtree(pk)
            or self.model[target].status != "published"
        )
        try:
            services.claim_move(
                claim=Claim(pk=pk, map_id=self.thesis.map_id),
                new_parent=Claim(pk=target),
                stance=stance,
            )
        except ValidationError:
            assert refused
            return
        assert not refused
        claim.parent, claim.stance = target, stance

    def archivable(self) -> list[int]:
        return sorted(
            pk for pk, c in self.model.items() if c.parent is not None and c.status != "archived"
        )

    def archived(self) -> list[int]:
        return sorted(pk for pk, c in self.model.items() if c.status == "archived")

    @rule(data=st.data(), anything=st.booleans())
    def archive(self, data, anything):
        pool = sorted(self.model) if anything or not self.archivable() else self.archivable()
        pk = data.draw(st.sampled_from(pool))
        claim = self.model[pk]
        refused = claim.parent is None or claim.status == "archived"
        try:
            services.claim_archive(claim=Claim(pk=pk, map_id=self.thesis.map_id))
        except ValidationError:
            assert refused
            return
        assert not refused
        for member in self.subtree(pk):
            if self.model[member].status != "archived":
                self.model[member].status, self.model[member].archived_with = "archived", pk

    @precondition(lambda self: self.archived())
    @rule(data=st.data(), anything=st.booleans())
    def restore(self, data, anything):
        pk = data.draw(st.sampled_from(sorted(self.model) if anything else self.archived()))
        claim = self.model[pk]
        parent = self.model.get(claim.parent) if claim.parent else None
        refused = claim.status != "archived" or (parent is not None and parent.status == "archived")
        try:
            services.claim_restore(claim=Claim(pk=pk, map_id=self.thesis.map_id))
        except ValidationError:
            assert refused
            return
        assert not refused
        root = claim.archived_with or pk
        for member in self.model.values():
            if member.archived_with == root:
                member.status, member.archived_with = "published", None
        claim.status, claim.archived_with = "published", None

    @rule(data=st.data())
    def revert(self, data):
        pk = data.draw(st.sampled_from(sorted(self.model)))
        claim = self.model[pk]
        records = list(Claim.history.filter(id=pk).order_by("history_id"))
        record = data.draw(st.sampled_from(records))
        clash = record.text.casefold() in self.sibling_texts(claim.parent, exclude=pk)
        try:
            services.claim_revert(
                claim=Claim(pk=pk, map_id=self.thesis.map_id),
                history_id=record.history_id,
                expected_version=claim.version,
            )
        except ValidationError:
            assert claim.status == "archived" or (clash and claim.parent is not None)
            return
        assert claim.status != "archived"
        claim.text, claim.version = record.text, claim.version + 1
        claim.texts += (record.text,)

    # -- the invariant ---------------------------------------------------------------------
    @invariant()
    def database_equals_model(self):
        rows = Claim.objects.filter(map_id=self.thesis.map_id).values_list(
            "pk", "parent_id", "stance", "text", "status", "version"
        )
        actual = {
            pk: (parent, stance, text, status, version)
            for pk, parent, stance, text, status, version in rows
        }
        expected = {
            pk: (c.parent, c.stance, c.text, c.status, c.version) for pk, c in self.model.items()
        }
        assert actual == expected
        # Every claim's chain of parents ends at the thesis.
        for pk in actual:
            seen, current = set(), pk
            while actual[current][0] is not None:
                assert current not in seen
                seen.add(current)
                current = actual[current][0]
            assert current == self.thesis.pk


@pytest.mark.django_db
def test_random_operations_keep_the_database_equal_to_the_model():
    run_state_machine_as_test(
        TreeMachine,
        settings=settings(
            max_examples=25,
            stateful_step_count=25,
            deadline=None,
            suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
        ),
    )
