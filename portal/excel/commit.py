"""Committing a previewed batch: the staged rows (not the file again) written in one
transaction — all of them, or nothing if anything fails or the process dies — with the change
history of every record naming the batch (``import:<id>``).

Records someone changed after the preview make the commit stop and write nothing (their
version moved on: the preview no longer says what would happen); the clerk checks again.
"""
from __future__ import annotations

import datetime as dt
import functools
from dataclasses import dataclass
from decimal import Decimal

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l
from sqlalchemy.orm import Session

from portal.context import acting_as, changes_from
from portal.fields import FieldType, fields_of
from portal.grid.lookups import label_of, related_model
from portal.models import ChangeLog, Contact, Customer, ImportBatch, ImportWritten
from portal.models import imports as status

from . import bulk, handoff, read_ahead, statistics, tag_links
from .cells import NEW_CODE
from .importer import ImportRefused, Who, _require, model_of
from .mapping import CONTACT, CUSTOM, CUSTOM_FIELD_COLUMN
from .staged_insert import StagedInsert

# Staged rows per chunk of updates. On PostgreSQL one UPDATE … FROM a temporary table per
# chunk: 100,000 updates took 8.5-8.7 s in chunks of 5,000 and 9.9-11.5 s in chunks of 1,000
# (the server's UPDATEs 5.8 s against 7.1 s; 10,000 were no quicker). bench/RESULTS.md.
CHUNK = 5000
ORM_FLUSH = 200
_STAMPS = ("created_by_id", "changed_by_id")  # not part of a new record's history


def to_python(spec, value):
    """A staged (JSON) value as the column takes it."""
    if value is None or spec is None:
        return value
    if spec.type == FieldType.DATE:
        return dt.date.fromisoformat(value)
    if spec.type == FieldType.DATETIME:
        return dt.datetime.fromisoformat(value)
    if spec.type in (FieldType.DECIMAL, FieldType.MONEY):
        return Decimal(str(value))
    return value


class Labels:
    """The text of a related row for the change history (old_text / new_text), cached."""

    def __init__(self, session: Session, model):
        self.session, self.model, self.cache = session, model, {}

    def __call__(self, spec, pk):
        key = (spec.name, pk)
        if key not in self.cache:
            related = related_model(self.model if spec.name in fields_of(self.model) else Contact, spec)
            with self.session.no_autoflush:
                row = self.session.get(related, pk)
            self.cache[key] = label_of(row) if row else None
        return self.cache[key]


class Codes:
    """Code-table rows a column's "add to the list" asks for, created once each."""

    def __init__(self, session: Session, batch: ImportBatch):
        self.session, self.batch, self.ids = session, batch, {}
        self.added: dict[str, list[int]] = {}

    def id_for(self, model, spec, name: str) -> int:
        related = related_model(model, spec)
        key = (related.__tablename__, name)
        if key not in self.ids:
            table = related.__table__
            found = self.session.execute(sa.select(table.c.id).where(table.c.name == name)).scalar()
            if found is None:
                code, n = name[:32], 1
                while self.session.execute(sa.select(table.c.id).where(table.c.code == code)).first():
                    n += 1
                    code = f"{name[:28]}-{n}"
                found = self.session.execute(sa.insert(table).values(code=code, name=name).returning(table.c.id)).scalar()
                self.added.setdefault(related.__tablename__, []).append(found)
            self.ids[key] = found
        return self.ids[key]


def _staged(connectable, batch_id: int, state: str, *, only_values: bool = False):
    """The staged rows of one status, in file order, chunk by chunk (new rows need only their
    values: reading each JSON column costs time at 100,000 rows)."""
    columns = ["id", "row_no", "values"] if only_values else [
        "id", "row_no", "values", "diff", "target_id", "target_version", "contact_id"]
    return read_ahead.staged(connectable, batch_id, state, columns, CHUNK)


