"""Backups of the whole archive database, and restoring them (no click here: see cli_backup).

One backup is two files in the backup folder:

* ``portal-20261125T031500Z.sqlite3`` (SQLite, written with the online backup API) or
  ``portal-20261125T031500Z.pgdump`` (PostgreSQL, ``pg_dump --format=custom``);
* ``portal-20261125T031500Z.sqlite3.manifest.json`` next to it: when, which database
  dialect and Alembic revision, the portal version, the file's size and SHA-256, and the
  number of rows of every table.

Both are taken from one consistent snapshot: SQLite's backup API copies the file under a
read lock (a writer waits a moment, never leaves half a transaction in the copy), and on
PostgreSQL the row counts are read in a REPEATABLE READ transaction whose snapshot
``pg_dump --snapshot`` then dumps.

A restore goes only into an empty database, only from a backup whose manifest is present
and whose checksum matches; every refusal raises :class:`BackupError` before anything is
changed. After restoring, the row counts are compared with the manifest.
"""
from __future__ import annotations

import dataclasses
import datetime as dt
import hashlib
import json
import os
import shutil
import sqlite3
import subprocess
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlencode

import sqlalchemy as sa
from sqlalchemy.pool import NullPool

MANIFEST_SUFFIX = ".manifest.json"
PREFIX = "portal-"
EXTENSIONS = {"sqlite": ".sqlite3", "postgresql": ".pgdump"}
FORMAT = 1


class BackupError(Exception):
    """A backup or restore that cannot be done; the message says why and what to do."""


@dataclasses.dataclass(frozen=True)
class Manifest:
    """What a backup holds; stored as JSON next to the backup file."""

    file: str
    created_at: str
    dialect: str
    alembic_revision: str | None
    portal_version: str
    size: int
    sha256: str
    tables: dict[str, int]
    source: str = ""
    tool: str = ""
    format: int = FORMAT

    @property
    def created(self) -> dt.datetime:
        return dt.datetime.fromisoformat(self.created_at)

    @property
    def total_rows(self) -> int:
        return sum(self.tables.values())

    def to_json(self) -> str:
        return json.dumps(dataclasses.asdict(self), ensure_ascii=False, indent=2, sort_keys=True) + "\n"

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Manifest:
        if not isinstance(data, dict):
            raise ValueError("not a JSON object")
        names = {f.name for f in dataclasses.fields(cls)}
        manifest = cls(**{k: v for k, v in data.items() if k in names})
        if not isinstance(manifest.tables, dict) or not isinstance(manifest.size, int):
            raise ValueError("tables or size have the wrong type")
        manifest.created  # noqa: B018  (raises ValueError on a malformed date)
        return manifest


@dataclasses.dataclass(frozen=True)
class BackupEntry:
    """One backup in the folder, as :func:`list_backups` found it."""

    path: Path
    manifest: Manifest | None
    problem: str | None = None  # None: the checksum verifies

    @property
    def ok(self) -> bool:
        return self.problem is None

    @property
    def created(self) -> dt.datetime:
        if self.manifest is not None:
            return self.manifest.created
        try:
            return dt.datetime.fromtimestamp(self.path.stat().st_mtime, dt.timezone.utc)
        except OSError:
            return dt.datetime.min.replace(tzinfo=dt.timezone.utc)


@dataclasses.dataclass(frozen=True)
class RestoreReport:
    """The row counts found after a restore (they equal the manifest's, or it raised)."""

    manifest: Manifest
    counts: dict[str, int]

    @property
    def total_rows(self) -> int:
        return sum(self.counts.values())


# --------------------------------------------------------------------------- backup


