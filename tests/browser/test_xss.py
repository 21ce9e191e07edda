"""Stored XSS in Chromium: every hostile payload in tests/xss_payloads.txt, written into every
user-written field, viewed on every page that shows it, must do nothing at all.

The data is made through the services (fast), with hostile usernames made through the ORM (the
sign-up form refuses them; see the last test). Then each page is opened as the people who see it,
and on each the test demands: no dialog, ``window.__xss`` never set, no request to /xss-probe, no
Content Security Policy violation, and, because CSP would hide an escaping bug by blocking it, a
DOM audit: no inline ``on*`` handler, no ``javascript:`` URL, no htmx attribute carrying a
payload, exactly one ``htmx-config`` meta, no iframe/object/embed/base, no evaluated template.

Parts whose modules have not landed yet are skipped with the reason given as a warning.
"""

from __future__ import annotations

import importlib
import itertools
import re
import time
import warnings
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path

import pytest
from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.test import Client
from django.urls import NoReverseMatch, reverse
from django.utils import timezone
from playwright.sync_api import Page

from argmap import services
from argmap.models import ArgumentMap, Claim
from tests.conftest import PASSWORD

PAYLOAD_FILE = Path(__file__).resolve().parent.parent / "xss_payloads.txt"
# Pages cost more than payloads (each page shows a whole chunk), so chunks are large.
CHUNK_SIZE = 150
EVALUATED = "94011"  # what 31337*3 or 31337|add:62674 would print if a template evaluated it
SETTLE_MS = 150  # long enough for an <img src=x> to fail and an hx-trigger="load" to fire


def load_payloads() -> list[str]:
    lines = PAYLOAD_FILE.read_text(encoding="utf-8").splitlines()
    return [
        line.replace("\\n", "\n")
        for line in lines
        if line.strip() and not line.startswith("# ") and line != "#"
    ]


PAYLOADS = load_payloads()
CHUNKS = [PAYLOADS[i : i + CHUNK_SIZE] for i in range(0, len(PAYLOADS), CHUNK_SIZE)]

# Collects CSP violations from the first moment of every document (conftest's watch() also
# reports them as console errors; this keeps them per page for a readable failure).
INIT_SCRIPT = """
window.__cspViolations = [];
document.addEventListener('securitypolicyviolation', (e) => {
  window.__cspViolations.push(`${e.violatedDirective} ${e.blockedURI} ${e.sample || ''}`);
});
"""

# A payload that became markup, whether or not CSP stopped it from running.
AUDIT = r"""
() => {
  const found = [];
  // htmx reads the first htmx-config meta: the app's, in <head>. Any other is a payload.
  const metas = document.querySelectorAll('meta[name="htmx-config"]');
  if (metas.length > 1) found.push(`${metas.length} htmx-config metas`);
  for (const meta of metas) {
    if (meta.parentElement !== document.head) found.push('htmx-config meta outside <head>');
  }
  const loads = ['src', 'action', 'formaction', 'data', 'srcdoc', 'ping', 'poster', 'background'];
  const urls = ['href', 'xlink:href', ...loads];
  for (const el of document.querySelectorAll('*')) {
    const tag = el.tagName.toLowerCase();
    if (['iframe', 'object', 'embed', 'base', 'frame', 'frameset', 'applet'].includes(tag)) {
      found.push(`<${tag}> element`);
    }
    if (tag === 'meta' && el.hasAttribute('http-equiv')) found.push('<meta http-equiv>');
    if (tag === 'script' && /__xss|alert\(/.test(el.textContent)) found.push('payload <script>');
    if (tag === 'style' && /xss-probe/.test(el.textContent)) found.push('payload <style>');
    const href = el.getAttribute('href') || '';
    if (tag === 'link' && /xss-probe/.test(href)) found.push('payload <link>');
    for (const attr of el.attributes) {
      const name = attr.name.toLowerCase();
      const value = attr.value;
      const squashed = value.replace(/[\u0000-\u0020]/g, '').toLowerCase();
      const where = `<${tag} ${name}="${value.slice(0, 80)}">`;
      if (name.startsWith('on')) found.push(`handler ${where}`);
      // hx-confirm and hx-prompt are shown as plain text by window.confirm/prompt.
      const htmx = /^(data-)?hx-|^sse-/.test(name) && !/hx-(confirm|prompt)$/.test(name);
      if (htmx && /xss-probe|__xss|alert\(/.test(value)) found.push(`htmx ${where}`);
      if (urls.includes(name) && /^(javascript|vbscript|data:text\/html)/.test(squashed)) {
        found.push(`url ${where}`);
      }
      if (loads.includes(name) && /xss-probe/.test(value)) found.push(`load ${where}`);
    }
  }
  return found;
}
"""


