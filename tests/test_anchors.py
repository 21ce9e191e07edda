"""Quote anchors: resolving quotes, splitting sentences, coverage and the rendered article."""

from __future__ import annotations

import re
from html import unescape
from html.parser import HTMLParser

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from argmap.anchors import (
    CONTEXT_CHARS,
    QUOTE_AMBIGUOUS,
    QUOTE_CONTEXT_MISMATCH,
    QUOTE_EMPTY,
    QUOTE_NOT_FOUND,
    AnchorError,
    Highlight,
    coverage,
    render_article,
    resolve_quote,
    sentence_spans,
)

TEXT = "The cat sat. The dog sat. The cat ran away!"


# --- resolve_quote ------------------------------------------------------------------------------


def test_unique_quote_resolves_to_its_offsets_and_context():
    quote = resolve_quote(TEXT, "dog sat")
    assert (quote.start, quote.end) == (17, 24)
    assert quote.exact == "dog sat" == TEXT[quote.start : quote.end]
    assert quote.prefix == "The cat sat. The "
    assert quote.suffix == ". The cat ran away!"


def test_context_is_capped_at_context_chars():
    text = "x" * 100 + "NEEDLE" + "y" * 100
    quote = resolve_quote(text, "NEEDLE")
    assert quote.prefix == "x" * CONTEXT_CHARS
    assert quote.suffix == "y" * CONTEXT_CHARS


def test_quote_missing_from_text_is_refused():
    with pytest.raises(AnchorError, match=re.escape(QUOTE_NOT_FOUND)):
        resolve_quote(TEXT, "The bird sang")


def test_empty_quote_is_refused():
    with pytest.raises(AnchorError, match=re.escape(QUOTE_EMPTY)):
        resolve_quote(TEXT, "")


def test_ambiguous_quote_asks_for_prefix_or_suffix():
    with pytest.raises(AnchorError) as refused:
        resolve_quote(TEXT, "The cat")
    assert str(refused.value) == QUOTE_AMBIGUOUS.format(count=2)


def test_overlapping_occurrences_count_as_ambiguous():
    with pytest.raises(AnchorError, match="occurs 2 times"):
        resolve_quote("aaa", "aa")


@pytest.mark.parametrize(
    ("context", "expected_start"),
    [
        ({"prefix": "sat. "}, 26),
        ({"prefix": "The cat sat. The dog sat. "}, 26),
        ({"suffix": " sat."}, 0),
        ({"suffix": " ran"}, 26),
        ({"prefix": "", "suffix": " sat. The dog"}, 0),
    ],
)
def test_prefix_or_suffix_picks_one_of_several_occurrences(context, expected_start):
    quote = resolve_quote(TEXT, "The cat", **context)
    assert quote.start == expected_start
    assert TEXT[quote.start : quote.end] == "The cat"


def test_context_that_matches_no_occurrence_is_refused():
    with pytest.raises(AnchorError, match=re.escape(QUOTE_CONTEXT_MISMATCH)):
        resolve_quote(TEXT, "The cat", prefix="meow ")


def test_context_that_still_matches_two_occurrences_stays_ambiguous():
    with pytest.raises(AnchorError, match="occurs 2 times"):
        resolve_quote(TEXT, "The cat", suffix=" ")


def test_matching_offsets_pick_that_occurrence():
    quote = resolve_quote(TEXT, "The cat", start=26, end=33)
    assert (quote.start, quote.end, quote.exact) == (26, 33, "The cat")
    assert quote.prefix == TEXT[:26]


@pytest.mark.parametrize(
    ("start", "end"),
    [
        (1, 8),  # stale: the text moved by one character
        (4, 7),  # forged: points at "cat"
        (26, 34),  # right start, wrong length
        (0, 0),
    ],
)
def test_offsets_that_do_not_point_at_the_quote_are_refused(start, end):
    with pytest.raises(AnchorError, match=r"do not point at the quote"):
        resolve_quote(TEXT, "The cat", start=start, end=end)


def test_refusal_shows_what_the_offsets_point_at():
    with pytest.raises(AnchorError, match=re.escape("(it reads 'cat sat')")):
        resolve_quote(TEXT, "The cat", start=4, end=11)


@pytest.mark.parametrize(
    ("start", "end"),
    [
        (-7, 0),
        (len(TEXT) - 3, len(TEXT) + 4),
        (len(TEXT) + 10, len(TEXT) + 17),
        (10_000, 10_007),
    ],
)
def test_offsets_out_of_range_are_refused(start, end):
    with pytest.raises(AnchorError):
        resolve_quote(TEXT, "The cat", start=start, end=end)


