"""The tree fragment rendered four ways, markup for markup, to compare renderers.

``argmap.tree.TreeRenderer`` is what the app uses. Here are a Django-template equivalent (a
recursive ``{% include %}``), a Jinja2 equivalent (a recursive macro) and the floor: one bare
function of f-strings and ``html.escape``, with nothing that is not needed to produce the markup.
``same_markup`` checks the four agree, so the comparison is of renderers, not of outputs.

Each row carries what the app's rows carry: status and lock markers, ``data-status``,
``data-votes`` and ``data-impact``, the five vote bars with their summary, and the comment count.
The case rendered is the bench's: an anonymous reader (no vote of their own, no vote control) in
the map's order (no ``sort`` parameter in URLs). The templates also write the pending and hidden
markers; the floor writes published claims only, which is all an anonymous reader is sent.
"""

from __future__ import annotations

import re
from html import escape
from pathlib import Path

import jinja2
from django import template
from django.template import Context, Engine

from argmap.tree import AGREEMENT_LABELS, IMPACT_LABELS, STANCE_LABELS, Node, TreeRenderer

TEMPLATES = Path(__file__).resolve().parent / "templates"

register = template.Library()


@register.filter
def remaining(node: Node) -> int:
    """Children not shown yet: what "show N more" offers."""
    return node.child_count - len(node.children)


@register.filter
def at_most(value: int, limit: int) -> int:
    return min(value, limit)


@register.filter
def at(items, index: int):
    """``items[index]``: a vote value's label on its scale."""
    return items[index]


@register.filter
def peak(counts: list[int]) -> int:
    """The tallest bar's count (1 when there are no votes, so every bar is h0)."""
    return max(counts) or 1


