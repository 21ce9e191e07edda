"""Merging duplicate claims and undoing the merge (argmap/curation.py), on either database."""

from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError

from argmap import curation, services
from argmap.models import ArgumentMap, Claim, ClaimAnchor, Comment, ModerationAction, Vote
from tests.conftest import ARTICLE, claim_by_text, signed_in_client

pytestmark = pytest.mark.django_db

KEEP_QUOTE = "Car-free streets are safer for children and older people."
DUP_QUOTE = "Shops on pedestrian streets often report higher sales."


@pytest.fixture
def dup_map(make_map) -> ArgumentMap:
    """A map where "Streets get safer" and "Safer streets" say the same thing."""
    return make_map(
        source_text=ARTICLE,
        claims=[
            (None, "support", "Streets get safer", KEEP_QUOTE),
            (None, "support", "Safer streets", DUP_QUOTE),
            ("Streets get safer", "support", "Fewer accidents"),
            ("Safer streets", "support", "Children can walk to school"),
            ("Safer streets", "counter", "Cyclists go faster"),
            ("Children can walk to school", "support", "Parents agree"),
        ],
    )


def _vote(claim, user, value):
    return Vote.objects.create(claim=claim, user=user, value=value)


def _comment(claim, user, body):
    return Comment.objects.create(map=claim.map, claim=claim, author=user, body=body)


def test_merge_moves_children_votes_comments_and_quote_to_the_kept_claim(
    dup_map, owner, writer, viewer, admin_user
):
    keep, dup = claim_by_text(dup_map, "Streets get safer"), claim_by_text(dup_map, "Safer streets")
    _vote(keep, writer, 4)
    _vote(dup, writer, 1)  # voted on both: the kept claim's vote wins
    _vote(dup, viewer, 2)  # only on the duplicate: the vote moves
    first = _comment(dup, writer, "A first thought")
    reply = Comment.objects.create(
        map=dup_map, claim=dup, parent=first, author=viewer, body="A reply"
    )
    version_before = ArgumentMap.objects.get(pk=dup_map.pk).version

    entry = curation.claim_merge(keep=keep, duplicate=dup, by=admin_user, reason="Same point")

    dup.refresh_from_db()
    assert dup.status == Claim.Status.ARCHIVED
    assert dup.merged_into_id == keep.pk
    children = list(Claim.objects.children_of(keep.pk).values_list("text", flat=True))
    assert children == ["Fewer accidents", "Children can walk to school", "Cyclists go faster"]
    # The grandchild came along with its parent.
    assert claim_by_text(dup_map, "Parents agree").parent == claim_by_text(
        dup_map, "Children can walk to school"
    )
    assert dict(Vote.objects.filter(claim=keep).values_list("user__username", "value")) == {
        writer.username: 4,
        viewer.username: 2,
    }
    assert not Vote.objects.filter(claim=dup).exists()
    assert set(Comment.objects.filter(claim=keep).values_list("pk", flat=True)) == {
        first.pk,
        reply.pk,
    }
    anchor = ClaimAnchor.objects.get(claim=keep)
    source_text = dup_map.source.text
    assert (anchor.exact, source_text[anchor.start : anchor.end]) == (DUP_QUOTE, DUP_QUOTE)
    # History and the log record it; the map clock moved.
    assert dup.history.first().history_change_reason == "Same point"
    assert dup.history.first().history_user == admin_user
    assert entry.action == ModerationAction.Action.MERGE
    assert (entry.claim_id, entry.detail["duplicate"], entry.reason) == (
        keep.pk,
        dup.pk,
        "Same point",
    )
    assert ArgumentMap.objects.get(pk=dup_map.pk).version > version_before
    assert dup.changed_in == ArgumentMap.objects.get(pk=dup_map.pk).version


def test_the_merged_claims_permalink_redirects_to_the_kept_claim(dup_map, admin_user, writer):
    keep, dup = claim_by_text(dup_map, "Streets get safer"), claim_by_text(dup_map, "Safer streets")
    curation.claim_merge(keep=keep, duplicate=dup, by=admin_user)
    response = signed_in_client(writer).get(dup.get_absolute_url())
    assert response.status_code == 302
    assert response["Location"] == keep.get_absolute_url()
    # Anonymous readers are sent on too (the old link stays useful to everyone).
    assert signed_in_client(None).get(dup.get_absolute_url())["Location"] == keep.get_absolute_url()


