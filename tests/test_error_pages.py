"""Error pages are ours: the site's layout and icon, and the reason when we gave one."""

from __future__ import annotations

import pytest
from django.template.loader import render_to_string
from django.utils.html import escape

from argmap.views.claims import CLAIM_CHANGE_REFUSED
from tests.conftest import response_text, signed_in_client


@pytest.mark.django_db
def test_not_found_page_uses_the_site_layout_and_its_icon():
    response = signed_in_client(None).get("/maps/no-such-map/")

    assert response.status_code == 404
    page = response_text(response)
    assert "<h1>Not found</h1>" in page
    assert 'rel="icon"' in page and 'class="site-header"' in page


@pytest.mark.django_db
def test_forbidden_page_says_why(make_map, stranger, writer):
    from argmap.models import Claim

    argument_map = make_map(claims=[(None, "support", "Streets are safer.")])
    claim = Claim.objects.get(map=argument_map, text="Streets are safer.")

    response = signed_in_client(stranger).post(
        f"/maps/{argument_map.slug}/claims/{claim.pk}/edit/", {"text": "Mine now", "version": 1}
    )

    assert response.status_code == 403
    page = response_text(response)
    assert "<h1>Not allowed</h1>" in page
    assert escape(CLAIM_CHANGE_REFUSED) in page
    assert "Mine now" not in page


def test_server_error_page_renders_without_a_request():
    page = render_to_string("500.html")

    assert "Something went wrong" in page and 'rel="icon"' in page
    assert "<script" not in page
