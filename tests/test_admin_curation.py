"""Curating in the Django admin: the map outline and its per-claim actions, merge and undo, map
actions and bulk hide/restore (each with a reason, each through a service, each in history and the
log), the review filters, the read-only log, and new maps from articles."""

from __future__ import annotations

import pytest
from django.test import Client

from argmap import curation, curation_forms, services
from argmap.admin import NO_MERGE_TO_UNDO
from argmap.models import ArgumentMap, Claim, Comment, Flag, ModerationAction, Source, Vote
from tests.conftest import ARTICLE, claim_by_text, response_text

pytestmark = pytest.mark.django_db

Action = ModerationAction.Action


@pytest.fixture
def client(admin_user) -> Client:
    client = Client()
    client.force_login(admin_user)
    return client


@pytest.fixture
def tree_map(make_map) -> ArgumentMap:
    return make_map(
        slug="cars",
        source_text=ARTICLE,
        claims=[
            (None, "support", "Streets get safer"),
            (None, "support", "Safer streets"),
            (None, "counter", "Parking is lost"),
            ("Streets get safer", "support", "Fewer accidents"),
            ("Safer streets", "support", "Children walk to school"),
        ],
    )


def _action_url(argument_map: ArgumentMap, claim: Claim, action: str) -> str:
    return f"/admin/argmap/argumentmap/{argument_map.pk}/claims/{claim.pk}/{action}/"


def _reasons(claim: Claim) -> list[str]:
    return [row.history_change_reason for row in claim.history.all()]


# --- the outline ---------------------------------------------------------------------------------


def test_the_change_page_shows_the_tree_as_an_outline(client, tree_map, writer):
    safer = claim_by_text(tree_map, "Safer streets")
    Vote.objects.create(claim=safer, user=writer, value=3)
    Comment.objects.create(map=tree_map, claim=safer, author=writer, body="Hm")
    services.claim_archive(claim=claim_by_text(tree_map, "Parking is lost"), by=writer)
    html = response_text(client.get(f"/admin/argmap/argumentmap/{tree_map.pk}/change/"))
    outline = html[html.index('id="outline"') :]
    # Depth-first, nested: the thesis, then each claim followed by its children.
    order = [
        "Cities should ban cars",
        "Streets get safer",
        "Fewer accidents",
        "Safer streets",
        "Children walk to school",
        "Parking is lost",
    ]
    positions = [outline.index(text) for text in order]
    assert positions == sorted(positions)
    row = outline[outline.index(f'id="outline-claim-{safer.pk}"') :]
    row = row[: row.index("</span></span>")]
    assert "Pro" in row and "status-published" in row
    assert "1 pro · 0 con · 1 vote · 1 comment" in row
    for action in ("move", "stance", "up", "archive", "merge"):
        assert f"/claims/{safer.pk}/{action}/" in row
    # The archived claim is shown, with Restore instead of the other actions.
    parking = claim_by_text(tree_map, "Parking is lost")
    assert f"/claims/{parking.pk}/restore/" in outline
    assert f"/claims/{parking.pk}/move/" not in outline
    assert outline.count("<ul>") == outline.count("</ul>")


def test_text_in_the_outline_is_escaped(client, make_map):
    argument_map = make_map(claims=[(None, "support", "<script>alert(1)</script>")])
    html = response_text(client.get(f"/admin/argmap/argumentmap/{argument_map.pk}/change/"))
    assert "<script>alert(1)</script>" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html


def test_every_outline_action_page_loads(client, tree_map):
    claim = claim_by_text(tree_map, "Safer streets")
    for action in ("move", "stance", "up", "down", "archive", "merge"):
        response = client.get(_action_url(tree_map, claim, action))
        assert response.status_code == 200, action
        assert 'name="reason"' in response_text(response)


def test_an_unknown_action_or_a_claim_of_another_map_is_404(client, tree_map, make_map):
    other = make_map(claims=[(None, "support", "Elsewhere")])
    claim = claim_by_text(tree_map, "Safer streets")
    assert client.get(_action_url(tree_map, claim, "explode")).status_code == 404
    foreign = claim_by_text(other, "Elsewhere")
    assert client.get(_action_url(tree_map, foreign, "move")).status_code == 404