def test_undo_reverts_children_votes_comments_and_anchor(dup_map, admin_user, writer, viewer):
    keep, dup = claim_by_text(dup_map, "Streets get safer"), claim_by_text(dup_map, "Safer streets")
    _vote(keep, writer, 4)
    _vote(dup, writer, 1)
    _vote(dup, viewer, 2)
    comment = _comment(dup, writer, "On the duplicate")
    positions = dict(Claim.objects.filter(parent=dup).values_list("text", "position"))
    entry = curation.claim_merge(keep=keep, duplicate=dup, by=admin_user, reason="dup")

    restored = curation.claim_unmerge(entry=entry, by=admin_user, reason="Not the same after all")

    assert restored.pk == dup.pk
    dup.refresh_from_db()
    assert (dup.status, dup.merged_into_id, dup.archived_with_id) == ("published", None, None)
    assert dict(Claim.objects.filter(parent=dup).values_list("text", "position")) == positions
    assert list(Claim.objects.filter(parent=keep).values_list("text", flat=True)) == [
        "Fewer accidents"
    ]
    assert dict(Vote.objects.filter(claim=dup).values_list("user__username", "value")) == {
        writer.username: 1,
        viewer.username: 2,
    }
    assert dict(Vote.objects.filter(claim=keep).values_list("user__username", "value")) == {
        writer.username: 4
    }
    comment.refresh_from_db()
    assert comment.claim_id == dup.pk
    assert not ClaimAnchor.objects.filter(claim=keep).exists()
    undo = ModerationAction.objects.filter(action=ModerationAction.Action.RESTORE).get()
    assert undo.detail["unmerge_of"] == entry.pk
    assert undo.reason == "Not the same after all"
    # The permalink is the duplicate's own again.
    assert signed_in_client(writer).get(dup.get_absolute_url()).status_code == 200
    # Undoing twice is refused.
    with pytest.raises(ValidationError, match="already undone"):
        curation.claim_unmerge(entry=entry, by=admin_user)


def test_the_same_quote_is_not_added_twice(make_map, admin_user):
    argument_map = make_map(
        source_text=ARTICLE,
        claims=[
            (None, "support", "Streets get safer", KEEP_QUOTE),
            (None, "counter", "Safer streets", KEEP_QUOTE),
        ],
    )
    keep = claim_by_text(argument_map, "Streets get safer")
    dup = claim_by_text(argument_map, "Safer streets")
    entry = curation.claim_merge(keep=keep, duplicate=dup, by=admin_user)
    assert not ClaimAnchor.objects.exists()
    assert entry.detail["anchor_created"] is None


def test_merging_into_a_descendant_of_the_duplicate_is_refused(dup_map, admin_user):
    dup = claim_by_text(dup_map, "Safer streets")
    grandchild = claim_by_text(dup_map, "Parents agree")
    before = list(Claim.objects.order_by("pk").values_list("pk", "parent_id", "status"))
    with pytest.raises(ValidationError) as refused:
        curation.claim_merge(keep=grandchild, duplicate=dup, by=admin_user)
    assert refused.value.messages == [curation.MERGE_INTO_DESCENDANT]
    assert list(Claim.objects.order_by("pk").values_list("pk", "parent_id", "status")) == before
    assert not ModerationAction.objects.exists()


def test_merging_a_child_into_its_ancestor_is_allowed(dup_map, admin_user):
    """Merging a claim into an ancestor cannot make a cycle: its children just move up."""
    parent = claim_by_text(dup_map, "Safer streets")
    child = claim_by_text(dup_map, "Children can walk to school")
    curation.claim_merge(keep=parent, duplicate=child, by=admin_user)
    assert claim_by_text(dup_map, "Parents agree").parent_id == parent.pk


@pytest.mark.parametrize(
    ("keep_text", "dup_text", "message"),
    [
        ("Safer streets", "Safer streets", curation.MERGE_SAME_CLAIM),
        ("Safer streets", None, curation.MERGE_THESIS),
    ],
)
def test_pointless_merges_are_refused(dup_map, admin_user, keep_text, dup_text, message):
    keep = claim_by_text(dup_map, keep_text)
    dup = (
        claim_by_text(dup_map, dup_text)
        if dup_text
        else Claim.objects.get(map=dup_map, parent__isnull=True)
    )
    with pytest.raises(ValidationError) as refused:
        curation.claim_merge(keep=keep, duplicate=dup, by=admin_user)
    assert refused.value.messages == [message]


