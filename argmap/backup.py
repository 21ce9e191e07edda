"""Backups and restores of the whole database, safe while the site runs.

- SQLite: Python's ``sqlite3.Connection.backup`` (SQLite's online backup API) copies the database
  in one step inside a read transaction, so the copy is a consistent snapshot that includes what
  is still in the WAL, while writers carry on (WAL mode lets them). A file copy of a live WAL
  database is not: it misses the WAL and can be torn.
- PostgreSQL: ``pg_dump -Fc`` (one repeatable-read snapshot, does not block writers) and
  ``pg_restore`` into a fresh database (created when missing).

``manage.py backup`` and ``manage.py restore`` are thin wrappers around ``backup`` and
``restore``; errors are ``BackupError`` with a message meant for the operator.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import sqlite3
import subprocess
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import dj_database_url
from django.conf import settings
from django.db import connections

SQLITE_MAGIC = b"SQLite format 3\x00"
PG_MAGIC = b"PGDMP"
MAP_TABLE = "argmap_argumentmap"
# Debian and Ubuntu keep each PostgreSQL version's client tools here.
PG_LIB_DIR = Path("/usr/lib/postgresql")

NO_BINARY = (
    "{name} was not found. Install the PostgreSQL client tools (Debian: apt-get install "
    "postgresql-client) or set ARGMAP_PG_BIN to the directory that holds {name}."
)
UNKNOWN_FORMAT = "{path} is neither a SQLite database nor a pg_dump custom-format archive."
WRONG_TARGET = "{path} is a {kind} backup; it restores only into a {kind} database, not {target}."
TARGET_HAS_MAPS = (
    "The target database {target} already holds {count} map(s). Restore into a fresh database, "
    "or pass --force to replace its contents."
)
BACKUP_EXISTS = "{path} already exists; choose another path."
MISSING = "No backup at {path}."
UNSUPPORTED_ENGINE = "Backups support SQLite and PostgreSQL, not {engine}."
CORRUPT = "The backup at {path} failed SQLite's integrity check: {detail}"
TOOL_FAILED = "{name} failed (exit {code}): {detail}"


class BackupError(Exception):
    """A backup or restore that could not be done; the message says why and what to do."""


@dataclass(slots=True)
class Outcome:
    """What a backup or restore did: the file, the database, and the maps at that moment."""

    path: Path
    vendor: str
    target: str
    versions: dict[str, int] = field(default_factory=dict)

    @property
    def size(self) -> int:
        return self.path.stat().st_size if self.path.exists() else 0


# -- where and what ------------------------------------------------------------------------------


def vendor_of(db: dict[str, Any]) -> str:
    engine = db["ENGINE"]
    if engine.endswith("sqlite3"):
        return "sqlite"
    if engine.endswith("postgresql"):
        return "postgresql"
    raise BackupError(UNSUPPORTED_ENGINE.format(engine=engine))


def default_path(vendor: str, now: datetime | None = None) -> Path:
    """var/backups/argmap-<UTC timestamp>.sqlite3 (or .dump for PostgreSQL)."""
    stamp = (now or datetime.now(UTC)).strftime("%Y%m%dT%H%M%SZ")
    suffix = "sqlite3" if vendor == "sqlite" else "dump"
    return Path(settings.VAR_DIR) / "backups" / f"argmap-{stamp}.{suffix}"


def kind_of(path: Path) -> str:
    """'sqlite' or 'postgresql', from the file's first bytes."""
    if not path.is_file():
        raise BackupError(MISSING.format(path=path))
    with path.open("rb") as handle:
        head = handle.read(16)
    if head.startswith(SQLITE_MAGIC):
        return "sqlite"
    if head.startswith(PG_MAGIC):
        return "postgresql"
    raise BackupError(UNKNOWN_FORMAT.format(path=path))


def _describe(db: dict[str, Any]) -> str:
    if vendor_of(db) == "sqlite":
        return str(db["NAME"])
    user, host, port = db.get("USER") or "", db.get("HOST") or "localhost", db.get("PORT") or 5432
    return f"postgresql://{user}@{host}:{port}/{db['NAME']}"


def canonical_export() -> dict[str, Any]:
    """Every map's ``argmap/1`` export (argmap.interchange), keyed by slug."""
    from argmap.interchange import export_map
    from argmap.models import ArgumentMap

    maps = ArgumentMap.objects.select_related("source").order_by("slug")
    return {argument_map.slug: export_map(argument_map) for argument_map in maps}


def export_hash() -> str:
    """SHA-256 of the canonical export of the default database, JSON with sorted keys."""
    text = json.dumps(canonical_export(), sort_keys=True, ensure_ascii=False)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


