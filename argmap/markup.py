"""The one safe Markdown pipeline: every piece of user Markdown shown as HTML goes through
``render_markdown``, and its ``mark_safe`` is the only one on user-written text in the project.

1. markdown-it-py with the ``js-default`` preset: raw HTML in the source is escaped, not passed
   through (the default preset would let ``<img onerror>`` or ``<div hx-get>`` straight out), and
   ``javascript:``/``vbscript:``/``data:`` links are refused by its link validator. Tables and
   images are off; headings are shown as paragraphs.
2. ``@username`` mentions of existing users become ``<span class="mention">`` markers, decided on
   the parsed tokens (never inside code or link text), before sanitizing.
3. nh3 with an explicit allowlist (``ALLOWED_TAGS``): a handful of formatting tags, ``a[href]``
   for http, https and mailto only (relative links are dropped), ``rel="nofollow ugc noopener"``
   forced on links, and no ``class`` except ``mention`` on ``span``. Nothing else survives: no
   ``on*``, ``style``, ``data-*`` or ``hx-*`` attributes, no ``<meta>``, ``<script>``, ``<img>``.
4. The result is wrapped in ``<div class="markdown" hx-disable>``, so htmx ignores anything
   inside even if a future allowlist change let an ``hx-*`` attribute slip through.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

import nh3
from django.contrib.auth import get_user_model
from django.db.models.functions import Lower
from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe
from markdown_it import MarkdownIt
from markdown_it.token import Token

ALLOWED_TAGS = frozenset(
    {"p", "br", "em", "strong", "s", "code", "pre", "blockquote", "ul", "ol", "li", "hr", "a"}
    | {"span"}  # only as the mention marker: its one allowed class is "mention"
)
ALLOWED_ATTRIBUTES = {"a": {"href"}}
ALLOWED_SCHEMES = frozenset({"http", "https", "mailto"})
LINK_REL = "nofollow ugc noopener"
MAX_MENTIONS = 10

# Django's usernames allow letters, digits and @.+-_; a mention is "@" not preceded by a word
# character or another "@" (so e-mail addresses are not mentions). A trailing dot is punctuation.
MENTION_RE = re.compile(r"(?<![\w@])@([\w.+-]{1,150})")

# Tables and images are off: the allowlist would reduce them to stray text, so their Markdown
# source stays as written instead.
_markdown = MarkdownIt("js-default").disable(["table", "image"])
_cleaner = nh3.Cleaner(
    tags=set(ALLOWED_TAGS),
    clean_content_tags={"script", "style"},
    attributes={tag: set(names) for tag, names in ALLOWED_ATTRIBUTES.items()},
    url_schemes=set(ALLOWED_SCHEMES),
    url_relative="deny",
    link_rel=LINK_REL,
    allowed_classes={"span": {"mention"}},
    strip_comments=True,
)


def _candidates(text: str) -> list[str]:
    return [match.rstrip(".") for match in MENTION_RE.findall(text) if match.rstrip(".")]


def mention_candidates(source: str) -> list[str]:
    """Names written as ``@name`` in the prose of ``source`` (not in code), in order, once each."""
    seen: dict[str, None] = {}
    for token in _prose_tokens(_markdown.parse(source or "")):
        for name in _candidates(token.content):
            seen.setdefault(name.casefold(), None)
    return list(seen)


def known_usernames(names: Iterable[str]) -> dict[str, str]:
    """Map each casefolded name that belongs to an active user to that user's real username."""
    folded = {name.casefold() for name in names}
    if not folded:
        return {}
    model = get_user_model()
    field = model.USERNAME_FIELD
    query = model.objects.filter(is_active=True)
    # One query whatever the count: usernames are compared case-insensitively.
    rows = query.annotate(_folded=Lower(field)).filter(_folded__in=folded).values_list(field)
    return {username.casefold(): username for (username,) in rows}


def mentioned_users(source: str, *, limit: int = MAX_MENTIONS) -> list:
    """The existing users ``source`` mentions, at most ``limit``, in the order first mentioned."""
    names = mention_candidates(source)[: limit * 3]
    known = known_usernames(names)
    usernames = [known[name] for name in names if name in known][:limit]
    model = get_user_model()
    users = {
        u.get_username(): u
        for u in model.objects.filter(**{f"{model.USERNAME_FIELD}__in": usernames})
    }
    return [users[name] for name in usernames if name in users]


def _prose_tokens(tokens: list[Token]) -> Iterable[Token]:
    """Text tokens outside link text (code spans and blocks are separate token types)."""
    for block in tokens:
        if block.type != "inline" or not block.children:
            continue
        depth = 0
        for child in block.children:
            if child.type == "link_open":
                depth += 1
            elif child.type == "link_close":
                depth -= 1
            elif child.type == "text" and depth == 0:
                yield child


def _split_mentions(token: Token, known: dict[str, str]) -> list[Token]:
    """``token`` as a run of text tokens and mention markers (raw HTML tokens we build)."""
    pieces: list[Token] = []
    text = token.content
    last = 0
    for match in MENTION_RE.finditer(text):
        name = match.group(1).rstrip(".")
        username = known.get(name.casefold())
        if username is None:
            continue
        start, end = match.start(), match.start(1) + len(name)
        if start > last:
            pieces.append(Token("text", "", 0, content=text[last:start]))
        # Escaped here and sanitized again by nh3 below.
        marker = f'<span class="mention">@{escape(username)}</span>'
        pieces.append(Token("html_inline", "", 0, content=marker))
        last = end
    if not pieces:
        return [token]
    if last < len(text):
        pieces.append(Token("text", "", 0, content=text[last:]))
    return pieces


def _link_mentions(tokens: list[Token], known: dict[str, str]) -> None:
    if not known:
        return
    for block in tokens:
        if block.type != "inline" or not block.children:
            continue
        replaced: list[Token] = []
        depth = 0
        for child in block.children:
            if child.type == "link_open":
                depth += 1
            elif child.type == "link_close":
                depth -= 1
            if child.type == "text" and depth == 0:
                replaced.extend(_split_mentions(child, known))
            else:
                replaced.append(child)
        block.children = replaced


def _flatten_headings(tokens: list[Token]) -> None:
    """Headings read as paragraphs: a comment is not a document with an outline."""
    for token in tokens:
        if token.type in ("heading_open", "heading_close"):
            token.tag = "p"


def sanitize(html: str) -> str:
    """The nh3 allowlist on its own (for HTML that did not come from ``render_markdown``)."""
    return _cleaner.clean(html)


def render_markdown(source: str, *, known: dict[str, str] | None = None) -> SafeString:
    """User Markdown as safe HTML: markdown-it ``js-default``, mentions, nh3 allowlist, wrapped in
    ``hx-disable``. ``known`` (casefolded name -> username, from ``known_usernames``) saves the
    user lookup when a caller renders many texts at once."""
    tokens = _markdown.parse(source or "")
    if known is None:
        names = set()
        for token in _prose_tokens(tokens):
            names.update(name.casefold() for name in _candidates(token.content))
        known = known_usernames(names) if names else {}
    _flatten_headings(tokens)
    _link_mentions(tokens, known)
    html = _cleaner.clean(_markdown.renderer.render(tokens, _markdown.options, {}))
    # The only mark_safe on user text: everything inside went through nh3 just above.
    return mark_safe(f'<div class="markdown" hx-disable>{html}</div>')
