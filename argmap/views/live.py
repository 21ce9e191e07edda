"""Live updates: one event stream per open map tab, and "what changed since version v"."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

from asgiref.sync import sync_to_async
from django.core.handlers.asgi import ASGIRequest
from django.db import connection
from django.http import HttpRequest, HttpResponse, StreamingHttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET

from argmap import bus, tree
from argmap.models import ArgumentMap
from argmap.views.maps import HtmxHttpRequest, _get_map, _int_param

KEEPALIVE_SECONDS = 15.0
# Bursts of writes are coalesced: a stream sends at most one version per this many seconds.
COALESCE_SECONDS = 0.15
# A client further behind than this many changed claims reloads its tree instead.
MAX_CHANGES = 500


def _event(name: str, data: str, event_id: int | None = None) -> str:
    lines = [f"event: {name}"]
    if event_id is not None:
        lines.append(f"id: {event_id}")
    lines.extend(f"data: {line}" for line in data.splitlines() or [""])
    return "\n".join(lines) + "\n\n"


def _presence_text(count: int) -> str:
    return "1 person here" if count == 1 else f"{count} people here"


async def _stream(map_id: int, since: int | None, *, hold: bool = True) -> AsyncIterator[str]:
    """The event stream of one tab. With ``hold`` False (a WSGI server, which cannot hold a
    stream open) it sends the current state and ends; the browser reconnects after ``retry``."""
    subscription = bus.hub().subscribe(map_id)
    try:
        current = await sync_to_async(_current_version)(map_id)
        # Reconnect politely, and tell the browser at once if it missed versions while away.
        yield "retry: 2000\n\n"
        if since is None or current != since:
            yield _event("version", str(current), current)
        sent_version, sent_presence = current, None
        if not hold:
            yield _event("presence", _presence_text(subscription.presence))
            return
        loop = asyncio.get_running_loop()
        sent_at = -COALESCE_SECONDS
        while True:
            events = []
            if subscription.version > sent_version:
                sent_version = subscription.version
                events.append(_event("version", str(sent_version), sent_version))
            if subscription.presence != sent_presence:
                sent_presence = subscription.presence
                events.append(_event("presence", _presence_text(sent_presence)))
            if events:
                sent_at = loop.time()
                yield "".join(events)
            woke = await subscription.wait(KEEPALIVE_SECONDS)
            if not woke:
                yield ": keepalive\n\n"
                continue
            # Coalesce without delaying: the first change goes out at once; changes within
            # COALESCE_SECONDS of the last send wait for the window to end and leave as one event.
            wait = sent_at + COALESCE_SECONDS - loop.time()
            if wait > 0:
                await asyncio.sleep(wait)
    finally:
        subscription.close()


def _current_version(map_id: int) -> int:
    """The map's version. Then this request hands its connection back (to the pool on
    PostgreSQL): the stream lives for hours and needs the database no more."""
    try:
        return ArgumentMap.objects.filter(pk=map_id).values_list("version", flat=True).get()
    finally:
        connection.close()


def _last_event_id(request: HttpRequest) -> int | None:
    raw = request.headers.get("Last-Event-ID") or request.GET.get("v")
    return int(raw) if raw and raw.isascii() and raw.isdigit() and len(raw) <= 18 else None


@require_GET
async def map_events(request: HttpRequest, slug: str) -> StreamingHttpResponse:
    """Server-sent events: the map's version whenever it changes, and who else is here."""
    argument_map = await sync_to_async(_get_map)(request, slug)
    response = StreamingHttpResponse(
        _stream(argument_map.pk, _last_event_id(request), hold=isinstance(request, ASGIRequest)),
        content_type="text/event-stream",
    )
    response["Cache-Control"] = "no-cache"
    response["X-Accel-Buffering"] = "no"  # tell nginx not to buffer the stream
    return response


@require_GET
def map_changes(request: HtmxHttpRequest, slug: str) -> HttpResponse:
    """The claims changed since ``since``, rendered for this reader, for the browser to apply."""
    argument_map = _get_map(request, slug)
    since = _int_param(request, "since", 0, low=0, high=argument_map.version)
    # Rendered for this reader: what they may see (a pending claim for its author and the
    # moderators), their own votes, and expand links in the order they chose.
    viewer = tree.viewer_for(request.user, argument_map)
    changes = tree.fetch_changes(argument_map, since=since, limit=MAX_CHANGES + 1, viewer=viewer)
    renderer = tree.TreeRenderer(
        argument_map.slug, viewer=viewer, sort=tree.sort_of(request.GET.get("sort"))
    )
    context = {
        "map": argument_map,
        "since": since,
        "reload": len(changes) > MAX_CHANGES,
        "changes": [
            (change, renderer.node(change.node, 0) if change.node else "")
            for change in changes[:MAX_CHANGES]
        ],
    }
    return render(request, "argmap/_changes.html", context)
