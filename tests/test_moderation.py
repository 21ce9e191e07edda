"""Moderation services: suggestions, flags and their threshold, hide/restore, locks, mutes, and
the append-only log every one of them writes."""

from __future__ import annotations

import threading
from datetime import timedelta

import pytest
from django.core.exceptions import ValidationError
from django.db import connections
from django.utils import timezone

from argmap import moderation, permissions, services
from argmap.models import (
    MODERATION_LOG_APPEND_ONLY,
    ArgumentMap,
    Claim,
    Comment,
    Flag,
    Membership,
    ModerationAction,
    Notification,
    Role,
)
from tests.conftest import add_member

Action = ModerationAction.Action
Kind = Notification.Kind


@pytest.fixture
def mod_map(make_map, moderator, writer, suggester):
    argument_map = make_map(claims=[(None, "support", "Streets get safer")])
    add_member(argument_map, moderator, Role.MODERATOR)
    add_member(argument_map, writer, Role.WRITER)
    add_member(argument_map, suggester, Role.SUGGESTER)
    return argument_map


def thesis_of(argument_map: ArgumentMap) -> Claim:
    return Claim.objects.get(map=argument_map, parent__isnull=True)


def writers_claim(argument_map: ArgumentMap, writer, text: str = "Shops sell more") -> Claim:
    return services.claim_add(
        parent=thesis_of(argument_map), stance="support", text=text, by=writer
    )


def suggestion(argument_map: ArgumentMap, suggester, text: str = "Air gets cleaner") -> Claim:
    return services.claim_add(
        parent=thesis_of(argument_map),
        stance="support",
        text=text,
        by=suggester,
        status=Claim.Status.PENDING,
    )


def a_comment(argument_map: ArgumentMap, author, *, status=Comment.Status.VISIBLE) -> Comment:
    return Comment.objects.create(
        map=argument_map, claim=thesis_of(argument_map), author=author, body="Hm.", status=status
    )


def last_log(argument_map: ArgumentMap) -> ModerationAction:
    return ModerationAction.objects.in_map(argument_map).first()


def notes_for(user, kind: str) -> list[Notification]:
    return list(Notification.objects.filter(recipient=user, kind=kind))


# -- suggestions ---------------------------------------------------------------------------------


def test_approving_a_suggestion_publishes_it_logs_and_notifies(mod_map, moderator, suggester):
    claim = suggestion(mod_map, suggester)
    before = ArgumentMap.objects.get(pk=mod_map.pk).version
    moderation.suggestion_approve(claim=claim, by=moderator)
    claim.refresh_from_db()
    assert claim.status == Claim.Status.PUBLISHED
    assert claim.changed_in > before  # the live clock ticked: every tab re-renders it
    entry = last_log(mod_map)
    assert (entry.action, entry.actor, entry.claim_id) == (Action.APPROVE, moderator, claim.pk)
    assert len(notes_for(suggester, Kind.APPROVED)) == 1


def test_rejecting_needs_a_reason_and_archives_the_claim(mod_map, moderator, suggester):
    claim = suggestion(mod_map, suggester)
    with pytest.raises(ValidationError) as refused:
        moderation.suggestion_reject(claim=claim, by=moderator, reason="  ")
    assert moderation.REASON_REQUIRED in refused.value.messages
    moderation.suggestion_reject(claim=claim, by=moderator, reason="Duplicate of #2")
    claim.refresh_from_db()
    assert claim.status == Claim.Status.ARCHIVED
    assert last_log(mod_map).reason == "Duplicate of #2"
    [note] = notes_for(suggester, Kind.REJECTED)
    assert note.message == "Duplicate of #2"
    # Kept, not deleted; and the text may be suggested again, better argued.
    assert Claim.objects.filter(pk=claim.pk).exists()
    suggestion(mod_map, suggester)


def test_a_suggestion_is_decided_once(mod_map, moderator, suggester):
    claim = suggestion(mod_map, suggester)
    moderation.suggestion_approve(claim=claim, by=moderator)
    with pytest.raises(ValidationError, match="not a pending suggestion"):
        moderation.suggestion_reject(claim=claim, by=moderator, reason="Too late")
    assert ModerationAction.objects.in_map(mod_map).count() == 1