# -- backup --------------------------------------------------------------------------------------


def backup(path: Path | str | None = None, *, using: str = "default") -> Outcome:
    """Back up the configured database to ``path`` (default: var/backups/argmap-<time>.*)."""
    db = connections[using].settings_dict
    vendor = vendor_of(db)
    target = Path(path) if path else default_path(vendor)
    if target.exists():
        raise BackupError(BACKUP_EXISTS.format(path=target))
    target.parent.mkdir(parents=True, exist_ok=True)
    partial = target.with_name(target.name + ".partial")
    partial.unlink(missing_ok=True)
    try:
        if vendor == "sqlite":
            versions = _backup_sqlite(Path(db["NAME"]), partial)
        else:
            dump_args = ["-Fc", "--no-owner", "--no-privileges", "-f", str(partial)]
            _run(_pg_tool("pg_dump"), [*dump_args, "-d", str(db["NAME"])], db)
            versions = _dump_versions(partial)
        partial.replace(target)  # only a complete backup ever carries the final name
    finally:
        partial.unlink(missing_ok=True)
    return Outcome(path=target, vendor=vendor, target=_describe(db), versions=versions)


def _backup_sqlite(source: Path, target: Path) -> dict[str, int]:
    """One backup step (pages=-1) reads one snapshot; the copy is then made self-contained."""
    if not source.is_file():
        raise BackupError(MISSING.format(path=source))
    src = sqlite3.connect(f"file:{source}?mode=ro", uri=True, timeout=20)
    dst = sqlite3.connect(target)
    try:
        src.execute("PRAGMA busy_timeout = 20000")
        src.backup(dst, pages=-1)
        # A standalone file: no -wal beside it, readable by any sqlite3.
        dst.execute("PRAGMA journal_mode = DELETE")
        _check_sqlite(dst, target)
        return _sqlite_versions(dst)
    finally:
        dst.close()
        src.close()


def _check_sqlite(conn: sqlite3.Connection, path: Path) -> None:
    result = conn.execute("PRAGMA integrity_check").fetchone()[0]
    if result != "ok":
        raise BackupError(CORRUPT.format(path=path, detail=result))


def _sqlite_versions(conn: sqlite3.Connection) -> dict[str, int]:
    exists = conn.execute(
        "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?", [MAP_TABLE]
    ).fetchone()
    if not exists:
        return {}
    rows = conn.execute(f"SELECT slug, version FROM {MAP_TABLE} ORDER BY slug")
    return {slug: version for slug, version in rows}


def _dump_versions(dump: Path) -> dict[str, int]:
    """The maps' versions as the dump's snapshot saw them, read from the archive's COPY data."""
    output = _run(
        _pg_tool("pg_restore"), ["--data-only", f"--table={MAP_TABLE}", "-f", "-", str(dump)], None
    )
    versions: dict[str, int] = {}
    columns: list[str] | None = None
    for line in output.splitlines():
        if line.startswith("COPY ") and MAP_TABLE in line:
            names = line[line.index("(") + 1 : line.index(")")].split(",")
            columns = [name.strip().strip('"') for name in names]
            continue
        if columns is not None:
            if line == "\\.":
                break
            # COPY's text format: fields split by tabs (a tab inside a value is written as \t).
            row = dict(zip(columns, line.split("\t"), strict=False))
            versions[row["slug"]] = int(row["version"])
    return dict(sorted(versions.items()))


# -- restore -------------------------------------------------------------------------------------


def restore(path: Path | str, *, database_url: str | None = None, force: bool = False) -> Outcome:
    """Restore a backup into ``database_url`` (default: the configured database). Refuses a
    target that already has maps unless ``force``."""
    source = Path(path)
    kind = kind_of(source)
    if database_url:
        db = dj_database_url.parse(database_url)
    else:
        db = dict(connections["default"].settings_dict)
    vendor = vendor_of(db)
    if vendor != kind:
        raise BackupError(WRONG_TARGET.format(path=source, kind=kind, target=vendor))
    target = _describe(db)
    if kind == "sqlite":
        versions = _restore_sqlite(source, Path(db["NAME"]), force=force, target=target)
    else:
        versions = _restore_postgresql(source, db, force=force, target=target)
    return Outcome(path=source, vendor=kind, target=target, versions=versions)