def test_negative_end_offset_is_refused_even_when_the_slice_matches():
    # text[6:-1] == "worl": a Python slice, not an anchor. Stored, it breaks the DB constraints.
    with pytest.raises(AnchorError):
        resolve_quote("hello world", "worl", start=6, end=-1)


def test_only_one_offset_is_refused():
    with pytest.raises(AnchorError, match="both start and end"):
        resolve_quote(TEXT, "The cat", start=0)
    with pytest.raises(AnchorError, match="both start and end"):
        resolve_quote(TEXT, "The cat", end=7)


def test_offsets_with_contradicting_prefix_are_refused():
    with pytest.raises(AnchorError, match=re.escape(QUOTE_CONTEXT_MISMATCH)):
        resolve_quote(TEXT, "The cat", prefix="dog sat. ", start=0, end=7)


def test_offsets_with_agreeing_context_are_accepted():
    quote = resolve_quote(TEXT, "The cat", prefix="dog sat. ", suffix=" ran", start=26, end=33)
    assert quote.start == 26


# Offsets count str characters (code points), never bytes or UTF-16 units.
ODD_TEXT = (
    "“Curly” quotes — and ‘single’ ones.\u00a0NBSP here. "
    "Cafe\u0301 (combining) vs café (precomposed). "
    "שלום עולם and مرحبا بالعالم are right-to-left. "
    "Thumbs 👍🏽 and family 👨‍👩‍👧 emoji. Done."
)


@pytest.mark.parametrize(
    "exact",
    [
        "“Curly”",
        "‘single’ ones.",
        "ones.\u00a0NBSP",
        "Cafe\u0301",
        "café",
        "שלום עולם",
        "مرحبا بالعالم",
        "👍🏽",
        "👨‍👩‍👧 emoji",
        "Done.",
    ],
)
def test_odd_unicode_resolves_at_str_offsets(exact):
    quote = resolve_quote(ODD_TEXT, exact)
    assert quote.start == ODD_TEXT.index(exact)
    assert quote.end - quote.start == len(exact)
    assert ODD_TEXT[quote.start : quote.end] == exact
    # And the offsets it returns are accepted back as they are.
    assert resolve_quote(ODD_TEXT, exact, start=quote.start, end=quote.end) == quote


def test_offsets_after_an_emoji_are_not_byte_or_utf16_offsets():
    text = "👍🏽 yes"
    quote = resolve_quote(text, "yes")
    assert (quote.start, quote.end) == (3, 6)
    assert len(text[:3].encode("utf-8")) == 9  # byte offsets would differ
    with pytest.raises(AnchorError):
        resolve_quote(text, "yes", start=9, end=12)


@pytest.mark.parametrize(
    ("exact", "why"),
    [
        ("ones. NBSP", "a plain space does not match a no-break space"),
        ("Cafe (combining)", "dropping the combining mark changes the text"),
        ('"Curly"', "straight quotes do not match curly ones"),
        ("caf\u00e9 (combining)", "no Unicode normalization: NFC does not match NFD"),
    ],
)
def test_lookalike_quotes_do_not_match(exact, why):
    with pytest.raises(AnchorError, match=re.escape(QUOTE_NOT_FOUND)):
        resolve_quote(ODD_TEXT, exact)


@settings(deadline=None, max_examples=300)  # no wall-clock deadline on a busy machine
@given(data=st.data(), text=st.text(min_size=1, max_size=200))
@example(data=None, text="👍🏽\u00a0e\u0301 שלום")
def test_offsets_of_any_slice_resolve_to_exactly_that_slice(data, text):
    if data is None:  # the explicit example: slice the whole text
        start, end = 0, len(text)
    else:
        start = data.draw(st.integers(0, len(text) - 1), label="start")
        end = data.draw(st.integers(start + 1, len(text)), label="end")
    quote = resolve_quote(text, text[start:end], start=start, end=end)
    assert (quote.start, quote.end) == (start, end)
    assert text[quote.start : quote.end] == quote.exact == text[start:end]
    assert text[:start].endswith(quote.prefix)
    assert text[end:].startswith(quote.suffix)


# --- sentence_spans and coverage ---------------------------------------------------------------

