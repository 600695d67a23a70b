"""``flask portal …`` commands."""
from __future__ import annotations

import sys

import click
from flask import current_app
from flask.cli import with_appcontext

from portal.extensions import db


@click.group("portal")
def portal_cli() -> None:
    """Customer archive portal commands."""


@portal_cli.command("init")
@with_appcontext
def init_command() -> None:
    """Sync permissions, apply the roles of seeds/roles.json and load the code tables (idempotent)."""
    from portal.seeds import initialise

    problem = _schema_problem()
    if problem:
        raise click.ClickException(problem)
    report, added = initialise(current_app.appbuilder, db.session)
    click.echo(f"roles: {', '.join(report)}")
    click.echo(f"code tables: {added} rows added")


@portal_cli.command("seed")
@click.option("--demo", is_flag=True, help="Load the demo archive (300+ customers) and one user per role.")
@click.option("--if-empty", is_flag=True, help="Do nothing when customers exist already.")
@click.option("--seed", "random_seed", default=20260101, show_default=True, help="Random seed of the demo data.")
@with_appcontext
def seed_command(demo: bool, if_empty: bool, random_seed: int) -> None:
    """Load code tables, and with --demo the demo archive."""
    import sqlalchemy as sa

    from portal.models import Customer
    from portal.seeds import codes

    problem = _schema_problem()
    if problem:
        raise click.ClickException(problem)
    codes.load_code_tables(db.session)
    db.session.commit()
    if not demo:
        click.echo("code tables loaded")
        return
    from portal.seeds import demo as demo_data

    if if_empty and db.session.scalar(sa.select(sa.func.count()).select_from(Customer)):
        click.echo("demo archive: customers exist already, nothing loaded")
        return
    summary = demo_data.load_demo(db.session, current_app.appbuilder, seed=random_seed)
    db.session.commit()
    if summary.get("skipped"):
        click.echo(f"demo archive: {summary['skipped']}, nothing loaded")
    else:
        counts = ", ".join(f"{k} {v}" for k, v in summary.items() if k not in ("skipped", "seconds"))
        click.echo(f"demo archive loaded in {summary.get('seconds', 0):.1f} s: {counts}")
        click.echo("logins: flask --app wsgi portal logins")


@portal_cli.command("check")
@with_appcontext
def check_command() -> None:
    """Exit non-zero with a clear message when the database is unreachable or not migrated."""
    problem = _schema_problem()
    if problem:
        click.echo(problem, err=True)
        sys.exit(1)
    click.echo("database ok")


def _schema_problem() -> str | None:
    from portal.health import schema_problem

    problem = schema_problem(db.engine)
    return None if problem is None else f"{problem[0]}\n  → {problem[1]}"


@portal_cli.command("logins")
@with_appcontext
def logins_command() -> None:
    """Print how to log in: the demo users when they exist."""
    from portal.seeds import demo

    sm = current_app.appbuilder.sm
    if sm.find_user(username="admin") is not None and sm.find_user(username="clerk") is not None:
        click.echo(demo.login_help())
    else:
        click.echo("  No demo users. Create an administrator with:\n"
                   "    .venv/bin/flask --app wsgi fab create-admin")


@portal_cli.command("prune-access-log")
@with_appcontext
def prune_access_log_command() -> None:
    """Delete access-log entries older than ACCESS_LOG_RETENTION_DAYS (never under 3 years)."""
    from portal.security import access_log

    removed = access_log.prune()
    click.echo(f"access log: {removed} entries older than {access_log.retention_days()} days removed")
