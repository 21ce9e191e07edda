"""Discussion threads: the services (post, edit, delete, notifications) and the views' HTTP
contracts (405, login redirect, 403/404, htmx fragment vs page, POST/redirect/GET)."""

from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError

from argmap import discussion, permissions
from argmap.models import ArgumentMap, Claim, Comment, Notification, Role
from argmap.views import discussion as views
from tests.conftest import add_member, response_text, signed_in_client

HX = {"HX-Request": "true"}


@pytest.fixture
def amap(make_map) -> ArgumentMap:
    return make_map(claims=[(None, "support", "Streets get safer.")])


@pytest.fixture
def claim(amap) -> Claim:
    return Claim.objects.select_related("map").get(map=amap, text="Streets get safer.")


def thread_url(claim: Claim) -> str:
    return f"/maps/{claim.map.slug}/claims/{claim.pk}/thread/"


def edit_url(comment: Comment) -> str:
    return f"/maps/{comment.map.slug}/comments/{comment.pk}/edit/"


def delete_url(comment: Comment) -> str:
    return f"/maps/{comment.map.slug}/comments/{comment.pk}/delete/"


def kinds(user) -> list[str]:
    return list(Notification.objects.filter(recipient=user).values_list("kind", flat=True))


# -- services -------------------------------------------------------------------------------------


def test_writer_comment_is_visible_and_ticks_the_map(claim, writer):
    before = ArgumentMap.objects.get(pk=claim.map_id).version
    comment = discussion.comment_post(claim=claim, author=writer, body="  Agreed.  ")
    assert comment.status == Comment.Status.VISIBLE
    assert comment.body == "Agreed."
    claim.refresh_from_db()
    after = ArgumentMap.objects.get(pk=claim.map_id).version
    assert after == before + 1
    assert claim.changed_in == after  # its row re-renders live (comment count)


def test_suggester_comment_waits(make_map, suggester, owner):
    argument_map = make_map()
    argument_map.moderation_policy = ArgumentMap.ModerationPolicy.PRE
    argument_map.save()
    thesis = Claim.objects.get(map=argument_map, parent__isnull=True)
    first = discussion.comment_post(claim=thesis, author=owner, body="Hello")
    comment = discussion.comment_post(
        claim=thesis, author=suggester, body="Me too @olivia-owner", parent=first
    )
    assert comment.status == Comment.Status.PENDING
    # Nobody hears of a comment nobody can read yet.
    assert kinds(owner) == []
    discussion.notify_published(comment)
    assert kinds(owner) == [Notification.Kind.REPLY]  # reply wins over mention: told once


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ("", discussion.COMMENT_EMPTY),
        ("   \n  ", discussion.COMMENT_EMPTY),
    ],
)
def test_empty_comment_refused(claim, writer, body, message):
    with pytest.raises(ValidationError) as error:
        discussion.comment_post(claim=claim, author=writer, body=body)
    assert error.value.message_dict["body"] == [message]
    assert not Comment.objects.exists()


def test_too_long_comment_refused(claim, writer, settings):
    body = "x" * (settings.ARGMAP_COMMENT_MAX_LENGTH + 1)
    with pytest.raises(ValidationError) as error:
        discussion.comment_post(claim=claim, author=writer, body=body)
    assert "at most" in error.value.message_dict["body"][0]


def test_parent_must_be_in_the_same_thread(amap, claim, writer):
    thesis = Claim.objects.get(map=amap, parent__isnull=True)
    elsewhere = discussion.comment_post(claim=thesis, author=writer, body="On the thesis")
    with pytest.raises(ValidationError) as error:
        discussion.comment_post(claim=claim, author=writer, body="reply", parent=elsewhere)
    assert error.value.message_dict["parent"] == [discussion.COMMENT_PARENT_OTHER_CLAIM]