def test_comment_suggestions_are_approved_and_rejected(mod_map, moderator, suggester):
    first = a_comment(mod_map, suggester, status=Comment.Status.PENDING)
    second = a_comment(mod_map, suggester, status=Comment.Status.PENDING)
    moderation.suggestion_approve(comment=first, by=moderator, reason="Fine")
    moderation.suggestion_reject(comment=second, by=moderator, reason="Off-topic")
    first.refresh_from_db()
    second.refresh_from_db()
    assert (first.status, second.status) == (Comment.Status.VISIBLE, Comment.Status.HIDDEN)
    actions = list(ModerationAction.objects.in_map(mod_map).values_list("action", "comment_id"))
    assert actions == [(Action.REJECT, second.pk), (Action.APPROVE, first.pk)]
    assert len(notes_for(suggester, Kind.APPROVED)) == len(notes_for(suggester, Kind.REJECTED)) == 1


# -- flags ---------------------------------------------------------------------------------------


def test_one_open_flag_per_user_per_item(mod_map, writer, viewer):
    claim = writers_claim(mod_map, writer)
    moderation.flag_create(claim=claim, by=viewer, reason=Flag.Reason.UNCLEAR)
    with pytest.raises(ValidationError) as refused:
        moderation.flag_create(claim=claim, by=viewer, reason=Flag.Reason.SPAM)
    assert refused.value.messages == [moderation.FLAG_ALREADY_OPEN]
    assert Flag.objects.filter(claim=claim).count() == 1


def test_fallacy_must_be_named_and_notes_are_bounded(mod_map, writer, viewer):
    claim = writers_claim(mod_map, writer)
    with pytest.raises(ValidationError, match="Name the fallacy"):
        moderation.flag_create(claim=claim, by=viewer, reason=Flag.Reason.FALLACY)
    with pytest.raises(ValidationError, match="at most 1000"):
        moderation.flag_create(claim=claim, by=viewer, reason=Flag.Reason.SPAM, note="x" * 1001)
    with pytest.raises(ValidationError, match="Choose a reason"):
        moderation.flag_create(claim=claim, by=viewer, reason="boring")
    flag = moderation.flag_create(
        claim=claim, by=viewer, reason=Flag.Reason.FALLACY, fallacy=" Straw  man "
    )
    assert flag.fallacy == "Straw man"


def test_flags_reaching_the_threshold_hide_the_claim_until_reviewed(
    mod_map, writer, viewer, stranger, editor
):
    mod_map.flag_threshold = 2
    mod_map.save()
    claim = writers_claim(mod_map, writer)
    moderation.flag_create(claim=claim, by=viewer, reason=Flag.Reason.SPAM)
    claim.refresh_from_db()
    assert claim.status == Claim.Status.PUBLISHED
    moderation.flag_create(claim=claim, by=stranger, reason=Flag.Reason.ABUSIVE)
    claim.refresh_from_db()
    assert claim.status == Claim.Status.HIDDEN
    entry = last_log(mod_map)
    assert (entry.action, entry.actor, entry.claim_id) == (Action.AUTO_HIDE, None, claim.pk)
    assert len(notes_for(writer, Kind.HIDDEN)) == 1
    # Hidden content takes no more reports.
    with pytest.raises(ValidationError, match="Only published"):
        moderation.flag_create(claim=claim, by=editor, reason=Flag.Reason.SPAM)


def test_threshold_zero_never_hides(mod_map, writer, viewer):
    mod_map.flag_threshold = 0
    mod_map.save()
    claim = writers_claim(mod_map, writer)
    moderation.flag_create(claim=claim, by=viewer, reason=Flag.Reason.SPAM)
    claim.refresh_from_db()
    assert claim.status == Claim.Status.PUBLISHED