@dataclass
class Sightings:
    """What went wrong, page by page, plus the parts that could not be tried yet."""

    problems: list[str] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)
    pages: int = 0
    shown_on: set[str] = field(default_factory=set)  # pages whose text shows some payload
    visited: set[str] = field(default_factory=set)

    def skip(self, reason: str) -> None:
        if reason not in self.skipped:
            self.skipped.append(reason)
            warnings.warn(f"XSS test: {reason}", stacklevel=2)


def module(name: str):
    try:
        return importlib.import_module(name)
    except ImportError:
        return None


def url(name: str, *args) -> str | None:
    try:
        return reverse(name, args=args)
    except NoReverseMatch:
        return None


def with_query(path: str | None, query: str) -> str | None:
    return f"{path}?{query}" if path else None


def make_user(username: str, **extra):
    """A user the sign-up form would refuse: made through the ORM, as an attacker with database
    access to another service, or an old import, might have."""
    return get_user_model().objects.create_user(
        username=username, email="hostile@example.test", password=PASSWORD, **extra
    )


def watch_page(page: Page, seen: Sightings, who: str) -> None:
    page.add_init_script(INIT_SCRIPT)

    def on_dialog(dialog) -> None:
        seen.problems.append(f"{who}: dialog {dialog.type} {dialog.message!r} on {page.url}")
        dialog.dismiss()

    def on_request(request) -> None:
        if "xss-probe" in request.url:
            seen.problems.append(f"{who}: request to {request.url} from {page.url}")

    page.on("dialog", on_dialog)
    page.on("request", on_request)


def visit(page: Page, path: str | None, seen: Sightings, *, who: str, what: str) -> None:
    """Open ``path`` and look for every sign of a payload at work."""
    if path is None:
        seen.skip(f"{what}: no such URL yet")
        return
    response = page.goto(path, wait_until="load")
    status = response.status if response else 0
    if status in (404, 501) or status >= 500:
        problem = f"{what}: {path} answered {status}"
        if status >= 500 and status != 501:
            seen.problems.append(f"{who}: {problem}")
        else:
            seen.skip(problem)
        return
    inspect(page, seen, who=who, what=what)


def inspect(page: Page, seen: Sightings, *, who: str, what: str) -> None:
    """Look at the page now open for every sign of a payload at work."""
    page.wait_for_timeout(SETTLE_MS)
    seen.pages += 1
    seen.visited.add(what)
    where = f"{who} on {what} ({page.url})"
    if page.evaluate("typeof window.__xss") != "undefined":
        seen.problems.append(f"{where}: window.__xss was set")
    violations = page.evaluate("window.__cspViolations || []")
    seen.problems += [f"{where}: CSP violation {v}" for v in violations]
    seen.problems += [f"{where}: {finding}" for finding in page.evaluate(AUDIT)]
    if page.evaluate("/__xss|xss-probe/.test(document.body.innerText)"):
        seen.shown_on.add(what)
    text = page.content()
    if EVALUATED in text:
        seen.problems.append(f"{where}: a template evaluated a payload ({EVALUATED})")
    if settings.SECRET_KEY in text:
        seen.problems.append(f"{where}: the SECRET_KEY is on the page")


@dataclass
class HostileMap:
    argument_map: ArgumentMap
    thesis: Claim
    claims: list[Claim]
    edited: Claim | None
    comment_ids: list[int]
    title_maps: list[ArgumentMap]


