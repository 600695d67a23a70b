"""Undoing a committed batch as a whole: the records it created are removed, the fields it
changed get their previous values back, the code-table entries it added go when nothing uses
them — in one transaction, with the change history of each record labelled
``undo:import:<id>``. A created customer's tags go with it (customer_tag cascades); an updated
one gets its previous tags back (the diff's ``old_ids``). Created transactions take back what
they did to their customer's card: the stage event a first transaction caused, the trading days
(services/lifecycle.take_back_transactions).

A record changed since the import (its version moved on), a created one that other records
now point at (a contact, a transaction, a visit, a referral added later), or one whose previous
value of a unique field (a credit code) another record has taken since, is not touched
silently: the undo is refused listing each such record with the reason, and the clerk may then
undo the rest (``partial``), leaving those records as they are. Only what the undo would write
is checked: an update that changed only a customer's contact is checked on the contact.
"""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l
from sqlalchemy.orm import Session

from portal.context import acting_as, changes_from
from portal.fields import fields_of
from portal.fields.plain import plain
from portal.grid.lookups import label_of
from portal.models import (ChangeLog, Contact, Customer, ImportBatch, ImportRow, ImportWritten, LifecycleEvent,
                           Transaction)
from portal.models import imports as status
from portal.services import lifecycle, unique_values

from . import bulk, retention, tag_links
from .commit import to_python
from .importer import ImportRefused, Who, _require, model_of
from .mapping import CONTACT, CUSTOM, CUSTOM_FIELD_COLUMN

CHUNK = 1000


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


@dataclass
class _Plan:
    model: type
    created: list            # staged rows whose record the batch created
    updated: list            # staged rows whose record the batch changed
    now_created: dict        # created record id → its current version (those still there)
    blocked: list[dict]      # the rows kept, one entry each, with the reason


def _plan(session: Session, batch: ImportBatch) -> _Plan:
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
    blocked.extend(_updated_since(session, model, updated, now_updated))
    blocked.extend(_pointed_at(session, model, created))
    blocked.extend(_created_contacts_used(session, updated))
    blocked.extend(_values_taken(session, model, updated))
    return _Plan(model, created, updated, now_created, _titled(session, model, _one_per_row(blocked)))


def _refuse(blocked: list[dict]) -> None:
    raise UndoBlocked(_l("%(n)s records were changed or used since the import; undo the rest, or leave "
                         "the import as it is.", n=len(blocked)), blocked)


def check(session: Session, batch: ImportBatch) -> None:
    """Refuse the undo (UndoBlocked, listing each record kept and why) before a background
    undo starts, so the clerk gets the list with the answer and not only a message later."""
    _require(batch, status.COMMITTED)
    blocked = _plan(session, batch).blocked
    if blocked:
        _refuse(blocked)


def undo(session: Session, batch: ImportBatch, who: Who = Who(), *, partial: bool = False, progress=None
         ) -> ImportBatch:
    _require(batch, status.COMMITTED, status.UNDOING)
    plan = _plan(session, batch)
    model, created, updated, now_created, blocked = (plan.model, plan.created, plan.updated, plan.now_created,
                                                     plan.blocked)
    if blocked and not partial:
        _refuse(blocked)
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
    label = row["target_label"]
    if not label and row["status"] == status.NEW:  # a created record: named as the file gave it
        values = row["values"] or {}
        label = " ".join(str(values[k]) for k in ("number", "name") if values.get(k))
    return {"row": row["row_no"], "id": row["written_id"] or row["target_id"], "label": label or "",
            "reason": reason}


def _titled(session: Session, model, blocked: list[dict]) -> list[dict]:
    """The entries the file named nothing for (a visit has no number or name) get the record's
    title, after its customer's: 第 2 行 "KH-1 甲公司 2026-03-02 谈续约", not a blank."""
    for entry in blocked:
        if not entry["label"] and entry["id"]:
            record = session.get(model, entry["id"])
            if record is not None:
                customer = getattr(record, "customer", None) if model is not Customer else None
                entry["label"] = " ".join(t for t in (label_of(customer) if customer is not None else "",
                                                      label_of(record)) if t)[:300]
    return blocked


def _one_per_row(blocked: list[dict]) -> list[dict]:
    """The first reason of each row (a row kept for two reasons is kept once)."""
    seen, kept = set(), []
    for entry in sorted(blocked, key=lambda b: b["row"]):
        if entry["row"] not in seen:
            seen.add(entry["row"])
            kept.append(entry)
    return kept


def _touches_record(row) -> bool:
    """Whether the import wrote the matched record itself (its version moved on), not only its
    contact."""
    return any(not key.startswith(CONTACT) for key in (row["diff"] or {}))


def _updated_since(session: Session, model, updated, now_updated: dict) -> list[dict]:
    """Updated records (and contacts) whose version moved on since the import wrote them."""
    blocked = []
    contact_rows = [r for r in updated if r["contact_id"] and not r["contact_created"]
                    and any(key.startswith(CONTACT) for key in (r["diff"] or {}))]
    contacts = bulk.current(session, Contact, [r["contact_id"] for r in contact_rows])
    for r in updated:
        record = now_updated.get(r["target_id"])
        if record is None:
            blocked.append(_blocked(r, str(_l("The record no longer exists."))))
        elif _touches_record(r) and record["version"] != r["target_version"] + 1:
            blocked.append(_blocked(r, _who_changed(session, record)))
    for r in contact_rows:
        contact = contacts.get(r["contact_id"])
        written = ((r["values"] or {}).get("_contact_version") or 0) + 1
        if contact is None:
            blocked.append(_blocked(r, str(_l("The record no longer exists."))))
        elif contact["version"] != written:
            blocked.append(_blocked(r, _who_changed(session, contact)))
    return blocked


