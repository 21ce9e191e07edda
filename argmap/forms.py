"""Forms for writing claims. They parse input; the services decide what is allowed."""

from __future__ import annotations

from django import forms
from django.conf import settings

from argmap.models import Claim
from argmap.services import QuoteInput


class QuoteFields(forms.Form):
    """A quote anchor chosen by selecting text in the article (hidden fields set by app.js)."""

    quote_exact = forms.CharField(required=False, widget=forms.HiddenInput, strip=False)
    quote_prefix = forms.CharField(required=False, widget=forms.HiddenInput, strip=False)
    quote_suffix = forms.CharField(required=False, widget=forms.HiddenInput, strip=False)
    quote_start = forms.IntegerField(required=False, min_value=0, widget=forms.HiddenInput)
    quote_end = forms.IntegerField(required=False, min_value=0, widget=forms.HiddenInput)
    remove_quote = forms.BooleanField(required=False, label="Remove the quote")

    def clean(self):
        cleaned = super().clean()
        # A plain form submission sends every line break as CRLF (HTML spec); sources use LF.
        for name in ("quote_exact", "quote_prefix", "quote_suffix"):
            if cleaned.get(name):
                cleaned[name] = cleaned[name].replace("\r\n", "\n").replace("\r", "\n")
        return cleaned

    def quote(self) -> QuoteInput | None:
        data = self.cleaned_data
        if data.get("remove_quote") or not data.get("quote_exact"):
            return None
        return QuoteInput(
            exact=data["quote_exact"],
            prefix=data.get("quote_prefix") or "",
            suffix=data.get("quote_suffix") or "",
            start=data.get("quote_start"),
            end=data.get("quote_end"),
        )


class ClaimAddForm(QuoteFields):
    stance = forms.ChoiceField(
        choices=Claim.Stance.choices, widget=forms.RadioSelect, initial=Claim.Stance.SUPPORT
    )
    text = forms.CharField(
        # The service enforces the limit with a clear message; the browser gets a hint, not a cap
        # that silently truncates a pasted draft.
        widget=forms.Textarea(attrs={"rows": 3, "data-max": settings.ARGMAP_CLAIM_MAX_LENGTH}),
        strip=False,
        required=False,
    )


class ClaimEditForm(QuoteFields):
    text = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 3, "data-max": settings.ARGMAP_CLAIM_MAX_LENGTH}),
        strip=False,
        required=False,
    )
    version = forms.IntegerField(min_value=1, widget=forms.HiddenInput)


class ClaimMoveForm(forms.Form):
    target = forms.IntegerField(min_value=1, label="New parent")
    stance = forms.ChoiceField(choices=Claim.Stance.choices, widget=forms.RadioSelect)


class ClaimRevertForm(forms.Form):
    history_id = forms.IntegerField(min_value=1, widget=forms.HiddenInput)
    version = forms.IntegerField(min_value=1, widget=forms.HiddenInput)
