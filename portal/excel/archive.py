"""The whole archive as one workbook (档案副本): a sheet per kind of record — customers,
contacts, transactions and their lines, visits, after-sales, promotions and their targets,
purchase projects, competitors, stage history, products, teams and every code table — with
every described field, for the custodian's second copy.

Every model registered with the field registry is included, so a model added later appears
without touching this module; the audit tables (access log, change history) are not archive
content and grow with every use — they are kept by the database backup (portal/backup.py).
Each sheet starts with the record's ID, so the references between sheets (a contact's
customer, a line's transaction) can be followed; relations are the related record's label
(customers with their number), choices their label, dates real dates.

The rows come through the gate like any export: the row scope (outside a request, none) and
masking (a user without ``see_sensitive`` gets masked values, so the right to take the archive
does not by itself unmask anything; the custodian sees all). Sheets are written one after the
other with xlsxwriter's ``constant_memory``: memory stays flat whatever the archive's size.
"""
from __future__ import annotations

import datetime as dt
import getpass
import os
from pathlib import Path

import click
import sqlalchemy as sa
from flask.cli import with_appcontext
from flask_babel import lazy_gettext as _l
from sqlalchemy.orm import Session

from portal.fields import FieldSpec, FieldType, fields_of, registered_models, sections_of
from portal.security import masking, scope

from .export import ExportColumn, XlsxBook
from .limits import ExportRules, log_export, rules_for
from .records import export_type, plain_rows

NOT_ARCHIVED = ("AccessLog", "ChangeLog")
# The records a reader looks for first; every other registered model follows in registration order.
FIRST = ("Customer", "Contact", "Transaction", "TransactionLine", "Visit", "AfterSales", "Promotion",
         "PromotionTarget", "PurchaseProject", "CompetitorPresence", "LifecycleEvent")
ID = FieldSpec(zh="ID", en="ID", type=FieldType.INT, section="system", name="id")


def archived_models() -> list[type]:
    """The models the archive workbook holds, in sheet order."""
    from flask_appbuilder import Model

    # Only the portal's own tables (a model registered elsewhere, e.g. by a test, is not the archive's).
    models = [m for m in registered_models() if m.__name__ not in NOT_ARCHIVED and m.metadata is Model.metadata]
    first = {name: i for i, name in enumerate(FIRST)}
    return sorted(models, key=lambda m: (first.get(m.__name__, len(first)), models.index(m)))


def model_labels() -> dict[type, str]:
    """Every registered model → its label in the user's language: the plural the views name it
    by (客户, 联系人 …); for a model no view lists, the label of its one registered section
    (ReminderDone: 已办提醒 / Reminder done); the class name only for a model with neither."""
    from portal.views.base import ArchiveModelView

    labels: dict[type, str] = {}
    pending = list(ArchiveModelView.__subclasses__())
    while pending:
        view = pending.pop(0)
        pending.extend(view.__subclasses__())
        model = view.__dict__.get("model")
        plural = view.__dict__.get("plural")
        if model is not None and plural is not None and model not in labels and view.__name__ != "ReferralView":
            labels[model] = str(plural)
    for model in registered_models():
        if model not in labels:
            sections = sections_of(model)
            # Several sections name parts of a card, not the record; one names the record itself.
            labels[model] = str(sections[0].label) if len(sections) == 1 else model.__name__
    return labels


def sheet_specs(model, rules: ExportRules) -> list[FieldSpec]:
    """Every described field of ``model`` the rules let out, after its ID."""
    return [ID, *rules.split(model, fields_of(model).values())[0]]


def counts(session: Session) -> list[tuple[type, int]]:
    """(model, rows in the user's reach) for each sheet, for the export page."""
    found = []
    for model in archived_models():
        query = scope.scoped(sa.select(sa.func.count()).select_from(model), model)
        found.append((model, session.scalar(query)))
    return found


def write_archive(stream, session: Session, *, rules: ExportRules | None = None,
                  sees_sensitive: bool | None = None, labels: dict[type, str] | None = None) -> dict[str, int]:
    """Writes the archive workbook to ``stream``; {sheet name: rows written}.

    ``rules`` are the user's export limits (default: the request's user's): fields a role may
    not export are left out, and a role's row cap refuses (ExportRefused) a sheet over it.
    ``sees_sensitive`` defaults to the gate's answer for the request's user (outside a request:
    everything). ``labels`` name the sheets (default: the views' plural labels).
    """
    rules = rules or rules_for()
    sees = masking.can_see_sensitive() if sees_sensitive is None else sees_sensitive
    labels = model_labels() if labels is None else labels
    yes_no = (str(_l("Yes")), str(_l("No")))
    with XlsxBook(stream, yes_no=yes_no) as book:
        for model in archived_models():
            specs = sheet_specs(model, rules)
            statement = scope.scoped(sa.select(model), model).order_by(model.id)
            rows = plain_rows(session, statement, model, specs, sees_sensitive=sees)
            if rules.capped_by_role:
                rows = rules.capped(rows)
            columns = [ExportColumn(label=spec.label, type=export_type(spec, sees)) for spec in specs]
            book.add_table(labels.get(model, model.__name__), columns, rows)
    return dict(book.tables)


def log_archive(sheets: dict[str, int], **detail) -> None:
    """The archive export in the access log: kind "archive", the rows of each sheet, their total."""
    log_export("archive", "Archive", sum(sheets.values()), sheets=sheets, **detail)


@click.command("export-archive")
@click.argument("path", type=click.Path(dir_okay=False, writable=True, path_type=Path), required=False)
@with_appcontext
def archive_command(path: Path | None) -> None:
    """Write the whole archive as one .xlsx (a sheet per kind of record, every field) to PATH
    (default: archive-YYYYMMDD-HHMM.xlsx here). Logged in the access log as an export."""
    from portal.extensions import db
    from portal.security import access_log

    path = path or Path(f"archive-{dt.datetime.now():%Y%m%d-%H%M}.xlsx")
    partial = path.with_name(path.name + ".part")
    try:
        with partial.open("wb") as stream:
            sheets = write_archive(stream, db.session, rules=ExportRules(), sees_sensitive=True)
        partial.replace(path)   # a file at PATH is always a complete workbook
    except BaseException:
        partial.unlink(missing_ok=True)
        raise
    try:
        who = getpass.getuser()
    except (KeyError, OSError):   # no login name (a container without a passwd entry)
        who = str(os.getuid())
    access_log.record("export", "Archive", row_count=sum(sheets.values()), username=f"cli:{who}",
                      detail={"kind": "archive", "via": "cli", "sheets": sheets, "file": str(path)})
    for name, count in sheets.items():
        click.echo(f"{name}: {count:,}")
    click.echo(f"{path}: {sum(sheets.values()):,} rows in {len(sheets)} sheets")