def create_backup(engine: sa.Engine, directory: str | os.PathLike, keep: int = 10) -> Path:
    """Write a consistent backup of ``engine``'s database into ``directory`` and keep only
    the newest ``keep`` backups there. Returns the backup file (its manifest is next to it)."""
    if keep < 1:
        raise BackupError(f"keep must be at least 1 (got {keep}).")
    dialect = _dialect(engine)
    folder = Path(directory).expanduser()
    try:
        folder.mkdir(mode=0o700, parents=True, exist_ok=True)
    except OSError as exc:
        raise BackupError(f"Cannot create the backup folder {folder}: {exc.strerror or exc}.") from exc
    now = dt.datetime.now(dt.timezone.utc)
    target = _free_name(folder, PREFIX + now.strftime("%Y%m%dT%H%M%SZ"), EXTENSIONS[dialect])
    partial = target.with_name(f".{target.name}.partial")
    try:
        if dialect == "sqlite":
            revision, tables, tool = _sqlite_backup(engine, partial)
        else:
            revision, tables, tool = _pg_backup(engine, partial)
        os.chmod(partial, 0o600)
        manifest = Manifest(
            file=target.name, created_at=now.isoformat(), dialect=dialect, alembic_revision=revision,
            portal_version=_portal_version(), size=partial.stat().st_size, sha256=_sha256(partial),
            tables=tables, source=engine.url.render_as_string(hide_password=True), tool=tool,
        )
        os.replace(partial, target)
        _write_private(_manifest_path(target), manifest.to_json())
    except BaseException:
        partial.unlink(missing_ok=True)
        if not _manifest_path(target).exists():
            target.unlink(missing_ok=True)
        raise
    prune_backups(folder, keep)
    return target


def prune_backups(directory: str | os.PathLike, keep: int) -> list[Path]:
    """Delete all but the newest ``keep`` backups (file and manifest) in ``directory``.

    Only backups with a readable manifest count as generations; a file without one is
    listed as a problem by :func:`list_backups` and left for a person to look at."""
    entries = [e for e in _scan(Path(directory), verify=False) if e.manifest is not None]
    entries.sort(key=lambda e: (e.created, e.path.name), reverse=True)
    removed = []
    for entry in entries[keep:]:
        for path in (entry.path, _manifest_path(entry.path)):
            path.unlink(missing_ok=True)
        removed.append(entry.path)
    return removed


def _sqlite_backup(engine: sa.Engine, partial: Path) -> tuple[str | None, dict[str, int], str]:
    source_file = _sqlite_file(engine)
    if not source_file.exists():
        raise BackupError(f"The SQLite database {source_file} does not exist.")
    source = sqlite3.connect(f"{source_file.as_uri()}?mode=ro", uri=True, timeout=60)
    try:
        copy = sqlite3.connect(partial)
        try:
            source.backup(copy)  # one step, under a read lock: a consistent snapshot
            copy.execute("PRAGMA journal_mode=DELETE")  # a backup is one self-contained file
        finally:
            copy.close()
    except sqlite3.Error as exc:
        raise BackupError(f"SQLite backup of {source_file} failed: {exc}.") from exc
    finally:
        source.close()
    revision, tables = _facts_of_sqlite_file(partial)
    return revision, tables, f"sqlite {sqlite3.sqlite_version}"


def _pg_backup(engine: sa.Engine, partial: Path) -> tuple[str | None, dict[str, int], str]:
    pg_dump = _tool("pg_dump")
    url, env = libpq_url(engine.url)
    with engine.connect().execution_options(isolation_level="REPEATABLE READ") as conn, conn.begin():
        snapshot = conn.execute(sa.text("SELECT pg_export_snapshot()")).scalar_one()
        revision, tables = _facts(conn)
        _run([pg_dump, "--format=custom", f"--snapshot={snapshot}", f"--file={partial}", f"--dbname={url}"],
             env, "pg_dump")
    return revision, tables, _tool_version(pg_dump)


# --------------------------------------------------------------------------- verify / list


