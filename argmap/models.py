"""The argument-map domain: sources, maps and the claims that form each map's tree."""

from __future__ import annotations

import hashlib

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Count, F, Max, OuterRef, Q, Subquery
from django.db.models.functions import Coalesce
from django.urls import reverse
from simple_history.models import HistoricalRecords

SOURCE_IMMUTABLE = "This source is cited by a map: its text cannot change. Add a new source."


def text_sha256(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


class Source(models.Model):
    """An article a map is built from. Immutable once cited: a corrected article is a new Source."""

    title = models.CharField(max_length=300)
    publisher = models.CharField(max_length=200, blank=True)
    url = models.URLField(max_length=1000, blank=True)
    published = models.DateField(null=True, blank=True)
    text = models.TextField()
    sha256 = models.CharField(max_length=64, unique=True, editable=False)
    created_at = models.DateTimeField(auto_now_add=True)
    history = HistoricalRecords()

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return self.title

    def save(self, *args, **kwargs) -> None:
        digest = text_sha256(self.text)
        if self.pk and digest != self.sha256 and self.maps.exists():
            raise ValidationError(SOURCE_IMMUTABLE)
        self.sha256 = digest
        super().save(*args, **kwargs)


class ArgumentMapQuerySet(models.QuerySet):
    def listed(self) -> ArgumentMapQuerySet:
        """Maps shown on the home page: public ones, featured first, then by last activity."""
        return self.filter(visibility=ArgumentMap.Visibility.PUBLIC).order_by(
            "-featured", "-updated_at", "title"
        )

    def with_claim_counts(self) -> ArgumentMapQuerySet:
        published = Claim.objects.filter(map=OuterRef("pk"), status=Claim.Status.PUBLISHED)
        counts = published.order_by().values("map").annotate(n=Count("pk")).values("n")
        return self.annotate(claim_count=Coalesce(Subquery(counts), 0))

    def viewable_by(self, user) -> ArgumentMapQuerySet:
        from argmap import permissions

        return permissions.viewable_maps(self, user)


class ArgumentMap(models.Model):
    """A map: one thesis and the tree of claims that support or counter it."""

    class Visibility(models.TextChoices):
        PUBLIC = "public", "Public"
        UNLISTED = "unlisted", "Unlisted"
        PRIVATE = "private", "Private"

    class Status(models.TextChoices):
        OPEN = "open", "Open"
        LOCKED = "locked", "Locked"
        ARCHIVED = "archived", "Archived"

    class ModerationPolicy(models.TextChoices):
        POST = "post", "Post-moderated"
        PRE = "pre", "Pre-moderated"

    slug = models.SlugField(max_length=80, unique=True)
    title = models.CharField(max_length=200)
    description = models.TextField(blank=True)
    source = models.ForeignKey(
        Source, null=True, blank=True, on_delete=models.PROTECT, related_name="maps"
    )
    visibility = models.CharField(
        max_length=10, choices=Visibility.choices, default=Visibility.PUBLIC
    )
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.OPEN)
    moderation_policy = models.CharField(
        max_length=10, choices=ModerationPolicy.choices, default=ModerationPolicy.POST
    )
    featured = models.BooleanField(default=False)
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="owned_maps",
    )
    # The live-update clock: bumped in the same transaction as every change in the map.
    version = models.PositiveBigIntegerField(default=0, editable=False)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    history = HistoricalRecords(excluded_fields=["version", "updated_at"])

    objects = ArgumentMapQuerySet.as_manager()

    class Meta:
        ordering = ["-featured", "-updated_at"]

    def __str__(self) -> str:
        return self.title

    def get_absolute_url(self) -> str:
        return reverse("map_detail", kwargs={"slug": self.slug})


class ClaimQuerySet(models.QuerySet):
    def in_map(self, argument_map: ArgumentMap) -> ClaimQuerySet:
        return self.filter(map=argument_map)

    def published(self) -> ClaimQuerySet:
        return self.filter(status=Claim.Status.PUBLISHED)

    def visible_to(self, user) -> ClaimQuerySet:
        """Claims a reader may see. For now: published ones (pending/hidden arrive with roles)."""
        return self.published()

    def anchored(self) -> ClaimQuerySet:
        return self.filter(quote_start__isnull=False)

    def children_of(self, parent_id: int) -> ClaimQuerySet:
        return self.filter(parent_id=parent_id).order_by("position", "pk")