def test_upholding_hides_resolves_all_and_notifies(mod_map, moderator, writer, viewer, stranger):
    claim = writers_claim(mod_map, writer)
    moderation.flag_create(claim=claim, by=viewer, reason=Flag.Reason.SPAM)
    moderation.flag_create(claim=claim, by=stranger, reason=Flag.Reason.ABUSIVE, note="rude")
    with pytest.raises(ValidationError, match="Give a reason"):
        moderation.flag_resolve(claim=claim, by=moderator, uphold=True, reason="")
    count = moderation.flag_resolve(claim=claim, by=moderator, uphold=True, reason="Insulting")
    assert count == 2
    claim.refresh_from_db()
    assert claim.status == Claim.Status.HIDDEN
    assert set(Flag.objects.values_list("status", "resolved_by")) == {
        (Flag.Status.UPHELD, moderator.pk)
    }
    [hidden] = notes_for(writer, Kind.HIDDEN)
    assert hidden.message == "Insulting"
    assert len(notes_for(viewer, Kind.FLAG_RESOLVED)) == len(
        notes_for(stranger, Kind.FLAG_RESOLVED)
    )
    entry = last_log(mod_map)
    assert entry.action == Action.UPHOLD_FLAG
    assert entry.detail["flags"] == 2
    with pytest.raises(ValidationError, match="no open reports"):
        moderation.flag_resolve(claim=claim, by=moderator, uphold=False, reason="Again")


def test_dismissing_restores_only_what_the_flags_hid(mod_map, moderator, writer, viewer, stranger):
    mod_map.flag_threshold = 1
    mod_map.save()
    auto = writers_claim(mod_map, writer, "Auto hidden")
    moderation.flag_create(claim=auto, by=viewer, reason=Flag.Reason.SPAM)
    moderation.flag_resolve(claim=auto, by=moderator, uphold=False, reason="Not spam")
    auto.refresh_from_db()
    assert auto.status == Claim.Status.PUBLISHED
    assert last_log(mod_map).detail["restored"] is True
    assert len(notes_for(writer, Kind.RESTORED)) == 1
    assert Flag.objects.get(claim=auto).status == Flag.Status.DISMISSED
    # Hidden by a moderator on purpose: a later dismissal does not bring it back.
    mod_map.flag_threshold = 5
    mod_map.save()
    manual = writers_claim(mod_map, writer, "Hidden by hand")
    moderation.flag_create(claim=manual, by=stranger, reason=Flag.Reason.SPAM)
    moderation.claim_hide(claim=manual, by=moderator, reason="Spam")
    moderation.flag_resolve(claim=manual, by=moderator, uphold=False, reason="Handled")
    manual.refresh_from_db()
    assert manual.status == Claim.Status.HIDDEN


def test_comment_flags_hide_and_restore_the_comment(mod_map, moderator, writer, viewer):
    mod_map.flag_threshold = 1
    mod_map.save()
    comment = a_comment(mod_map, writer)
    moderation.flag_create(comment=comment, by=viewer, reason=Flag.Reason.OFF_TOPIC)
    comment.refresh_from_db()
    assert comment.status == Comment.Status.HIDDEN
    moderation.flag_resolve(comment=comment, by=moderator, uphold=True, reason="Off-topic")
    comment.refresh_from_db()
    assert comment.status == Comment.Status.HIDDEN
    assert last_log(mod_map).comment_id == comment.pk


def _race(workers, *, on_error=None) -> list[BaseException]:
    """Start ``workers`` together in threads (each its own connection); return their errors."""
    barrier = threading.Barrier(len(workers))
    errors: list[BaseException] = []

    def run(work) -> None:
        try:
            barrier.wait()
            work()
        except BaseException as error:  # reported to the test
            errors.append(error)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=run, args=(work,)) for work in workers]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return errors


@pytest.mark.django_db(transaction=True)
def test_racing_duplicate_flags_leave_one_and_a_clear_refusal(make_map, owner, viewer):
    """The same reader reporting the same claim from 6 tabs at once: one flag, five
    FLAG_ALREADY_OPEN refusals (no IntegrityError, no 500)."""
    argument_map = make_map(claims=[(None, "support", "Racy claim")])
    claim = Claim.objects.get(map=argument_map, text="Racy claim")
    errors = _race(
        [
            lambda: moderation.flag_create(claim=claim, by=viewer, reason=Flag.Reason.SPAM)
            for _ in range(6)
        ]
    )
    assert Flag.objects.filter(claim=claim, reporter=viewer).count() == 1
    assert len(errors) == 5
    assert all(
        isinstance(e, ValidationError) and e.messages == [moderation.FLAG_ALREADY_OPEN]
        for e in errors
    ), errors


