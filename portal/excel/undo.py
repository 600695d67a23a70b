"""Undoing a committed batch as a whole: the records it created are removed, the fields it
changed get their previous values back, the code-table entries it added go when nothing uses
them — in one transaction, with the change history of each record labelled
``undo:import:<id>``. A created customer's tags go with it (customer_tag cascades); an updated
one gets its previous tags back (the diff's ``old_ids``).

A record changed since the import (its version moved on), or a created one that other
records now point at (a contact, a transaction or a visit added later), is not touched
silently: the undo is refused listing each such record with who changed it and when, and the
clerk may then undo the rest (``partial``), leaving those records as they are.
"""
from __future__ import annotations

import datetime as dt

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l
from sqlalchemy.orm import Session

from portal.context import acting_as, changes_from
from portal.fields import fields_of
from portal.fields.plain import plain
from portal.models import (
    AfterSales, Contact, Customer, ImportBatch, ImportRow, ImportWritten, PromotionTarget, Transaction, Visit,
)
from portal.models import imports as status

from . import bulk, retention, tag_links
from .commit import to_python
from .importer import ImportRefused, Who, _require, model_of
from .mapping import CONTACT, CUSTOM, CUSTOM_FIELD_COLUMN

CHUNK = 1000
# Records that point at a customer (or a contact): a created customer they point at stays.
DEPENDENTS = {Customer: (Contact, Transaction, Visit, AfterSales, PromotionTarget), Contact: (Visit,)}


class UndoBlocked(ImportRefused):
    def __init__(self, message, blocked: list[dict]):
        super().__init__(message, 409, blocked=blocked)
        self.blocked = blocked


def _rows(session: Session, batch_id: int):
    table, written = ImportRow.__table__, ImportWritten.__table__
    query = (sa.select(table.c.id, table.c.row_no, table.c.status, table.c["values"], table.c.diff,
                       table.c.target_id, table.c.target_version, table.c.target_label,
                       written.c.record_id.label("written_id"), written.c.version.label("written_version"),
                       sa.func.coalesce(written.c.contact_id, table.c.contact_id).label("contact_id"),
                       written.c.contact_id.is_not(None).label("contact_created"))
             .select_from(table.outerjoin(written, sa.and_(written.c.batch_id == batch_id,
                                                           written.c.row_id == table.c.id)))
             .where(table.c.batch_id == batch_id, table.c.status.in_((status.NEW, status.UPDATE)))
             .order_by(table.c.row_no))
    return session.execute(query).mappings().all()


def _who_changed(session: Session, record: dict) -> str:
    from flask_appbuilder.security.sqla.models import User

    user = session.get(User, record.get("changed_by_id")) if record.get("changed_by_id") else None
    name = user.get_full_name() if user is not None else str(_l("someone"))
    when = record.get("changed_on")
    return str(_l("Changed since the import by %(who)s on %(when)s.", who=name,
                  when=f"{when:%Y-%m-%d %H:%M}" if when else "?"))


def undo(session: Session, batch: ImportBatch, who: Who = Who(), *, partial: bool = False, progress=None
         ) -> ImportBatch:
    _require(batch, status.COMMITTED, status.UNDOING)
    if retention.is_pruned(batch):
        raise ImportRefused(retention.pruned_notice(batch), 409)
    model = model_of(batch.resource)
    rows = _rows(session, batch.id)
    created = [r for r in rows if r["status"] == status.NEW and r["written_id"]]
    updated = [r for r in rows if r["status"] == status.UPDATE]
    now_created = bulk.current(session, model, [r["written_id"] for r in created])
    now_updated = bulk.current(session, model, [r["target_id"] for r in updated])
    blocked = []
    for r in created:
        record = now_created.get(r["written_id"])
        if record is not None and record["version"] != r["written_version"]:
            blocked.append(_blocked(r, _who_changed(session, record)))
    for r in updated:
        record = now_updated.get(r["target_id"])
        if record is None:
            blocked.append(_blocked(r, str(_l("The record no longer exists."))))
        elif record["version"] != r["target_version"] + 1:
            blocked.append(_blocked(r, _who_changed(session, record)))
    blocked.extend(_pointed_at(session, model, created, batch))
    if blocked and not partial:
        raise UndoBlocked(_l("%(n)s records were changed or used since the import; undo the rest, or leave "
                             "the import as it is.", n=len(blocked)), blocked)
    skip = {b["row"] for b in blocked}
    source = f"undo:import:{batch.id}"
    history = bulk.History(session, who.user_id, who.username, source)
    with changes_from(source), acting_as(who.user_id):
        done, total = 0, len(created) + len(updated)
        removed = [r for r in created if r["row_no"] not in skip and r["written_id"] in now_created]
        _remove(session, model, removed, history)
        done += len(removed)
        if progress:
            progress(done, total)
        restored = [r for r in updated if r["row_no"] not in skip]
        _restore(session, model, restored, history, who)
        history.flush()
        _remove_added_codes(session, batch)
    batch.status, batch.error = status.UNDONE, None
    batch.undone_at = dt.datetime.now().replace(microsecond=0)
    batch.counts = {**(batch.counts or {}), "removed": len(removed), "restored": len(restored),
                    "kept": len(blocked)}
    return batch


def _blocked(row, reason: str) -> dict:
    return {"row": row["row_no"], "id": row["written_id"] or row["target_id"],
            "label": row["target_label"] or "", "reason": reason}