def verify_backup(path: str | os.PathLike) -> Manifest:
    """The manifest of the backup at ``path`` (the backup file or its manifest), after
    checking that the file is complete and unchanged; :class:`BackupError` otherwise."""
    backup = _backup_path(Path(path))
    manifest_file = _manifest_path(backup)
    if not manifest_file.exists():
        raise BackupError(f"The manifest of {backup.name} is missing ({manifest_file.name} should be next to it): "
                          "without it the backup cannot be verified, so it is not used.")
    if not backup.exists():
        raise BackupError(f"The backup file {backup} does not exist.")
    try:
        manifest = Manifest.from_dict(json.loads(manifest_file.read_text(encoding="utf-8")))
    except (OSError, ValueError, TypeError, KeyError) as exc:
        raise BackupError(f"The manifest {manifest_file.name} cannot be read ({exc}): the backup is not used.") from exc
    if manifest.file != backup.name:
        raise BackupError(f"The manifest {manifest_file.name} describes {manifest.file}, not {backup.name}: "
                          "the files were renamed or mixed up, so the backup is not used.")
    size = backup.stat().st_size
    if size != manifest.size:
        raise BackupError(f"The backup {backup.name} has {size} bytes, its manifest says {manifest.size}: "
                          "the file is truncated or was changed, so it is not used.")
    checksum = _sha256(backup)
    if checksum != manifest.sha256:
        raise BackupError(f"Checksum mismatch for {backup.name}: the file is corrupted or was tampered with "
                          f"(manifest sha256 {manifest.sha256[:16]}…, file {checksum[:16]}…), so it is not used.")
    return manifest


def list_backups(directory: str | os.PathLike) -> list[BackupEntry]:
    """The backups in ``directory``, newest first, each verified against its manifest."""
    entries = _scan(Path(directory), verify=True)
    entries.sort(key=lambda e: (e.created, e.path.name), reverse=True)
    return entries


def _scan(folder: Path, *, verify: bool) -> list[BackupEntry]:
    if not folder.is_dir():
        return []
    backups = {p for ext in EXTENSIONS.values() for p in folder.glob(f"{PREFIX}*{ext}") if p.is_file()}
    backups |= {_backup_path(p) for p in folder.glob(f"{PREFIX}*{MANIFEST_SUFFIX}")}
    entries = []
    for backup in backups:
        manifest, problem = None, None
        try:
            if verify:
                manifest = verify_backup(backup)
            else:
                manifest = Manifest.from_dict(json.loads(_manifest_path(backup).read_text(encoding="utf-8")))
        except BackupError as exc:
            problem = str(exc)
            try:
                manifest = Manifest.from_dict(json.loads(_manifest_path(backup).read_text(encoding="utf-8")))
            except (OSError, ValueError, TypeError, KeyError):
                pass
        except (OSError, ValueError, TypeError, KeyError) as exc:
            problem = f"manifest unreadable: {exc}"
        entries.append(BackupEntry(backup, manifest, problem))
    return entries


# --------------------------------------------------------------------------- restore


def restore_backup(engine: sa.Engine, path: str | os.PathLike) -> RestoreReport:
    """Restore the backup at ``path`` into ``engine``'s database, which must be empty.

    Refuses (:class:`BackupError`, nothing changed) when the manifest is missing, the
    checksum does not match, the backup is of another database kind, or the database
    holds tables. Afterwards compares every table's row count with the manifest."""
    backup = _backup_path(Path(path))
    manifest = verify_backup(backup)
    check_restorable(engine, manifest)
    if manifest.dialect == "sqlite":
        _sqlite_restore(engine, backup)
    else:
        _pg_restore(engine, backup)
    engine.dispose()
    with engine.connect() as conn:
        _, counts = _facts(conn)
    differences = {name: (manifest.tables.get(name), counts.get(name))
                   for name in sorted(set(manifest.tables) | set(counts))
                   if manifest.tables.get(name) != counts.get(name)}
    if differences:
        detail = ", ".join(f"{name}: {want if want is not None else 'absent'} in the manifest, "
                           f"{got if got is not None else 'absent'} restored" for name, (want, got) in differences.items())
        raise BackupError(f"The backup was restored but its row counts differ from the manifest: {detail}.")
    return RestoreReport(manifest, counts)


