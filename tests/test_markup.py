"""The one safe Markdown pipeline: formatting kept, everything active stripped, mentions marked."""

from __future__ import annotations

import re
from html.parser import HTMLParser

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from argmap.markup import mentioned_users, render_markdown

KNOWN = {"walter-writer": "walter-writer", "bob": "Bob"}

ALLOWED_TAGS = {"p", "br", "em", "strong", "s", "code", "pre", "blockquote", "ul", "ol", "li", "hr"}


class Elements(HTMLParser):
    """Every element and attribute of a piece of HTML, as a browser's tokenizer sees them."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.found: list[tuple[str, list[tuple[str, str | None]]]] = []

    def handle_starttag(self, tag, attrs):
        self.found.append((tag, attrs))

    def handle_startendtag(self, tag, attrs):
        self.found.append((tag, attrs))


def assert_inert(html: str) -> None:
    """Only allowlisted elements; no attribute but a safe href and the mention class; and, since
    text is escaped, no "<script" anywhere at all."""
    assert "<script" not in html.lower()
    parser = Elements()
    parser.feed(html)
    for tag, attrs in parser.found:
        if tag == "a":
            names = {name for name, _ in attrs}
            assert names <= {"href", "rel"}, (tag, attrs)
            href = dict(attrs).get("href")
            if href is not None:
                assert re.match(r"(https?:|mailto:)", href, re.IGNORECASE), href
            assert dict(attrs)["rel"] == "nofollow ugc noopener"
        elif tag == "span":
            assert attrs == [("class", "mention")], attrs
        else:
            assert tag in ALLOWED_TAGS, tag
            assert attrs == [], (tag, attrs)


def render(source: str) -> str:
    return str(render_markdown(source, known=KNOWN))


def inner(html: str) -> str:
    """The rendered HTML without our own wrapper (which carries ``hx-disable``)."""
    assert html.startswith('<div class="markdown" hx-disable>') and html.endswith("</div>")
    return html[len('<div class="markdown" hx-disable>') : -len("</div>")]


def test_formatting_survives():
    html = render("**bold** *it* `code`\n\n> quoted\n\n- one\n- two\n\n1. first")
    for tag in (
        "<strong>bold</strong>",
        "<em>it</em>",
        "<code>code</code>",
        "<blockquote>",
        "<ul>",
        "<li>one</li>",
        "<ol>",
    ):
        assert tag in html


def test_output_is_wrapped_in_hx_disable():
    assert str(render_markdown("hi", known={})).startswith('<div class="markdown" hx-disable>')


@pytest.mark.parametrize(
    "source",
    [
        "<script>alert(1)</script>",
        "<img src=x onerror=alert(1)>",
        '<div hx-get="/admin/" hx-trigger="load">x</div>',
        '<a href="#" data-hx-post="/x">x</a>',
        '<meta name="htmx-config" content="{}">',
        "[x](javascript:alert(1))",
        "[x](JaVaScRiPt:alert(1))",
        "[x](java\tscript:alert(1))",
        "[x](data:text/html;base64,PHNjcmlwdD4=)",
        "[x](vbscript:msgbox(1))",
        "<svg><style><img src=x onerror=alert(1)></style></svg>",
        '<noscript><p title="</noscript><img src=x onerror=alert(1)>">',
        '<a href="https://ok.example" onclick="alert(1)" style="x" class="y">z</a>',
        "<iframe src=https://evil.example></iframe>",
    ],
)
def test_hostile_input_is_neutralised(source):
    html = inner(render(source))
    assert_inert(html)
    assert "<iframe" not in html and "<img" not in html and "<meta" not in html


def test_links_get_rel_and_only_safe_schemes():
    html = render("[a](https://example.org/x?a=1&b=2) [m](mailto:a@example.org) [r](/admin/)")
    assert '<a href="https://example.org/x?a=1&amp;b=2" rel="nofollow ugc noopener">a</a>' in html
    assert 'href="mailto:a@example.org"' in html
    assert 'href="/admin/"' not in html


def test_mentions_of_known_users_are_marked():
    html = render("thanks @walter-writer and @bob. and @nobody")
    assert '<span class="mention">@walter-writer</span>' in html
    assert '<span class="mention">@Bob</span>.' in html
    assert "@nobody" in html and '<span class="mention">@nobody' not in html


def test_mentions_not_in_code_links_or_email_addresses():
    html = render("`@bob` [@bob](https://x.example) mail bob@bob.example")
    assert "mention" not in html


def test_mentioned_users_looks_up_existing_users(writer, viewer):
    users = mentioned_users("hi @walter-writer @VERA-VIEWER @ghost `@sam-stranger`")
    assert [u.get_username() for u in users] == ["walter-writer", "vera-viewer"]


def test_mentions_capped(db, django_user_model):
    for n in range(12):
        django_user_model.objects.create_user(username=f"user{n}")
    source = " ".join(f"@user{n}" for n in range(12))
    assert len(mentioned_users(source)) == 10


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    st.lists(
        st.sampled_from(
            [
                "<script>",
                "</script>",
                "<img src=x onerror=alert(1)>",
                "javascript:",
                "hx-get=",
                "data-x=",
                "onclick=",
                "<a href=",
                "[",
                "](",
                ")",
                "`",
                "**",
                "\n\n",
                ">",
                "<",
                '"',
                "'",
                "=",
                "@bob",
                " ",
                "<svg onload=alert(1)>",
                "&#106;avascript:",
                "<div hx-on:click=alert(1)>",
                "<p data-hx-get=/x>",
                "java\nscript:",
                "<!--",
                "-->",
                "<style>",
                "<math>",
                "<![CDATA[",
                "\\",
                "&",
                "#",
                "x",
                "\u0000",
            ]
        )
        | st.text(max_size=20),
        max_size=30,
    ).map("".join)
)
def test_no_output_ever_contains_active_content(source):
    """Property: whatever is typed, the output's markup has no script, handler, javascript: URL,
    htmx or data attribute."""
    html = inner(str(render_markdown(source, known=KNOWN)))
    assert_inert(html)
    # Typed text may say "onclick=" or "javascript:" (escaped, inert); markup never does.
    tags = "".join(re.findall(r"<[^>]*>", html)).lower()
    for needle in ("<script", " on", "javascript:", "hx-", "data-", "style", "<img", "<iframe"):
        assert needle not in tags, (needle, html)


@pytest.mark.parametrize(
    "bad",
    [
        '<a href="javascript:alert(1)" rel="nofollow ugc noopener">x</a>',
        '<p onclick="x">y</p>',
        '<p hx-get="/x">y</p>',
        '<span data-hx-get="/x">y</span>',
        "<script>x</script>",
    ],
)
def test_the_checker_catches_active_markup(bad):
    """Negative control: the property above would notice active markup."""
    with pytest.raises(AssertionError):
        assert_inert(bad)
