"""Backup and restore: a drill on the real SQLite code path, and the PostgreSQL command lines."""

from __future__ import annotations

import sqlite3

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection

from partnerscope import demo
from partnerscope.ops import backup as ops_backup
from partnerscope.orgs.models import Organization


@pytest.fixture
def sqlite_only():
    if connection.vendor != "sqlite":
        pytest.skip("checks SQLite backup files")


# The drill runs on whatever database the suite uses: the SQLite backup API, or pg_dump and
# pg_restore against the PostgreSQL test database.
@pytest.mark.django_db(transaction=True)
def test_backup_restore_drill(tmp_path, capsys):
    demo.load_demo()
    source = ops_backup.summarize()
    assert source.counts()["orgs_organization"] == 1
    assert source.counts()["engagements_assignment"] > 25

    path = tmp_path / "drill.sqlite3"
    call_command("backup", str(path))
    out = capsys.readouterr().out
    assert f"checksum sha256:{source.checksum}" in out
    assert "engagements_assignment" in out
    assert path.stat().st_mode & 0o077 == 0  # password hashes inside: owner-only
    assert not path.with_name(path.name + ".partial").exists()
    if connection.vendor == "sqlite":
        # A self-contained, intact SQLite database holding exactly the source rows.
        assert ops_backup.summarize_sqlite_file(path).tables == source.tables
        with sqlite3.connect(path) as conn:
            assert conn.execute("PRAGMA integrity_check").fetchone() == ("ok",)
            assert conn.execute("PRAGMA journal_mode").fetchone() == ("delete",)

    # Disaster: the demo is lost and other data appears.
    demo.delete_organization(Organization.objects.get(slug="northwind"))
    Organization.objects.create(slug="stray", name="Stray")
    assert ops_backup.summarize().checksum != source.checksum

    with pytest.raises(CommandError, match=r"already holds data.*--force"):
        call_command("restore", str(path))
    call_command("restore", str(path), "--force")
    out = capsys.readouterr().out
    restored = ops_backup.summarize()
    assert restored.counts() == source.counts()
    assert restored.checksum == source.checksum
    assert f"checksum sha256:{source.checksum}" in out
    assert not Organization.objects.filter(slug="stray").exists()
    assert Organization.objects.filter(slug="northwind").exists()


@pytest.mark.django_db(transaction=True)
def test_restore_into_an_empty_database_needs_no_force(tmp_path):
    demo.load_demo()
    source = ops_backup.summarize()
    path = tmp_path / "b.sqlite3"
    ops_backup.backup(path)
    call_command("flush", interactive=False, verbosity=0)
    assert ops_backup.is_empty()
    restored = ops_backup.restore(path)
    assert restored.tables == source.tables


@pytest.mark.django_db(transaction=True)
def test_backup_and_restore_refuse_bad_paths(sqlite_only, tmp_path):
    existing = tmp_path / "exists.sqlite3"
    existing.write_text("keep me")
    with pytest.raises(CommandError, match=r"already exists.*--overwrite"):
        call_command("backup", str(existing))
    assert existing.read_text() == "keep me"
    call_command("backup", str(existing), "--overwrite")
    assert ops_backup.summarize_sqlite_file(existing).tables == ops_backup.summarize().tables

    with pytest.raises(CommandError, match=r"does not exist"):
        call_command("restore", str(tmp_path / "missing.sqlite3"))
    junk = tmp_path / "junk.sqlite3"
    junk.write_bytes(b"not a database at all" * 100)
    with pytest.raises(CommandError, match=r"not a readable SQLite database"):
        call_command("restore", str(junk), "--force")
    other = tmp_path / "other.sqlite3"
    with sqlite3.connect(other) as conn:
        conn.execute("CREATE TABLE t (x)")
    with pytest.raises(CommandError, match=r"not a PartnerScope backup"):
        call_command("restore", str(other), "--force")


def test_summary_checksum_depends_on_every_row():
    a = ops_backup.Summary({"t": (2, ops_backup._row_digest([(1, "a"), (2, "b")]))})
    b = ops_backup.Summary({"t": (2, ops_backup._row_digest([(1, "a"), (2, "c")]))})
    assert a.checksum != b.checksum
    assert a.lines()[-1].startswith("  checksum sha256:")


def test_data_tables_cover_partnerscope_and_users():
    tables = ops_backup.data_tables()
    for table in [
        "orgs_organization",
        "orgs_auditevent",
        "vendors_vendor",
        "engagements_assignment",
        "auth_user",
    ]:
        assert table in tables
    assert "django_session" not in tables


# --- PostgreSQL: the command lines, with the tools replaced by a recorder ----------------------

PG_SETTINGS = {
    "ENGINE": "django.db.backends.postgresql",
    "NAME": "part'ner -scope",
    "USER": "ps_user",
    "PASSWORD": "s3cret pass'word",
    "HOST": "db.internal",
    "PORT": "5433",
    "OPTIONS": {"sslmode": "require"},
}


def test_pg_invocation_keeps_the_password_off_the_command_line():
    conninfo, env = ops_backup.pg_invocation(PG_SETTINGS)
    assert conninfo == r"dbname='part\'ner -scope'"
    assert env["PGPASSWORD"] == "s3cret pass'word"
    assert (env["PGHOST"], env["PGPORT"], env["PGUSER"], env["PGSSLMODE"]) == (
        "db.internal",
        "5433",
        "ps_user",
        "require",
    )
    assert "s3cret" not in conninfo


@pytest.mark.django_db(transaction=True)
def test_pg_restore_command_line(tmp_path, monkeypatch):
    calls = []

    def fake_run(cmd, env, **kwargs):
        calls.append((cmd, env))
        return ops_backup.subprocess.CompletedProcess(cmd, 0, "", "")

    real_invocation = ops_backup.pg_invocation
    monkeypatch.setattr(ops_backup, "pg_invocation", lambda _settings: real_invocation(PG_SETTINGS))
    monkeypatch.setattr(ops_backup.shutil, "which", lambda name: f"/usr/bin/{name}")
    monkeypatch.setattr(ops_backup.subprocess, "run", fake_run)
    dump = tmp_path / "-looks-like-an-option.dump"
    dump.write_bytes(b"PGDMP")
    ops_backup._pg_restore(dump, "default")

    (list_cmd, _), (cmd, env) = calls
    assert list_cmd == ["/usr/bin/pg_restore", "--list", "--", str(dump)]
    assert cmd[:5] == ["/usr/bin/pg_restore", "--clean", "--if-exists", "--no-owner", "--single-transaction"]
    assert cmd[5] == r"--dbname=dbname='part\'ner -scope'"
    assert cmd[-2:] == ["--", str(dump)]
    assert env["PGPASSWORD"] == "s3cret pass'word"
    assert not any("s3cret" in part for part in cmd)


def test_pg_tools_missing_is_explained(monkeypatch):
    monkeypatch.setattr(ops_backup.shutil, "which", lambda name: None)
    with pytest.raises(ops_backup.BackupError, match=r"pg_dump is not on PATH"):
        ops_backup._pg_tool("pg_dump")
