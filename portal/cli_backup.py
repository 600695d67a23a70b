"""``flask portal backup | restore | backups``: the commands around :mod:`portal.backup`."""
from __future__ import annotations

import os
import sys
from pathlib import Path

import click
from flask import current_app
from flask.cli import with_appcontext

from portal import backup as backups_module
from portal.backup import BackupError
from portal.cli import portal_cli
from portal.extensions import db


def backup_dir() -> Path:
    """The backup folder: config ``BACKUP_DIR``, else env ``BACKUP_DIR``, else <instance>/backups."""
    configured = current_app.config.get("BACKUP_DIR") or os.environ.get("BACKUP_DIR")
    return Path(configured).expanduser() if configured else Path(current_app.instance_path) / "backups"


def backup_keep() -> int:
    """How many backups to keep: config ``BACKUP_KEEP``, else env ``BACKUP_KEEP``, else 10."""
    configured = current_app.config.get("BACKUP_KEEP") or os.environ.get("BACKUP_KEEP")
    try:
        return int(configured) if configured else 10
    except ValueError:
        raise click.ClickException(f"BACKUP_KEEP must be a whole number, not {configured!r}.") from None


def _size(n: int) -> str:
    for unit in ("bytes", "KB", "MB", "GB"):
        if n < 1024 or unit == "GB":
            return f"{n} {unit}" if unit == "bytes" else f"{n:.1f} {unit}"
        n /= 1024
    return str(n)


@portal_cli.command("backup")
@click.option("--dir", "directory", type=click.Path(file_okay=False, path_type=Path),
              help="Backup folder (default: BACKUP_DIR, else <instance>/backups).")
@click.option("--keep", type=click.IntRange(min=1), help="Backups to keep (default: BACKUP_KEEP, else 10).")
@with_appcontext
def backup_command(directory: Path | None, keep: int | None) -> None:
    """Write a consistent backup of the whole database, with a manifest, and keep the newest N."""
    folder = directory or backup_dir()
    keep = keep or backup_keep()
    before = {e.path for e in backups_module.list_backups(folder)} if folder.is_dir() else set()
    try:
        path = backups_module.create_backup(db.engine, folder, keep)
        manifest = backups_module.verify_backup(path)
    except BackupError as exc:
        raise click.ClickException(str(exc)) from exc
    removed = sorted(before - {e.path for e in backups_module.list_backups(folder)})
    click.echo(f"backup: {path}")
    click.echo(f"  size: {_size(manifest.size)} ({manifest.size} bytes)")
    click.echo(f"  sha256: {manifest.sha256}")
    click.echo(f"  {manifest.dialect}, revision {manifest.alembic_revision or '-'}, "
               f"{len(manifest.tables)} tables, {manifest.total_rows} rows")
    for old in removed:
        click.echo(f"  removed old backup {old.name}")
    click.echo(f"  keeping the newest {keep} backups in {folder}; copy the folder to a second place.")


@portal_cli.command("restore")
@click.argument("file", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--yes", is_flag=True, help="Do not ask for confirmation.")
@with_appcontext
def restore_command(file: Path, yes: bool) -> None:
    """Restore a backup FILE into the configured database, which must be empty."""
    engine = db.engine
    target = engine.url.render_as_string(hide_password=True)
    db.session.remove()
    try:
        manifest = backups_module.verify_backup(file)
        backups_module.check_restorable(engine, manifest)
    except BackupError as exc:
        raise click.ClickException(str(exc)) from exc
    click.echo(f"backup {file.name}: created {manifest.created_at}, revision {manifest.alembic_revision or '-'}, "
               f"{len(manifest.tables)} tables, {manifest.total_rows} rows; checksum ok")
    if not yes:
        click.confirm(f"Restore it into {target}?", abort=True)
    try:
        report = backups_module.restore_backup(engine, file)
    except BackupError as exc:
        raise click.ClickException(str(exc)) from exc
    finally:
        db.session.remove()
        engine.dispose()
    click.echo(f"restored into {target}: row counts of all {len(report.counts)} tables match the manifest "
               f"({report.total_rows} rows)")
    from portal.health import schema_problem

    problem = schema_problem(engine)
    if problem:
        click.echo(f"note: {problem[0]} → {problem[1]}")


@portal_cli.command("backups")
@click.option("--dir", "directory", type=click.Path(file_okay=False, path_type=Path),
              help="Backup folder (default: BACKUP_DIR, else <instance>/backups).")
@with_appcontext
def backups_command(directory: Path | None) -> None:
    """List the backups, newest first, and check each against its manifest (exit 1 if one fails)."""
    folder = directory or backup_dir()
    entries = backups_module.list_backups(folder)
    if not entries:
        click.echo(f"no backups in {folder}")
        return
    click.echo(f"backups in {folder}:")
    for entry in entries:
        manifest = entry.manifest
        created = entry.created.strftime("%Y-%m-%d %H:%M:%S UTC")
        size = _size(entry.path.stat().st_size) if entry.path.exists() else "missing"
        revision = (manifest.alembic_revision or "-") if manifest else "?"
        status = "checksum ok" if entry.ok else f"NOT OK: {entry.problem}"
        click.echo(f"  {created}  {size:>9}  rev {revision:<8} {entry.path.name}  {status}")
    if not all(entry.ok for entry in entries):
        sys.exit(1)