def check_restorable(engine: sa.Engine, manifest: Manifest) -> None:
    """Raise :class:`BackupError` unless ``manifest``'s backup can be restored into
    ``engine``'s database: same database kind, and the database is empty (no tables, or
    only an empty ``alembic_version``)."""
    dialect = _dialect(engine)
    if manifest.dialect != dialect:
        raise BackupError(f"{manifest.file} is a {manifest.dialect} backup; the configured database is {dialect}. "
                          "Restore it into a database of the same kind.")
    tables = existing_tables(engine)
    extra = {name: has_rows for name, has_rows in tables.items() if name != "alembic_version" or has_rows}
    if not extra:
        return
    where = engine.url.render_as_string(hide_password=True)
    with_data = sorted(name for name, has_rows in extra.items() if has_rows)
    if with_data:
        shown = ", ".join(with_data[:8]) + (f" and {len(with_data) - 8} more" if len(with_data) > 8 else "")
        what = f"it holds {len(tables)} tables, {len(with_data)} of them with data ({shown})"
    else:
        what = f"it already has a schema ({len(tables)} tables, all empty)"
    raise BackupError(f"The database {where} is not empty: {what}. A backup is restored only into an empty "
                      "database, so nothing was changed: create a new empty database, point the portal at it "
                      "and run the restore again.")


def existing_tables(engine: sa.Engine) -> dict[str, bool]:
    """The tables of ``engine``'s database (schema-qualified outside the default schema)
    and whether each holds rows. A SQLite file that does not exist yet is empty."""
    if _dialect(engine) == "sqlite" and not _sqlite_file(engine).exists():
        return {}
    result = {}
    with engine.connect() as conn:
        inspector = sa.inspect(conn)
        schemas: list[str | None] = [None]
        if conn.dialect.name == "postgresql":
            schemas += [s for s in inspector.get_schema_names()
                        if s != inspector.default_schema_name and s != "information_schema" and not s.startswith("pg_")]
        for schema in schemas:
            for name in inspector.get_table_names(schema=schema):
                table = sa.table(name, schema=schema)
                has_rows = conn.execute(sa.select(sa.exists(sa.select(sa.literal(1)).select_from(table)))).scalar()
                result[name if schema is None else f"{schema}.{name}"] = bool(has_rows)
    return result


def _sqlite_restore(engine: sa.Engine, backup: Path) -> None:
    target = _sqlite_file(engine)
    engine.dispose()
    source = sqlite3.connect(f"{backup.resolve().as_uri()}?mode=ro", uri=True)
    try:
        copy = sqlite3.connect(target, timeout=60)
        try:
            source.backup(copy)
        finally:
            copy.close()
    except sqlite3.Error as exc:
        raise BackupError(f"Restoring {backup.name} into {target} failed: {exc}.") from exc
    finally:
        source.close()


def _pg_restore(engine: sa.Engine, backup: Path) -> None:
    pg_restore = _tool("pg_restore")
    url, env = libpq_url(engine.url)
    command = [pg_restore, "--no-owner", "--no-privileges", "--exit-on-error", "--single-transaction"]
    if existing_tables(engine):  # only an empty alembic_version (checked): replaced in the same transaction
        command += ["--clean", "--if-exists"]
    engine.dispose()
    _run(command + [f"--dbname={url}", str(backup)], env, "pg_restore")


# --------------------------------------------------------------------------- helpers


def libpq_url(url: sa.URL | str) -> tuple[str, dict[str, str]]:
    """A libpq connection URL for a SQLAlchemy PostgreSQL URL, without the password, and
    the environment (``PGPASSWORD``) that carries the password to pg_dump/pg_restore."""
    url = sa.engine.make_url(url)
    netloc = quote(url.username, safe="") + "@" if url.username else ""
    host = url.host or ""
    netloc += f"[{host}]" if ":" in host and not host.startswith("[") else quote(host, safe="[]:")
    if url.port:
        netloc += f":{url.port}"
    query = [(key, value) for key, values in url.query.items()
             for value in (values if isinstance(values, tuple) else (values,))]
    text = f"postgresql://{netloc}/{quote(url.database or '', safe='')}"
    if query:
        text += "?" + urlencode(query)
    env = {"PGPASSWORD": url.password} if url.password else {}
    return text, env


