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

    class DefaultRole(models.TextChoices):
        AUTO = "auto", "Automatic: writer if post-moderated, suggester if pre-moderated"
        NONE = "none", "None: read only"
        VIEWER = "viewer", "Viewer: read and vote"
        SUGGESTER = "suggester", "Suggester: claims and comments wait for approval"
        WRITER = "writer", "Writer: add claims and comment"

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
    # The role a signed-in non-member gets: "auto" means writer on a post-moderated map and
    # suggester on a pre-moderated one; non-members get nothing on a private map whatever this says.
    default_role = models.CharField(
        max_length=10, choices=DefaultRole.choices, default=DefaultRole.AUTO
    )
    # Content whose open flags reach this many is hidden until a moderator reviews it.
    flag_threshold = models.PositiveSmallIntegerField(default=settings.ARGMAP_FLAG_THRESHOLD)
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
    # A moderator's lock: no new children, no edits, until unlocked.
    locked = models.BooleanField(default=False)
    # Set when this claim was merged into another: its permalink redirects there.
    merged_into = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.SET_NULL, related_name="merged_from"
    )
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


class ClaimAnchor(models.Model):
    """A further quote anchor of a claim, kept when a duplicate quoting elsewhere is merged into it.

    The claim's own ``quote_*`` fields stay its primary anchor; these resolve against the same
    source and are checked by the same ``resolve_quote``.
    """

    claim = models.ForeignKey(Claim, on_delete=models.CASCADE, related_name="extra_anchors")
    exact = models.TextField()
    prefix = models.CharField(max_length=64, blank=True)
    suffix = models.CharField(max_length=64, blank=True)
    start = models.PositiveIntegerField()
    end = models.PositiveIntegerField()
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["start", "pk"]
        constraints = [
            models.CheckConstraint(condition=Q(end__gt=F("start")), name="anchor_end_after_start"),
            models.UniqueConstraint(fields=["claim", "start", "end"], name="anchor_once_per_claim"),
        ]

    def __str__(self) -> str:
        return self.exact[:80]


class Role(models.TextChoices):
    """Per-map roles, lowest first: each has the rights of the ones before it."""

    VIEWER = "viewer", "Viewer"
    SUGGESTER = "suggester", "Suggester"
    WRITER = "writer", "Writer"
    EDITOR = "editor", "Editor"
    MODERATOR = "moderator", "Moderator"
    OWNER = "owner", "Owner"

    @classmethod
    def rank(cls, role: str | None) -> int:
        """0 for no role, then 1 (viewer) .. 6 (owner)."""
        if not role:
            return 0
        return [member.value for member in cls].index(role) + 1


class Membership(models.Model):
    """A user's role in one map, and whether they are muted there (may read, may not write)."""

    map = models.ForeignKey(ArgumentMap, on_delete=models.CASCADE, related_name="memberships")
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="memberships"
    )
    role = models.CharField(max_length=10, choices=Role.choices, default=Role.WRITER)
    muted_until = models.DateTimeField(null=True, blank=True)
    mute_reason = models.CharField(max_length=500, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    history = HistoricalRecords()

    class Meta:
        ordering = ["map", "user"]
        constraints = [
            models.UniqueConstraint(fields=["map", "user"], name="membership_once_per_map"),
        ]

    def __str__(self) -> str:
        return f"{self.user} — {self.get_role_display()} in {self.map}"


class CommentQuerySet(models.QuerySet):
    def on_claim(self, claim: Claim) -> CommentQuerySet:
        return self.filter(claim=claim).order_by("created_at", "pk")

    def in_map(self, argument_map: ArgumentMap) -> CommentQuerySet:
        return self.filter(map=argument_map)

    def visible(self) -> CommentQuerySet:
        return self.filter(status=Comment.Status.VISIBLE)


class Comment(models.Model):
    """A reply in a claim's discussion thread. The Markdown source is stored; rendering is
    ``argmap.markup.render_markdown`` (the one safe pipeline). A deleted comment stays as a
    tombstone so the thread keeps its shape."""

    class Status(models.TextChoices):
        VISIBLE = "visible", "Visible"
        PENDING = "pending", "Pending approval"
        HIDDEN = "hidden", "Hidden by a moderator"
        DELETED = "deleted", "Deleted by its author"

    map = models.ForeignKey(ArgumentMap, on_delete=models.CASCADE, related_name="comments")
    claim = models.ForeignKey(Claim, on_delete=models.CASCADE, related_name="comments")
    parent = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.CASCADE, related_name="replies"
    )
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="comments",
    )
    body = models.TextField(max_length=settings.ARGMAP_COMMENT_MAX_LENGTH)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.VISIBLE)
    version = models.PositiveIntegerField(default=1)
    edited_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    history = HistoricalRecords()

    objects = CommentQuerySet.as_manager()

    class Meta:
        ordering = ["created_at", "pk"]
        indexes = [models.Index(fields=["claim", "status"], name="comment_claim_status")]

    def __str__(self) -> str:
        return self.body[:80]

    def get_absolute_url(self) -> str:
        return reverse("claim_thread", kwargs={"slug": self.map.slug, "pk": self.claim_id}) + (
            f"#comment-{self.pk}"
        )