def test_reply_and_mention_notify_once_each_and_never_self(claim, owner, writer, viewer):
    first = discussion.comment_post(claim=claim, author=owner, body="What about buses?")
    reply = discussion.comment_post(
        claim=claim,
        author=writer,
        body="@olivia-owner buses too, cc @vera-viewer and me @walter-writer",
        parent=first,
    )
    assert kinds(owner) == [Notification.Kind.REPLY]
    assert kinds(viewer) == [Notification.Kind.MENTION]
    assert kinds(writer) == []
    note = Notification.objects.get(recipient=viewer)
    assert note.comment == reply and note.actor == writer and note.claim == claim
    # Replying to yourself tells nobody.
    discussion.comment_post(claim=claim, author=owner, body="self", parent=first)
    assert kinds(owner) == [Notification.Kind.REPLY]


def test_mention_of_someone_who_cannot_see_the_private_map_is_not_sent(make_map, owner, stranger):
    argument_map = make_map(visibility=ArgumentMap.Visibility.PRIVATE)
    thesis = Claim.objects.get(map=argument_map, parent__isnull=True)
    discussion.comment_post(claim=thesis, author=owner, body="hey @sam-stranger")
    assert kinds(stranger) == []


def test_edit_keeps_history_and_notifies_only_new_mentions(claim, writer, viewer, owner):
    comment = discussion.comment_post(claim=claim, author=writer, body="hi @vera-viewer")
    edited = discussion.comment_edit(
        comment=comment, by=writer, body="hi @vera-viewer and @olivia-owner", version=1
    )
    assert edited.version == 2 and edited.edited_at is not None
    assert [h.body for h in edited.history.order_by("history_date")] == [
        "hi @vera-viewer",
        "hi @vera-viewer and @olivia-owner",
    ]
    assert kinds(viewer) == [Notification.Kind.MENTION]
    assert kinds(owner) == [Notification.Kind.MENTION]


def test_stale_edit_raises_conflict_with_the_current_comment(claim, writer):
    comment = discussion.comment_post(claim=claim, author=writer, body="one")
    discussion.comment_edit(comment=comment, by=writer, body="two", version=1)
    with pytest.raises(discussion.CommentConflict) as conflict:
        discussion.comment_edit(comment=comment, by=writer, body="three", version=1)
    assert conflict.value.current.body == "two"
    comment.refresh_from_db()
    assert comment.body == "two"


def test_delete_leaves_a_tombstone_with_history(claim, writer, owner):
    comment = discussion.comment_post(claim=claim, author=writer, body="regret this")
    reply = discussion.comment_post(claim=claim, author=owner, body="answer", parent=comment)
    deleted = discussion.comment_delete(comment=comment, by=writer)
    assert deleted.status == Comment.Status.DELETED
    assert deleted.history.filter(body="regret this").exists()
    items = discussion.thread_for(owner, claim)
    assert [(i.comment.pk, i.tombstone, i.depth) for i in items] == [
        (comment.pk, True, 0),
        (reply.pk, False, 1),
    ]
    assert items[0].html == ""
    with pytest.raises(ValidationError):
        discussion.comment_delete(comment=comment, by=writer)


def test_tombstone_without_replies_is_left_out(claim, writer):
    comment = discussion.comment_post(claim=claim, author=writer, body="gone")
    discussion.comment_delete(comment=comment, by=writer)
    assert discussion.thread_for(writer, claim) == []


def test_counter_claim_notifies_parent_author(claim, owner, writer):
    from argmap import services

    services.claim_add(parent=claim, stance="counter", text="But buses", by=writer)
    services.claim_add(parent=claim, stance="support", text="And bikes", by=writer)
    services.claim_add(
        parent=claim, stance="counter", text="Pending one", by=writer, status="pending"
    )
    services.claim_add(parent=claim, stance="counter", text="Own counter", by=owner)
    assert kinds(owner) == [Notification.Kind.COUNTERED]


# -- views: reading -------------------------------------------------------------------------------


