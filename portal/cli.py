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


@portal_cli.command("prune-batches")
@with_appcontext
def prune_batches_command() -> None:
    """Remove import batches' staged rows and files, and grid batches, older than
    IMPORT_RETENTION_DAYS / GRID_BATCH_RETENTION_DAYS (the records and their history stay),
    and the temporary workbooks of interrupted sheet reads older than an hour."""
    from portal.excel import retention

    done = retention.prune(db.session)
    db.session.commit()
    click.echo(f"imports older than {retention.import_days()} days: {done.import_batches} batches pruned "
               f"({done.import_rows} staged rows, {done.files} files); grid batches older than "
               f"{retention.grid_days()} days: {done.grid_batches} removed; temporary sheets of "
               f"interrupted reads older than an hour: {done.temporary_sheets} removed")


@portal_cli.command("import")
@click.argument("file", type=click.Path(exists=True, dir_okay=False))
@click.option("--model", "resource", required=True, type=click.Choice(["customer", "contact", "transaction", "visit"]),
              help="The records the sheet holds.")
@click.option("--mapping", "mapping_name", default=None, help="A mapping saved by name (else the suggested one).")
@click.option("--sheet", default=None, help="The sheet to read (else the first with a header row).")
@click.option("--header-row", type=int, default=None, help="The header's row number (else found).")
@click.option("--match", default=None, help="Match key, e.g. number or name+mobile (else the first one mapped).")
@click.option("--mode", type=click.Choice(["create", "update", "upsert"]), default=None,
              help="create only, update only, or both (default: both when there is a match key).")
@click.option("--all-or-nothing", is_flag=True, help="Import nothing when any row is invalid or a duplicate.")
@click.option("--dry-run", is_flag=True, help="Check and report; write nothing to the archive.")
@click.option("--user", "username", default=None, help="Act as this user (row scope, history); else as the system.")
@click.option("--errors", "errors_path", type=click.Path(dir_okay=False, writable=True), default=None,
              help="Write the rows not imported, with what is wrong, to this .xlsx (to fix and import again).")
@with_appcontext
def import_command(file, resource, mapping_name, sheet, header_row, match, mode, all_or_nothing, dry_run,
                   username, errors_path) -> None:
    """Import FILE (.xlsx, .xls, .ods, .csv) as a batch: check it, then (unless --dry-run) commit it."""
    import sqlalchemy as sa

    from portal.excel import importer, reader, steps
    from portal.excel.importer import ImportRefused, Who
    from portal.models import ImportMapping

    who = Who()
    if username:
        user = current_app.appbuilder.sm.find_user(username=username)
        if user is None:
            raise click.ClickException(f"no user {username}")
        from portal.security import masking

        who = Who(user=user, sees_sensitive=masking.can_see_sensitive(user))
    try:
        saved = None
        if mapping_name:
            saved = db.session.scalars(sa.select(ImportMapping).filter_by(resource=resource, name=mapping_name)).first()
            if saved is None:
                raise click.ClickException(f"no mapping named {mapping_name} for {resource}")
        batch = importer.upload(db.session, file, file, resource, who, mapping_id=saved.id if saved else None,
                                sheet=sheet, header_row=header_row)
        db.session.commit()
        options = dict(batch.options or {})
        if match:
            options["match"] = match.split("+")
        if mode:
            options["mode"] = mode
        if all_or_nothing:
            options["all_or_nothing"] = True
        steps.run("prepare", batch, who, background=False, options=options)
        click.echo(f"batch {batch.id}: {batch.file_name}, sheet {batch.sheet}, header on row {batch.header_row}")
        click.echo("mapping: " + ", ".join(f"{batch.headers[int(i)]} → {k}" for i, k in batch.mapping.items() if k))
        counts = batch.counts
        click.echo("checked: " + ", ".join(f"{k} {counts.get(k, 0)}" for k in
                                           ("new", "update", "unchanged", "invalid", "duplicate", "total")))
        _echo_problems(batch)
        if errors_path and (counts.get("invalid") or counts.get("duplicate")):
            from portal.excel.report import write_errors

            with open(errors_path, "wb") as stream:
                written = write_errors(stream, db.session, batch, sees_sensitive=who.sees_sensitive)
            click.echo(f"{written} rows not imported written to {errors_path}")
        if dry_run:
            click.echo("dry run: nothing written")
            return
        steps.run("commit", batch, who, background=False)
        click.echo(f"imported: created {batch.counts['created']}, updated {batch.counts['updated']}, "
                   f"skipped {batch.counts['skipped']}")
    except ImportRefused as exc:
        raise click.ClickException(str(exc.message))
    except reader.ReadError as exc:
        raise click.ClickException(str(exc.message))


