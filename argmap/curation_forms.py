"""Forms for curation: a new map from an article, annotating the article, and the admin's outline
actions. They parse input; ``argmap/curation.py`` and ``argmap/services.py`` decide."""

from __future__ import annotations

from django import forms
from django.conf import settings
from django.utils.text import slugify

from argmap.forms import QuoteFields
from argmap.models import ArgumentMap, Claim
from argmap.services import SOURCE_EMPTY, SOURCE_MAX_CHARS, SOURCE_TOO_LARGE

SLUG_NEEDED = (
    "Give the map an address: letters, digits and hyphens (none could be made from the title)."
)
SLUG_RESERVED = "The address “{slug}” is reserved; choose another."
RESERVED_SLUGS = frozenset({"new"})
QUOTE_NEEDED = (
    "Select a passage in the article (or paste it exactly into “Passage”) to anchor the claim."
)
REASON_NEEDED = "Give a reason: it is recorded in the history and the moderation log."


def normalize_newlines(text: str) -> str:
    """Browsers submit line breaks as CRLF; sources store LF (as ``services.source_create``)."""
    return text.replace("\r\n", "\n").replace("\r", "\n")


class NewMapForm(forms.Form):
    """An article and the map to start on it."""

    article_title = forms.CharField(label="Article title", max_length=300)
    publisher = forms.CharField(max_length=200, required=False)
    url = forms.URLField(label="URL", max_length=1000, required=False, assume_scheme="https")
    published = forms.DateField(
        label="Published on",
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}),
        help_text="YYYY-MM-DD",
    )
    # Not required and not stripped: the service's own messages explain an empty or huge text,
    # and the text is kept exactly as pasted (quotes must anchor into it).
    article_text = forms.CharField(
        label="Article text",
        required=False,
        strip=False,
        widget=forms.Textarea(attrs={"rows": 16, "data-max-chars": SOURCE_MAX_CHARS}),
        help_text=f"The whole article as plain text, at most {SOURCE_MAX_CHARS:,} characters.",
    )
    map_title = forms.CharField(
        label="Map title",
        max_length=200,
        required=False,
        help_text="Defaults to the article title.",
    )
    slug = forms.SlugField(
        label="Map address",
        max_length=80,
        required=False,
        help_text="The map's URL: /maps/<address>/. Made from the title when left empty.",
    )
    description = forms.CharField(
        required=False, widget=forms.Textarea(attrs={"rows": 2}), max_length=2000
    )
    thesis = forms.CharField(
        max_length=settings.ARGMAP_CLAIM_MAX_LENGTH,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text="The one proposition the map argues about.",
    )
    visibility = forms.ChoiceField(
        choices=ArgumentMap.Visibility.choices, initial=ArgumentMap.Visibility.PUBLIC
    )

    def clean_article_text(self) -> str:
        text = normalize_newlines(self.cleaned_data.get("article_text") or "")
        if not text.strip():
            raise forms.ValidationError(SOURCE_EMPTY)
        if len(text) > SOURCE_MAX_CHARS:
            raise forms.ValidationError(SOURCE_TOO_LARGE.format(limit=f"{SOURCE_MAX_CHARS:,}"))
        return text

    def clean(self):
        cleaned = super().clean()
        if not cleaned.get("slug") and "slug" not in self.errors:
            title = cleaned.get("map_title") or cleaned.get("article_title") or ""
            made = slugify(title)[:80].strip("-")
            if made:
                cleaned["slug"] = made
            elif title:
                self.add_error("slug", SLUG_NEEDED)
        if cleaned.get("slug") in RESERVED_SLUGS:
            self.add_error("slug", SLUG_RESERVED.format(slug=cleaned["slug"]))
        return cleaned


class AnnotateForm(QuoteFields):
    """A claim made from a passage: where it goes, for or against, its text and its quote."""

    parent = forms.TypedChoiceField(label="Under", coerce=int)
    stance = forms.ChoiceField(
        choices=Claim.Stance.choices, widget=forms.RadioSelect, initial=Claim.Stance.SUPPORT
    )
    text = forms.CharField(
        label="Claim",
        required=False,
        strip=False,
        widget=forms.Textarea(attrs={"rows": 3, "data-max": settings.ARGMAP_CLAIM_MAX_LENGTH}),
        help_text="Prefilled from the passage; make it one clear proposition.",
    )
    # Visible here (hidden in the other claim forms): without JavaScript the curator pastes the
    # passage, and the context fields say which occurrence is meant.
    quote_exact = forms.CharField(
        label="Passage",
        required=False,
        strip=False,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text="Exactly as it stands in the article.",
    )
    quote_prefix = forms.CharField(
        label="Text just before it (if the passage occurs more than once)",
        required=False,
        strip=False,
        max_length=64,
    )
    quote_suffix = forms.CharField(
        label="Text just after it", required=False, strip=False, max_length=64
    )

    field_order = ["parent", "stance", "quote_exact", "text", "quote_prefix", "quote_suffix"]

    def __init__(self, *args, parents: list[tuple[int, str]], **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["parent"].choices = parents
        del self.fields["remove_quote"]

    def clean(self):
        cleaned = super().clean()
        if not cleaned.get("quote_exact"):
            self.add_error("quote_exact", QUOTE_NEEDED)
        elif not (cleaned.get("text") or "").strip():
            # No JavaScript to prefill it: the passage itself is the claim's first wording.
            cleaned["text"] = " ".join(cleaned["quote_exact"].split())
        return cleaned


class ReasonForm(forms.Form):
    """The reason every curator action records in history and the moderation log."""

    reason = forms.CharField(
        max_length=1000,
        widget=forms.Textarea(attrs={"rows": 2}),
        error_messages={"required": REASON_NEEDED},
    )


class MoveForm(ReasonForm):
    parent = forms.TypedChoiceField(label="New parent", coerce=int)
    stance = forms.ChoiceField(choices=Claim.Stance.choices, widget=forms.RadioSelect)

    def __init__(self, *args, parents: list[tuple[int, str]], **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["parent"].choices = parents


class StanceForm(ReasonForm):
    stance = forms.ChoiceField(choices=Claim.Stance.choices, widget=forms.RadioSelect)


class MergeForm(ReasonForm):
    keep = forms.TypedChoiceField(
        label="Keep",
        coerce=int,
        help_text="The claim that stays: this one's children, votes, comments and quote go to it.",
    )

    def __init__(self, *args, claims: list[tuple[int, str]], **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["keep"].choices = claims