def test_thread_page_and_fragment(claim, writer, owner):
    discussion.comment_post(claim=claim, author=writer, body="**Strong** point")
    page = signed_in_client(owner).get(thread_url(claim))
    assert page.status_code == 200
    text = response_text(page)
    assert "<html" in text and "<strong>Strong</strong>" in text
    assert f'id="thread-{claim.pk}"' in text
    fragment = signed_in_client(owner).get(thread_url(claim), headers=HX)
    assert fragment.status_code == 200
    assert "<html" not in response_text(fragment)
    assert f'id="thread-{claim.pk}"' in response_text(fragment)


def test_anonymous_reads_public_thread_without_a_form(claim, writer):
    discussion.comment_post(claim=claim, author=writer, body="Visible to all")
    response = signed_in_client(None).get(thread_url(claim))
    assert response.status_code == 200
    assert "Visible to all" in response_text(response)
    assert "comment-form-" not in response_text(response)
    assert "Log in" in response_text(response)


def test_private_map_thread_is_404_to_strangers(make_map, stranger, owner):
    argument_map = make_map(visibility=ArgumentMap.Visibility.PRIVATE)
    thesis = Claim.objects.get(map=argument_map, parent__isnull=True)
    assert signed_in_client(stranger).get(thread_url(thesis)).status_code == 404
    assert signed_in_client(None).get(thread_url(thesis)).status_code == 404
    assert signed_in_client(owner).get(thread_url(thesis)).status_code == 200


def test_claim_of_another_map_is_404(make_map, claim, owner):
    other = make_map()
    url = f"/maps/{other.slug}/claims/{claim.pk}/thread/"
    assert signed_in_client(owner).get(url).status_code == 404


def test_wrong_methods_are_405(claim, writer):
    comment = discussion.comment_post(claim=claim, author=writer, body="x")
    client = signed_in_client(writer)
    assert client.put(thread_url(claim)).status_code == 405
    assert client.get(delete_url(comment)).status_code == 405
    assert client.delete(edit_url(comment)).status_code == 405


def test_pending_and_hidden_comments_shown_to_author_and_moderators_only(
    make_map, owner, suggester, moderator, viewer
):
    argument_map = make_map()
    argument_map.moderation_policy = ArgumentMap.ModerationPolicy.PRE
    argument_map.save()
    add_member(argument_map, moderator, Role.MODERATOR)
    thesis = Claim.objects.get(map=argument_map, parent__isnull=True)
    pending = discussion.comment_post(claim=thesis, author=suggester, body="wait for me")
    hidden = discussion.comment_post(claim=thesis, author=owner, body="hide me")
    Comment.objects.filter(pk=hidden.pk).update(status=Comment.Status.HIDDEN)

    def page(user) -> str:
        return response_text(signed_in_client(user).get(thread_url(thesis)))

    assert "wait for me" in page(suggester) and "awaiting approval" in page(suggester)
    assert "wait for me" in page(moderator)
    assert "hide me" in page(moderator) and "hidden by a moderator" in page(moderator)
    assert "hide me" in page(owner)  # its author (and the map's owner)
    seen_by_viewer = page(viewer)
    assert "wait for me" not in seen_by_viewer and "hide me" not in seen_by_viewer
    assert f'id="comment-{pending.pk}"' not in seen_by_viewer


def test_deleted_comment_shows_as_tombstone_in_the_page(claim, writer, owner):
    comment = discussion.comment_post(claim=claim, author=writer, body="secret words")
    discussion.comment_post(claim=claim, author=owner, body="a reply", parent=comment)
    discussion.comment_delete(comment=comment, by=writer)
    text = response_text(signed_in_client(owner).get(thread_url(claim)))
    assert "[deleted]" in text and "secret words" not in text and "a reply" in text


def test_report_link_only_when_flag_view_exists_and_allowed(claim, writer, viewer):
    comment = discussion.comment_post(claim=claim, author=writer, body="x")
    text = response_text(signed_in_client(viewer).get(thread_url(claim)))
    from django.urls import NoReverseMatch, reverse

    try:
        flag = reverse("flag_comment", kwargs={"slug": claim.map.slug, "pk": comment.pk})
    except NoReverseMatch:
        assert "Report" not in text
    else:
        assert flag in text
        # Not on one's own comment.
        own = response_text(signed_in_client(writer).get(thread_url(claim)))
        assert flag not in own