class Writer:
    """Turns staged values into column values for the sheet's model and its contacts."""

    def __init__(self, session: Session, batch: ImportBatch, model, who: Who):
        self.session, self.batch, self.model, self.who = session, batch, model, who
        self.specs, self.contact_specs = fields_of(model), fields_of(Contact)
        self.codes = Codes(session, batch)
        self.labels = Labels(session, model)
        self._plans: dict[str, tuple] = {}

    def split(self, values: dict) -> tuple[dict, dict, dict]:
        """(own columns, contact columns, custom fields) of a staged row, as Python values."""
        own, contact, custom = {}, {}, {}
        plans = self._plans
        for key, value in values.items():
            plan = plans.get(key)
            if plan is None:
                plan = plans[key] = self._plan(key)
            where, name, convert = plan
            if where is None:
                continue
            if convert is not None and value is not None:
                value = convert(value)
            (own if where == "own" else contact if where == "contact" else custom)[name] = value
        return own, contact, custom

    def resolve_codes(self, rows) -> None:
        """Add the code-table rows the staged values of ``rows`` ask for (``new:<name>``,
        once each), so that splitting them asks the database nothing."""
        for r in rows:
            for key, value in r["values"].items():
                if value.__class__ is str and value.startswith(NEW_CODE):
                    self.split({key: value})

    def _plan(self, key: str):
        """Where a staged key goes and what turns its JSON value into the column's (once per key)."""
        if key.startswith("_"):
            return None, None, None
        if key in self.specs and self.specs[key].type == FieldType.RELATION_MANY:
            return None, None, None  # not a column: tag_links writes its links
        if key.startswith(CUSTOM):
            return "custom", key[len(CUSTOM):], None
        if key.startswith(CONTACT):
            name = key[len(CONTACT):]
            return "contact", name, self._converter(Contact, self.contact_specs[name])
        return "own", key, self._converter(self.model, self.specs[key])

    def _converter(self, model, spec):
        if spec.type == FieldType.RELATION:
            def related(value, model=model, spec=spec):
                if isinstance(value, str) and value.startswith(NEW_CODE):
                    return self.codes.id_for(model, spec, value[len(NEW_CODE):])
                return value
            return related
        if spec.type == FieldType.DATE:
            return dt.date.fromisoformat
        if spec.type == FieldType.DATETIME:
            return dt.datetime.fromisoformat
        if spec.type in (FieldType.DECIMAL, FieldType.MONEY):
            return lambda value: Decimal(str(value))
        return None


def commit(session: Session, batch: ImportBatch, who: Who = Who(), progress=None) -> ImportBatch:
    """Write the batch's new and updated rows, in the caller's transaction (the caller commits)."""
    _require(batch, status.PREVIEWED, status.COMMITTING)
    counts = batch.counts or {}
    if (batch.options or {}).get("all_or_nothing") and (counts.get("invalid") or counts.get("duplicate")):
        raise ImportRefused(_l("All or nothing: %(n)s rows have errors or are duplicates; fix them first.",
                               n=counts.get("invalid", 0) + counts.get("duplicate", 0)), 409)
    if not (counts.get("new") or counts.get("update")):
        raise ImportRefused(_l("There is nothing to import: no new or changed rows."), 409)
    model = model_of(batch.resource)
    statistics.refresh(session, statistics.IMPORT_TABLES)
    total = counts.get("new", 0) + counts.get("update", 0)
    with changes_from(f"import:{batch.id}"), acting_as(who.user_id):
        writer = Writer(session, batch, model, who)
        step = _FastCommit(writer) if model in bulk.FAST_MODELS else _OrmCommit(writer)
        try:
            created, updated = step.run(progress, total)
        except bulk.RecordsChanged:
            raise ImportRefused(_l("Records were changed by someone else since this import was checked. "
                                   "Nothing was imported; check the file again."), 409)
        except (sa.exc.IntegrityError, session.get_bind().dialect.dbapi.IntegrityError):
            # The bulk inserts go to the DBAPI directly: its own error, not SQLAlchemy's.
            raise ImportRefused(_l("A value that must be unique (such as a customer number) was given to another "
                                   "record since this import was checked. Nothing was imported; check the file "
                                   "again."), 409)
    batch.added_codes = writer.codes.added or None
    batch.counts = {**counts, "created": created, "updated": updated,
                    "skipped": counts.get("invalid", 0) + counts.get("duplicate", 0)}
    batch.status, batch.error = status.COMMITTED, None
    batch.committed_at = dt.datetime.now().replace(microsecond=0)
    return batch