def test_outline_actions_need_staff(writer, tree_map):
    client = Client()
    client.force_login(writer)
    claim = claim_by_text(tree_map, "Safer streets")
    response = client.post(_action_url(tree_map, claim, "archive"), {"reason": "x"})
    assert response.status_code == 302 and response["Location"].startswith("/admin/login/")
    assert Claim.objects.get(pk=claim.pk).status == Claim.Status.PUBLISHED


# --- each outline action goes through its service and records the reason ----------------------


def test_move_a_subtree(client, tree_map, admin_user):
    claim = claim_by_text(tree_map, "Safer streets")
    target = claim_by_text(tree_map, "Parking is lost")
    response = client.post(
        _action_url(tree_map, claim, "move"),
        {"parent": target.pk, "stance": "counter", "reason": "Answers the parking worry"},
    )
    assert response.status_code == 302
    assert response["Location"].endswith(f"#outline-claim-{claim.pk}")
    claim.refresh_from_db()
    assert (claim.parent_id, claim.stance) == (target.pk, "counter")
    assert claim_by_text(tree_map, "Children walk to school").parent_id == claim.pk
    assert claim.history.first().history_change_reason == "Answers the parking worry"
    assert claim.history.first().history_user == admin_user
    assert claim.changed_in == ArgumentMap.objects.get(pk=tree_map.pk).version


def test_move_into_its_own_subtree_is_not_offered_nor_accepted(client, tree_map):
    claim = claim_by_text(tree_map, "Safer streets")
    child = claim_by_text(tree_map, "Children walk to school")
    page = client.get(_action_url(tree_map, claim, "move"))
    offered = [value for value, _ in page.context["form"].fields["parent"].choices]
    assert child.pk not in offered and claim.pk not in offered
    response = client.post(
        _action_url(tree_map, claim, "move"),
        {"parent": child.pk, "stance": "support", "reason": "oops"},
    )
    assert response.status_code == 200
    assert "parent" in response.context["form"].errors
    assert Claim.objects.get(pk=claim.pk).parent_id != child.pk


def test_change_stance(client, tree_map):
    claim = claim_by_text(tree_map, "Safer streets")
    position = claim.position
    client.post(_action_url(tree_map, claim, "stance"), {"stance": "counter", "reason": "Misread"})
    claim.refresh_from_db()
    assert (claim.stance, claim.position) == ("counter", position)
    assert "Misread" in _reasons(claim)


def test_reorder_up_and_down(client, tree_map):
    first = claim_by_text(tree_map, "Streets get safer")
    second = claim_by_text(tree_map, "Safer streets")
    client.post(_action_url(tree_map, second, "up"), {"reason": "Stronger point first"})
    thesis = Claim.objects.get(map=tree_map, parent__isnull=True)
    texts = list(Claim.objects.children_of(thesis.pk).values_list("text", flat=True))
    assert texts[:2] == ["Safer streets", "Streets get safer"]
    assert "Stronger point first" in _reasons(Claim.objects.get(pk=second.pk))
    client.post(_action_url(tree_map, second, "down"), {"reason": "Back again"})
    texts = list(Claim.objects.children_of(thesis.pk).values_list("text", flat=True))
    assert texts[:2] == [first.text, "Safer streets"]


def test_archive_and_restore(client, tree_map):
    claim = claim_by_text(tree_map, "Safer streets")
    client.post(_action_url(tree_map, claim, "archive"), {"reason": "Off-topic"})
    assert Claim.objects.get(pk=claim.pk).status == Claim.Status.ARCHIVED
    child = claim_by_text(tree_map, "Children walk to school")
    assert child.status == Claim.Status.ARCHIVED  # the subtree went with it
    client.post(_action_url(tree_map, claim, "restore"), {"reason": "On-topic after all"})
    assert Claim.objects.get(pk=claim.pk).status == Claim.Status.PUBLISHED
    assert Claim.objects.get(pk=child.pk).status == Claim.Status.PUBLISHED
    assert {"Off-topic", "On-topic after all"} <= set(_reasons(Claim.objects.get(pk=claim.pk)))