def dependents(model) -> list[sa.Column]:
    """The columns of other records that keep a record of ``model`` from being removed: every
    foreign key without an ON DELETE rule (the database would refuse), or that would be
    emptied (a visit would lose its contact), and a customer's contacts (they would go with
    it, and someone entered them). What cascades is the record's own (its tags, stage events,
    grading) and the change history keeps its entries."""
    table, found = model.__table__, []
    for other in table.metadata.tables.values():
        if other is ChangeLog.__table__:
            continue
        for key in other.foreign_keys:
            if key.column is table.c.id and ((key.ondelete or "").upper() != "CASCADE" or other is Contact.__table__):
                found.append(key.parent)
    return found


def _used_by(session: Session, model, ids: list[int], own: dict) -> dict[int, str]:
    """id → why, for the records among ``ids`` that other records point at; ``own`` maps a
    dependent table to the ids of its rows the batch itself wrote (they go with the undo)."""
    used: dict[int, str] = {}
    for column in dependents(model):
        table = column.table
        mine = own.get(table.name, set())
        for start in range(0, len(ids), CHUNK):
            query = sa.select(column, table.c.id).where(column.in_(ids[start:start + CHUNK]))
            for pk, dependent_id in session.execute(query):
                if dependent_id in mine:
                    continue
                used.setdefault(pk, str(_l("%(what)s were added to it since the import.",
                                           what=_plural(table))))
    return used


def _pointed_at(session: Session, model, created) -> list[dict]:
    """Created records that records from elsewhere now point at (not the batch's own contacts,
    nor the batch's own records, one referring to another)."""
    ids = [r["written_id"] for r in created]
    own = {Contact.__tablename__: {r["contact_id"] for r in created if r["contact_created"]},
           model.__tablename__: set(ids)}
    by_id = {r["written_id"]: r for r in created}
    blocked = []
    if model is Transaction:
        # The stage event a created transaction caused (a first transaction makes a potential
        # customer current) is the batch's own: the undo takes it back, while it is its
        # customer's last (lifecycle.take_back_transactions).
        events = _events_of(session, ids)
        own[LifecycleEvent.__tablename__] = {e for e, _, _ in events}
        blocked = [_blocked(by_id[txn], str(_l("Its customer's stage has changed since the import.")))
                   for _, txn, last in events if not last]
    return blocked + [_blocked(by_id[pk], reason) for pk, reason in _used_by(session, model, ids, own).items()]


def _events_of(session: Session, ids: list[int]) -> list[tuple[int, int, bool]]:
    """(event id, transaction id, whether it is the last event recorded for its customer) of the
    stage events the transactions ``ids`` caused."""
    event, later = LifecycleEvent.__table__, LifecycleEvent.__table__.alias()
    newer = sa.exists().where(later.c.customer_id == event.c.customer_id, later.c.id > event.c.id)   # recorded later
    found = []
    for start in range(0, len(ids), CHUNK):
        query = sa.select(event.c.id, event.c.transaction_id, ~newer).where(
            event.c.transaction_id.in_(ids[start:start + CHUNK]))
        found.extend((pk, txn, bool(last)) for pk, txn, last in session.execute(query))
    return found


def _created_contacts_used(session: Session, updated) -> list[dict]:
    """Updated rows whose import created the customer's first contact, which records from
    elsewhere (a visit with that contact) now point at: the undo would remove it."""
    rows = {r["contact_id"]: r for r in updated if r["contact_created"] and r["contact_id"]}
    used = _used_by(session, Contact, list(rows), {})
    return [_blocked(rows[pk], reason) for pk, reason in used.items()]


def _unique_columns(model) -> list[str]:
    """The model's single-column unique constraints and indexes (not its id)."""
    table, names = model.__table__, []
    for constraint in table.constraints:
        if isinstance(constraint, sa.UniqueConstraint) and len(constraint.columns) == 1:
            names.append(next(iter(constraint.columns)).name)
    names += [next(iter(index.columns)).name for index in table.indexes
              if index.unique and len(index.columns) == 1]
    names += [column.name for column in table.c if column.unique and not column.primary_key]
    return list(dict.fromkeys(names))


def _values_taken(session: Session, model, updated) -> list[dict]:
    """Updated rows whose previous value of a unique field another record holds now: putting
    it back would break the field's uniqueness (a credit code taken by a card added since)."""
    blocked = []
    for target, prefix, id_key in ((model, "", "target_id"), (Contact, CONTACT, "contact_id")):
        if target is Contact and model is not Customer:
            continue
        for name in _unique_columns(target):
            wanted = {}
            for r in updated:
                entry = (r["diff"] or {}).get(prefix + name)
                if entry and entry.get("old") not in (None, "") and r[id_key] \
                        and not (target is Contact and r["contact_created"]):
                    wanted.setdefault(entry["old"], []).append(r)
            if not wanted:
                continue
            spec = fields_of(target).get(name)
            held = unique_values.holders(session, target, name, wanted)
            for value, rows in wanted.items():
                # In any case: KH-1 is not put back beside a kh-1 added since.
                holding = held.get(unique_values.folded(value), {})
                for r in rows:
                    if any(holder != r[id_key] for holder in holding):
                        blocked.append(_blocked(r, str(_l(
                            "Its previous %(field)s %(value)s is used by another record now.",
                            field=spec.label if spec is not None else name, value=value))))
    return blocked


def _plural(table: sa.Table) -> str:
    """What the records of ``table`` are called (访问记录, 大客户采购项目 …), as in the archive."""
    from .archive import model_labels

    for model, label in model_labels().items():
        if model.__table__ is table:
            return label
    return table.name


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
    if model is Transaction:
        lifecycle.take_back_transactions(session, ids)
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
