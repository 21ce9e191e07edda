"""Quote anchors into a source text (the W3C/Hypothesis TextQuote + TextPosition selector shape).

An anchor is ``exact`` plus ``prefix``/``suffix`` context plus ``start``/``end`` offsets, and always
resolves to an exact substring of the source. Offsets count Python ``str`` characters (code
points), so curly quotes, combining marks and emoji anchor exactly.
"""

from __future__ import annotations

import bisect
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from html import escape

CONTEXT_CHARS = 32

QUOTE_EMPTY = "The quote is empty."
QUOTE_NOT_FOUND = "The quote does not occur in the source text."
QUOTE_AMBIGUOUS = (
    "The quote occurs {count} times in the source text; give a prefix, suffix or offsets to say "
    "which one."
)
QUOTE_OFFSETS_MISMATCH = (
    "The offsets {start}..{end} do not point at the quote in the source text (it reads {found!r})."
)
QUOTE_CONTEXT_MISMATCH = "The quote's prefix/suffix does not match the source text around it."
QUOTE_OFFSETS_NOT_INTEGERS = "The quote's start and end offsets must be whole numbers."


class AnchorError(ValueError):
    """A quote that does not resolve to exactly one place in the source."""


@dataclass(frozen=True, slots=True)
class Quote:
    exact: str
    prefix: str
    suffix: str
    start: int
    end: int

    def as_dict(self) -> dict[str, str | int]:
        return {
            "exact": self.exact,
            "prefix": self.prefix,
            "suffix": self.suffix,
            "start": self.start,
            "end": self.end,
        }


def _quote_at(text: str, start: int, end: int) -> Quote:
    return Quote(
        exact=text[start:end],
        prefix=text[max(0, start - CONTEXT_CHARS) : start],
        suffix=text[end : end + CONTEXT_CHARS],
        start=start,
        end=end,
    )


def _occurrences(text: str, exact: str) -> list[int]:
    found, index = [], text.find(exact)
    while index != -1:
        found.append(index)
        index = text.find(exact, index + 1)
    return found


def resolve_quote(
    text: str,
    exact: str,
    *,
    prefix: str = "",
    suffix: str = "",
    start: int | None = None,
    end: int | None = None,
) -> Quote:
    """Find where ``exact`` sits in ``text`` and return the full anchor, or raise AnchorError.

    Offsets, when given, must point at ``exact`` (a stale or forged anchor is refused). Without
    offsets the quote must occur once, or once with the given prefix/suffix around it.
    """
    if not isinstance(exact, str) or not exact:
        raise AnchorError(QUOTE_EMPTY)
    if start is not None or end is not None:
        if start is None or end is None:
            raise AnchorError("Give both start and end offsets, or neither.")
        if type(start) is not int or type(end) is not int:
            raise AnchorError(QUOTE_OFFSETS_NOT_INTEGERS)
        if not 0 <= start < end <= len(text) or text[start:end] != exact:
            found = text[max(0, start) : max(0, end)] if start <= end else ""
            raise AnchorError(QUOTE_OFFSETS_MISMATCH.format(start=start, end=end, found=found))
        if (prefix and not text[:start].endswith(prefix)) or (
            suffix and not text[end:].startswith(suffix)
        ):
            raise AnchorError(QUOTE_CONTEXT_MISMATCH)
        return _quote_at(text, start, end)

    candidates = _occurrences(text, exact)
    if not candidates:
        raise AnchorError(QUOTE_NOT_FOUND)
    if prefix or suffix:
        candidates = [
            index
            for index in candidates
            if text[:index].endswith(prefix) and text[index + len(exact) :].startswith(suffix)
        ]
        if not candidates:
            raise AnchorError(QUOTE_CONTEXT_MISMATCH)
    if len(candidates) > 1:
        raise AnchorError(QUOTE_AMBIGUOUS.format(count=len(candidates)))
    return _quote_at(text, candidates[0], candidates[0] + len(exact))


# A sentence ends at . ! ? (optionally followed by closing quotes/brackets) before whitespace.
_SENTENCE_END = re.compile(r"[.!?][\"'\u201d\u2019)\]]*(?=\s)")


