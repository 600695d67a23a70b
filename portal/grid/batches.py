"""Batches of grid edits (POST …/batches): a paste of many rows, a fill, or one cell.

Each change is written on its own (writes.py, a SAVEPOINT each): valid records are saved,
the others come back with their reason, and the batch is committed once at the end. The
batch id is the client's: the batch, its answer and what it wrote are kept (grid_batch), so
the same id posted again is answered from there and applied only once, and the batch can be
undone and redone as a whole (undo.py).
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l
from sqlalchemy.orm import Session

from portal.context import changes_from
from portal.models import GridBatch
from portal.models.grid import BATCH_APPLIED
from portal.security import locking

from . import writes
from .resources import GridResource

MAX_CHANGES = 500
BATCH_ID = re.compile(r"^[A-Za-z0-9-]{8,64}$")


class BatchRefused(Exception):
    """The batch as a whole is refused (HTTP ``status``), nothing applied."""

    def __init__(self, status: int, message):
        super().__init__(str(message))
        self.status, self.message = status, str(message)


@dataclass
class Denial:
    """An access-log entry to write once the batch's transaction is over."""

    action: str        # 'denied' or 'not_found'
    object_id: object
    fields: list = field(default_factory=list)


@dataclass
class Outcome:
    """The answer of a batch (or its undo/redo) and what to keep of it."""

    results: list = field(default_factory=list)
    records: list = field(default_factory=list)   # what was written, per record (GridBatch.applied)
    denials: list = field(default_factory=list)
    # record id → (the version a change of this batch was loaded with, the version it left)
    versions: dict = field(default_factory=dict)

    def seen_version(self, pk, version):
        """The version a change may count on: a record this batch already wrote, loaded at
        the same version as that change, is not stale for it."""
        loaded, left = self.versions.get(pk, (None, None))
        return left if loaded is not None and str(version) == str(loaded) else version

    def answer(self, batch_id: str, **extra) -> dict:
        saved = sum(1 for r in self.results if r["status"] == writes.OK)
        return {"id": batch_id, "saved": saved, "failed": len(self.results) - saved, "results": self.results, **extra}

    def failed(self, key, pk, exc: writes.ChangeFailed) -> None:
        result = {"key": key, "id": pk, "status": exc.status, "message": exc.message}
        if exc.status in (writes.INVALID, writes.REFUSED):
            result["errors"] = exc.errors or {}
        if exc.status == writes.CONFLICT:
            result["conflict"] = exc.conflict
        if exc.status == writes.REFUSED:
            self.denials.append(Denial("denied", pk, sorted(exc.errors or {})))
        if exc.status == writes.NOT_FOUND:
            self.denials.append(Denial("not_found", pk))
        self.results.append(result)


def source_label(batch_id: str) -> str:
    """How the change history names where the batch's changes came from."""
    return f"grid:batch:{batch_id}"


def parse(body) -> tuple[str, list[dict]]:
    """The batch id and changes of a request body; raises :class:`BatchRefused`."""
    if not isinstance(body, dict) or not isinstance(body.get("changes"), list):
        raise BatchRefused(400, _l("A batch needs an id and a list of changes."))
    batch_id = body.get("id")
    if not isinstance(batch_id, str) or not BATCH_ID.match(batch_id):
        raise BatchRefused(400, _l("A batch id has 8 to 64 letters, digits or dashes."))
    changes = body["changes"]
    if len(changes) > MAX_CHANGES:
        raise BatchRefused(413, _l("At most %(n)d rows can be saved at once; send them in smaller batches.",
                                   n=MAX_CHANGES))
    for change in changes:
        if not (isinstance(change, dict) and isinstance(change.get("values"), dict) and _is_id(change.get("id"))):
            raise BatchRefused(400, _l("Each change needs a key and its values."))
    return batch_id, changes


def _is_id(value) -> bool:
    """A record id as JSON: a whole number, or null for a new record."""
    return value is None or (isinstance(value, int) and not isinstance(value, bool))


