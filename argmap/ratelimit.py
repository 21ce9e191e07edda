"""Per-action rate limits (claims, comments, flags, votes), counted in the default cache.

Each write counts once against the person's budget (stricter for accounts younger than a day)
and once against their address's budget (wider: several people may share one address). Over
either budget the request gets 429 with a readable message and ``Retry-After``; nothing typed is
lost: an htmx form stays on the page with the message above it, a plain form gets a page that can
send the same text again. Budgets are ``settings.ARGMAP_RATE_LIMITS`` (docs/security.md). Across
several processes the cache must be shared (Redis): the system check in argmap/checks.py says so.
"""

from __future__ import annotations

import functools
import ipaddress
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta

from django.conf import settings
from django.core.cache import cache
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme

logger = logging.getLogger(__name__)

RATE_LIMITED = "You are doing that too often. Please wait {wait} and try again."
NEW_ACCOUNT_AGE = timedelta(days=1)
# POSTed fields shown back on the refusal page so the writer can send them again.
NOT_ECHOED = frozenset({"csrfmiddlewaretoken"})
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


@dataclass(frozen=True)
class Budget:
    """At most ``count`` attempts per ``seconds``-long window."""

    count: int
    seconds: int


@dataclass(frozen=True)
class Budgets:
    established: Budget
    new_account: Budget
    address: Budget


def budgets(action: str) -> Budgets:
    """The budgets for an action, from settings.ARGMAP_RATE_LIMITS.

    Each entry is ``(established, new_account[, address])`` as ``(count, seconds)`` pairs; without
    an address budget, an address may do three times what one established account may.
    """
    normal, new, *address = settings.ARGMAP_RATE_LIMITS[action]
    established = Budget(*normal)
    per_address = Budget(*address[0]) if address else Budget(established.count * 3, normal[1])
    return Budgets(established, Budget(*new), per_address)


def client_ip(request: HttpRequest) -> str:
    """The client's address as the server saw it (REMOTE_ADDR; behind a proxy, have the ASGI
    server set it from X-Forwarded-For). IPv6 counts per /64: one subscriber gets a whole /64."""
    raw = request.META.get("REMOTE_ADDR", "") or ""
    try:
        address = ipaddress.ip_address(raw)
    except ValueError:
        return raw or "unknown"
    if isinstance(address, ipaddress.IPv6Address):
        if address.ipv4_mapped is not None:
            return str(address.ipv4_mapped)
        return str(ipaddress.ip_network(f"{address}/64", strict=False))
    return str(address)


def is_new_account(user) -> bool:
    """True for a signed-in account younger than a day."""
    joined = getattr(user, "date_joined", None)
    return joined is not None and timezone.now() - joined < NEW_ACCOUNT_AGE


def _count(key: str, budget: Budget, now: float) -> int:
    """Count one attempt in the budget's current window; return the seconds to wait (0: allowed)."""
    window = int(now // budget.seconds)
    full_key = f"rl:{key}:{budget.seconds}:{window}"
    timeout = budget.seconds + 1
    # add + incr is atomic on Redis and in the local-memory cache: no two processes read the same
    # count. The window is fixed, so a burst can straddle two windows: at most twice the budget.
    cache.add(full_key, 0, timeout=timeout)
    try:
        count = cache.incr(full_key)
    except ValueError:  # expired between add and incr
        cache.set(full_key, 1, timeout=timeout)
        count = 1
    if count <= budget.count:
        return 0
    return max(1, (window + 1) * budget.seconds - int(now))


def hit(action: str, request: HttpRequest) -> int:
    """Count one attempt at ``action``; return 0 when allowed, else the seconds to wait."""
    user = getattr(request, "user", None)
    # Every limited write needs an account; an anonymous POST is refused by the view anyway, and
    # counting it would let anyone spend a shared address's budget without signing in.
    if not settings.ARGMAP_RATE_LIMITS_ENABLED or user is None or not user.is_authenticated:
        return 0
    limits = budgets(action)
    now = time.time()
    budget = limits.new_account if is_new_account(user) else limits.established
    counts = [
        (f"{action}:ip:{client_ip(request)}", limits.address),
        (f"{action}:user:{user.pk}", budget),
    ]
    try:
        return max(_count(key, budget, now) for key, budget in counts)
    except Exception:
        # An unreachable cache must not stop people writing: let the request through, loudly.
        logger.exception("Rate limit for %r not counted: the cache failed", action)
        return 0


def wait_text(seconds: int) -> str:
    """'45 seconds', '1 minute', '12 minutes': how long to wait, in words."""
    if seconds < 90:
        return f"{seconds} second{'s' if seconds != 1 else ''}"
    minutes = (seconds + 59) // 60
    return f"{minutes} minutes"


def refused(request: HttpRequest, wait: int) -> HttpResponse:
    """The 429 answer: a message beside the htmx form, or a page that can send the text again."""
    message = RATE_LIMITED.format(wait=wait_text(wait))
    if getattr(request, "htmx", False):
        response = render(
            request, "argmap/rate_limited.html#message", {"message": message}, status=429
        )
        # Keep the form (and what was typed in it): the message goes just before the element
        # that sent the request, whatever that element's own hx-target says.
        response["HX-Retarget"] = "this"
        response["HX-Reswap"] = "beforebegin"
    else:
        # (name, value, shown): prose (anything with a space, or long) is shown and re-sent in a
        # read-only box the writer can copy from; single words (a stance, a version) ride hidden.
        fields = [
            (name, value, len(value.split(maxsplit=1)) > 1 or len(value) > 40)
            for name, values in request.POST.lists()
            if name not in NOT_ECHOED
            for value in values
        ]
        response = render(
            request,
            "argmap/rate_limited.html",
            {
                "message": message,
                "fields": fields,
                "action_url": request.get_full_path(),
                "back_url": _same_site_referer(request),
            },
            status=429,
        )
    response["Retry-After"] = str(wait)
    return response


def _same_site_referer(request: HttpRequest) -> str:
    referer = request.META.get("HTTP_REFERER", "")
    if referer and url_has_allowed_host_and_scheme(
        referer, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return referer
    return "/"


def limited(action: str) -> Callable:
    """Decorate a view: each signed-in write (not GET/HEAD/OPTIONS) counts against ``action``'s
    budgets; over budget answers 429. Anonymous requests are never counted (the view sends them
    to log in); put it under the method decorators so a 405 is not counted either."""
    budgets(action)  # a misspelt action fails at import, not on the first POST

    def decorate(view: Callable) -> Callable:
        @functools.wraps(view)
        def wrapper(request: HttpRequest, *args, **kwargs) -> HttpResponse:
            if request.method not in SAFE_METHODS:
                wait = hit(action, request)
                if wait:
                    return refused(request, wait)
            return view(request, *args, **kwargs)

        wrapper.rate_limit_action = action  # type: ignore[attr-defined]
        return wrapper

    return decorate