def test_every_action_requires_a_reason(client, tree_map):
    claim = claim_by_text(tree_map, "Safer streets")
    version = ArgumentMap.objects.get(pk=tree_map.pk).version
    for action, extra in [
        ("archive", {}),
        ("up", {}),
        ("stance", {"stance": "counter"}),
        ("merge", {"keep": claim_by_text(tree_map, "Streets get safer").pk}),
    ]:
        response = client.post(_action_url(tree_map, claim, action), {"reason": "  "} | extra)
        assert response.status_code == 200, action
        assert response.context["form"].errors["reason"] == [curation_forms.REASON_NEEDED]
    assert ArgumentMap.objects.get(pk=tree_map.pk).version == version
    assert Claim.objects.get(pk=claim.pk).status == Claim.Status.PUBLISHED


def test_a_refused_action_shows_the_services_message(client, tree_map):
    claim = claim_by_text(tree_map, "Safer streets")
    client.post(_action_url(tree_map, claim, "archive"), {"reason": "gone"})
    response = client.post(_action_url(tree_map, claim, "archive"), {"reason": "again"})
    assert response.status_code == 200
    assert services.CLAIM_ALREADY_ARCHIVED in response_text(response)


# --- merge and undo from the admin ---------------------------------------------------------------


def test_merge_and_undo_from_the_outline(client, tree_map, admin_user):
    keep = claim_by_text(tree_map, "Streets get safer")
    dup = claim_by_text(tree_map, "Safer streets")
    response = client.post(
        _action_url(tree_map, dup, "merge"), {"keep": keep.pk, "reason": "Same point twice"}
    )
    assert response.status_code == 302
    dup.refresh_from_db()
    assert (dup.status, dup.merged_into_id) == (Claim.Status.ARCHIVED, keep.pk)
    assert claim_by_text(tree_map, "Children walk to school").parent_id == keep.pk
    entry = ModerationAction.objects.get(action=Action.MERGE)
    assert (entry.actor, entry.reason) == (admin_user, "Same point twice")
    # The outline now offers to undo it; the log entry links to the same page.
    html = response_text(client.get(f"/admin/argmap/argumentmap/{tree_map.pk}/change/"))
    assert f"/claims/{dup.pk}/unmerge/" in html
    log_page = response_text(client.get("/admin/argmap/moderationaction/"))
    assert f"/claims/{dup.pk}/unmerge/" in log_page
    response = client.post(_action_url(tree_map, dup, "unmerge"), {"reason": "Different after all"})
    assert response.status_code == 302
    dup.refresh_from_db()
    assert (dup.status, dup.merged_into_id) == (Claim.Status.PUBLISHED, None)
    assert claim_by_text(tree_map, "Children walk to school").parent_id == dup.pk
    assert "Different after all" in _reasons(dup)


def test_merge_into_a_descendant_is_refused_with_the_reason(client, tree_map):
    dup = claim_by_text(tree_map, "Safer streets")
    child = claim_by_text(tree_map, "Children walk to school")
    response = client.post(_action_url(tree_map, dup, "merge"), {"keep": child.pk, "reason": "x"})
    assert response.status_code == 200
    assert curation.MERGE_INTO_DESCENDANT in response_text(response).replace("&#x27;", "'")
    assert Claim.objects.get(pk=dup.pk).status == Claim.Status.PUBLISHED


def test_undo_without_a_merge_is_refused(client, tree_map):
    claim = claim_by_text(tree_map, "Safer streets")
    response = client.get(_action_url(tree_map, claim, "unmerge"), follow=True)
    shown = [str(message) for message in response.context["messages"]]
    assert NO_MERGE_TO_UNDO in shown


# --- map actions ---------------------------------------------------------------------------------