class Claim(models.Model):
    """A node of a map's tree. The thesis has no parent and no stance."""

    class Stance(models.TextChoices):
        SUPPORT = "support", "Support"
        COUNTER = "counter", "Counter"

    class Status(models.TextChoices):
        PUBLISHED = "published", "Published"
        PENDING = "pending", "Pending"
        HIDDEN = "hidden", "Hidden"
        ARCHIVED = "archived", "Archived"

    map = models.ForeignKey(ArgumentMap, on_delete=models.CASCADE, related_name="claims")
    parent = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.CASCADE, related_name="children"
    )
    stance = models.CharField(max_length=10, choices=Stance.choices, blank=True)
    text = models.CharField(max_length=settings.ARGMAP_CLAIM_MAX_LENGTH)
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="claims",
    )
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.PUBLISHED)
    position = models.PositiveIntegerField(default=0)
    # Optimistic concurrency: every edit names the version it was based on.
    version = models.PositiveIntegerField(default=1)
    # The map version of this claim's last change.
    changed_in = models.PositiveBigIntegerField(default=0)
    # When archiving a subtree sweeps this claim along, the root it was archived with; restoring
    # that root restores exactly the claims it swept (not ones archived on their own before).
    archived_with = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    quote_exact = models.TextField(blank=True)
    quote_prefix = models.CharField(max_length=64, blank=True)
    quote_suffix = models.CharField(max_length=64, blank=True)
    quote_start = models.PositiveIntegerField(null=True, blank=True)
    quote_end = models.PositiveIntegerField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    history = HistoricalRecords()

    objects = ClaimQuerySet.as_manager()

    class Meta:
        ordering = ["position", "pk"]
        indexes = [
            models.Index(fields=["map", "status"], name="claim_map_status"),
            models.Index(fields=["parent", "position"], name="claim_parent_position"),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["map"], condition=Q(parent__isnull=True), name="claim_one_thesis_per_map"
            ),
            models.CheckConstraint(
                condition=(Q(parent__isnull=True) & Q(stance=""))
                | (Q(parent__isnull=False) & Q(stance__in=["support", "counter"])),
                name="claim_stance_iff_parent",
            ),
            models.CheckConstraint(
                condition=(Q(quote_start__isnull=True) & Q(quote_end__isnull=True))
                | (
                    Q(quote_start__isnull=False)
                    & Q(quote_end__isnull=False)
                    & Q(quote_end__gt=F("quote_start"))
                ),
                name="claim_quote_offsets",
            ),
            models.CheckConstraint(condition=~Q(parent=F("pk")), name="claim_not_own_parent"),
        ]

    def __str__(self) -> str:
        return self.text[:80]

    def get_absolute_url(self) -> str:
        return reverse("claim_detail", kwargs={"slug": self.map.slug, "pk": self.pk})

    def clean(self) -> None:
        """A quote anchor, when present, must resolve to exactly its place in the map's source."""
        from argmap.anchors import AnchorError, resolve_quote

        if self.quote_start is None and self.quote_end is None and not self.quote_exact:
            return
        source = self.map.source if self.map_id else None
        if source is None:
            raise ValidationError({"quote_exact": "This map has no source article to quote."})
        has_offsets = self.quote_start is not None or self.quote_end is not None
        try:
            # With offsets the context is derived from the source; it is checked only without.
            resolve_quote(
                source.text,
                self.quote_exact,
                prefix="" if has_offsets else self.quote_prefix,
                suffix="" if has_offsets else self.quote_suffix,
                start=self.quote_start,
                end=self.quote_end,
            )
        except AnchorError as error:
            raise ValidationError({"quote_exact": str(error)}) from error

    @property
    def is_thesis(self) -> bool:
        return self.parent_id is None

    @property
    def has_quote(self) -> bool:
        return self.quote_start is not None

    @classmethod
    def next_position(cls, parent_id: int) -> int:
        last = cls.objects.filter(parent_id=parent_id).aggregate(m=Max("position"))["m"]
        return 0 if last is None else last + 1
