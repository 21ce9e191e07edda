"""ASGI entry point: ``uvicorn config.asgi:application``."""

import os
import re
import warnings
from concurrent.futures import ThreadPoolExecutor

from asgiref.sync import ThreadSensitiveContext
from django.core.asgi import get_asgi_application

# WhiteNoise serves static files through a sync iterator; under ASGI Django warns on every file.
# Our assets are small and hashed, so the buffering it warns about is harmless.
warnings.filterwarnings(
    "ignore", message="StreamingHttpResponse must consume synchronous iterators"
)

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
django_application = get_asgi_application()

# Django gives every request a thread of its own for sync code (a ThreadSensitiveContext) and
# keeps it until the response ends: for an event stream, one idle thread per open tab for hours.
# Event streams do their little sync work (session, map, version) on one shared thread instead.
EVENT_STREAM = re.compile(r"^/maps/[^/]+/events/$")
_event_stream_executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="event-streams")


async def application(scope, receive, send):
    if scope["type"] == "http" and EVENT_STREAM.match(scope["path"]):
        async with ThreadSensitiveContext(executor=_event_stream_executor):
            return await django_application(scope, receive, send)
    return await django_application(scope, receive, send)
