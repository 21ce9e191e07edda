"""What the benchmarks share: a clean database, Django, the machine's facts and the results file.

``bench/run.py`` and ``bench/live.py`` import it as ``common`` (the script's folder is first on
``sys.path``); importing it puts the project's root on ``sys.path`` too.
"""

from __future__ import annotations

import json
import os
import platform
import sys
import time
import traceback
import warnings
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

BENCH_DIR = Path(__file__).resolve().parent
BASE_DIR = BENCH_DIR.parent
sys.path[:0] = [p for p in (str(BASE_DIR), str(BENCH_DIR)) if p not in sys.path]


# --- the database, before Django is configured --------------------------------------------------


def prepare_database(name: str, var_dir: Path, *, refuse_other: str | None = None) -> str | None:
    """Point Django at a clean benchmark database; return the admin URL to drop it, if any.

    No ``DATABASE_URL``: SQLite in ``var_dir`` (``ARGMAP_VAR_DIR``), its old file deleted first.
    A PostgreSQL one: a throwaway database ``name`` on the same server, created afresh. Any other
    database is used as given, or refused with the message ``refuse_other``.
    """
    url = os.environ.get("DATABASE_URL")
    if not url:
        var_dir.mkdir(parents=True, exist_ok=True)
        os.environ["ARGMAP_VAR_DIR"] = str(var_dir)
        for stale in var_dir.glob("argmap.sqlite3*"):
            stale.unlink()
        return None
    if not urlsplit(url).scheme.startswith("postgres"):
        if refuse_other:
            raise SystemExit(refuse_other)
        return None  # some other database: use it as given
    import psycopg

    with psycopg.connect(url, autocommit=True) as admin:
        admin.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
        admin.execute(f"CREATE DATABASE {name}")
    os.environ["DATABASE_URL"] = urlunsplit(urlsplit(url)._replace(path=f"/{name}"))
    return url


def drop_database(admin_url: str, name: str) -> None:
    """Close Django's connections (and pools), then drop the throwaway database."""
    import psycopg
    from django.db import connections

    for conn in connections.all():
        conn.close()
        close_pool = getattr(conn, "close_pool", None)
        if close_pool is not None:
            close_pool()
    with psycopg.connect(admin_url, autocommit=True) as admin:
        admin.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")


# --- Django ------------------------------------------------------------------------------------


def setup_django() -> str:
    """Configure Django, migrate the benchmark database; return its vendor."""
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    import django

    django.setup()
    # WhiteNoise warns once that var/.../staticfiles is missing; the benches serve no files.
    warnings.filterwarnings("ignore", message="No directory at")
    from django.core.management import call_command
    from django.db import connection

    call_command("migrate", verbosity=0)
    return connection.vendor


def database_info(vendor: str, *settings: str) -> dict[str, str]:
    """The database's vendor and version, and on PostgreSQL the named server ``settings``."""
    from django.db import connection

    with connection.cursor() as cursor:
        if vendor == "sqlite":
            cursor.execute("SELECT sqlite_version()")
            return {"vendor": vendor, "version": cursor.fetchone()[0]}
        cursor.execute("SHOW server_version")
        info = {"vendor": vendor, "version": cursor.fetchone()[0]}
        for setting in settings:
            cursor.execute(f"SHOW {setting}")
            info[setting] = cursor.fetchone()[0]
        return info


def psycopg_params(db: dict[str, Any]) -> dict[str, Any]:
    """``psycopg.connect`` keywords for a Django ``DATABASES`` entry (the empty ones left out)."""
    params = {
        "dbname": db["NAME"],
        "user": db.get("USER") or None,
        "password": db.get("PASSWORD") or None,
        "host": db.get("HOST") or None,
        "port": db.get("PORT") or None,
    }
    return {k: v for k, v in params.items() if v}


@dataclass
class Bench:
    """The database a benchmark runs on, and when and how loaded the machine was as it began."""

    vendor: str
    database: dict[str, str]
    began: float  # time.perf_counter()
    load_before: tuple[float, float, float]


@contextmanager
def bench_database(
    name: str, var_dir: Path, *settings: str, refuse_other: str | None = None
) -> Iterator[Bench]:
    """A clean database with Django set up and migrated on it (``prepare_database``,
    ``setup_django``, ``database_info``), dropped at the end even after an error."""
    admin_url = prepare_database(name, var_dir, refuse_other=refuse_other)
    try:
        began, load_before = time.perf_counter(), os.getloadavg()
        vendor = setup_django()
        yield Bench(vendor, database_info(vendor, *settings), began, load_before)
    finally:
        if admin_url is not None:
            drop_database(admin_url, name)


def run_benchmark(
    measure: Callable[[Bench], int],
    name: str,
    var_dir: Path,
    *settings: str,
    refuse_other: str | None = None,
) -> int:
    """``measure(bench)`` on a clean database (``bench_database``); its exit status, or 1 after
    printing the traceback of an error."""
    try:
        with bench_database(name, var_dir, *settings, refuse_other=refuse_other) as bench:
            return measure(bench)
    except Exception:
        traceback.print_exc()
        return 1


# --- the record ---------------------------------------------------------------------------------


def describe_run(bench: Bench, **machine: Any) -> dict:
    """The head of a results entry: when, on what software, on what machine (``machine`` adds
    facts after the platform) and how loaded it was before and after."""
    import django

    load_before = bench.load_before
    return {
        "date": datetime.now(UTC).isoformat(timespec="seconds"),
        "database": bench.database,
        "python": platform.python_version(),
        "django": django.get_version(),
        "machine": {
            "cores": os.cpu_count(),
            "platform": platform.platform(),
            **machine,
            "load_average_before": [round(x, 2) for x in load_before],
            "load_average_after": [round(x, 2) for x in os.getloadavg()],
        },
    }


def save_results(path: Path, key: str, record: dict, *, keep: Callable[[str], bool]) -> None:
    """Store ``record`` under ``key`` in the JSON file ``path``, with the entries whose keys
    ``keep`` accepts (an unreadable file starts afresh)."""
    results = {}
    if path.exists():
        try:
            results = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, json.JSONDecodeError):
            results = {}
    results = {k: v for k, v in results.items() if keep(k)}
    results[key] = record
    path.write_text(json.dumps(results, indent=2) + "\n", encoding="utf-8")