@pytest.mark.django_db(transaction=True)
def test_racing_flags_from_different_readers_all_count_and_hide_once(make_map, owner):
    """Negative control for the race above (different readers are all accepted), and the
    threshold is crossed exactly once: one automatic hide, one log entry."""
    from tests.conftest import _user

    argument_map = make_map(claims=[(None, "support", "Racy claim")])
    argument_map.flag_threshold = 3
    argument_map.save()
    claim = Claim.objects.get(map=argument_map, text="Racy claim")
    readers = [_user(f"reader-{i}") for i in range(6)]
    errors = _race(
        [
            (lambda r=r: moderation.flag_create(claim=claim, by=r, reason=Flag.Reason.SPAM))
            for r in readers
        ]
    )
    # Readers who came after the claim was hidden are refused; never more than one hide.
    assert all(e.messages == [moderation.FLAG_NOT_FLAGGABLE] for e in errors), errors
    assert Flag.objects.filter(claim=claim).count() == 3
    assert len(errors) == 3
    claim.refresh_from_db()
    assert claim.status == Claim.Status.HIDDEN
    assert ModerationAction.objects.filter(claim=claim, action=Action.AUTO_HIDE).count() == 1


# -- hide, restore, locks ------------------------------------------------------------------------


def test_hide_and_restore_a_claim(mod_map, moderator, writer, viewer):
    claim = writers_claim(mod_map, writer)
    with pytest.raises(ValidationError, match="Give a reason"):
        moderation.claim_hide(claim=claim, by=moderator, reason="")
    moderation.claim_hide(claim=claim, by=moderator, reason="Abusive")
    claim.refresh_from_db()
    assert claim.status == Claim.Status.HIDDEN
    assert permissions.can_view_claim(writer, claim)  # its author still sees it
    assert not permissions.can_view_claim(viewer, claim)
    moderation.claim_unhide(claim=claim, by=moderator, reason="On reflection, fine")
    claim.refresh_from_db()
    assert claim.status == Claim.Status.PUBLISHED
    actions = list(ModerationAction.objects.in_map(mod_map).values_list("action", flat=True))
    assert actions == [Action.RESTORE, Action.HIDE]
    assert [n.kind for n in Notification.objects.filter(recipient=writer)] == [
        Kind.RESTORED,
        Kind.HIDDEN,
    ]
    with pytest.raises(ValidationError, match="not hidden"):
        moderation.claim_unhide(claim=claim, by=moderator, reason="Twice")


def test_the_thesis_cannot_be_hidden(mod_map, moderator):
    with pytest.raises(ValidationError, match="thesis cannot be hidden"):
        moderation.claim_hide(claim=thesis_of(mod_map), by=moderator, reason="No")


def test_restoring_dismisses_open_reports(mod_map, moderator, writer, viewer):
    mod_map.flag_threshold = 1
    mod_map.save()
    claim = writers_claim(mod_map, writer)
    moderation.flag_create(claim=claim, by=viewer, reason=Flag.Reason.SPAM)
    moderation.claim_unhide(claim=claim, by=moderator, reason="Reviewed: fine")
    assert Flag.objects.get(claim=claim).status == Flag.Status.DISMISSED
    assert len(notes_for(viewer, Kind.FLAG_RESOLVED)) == 1


def test_hide_and_restore_a_comment(mod_map, moderator, writer):
    comment = a_comment(mod_map, writer)
    moderation.comment_hide(comment=comment, by=moderator, reason="Rude")
    comment.refresh_from_db()
    assert comment.status == Comment.Status.HIDDEN
    moderation.comment_unhide(comment=comment, by=moderator, reason="Apologised")
    comment.refresh_from_db()
    assert comment.status == Comment.Status.VISIBLE
    assert [e.action for e in ModerationAction.objects.in_map(mod_map)] == [
        Action.RESTORE,
        Action.HIDE,
    ]