@register.filter
def bar_height(n: int, peak: int) -> int:
    """A bar's height class, 0..8, rounded up: any vote shows."""
    return -(-8 * n // peak)


@register.filter
def mean1(mean: float | None) -> str:
    """The mean vote to one decimal (Python's rounding, as the app), "–" without votes."""
    return "–" if mean is None else f"{mean:.1f}"


@register.filter
def impact(tally) -> str:
    """``data-impact``: the mean to four places, -1 without votes."""
    mean = tally.mean
    return "-1" if mean is None else str(round(mean, 4))


_django_engine: Engine | None = None
_jinja_env: jinja2.Environment | None = None


def django_template():
    global _django_engine
    if _django_engine is None:
        _django_engine = Engine(
            dirs=[str(TEMPLATES)],
            libraries={"bench": "renderers"},
            loaders=[
                (
                    "django.template.loaders.cached.Loader",
                    ["django.template.loaders.filesystem.Loader"],
                )
            ],
        )
    return _django_engine.get_template("tree_node.django.html")


def jinja_template() -> jinja2.Template:
    global _jinja_env
    if _jinja_env is None:
        _jinja_env = jinja2.Environment(
            loader=jinja2.FileSystemLoader(TEMPLATES), autoescape=True, auto_reload=False
        )
    return _jinja_env.get_template("tree.jinja.html")


def render_app(root: Node, slug: str, level: int, page_size: int) -> str:
    return TreeRenderer(slug, page_size=page_size).node(root, level)


def render_django(root: Node, slug: str, level: int, page_size: int) -> str:
    context = {
        "node": root,
        "level": level,
        "base": f"/maps/{slug}/claims/",
        "page_size": page_size,
        "impact_labels": IMPACT_LABELS,
        "agreement_labels": AGREEMENT_LABELS,
    }
    return django_template().render(Context(context))


def render_jinja(root: Node, slug: str, level: int, page_size: int) -> str:
    return jinja_template().render(
        root=root,
        level=level,
        base=f"/maps/{slug}/claims/",
        page_size=page_size,
        labels=STANCE_LABELS,
        impact_labels=IMPACT_LABELS,
        agreement_labels=AGREEMENT_LABELS,
    )


_LABELS = {
    "support": '<span class="stance" title="Supports its parent">Pro</span>',
    "counter": '<span class="stance" title="Counters its parent">Con</span>',
    "": '<span class="stance" title="The thesis of this map">Thesis</span>',
}
_LOCKED = (
    '<span class="markers"><span class="marker marker-locked" title="No new claims or edits">'
    "Locked</span></span>"
)


def _vote_strings(scale: tuple[str, ...], kind: str) -> tuple[str, str, str]:
    """(bars' title template, opening of the votes span, the whole span for no votes)."""
    detail = " · ".join(f"{value} {label}: {{}}" for value, label in enumerate(scale))
    opening = f'<span class="votes {kind.lower()}" id="votes-'
    empty = (
        '"><span class="vote-bars" aria-hidden="true" title="'
        + detail.format(0, 0, 0, 0, 0)
        + '">'
        + '<span class="vote-bar h0"></span>' * 5
        + '</span><span class="vote-mean" aria-hidden="true">–</span>'
        f'<span class="visually-hidden">{kind}: no votes yet</span></span>'
    )
    return detail, opening, empty


# Claims rate their impact on their parent; the thesis, agreement (argmap.tree's two scales).
_IMPACT = _vote_strings(IMPACT_LABELS, "Impact")
_AGREEMENT = _vote_strings(AGREEMENT_LABELS, "Agreement")


def _floor_votes(pk: int, counts, thesis: bool) -> tuple[str, str]:
    """(data-votes and data-impact attributes, the votes span) for an anonymous reader."""
    detail, opening, empty = _AGREEMENT if thesis else _IMPACT
    c0, c1, c2, c3, c4 = counts
    total = c0 + c1 + c2 + c3 + c4
    if not total:
        return ' data-votes="0" data-impact="-1"', f"{opening}{pk}{empty}"
    mean = (c1 + 2 * c2 + 3 * c3 + 4 * c4) / total
    peak = max(counts)
    bars = "".join(f'<span class="vote-bar h{-(-8 * n // peak)}"></span>' for n in counts)
    kind = "Agreement" if thesis else "Impact"
    return f' data-votes="{total}" data-impact="{round(mean, 4)}"', (
        f'{opening}{pk}"><span class="vote-bars" aria-hidden="true" '
        f'title="{detail.format(c0, c1, c2, c3, c4)}">{bars}</span>'
        f'<span class="vote-mean" aria-hidden="true">{mean:.1f}</span>'
        f'<span class="visually-hidden">{kind}: {total} vote{"" if total == 1 else "s"}, '
        f"mean {mean:.1f}</span></span>"
    )


def _floor_comments(pk: int, n: int, base: str) -> str:
    words = "1 comment" if n == 1 else f"{n} comments"
    return (
        f'<a class="comment-count" id="comments-{pk}" href="{base}{pk}/thread/" tabindex="-1" '
        f'data-thread="{pk}" title="Discussion: {words}" aria-label="Discussion: {words}">'
        f"{words}</a>"
    )


def _floor_more(pk: int, seen: int, left: int, level: int, base: str, page_size: int) -> str:
    """The "show N more" item under ``pk`` whose children sit at ``level``."""
    return (
        f'<li role="none" class="more" id="more-{pk}-{seen}">'
        f'<a href="{base}{pk}/?offset={seen}" '
        f'hx-get="{base}{pk}/children/?offset={seen}&amp;level={level}" '
        f'hx-target="#more-{pk}-{seen}" hx-swap="outerHTML">'
        f"Show {min(left, page_size)} more of {left}</a></li>"
    )


def _floor_node(node, level: int, base: str, page_size: int, append) -> None:
    """A published claim as an anonymous reader sees it (no vote of theirs, no vote control)."""
    pk = node.id
    children = node.children
    count = node.supports + node.counters
    quote = (
        f' data-quote-start="{node.quote_start}" data-quote-end="{node.quote_end}"'
        if node.quote_start is not None
        else ""
    )
    author = "" if node.author_id is None else node.author_id
    data_votes, votes = _floor_votes(pk, node.tally.counts, node.parent_id is None)
    locked = node.locked
    head = (
        f'<li role="treeitem" id="claim-{pk}" class="claim {node.stance or "thesis"}'
        f'{" is-locked" if locked else ""}" aria-level="{level}"'
    )
    tail = (
        f' tabindex="-1" data-claim="{pk}" data-position="{node.position}" '
        f'data-author="{author}" data-status="published"{data_votes}{quote} '
        f'aria-labelledby="text-{pk}"><div class="claim-row" id="row-{pk}">'
    )
    text = f'<span class="claim-text" id="text-{pk}">{escape(node.text)}</span>'
    if locked:
        text += _LOCKED
    meta = f'<span class="claim-meta">{votes}{_floor_comments(pk, node.comments, base)}'
    permalink = f'<a class="permalink" href="{base}{pk}/" tabindex="-1" title="Permalink">#{pk}</a>'
    if not count:
        append(
            f"{head}{tail}"
            f'<span class="toggle leaf" aria-hidden="true"></span>{_LABELS[node.stance]}{text}'
            f'{meta}<span class="counts" id="counts-{pk}"></span>{permalink}'
            f'</span></div><ul role="group" id="group-{pk}" class="group" hidden '
            f'data-loaded="true"></ul></li>'
        )
        return
    append(
        f'{head} aria-expanded="{"true" if children else "false"}"{tail}'
        f'<a class="toggle" href="{base}{pk}/" hx-get="{base}{pk}/children/?level={level + 1}" '
        f'hx-trigger="argmap:load" hx-target="#group-{pk}" hx-swap="innerHTML" tabindex="-1" '
        f'aria-hidden="true" title="Show or hide the claims under this">'
        f'<span class="chevron"></span></a>{_LABELS[node.stance]}{text}'
        f'{meta}<span class="counts" id="counts-{pk}" '
        f'title="{node.supports} pro, {node.counters} con">'
        f'<span class="count-pro">{node.supports} pro</span> '
        f'<span class="count-con">{node.counters} con</span></span>{permalink}</span></div>'
    )
    if not children:
        append(f'<ul role="group" id="group-{pk}" class="group" hidden></ul></li>')
        return
    append(f'<ul role="group" id="group-{pk}" class="group" data-loaded="true">')
    for child in children:
        _floor_node(child, level + 1, base, page_size, append)
    if count > len(children):
        append(_floor_more(pk, len(children), count - len(children), level + 1, base, page_size))
    append("</ul></li>")


def render_floor(root, slug: str, level: int, page_size: int) -> str:
    """The same markup from bare f-strings: the least Python can do to produce it."""
    out: list[str] = []
    _floor_node(root, level, f"/maps/{slug}/claims/", page_size, out.append)
    return "".join(out)


def render_floor_children(parent, slug: str, level: int, page_size: int) -> str:
    """An expand fragment: ``parent``'s loaded children at ``level`` plus "show more"."""
    base = f"/maps/{slug}/claims/"
    out: list[str] = []
    for child in parent.children:
        _floor_node(child, level, base, page_size, out.append)
    seen, count = len(parent.children), parent.supports + parent.counters
    if count > seen:
        out.append(_floor_more(parent.id, seen, count - seen, level, base, page_size))
    return "".join(out)


RENDERERS = {
    "TreeRenderer (app)": render_app,
    "Django template": render_django,
    "Jinja2": render_jinja,
    "f-string floor": render_floor,
}

_BETWEEN_TAGS = re.compile(r">\s+<")


def normalize(markup: str) -> str:
    """Ignore whitespace between tags and the spelling of escaped quotes."""
    markup = markup.replace("&#39;", "&#x27;").replace("&#34;", "&quot;")
    return _BETWEEN_TAGS.sub("><", markup.strip())


def same_markup(outputs: dict[str, str]) -> dict[str, bool]:
    """For each renderer, whether its output equals the app's TreeRenderer output."""
    reference = normalize(outputs["TreeRenderer (app)"])
    return {name: normalize(html) == reference for name, html in outputs.items()}