def stored_answer(session: Session, batch_id: str, user_id) -> dict | None:
    """The answer a batch with this id already got, if this user sent it."""
    batch = session.get(GridBatch, batch_id)
    if batch is None:
        return None
    if batch.user_id != user_id:
        raise BatchRefused(409, _l("This batch id is already used; send the batch with a new id."))
    return batch.response


def _claim(session: Session, resource: GridResource, batch_id: str, body: dict, user_id) -> GridBatch | None:
    """Record the batch before applying it, so that a second request with the same id (a
    retry racing the first) cannot apply it too; None when it is already there. (Being the
    transaction's first write, this INSERT also opens it for real on SQLite, whose driver
    would otherwise let the first SAVEPOINT's release commit.)"""
    batch = GridBatch(id=batch_id, resource=resource.name, user_id=user_id, request=body, state=BATCH_APPLIED)
    session.add(batch)
    try:
        session.flush()
    except sa.exc.IntegrityError:
        session.rollback()
        return None
    return batch


def apply_change(session: Session, resource: GridResource, rights: writes.Rights, change: dict,
                 outcome: Outcome) -> None:
    """One change of a batch: an update of record ``id`` or, without an id, a new record."""
    key, pk, values = change.get("key"), change.get("id"), change["values"]
    partial = None
    try:
        if pk is None:
            written = writes.create_record(session, resource, rights, values)
        else:
            if change.get("version") is None:
                raise writes.ChangeFailed(writes.INVALID, locking.VersionMissing().message, errors={})
            version = outcome.seen_version(pk, change["version"])
            written, partial = _update_what_is_valid(session, resource, rights, pk, version, values)
            outcome.versions[pk] = (change["version"], written.item.version)
    except writes.ChangeFailed as exc:
        outcome.failed(key, pk, exc)
        return
    item = written.item
    result = {"key": key, "id": item.id, "status": writes.OK, "row": written.row(rights)}
    if partial is not None:
        # Like Excel: the good cells of a pasted row are kept, the bad ones come back marked.
        result.update(status=writes.INVALID, errors=partial.errors, message=partial.message)
    outcome.results.append(result)
    outcome.records.append({"key": key, "id": item.id, "created": written.created, "fields": written.fields,
                            "given": written.given if written.created else None, "version": item.version,
                            "reverted": False})


def _update_what_is_valid(session: Session, resource: GridResource, rights: writes.Rights, pk, version,
                          values: dict) -> tuple[writes.Written, writes.ChangeFailed | None]:
    """Update a stored record with the values that pass their field's rules: (what was
    written, the refusal of the other values or None). A conflict, a refusal or a record
    whose every value is invalid writes nothing."""
    try:
        return writes.update_record(session, resource, rights, pk, version, values), None
    except writes.ChangeFailed as exc:
        valid = {name: value for name, value in values.items() if name not in (exc.errors or {})}
        if exc.status != writes.INVALID or not exc.errors or not valid:
            raise
        return writes.update_record(session, resource, rights, pk, version, valid), exc


def apply_batch(session: Session, resource: GridResource, rights: writes.Rights, body: dict) -> tuple[dict, list]:
    """Apply a batch once: (its answer, access-log denials to record after the commit).
    The caller commits."""
    batch_id, changes = parse(body)
    answer = stored_answer(session, batch_id, rights.user_id)
    if answer is not None:
        return answer, []
    batch = _claim(session, resource, batch_id, body, rights.user_id)
    if batch is None:  # the same id was claimed meanwhile
        return stored_answer(session, batch_id, rights.user_id) or {}, []
    outcome = Outcome()
    with changes_from(source_label(batch_id)):
        for change in changes:
            apply_change(session, resource, rights, change, outcome)
    batch.response = outcome.answer(batch_id)
    batch.applied = {"records": outcome.records}
    return batch.response, outcome.denials