def test_a_locked_claim_takes_no_children_but_from_moderators(mod_map, moderator, writer):
    claim = writers_claim(mod_map, writer)
    moderation.claim_lock(claim=claim, by=moderator, reason="Settled")
    claim.refresh_from_db()
    assert claim.locked
    assert not permissions.can_add_claim(writer, mod_map, claim)
    assert not permissions.can_change_claim(writer, claim)
    assert permissions.can_add_claim(moderator, mod_map, claim)
    with pytest.raises(ValidationError, match="already locked"):
        moderation.claim_lock(claim=claim, by=moderator, reason="Again")
    moderation.claim_unlock(claim=claim, by=moderator, reason="Reopened")
    claim.refresh_from_db()
    assert not claim.locked
    assert [e.action for e in ModerationAction.objects.in_map(mod_map)] == [
        Action.UNLOCK_CLAIM,
        Action.LOCK_CLAIM,
    ]


def test_a_locked_map_is_read_only_but_for_moderators(mod_map, moderator, writer):
    moderation.map_lock(argument_map=mod_map, by=moderator, reason="Cooling off")
    fresh = ArgumentMap.objects.get(pk=mod_map.pk)
    assert fresh.status == ArgumentMap.Status.LOCKED
    assert not permissions.can_add_claim(writer, fresh)
    assert permissions.can_add_claim(moderator, fresh)
    with pytest.raises(ValidationError, match="Only an open map"):
        moderation.map_lock(argument_map=fresh, by=moderator, reason="Twice")
    moderation.map_unlock(argument_map=fresh, by=moderator, reason="Calm again")
    assert ArgumentMap.objects.get(pk=mod_map.pk).status == ArgumentMap.Status.OPEN
    assert [e.action for e in ModerationAction.objects.in_map(mod_map)] == [
        Action.UNLOCK_MAP,
        Action.LOCK_MAP,
    ]


# -- mutes ---------------------------------------------------------------------------------------


def test_muting_a_non_member_makes_them_a_member_with_the_default_role(
    mod_map, moderator, stranger
):
    until = timezone.now() + timedelta(hours=1)
    member = moderation.member_mute(
        argument_map=mod_map, user=stranger, until=until, reason="Spamming", by=moderator
    )
    assert member.role == Role.WRITER  # the default role of a public post-moderated map
    fresh = ArgumentMap.objects.get(pk=mod_map.pk)
    assert permissions.is_muted(stranger, fresh)
    assert not permissions.can_add_claim(stranger, fresh)
    assert not permissions.can_flag(stranger, fresh)
    assert not permissions.can_vote(stranger, fresh)
    assert permissions.can_view_map(stranger, fresh)
    entry = last_log(mod_map)
    assert (entry.action, entry.subject) == (Action.MUTE, stranger)
    assert len(notes_for(stranger, Kind.MUTED)) == 1


def test_mutes_expire(mod_map, moderator, writer):
    moderation.member_mute(
        argument_map=mod_map,
        user=writer,
        until=timezone.now() + timedelta(hours=1),
        reason="Heated",
        by=moderator,
    )
    Membership.objects.filter(map=mod_map, user=writer).update(
        muted_until=timezone.now() - timedelta(seconds=1)
    )
    fresh = ArgumentMap.objects.get(pk=mod_map.pk)
    assert not permissions.is_muted(writer, fresh)
    assert permissions.can_add_claim(writer, fresh)
    with pytest.raises(ValidationError, match="not muted"):
        moderation.member_unmute(argument_map=fresh, user=writer, reason="x", by=moderator)


def test_unmute_lifts_a_mute(mod_map, moderator, writer):
    moderation.member_mute(
        argument_map=mod_map,
        user=writer,
        until=timezone.now() + timedelta(days=1),
        reason="Heated",
        by=moderator,
    )
    moderation.member_unmute(argument_map=mod_map, user=writer, reason="Calmer", by=moderator)
    fresh = ArgumentMap.objects.get(pk=mod_map.pk)
    assert not permissions.is_muted(writer, fresh)
    assert last_log(mod_map).action == Action.UNMUTE


def test_who_cannot_be_muted(mod_map, moderator, owner, staff, writer):
    soon = timezone.now() + timedelta(hours=1)
    for user, message in [
        (owner, moderation.MUTE_NOT_ALLOWED),
        (staff, moderation.MUTE_NOT_ALLOWED),
        (moderator, moderation.MUTE_SELF),
    ]:
        with pytest.raises(ValidationError) as refused:
            moderation.member_mute(
                argument_map=mod_map, user=user, until=soon, reason="x", by=moderator
            )
        assert refused.value.messages == [message]
    with pytest.raises(ValidationError, match="future"):
        moderation.member_mute(
            argument_map=mod_map,
            user=writer,
            until=timezone.now() - timedelta(minutes=1),
            reason="x",
            by=moderator,
        )