def _changelist_action(client, model: str, action: str, ids: list[int], reason: str | None):
    data = {"action": action, "_selected_action": ids}
    if reason is None:
        return client.post(f"/admin/argmap/{model}/", data | {"index": 0})
    return client.post(f"/admin/argmap/{model}/", data | {"apply": "yes", "reason": reason})


@pytest.mark.parametrize(
    ("action", "field", "value", "logged"),
    [
        ("feature_maps", "featured", True, Action.FEATURE),
        ("lock_maps", "status", ArgumentMap.Status.LOCKED, Action.LOCK_MAP),
        ("archive_maps", "status", ArgumentMap.Status.ARCHIVED, Action.ARCHIVE_MAP),
    ],
)
def test_map_actions_ask_for_a_reason_and_log_it(client, tree_map, action, field, value, logged):
    page = _changelist_action(client, "argumentmap", action, [tree_map.pk], None)
    assert page.status_code == 200
    assert 'name="reason"' in response_text(page)
    assert getattr(ArgumentMap.objects.get(pk=tree_map.pk), field) != value  # not yet
    blank = _changelist_action(client, "argumentmap", action, [tree_map.pk], "")
    assert blank.status_code == 200
    assert curation_forms.REASON_NEEDED in response_text(blank)
    done = _changelist_action(client, "argumentmap", action, [tree_map.pk], "Editorial choice")
    assert done.status_code == 302
    assert getattr(ArgumentMap.objects.get(pk=tree_map.pk), field) == value
    entry = ModerationAction.objects.get(map=tree_map, action=logged)
    assert entry.reason == "Editorial choice"
    latest = ArgumentMap.history.filter(id=tree_map.pk).first()
    assert latest.history_change_reason == "Editorial choice"


def test_unfeature_and_unlock_undo_feature_and_lock(client, tree_map):
    for action in ("feature_maps", "lock_maps", "unfeature_maps", "unlock_maps"):
        _changelist_action(client, "argumentmap", action, [tree_map.pk], "toggle")
    current = ArgumentMap.objects.get(pk=tree_map.pk)
    assert (current.featured, current.status) == (False, ArgumentMap.Status.OPEN)
    actions = set(ModerationAction.objects.filter(map=tree_map).values_list("action", flat=True))
    assert {Action.FEATURE, Action.UNFEATURE, Action.LOCK_MAP, Action.UNLOCK_MAP} <= actions


def test_featuring_from_the_list_goes_through_the_service(client, tree_map):
    response = client.get("/admin/argmap/argumentmap/")
    formset = response.context["cl"].formset
    data = {
        "form-TOTAL_FORMS": "1",
        "form-INITIAL_FORMS": "1",
        "form-0-id": str(tree_map.pk),
        "form-0-featured": "on",
        "_save": "Save",
    }
    assert formset is not None
    response = client.post("/admin/argmap/argumentmap/", data)
    assert response.status_code == 302
    assert ArgumentMap.objects.get(pk=tree_map.pk).featured
    assert ModerationAction.objects.filter(map=tree_map, action=Action.FEATURE).exists()


# --- bulk hide/restore of claims and comments -----------------------------------------------------


def test_bulk_hide_and_restore_claims_with_a_reason(client, tree_map, admin_user):
    claims = [claim_by_text(tree_map, t) for t in ("Safer streets", "Parking is lost")]
    ids = [c.pk for c in claims]
    page = _changelist_action(client, "claim", "hide_claims", ids, None)
    assert page.status_code == 200
    html = response_text(page)
    assert all(f'value="{pk}"' in html for pk in ids)  # the selection is carried over
    refused = _changelist_action(client, "claim", "hide_claims", ids, "")
    assert curation_forms.REASON_NEEDED in response_text(refused)
    assert not Claim.objects.filter(pk__in=ids, status=Claim.Status.HIDDEN).exists()
    done = _changelist_action(client, "claim", "hide_claims", ids, "Spam wave")
    assert done.status_code == 302
    assert set(Claim.objects.filter(pk__in=ids).values_list("status", flat=True)) == {"hidden"}
    hides = ModerationAction.objects.filter(action=Action.HIDE, claim__in=ids)
    assert hides.count() == 2 and set(hides.values_list("reason", flat=True)) == {"Spam wave"}
    for claim in claims:
        assert any("Spam wave" in (reason or "") for reason in _reasons(claim))
    _changelist_action(client, "claim", "restore_claims", ids, "Reviewed")
    assert set(Claim.objects.filter(pk__in=ids).values_list("status", flat=True)) == {"published"}
    assert ModerationAction.objects.filter(action=Action.RESTORE, claim__in=ids).count() == 2