def _restore_sqlite(source: Path, target_path: Path, *, force: bool, target: str) -> dict[str, int]:
    src = sqlite3.connect(f"file:{source}?mode=ro", uri=True)
    try:
        _check_sqlite(src, source)
        target_path.parent.mkdir(parents=True, exist_ok=True)
        dst = sqlite3.connect(target_path, timeout=20)
        try:
            count = _sqlite_map_count(dst)
            if count and not force:
                raise BackupError(TARGET_HAS_MAPS.format(target=target, count=count))
            # The backup API writes the target under its own lock: other connections never see a
            # half-restored file (they wait, or get "database is locked").
            src.backup(dst, pages=-1)
            dst.execute("PRAGMA journal_mode = WAL")
            return _sqlite_versions(dst)
        finally:
            dst.close()
    finally:
        src.close()


def _sqlite_map_count(conn: sqlite3.Connection) -> int:
    table = "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?"
    if not conn.execute(table, [MAP_TABLE]).fetchone():
        return 0
    return conn.execute(f"SELECT count(*) FROM {MAP_TABLE}").fetchone()[0]


def _restore_postgresql(
    source: Path, db: dict[str, Any], *, force: bool, target: str
) -> dict[str, int]:
    import psycopg

    pg_restore = _pg_tool("pg_restore")
    if not _pg_database_exists(db):
        _run(_pg_tool("createdb"), [str(db["NAME"])], db)
    with psycopg.connect(**_psycopg_params(db)) as conn:
        table = conn.execute("SELECT to_regclass(%s)", [f"public.{MAP_TABLE}"]).fetchone()[0]
        count = conn.execute(f"SELECT count(*) FROM {MAP_TABLE}").fetchone()[0] if table else 0
    if count and not force:
        raise BackupError(TARGET_HAS_MAPS.format(target=target, count=count))
    args = ["--no-owner", "--no-privileges", "--exit-on-error", "--single-transaction"]
    if force:
        args += ["--clean", "--if-exists"]
    _run(pg_restore, [*args, "-d", str(db["NAME"]), str(source)], db)
    with psycopg.connect(**_psycopg_params(db)) as conn:
        rows = conn.execute(f"SELECT slug, version FROM {MAP_TABLE} ORDER BY slug").fetchall()
    return {slug: version for slug, version in rows}


def _psycopg_params(db: dict[str, Any], dbname: str | None = None) -> dict[str, Any]:
    params = {
        "dbname": dbname or db["NAME"],
        "user": db.get("USER") or None,
        "password": db.get("PASSWORD") or None,
        "host": db.get("HOST") or None,
        "port": db.get("PORT") or None,
    }
    return {key: value for key, value in params.items() if value is not None}


def _pg_database_exists(db: dict[str, Any]) -> bool:
    import psycopg

    try:
        with psycopg.connect(**_psycopg_params(db, dbname="postgres")) as conn:
            found = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [db["NAME"]])
            return found.fetchone() is not None
    except psycopg.Error as error:
        raise BackupError(f"Cannot reach PostgreSQL for {_describe(db)}: {error}") from error


# -- PostgreSQL client tools ---------------------------------------------------------------------


def _pg_tool(name: str) -> str:
    """The tool from ARGMAP_PG_BIN, then PATH, then the newest /usr/lib/postgresql/*/bin."""
    configured = os.environ.get("ARGMAP_PG_BIN") or getattr(settings, "ARGMAP_PG_BIN", "")
    if configured:
        candidate = Path(configured) / name
        if candidate.is_file() and os.access(candidate, os.X_OK):
            return str(candidate)
    found = shutil.which(name)
    if found:
        return found
    versions = sorted(
        PG_LIB_DIR.glob(f"*/bin/{name}"),
        key=lambda p: int(p.parts[-3]) if p.parts[-3].isdigit() else 0,
    )
    if versions:
        return str(versions[-1])
    raise BackupError(NO_BINARY.format(name=name))


def _run(tool: str, args: list[str], db: dict[str, Any] | None) -> str:
    """Run a client tool with the connection from ``db`` (password through PGPASSWORD)."""
    env = dict(os.environ)
    command = [tool]
    if db is not None:
        if db.get("HOST"):
            command += ["-h", str(db["HOST"])]
        if db.get("PORT"):
            command += ["-p", str(db["PORT"])]
        if db.get("USER"):
            command += ["-U", str(db["USER"])]
        if db.get("PASSWORD"):
            env["PGPASSWORD"] = str(db["PASSWORD"])
        command.append("--no-password")
    command += args
    try:
        result = subprocess.run(command, env=env, capture_output=True, text=True, check=False)
    except OSError as error:
        raise BackupError(NO_BINARY.format(name=Path(tool).name)) from error
    if result.returncode != 0:
        detail = (result.stderr or result.stdout).strip().splitlines()
        raise BackupError(
            TOOL_FAILED.format(
                name=Path(tool).name, code=result.returncode, detail=" ".join(detail[-3:])
            )
        )
    return result.stdout