def test_reply_form_fragment_and_page(claim, writer, owner):
    comment = discussion.comment_post(claim=claim, author=writer, body="x")
    fragment = signed_in_client(owner).get(f"{thread_url(claim)}?reply={comment.pk}", headers=HX)
    text = response_text(fragment)
    assert fragment.status_code == 200 and "<html" not in text
    assert f'id="reply-form-{comment.pk}"' in text and f'value="{comment.pk}"' in text
    page = signed_in_client(owner).get(f"{thread_url(claim)}?reply={comment.pk}")
    assert f'id="reply-form-{comment.pk}"' in response_text(page)
    assert "<html" in response_text(page)


# -- views: posting ----------------------------------------------------------------------------


def test_anonymous_post_redirects_to_login(claim):
    response = signed_in_client(None).post(thread_url(claim), {"body": "hi"})
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]
    assert not Comment.objects.exists()


def test_plain_post_redirects_to_the_comment(claim, writer):
    response = signed_in_client(writer).post(thread_url(claim), {"body": "Plain post"})
    comment = Comment.objects.get()
    assert response.status_code == 302
    assert response["Location"] == f"{thread_url(claim)}#comment-{comment.pk}"


def test_htmx_post_returns_the_list_with_the_new_comment(claim, writer):
    response = signed_in_client(writer).post(thread_url(claim), {"body": "Via htmx"}, headers=HX)
    text = response_text(response)
    assert response.status_code == 200
    assert text.lstrip().startswith(f'<ol class="comments" id="thread-comments-{claim.pk}"')
    assert "Via htmx" in text
    assert "argmap:commentPosted" in response["HX-Trigger"]


def test_htmx_reply_post(claim, writer, owner):
    parent = discussion.comment_post(claim=claim, author=owner, body="Top")
    response = signed_in_client(writer).post(
        thread_url(claim), {"body": "Nested", "parent": parent.pk}, headers=HX
    )
    assert response.status_code == 200
    reply = Comment.objects.get(body="Nested")
    assert reply.parent == parent
    assert f'class="comment depth-1 status-visible" data-comment="{reply.pk}"' in response_text(
        response
    )


def test_empty_post_keeps_the_form_with_an_error(claim, writer):
    client = signed_in_client(writer)
    response = client.post(thread_url(claim), {"body": "   "}, headers=HX)
    assert response.status_code == 422
    assert response["HX-Retarget"] == f"#comment-form-{claim.pk}"
    assert discussion.COMMENT_EMPTY in response_text(response)
    plain = client.post(thread_url(claim), {"body": "   "})
    assert plain.status_code == 200 and discussion.COMMENT_EMPTY in response_text(plain)


def test_too_long_post_keeps_the_draft(claim, writer, settings):
    draft = "y" * (settings.ARGMAP_COMMENT_MAX_LENGTH + 5)
    response = signed_in_client(writer).post(thread_url(claim), {"body": draft}, headers=HX)
    assert response.status_code == 422
    assert draft in response_text(response)
    assert not Comment.objects.exists()


def test_reply_to_a_comment_of_another_thread_is_refused(amap, claim, writer):
    thesis = Claim.objects.get(map=amap, parent__isnull=True)
    elsewhere = discussion.comment_post(claim=thesis, author=writer, body="thesis talk")
    response = signed_in_client(writer).post(
        thread_url(claim), {"body": "draft kept", "parent": elsewhere.pk}, headers=HX
    )
    assert response.status_code == 422
    assert views.NO_SUCH_PARENT in response_text(response)
    assert "draft kept" in response_text(response)