def test_only_the_owner_mutes_a_moderator(mod_map, moderator, owner, editor):
    other = editor
    add_member(mod_map, other, Role.MODERATOR)
    soon = timezone.now() + timedelta(hours=1)
    with pytest.raises(ValidationError, match="Only the owner"):
        moderation.member_mute(
            argument_map=mod_map, user=other, until=soon, reason="x", by=moderator
        )
    moderation.member_mute(argument_map=mod_map, user=other, until=soon, reason="x", by=owner)


# -- the log -------------------------------------------------------------------------------------


def test_the_log_refuses_update_and_delete(mod_map, moderator, writer):
    moderation.claim_hide(claim=writers_claim(mod_map, writer), by=moderator, reason="Spam")
    entry = last_log(mod_map)
    entry.reason = "Nothing to see"
    for attempt in (
        entry.save,
        entry.delete,
        lambda: ModerationAction.objects.filter(pk=entry.pk).update(reason="x"),
        lambda: ModerationAction.objects.filter(pk=entry.pk).delete(),
    ):
        with pytest.raises(ValidationError) as refused:
            attempt()
        assert refused.value.messages == [MODERATION_LOG_APPEND_ONLY]
    assert ModerationAction.objects.get(pk=entry.pk).reason == "Spam"


def test_a_failed_action_leaves_no_log_entry(mod_map, moderator, writer):
    claim = writers_claim(mod_map, writer)
    with pytest.raises(ValidationError):
        moderation.claim_unhide(claim=claim, by=moderator, reason="Not hidden at all")
    assert not ModerationAction.objects.in_map(mod_map).exists()


def test_open_item_count(mod_map, writer, suggester, viewer, stranger):
    suggestion(mod_map, suggester)
    claim = writers_claim(mod_map, writer)
    moderation.flag_create(claim=claim, by=viewer, reason=Flag.Reason.SPAM)
    moderation.flag_create(claim=claim, by=stranger, reason=Flag.Reason.SPAM)
    a_comment(mod_map, suggester, status=Comment.Status.PENDING)
    assert moderation.open_item_count(mod_map) == 3


def test_approving_a_suggested_reply_tells_the_parent_author_and_the_mentioned(
    make_map, owner, moderator, suggester, writer
):
    from argmap import discussion

    argument_map = make_map()
    add_member(argument_map, moderator, Role.MODERATOR)
    add_member(argument_map, suggester, Role.SUGGESTER)
    thesis = argument_map.claims.get(parent__isnull=True)
    parent = discussion.comment_post(claim=thesis, author=writer, body="A first thought.")
    reply = discussion.comment_post(
        claim=thesis, author=suggester, body=f"Agreed, @{owner.username}.", parent=parent
    )
    assert reply.status == Comment.Status.PENDING
    assert not Notification.objects.filter(comment=reply).exists()

    moderation.suggestion_approve(by=moderator, comment=reply)

    kinds = set(Notification.objects.filter(comment=reply).values_list("recipient", "kind"))
    assert (writer.pk, Notification.Kind.REPLY) in kinds
    assert (owner.pk, Notification.Kind.MENTION) in kinds
    assert (suggester.pk, Notification.Kind.APPROVED) in kinds


def test_approving_a_suggested_counterpoint_tells_the_parent_author(
    make_map, owner, moderator, suggester
):

    argument_map = make_map()
    add_member(argument_map, moderator, Role.MODERATOR)
    thesis = argument_map.claims.get(parent__isnull=True)
    counter = services.claim_add(
        parent=thesis,
        stance=Claim.Stance.COUNTER,
        text="Deliveries get harder.",
        by=suggester,
        status=Claim.Status.PENDING,
    )
    assert not Notification.objects.filter(kind=Notification.Kind.COUNTERED).exists()

    moderation.suggestion_approve(by=moderator, claim=counter)

    assert Notification.objects.filter(
        recipient=owner, kind=Notification.Kind.COUNTERED, claim=counter
    ).exists()
