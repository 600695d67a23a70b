"""Undo and redo of a grid batch, as one step each, by the user who sent it.

Undo puts back each field's old value where the record still holds the batch's new one,
and takes back the records the batch created if nobody changed them or added records to
them since (deleting them is allowed here: it takes back the user's own creation, and the
deletion is kept in the change history). A record changed since is left as it is and
reported as a conflict with who changed it and when. Redo writes the batch's values again
where undo restored them, and creates its records again (with new ids).

Both go through the same writes as the batch (writes.py): scope, masking, validation,
locking, change history.
"""
from __future__ import annotations

import copy
import datetime as dt

import sqlalchemy as sa
from flask_appbuilder import Model
from flask_babel import lazy_gettext as _l
from sqlalchemy.orm import Session

from portal.context import changes_from
from portal.fields import fields_of
from portal.models import GridBatch
from portal.models.grid import BATCH_APPLIED, BATCH_UNDONE

from . import writes
from .batches import BatchRefused, Outcome, source_label
from .resources import GridResource
from .values import plain

# Tables whose rows about a record do not make it "used": its own logs and stage history.
NOT_DEPENDANTS = {"change_log", "access_log", "lifecycle_event"}


def _batch(session: Session, resource: GridResource, batch_id: str, user_id) -> GridBatch:
    batch = session.get(GridBatch, batch_id, with_for_update=True)
    if batch is None or batch.user_id != user_id or batch.resource != resource.name:
        raise BatchRefused(404, _l("There is no such batch of yours."))
    return batch


def _mark(session: Session, batch: GridBatch, state: str) -> None:
    """The batch's new state, written first: this UPDATE also opens the transaction for real
    on SQLite, whose driver would otherwise let the first SAVEPOINT's release commit."""
    batch.state = state
    batch.undone_at = dt.datetime.now().replace(microsecond=0) if state == BATCH_UNDONE else None
    session.flush()


def has_dependants(session: Session, item) -> bool:
    """Whether any record points at ``item`` (a contact at a customer, a line at a
    transaction …): taking ``item`` back would take those with it."""
    table = type(item).__table__
    for other in Model.metadata.tables.values():
        if other.name in NOT_DEPENDANTS:
            continue
        for fk in other.foreign_keys:
            if fk.column.table is table and fk.column.name == "id":
                query = sa.select(sa.literal(1)).select_from(other).where(fk.parent == item.id).limit(1)
                if session.execute(query).first() is not None:
                    return True
    return False


def _specs(model, record: dict) -> dict:
    """Form name → description of the fields a record's entry names (by attribute)."""
    described = fields_of(model)
    return {described[attr].form_name: described[attr] for attr in record["fields"]}


def _unchanged_since(item, record: dict, side: str) -> bool:
    return all(plain(getattr(item, attr)) == change[side] for attr, change in record["fields"].items())


def _rewrite(session, resource, rights, record: dict, side: str, outcome: Outcome) -> bool:
    """Set a record's fields to their ``side`` ('old' for undo, 'new' for redo) if they still
    hold the other side; True when done."""
    other = "new" if side == "old" else "old"
    try:
        item = writes.find(session, resource.model, record["id"])
        specs = _specs(resource.model, record)
        if not _unchanged_since(item, record, other):
            raise writes.stale(item, specs, rights, None)
        values = {name: record["fields"][spec.name][side] for name, spec in specs.items()}
        written = writes.update_record(session, resource, rights, item.id, item.version, values)
    except writes.ChangeFailed as exc:
        outcome.failed(record["key"], record["id"], exc)
        return False
    record["version"] = written.item.version
    outcome.results.append({"key": record["key"], "id": item.id, "status": writes.OK, "row": written.row(rights)})
    return True


def _take_back(session, resource, rights, record: dict, outcome: Outcome) -> bool:
    """Delete a record the batch created, unless it changed or gained records since."""
    try:
        item = writes.find(session, resource.model, record["id"])
        if not rights.can_create:
            raise writes.ChangeFailed(writes.REFUSED, _l("You may not add records here."))
        if item.version != record["version"]:
            raise writes.stale(item, _specs(resource.model, record), rights, record["version"])
        if has_dependants(session, item):
            stale = writes.stale(item, {}, rights, record["version"])
            message = _l("Records were added to this one since; it was left as it is.")
            raise writes.ChangeFailed(writes.CONFLICT, message, conflict=stale.conflict)
        writes.delete_created(session, item)
    except writes.ChangeFailed as exc:
        outcome.failed(record["key"], record["id"], exc)
        return False
    outcome.results.append({"key": record["key"], "id": record["id"], "status": writes.OK, "row": None,
                            "deleted": True})
    return True


def _recreate(session, resource, rights, record: dict, outcome: Outcome) -> bool:
    try:
        written = writes.create_record(session, resource, rights, record["given"])
    except writes.ChangeFailed as exc:
        outcome.failed(record["key"], None, exc)
        return False
    record["id"], record["version"] = written.item.id, written.item.version
    outcome.results.append({"key": record["key"], "id": written.item.id, "status": writes.OK,
                            "row": written.row(rights)})
    return True


def undo(session: Session, resource: GridResource, rights: writes.Rights, batch_id: str) -> tuple[dict, list]:
    """(the answer, access-log denials). The caller commits."""
    batch = _batch(session, resource, batch_id, rights.user_id)
    if batch.state == BATCH_UNDONE:
        raise BatchRefused(409, _l("This batch was already undone."))
    _mark(session, batch, BATCH_UNDONE)
    records, outcome = copy.deepcopy((batch.applied or {}).get("records", [])), Outcome()
    with changes_from(source_label(batch_id)):
        for record in reversed(records):  # the last change first
            if record["created"]:
                record["reverted"] = _take_back(session, resource, rights, record, outcome)
            else:
                record["reverted"] = _rewrite(session, resource, rights, record, "old", outcome)
    outcome.results.reverse()
    batch.applied = {"records": records}
    return outcome.answer(batch_id, state=batch.state), outcome.denials


def redo(session: Session, resource: GridResource, rights: writes.Rights, batch_id: str) -> tuple[dict, list]:
    """Re-apply an undone batch where its undo took effect. The caller commits."""
    batch = _batch(session, resource, batch_id, rights.user_id)
    if batch.state != BATCH_UNDONE:
        raise BatchRefused(409, _l("This batch is not undone; there is nothing to redo."))
    _mark(session, batch, BATCH_APPLIED)
    records, outcome = copy.deepcopy((batch.applied or {}).get("records", [])), Outcome()
    with changes_from(source_label(batch_id)):
        for record in records:
            if not record.get("reverted"):
                continue
            if record["created"]:
                done = _recreate(session, resource, rights, record, outcome)
            else:
                done = _rewrite(session, resource, rights, record, "new", outcome)
            record["reverted"] = not done
    batch.applied = {"records": records}
    return outcome.answer(batch_id, state=batch.state), outcome.denials
