"""Backups and restores (portal/backup.py, portal/cli_backup.py) on the suite's database:
SQLite by default, PostgreSQL (pg_dump/pg_restore) when TEST_DATABASE_URL is set."""
from __future__ import annotations

import json
import re
import shutil
import threading
import uuid
from pathlib import Path

import pytest
import sqlalchemy as sa
from flask_appbuilder import Model
from sqlalchemy.pool import NullPool

import portal.models  # noqa: F401  (every table on Model.metadata)
from portal.backup import (
    BackupError, create_backup, existing_tables, libpq_url, list_backups, restore_backup, verify_backup,
)
from portal.cli_backup import backup_dir
from portal.extensions import db
from portal.health import schema_problem
from tests.conftest import make_app


@pytest.fixture
def empty_engine(database, tmp_path):
    """An engine on a brand-new empty database (a new PostgreSQL database or SQLite file)."""
    if database.is_postgres:
        url = database.template_url(f"bkempty_{uuid.uuid4().hex[:8]}")
    else:
        url = f"sqlite:///{tmp_path / 'restored.db'}"
    engine = sa.create_engine(url, poolclass=NullPool)
    yield engine
    engine.dispose()
    database.drop(url)


def url_of(engine: sa.Engine) -> str:
    return engine.url.render_as_string(hide_password=False)


def all_rows(engine: sa.Engine) -> dict[str, list[tuple]]:
    """Every row of every table (those of the metadata, ab_* included, and any other such as
    alembic_version), ordered by primary key, or by all columns when there is none."""
    result = {}
    with engine.connect() as conn:
        names = set(sa.inspect(conn).get_table_names())
        assert set(Model.metadata.tables) <= names, set(Model.metadata.tables) - names
        for name in sorted(names):
            table = Model.metadata.tables.get(name)
            if table is None:
                table = sa.Table(name, sa.MetaData(), autoload_with=conn)
            order = list(table.primary_key.columns) or list(table.columns)
            result[name] = [tuple(row) for row in conn.execute(sa.select(*table.columns).order_by(*order))]
    return result


def counts(engine: sa.Engine) -> dict[str, int]:
    return {name: len(rows) for name, rows in all_rows(engine).items()}