def test_viewer_and_muted_member_may_not_post(make_map, viewer, writer):
    from django.utils import timezone

    argument_map = make_map()
    thesis = Claim.objects.get(map=argument_map, parent__isnull=True)
    add_member(argument_map, viewer, Role.VIEWER)
    add_member(
        argument_map, writer, Role.WRITER, muted_until=timezone.now() + timezone.timedelta(days=1)
    )
    for user in (viewer, writer):
        response = signed_in_client(user).post(thread_url(thesis), {"body": "hi"})
        assert response.status_code == 403
        page = response_text(signed_in_client(user).get(thread_url(thesis)))
        assert f'id="comment-form-{thesis.pk}"' not in page
    assert not Comment.objects.exists()


def test_suggester_post_is_pending_and_shown_to_them_marked(make_map, suggester, viewer):
    argument_map = make_map()
    argument_map.moderation_policy = ArgumentMap.ModerationPolicy.PRE
    argument_map.save()
    thesis = Claim.objects.get(map=argument_map, parent__isnull=True)
    client = signed_in_client(suggester)
    assert "A moderator approves your comment" in response_text(client.get(thread_url(thesis)))
    response = client.post(thread_url(thesis), {"body": "my idea"}, headers=HX)
    assert response.status_code == 200
    assert Comment.objects.get().status == Comment.Status.PENDING
    assert "awaiting approval" in response_text(response)
    assert "my idea" not in response_text(signed_in_client(viewer).get(thread_url(thesis)))


def test_posting_is_rate_limited(claim, writer, settings):
    settings.ARGMAP_RATE_LIMITS_ENABLED = True
    settings.ARGMAP_RATE_LIMITS = {**settings.ARGMAP_RATE_LIMITS, "comment": ((2, 60), (2, 60))}
    client = signed_in_client(writer)
    codes = [client.post(thread_url(claim), {"body": f"n{n}"}).status_code for n in range(3)]
    assert codes == [302, 302, 429]


# -- views: edit and delete --------------------------------------------------------------------


def test_edit_contract(claim, writer, viewer):
    comment = discussion.comment_post(claim=claim, author=writer, body="first")
    assert signed_in_client(None).get(edit_url(comment)).status_code == 302
    assert signed_in_client(viewer).get(edit_url(comment)).status_code == 403
    client = signed_in_client(writer)
    fragment = client.get(edit_url(comment), headers=HX)
    assert fragment.status_code == 200 and "<html" not in response_text(fragment)
    assert f'id="edit-form-{comment.pk}"' in response_text(fragment)
    page = client.get(edit_url(comment))
    assert "<html" in response_text(page) and f'id="edit-form-{comment.pk}"' in response_text(page)
    cancel = client.get(edit_url(comment) + "?cancel=1", headers=HX)
    assert f'id="comment-body-{comment.pk}"' in response_text(cancel)
    saved = client.post(edit_url(comment), {"body": "second", "version": 1}, headers=HX)
    assert saved.status_code == 200 and "second" in response_text(saved)
    assert "edited" in response_text(saved)
    plain = client.post(edit_url(comment), {"body": "third", "version": 2})
    assert plain.status_code == 302 and plain["Location"].endswith(f"#comment-{comment.pk}")


def test_stale_edit_answers_409_and_keeps_the_draft(claim, writer):
    comment = discussion.comment_post(claim=claim, author=writer, body="original")
    client = signed_in_client(writer)
    client.post(edit_url(comment), {"body": "from tab one", "version": 1})
    response = client.post(edit_url(comment), {"body": "my draft", "version": 1}, headers=HX)
    text = response_text(response)
    assert response.status_code == 409
    assert "my draft" in text and "from tab one" in text
    assert 'name="version" value="2"' in text  # saving again keeps mine, on purpose
    comment.refresh_from_db()
    assert comment.body == "from tab one"


def test_empty_edit_is_refused_with_the_form(claim, writer):
    comment = discussion.comment_post(claim=claim, author=writer, body="original")
    response = signed_in_client(writer).post(
        edit_url(comment), {"body": "  ", "version": 1}, headers=HX
    )
    assert response.status_code == 422
    assert discussion.COMMENT_EMPTY in response_text(response)


