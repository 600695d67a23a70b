"""Long import steps in the background, with progress a page can poll and a reload survives.

A step (the dry run, the commit, the undo) of a large file runs in a thread of the process
that received the request, inside its own application context and database session. Its
progress is a small JSON file beside the upload (instance/imports/<batch>/progress.json),
replaced atomically: not a database row, because the commit holds its transaction open from
the first row to the last (all or nothing) and SQLite lets one writer at a time — a progress
row would wait for the very transaction it describes. Any worker on the machine can read the
file; the batch's status in the database says which step runs.

A step whose process died (killed, restarted) stops updating its file; :func:`settle` notices
a running batch whose heartbeat is older than ``STALE_SECONDS`` and puts it back where the step
started, with a message. The database itself is safe: the step's transaction never committed.
"""
from __future__ import annotations

import json
import logging
import os
import threading
import time
from pathlib import Path

from flask import current_app, has_app_context, has_request_context
from flask_babel import force_locale, get_locale
from flask_babel import lazy_gettext as _l
from sqlalchemy.orm import object_session

from portal.models import imports as status

log = logging.getLogger(__name__)
STALE_SECONDS = 120
EVERY_SECONDS = 0.5
# A running step goes back to this status when its process is gone.
RESTART_FROM = {status.PREPARING: status.UPLOADED, status.COMMITTING: status.PREVIEWED,
                status.UNDOING: status.COMMITTED}


def _folder(batch_id: int) -> Path:
    base = Path(current_app.instance_path) if has_app_context() else Path("instance")
    return base / "imports" / str(batch_id)


def progress_path(batch_id: int) -> Path:
    return _folder(batch_id) / "progress.json"


class Progress:
    """Writes a step's progress (phase, rows done, rows in all) at most twice a second."""

    def __init__(self, batch_id: int, phase: str):
        self.path, self.phase = progress_path(batch_id), phase
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self(0, 0, force=True)
        # The first rows done are shown at once, not half a second after the step began: on a
        # quick commit that half second was most of it.
        self.last = 0.0

    def __call__(self, done: int, total: int, *, force: bool = False) -> None:
        now = time.time()
        if not force and now - self.last < EVERY_SECONDS:
            return
        self.last = now
        temporary = self.path.with_suffix(f".{os.getpid()}.{threading.get_ident()}.tmp")
        temporary.write_text(json.dumps({"phase": self.phase, "done": done, "total": total, "at": now,
                                         "pid": os.getpid()}))
        os.replace(temporary, self.path)

    def finish(self) -> None:
        self.path.unlink(missing_ok=True)


def read_progress(batch_id: int) -> dict | None:
    try:
        return json.loads(progress_path(batch_id).read_text())
    except (OSError, ValueError):
        return None


def settle(batch) -> None:
    """A running batch whose step stopped beating is put back where it started."""
    if batch.status not in RESTART_FROM:
        return
    progress = read_progress(batch.id)
    if progress is not None and time.time() - progress.get("at", 0) < STALE_SECONDS:
        return
    # The status is read again after the progress: a step that has just ended commits its new
    # status before it removes its file, so a batch loaded before that commit would look
    # abandoned here and be put back over the step's own result.
    session = object_session(batch)
    if session is not None and batch.id is not None:
        session.refresh(batch, ["status", "error"])
        if batch.status not in RESTART_FROM:
            return
    # No file at all: the step never began or its process is gone (the file is written
    # before a step is started, and removed only after its status moved on).
    batch.status = RESTART_FROM[batch.status]
    batch.error = str(_l("The last step was interrupted (the server stopped); nothing of it was saved. "
                         "Start it again."))


def in_background(rows: int) -> bool:
    """Steps over this many rows run in the background (IMPORT_BACKGROUND_ROWS, default 5,000)."""
    limit = int(current_app.config.get("IMPORT_BACKGROUND_ROWS", 5000)) if has_app_context() else 5000
    return rows > limit


_threads: dict[int, threading.Thread] = {}


def _request_locale() -> str:
    """The starting request's locale (the configured default from a command)."""
    locale = get_locale() if has_request_context() else None
    return str(locale) if locale is not None else current_app.config.get("BABEL_DEFAULT_LOCALE", "zh_CN")


def start(batch_id: int, step, *args) -> threading.Thread:
    """Run ``step(batch_id, *args)`` in a thread with its own app context (and session)."""
    app = current_app._get_current_object()
    locale = _request_locale()

    def run():
        # The job speaks the language of the request that started it: its cell messages and
        # refusals are stored on the batch, read later in that language.
        with app.app_context(), force_locale(locale):
            try:
                step(batch_id, *args)
            except Exception:  # the step records its own failure; this keeps the thread quiet
                log.exception("import step failed for batch %s", batch_id)
            finally:
                from portal.extensions import db

                db.session.remove()
                _threads.pop(batch_id, None)

    thread = threading.Thread(target=run, name=f"import-{batch_id}", daemon=True)
    _threads[batch_id] = thread
    thread.start()
    return thread


def wait(batch_id: int, timeout: float | None = None) -> None:
    """Wait for a batch's background step (tests and the command line)."""
    thread = _threads.get(batch_id)
    if thread is not None:
        thread.join(timeout)