def flip_a_byte(path: Path) -> None:
    data = bytearray(path.read_bytes())
    data[len(data) // 2] ^= 0xFF
    path.write_bytes(bytes(data))


# ------------------------------------------------------------------ (1) identical content


def test_demo_archive_restores_identically_into_an_empty_database(demo_app, empty_engine, tmp_path):
    source = db.engine
    path = create_backup(source, tmp_path / "backups", keep=10)
    manifest = verify_backup(path)

    assert path.suffix == (".sqlite3" if source.dialect.name == "sqlite" else ".pgdump")
    assert re.fullmatch(r"portal-\d{8}T\d{6}Z(-\d+)?\.(sqlite3|pgdump)", path.name)
    assert (tmp_path / "backups" / (path.name + ".manifest.json")).exists()
    assert manifest.dialect == source.dialect.name and manifest.file == path.name
    assert manifest.size == path.stat().st_size and len(manifest.sha256) == 64
    assert manifest.portal_version and manifest.created_at.endswith("+00:00")
    with source.connect() as conn:
        assert manifest.alembic_revision == conn.execute(sa.text("SELECT version_num FROM alembic_version")).scalar()
    source_rows = all_rows(source)
    assert manifest.tables == {name: len(rows) for name, rows in source_rows.items()}
    assert manifest.tables["customer"] >= 300 and manifest.tables["ab_user"] > 0

    report = restore_backup(empty_engine, path)
    assert report.counts == manifest.tables

    restored_rows = all_rows(empty_engine)
    assert restored_rows.keys() == source_rows.keys()
    for name in source_rows:
        assert restored_rows[name] == source_rows[name], f"table {name} differs after the restore"

    # The restored database is a working portal: migrated, and new rows get fresh ids.
    restored = make_app(url_of(empty_engine))
    with restored.app_context():
        assert schema_problem(db.engine) is None
        sm = restored.appbuilder.sm
        newcomer = sm.add_user("after_restore", "After", "Restore", "after@example.cn", sm.find_role("Clerk"), "Xy-12345678!")
        assert newcomer and newcomer.id > max(row[0] for row in source_rows["ab_user"])
        db.session.remove()
        db.engine.dispose()


# ------------------------------------------------------------------ (2) generations


def test_only_the_newest_generations_are_kept(app, tmp_path):
    folder = tmp_path / "backups"
    stray = folder / "portal-stray.sqlite3"
    folder.mkdir()
    stray.write_bytes(b"not a backup")
    made = [create_backup(db.engine, folder, keep=3) for _ in range(5)]

    entries = list_backups(folder)
    kept = [e.path for e in entries if e.manifest is not None]
    assert kept == list(reversed(made[-3:]))  # newest first
    assert all(e.ok for e in entries if e.path != stray)
    [stray_entry] = [e for e in entries if e.path == stray]
    assert stray_entry.manifest is None and "manifest" in stray_entry.problem
    files = sorted(p.name for p in folder.iterdir())
    assert files == sorted([stray.name] + [p.name for p in made[-3:]] + [p.name + ".manifest.json" for p in made[-3:]])
    assert stray.exists(), "a file without a manifest is left for a person to look at"
    assert oct(made[-1].stat().st_mode & 0o777) == "0o600"


# ------------------------------------------------------------------ (3) tampered backups


def test_a_tampered_or_incomplete_backup_is_refused_and_nothing_is_changed(app, empty_engine, tmp_path):
    path = create_backup(db.engine, tmp_path / "backups", keep=10)
    flip_a_byte(path)

    with pytest.raises(BackupError, match="Checksum mismatch .* corrupted or was tampered with"):
        verify_backup(path)
    with pytest.raises(BackupError, match="Checksum mismatch"):
        restore_backup(empty_engine, path)
    assert existing_tables(empty_engine) == {}

    [entry] = list_backups(tmp_path / "backups")
    assert not entry.ok and "Checksum mismatch" in entry.problem

    truncated = create_backup(db.engine, tmp_path / "other", keep=10)
    with truncated.open("r+b") as handle:
        handle.truncate(truncated.stat().st_size - 100)
    with pytest.raises(BackupError, match="truncated"):
        restore_backup(empty_engine, truncated)

    orphan = create_backup(db.engine, tmp_path / "third", keep=10)
    Path(f"{orphan}.manifest.json").unlink()
    with pytest.raises(BackupError, match="manifest .* is missing"):
        restore_backup(empty_engine, orphan)
    assert existing_tables(empty_engine) == {}


def test_a_backup_of_another_database_kind_is_refused(app, empty_engine, tmp_path):
    path = create_backup(db.engine, tmp_path, keep=10)
    manifest_file = Path(f"{path}.manifest.json")
    data = json.loads(manifest_file.read_text())
    data["dialect"] = "postgresql" if data["dialect"] == "sqlite" else "sqlite"
    manifest_file.write_text(json.dumps(data))
    with pytest.raises(BackupError, match="Restore it into a database of the same kind"):
        restore_backup(empty_engine, path)
    assert existing_tables(empty_engine) == {}


# ------------------------------------------------------------------ (4) non-empty target


def test_restore_into_a_database_with_data_is_refused_and_changes_nothing(app, tmp_path):
    path = create_backup(db.engine, tmp_path, keep=10)
    with db.engine.begin() as conn:  # the database now differs from the backup
        conn.execute(sa.text("CREATE TABLE bk_marker (id INTEGER PRIMARY KEY)"))
        conn.execute(sa.text("INSERT INTO bk_marker (id) VALUES (1)"))
    before = all_rows(db.engine)
    db.session.remove()

    with pytest.raises(BackupError, match="is not empty: .* with data .*nothing was changed"):
        restore_backup(db.engine, path)
    assert all_rows(db.engine) == before


def test_restore_needs_an_empty_database_but_accepts_an_empty_alembic_version(app, empty_engine, tmp_path):
    path = create_backup(db.engine, tmp_path, keep=10)
    with empty_engine.begin() as conn:
        conn.execute(sa.text("CREATE TABLE leftover (id INTEGER PRIMARY KEY)"))
    with pytest.raises(BackupError, match="already has a schema"):
        restore_backup(empty_engine, path)
    assert existing_tables(empty_engine) == {"leftover": False}

    with empty_engine.begin() as conn:  # what `flask db downgrade base` leaves behind
        conn.execute(sa.text("DROP TABLE leftover"))
        conn.execute(sa.text("CREATE TABLE alembic_version (version_num VARCHAR(32) NOT NULL, "
                             "CONSTRAINT alembic_version_pkc PRIMARY KEY (version_num))"))
    report = restore_backup(empty_engine, path)
    assert report.counts == verify_backup(path).tables
    assert all_rows(empty_engine) == all_rows(db.engine)


# ------------------------------------------------------------------ consistency under writes


def test_a_backup_taken_while_the_portal_writes_is_consistent(app, empty_engine, tmp_path):
    """A writer commits two rows per transaction during the backup: the backup holds an
    even number of them, the manifest counts exactly what the file holds."""
    writer = sa.create_engine(db.engine.url, poolclass=NullPool)
    with writer.begin() as conn:
        conn.execute(sa.text("CREATE TABLE bk_probe (id INTEGER PRIMARY KEY, pair INTEGER NOT NULL)"))
    db.session.remove()
    stop, started = threading.Event(), threading.Event()
    errors = []

    def write():
        n = 0
        try:
            while not stop.is_set():
                with writer.begin() as conn:
                    for _ in range(2):
                        n += 1
                        conn.execute(sa.text("INSERT INTO bk_probe (id, pair) VALUES (:id, :pair)"),
                                     {"id": n, "pair": n // 2})
                if n >= 40:
                    started.set()
        except Exception as exc:  # pragma: no cover - reported below
            errors.append(exc)
            started.set()

    thread = threading.Thread(target=write)
    thread.start()
    try:
        assert started.wait(30)
        path = create_backup(db.engine, tmp_path, keep=10)
    finally:
        stop.set()
        thread.join()
        writer.dispose()
    assert not errors, errors
    probes = verify_backup(path).tables["bk_probe"]
    assert probes >= 40 and probes % 2 == 0
    report = restore_backup(empty_engine, path)  # raises if the dump and the counts disagree
    assert report.counts["bk_probe"] == probes


# ------------------------------------------------------------------ (5) the commands


def test_cli_backup_backups_and_restore(app, empty_engine, tmp_path):
    folder = tmp_path / "backups"
    runner = app.test_cli_runner()

    result = runner.invoke(args=["portal", "backup", "--dir", str(folder), "--keep", "2"])
    assert result.exit_code == 0, result.output
    path = Path(re.search(r"backup: (\S+)", result.output).group(1))
    manifest = verify_backup(path)
    assert path.parent == folder and manifest.sha256 in result.output and f"{manifest.size} bytes" in result.output

    for _ in range(2):
        result = runner.invoke(args=["portal", "backup", "--dir", str(folder), "--keep", "2"])
        assert result.exit_code == 0, result.output
    assert "removed old backup" in result.output and not path.exists()
    path = Path(re.search(r"backup: (\S+)", result.output).group(1))

    result = runner.invoke(args=["portal", "backups", "--dir", str(folder)])
    assert result.exit_code == 0, result.output
    assert result.output.count("checksum ok") == 2 and manifest.alembic_revision in result.output

    result = runner.invoke(args=["portal", "restore", str(path), "--yes"])
    assert result.exit_code != 0 and "is not empty" in result.output and "nothing was changed" in result.output

    tampered = tmp_path / "tampered"
    tampered.mkdir()
    for file in (path, Path(f"{path}.manifest.json")):
        shutil.copy(file, tampered / file.name)
    flip_a_byte(tampered / path.name)
    result = runner.invoke(args=["portal", "backups", "--dir", str(tampered)])
    assert result.exit_code != 0 and "NOT OK: Checksum mismatch" in result.output

    target = make_app(url_of(empty_engine))
    target_runner = target.test_cli_runner()
    with target.app_context():  # the commands run on the app of the current context
        result = target_runner.invoke(args=["portal", "restore", str(tampered / path.name), "--yes"])
        assert result.exit_code != 0 and "Checksum mismatch" in result.output, result.output
        result = target_runner.invoke(args=["portal", "restore", str(path)], input="n\n")
        assert result.exit_code != 0 and "Aborted" in result.output
        assert existing_tables(empty_engine) == {}

        result = target_runner.invoke(args=["portal", "restore", f"{path}.manifest.json", "--yes"])
        assert result.exit_code == 0, result.output
        assert "match the manifest" in result.output and "note:" not in result.output
        db.engine.dispose()
    assert all_rows(empty_engine) == all_rows(db.engine)


def test_cli_folder_and_generations_come_from_the_config(app, tmp_path, monkeypatch):
    monkeypatch.delenv("BACKUP_DIR", raising=False)
    monkeypatch.delenv("BACKUP_KEEP", raising=False)
    assert backup_dir() == Path(app.instance_path) / "backups"
    monkeypatch.setenv("BACKUP_DIR", str(tmp_path / "from_env"))
    assert backup_dir() == tmp_path / "from_env"

    app.config.update(BACKUP_DIR=str(tmp_path / "configured"), BACKUP_KEEP=1)
    runner = app.test_cli_runner()
    for _ in range(2):
        result = runner.invoke(args=["portal", "backup"])
        assert result.exit_code == 0, result.output
    assert len(list_backups(tmp_path / "configured")) == 1
    assert str(tmp_path / "configured") in result.output
    result = runner.invoke(args=["portal", "backups"])
    assert result.exit_code == 0 and "checksum ok" in result.output


# ------------------------------------------------------------------ libpq


def test_the_libpq_url_carries_no_password():
    url, env = libpq_url("postgresql+psycopg://arch%40ive:s3cr%2Ft@db.example.cn:5433/客户 档案?sslmode=require")
    assert url == "postgresql://arch%40ive@db.example.cn:5433/%E5%AE%A2%E6%88%B7%20%E6%A1%A3%E6%A1%88?sslmode=require"
    assert env == {"PGPASSWORD": "s3cr/t"} and "s3cr" not in url
    assert libpq_url("postgresql+psycopg://postgres@[::1]/portal") == ("postgresql://postgres@[::1]/portal", {})