class _FastCommit:
    """Customers (with their first contact), contacts and visits: bulk statements."""

    def __init__(self, writer: Writer):
        self.w = writer
        self.session, self.model = writer.session, writer.model
        self.history = bulk.History(self.session, writer.who.user_id, writer.who.username,
                                    f"import:{writer.batch.id}")

    def run(self, progress, total: int) -> tuple[int, int]:
        done = created = updated = 0
        if (self.w.batch.counts or {}).get("new"):
            created = done = StagedInsert(self.w, self.history).run(progress, total)
        if (self.w.batch.counts or {}).get("update"):
            updated = self._update_all(progress, done, total)
        self.history.flush()
        return created, updated

    def _fill(self, model, rows: list[dict]) -> list[dict]:
        """The same columns in every row (executemany): a missing one is None, or the
        column's default where it cannot be empty."""
        table = model.__table__
        names = sorted({k for r in rows for k in r})
        defaults = {name: table.c[name].default.arg for name in names
                    if not table.c[name].nullable and table.c[name].default is not None
                    and table.c[name].default.is_scalar}
        filled = []
        for values in rows:
            row = {name: values.get(name) for name in names}
            for name, default in defaults.items():
                if row[name] is None:
                    row[name] = default
            filled.append(row)
        return filled

    def _create_contacts(self, pairs: list[tuple[int, dict]]) -> dict[int, int]:
        """customer id → the id of the first contact created for it."""
        if not pairs:
            return {}
        rows = [{**values, "customer_id": customer_id, "is_primary": True,
                 "created_by_id": self.w.who.user_id, "changed_by_id": self.w.who.user_id}
                for customer_id, values in pairs]
        filled = self._fill(Contact, rows)
        ids = bulk.insert(self.session, Contact, filled)
        changes = bulk.creation_changes_many(Contact, filled, self.w.labels, skip=_STAMPS)
        for pk, values, entry in zip(ids, filled, changes):
            self.history.add(Contact, pk, "create", entry, values["customer_id"])
        return {values["customer_id"]: pk for pk, values in zip(ids, filled)}

    def _update_all(self, progress, done: int, total: int) -> int:
        """The updated rows, chunk by chunk. On PostgreSQL, while a chunk's UPDATEs and
        history run in a second thread (on the DBAPI connection, never the session), the next
        chunk's are built here: the server's index work and Python's building each take a core
        (100,000 updates: 15.2-15.9 s, were 18.1-18.8). On SQLite one after the other, here:
        its executemany steps row by row and would wait for Python's lock at every row while
        this thread builds (7.0-7.4 s against 5.0-5.5). The session is used only while that
        thread is idle: to read a chunk and look up what building it needs, to add a written
        chunk's missing contacts and its links."""
        counted = [0, done]

        def written(built: _Built) -> None:
            self._after(built)
            counted[0] += len(built.rows)
            counted[1] += len(built.rows)
            if progress:
                progress(counted[1], total)

        if not bulk.server_side(self.session):
            for rows in _staged(self.session, self.w.batch.id, status.UPDATE):
                built = self._build(rows, self._look_up(rows))
                bulk.run(self.session, built.statements)
                written(built)
            return counted[0]
        pages = functools.partial(_staged, batch_id=self.w.batch.id, state=status.UPDATE)
        with read_ahead.staged_pages(self.session, pages) as staged, handoff.quick(), \
                bulk.WriteBehind(self.session) as behind:
            chunks = iter(staged)
            built = None
            while True:
                rows = next(chunks, None)
                looked_up = self._look_up(rows) if rows else None
                if built is not None:
                    behind.submit(built.statements)
                following = self._build(rows, looked_up) if rows else None
                behind.wait()
                if built is not None:
                    written(built)
                if following is None:
                    return counted[0]
                built = following

    def _look_up(self, rows) -> "_LookedUp":
        """What building a chunk asks the database: the code-table rows its values add, its
        records' custom fields (a custom column adds to them) and, for a contact's or visit's
        history, their customers."""
        self.w.resolve_codes(rows)
        model, ids = self.model, [r["target_id"] for r in rows]
        customs = customers = {}
        if CUSTOM_FIELD_COLUMN in model.__table__.c and any(
                any(k.startswith(CUSTOM) for k in r["values"]) for r in rows):
            current = bulk.current(self.session, model, ids, [CUSTOM_FIELD_COLUMN])
            customs = {pk: dict(c.get(CUSTOM_FIELD_COLUMN) or {}) for pk, c in current.items()}
        if model is not Customer and "customer_id" in model.__table__.c:
            customers = {pk: c["customer_id"] for pk, c in bulk.current(self.session, model, ids,
                                                                         ["customer_id"]).items()}
        return _LookedUp(customs, customers)

    def _update_changes(self, rows, looked_up: "_LookedUp") -> tuple[list, list, list, list[dict]]:
        """(record items, contact items, contacts to create, history rows) of a chunk of
        updated rows (asking the database nothing)."""
        model, w, history = self.model, self.w, self.history
        items, contact_items, new_contacts, entries = [], [], [], []
        for r in rows:
            own, contact, custom = w.split(r["values"])
            if custom:
                own[CUSTOM_FIELD_COLUMN] = {**looked_up.customs.get(r["target_id"], {}), **custom}
            if own:
                items.append((r["target_id"], r["target_version"], own))
            diff = r["diff"] or {}
            changes = {k: _history_change(v) for k, v in diff.items() if not k.startswith(CONTACT)}
            if changes:
                entries.append(history.row(model, r["target_id"], "update", changes, bulk.customer_of(
                    model, r["target_id"], own) or looked_up.customers.get(r["target_id"])))
            if contact:
                contact_changes = {k[len(CONTACT):]: _history_change(v) for k, v in diff.items()
                                   if k.startswith(CONTACT)}
                if r["contact_id"]:
                    contact_items.append((r["contact_id"], r["values"].get("_contact_version"), contact))
                    if contact_changes:
                        entries.append(history.row(Contact, r["contact_id"], "update", contact_changes,
                                                   r["target_id"]))
                else:
                    new_contacts.append((r, contact))
        return items, contact_items, new_contacts, entries

    def _build(self, rows, looked_up: "_LookedUp") -> "_Built":
        """A chunk's UPDATEs and history rows, built (not run)."""
        w, dialect = self.w, self.session.get_bind().dialect
        items, contact_items, new_contacts, entries = self._update_changes(rows, looked_up)
        statements = [*bulk.updates(dialect, self.model, items, w.who.user_id),
                      *bulk.updates(dialect, Contact, contact_items, w.who.user_id)]
        if entries:
            statements.append(bulk.Insert(dialect, ChangeLog.__table__, entries))
        return _Built(rows, statements, new_contacts)

    def _after(self, built: "_Built") -> None:
        """What a chunk writes through the session, once its statements are written: the
        contacts it adds, its links."""
        if built.new_contacts:
            created = self._create_contacts([(r["target_id"], c) for r, c in built.new_contacts])
            bulk.executemany(self.session, ImportWritten.__table__,
                             [{"batch_id": self.w.batch.id, "row_id": r["id"], "record_id": None, "version": None,
                               "contact_id": created[r["target_id"]]} for r, _ in built.new_contacts])
        tag_links.update(self.w, built.rows)


