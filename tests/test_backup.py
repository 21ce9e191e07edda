"""The backup drill: back up while a thread writes, restore into a fresh database, and compare
canonical export hashes; plus the commands' refusals and messages.

The drill runs on whichever database the suite runs on (CI runs both). The writer thread records
the canonical export hash after each of its commits, keyed by the maps' versions; the backup
records the versions it captured; so the restored database must hash to exactly the state the
source had at those versions. Negative controls show the comparison can fail: an altered restore
hashes differently, and (SQLite) a plain file copy taken during the writes loses committed work.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
from django.conf import settings
from django.core.management import CommandError, call_command
from django.db import connection

from argmap import backup, services
from argmap.models import ArgumentMap, Claim

POSTGRES = connection.vendor == "postgresql"
SQLITE = connection.vendor == "sqlite"
PG_SERVER = "postgres://postgres@127.0.0.1:5432"

pytestmark = [pytest.mark.concurrency, pytest.mark.django_db(transaction=True)]


class HashFailed(Exception):
    pass


def hash_of(database_url: str) -> str:
    """The canonical export hash of another database, computed by a fresh Django process."""
    code = (
        "import django; django.setup(); from argmap.backup import export_hash; print(export_hash())"
    )
    env = {**os.environ, "DATABASE_URL": database_url, "DJANGO_SETTINGS_MODULE": "config.settings"}
    result = subprocess.run(
        [sys.executable, "-c", code],
        cwd=settings.BASE_DIR,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    if result.returncode != 0:
        raise HashFailed(result.stderr.strip().splitlines()[-1] if result.stderr else "failed")
    return result.stdout.strip().splitlines()[-1]


def current_versions() -> tuple[tuple[str, int], ...]:
    return tuple(ArgumentMap.objects.order_by("slug").values_list("slug", "version"))


class Writer(threading.Thread):
    """Adds and edits claims through the services in a loop; after each commit it records the
    canonical export hash under the maps' versions (it is the only writer, so nothing changes
    between its commit and its record)."""

    def __init__(self, maps: list[ArgumentMap]):
        super().__init__(daemon=True)
        self.maps = maps
        self.recorded: dict[tuple[tuple[str, int], ...], str] = {}
        self.writes = 0
        self.error: BaseException | None = None
        self.stop = threading.Event()

    def record(self) -> None:
        self.recorded[current_versions()] = backup.export_hash()

    def run(self) -> None:
        try:
            if SQLITE:
                # Keep committed pages in the WAL (as a busy site with long readers does), so a
                # plain copy of the main file visibly misses them.
                with connection.cursor() as cursor:
                    cursor.execute("PRAGMA wal_autocheckpoint = 0")
            self.record()
            n = 0
            while not self.stop.is_set():
                n += 1
                argument_map = self.maps[n % len(self.maps)]
                thesis = Claim.objects.get(map=argument_map, parent=None)
                if n % 3 == 0:
                    claim = Claim.objects.filter(map=argument_map).exclude(pk=thesis.pk).last()
                    services.claim_edit(
                        claim=claim,
                        expected_version=claim.version,
                        text=f"Edited drill claim {n}",
                        quote=None,
                    )
                else:
                    stance = "support" if n % 2 else "counter"
                    services.claim_add(parent=thesis, stance=stance, text=f"Drill claim {n}")
                self.writes += 1
                self.record()
        except BaseException as error:  # reported by the test
            self.error = error
        finally:
            connection.close()

    def wait_for(self, writes: int, timeout: float = 60) -> None:
        deadline = time.monotonic() + timeout
        while self.writes < writes and self.error is None:
            assert time.monotonic() < deadline, f"only {self.writes} writes in {timeout} s"
            time.sleep(0.01)
        assert self.error is None, self.error

    def finish(self) -> None:
        self.stop.set()
        self.join(60)
        assert self.error is None, self.error


@pytest.fixture
def drill_maps(make_map) -> list[ArgumentMap]:
    return [
        make_map(slug="drill-a", claims=[(None, "support", "A first reason")]),
        make_map(slug="drill-b", claims=[(None, "counter", "B first objection")]),
    ]


@pytest.fixture
def fresh_database(tmp_path):
    """A database URL where nothing exists yet: a new file, or a PostgreSQL database that the
    restore creates and this fixture drops."""
    if SQLITE:
        yield f"sqlite:///{tmp_path / 'restored.sqlite3'}"
        return
    import psycopg

    name = f"test_argmap_restore_{os.getpid()}"

    def drop() -> None:
        with psycopg.connect(f"{PG_SERVER}/postgres", autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')

    drop()
    yield f"{PG_SERVER}/{name}"
    drop()


def _suffix() -> str:
    return "sqlite3" if SQLITE else "dump"


def _alter(database_url: str) -> None:
    """Change one claim's text behind the application's back."""
    sql = (
        "UPDATE argmap_claim SET text = text || ' (tampered)' "
        "WHERE id = (SELECT max(id) FROM argmap_claim)"
    )
    if SQLITE:
        import sqlite3

        with sqlite3.connect(database_url.removeprefix("sqlite:///")) as conn:
            conn.execute(sql)
    else:
        import psycopg

        with psycopg.connect(database_url) as conn:
            conn.execute(sql)


def test_backup_while_writing_restores_exactly_the_snapshot(drill_maps, tmp_path, fresh_database):
    writer = Writer(drill_maps)
    writer.start()
    try:
        writer.wait_for(5)
        writes_before = writer.writes
        outcome = backup.backup(tmp_path / f"drill.{_suffix()}")
        writer.wait_for(writer.writes + 5)  # and the site carries on writing after it
    finally:
        writer.finish()
    assert writes_before >= 5 and writer.writes >= writes_before + 5
    snapshot = tuple(outcome.versions.items())
    assert [slug for slug, _ in snapshot] == ["drill-a", "drill-b"]
    # The backup is one of the states the source committed, and not its final state.
    assert snapshot in writer.recorded
    assert snapshot != current_versions()

    restored = backup.restore(outcome.path, database_url=fresh_database)
    assert tuple(restored.versions.items()) == snapshot
    restored_hash = hash_of(fresh_database)
    assert restored_hash == writer.recorded[snapshot]
    assert restored_hash != backup.export_hash()  # the source moved on since

    # Negative control: the comparison notices a single changed claim.
    _alter(fresh_database)
    assert hash_of(fresh_database) != writer.recorded[snapshot]


@pytest.mark.skipif(not SQLITE, reason="a file copy of a live database is SQLite's pitfall")
def test_plain_file_copy_of_a_live_sqlite_database_loses_committed_writes(drill_maps, tmp_path):
    writer = Writer(drill_maps)
    writer.start()
    try:
        writer.wait_for(5)
        committed = current_versions()  # at least this much is committed before the copy
        copy = tmp_path / "naive.sqlite3"
        shutil.copyfile(connection.settings_dict["NAME"], copy)
        proper = backup.backup(tmp_path / "proper.sqlite3")
    finally:
        writer.finish()
    try:
        naive_hash = hash_of(f"sqlite:///{copy}")
    except HashFailed:
        naive_hash = "unreadable"
    assert naive_hash not in {writer.recorded.get(committed), *_later(writer, committed)}
    # The online backup taken at the same moment has everything committed before it.
    proper_versions = tuple(proper.versions.items())
    assert all(v >= w for (_, v), (_, w) in zip(proper_versions, committed, strict=True))
    assert proper_versions in writer.recorded


def _later(writer: Writer, versions) -> list[str]:
    """Hashes of every recorded state at or after ``versions`` (map by map)."""
    return [
        digest
        for state, digest in writer.recorded.items()
        if all(v >= w for (_, v), (_, w) in zip(state, versions, strict=True))
    ]


def test_restore_refuses_a_database_that_has_maps(drill_maps, tmp_path):
    path = tmp_path / f"refuse.{_suffix()}"
    call_command("backup", str(path), stdout=open(os.devnull, "w"))  # noqa: SIM115
    with pytest.raises(CommandError) as refused:
        call_command("restore", str(path))
    assert "already holds 2 map(s)" in str(refused.value) and "--force" in str(refused.value)
    assert ArgumentMap.objects.count() == 2


def test_restore_into_a_fresh_database_then_force_over_it(drill_maps, tmp_path, fresh_database):
    from io import StringIO

    path = tmp_path / f"again.{_suffix()}"
    out = StringIO()
    call_command("backup", str(path), stdout=out)
    assert f"to {path}" in out.getvalue() and "drill-a at version" in out.getvalue()
    out = StringIO()
    call_command("restore", str(path), database_url=fresh_database, stdout=out)
    assert "Restored" in out.getvalue() and "2 map(s)" in out.getvalue()
    first = hash_of(fresh_database)
    assert first == backup.export_hash()
    with pytest.raises(CommandError, match="already holds 2 map"):
        call_command("restore", str(path), database_url=fresh_database)
    _alter(fresh_database)
    call_command("restore", str(path), database_url=fresh_database, force=True, stdout=out)
    assert hash_of(fresh_database) == first


def test_backup_default_path_is_under_var_backups(drill_maps, tmp_path, settings):
    settings.VAR_DIR = tmp_path
    outcome = backup.backup()
    assert outcome.path.parent == tmp_path / "backups"
    assert outcome.path.name.startswith("argmap-") and outcome.path.suffix == f".{_suffix()}"
    assert backup.kind_of(outcome.path) == connection.vendor
    with pytest.raises(backup.BackupError, match="already exists"):
        backup.backup(outcome.path)


def test_unknown_and_mismatched_files_are_refused(tmp_path):
    junk = tmp_path / "junk.bin"
    junk.write_bytes(b"not a backup")
    with pytest.raises(CommandError, match="neither a SQLite database nor a pg_dump"):
        call_command("restore", str(junk))
    with pytest.raises(CommandError, match="No backup at"):
        call_command("restore", str(tmp_path / "missing.dump"))
    other = tmp_path / "other"
    other.write_bytes(backup.PG_MAGIC if SQLITE else backup.SQLITE_MAGIC)
    with pytest.raises(CommandError, match="restores only into"):
        call_command("restore", str(other))


def test_missing_postgresql_tools_give_a_clear_message(monkeypatch, tmp_path):
    monkeypatch.setattr(backup.shutil, "which", lambda name: None)
    monkeypatch.setattr(backup, "PG_LIB_DIR", tmp_path / "nowhere")
    monkeypatch.setenv("ARGMAP_PG_BIN", str(tmp_path))
    with pytest.raises(backup.BackupError) as missing:
        backup._pg_tool("pg_dump")
    assert "pg_dump was not found" in str(missing.value) and "ARGMAP_PG_BIN" in str(missing.value)
    tool = tmp_path / "pg_dump"
    tool.write_text("#!/bin/sh\n")
    tool.chmod(0o755)
    assert backup._pg_tool("pg_dump") == str(Path(tmp_path) / "pg_dump")