def pack(payloads: list[str], limit: int) -> list[str]:
    """Join payloads with spaces into strings of at most ``limit`` characters."""
    packed: list[str] = []
    for payload in payloads:
        payload = " ".join(payload.split())[:limit]
        if packed and len(packed[-1]) + 1 + len(payload) <= limit:
            packed[-1] += " " + payload
        else:
            packed.append(payload)
    return packed


def build(number: int, payloads: list[str], owner, seen: Sightings) -> HostileMap:
    """One map holding a chunk of payloads in every field the services accept."""
    users = [make_user(f"{payload[:140]}~{number}.{i}") for i, payload in enumerate(payloads)]
    argument_map = services.map_create(
        slug=f"hostile-{number}",
        title=pack(payloads, 200)[0],
        description="\n".join(payloads),
        thesis=" ".join(payloads[0].split())[:500],
        owner=owner,
    )
    thesis = Claim.objects.get(map=argument_map, parent__isnull=True)
    title_maps = [
        services.map_create(
            slug=f"titles-{number}-{i}", title=title, description=title, thesis=title, owner=owner
        )
        for i, title in enumerate(pack(payloads, 200))
    ]
    claims: list[Claim] = []
    for i, (payload, user) in enumerate(zip(payloads, users, strict=True)):
        stance = Claim.Stance.SUPPORT if i % 2 else Claim.Stance.COUNTER
        # A payload that differs from another only in case is a duplicate under one parent.
        refusal = ""
        for parent in (thesis, *claims[-1:]):
            try:
                claims.append(
                    services.claim_add(parent=parent, stance=stance, text=payload, by=user)
                )
                break
            except ValidationError as error:  # refused is safe too; say so
                refusal = f"claim text refused: {payload!r}: {error.messages}"
        else:
            seen.skip(refusal)
    edited = claims[0] if claims else None
    for payload, user in zip(payloads[1:], users[1:], strict=True):
        if edited is None:
            break
        edited.refresh_from_db()
        try:
            edited = services.claim_edit(
                claim=edited,
                expected_version=edited.version,
                text=payload,
                quote=None,
                by=user,
                reason=payload,
            )
        except ValidationError:
            continue
    comment_ids = discuss(thesis, claims, payloads, users, owner, seen)
    flag_and_moderate(argument_map, claims, comment_ids, payloads, users, owner, seen)
    return HostileMap(argument_map, thesis, claims, edited, comment_ids, title_maps)


def discuss(thesis, claims, payloads, users, owner, seen: Sightings) -> list[int]:
    """Comments with the payloads as bodies: replies to the owner and mentions of them notify
    the owner, so the notifications page shows hostile actors and snippets."""
    discussion = module("argmap.discussion")
    if discussion is None or not hasattr(discussion, "comment_post"):
        seen.skip("comments: argmap.discussion.comment_post does not exist yet")
        return []
    opener = discussion.comment_post(claim=thesis, author=owner, body="Say what you think.")
    ids = [opener.pk]
    for i, (payload, user) in enumerate(zip(payloads, users, strict=True)):
        body = payload if i % 3 else f"@{owner.username} {payload}"
        try:
            comment = discussion.comment_post(
                claim=thesis, author=user, body=body, parent=opener if i % 2 else None
            )
        except ValidationError as error:
            seen.skip(f"comment refused by validation: {payload!r}: {error.messages}")
            continue
        ids.append(comment.pk)
    if claims:
        discussion.comment_post(claim=claims[0], author=users[0], body=payloads[0])
    return ids


