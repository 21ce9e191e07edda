"""ASGI entry point: ``uvicorn config.asgi:application``."""

import os
import warnings

from django.core.asgi import get_asgi_application

# WhiteNoise serves static files through a sync iterator; under ASGI Django warns on every file.
# Our assets are small and hashed, so the buffering it warns about is harmless.
warnings.filterwarnings(
    "ignore", message="StreamingHttpResponse must consume synchronous iterators"
)

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
application = get_asgi_application()
