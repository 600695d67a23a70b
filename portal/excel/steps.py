"""Running an import's steps — the dry run, the commit, the undo — for a request or a command:
small files at once, large ones in the background (portal/excel/jobs.py), each step in one
transaction that is committed whole or rolled back whole, a failure recorded on the batch in
the user's language, and every step in the access log."""
from __future__ import annotations

import datetime as dt
import logging
import os

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l

from portal import sqlite_wal
from portal.extensions import db
from portal.models import ImportBatch
from portal.models import imports as status
from portal.security import access_log

from . import commit as committing
from . import importer, jobs, reader
from . import undo as undoing
from .importer import ImportRefused, Who

log = logging.getLogger(__name__)
PHASES = {"prepare": "checking", "commit": "writing", "undo": "undoing"}
RUNNING = {"prepare": status.PREPARING, "commit": status.COMMITTING, "undo": status.UNDOING}
STARTS_FROM = {"prepare": (status.UPLOADED, status.PREVIEWED), "commit": (status.PREVIEWED,),
               "undo": (status.COMMITTED,)}


def _rows(batch: ImportBatch) -> int:
    if batch.counts and batch.counts.get("total"):
        return int(batch.counts["total"])
    return next((s["rows"] for s in batch.sheets or [] if s["name"] == batch.sheet), 0)


def _work(step: str, session, batch: ImportBatch, who: Who, args: dict, progress):
    if step == "prepare":
        return importer.prepare(session, batch, who=who, progress=progress, **args)
    if step == "commit":
        return committing.commit(session, batch, who, progress=progress)
    return undoing.undo(session, batch, who, progress=progress, **args)


def run(step: str, batch: ImportBatch, who: Who, *, background: bool | None = None,
        checked_at: dt.datetime | None = None, **args) -> ImportBatch:
    """Do ``step`` on ``batch`` now, or start it in the background for a large file. Raises
    ImportRefused for what cannot be done (nothing changed). ``checked_at``: the dry run the
    user saw (its ``prepared_at``); a batch checked again since — in another tab — is refused."""
    importer._require(batch, *STARTS_FROM[step])
    if step == "prepare":  # an unusable mapping is refused at once, not in the background
        importer.make_plan(db.session, batch, {str(k): v for k, v in (args.get("mapping") or batch.mapping or {}).items()},
                           {**(batch.options or {}), **(args.get("options") or {})}, who)
    if background is None:
        background = jobs.in_background(_rows(batch))
    if background and step == "undo" and not args.get("partial"):
        undoing.check(db.session, batch)   # a refusal comes with its list of records, at once
    if not background:
        _attempt(step, batch, who, args, jobs.Progress(batch.id, PHASES[step]), checked_at)
        return batch
    before = batch.status
    _claim(db.session, batch, (before,), RUNNING[step], checked_at)
    batch.error = None
    progress = jobs.Progress(batch.id, PHASES[step])  # before the commit: a poll sees it beating
    db.session.commit()
    try:
        jobs.start(batch.id, _background, step, before, who.user_id, who.sees_sensitive, args)
    except RuntimeError:
        progress.finish()
        batch.status = before
        db.session.commit()
        raise
    return batch


def _database_errors() -> tuple[type, ...]:
    """SQLAlchemy's errors and the driver's own: the bulk writes use the DBAPI cursor."""
    dialect = db.session.get_bind().dialect
    dbapi = getattr(dialect, "loaded_dbapi", None) or dialect.dbapi
    return (sa.exc.SQLAlchemyError, dbapi.Error)


def _claim(session, batch: ImportBatch, allowed: tuple[str, ...], to: str | None = None,
           checked_at: dt.datetime | None = None) -> None:
    """Take the batch for a step, as the first write of the step's transaction: of two requests
    at the same moment (a double click, two tabs) the second waits for the first — on
    PostgreSQL's lock of the batch's row, on SQLite's write lock — then finds the batch moved on
    and is told what it is now, instead of clashing with the first one's records. With
    ``checked_at``, only the dry run of that moment is taken: one tab does not import what
    another tab's new check found, unseen."""
    table = ImportBatch.__table__
    where = [table.c.id == batch.id, table.c.status.in_(allowed)]
    if checked_at is not None:
        where.append(table.c.prepared_at == checked_at)
    taken = session.execute(sa.update(table).where(*where).values(status=to or table.c.status)).rowcount
    session.refresh(batch, ["status", "prepared_at"])
    if not taken:
        if batch.status in allowed:   # the status allows it: the check is not the one seen
            raise ImportRefused(_l("This file was checked again in another window since this preview was shown. "
                                   "Look at the new preview, then import."), 409)
        importer._require(batch)   # allowing nothing: says what the batch is now


def _attempt(step: str, batch: ImportBatch, who: Who, args: dict, progress: jobs.Progress,
             checked_at: dt.datetime | None = None) -> None:
    batch_id = batch.id
    try:
        _claim(db.session, batch, STARTS_FROM[step], checked_at=checked_at)
        _work(step, db.session, batch, who, args, progress)
        db.session.commit()
    except ImportRefused:
        db.session.rollback()
        raise
    except reader.ReadError as exc:
        db.session.rollback()
        raise ImportRefused(exc.message, 400)
    except _database_errors():
        db.session.rollback()
        log.exception("import step %s failed for batch %s", step, batch_id)
        raise ImportRefused(_l("The step failed; nothing of it was saved."), 500)
    finally:
        progress.finish()
    _forget_upload(step, batch)
    _log(step, batch_id, batch, who)


def _background(batch_id: int, step: str, before: str, user_id, sees_sensitive: bool, args: dict) -> None:
    from flask_appbuilder.security.sqla.models import User

    session = db.session
    progress = jobs.Progress(batch_id, PHASES[step])
    user = session.get(User, user_id) if user_id else None
    who = Who(user=user, sees_sensitive=sees_sensitive)
    batch = session.get(ImportBatch, batch_id)
    # SQLite: the step's log is checkpointed once the step is shown as finished, not in its commit.
    with sqlite_wal.deferred(session):
        try:
            _claim(session, batch, (RUNNING[step],))
            batch.status = before  # the step runs from where it started, in this one transaction
            _work(step, session, batch, who, args, progress)
            session.commit()
            _forget_upload(step, batch)
            _log(step, batch_id, batch, who)
        except Exception as exc:
            session.rollback()
            batch = session.get(ImportBatch, batch_id)
            message = getattr(exc, "message", None) or _l("The step failed; nothing of it was saved.")
            batch.status, batch.error = before, str(message)
            session.commit()
            if not isinstance(exc, (ImportRefused, reader.ReadError)):
                raise
        finally:
            progress.finish()


def _forget_upload(step: str, batch: ImportBatch) -> None:
    """Once committed, the uploaded file is not needed (the staged rows hold what the error
    report and the undo need): a copy of personal data is not kept longer than its use."""
    if step != "commit" or not batch.stored_as:
        return
    try:
        os.unlink(batch.stored_as)
    except OSError:
        pass
    batch.stored_as = None
    db.session.commit()


def _log(step: str, batch_id: int, batch: ImportBatch, who: Who) -> None:
    counts = batch.counts or {}
    rows = {"prepare": counts.get("total"), "commit": (counts.get("created", 0) + counts.get("updated", 0)),
            "undo": counts.get("removed", 0) + counts.get("restored", 0)}[step]
    access_log.record("import", "ImportBatch", batch_id, row_count=rows, user=who.user,
                      detail={"step": step, "resource": batch.resource, "file": batch.file_name, "counts": counts})