ARTICLE = (
    "A heading without a full stop\n"
    "First sentence of the intro. Second sentence asks why? Third one shouts!\n"
    "\n"
    "Lists follow:\n"
    "- First bullet point\n"
    "- Second bullet point.\n"
    "  - Indented bullet\n"
    "He said “stop.” Then he left.\n"
    "Closing line without punctuation"
)


def _sentences(text):
    return [text[start:end] for start, end in sentence_spans(text)]


def test_sentences_split_lines_headings_bullets_and_sentence_ends():
    assert _sentences(ARTICLE) == [
        "A heading without a full stop",
        "First sentence of the intro.",
        "Second sentence asks why?",
        "Third one shouts!",
        "Lists follow:",
        "First bullet point",
        "Second bullet point.",
        "Indented bullet",
        "He said “stop.”",
        "Then he left.",
        "Closing line without punctuation",
    ]


def test_sentence_spans_handle_windows_line_endings():
    text = "One line.\r\nTwo. Three.\r\n- Four\r\n"
    assert _sentences(text) == ["One line.", "Two.", "Three.", "Four"]


def test_sentence_spans_of_empty_or_blank_text_are_empty():
    assert sentence_spans("") == []
    assert sentence_spans(" \n\n \t\n") == []


def test_coverage_counts_sentences_touched_by_anchors():
    spans = sentence_spans(ARTICLE)
    intro = ARTICLE.index("Second sentence")
    bullet = ARTICLE.index("Second bullet")
    anchors = [
        (intro, intro + 6),  # inside one sentence
        (bullet, bullet + len("Second bullet point.")),  # a whole bullet
        (bullet + 2, bullet + 5),  # the same sentence again: counted once
    ]
    assert coverage(ARTICLE, anchors) == (2, len(spans))


def test_coverage_counts_every_sentence_an_anchor_spans():
    start = ARTICLE.index("intro.")
    end = ARTICLE.index("Third") + 3
    assert coverage(ARTICLE, [(start, end)]) == (3, 11)


def test_coverage_ignores_anchors_in_the_gap_between_sentences_and_empty_ones():
    gap = ARTICLE.index(" Second sentence")  # the space between two sentences
    assert coverage(ARTICLE, [(gap, gap + 1), (5, 5), (9, 3)]) == (0, 11)


def test_coverage_of_the_whole_text_is_every_sentence():
    assert coverage(ARTICLE, [(0, len(ARTICLE))]) == (11, 11)


def test_coverage_of_nothing_is_zero():
    assert coverage(ARTICLE, []) == (0, 11)


# --- render_article ----------------------------------------------------------------------------

URL = "/maps/m/claims/{id}/"


class _TreeChecker(HTMLParser):
    """Fails on any end tag that does not close the innermost open element."""

    VOID = {"br", "img", "meta", "hr", "input"}

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.stack: list[str] = []
        self.text: list[str] = []

    def handle_starttag(self, tag, attrs):
        if tag not in self.VOID:
            self.stack.append(tag)

    def handle_endtag(self, tag):
        assert self.stack and self.stack[-1] == tag, f"</{tag}> closes {self.stack}"
        self.stack.pop()

    def handle_data(self, data):
        self.text.append(data)


def _well_formed(html: str) -> str:
    checker = _TreeChecker()
    checker.feed(html)
    checker.close()
    assert checker.stack == [], f"unclosed: {checker.stack}"
    return "".join(checker.text)


def test_article_escapes_markup_in_the_source():
    text = 'Intro <script>alert("x")</script> & <b onclick=evil()>bold</b>.'
    html = render_article(text, [], URL)
    assert "<script>" not in html and "<b " not in html
    assert "&lt;script&gt;" in html
    assert "&amp;" in html
    assert _well_formed(html) == text


def test_article_escapes_markup_inside_a_highlight():
    text = "Before <script>alert(1)</script> after."
    start = text.index("<script>")
    html = render_article(text, [Highlight(start, start + 8, [7])], URL)
    assert "<script>" not in html
    assert '<a class="quote" href="/maps/m/claims/7/" data-claims="7"' in html
    assert ">&lt;script&gt;</a>" in html


def _blocks_only(html: str) -> str:
    """The block structure without the blocks' attributes (data-offset and the like)."""
    return re.sub(r"<(h3|p|li|ul)( [^>]*)?>", r"<\1>", html)


