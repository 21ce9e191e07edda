"""Model invariants the database itself enforces, Source immutability and the read QuerySets."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import AnonymousUser
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import ProtectedError

from argmap.models import SOURCE_IMMUTABLE, ArgumentMap, Claim, Source, text_sha256
from tests.conftest import ARTICLE, claim_by_text

pytestmark = pytest.mark.django_db


def _thesis(argument_map: ArgumentMap) -> Claim:
    return Claim.objects.get(map=argument_map, parent__isnull=True)


def test_second_thesis_in_a_map_is_refused_by_the_database(make_map):
    argument_map = make_map()
    with pytest.raises(IntegrityError), transaction.atomic():
        Claim.objects.create(map=argument_map, parent=None, stance="", text="Another thesis")
    assert Claim.objects.filter(map=argument_map, parent__isnull=True).count() == 1


def test_each_map_may_have_its_own_thesis(make_map):
    first, second = make_map(), make_map()
    assert _thesis(first).pk != _thesis(second).pk


@pytest.mark.parametrize("stance", ["support", "counter"])
def test_thesis_with_a_stance_is_refused_by_the_database(make_map, stance):
    thesis = _thesis(make_map())
    with pytest.raises(IntegrityError), transaction.atomic():
        Claim.objects.filter(pk=thesis.pk).update(stance=stance)


@pytest.mark.parametrize("stance", ["", "neutral", "SUPPORT"])
def test_child_without_a_valid_stance_is_refused_by_the_database(make_map, stance):
    argument_map = make_map()
    with pytest.raises(IntegrityError), transaction.atomic():
        Claim.objects.create(
            map=argument_map, parent=_thesis(argument_map), stance=stance, text="A child"
        )


def test_child_with_a_stance_is_accepted_by_the_database(make_map):
    argument_map = make_map()
    child = Claim.objects.create(
        map=argument_map, parent=_thesis(argument_map), stance="counter", text="A child"
    )
    assert child.pk is not None and not child.is_thesis


def test_claim_cannot_be_its_own_parent(make_map):
    argument_map = make_map(claims=[(None, "support", "A reason")])
    claim = claim_by_text(argument_map, "A reason")
    with pytest.raises(IntegrityError), transaction.atomic():
        Claim.objects.filter(pk=claim.pk).update(parent_id=claim.pk)


def test_quote_that_ends_before_it_starts_is_refused_by_the_database(make_map):
    argument_map = make_map(claims=[(None, "support", "A reason")])
    with pytest.raises(IntegrityError), transaction.atomic():
        Claim.objects.filter(map=argument_map, text="A reason").update(quote_start=10, quote_end=10)


def test_half_set_quote_offsets_are_refused_by_the_database(make_map):
    argument_map = make_map(claims=[(None, "support", "A reason")])
    with pytest.raises(IntegrityError), transaction.atomic():
        Claim.objects.filter(map=argument_map, text="A reason").update(
            quote_start=3, quote_end=None
        )


def test_deleting_a_claim_deletes_its_subtree_not_its_siblings(make_map):
    argument_map = make_map(
        claims=[
            (None, "support", "Branch"),
            ("Branch", "counter", "Leaf"),
            (None, "counter", "Sibling"),
        ]
    )
    claim_by_text(argument_map, "Branch").delete()
    assert set(Claim.objects.filter(map=argument_map).values_list("text", flat=True)) == {
        argument_map.claims.get(parent=None).text,
        "Sibling",
    }


# --- Source --------------------------------------------------------------------------------------


def test_source_stores_the_sha256_of_its_text():
    source = Source.objects.create(title="T", text="Some text.")
    assert source.sha256 == text_sha256("Some text.")
    assert len(source.sha256) == 64


def test_uncited_source_text_may_still_be_corrected():
    source = Source.objects.create(title="T", text="Draft with a typo.")
    source.text = "Draft without a typo."
    source.save()
    source.refresh_from_db()
    assert source.text == "Draft without a typo."
    assert source.sha256 == text_sha256("Draft without a typo.")


def test_changing_the_text_of_a_cited_source_is_refused(make_map):
    source = make_map(source_text=ARTICLE).source
    source.text = ARTICLE + " One more sentence."
    with pytest.raises(ValidationError) as refused:
        source.save()
    assert refused.value.messages == [SOURCE_IMMUTABLE]
    source.refresh_from_db()
    assert source.text == ARTICLE


def test_cited_source_may_change_other_fields(make_map):
    source = make_map(source_text=ARTICLE).source
    source.title = "A better title"
    source.save()
    source.refresh_from_db()
    assert (source.title, source.text) == ("A better title", ARTICLE)


def test_cited_source_cannot_be_deleted(make_map):
    source = make_map(source_text=ARTICLE).source
    with pytest.raises(ProtectedError), transaction.atomic():
        source.delete()
    assert Source.objects.filter(pk=source.pk).exists()


def test_two_sources_with_the_same_text_are_refused_by_the_database():
    Source.objects.create(title="First", text="Same words.")
    with pytest.raises(IntegrityError), transaction.atomic():
        Source.objects.create(title="Second", text="Same words.")


# --- QuerySets -----------------------------------------------------------------------------------


def test_listed_maps_are_public_ones_featured_first(make_map):
    plain = make_map(title="Plain")
    featured = make_map(title="Featured", featured=True)
    make_map(title="Unlisted", visibility=ArgumentMap.Visibility.UNLISTED)
    make_map(title="Private", visibility=ArgumentMap.Visibility.PRIVATE)
    plain.save()  # the most recent activity: still after the featured map
    assert list(ArgumentMap.objects.listed()) == [featured, plain]


def test_claim_counts_count_published_claims_only(make_map):
    argument_map = make_map(claims=[(None, "support", "Shown"), (None, "counter", "Hidden")])
    Claim.objects.filter(text="Hidden").update(status=Claim.Status.HIDDEN)
    empty = make_map()
    Claim.objects.filter(map=empty).update(status=Claim.Status.PENDING)
    counts = dict(ArgumentMap.objects.with_claim_counts().values_list("pk", "claim_count"))
    assert counts == {argument_map.pk: 2, empty.pk: 0}


def test_children_of_are_in_sibling_order(make_map):
    argument_map = make_map(
        claims=[(None, "support", "First"), (None, "counter", "Second"), (None, "support", "Third")]
    )
    Claim.objects.filter(text="First").update(position=9)
    thesis = _thesis(argument_map)
    texts = Claim.objects.children_of(thesis.pk).values_list("text", flat=True)
    assert list(texts) == ["Second", "Third", "First"]


def test_private_maps_are_viewable_by_their_owner_and_staff_only(
    make_map, owner, stranger, staff, admin_user
):
    public = make_map()
    private = make_map(visibility=ArgumentMap.Visibility.PRIVATE)
    assert set(ArgumentMap.objects.viewable_by(AnonymousUser())) == {public}
    assert set(ArgumentMap.objects.viewable_by(stranger)) == {public}
    assert set(ArgumentMap.objects.viewable_by(owner)) == {public, private}
    assert set(ArgumentMap.objects.viewable_by(staff)) == {public, private}
    assert set(ArgumentMap.objects.viewable_by(admin_user)) == {public, private}