class Vote(models.Model):
    """One user's vote on one claim: its impact on its parent (0..4), or, on the thesis, how true
    the user finds it (0..4). Aggregates are computed from these rows, never kept as counters."""

    MIN = 0
    MAX = 4

    claim = models.ForeignKey(Claim, on_delete=models.CASCADE, related_name="votes")
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="votes"
    )
    value = models.PositiveSmallIntegerField()
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["claim", "user"], name="vote_once_per_user"),
            models.CheckConstraint(condition=Q(value__gte=0) & Q(value__lte=4), name="vote_0_to_4"),
        ]

    def __str__(self) -> str:
        return f"{self.user} → {self.claim_id}: {self.value}"


class Flag(models.Model):
    """A reader's report of a claim or a comment (exactly one of the two), with Kialo's reasons."""

    class Reason(models.TextChoices):
        UNSUPPORTED = "unsupported", "Unsupported"
        UNCLEAR = "unclear", "Unclear"
        NOT_SINGLE = "not_single", "Not a single claim"
        DUPLICATE = "duplicate", "Duplicate"
        OFF_TOPIC = "off_topic", "Off-topic"
        ABUSIVE = "abusive", "Abusive"
        SPAM = "spam", "Spam"
        FALLACY = "fallacy", "Fallacy"

    class Status(models.TextChoices):
        OPEN = "open", "Open"
        UPHELD = "upheld", "Upheld"
        DISMISSED = "dismissed", "Dismissed"

    map = models.ForeignKey(ArgumentMap, on_delete=models.CASCADE, related_name="flags")
    claim = models.ForeignKey(
        Claim, null=True, blank=True, on_delete=models.CASCADE, related_name="flags"
    )
    comment = models.ForeignKey(
        Comment, null=True, blank=True, on_delete=models.CASCADE, related_name="flags"
    )
    reporter = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="flags"
    )
    reason = models.CharField(max_length=20, choices=Reason.choices)
    fallacy = models.CharField(max_length=100, blank=True)
    note = models.TextField(max_length=1000, blank=True)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.OPEN)
    resolved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    resolved_at = models.DateTimeField(null=True, blank=True)
    resolution = models.CharField(max_length=500, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at", "-pk"]
        indexes = [models.Index(fields=["map", "status"], name="flag_map_status")]
        constraints = [
            models.CheckConstraint(
                condition=(Q(claim__isnull=False) & Q(comment__isnull=True))
                | (Q(claim__isnull=True) & Q(comment__isnull=False)),
                name="flag_one_target",
            ),
            models.UniqueConstraint(
                fields=["reporter", "claim"],
                condition=Q(status="open", claim__isnull=False),
                name="flag_one_open_per_claim",
            ),
            models.UniqueConstraint(
                fields=["reporter", "comment"],
                condition=Q(status="open", comment__isnull=False),
                name="flag_one_open_per_comment",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_reason_display()} by {self.reporter}"

    @property
    def target(self) -> Claim | Comment:
        return self.claim if self.claim_id else self.comment


MODERATION_LOG_APPEND_ONLY = (
    "The moderation log is append-only: entries cannot be changed or removed."
)


class ModerationActionQuerySet(models.QuerySet):
    def public(self) -> ModerationActionQuerySet:
        return self.filter(public=True)

    def in_map(self, argument_map: ArgumentMap) -> ModerationActionQuerySet:
        return self.filter(map=argument_map)

    # Bulk writes would bypass save(): refuse them too.
    def update(self, **kwargs):
        raise ValidationError(MODERATION_LOG_APPEND_ONLY)

    def delete(self):
        raise ValidationError(MODERATION_LOG_APPEND_ONLY)


class ModerationAction(models.Model):
    """One entry of a map's append-only moderation log: who did what to what, and why."""

    class Action(models.TextChoices):
        APPROVE = "approve", "Approved"
        REJECT = "reject", "Rejected"
        HIDE = "hide", "Hid"
        RESTORE = "restore", "Restored"
        AUTO_HIDE = "auto_hide", "Hidden automatically (flags)"
        LOCK_CLAIM = "lock_claim", "Locked claim"
        UNLOCK_CLAIM = "unlock_claim", "Unlocked claim"
        LOCK_MAP = "lock_map", "Locked map"
        UNLOCK_MAP = "unlock_map", "Unlocked map"
        MUTE = "mute", "Muted"
        UNMUTE = "unmute", "Unmuted"
        UPHOLD_FLAG = "uphold_flag", "Upheld flag"
        DISMISS_FLAG = "dismiss_flag", "Dismissed flag"
        MEMBER_ADD = "member_add", "Added member"
        ROLE_CHANGE = "role_change", "Changed role"
        MEMBER_REMOVE = "member_remove", "Removed member"
        TRANSFER = "transfer", "Transferred ownership"
        SETTINGS = "settings", "Changed settings"
        MERGE = "merge", "Merged claims"
        FEATURE = "feature", "Featured map"
        UNFEATURE = "unfeature", "Unfeatured map"
        ARCHIVE_MAP = "archive_map", "Archived map"

    map = models.ForeignKey(ArgumentMap, on_delete=models.CASCADE, related_name="moderation_log")
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    action = models.CharField(max_length=20, choices=Action.choices)
    claim = models.ForeignKey(
        Claim, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    comment = models.ForeignKey(
        Comment, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    subject = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        help_text="The member an action is about (mute, role change).",
    )
    # What the target said at the time, so the log stays readable if the target changes later.
    target_summary = models.CharField(max_length=300, blank=True)
    reason = models.TextField(max_length=1000, blank=True)
    detail = models.JSONField(default=dict, blank=True)
    public = models.BooleanField(default=True)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)

    objects = ModerationActionQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-pk"]

    def __str__(self) -> str:
        return f"{self.get_action_display()} — {self.target_summary}"

    def save(self, *args, **kwargs) -> None:
        if self.pk is not None:
            raise ValidationError(MODERATION_LOG_APPEND_ONLY)
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise ValidationError(MODERATION_LOG_APPEND_ONLY)


class NotificationQuerySet(models.QuerySet):
    def for_user(self, user) -> NotificationQuerySet:
        """The user's notifications from maps they may still open: someone removed from a private
        map no longer reads its titles and excerpts here."""
        from argmap import permissions

        readable = permissions.viewable_maps(ArgumentMap.objects.all(), user)
        return self.filter(recipient=user, map__in=readable.values("pk"))

    def unread(self) -> NotificationQuerySet:
        return self.filter(read_at__isnull=True)


class Notification(models.Model):
    """Something a user should know: a reply, a mention, a moderation outcome."""

    class Kind(models.TextChoices):
        REPLY = "reply", "Reply"
        MENTION = "mention", "Mention"
        COUNTERED = "countered", "Countered"
        HIDDEN = "hidden", "Hidden"
        RESTORED = "restored", "Restored"
        APPROVED = "approved", "Approved"
        REJECTED = "rejected", "Rejected"
        FLAG_RESOLVED = "flag_resolved", "Flag resolved"
        MUTED = "muted", "Muted"
        ROLE = "role", "Role changed"

    recipient = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="notifications"
    )
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    kind = models.CharField(max_length=20, choices=Kind.choices)
    map = models.ForeignKey(ArgumentMap, on_delete=models.CASCADE, related_name="+")
    claim = models.ForeignKey(
        Claim, null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    comment = models.ForeignKey(
        Comment, null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    # Plain text, escaped when shown: e.g. the moderator's reason.
    message = models.CharField(max_length=500, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    read_at = models.DateTimeField(null=True, blank=True)

    objects = NotificationQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-pk"]
        indexes = [models.Index(fields=["recipient", "read_at"], name="notification_unread")]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} for {self.recipient}"