def flag_and_moderate(argument_map, claims, comment_ids, payloads, users, owner, seen) -> None:
    """Flags with the payloads as notes and fallacy names; moderator actions with them as
    reasons (the queue, the log and the notifications show all of these)."""
    moderation = module("argmap.moderation")
    if moderation is None or not hasattr(moderation, "flag_create"):
        seen.skip("flags and moderation: argmap.moderation.flag_create does not exist yet")
        return
    from argmap.models import Comment, Flag

    argument_map.flag_threshold = 10_000  # keep flagged items in view
    argument_map.save(update_fields=["flag_threshold"])
    reporters = itertools.cycle(users[1:] or users)
    for claim, payload in zip(claims, payloads, strict=False):
        moderation.flag_create(
            by=next(reporters),
            reason=Flag.Reason.FALLACY,
            fallacy=payload[:100],
            note=payload,
            claim=claim,
        )
    comments = list(Comment.objects.filter(pk__in=comment_ids[1:]).order_by("pk"))
    for comment, payload in zip(comments, payloads, strict=False):
        reporter = next(reporters)
        if reporter.pk == comment.author_id:
            reporter = owner
        moderation.flag_create(
            by=reporter, reason=Flag.Reason.ABUSIVE, note=payload, comment=comment
        )
    for claim, payload in zip(claims[1::3], payloads[1::3], strict=False):
        moderation.claim_lock(claim=claim, by=owner, reason=payload)
    for comment, payload in zip(comments[::4], payloads[::4], strict=False):
        moderation.comment_hide(comment=comment, by=owner, reason=payload)
    for claim, payload in zip(claims[3::10], payloads[3::10], strict=False):
        moderation.claim_hide(claim=claim, by=owner, reason=payload)
    # Suggestions waiting in the queue (and one approved, one turned down, with payload reasons).
    pending = [
        services.claim_add(
            parent=claims[0].parent,
            stance=Claim.Stance.SUPPORT,
            text=f"{payload} (suggested)",
            by=user,
            status=Claim.Status.PENDING,
        )
        for payload, user in zip(payloads[::5], users[::5], strict=False)
    ]
    if len(pending) > 2:
        moderation.suggestion_approve(by=owner, claim=pending[0], reason=payloads[0])
        moderation.suggestion_reject(by=owner, claim=pending[1], reason=payloads[1])
    if claims[2:]:
        moderation.flag_resolve(by=owner, uphold=False, reason=payloads[2], claim=claims[2])
    for user, payload in zip(users[:3], payloads[:3], strict=False):
        moderation.member_mute(
            argument_map=argument_map,
            user=user,
            until=timezone.now() + timedelta(days=1),
            reason=payload,
            by=owner,
        )


def fail_logins(payloads: list[str]) -> None:
    """A wrong password for each payload as a username: django-axes stores them, and the admin
    lists them (a classic way to plant text without an account)."""
    client = Client(REMOTE_ADDR="203.0.113.66")
    for payload in payloads:
        response = client.post("/accounts/login/", {"username": payload, "password": "wrong"})
        assert response.status_code == 200


def lock_out(page: Page, username: str, seen: Sightings) -> None:
    """Five wrong passwords for a hostile username in the login form, as a person would type
    them: the fifth answer is the lockout page, which names the username."""
    for _ in range(settings.AXES_FAILURE_LIMIT):
        page.goto("/accounts/login/")
        page.get_by_label("Username").fill(username)
        page.get_by_label("Password").fill("wrong-password")
        page.get_by_role("button", name="Log in").click()
        page.wait_for_load_state()
    if "Too many failed logins" not in page.content():
        seen.problems.append("the lockout page did not appear after five wrong passwords")
        return
    inspect(page, seen, who="anonymous", what="lockout page")


def pages_of(hostile: HostileMap) -> list[tuple[str, str | None]]:
    """(what, path) for every page a participant opens that shows this map's payloads."""
    m = hostile.argument_map
    slug = m.slug
    first = hostile.claims[0].pk if hostile.claims else hostile.thesis.pk
    pages = [
        ("map page", m.get_absolute_url()),
        ("thesis page", url("claim_detail", slug, hostile.thesis.pk)),
        ("claim page", url("claim_detail", slug, first)),
        ("claim children", url("claim_children", slug, hostile.thesis.pk)),
        (
            "claim history",
            url("claim_history", slug, hostile.edited.pk if hostile.edited else first),
        ),
        ("thread", url("claim_thread", slug, hostile.thesis.pk)),
        ("claim thread", url("claim_thread", slug, first)),
        ("moderation queue", url("moderation_queue", slug)),
        ("moderation log", url("moderation_log", slug)),
        ("notifications", url("notifications")),
        ("map settings", url("map_settings", slug)),
        ("members", url("map_members", slug)),
        ("map search", with_query(url("map_search", slug), "q=img")),
        ("site search", with_query(url("search"), "q=img")),
    ]
    pages += [(f"title map {t.slug}", t.get_absolute_url()) for t in hostile.title_maps]
    return pages


