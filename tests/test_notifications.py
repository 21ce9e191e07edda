"""Notifications: the page (every kind readable, escaped, linked), mark read, the header badge."""

from __future__ import annotations

import pytest

from argmap import audit, discussion, members
from argmap.models import ArgumentMap, Claim, Notification, Role
from argmap.views.notifications import KIND_TEXT
from tests.conftest import add_member, response_text, signed_in_client

HX = {"HX-Request": "true"}


@pytest.fixture
def thesis(make_map) -> Claim:
    return Claim.objects.select_related("map").get(map=make_map(), parent__isnull=True)


def test_anonymous_is_sent_to_login(db):
    response = signed_in_client(None).get("/notifications/")
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]
    assert signed_in_client(None).post("/notifications/read/").status_code == 302


def test_wrong_methods_are_405(writer):
    client = signed_in_client(writer)
    assert client.post("/notifications/").status_code == 405
    assert client.get("/notifications/read/").status_code == 405
    assert client.get("/notifications/1/read/").status_code == 405


def test_every_kind_reads_and_links(thesis, owner, writer):
    comment = discussion.comment_post(claim=thesis, author=owner, body="a comment")
    for kind in Notification.Kind.values:
        audit.notify(
            recipient=writer,
            kind=kind,
            argument_map=thesis.map,
            actor=owner,
            claim=thesis,
            comment=comment if kind in ("reply", "mention") else None,
            message=f"reason for {kind}",
        )
    text = response_text(signed_in_client(writer).get("/notifications/"))
    for kind in Notification.Kind.values:
        assert f"olivia-owner {KIND_TEXT[kind]}" in text
        assert f"reason for {kind}" in text
    assert comment.get_absolute_url() in text
    assert thesis.get_absolute_url() in text
    assert f"{len(Notification.Kind.values)} unread" in text


def test_newest_first_and_only_mine(thesis, owner, writer, viewer):
    for text in ("msg-first", "msg-second"):
        audit.notify(
            recipient=writer, kind="hidden", argument_map=thesis.map, actor=owner, message=text
        )
    audit.notify(recipient=viewer, kind="hidden", argument_map=thesis.map, message="not yours")
    page = response_text(signed_in_client(writer).get("/notifications/"))
    assert page.index("msg-second") < page.index("msg-first")
    assert "not yours" not in page


def test_message_is_escaped(thesis, owner, writer):
    audit.notify(
        recipient=writer,
        kind="rejected",
        argument_map=thesis.map,
        actor=owner,
        message='<script>alert(1)</script><img src=x onerror="alert(2)">',
    )
    page = response_text(signed_in_client(writer).get("/notifications/"))
    assert "<script>alert(1)" not in page and "<img src=x" not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page


def test_badge_counts_unread_and_mark_read(thesis, owner, writer, viewer):
    for _ in range(2):
        audit.notify(recipient=writer, kind="mention", argument_map=thesis.map, actor=owner)
    client = signed_in_client(writer)
    home = response_text(client.get("/"))
    assert 'id="notifications-badge" class="badge"><span class="visually-hidden">' in home
    assert "unread: </span>2</span>" in home
    first = Notification.objects.filter(recipient=writer).first()
    # Someone else's notification is a 404 and stays unread.
    assert signed_in_client(viewer).post(f"/notifications/{first.pk}/read/").status_code == 404
    response = client.post(f"/notifications/{first.pk}/read/")
    assert response.status_code == 302 and response["Location"] == "/notifications/"
    assert Notification.objects.for_user(writer).unread().count() == 1
    fragment = client.post("/notifications/read/", headers=HX)
    assert fragment.status_code == 200 and "<html" not in response_text(fragment)
    assert 'hx-swap-oob="true" hidden' in response_text(fragment)  # the badge empties
    assert Notification.objects.for_user(writer).unread().count() == 0
    assert 'id="notifications-badge" class="badge" hidden' in response_text(client.get("/"))


def test_htmx_gets_the_list_fragment(writer):
    response = signed_in_client(writer).get("/notifications/", headers=HX)
    assert response.status_code == 200
    assert response_text(response).lstrip().startswith('<section class="notifications"')


def test_badge_costs_one_query_and_none_for_anonymous(thesis, writer, django_assert_num_queries):
    from django.test import RequestFactory

    from argmap.context_processors import unread_notifications

    request = RequestFactory().get("/")
    from django.contrib.auth.models import AnonymousUser

    request.user = AnonymousUser()
    with django_assert_num_queries(0):
        assert unread_notifications(request) == {}
    request.user = writer
    with django_assert_num_queries(1):
        assert int(str(unread_notifications(request)["unread_notifications"])) == 0


def test_leaving_a_private_map_hides_its_notifications(make_map, owner, writer):
    private = make_map(visibility=ArgumentMap.Visibility.PRIVATE, title="Secret plans")
    membership = add_member(private, writer, Role.WRITER)
    audit.notify(
        recipient=writer, kind=Notification.Kind.MENTION, argument_map=private, actor=owner
    )
    client = signed_in_client(writer)
    assert "Secret plans" in response_text(client.get("/notifications/"))

    members.member_remove(argument_map=private, by=owner, membership=membership)

    page = response_text(client.get("/notifications/"))
    assert "Secret plans" not in page
    assert Notification.objects.for_user(writer).unread().count() == 0