def sentence_spans(text: str) -> list[tuple[int, int]]:
    """Split the source into sentences: each non-empty line, cut further at sentence ends.

    Headings and bullet points are lines of their own, so each counts as one sentence.
    """
    spans: list[tuple[int, int]] = []
    offset = 0
    for line in text.splitlines(keepends=True):
        body = line.rstrip("\r\n")
        cursor = 0
        for match in _SENTENCE_END.finditer(body):
            _append_span(spans, body, offset, cursor, match.end())
            cursor = match.end()
        _append_span(spans, body, offset, cursor, len(body))
        offset += len(line)
    return spans


def _append_span(
    spans: list[tuple[int, int]], body: str, offset: int, start: int, end: int
) -> None:
    piece = body[start:end]
    stripped = piece.strip()
    if not stripped:
        return
    if stripped.startswith("- "):
        stripped = stripped[2:].lstrip()
    lead = piece.find(stripped)
    spans.append((offset + start + lead, offset + start + lead + len(stripped)))


def coverage(text: str, anchors: Iterable[tuple[int, int]]) -> tuple[int, int]:
    """Return (sentences touched by some anchor, all sentences)."""
    sentences = sentence_spans(text)
    starts = [start for start, _ in sentences]
    touched: set[int] = set()
    for start, end in anchors:
        if end <= start:
            continue
        # First sentence that could overlap: the last one starting at or before `start`.
        index = max(0, bisect.bisect_right(starts, start) - 1)
        while index < len(sentences) and sentences[index][0] < end:
            if sentences[index][1] > start:
                touched.add(index)
            index += 1
    return len(touched), len(sentences)


@dataclass(frozen=True, slots=True)
class Highlight:
    """One anchored span of the source and the claims that cite it."""

    start: int
    end: int
    claim_ids: Sequence[int]


def _line_kind(line: str) -> str:
    stripped = line.strip()
    if stripped.startswith("- "):
        return "li"
    is_heading = (
        len(stripped) < 120
        and not stripped.endswith((".", ":", "!", "?", "”", '"'))
        and len(stripped.split()) <= 16
    )
    return "h3" if is_heading else "p"


def render_article(text: str, highlights: Sequence[Highlight], claim_url: str) -> str:
    """Render the source as escaped HTML: paragraphs, headings, bullet lists, highlighted quotes.

    ``claim_url`` is a format string with ``{id}``. Overlapping highlights are cut into
    elementary segments; each segment lists every claim that cites it.
    """
    cuts = sorted({0, len(text)} | {h.start for h in highlights} | {h.end for h in highlights})
    # For each elementary segment [cuts[i], cuts[i+1]) the highlights covering it.
    covering: list[list[Highlight]] = [[] for _ in range(len(cuts) - 1)]
    for highlight in highlights:
        first = bisect.bisect_left(cuts, highlight.start)
        last = bisect.bisect_left(cuts, highlight.end)
        for index in range(first, last):
            covering[index].append(highlight)

    def render_range(start: int, end: int) -> str:
        parts: list[str] = []
        index = max(0, bisect.bisect_right(cuts, start) - 1)
        while index < len(covering) and cuts[index] < end:
            seg_start, seg_end = max(cuts[index], start), min(cuts[index + 1], end)
            piece = escape(text[seg_start:seg_end], quote=False)
            spans = covering[index]
            if spans and piece:
                ids = sorted({claim for span in spans for claim in span.claim_ids})
                first = min(spans, key=lambda span: (span.start, span.end))
                parts.append(
                    f'<a class="quote" href="{escape(claim_url.format(id=ids[0]))}" '
                    f'data-claims="{" ".join(map(str, ids))}" '
                    f'data-start="{first.start}" data-end="{first.end}">{piece}</a>'
                )
            else:
                parts.append(piece)
            index += 1
        return "".join(parts)

    html: list[str] = []
    in_list = False
    offset = 0
    for line in text.splitlines(keepends=True):
        body = line.rstrip("\r\n")
        line_start, offset = offset, offset + len(line)
        if not body.strip():
            continue
        kind = _line_kind(body)
        if kind == "li" and not in_list:
            html.append("<ul>")
            in_list = True
        elif kind != "li" and in_list:
            html.append("</ul>")
            in_list = False
        content_start = line_start + (body.index("- ") + 2 if kind == "li" else 0)
        # data-offset lets the browser turn a text selection back into source offsets.
        html.append(
            f'<{kind} data-offset="{content_start}">'
            f"{render_range(content_start, line_start + len(body))}</{kind}>"
        )
    if in_list:
        html.append("</ul>")
    return "\n".join(html)