def admin_pages_of(hostile: HostileMap) -> list[tuple[str, str | None]]:
    m = hostile.argument_map
    first = hostile.claims[0] if hostile.claims else hostile.thesis
    pages = [
        ("admin claims", f"/admin/argmap/claim/?map__id__exact={m.pk}"),
        ("admin claim", f"/admin/argmap/claim/{first.pk}/change/"),
        ("admin claim history", f"/admin/argmap/claim/{first.pk}/history/"),
        ("admin maps", "/admin/argmap/argumentmap/"),
        ("admin map", f"/admin/argmap/argumentmap/{m.pk}/change/"),
        ("admin users", "/admin/auth/user/?q=~"),
        ("admin comments", "/admin/argmap/comment/"),
        ("admin flags", "/admin/argmap/flag/"),
        ("admin moderation actions", "/admin/argmap/moderationaction/"),
        ("admin notifications", "/admin/argmap/notification/"),
        ("admin memberships", "/admin/argmap/membership/"),
        ("admin login attempts", "/admin/axes/accessattempt/"),
    ]
    if hostile.comment_ids[1:]:
        pages.append(("admin comment", f"/admin/argmap/comment/{hostile.comment_ids[1]}/change/"))
    return pages


@pytest.fixture
def roomy(settings):
    """Show every claim in the first view, no rate limit on building the data, and django-axes
    on (it stores the usernames of failed logins)."""
    settings.ARGMAP_PAGE_SIZE = 500
    settings.ARGMAP_RATE_LIMITS_ENABLED = False
    settings.AXES_ENABLED = True


@pytest.fixture
def expected_problems(expected_problems):
    # The lockout page is a 429 answer to the login form: Chromium logs that status too.
    expected_problems.append(
        re.compile(r"^anonymous console\.error: Failed to load resource: .*429 .*/accounts/login/'")
    )
    return expected_problems


def test_there_are_at_least_100_payloads():
    assert len(PAYLOADS) >= 100
    assert len(set(PAYLOADS)) == len(PAYLOADS), "duplicate payloads"