PROBLEMS_SHOWN = 20


def _echo_problems(batch) -> None:
    """The first rows that will not be imported, with their row in the file and what is wrong."""
    import sqlalchemy as sa

    from portal.excel.report import error_text
    from portal.models import ImportRow
    from portal.models import imports as status

    table = ImportRow.__table__
    wrong = (table.c.batch_id == batch.id, table.c.status.in_((status.INVALID, status.DUPLICATE)))
    rows = db.session.execute(sa.select(table.c.row_no, table.c.errors).where(*wrong)
                              .order_by(table.c.row_no).limit(PROBLEMS_SHOWN)).all()
    for row_no, errors in rows:
        click.echo(f"  row {row_no}: {error_text(batch, errors)}")
    more = (batch.counts.get("invalid", 0) + batch.counts.get("duplicate", 0)) - len(rows)
    if more > 0:
        click.echo(f"  … and {more} more (--errors FILE writes them all)")


def _register_archive_command() -> None:
    from portal.excel.archive import archive_command

    portal_cli.add_command(archive_command)


_register_archive_command()


@portal_cli.command("classify")
@click.option("--kind", type=click.Choice(["abc", "rfm", "matrix", "relationship", "all"]), default="all",
              show_default=True, help="Which classification to recompute.")
@click.option("--from", "start", default=None, help="Period start YYYY-MM-DD (default: 12 months before the end).")
@click.option("--to", "end", default=None, help="Period end YYYY-MM-DD (default: --on or today).")
@click.option("--on", default=None, help="RFM analysis date YYYY-MM-DD (default: --to or today).")
@click.option("--apply", "mode", flag_value="apply", help="Write the ABC grades to the cards (recorded in history).")
@click.option("--propose", "mode", flag_value="propose", help="Keep the ABC grade changes as proposals for review.")
@click.option("--param", "params", multiple=True, metavar="NAME=VALUE",
              help="A rule parameter, e.g. a_share=0.7, bins=5, profit_threshold=median (repeatable).")
@click.option("--user", "username", default=None, help="Record the run as this user's.")
@with_appcontext
def classify_command(kind, start, end, on, mode, params, username) -> None:
    """Recompute classifications over every customer and store each run (see the
    classification pages for the results)."""
    from portal.context import acting_as
    from portal.services.classification import ClassificationError, runs

    user = None
    if username:
        user = current_app.appbuilder.sm.find_user(username=username)
        if user is None:
            raise click.ClickException(f"no user {username}")
    parameters = {}
    for item in params:
        name, sep, value = item.partition("=")
        if not sep:
            raise click.ClickException(f"--param {item}: expected NAME=VALUE")
        parameters[name.strip()] = value.strip()
    try:
        with acting_as(user.id if user else None):
            done = runs.run(db.session, kind, start=start, end=end, on=on, parameters=parameters,
                            mode=mode or "none", user_id=user.id if user else None,
                            username=user.username if user else None)
        db.session.commit()
    except ClassificationError as exc:
        db.session.rollback()
        raise click.ClickException(str(exc.message))
    for run in done:
        period = (f"{run.period_from} … {run.period_to}" if run.period_from else f"on {run.as_of}")
        counts = ", ".join(f"{k} {v}" for k, v in sorted(run.counts.items()))
        click.echo(f"run {run.id}: {run.kind} {period}, {run.customer_count} customers in "
                   f"{run.duration_ms / 1000:.2f} s; {counts}")