def test_delete_contract(claim, writer, viewer):
    comment = discussion.comment_post(claim=claim, author=writer, body="bye")
    assert signed_in_client(None).post(delete_url(comment)).status_code == 302
    assert signed_in_client(viewer).post(delete_url(comment)).status_code == 403
    response = signed_in_client(writer).post(delete_url(comment), headers=HX)
    assert response.status_code == 200 and "[deleted]" in response_text(response)
    assert "bye" not in response_text(response)
    comment.refresh_from_db()
    assert comment.status == Comment.Status.DELETED
    # A tombstone cannot be edited or deleted again.
    assert signed_in_client(writer).post(delete_url(comment)).status_code == 403


def test_plain_delete_redirects_to_thread(claim, writer):
    comment = discussion.comment_post(claim=claim, author=writer, body="bye")
    response = signed_in_client(writer).post(delete_url(comment))
    assert response.status_code == 302 and response["Location"] == thread_url(claim)


def test_hidden_comment_is_404_to_others_for_edit(claim, writer, viewer):
    comment = discussion.comment_post(claim=claim, author=writer, body="x")
    Comment.objects.filter(pk=comment.pk).update(status=Comment.Status.HIDDEN)
    assert signed_in_client(viewer).get(edit_url(comment)).status_code == 404
    # Its author sees it but may not change a hidden comment.
    assert signed_in_client(writer).get(edit_url(comment)).status_code == 403


def test_thread_query_count_does_not_grow_with_comments(
    claim, writer, owner, django_assert_max_num_queries
):
    for n in range(3):
        discussion.comment_post(claim=claim, author=writer, body=f"c{n} @olivia-owner")
    client = signed_in_client(owner)
    client.get(thread_url(claim))  # warm the session
    with django_assert_max_num_queries(14) as small:
        client.get(thread_url(claim), headers=HX)
    for n in range(20):
        discussion.comment_post(claim=claim, author=writer, body=f"d{n} @olivia-owner")
    with django_assert_max_num_queries(len(small.captured_queries)):
        client.get(thread_url(claim), headers=HX)


def test_permission_for_comment_change_is_the_authors(claim, writer, owner):
    comment = discussion.comment_post(claim=claim, author=writer, body="x")
    assert permissions.can_change_comment(writer, comment)
    assert not permissions.can_change_comment(owner, comment)


# -- edit history ------------------------------------------------------------------------------


def history_url(comment: Comment) -> str:
    return f"/maps/{comment.map.slug}/comments/{comment.pk}/history/"


def edited(claim: Claim, author, *bodies: str) -> Comment:
    """A comment posted with the first body and edited to each of the others in turn."""
    comment = discussion.comment_post(claim=claim, author=author, body=bodies[0])
    for body in bodies[1:]:
        comment = discussion.comment_edit(
            comment=comment, by=author, body=body, version=comment.version
        )
    return comment


def test_comment_versions_are_its_texts_newest_first(claim, writer):
    comment = edited(claim, writer, "first *draft*", "second", "third @olivia-owner")
    # A status change alone is not a new version of the text.
    Comment.objects.filter(pk=comment.pk).update(status=Comment.Status.HIDDEN)
    hidden = Comment.objects.get(pk=comment.pk)
    hidden._history_user = writer
    hidden.save()
    versions = discussion.comment_versions(comment)
    assert [v.number for v in versions] == [3, 2, 1]
    assert [v.current for v in versions] == [True, False, False]
    assert "<em>draft</em>" in versions[-1].html
    assert 'class="mention"' in versions[0].html
    assert all(v.user == writer for v in versions)
    assert versions[0].date >= versions[-1].date


def test_edited_links_to_the_history_only_when_edited(claim, writer):
    plain = discussion.comment_post(claim=claim, author=writer, body="never changed")
    changed = edited(claim, writer, "before", "after")
    text = response_text(signed_in_client(None).get(thread_url(claim)))
    assert f'href="{history_url(changed)}"' in text
    assert f'hx-target="#history-slot-{changed.pk}"' in text
    assert history_url(plain) not in text


