"""A moderator's reason may be long (up to 1000 characters); the history row's change reason is
a varchar(100), which PostgreSQL enforces. Found by tests/browser/test_xss.py on PostgreSQL."""

from __future__ import annotations

from argmap import moderation
from argmap.models import Claim, ModerationAction


def test_a_long_moderation_reason_is_kept_whole_in_the_log_and_shortened_in_history(
    make_map, owner
):
    argument_map = make_map(claims=[(None, "support", "Streets get safer.")])
    claim = Claim.objects.get(map=argument_map, text="Streets get safer.")
    reason = "Locked while we check the figures. " * 20  # 700 characters

    moderation.claim_lock(claim=claim, by=owner, reason=reason)

    assert ModerationAction.objects.get(claim=claim).reason == reason.strip()
    change_reason = claim.history.latest().history_change_reason
    assert len(change_reason) == 100
    assert change_reason.endswith("…")
    assert "Locked while we check the figures." in change_reason