def test_bulk_hide_reports_items_it_cannot_hide(client, tree_map):
    thesis = Claim.objects.get(map=tree_map, parent__isnull=True)
    other = claim_by_text(tree_map, "Safer streets")
    response = _changelist_action(client, "claim", "hide_claims", [thesis.pk, other.pk], "cleanup")
    shown = [str(m) for m in response.wsgi_request._messages]
    assert any(f"#{thesis.pk}" in message for message in shown), shown
    assert Claim.objects.get(pk=other.pk).status == Claim.Status.HIDDEN
    assert Claim.objects.get(pk=thesis.pk).status == Claim.Status.PUBLISHED


def test_bulk_hide_and_restore_comments(client, tree_map, writer):
    claim = claim_by_text(tree_map, "Safer streets")
    comment = Comment.objects.create(map=tree_map, claim=claim, author=writer, body="Buy pills")
    _changelist_action(client, "comment", "hide_comments", [comment.pk], "Spam")
    comment.refresh_from_db()
    assert comment.status == Comment.Status.HIDDEN
    assert ModerationAction.objects.get(action=Action.HIDE, comment=comment).reason == "Spam"
    _changelist_action(client, "comment", "restore_comments", [comment.pk], "Mistake")
    comment.refresh_from_db()
    assert comment.status == Comment.Status.VISIBLE


@pytest.mark.parametrize("model", ["claim", "comment"])
def test_delete_is_not_offered_in_bulk(client, model):
    response = client.get(f"/admin/argmap/{model}/")
    assert "delete_selected" not in response_text(response)


# --- review filters ------------------------------------------------------------------------------


def test_review_filters_find_pending_flagged_and_hidden(client, tree_map, writer, viewer):
    pending = claim_by_text(tree_map, "Safer streets")
    hidden = claim_by_text(tree_map, "Parking is lost")
    flagged = claim_by_text(tree_map, "Fewer accidents")
    Claim.objects.filter(pk=pending.pk).update(status=Claim.Status.PENDING)
    Claim.objects.filter(pk=hidden.pk).update(status=Claim.Status.HIDDEN)
    Flag.objects.create(map=tree_map, claim=flagged, reporter=viewer, reason="spam")
    resolved = claim_by_text(tree_map, "Children walk to school")
    Flag.objects.create(
        map=tree_map, claim=resolved, reporter=viewer, reason="spam", status="dismissed"
    )

    def ids(review: str, model: str = "claim") -> set[int]:
        response = client.get(f"/admin/argmap/{model}/", {"review": review})
        return {obj.pk for obj in response.context["cl"].result_list}

    assert ids("pending") == {pending.pk}
    assert ids("hidden") == {hidden.pk}
    assert ids("flagged") == {flagged.pk}  # a dismissed flag does not count

    comment = Comment.objects.create(map=tree_map, claim=flagged, author=writer, body="x")
    quiet = Comment.objects.create(map=tree_map, claim=flagged, author=writer, body="y")
    Flag.objects.create(map=tree_map, comment=comment, reporter=viewer, reason="abusive")
    assert ids("flagged", "comment") == {comment.pk}
    assert quiet.pk not in ids("flagged", "comment")


# --- the other registered models -----------------------------------------------------------------


@pytest.mark.parametrize(
    "model", ["comment", "flag", "membership", "moderationaction", "notification"]
)
def test_changelists_load_and_search(client, model, tree_map):
    assert client.get(f"/admin/argmap/{model}/").status_code == 200
    assert client.get(f"/admin/argmap/{model}/", {"q": "anything"}).status_code == 200