@pytest.mark.parametrize("number", range(len(CHUNKS)), ids=lambda n: f"chunk{n}")
def test_stored_payloads_do_nothing_on_any_page(
    number, roomy, asgi_server, open_page, owner, admin_user
):
    seen = Sightings()
    payloads = CHUNKS[number]
    started = time.monotonic()
    hostile = build(number, payloads, owner, seen)
    fail_logins(payloads)
    built = time.monotonic()

    reader = open_page(owner, name="owner")
    watch_page(reader, seen, "owner")
    visit(reader, "/", seen, who="owner", what="home")
    for what, path in pages_of(hostile):
        visit(reader, path, seen, who="owner", what=what)
    anonymous = open_page(None, name="anonymous")
    watch_page(anonymous, seen, "anonymous")
    visit(anonymous, hostile.argument_map.get_absolute_url(), seen, who="anonymous", what="map")
    visit(
        anonymous,
        url("moderation_log", hostile.argument_map.slug),
        seen,
        who="anonymous",
        what="log",
    )

    if number == 0:
        lock_out(anonymous, "<img src=x onerror=window.__xss=1>", seen)

    staff = open_page(admin_user, name="admin")
    watch_page(staff, seen, "admin")
    for what, path in admin_pages_of(hostile):
        visit(staff, path, seen, who="admin", what=what)

    csv_url = url("moderation_log_csv", hostile.argument_map.slug)
    if csv_url:
        response = reader.request.get(csv_url)
        if response.status == 200:
            assert response.headers["content-type"].startswith("text/csv"), response.headers
            assert response.headers.get("x-content-type-options") == "nosniff"
        else:
            seen.skip(f"moderation log CSV answered {response.status}")

    print(
        f"\nchunk {number}: {len(payloads)} payloads on {seen.pages} pages; "
        f"built in {built - started:.1f} s, viewed in {time.monotonic() - built:.1f} s; "
        f"skipped: {seen.skipped or 'nothing'}; "
        f"pages without payload text: {sorted(seen.visited - seen.shown_on)}"
    )
    assert seen.pages >= 10
    # Each of these must really show payloads (as text), or the test proves nothing there.
    must_show = {
        "home",
        "map page",
        "thesis page",
        "claim page",
        "claim history",
        "thread",
        "admin claims",
        "admin maps",
        "admin users",
        "admin login attempts",
        "lockout page",
    }
    if not any("comments" in s for s in seen.skipped):
        must_show |= {"notifications", "admin comments"}
    if not any("flags" in s for s in seen.skipped):
        must_show |= {"moderation queue", "moderation log", "admin flags", "members"}
    assert must_show <= seen.shown_on, f"no payload shown on {sorted(must_show - seen.shown_on)}"
    assert seen.problems == [], "payloads came alive:\n" + "\n".join(seen.problems)


def test_signup_refuses_markup_in_usernames(db):
    """The sign-up form keeps usernames to letters, digits and @.+-_ (Django's validator), so
    hostile usernames can only come from elsewhere; the test above makes them in the ORM."""
    response = Client().post(
        "/accounts/signup/",
        {
            "username": "<img src=x onerror=window.__xss=1>",
            "password1": PASSWORD,
            "password2": PASSWORD,
        },
    )
    assert response.status_code == 200
    assert not get_user_model().objects.filter(username__contains="<").exists()
    assert "&lt;img src=x onerror=window.__xss=1&gt;" in response.content.decode()


CONTROL_BODY = (
    "<!doctype html><html><head><meta name='htmx-config' content='{}'></head><body>"
    "<img src=x onerror=window.__xss=1><img src=x onerror=alert(1)>"
    "<script>window.__xss=1</script><img src=/xss-probe.png>"
    "<a href=' JavaScript:window.__xss=1'>x</a><div data-hx-get='/xss-probe'>x</div>"
    "<meta name='htmx-config' content='{\"allowEval\":true}'><iframe></iframe><p>94011</p>"
    "</body></html>"
)


def test_the_detectors_see_a_payload_that_gets_through(browser, asgi_server):
    """The negative control: pages that do let payloads through (with the app's CSP, and with
    none) are caught by every detector the test above relies on."""
    context = browser.new_context(base_url=asgi_server)
    page = context.new_page()
    seen = Sightings()
    watch_page(page, seen, "control")
    csp = "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:"

    def serve(headers: dict[str, str]):
        return lambda route: route.fulfill(
            status=200, content_type="text/html", body=CONTROL_BODY, headers=headers
        )

    page.route("**/control/strict/", serve({"Content-Security-Policy": csp}))
    page.route("**/control/open/", serve({}))
    try:
        visit(page, "/control/strict/", seen, who="control", what="strict")
        strict = "\n".join(seen.problems)
        seen.problems.clear()
        visit(page, "/control/open/", seen, who="control", what="open")
        open_ = "\n".join(seen.problems)
    finally:
        context.close()
    assert "CSP violation script-src" in strict
    assert "handler <img onerror" in strict
    assert "url <a href" in strict
    assert "htmx <div data-hx-get" in strict
    assert "htmx-config meta outside <head>" in strict
    assert "<iframe> element" in strict
    assert "a template evaluated a payload" in strict
    assert "window.__xss was set" not in strict  # the CSP held
    assert "window.__xss was set" in open_
    assert "dialog alert" in open_
    assert "request to" in open_ and "xss-probe.png" in open_