def test_history_fragment_and_page(claim, writer):
    comment = edited(claim, writer, "the old words", "the new words")
    fragment = signed_in_client(None).get(history_url(comment), headers=HX)
    text = response_text(fragment)
    assert fragment.status_code == 200 and "<html" not in text
    assert f'id="comment-history-{comment.pk}"' in text and "Hide history" in text
    assert text.index("the new words") < text.index("the old words")  # newest first
    assert "2 versions" in text and "Version 2" in text and "(current)" in text
    page = signed_in_client(None).get(history_url(comment))
    page_text = response_text(page)
    assert page.status_code == 200 and "<html" in page_text
    assert "the old words" in page_text and "Back to the discussion" in page_text
    assert "Hide history" not in page_text  # nothing to hide on its own page


def test_history_is_get_only(claim, writer):
    comment = edited(claim, writer, "a", "b")
    client = signed_in_client(writer)
    assert client.post(history_url(comment)).status_code == 405
    assert client.put(history_url(comment)).status_code == 405


def test_history_of_a_private_map_comment_is_404_to_strangers(make_map, owner, stranger):
    argument_map = make_map(visibility=ArgumentMap.Visibility.PRIVATE)
    thesis = Claim.objects.get(map=argument_map, parent__isnull=True)
    comment = edited(thesis, owner, "private first", "private second")
    assert signed_in_client(stranger).get(history_url(comment)).status_code == 404
    assert signed_in_client(None).get(history_url(comment)).status_code == 404
    assert signed_in_client(owner).get(history_url(comment)).status_code == 200


def test_history_of_a_comment_of_another_map_is_404(make_map, claim, writer, owner):
    comment = edited(claim, writer, "a", "b")
    other = make_map()
    url = f"/maps/{other.slug}/comments/{comment.pk}/history/"
    assert signed_in_client(owner).get(url).status_code == 404
    assert signed_in_client(owner).get("/maps/x/comments/999999/history/").status_code == 404


def test_hidden_comment_history_only_to_author_and_moderators(claim, writer, viewer, moderator):
    add_member(claim.map, moderator, Role.MODERATOR)
    comment = edited(claim, writer, "hidden before", "hidden after")
    Comment.objects.filter(pk=comment.pk).update(status=Comment.Status.HIDDEN)
    assert signed_in_client(viewer).get(history_url(comment)).status_code == 404
    assert signed_in_client(None).get(history_url(comment)).status_code == 404
    for user in (writer, moderator):
        response = signed_in_client(user).get(history_url(comment), headers=HX)
        assert response.status_code == 200 and "hidden before" in response_text(response)


def test_deleted_comment_history_only_to_moderators(claim, writer, owner, viewer, moderator):
    add_member(claim.map, moderator, Role.MODERATOR)
    comment = edited(claim, writer, "secret first", "secret second")
    discussion.comment_post(claim=claim, author=owner, body="a reply", parent=comment)
    discussion.comment_delete(comment=comment, by=writer)
    # Its author and everyone else who sees the tombstone: refused, no text.
    for user in (writer, viewer, None):
        response = signed_in_client(user).get(history_url(comment), headers=HX)
        assert response.status_code == 403
        assert "secret" not in response_text(response)
    response = signed_in_client(moderator).get(history_url(comment), headers=HX)
    text = response_text(response)
    assert response.status_code == 200
    assert "secret first" in text and "secret second" in text and "(last text)" in text
    # The tombstone offers the history to moderators only.
    assert history_url(comment) in response_text(signed_in_client(moderator).get(thread_url(claim)))
    for user in (writer, viewer):
        thread = response_text(signed_in_client(user).get(thread_url(claim)))
        assert history_url(comment) not in thread and "secret" not in thread


def test_permission_for_comment_history(claim, writer, viewer, moderator):
    add_member(claim.map, moderator, Role.MODERATOR)
    comment = edited(claim, writer, "a", "b")
    assert permissions.can_view_comment_history(viewer, comment)
    comment.status = Comment.Status.DELETED
    assert not permissions.can_view_comment_history(writer, comment)
    assert permissions.can_view_comment_history(moderator, comment)