@dataclass
class _LookedUp:
    customs: dict             # record id → its custom fields
    customers: dict           # record id → its customer's (contacts, visits)


@dataclass
class _Built:
    rows: list
    statements: list          # bulk.Update and bulk.Insert, run by the writing thread
    new_contacts: list


def _history_change(entry: dict) -> dict:
    """The change history's {old, new} (and a relation's texts) from a preview's diff entry."""
    change = {"old": entry.get("old"), "new": entry.get("new")}
    if entry.get("relation"):
        change["old_text"], change["new_text"] = entry.get("old_text"), entry.get("new_text")
    return change


class _OrmCommit:
    """Transactions: through the ORM, so their flush hooks move the customers' lifecycle and
    write the history (labelled with the batch by changes_from)."""

    def __init__(self, writer: Writer):
        self.w = writer
        self.session, self.model = writer.session, writer.model

    def run(self, progress, total: int) -> tuple[int, int]:
        done = created = updated = 0
        pending = []
        for rows in _staged(self.session, self.w.batch.id, status.NEW):
            for r in rows:
                own, _, _ = self.w.split(r["values"])
                item = self.model()
                for name, value in own.items():
                    setattr(item, name, value)
                self.session.add(item)
                pending.append((r["id"], item))
                created += 1
                if len(pending) >= ORM_FLUSH:
                    self._flush(pending)
                    pending = []
            done += len(rows)
            if progress:
                progress(done, total)
        self._flush(pending)
        for rows in _staged(self.session, self.w.batch.id, status.UPDATE):
            for r in rows:
                item = self.session.get(self.model, r["target_id"])
                if item is None or item.version != r["target_version"]:
                    raise bulk.RecordsChanged()
                own, _, _ = self.w.split(r["values"])
                for name, value in own.items():
                    setattr(item, name, value)
                updated += 1
            self.session.flush()
            done += len(rows)
            if progress:
                progress(done, total)
        return created, updated

    def _flush(self, pending) -> None:
        if not pending:
            return
        self.session.flush()
        bulk.executemany(self.session, ImportWritten.__table__,
                         [{"batch_id": self.w.batch.id, "row_id": row_id, "record_id": item.id, "version": item.version, "contact_id": None}
                          for row_id, item in pending])