def test_merging_across_maps_is_refused(dup_map, make_map, admin_user):
    other = make_map(claims=[(None, "support", "Elsewhere")])
    with pytest.raises(ValidationError) as refused:
        curation.claim_merge(
            keep=claim_by_text(other, "Elsewhere"),
            duplicate=claim_by_text(dup_map, "Safer streets"),
            by=admin_user,
        )
    assert refused.value.messages == [curation.MERGE_OTHER_MAP]


def test_an_archived_claim_cannot_be_merged_away_again(dup_map, admin_user):
    keep, dup = claim_by_text(dup_map, "Streets get safer"), claim_by_text(dup_map, "Safer streets")
    curation.claim_merge(keep=keep, duplicate=dup, by=admin_user)
    with pytest.raises(ValidationError) as refused:
        curation.claim_merge(keep=keep, duplicate=dup, by=admin_user)
    assert refused.value.messages == [curation.MERGE_DUPLICATE_GONE]


def test_undo_leaves_a_child_moved_elsewhere_since_where_it_is(dup_map, admin_user):
    keep, dup = claim_by_text(dup_map, "Streets get safer"), claim_by_text(dup_map, "Safer streets")
    entry = curation.claim_merge(keep=keep, duplicate=dup, by=admin_user)
    cyclists = claim_by_text(dup_map, "Cyclists go faster")
    elsewhere = claim_by_text(dup_map, "Fewer accidents")
    services.claim_move(claim=cyclists, new_parent=elsewhere, stance="counter", by=admin_user)
    curation.claim_unmerge(entry=entry, by=admin_user)
    assert claim_by_text(dup_map, "Cyclists go faster").parent_id == elsewhere.pk
    assert claim_by_text(dup_map, "Children can walk to school").parent_id == dup.pk


def test_undo_that_would_make_a_cycle_is_refused(dup_map, admin_user):
    keep, dup = claim_by_text(dup_map, "Streets get safer"), claim_by_text(dup_map, "Safer streets")
    entry = curation.claim_merge(keep=keep, duplicate=dup, by=admin_user)
    # The archived duplicate is moved under one of its former children.
    walk = claim_by_text(dup_map, "Children can walk to school")
    Claim.objects.filter(pk=dup.pk).update(parent=walk)
    with pytest.raises(ValidationError) as refused:
        curation.claim_unmerge(entry=entry, by=admin_user)
    assert refused.value.messages == [curation.UNMERGE_WOULD_CYCLE]
    assert claim_by_text(dup_map, "Children can walk to school").parent_id == keep.pk


def test_only_the_latest_merge_can_be_undone(dup_map, admin_user):
    keep, dup = claim_by_text(dup_map, "Streets get safer"), claim_by_text(dup_map, "Safer streets")
    first = curation.claim_merge(keep=keep, duplicate=dup, by=admin_user)
    curation.claim_unmerge(entry=first, by=admin_user)
    second = curation.claim_merge(keep=keep, duplicate=dup, by=admin_user)
    with pytest.raises(ValidationError, match="already undone"):
        curation.claim_unmerge(entry=first, by=admin_user)
    curation.claim_unmerge(entry=second, by=admin_user)
    assert Claim.objects.get(pk=dup.pk).status == Claim.Status.PUBLISHED


def test_a_log_entry_that_is_not_a_merge_cannot_be_undone(dup_map, admin_user):
    entry = curation.map_feature(argument_map=dup_map, featured=True, by=admin_user)
    log = ModerationAction.objects.get(map=entry, action=ModerationAction.Action.FEATURE)
    with pytest.raises(ValidationError) as refused:
        curation.claim_unmerge(entry=log, by=admin_user)
    assert refused.value.messages == [curation.UNMERGE_NOT_A_MERGE]


def test_the_live_feed_reports_the_merge(dup_map, admin_user):
    """Readers' tabs see the duplicate go and its children arrive under the kept claim."""
    from argmap import tree

    keep, dup = claim_by_text(dup_map, "Streets get safer"), claim_by_text(dup_map, "Safer streets")
    since = ArgumentMap.objects.get(pk=dup_map.pk).version
    curation.claim_merge(keep=keep, duplicate=dup, by=admin_user)
    changes = {c.id: c for c in tree.fetch_changes(dup_map, since=since, limit=100)}
    assert changes[dup.pk].node is None  # gone
    walk = claim_by_text(dup_map, "Children can walk to school")
    assert changes[walk.pk].parent_id == keep.pk
    assert keep.pk in changes