def test_article_lines_become_headings_paragraphs_and_lists():
    html = _blocks_only(render_article(ARTICLE, [], URL))
    assert html.startswith("<h3>A heading without a full stop</h3>\n<p>First sentence")
    assert "<p>Lists follow:</p>\n<ul>\n<li>First bullet point</li>" in html
    assert "<li>Indented bullet</li>\n</ul>\n<p>He said" in html
    assert html.endswith("<h3>Closing line without punctuation</h3>")


def test_highlight_links_to_its_claims_and_records_its_span():
    start = ARTICLE.index("Second sentence")
    end = start + len("Second sentence asks why?")
    html = render_article(ARTICLE, [Highlight(start, end, [4, 2])], URL)
    assert (
        f'<a class="quote" href="/maps/m/claims/2/" data-claims="2 4" data-start="{start}" '
        f'data-end="{end}">Second sentence asks why?</a>'
    ) in html


def test_overlapping_highlights_are_cut_into_segments_that_list_every_claim():
    text = "alpha beta gamma delta"
    first = Highlight(0, 10, [1])  # "alpha beta"
    second = Highlight(6, 16, [2])  # "beta gamma"
    html = render_article(text, [first, second], URL)
    segments = re.findall(r'<a class="quote"[^>]*data-claims="([^"]*)"[^>]*>([^<]*)</a>', html)
    assert segments == [("1", "alpha "), ("1 2", "beta"), ("2", " gamma")]
    assert _well_formed(html) == text


def test_nested_highlight_inside_a_longer_one_is_not_nested_markup():
    text = "one two three four five"
    outer = Highlight(0, len(text), [1])
    inner = Highlight(4, 13, [2])  # "two three"
    html = render_article(text, [outer, inner], URL)
    assert "<a" not in re.sub(r"<a [^>]*>[^<]*</a>", "", html)  # no <a> inside an <a>
    segments = re.findall(r'data-claims="([^"]*)"[^>]*>([^<]*)</a>', html)
    assert segments == [("1", "one "), ("1 2", "two three"), ("1", " four five")]


def test_highlight_across_lines_is_cut_at_the_line_break():
    text = "First paragraph ends here.\nSecond paragraph starts here."
    html = render_article(text, [Highlight(16, 40, [3])], URL)
    assert html.count('data-claims="3"') == 2
    assert _well_formed(html) == text


_OTHER_BREAKS = "\x0b\x0c\x1c\x1d\x1e\x85\u2028\u2029"


def _line_contents(text: str) -> list[str]:
    """What each non-empty line should show: the line, minus a leading bullet marker."""
    contents = []
    for line in text.splitlines():
        if not line.strip():
            continue
        if line.strip().startswith("- "):
            line = line[line.index("- ") + 2 :]
        contents.append(line)
    return contents


_LINE = st.one_of(
    st.text(st.characters(exclude_categories=["Cs"]), max_size=40),
    st.sampled_from(["- bullet & <b>", "<script>alert(1)</script>", "Fin.", "  - x", ""]),
)


@st.composite
def _article_and_highlights(draw):
    lines = draw(st.lists(_LINE, min_size=1, max_size=8))
    text = draw(st.sampled_from(["\n", "\r\n"])).join(lines)
    highlights = []
    if text:
        for claim_id in range(draw(st.integers(0, 4))):
            start = draw(st.integers(0, len(text) - 1))
            end = draw(st.integers(start + 1, len(text)))
            highlights.append(Highlight(start, end, [claim_id + 1]))
    return text, highlights


@settings(deadline=None, max_examples=300)
@given(_article_and_highlights())
@example(("a <i>b</i>\n- c &amp; d\n\n“e” f.", [Highlight(0, 6, [1]), Highlight(3, 14, [2])]))
def test_rendered_article_gives_back_every_line_and_where_it_starts(article):
    text, highlights = article
    html = render_article(text, highlights, URL)
    _well_formed(html)
    rendered = [
        # A line may end in a break other than \r or \n (U+2028, \x1c, ...): shown, harmless.
        unescape(re.sub(r"<[^>]*>", "", line)).rstrip(_OTHER_BREAKS)
        for line in (html.split("\n") if html else [])
        if line not in {"<ul>", "</ul>"}
    ]
    assert rendered == _line_contents(text)
    # Each block says where its content starts in the source (for text selection in the browser).
    blocks = [line for line in (html.split("\n") if html else []) if line not in {"<ul>", "</ul>"}]
    for block, content in zip(blocks, rendered, strict=True):
        offset = int(re.match(r'<(?:h3|p|li) data-offset="(\d+)">', block).group(1))
        assert text[offset : offset + len(content)] == content