def _pointed_at(session: Session, model, created, batch) -> list[dict]:
    """Created records that records from elsewhere now point at (not the batch's own contacts)."""
    ids = [r["written_id"] for r in created]
    own_contacts = {r["contact_id"] for r in created if r["contact_created"]}
    used: dict[int, str] = {}
    for dependent in DEPENDENTS.get(model, ()):
        column = dependent.__table__.c["customer_id" if model is Customer else "contact_id"]
        for start in range(0, len(ids), CHUNK):
            query = sa.select(column, dependent.__table__.c.id).where(column.in_(ids[start:start + CHUNK]))
            for pk, dependent_id in session.execute(query):
                if dependent is Contact and dependent_id in own_contacts:
                    continue
                used.setdefault(pk, str(_l("%(what)s were added to it since the import.",
                                           what=_plural(dependent))))
    by_id = {r["written_id"]: r for r in created}
    return [_blocked(by_id[pk], reason) for pk, reason in used.items()]


def _plural(model) -> str:
    from portal.grid.resources import RESOURCES

    for resource in RESOURCES.values():
        if resource.model is model:
            return str(resource.plural)
    return model.__name__


def _remove(session: Session, model, rows, history: bulk.History) -> None:
    """Delete what the batch created (a customer takes its imported contact and its first
    stage event with it), keeping a "delete" entry with the values in the history."""
    if not rows:
        return
    ids = [r["written_id"] for r in rows]
    tracked = list(bulk.tracked(model))
    current = bulk.current(session, model, ids, [c for c in tracked if c in model.__table__.c])
    linked = tag_links.removal_changes(session, model, ids)
    for pk in ids:
        values = current.get(pk, {})
        changes = {name: {"old": plain(values.get(name)), "new": None}
                   for name in tracked if values.get(name) not in (None, "", [])}
        changes.update(linked.get(pk, {}))
        history.add(model, pk, "delete", changes, None)
    contacts = [r["contact_id"] for r in rows if r["contact_created"] and r["contact_id"]]
    if model is Customer and contacts:
        for pk in contacts:
            history.add(Contact, pk, "delete", {}, None)
    history.flush()
    if model is Customer:
        bulk.delete(session, Contact, contacts)
    bulk.delete(session, model, ids)


def _restore(session: Session, model, rows, history: bulk.History, who: Who) -> None:
    """Put back the previous values of the fields the batch changed (contacts and links too)."""
    specs, contact_specs = fields_of(model), fields_of(Contact)
    many = {spec.name: spec for spec in tag_links.many_specs(model)}
    items, contact_items, created_contacts = [], [], []
    links: dict[str, dict[int, list[int]]] = {}
    customs = {}
    if any(any(k.startswith(CUSTOM) for k in (r["diff"] or {})) for r in rows):
        current = bulk.current(session, model, [r["target_id"] for r in rows], [CUSTOM_FIELD_COLUMN])
        customs = {pk: dict(c.get(CUSTOM_FIELD_COLUMN) or {}) for pk, c in current.items()}
    for r in rows:
        own, contact, changes, contact_changes = {}, {}, {}, {}
        relinked = False
        for key, entry in (r["diff"] or {}).items():
            reverse = {"old": entry.get("new"), "new": entry.get("old")}
            if entry.get("relation"):
                reverse["old_text"], reverse["new_text"] = entry.get("new_text"), entry.get("old_text")
            if key in many:
                links.setdefault(key, {})[r["target_id"]] = list(entry.get("old_ids") or [])
                changes[key], relinked = reverse, True
            elif key.startswith(CUSTOM):
                custom = own.setdefault(CUSTOM_FIELD_COLUMN, dict(customs.get(r["target_id"], {})))
                name = key[len(CUSTOM):]
                if entry.get("old") is None:
                    custom.pop(name, None)
                else:
                    custom[name] = entry.get("old")
                changes[key] = reverse
            elif key.startswith(CONTACT):
                name = key[len(CONTACT):]
                contact[name] = to_python(contact_specs[name], entry.get("old"))
                contact_changes[name] = reverse
            else:
                own[key] = to_python(specs[key], entry.get("old"))
                changes[key] = reverse
        if own or relinked:  # links alone bump the version too, as the import's did
            items.append((r["target_id"], r["target_version"] + 1, own))
            history.add(model, r["target_id"], "update", changes,
                        r["target_id"] if model is Customer else None)
        if contact and r["contact_id"]:
            if r["contact_created"]:
                created_contacts.append(r["contact_id"])
                history.add(Contact, r["contact_id"], "delete", {}, r["target_id"])
            else:
                version = (r["values"] or {}).get("_contact_version")
                contact_items.append((r["contact_id"], (version or 0) + 1, contact))
                history.add(Contact, r["contact_id"], "update", contact_changes, r["target_id"])
    try:
        bulk.update(session, model, items, who.user_id)
        bulk.update(session, Contact, contact_items, who.user_id)
    except bulk.RecordsChanged:
        raise ImportRefused(_l("Records were changed while undoing; nothing was undone. Try again."), 409)
    for key, wanted in links.items():
        tag_links.replace(session, model, many[key], wanted)
    bulk.delete(session, Contact, created_contacts)


def _remove_added_codes(session: Session, batch: ImportBatch) -> None:
    """Code-table entries the import added go too, when nothing points at them any more."""
    from portal.fields import registry

    for table_name, ids in (batch.added_codes or {}).items():
        related = registry.model_for(table_name)
        linked = tag_links.still_linked(session, related, ids)  # a tag's links would go with it
        for pk in ids:
            if pk in linked:
                continue
            try:
                with session.begin_nested():
                    session.execute(sa.delete(related.__table__).where(related.__table__.c.id == pk))
            except sa.exc.IntegrityError:
                pass  # still used: it stays
