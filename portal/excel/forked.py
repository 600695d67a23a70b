"""A generator run in a forked second process, its items sent back here through a pipe: how
an import's dry run uses the machine's second core for its Python half (reading and converting
the sheet) while this process does the other half (judging and staging). (The commit needs
none: the database writes its records from the staged rows, see staged_insert.py.)

Python is bound to one core per process (the GIL). Forked, the second process starts at once
with the app, the plan and the code; it opens its own database connection and only reads
(code tables, the rows relations name, the staged rows): what is committed. Steps that big run
as background jobs (IMPORT_BACKGROUND_ROWS is far below IMPORT_WORKER_ROWS), each in a
transaction of its own that starts after the step before it was committed.
"""
from __future__ import annotations

import logging
import multiprocessing
import os
import pickle
import queue
import threading
import traceback
from typing import Callable, Iterator

import sqlalchemy as sa
from flask import current_app, has_app_context
from flask_babel import lazy_gettext as _l

from . import reader

log = logging.getLogger(__name__)
WORKER_ROWS = 20_000      # the default IMPORT_WORKER_ROWS: under it, a fork is not worth its start
AHEAD = 3                 # chunks the second process may have made that this one has not read yet


def in_second_process(session, rows: int) -> bool:
    """Whether a dry run of ``rows`` rows converts in a second process: a sheet of at least
    IMPORT_WORKER_ROWS rows (0 turns it off), a machine with a second core, a database a second
    process can open (not SQLite in memory), and fork (Linux, macOS)."""
    limit = int(current_app.config.get("IMPORT_WORKER_ROWS", WORKER_ROWS)) if has_app_context() else WORKER_ROWS
    if limit <= 0 or rows < limit:
        return False
    if "fork" not in multiprocessing.get_all_start_methods() or _cores() < 2:
        return False
    url = session.get_bind().url
    return not (url.get_backend_name() == "sqlite" and url.database in (None, "", ":memory:"))


def _cores() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:   # not on Linux
        return os.cpu_count() or 1


# What a second process keeps of its parent's that it must never use nor let go: the parent's
# session holds a connection in a transaction, and a copy let go would be rolled back (on
# PostgreSQL, on the parent's own socket).
_INHERITED: list = []


class SecondProcess:
    """Runs ``produce(session)`` — a generator of converted chunks — in a forked process and
    yields its chunks here, in order. The second process runs at most AHEAD chunks ahead
    (memory stays flat). An error there is raised here: a file
    that cannot be read (reader.ReadError) or a refusal with the same message; anything else,
    and a second process that ends without a word (killed, out of memory), as a refusal
    saying the check stopped (the details in the log). Leaving early stops the second process."""

    def __init__(self, produce: Callable[[object], Iterator[list[dict]]]):
        self.produce = produce
        context = multiprocessing.get_context("fork")
        self.receiving, sending = context.Pipe(duplex=False)
        self.waits = context.RawValue("Q", 0)   # how often this process found nothing to read
        self.process = context.Process(target=self._child, args=(sending,), name="import-second-process", daemon=True)
        self.process.start()
        sending.close()

    # the second process ------------------------------------------------------------------
    def _child(self, sending) -> None:
        self.receiving.close()
        # A thread of this process sends what the generator made, so that it makes the next
        # chunks while this one waits for the portal's process to read (up to AHEAD chunks
        # ahead): the two processes' chunks take unequal times, and a one-chunk hand-over made
        # each wait for the other (a dry run of 100,000 updates idled both for 2-3 s).
        outbox: queue.Queue = queue.Queue(AHEAD)
        sender = threading.Thread(target=_send_all, args=(outbox, sending), name="import-send", daemon=True)
        sender.start()
        global _parent_waits, _outbox
        _parent_waits, _outbox = self.waits, outbox
        try:
            session = _own_session()
            for chunk in self.produce(session):
                if not sender.is_alive():
                    return   # the portal's process stopped reading (it left early)
                outbox.put(pickle.dumps(("rows", chunk), pickle.HIGHEST_PROTOCOL))
            outbox.put(pickle.dumps(("done", None)))
        except BaseException as exc:   # reported to the parent, which raises it
            outbox.put(pickle.dumps(_reported(exc)))
        finally:
            outbox.put(None)
            sender.join()
            sending.close()

    # this process ------------------------------------------------------------------------
    def __iter__(self) -> Iterator[list[dict]]:
        from .importer import ImportRefused

        while True:
            try:
                if not self.receiving.poll():
                    self.waits.value += 1   # idle: the second process hands it work (parent_idle)
                kind, payload = pickle.loads(self.receiving.recv_bytes())
            except (EOFError, OSError):
                self.process.join(5)
                raise self._stopped(f"it ended with exit code {self.process.exitcode}")
            if kind == "rows":
                yield payload
            elif kind == "done":
                return
            elif kind == "read":
                raise payload[0](payload[1])
            elif kind == "refused":
                raise ImportRefused(payload[0], payload[1])
            else:
                raise self._stopped(payload)

    @staticmethod
    def _stopped(detail: str):
        from .importer import ImportRefused

        log.error("an import's second process failed: %s", detail)
        return ImportRefused(_l("The step stopped before the end; nothing of it was saved. "
                                "Start it again."), 500)

    def close(self) -> None:
        self.receiving.close()
        if self.process.is_alive():
            self.process.terminate()
        self.process.join(10)

    def __enter__(self) -> "SecondProcess":
        return self

    def __exit__(self, *exc) -> None:
        self.close()


# In the second process: the parent's count of waits, and the messages not yet sent.
_parent_waits = None
_outbox: "queue.Queue | None" = None
_waits_seen = 0


def parent_idle() -> bool:
    """(In the second process) whether the portal's process waited for this one since the last
    call and nothing is on its way to it: the producer then hands it the next piece of work as
    it is, for it to do itself, instead of keeping it idle. (A dry run of new rows kept the
    portal's process waiting two thirds of the time: judging new rows is quick.)"""
    global _waits_seen
    if _parent_waits is None:
        return False
    waits = _parent_waits.value
    idle = waits != _waits_seen and _outbox.empty()
    _waits_seen = waits
    return idle


def _send_all(outbox: queue.Queue, sending) -> None:
    """(In the second process's sending thread) each message of ``outbox`` down the pipe, until
    None; the pipe's write waits without Python's lock while the reader is busy."""
    while True:
        message = outbox.get()
        if message is None:
            return
        try:
            sending.send_bytes(message)
        except OSError:   # the reading end is gone: nobody is listening any more
            return


def _own_session():
    """In the forked process: a session of its own on a new connection, put where
    ``db.session`` finds it (code that asks db.session then uses it, never the parent's)."""
    from sqlalchemy.orm import Session

    from portal.extensions import _json_text, db

    import orjson

    inherited = db.session()
    # Its objects let go without a word (expunge sends nothing): one read there by mistake
    # then fails here (DetachedInstanceError) instead of loading through the parent's socket,
    # where the parent would read the answer as its own statement's.
    inherited.expunge_all()
    _INHERITED.append(inherited)
    engine = sa.create_engine(db.engine.url, poolclass=sa.pool.NullPool, json_serializer=_json_text,
                              json_deserializer=orjson.loads)
    session = Session(bind=engine)
    db.session.registry.set(session)
    return session


def _reported(exc: BaseException) -> tuple:
    from .importer import ImportRefused

    if isinstance(exc, reader.ReadError):
        return "read", (type(exc), str(exc))
    if isinstance(exc, ImportRefused):
        return "refused", (str(exc.message), exc.status_code)
    return "failed", "".join(traceback.format_exception(exc))