def _run(command: list[str], env: dict[str, str], name: str) -> None:
    environment = {k: v for k, v in os.environ.items() if k not in ("PGPASSWORD", "PGPASSFILE")} | env
    if not env:  # no password in the URL: let libpq use ~/.pgpass as psycopg would
        environment.update({k: v for k, v in os.environ.items() if k in ("PGPASSWORD", "PGPASSFILE")})
    try:
        result = subprocess.run(command, env=environment, capture_output=True, text=True, check=False)
    except OSError as exc:
        raise BackupError(f"{name} could not be started: {exc}.") from exc
    if result.returncode != 0:
        message = (result.stderr or result.stdout).strip() or f"exit code {result.returncode}"
        if "version mismatch" in message or "unsupported version" in message:
            message += (" — pg_dump/pg_restore must be of the server's major version or newer: "
                        "install the matching postgresql-client package")
        raise BackupError(f"{name} failed, nothing was changed: {message}")


def _tool(name: str) -> str:
    found = shutil.which(name)
    if not found:
        raise BackupError(f"{name} is not on PATH: install the PostgreSQL client programs of the server's "
                          "major version (e.g. apt install postgresql-client).")
    return found


def _tool_version(path: str) -> str:
    try:
        return subprocess.run([path, "--version"], capture_output=True, text=True, check=False).stdout.strip()
    except OSError:
        return Path(path).name


def _facts(conn: sa.Connection) -> tuple[str | None, dict[str, int]]:
    """The Alembic revision and the row count of every table in the default schema."""
    names = sorted(sa.inspect(conn).get_table_names())
    tables = {name: conn.execute(sa.select(sa.func.count()).select_from(sa.table(name))).scalar_one()
              for name in names}
    revision = None
    if "alembic_version" in tables:
        heads = conn.execute(sa.text("SELECT version_num FROM alembic_version ORDER BY version_num")).scalars().all()
        revision = ",".join(heads) or None
    return revision, tables


def _facts_of_sqlite_file(path: Path) -> tuple[str | None, dict[str, int]]:
    uri = f"{path.resolve().as_uri()}?mode=ro"
    engine = sa.create_engine("sqlite://", creator=lambda: sqlite3.connect(uri, uri=True), poolclass=NullPool)
    try:
        with engine.connect() as conn:
            return _facts(conn)
    finally:
        engine.dispose()


def _dialect(engine: sa.Engine) -> str:
    name = engine.dialect.name
    if name not in EXTENSIONS:
        raise BackupError(f"Backups of {name} databases are not supported (only SQLite and PostgreSQL).")
    if name == "sqlite":
        _sqlite_file(engine)
    return name


def _sqlite_file(engine: sa.Engine) -> Path:
    database = engine.url.database
    if not database or database == ":memory:" or database.startswith("file:"):
        raise BackupError("The configured SQLite database is not a plain file (in-memory or URI): "
                          "it cannot be backed up or restored.")
    return Path(database).resolve()


def _free_name(folder: Path, stem: str, extension: str) -> Path:
    candidate, n = folder / f"{stem}{extension}", 1
    while candidate.exists() or _manifest_path(candidate).exists():
        n += 1
        candidate = folder / f"{stem}-{n}{extension}"
    return candidate


def _manifest_path(backup: Path) -> Path:
    return backup.with_name(backup.name + MANIFEST_SUFFIX)


def _backup_path(path: Path) -> Path:
    """The backup file for a path that names either it or its manifest."""
    if path.name.endswith(MANIFEST_SUFFIX):
        return path.with_name(path.name[: -len(MANIFEST_SUFFIX)])
    return path


def _write_private(path: Path, text: str) -> None:
    partial = path.with_name(f".{path.name}.partial")
    try:
        partial.write_text(text, encoding="utf-8")
        os.chmod(partial, 0o600)
        os.replace(partial, path)
    finally:
        partial.unlink(missing_ok=True)


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _portal_version() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("customer-archive-portal")
    except PackageNotFoundError:
        return "unknown"
