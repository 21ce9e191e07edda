"""Per-action rate limits (claims, comments, flags, votes), counted in the cache per user and per
IP address; accounts younger than a day get a stricter budget. A refused request gets 429 and a
readable message."""

from __future__ import annotations

import functools
import time
from collections.abc import Callable
from dataclasses import dataclass

from django.conf import settings
from django.core.cache import cache
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone

RATE_LIMITED = "You are doing that too often. Please wait {wait} and try again."


@dataclass(frozen=True)
class Budget:
    count: int
    seconds: int


def budgets(action: str) -> tuple[Budget, Budget]:
    """(established, new account) budgets for an action, from settings.ARGMAP_RATE_LIMITS."""
    normal, new = settings.ARGMAP_RATE_LIMITS[action]
    return Budget(*normal), Budget(*new)


def client_ip(request: HttpRequest) -> str:
    return request.META.get("REMOTE_ADDR", "") or "unknown"


def _is_new(user) -> bool:
    joined = getattr(user, "date_joined", None)
    return joined is not None and timezone.now() - joined < timezone.timedelta(days=1)


def hit(action: str, request: HttpRequest) -> int:
    """Count one attempt; return 0 when allowed, else the seconds to wait."""
    if not settings.ARGMAP_RATE_LIMITS_ENABLED:
        return 0
    normal, new = budgets(action)
    budget = new if request.user.is_authenticated and _is_new(request.user) else normal
    window = int(time.time() // budget.seconds)
    keys = [f"rl:{action}:ip:{client_ip(request)}:{window}"]
    if request.user.is_authenticated:
        keys.append(f"rl:{action}:user:{request.user.pk}:{window}")
    wait = 0
    for key in keys:
        cache.add(key, 0, timeout=budget.seconds + 1)
        try:
            count = cache.incr(key)
        except ValueError:  # expired between add and incr
            cache.set(key, 1, timeout=budget.seconds + 1)
            count = 1
        if count > budget.count:
            wait = max(wait, budget.seconds - int(time.time() % budget.seconds))
    return wait


def _wait_text(seconds: int) -> str:
    if seconds < 90:
        return f"{seconds} seconds"
    return f"{(seconds + 59) // 60} minutes"


def limited(action: str) -> Callable:
    """Decorate a view: POSTs count against ``action``'s budget; over budget answers 429."""

    def decorate(view: Callable) -> Callable:
        @functools.wraps(view)
        def wrapper(request: HttpRequest, *args, **kwargs) -> HttpResponse:
            if request.method == "POST":
                wait = hit(action, request)
                if wait:
                    message = RATE_LIMITED.format(wait=_wait_text(wait))
                    response = render(
                        request, "argmap/rate_limited.html", {"message": message}, status=429
                    )
                    response["Retry-After"] = str(wait)
                    return response
            return view(request, *args, **kwargs)

        return wrapper

    return decorate