def test_the_moderation_log_is_read_only_in_the_admin(client, tree_map, admin_user):
    curation.map_feature(argument_map=tree_map, featured=True, by=admin_user, reason="Good")
    entry = ModerationAction.objects.get()
    assert client.get("/admin/argmap/moderationaction/add/").status_code == 403
    change = client.get(f"/admin/argmap/moderationaction/{entry.pk}/change/")
    assert change.status_code == 200  # viewable
    assert 'name="reason"' not in response_text(change)  # but no editable fields
    posted = client.post(
        f"/admin/argmap/moderationaction/{entry.pk}/change/", {"reason": "Rewritten"}
    )
    assert posted.status_code == 403
    assert client.post(f"/admin/argmap/moderationaction/{entry.pk}/delete/").status_code == 403
    assert ModerationAction.objects.get().reason == "Good"
    changelist = response_text(client.get("/admin/argmap/moderationaction/"))
    assert "action-select" not in changelist  # no bulk actions (no bulk delete)


# --- new map from an article in the admin ------------------------------------------------------

UNICODE_ARTICLE = "Ca\u0301fe\u0301s “thrive” 😀 near\u00a0lanes.\nשלום — residents 👍🏽 agree."


def _from_article(client, **overrides):
    data = {
        "article_title": "Cafés and lanes",
        "publisher": "Gazette",
        "url": "",
        "published": "",
        "article_text": UNICODE_ARTICLE,
        "map_title": "Do lanes help cafés?",
        "slug": "cafes",
        "description": "",
        "thesis": "Bike lanes help cafés.",
        "visibility": "public",
    } | overrides
    return client.post("/admin/argmap/argumentmap/from-article/", data)


def test_the_map_changelist_links_to_new_map_from_article(client):
    html = response_text(client.get("/admin/argmap/argumentmap/"))
    assert 'href="/admin/argmap/argumentmap/from-article/"' in html


def test_new_map_from_article_in_the_admin(client, admin_user):
    response = _from_article(client)
    argument_map = ArgumentMap.objects.get(slug="cafes")
    assert response.status_code == 302
    assert response["Location"] == f"/admin/argmap/argumentmap/{argument_map.pk}/change/"
    assert argument_map.source.text == UNICODE_ARTICLE
    assert argument_map.title == "Do lanes help cafés?"
    assert argument_map.owner == admin_user
    assert argument_map.claims.get().text == "Bike lanes help cafés."
    # The change page links to the annotate view.
    html = response_text(client.get(response["Location"]))
    assert 'href="/maps/cafes/annotate/"' in html


def test_the_same_article_again_reuses_the_source(client):
    _from_article(client)
    response = _from_article(client, slug="cafes-2")
    assert response.status_code == 302
    assert Source.objects.count() == 1
    assert (
        ArgumentMap.objects.get(slug="cafes-2").source
        == ArgumentMap.objects.get(slug="cafes").source
    )


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("", services.SOURCE_EMPTY),
        (
            "z" * (services.SOURCE_MAX_CHARS + 1),
            services.SOURCE_TOO_LARGE.format(limit=f"{services.SOURCE_MAX_CHARS:,}"),
        ),
    ],
    ids=["empty", "huge"],
)
def test_empty_or_huge_article_is_refused_in_the_admin(client, text, message):
    response = _from_article(client, article_text=text, thesis="Keep this thesis")
    assert response.status_code == 200
    assert response.context["form"].errors["article_text"] == [message]
    assert "Keep this thesis" in response_text(response)
    assert not ArgumentMap.objects.exists()


def test_a_taken_slug_is_refused_in_the_admin(client, make_map):
    make_map(slug="cafes")
    response = _from_article(client)
    assert response.status_code == 200
    assert response.context["form"].errors["slug"] == [services.MAP_SLUG_TAKEN.format(slug="cafes")]
    assert not Source.objects.filter(text=UNICODE_ARTICLE).exists()


def test_new_map_from_article_needs_add_permission(staff):
    client = Client()
    client.force_login(staff)  # staff without model permissions
    assert client.get("/admin/argmap/argumentmap/from-article/").status_code == 403
