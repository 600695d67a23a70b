"""The new records of an import written by the database from the staged rows.

Per chunk of new rows, Python works out only what SQL cannot — ids, customer numbers, pinyin
search keys, the texts of the relations named, code-table rows to add, tags — into a temporary
keys table; then one INSERT … SELECT per table reads the staged JSON (staged_sql.py) into the
records, their first contacts, their first stage events and their change history, and one
UPDATE records in the staged rows what each one wrote (the undo reads it).

Building each row in Python instead (split, convert, bind, send) cost about 12 s of CPU at
100,000 rows, against about 3 s for SQLite to write them; on PostgreSQL every value then
crossed the wire once more to be parsed again. What is written is what the ORM flush hooks
write for one record (bulk.py's replicas of them): numbers (services/numbering.py), pinyin
keys (services/pinyin.py), the first stage event (services/lifecycle.py) and the history
entry (security/history.py's shape) with the batch as its source.
"""
from __future__ import annotations

import datetime as dt
from concurrent.futures import ThreadPoolExecutor

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Session

from portal.fields import FieldType, fields_of
from portal.grid.lookups import label_of, related_model
from portal.models import ChangeLog, Contact, Customer, ImportBatch, ImportRow, LifecycleEvent
from portal.models import imports as status
from portal.services import pinyin

from . import bulk, staged_sql, statistics, tag_links
from .cells import ADD, NEW_CODE
from .mapping import CONTACT, CUSTOM, CUSTOM_FIELD_COLUMN

CHUNK = 20_000
# The columns of a chunk's rows (StagedInsert._chunk): the tags' values follow.
_ID, _ROW_NO, _NAME, _NUMBER, _ACQUIRED, _CONTACT_NAME, _HAS_CONTACT, _MANY = range(8)
STAMPS = ("created_by_id", "changed_by_id")   # not part of a new record's history
LABEL_CHUNK = 1000


class _Staged(sa.types.TypeDecorator):
    """A staged JSON scalar as the labels table keeps it: JSONB on PostgreSQL (compared with
    ``values -> key``), and on SQLite a column without affinity, so a relation id stays an
    integer and ``new:<name>`` text, as json_extract gives them."""

    impl = sa.types.NullType
    cache_ok = True

    def load_dialect_impl(self, dialect):
        return dialect.type_descriptor(JSONB() if dialect.name == "postgresql" else _NoAffinity())


class _NoAffinity(sa.types.UserDefinedType):
    cache_ok = True

    def get_col_spec(self, **kw) -> str:
        return "BLOB"   # SQLite: a BLOB column converts nothing


_JSON = sa.JSON().with_variant(JSONB(), "postgresql")
_META = sa.MetaData()
# What Python works out per new row; the statements join it with the staged rows.
KEYS = sa.Table(
    "import_keys", _META,
    sa.Column("row_id", sa.Integer, primary_key=True, autoincrement=False),   # import_row.id
    sa.Column("record_id", sa.Integer, nullable=False),
    sa.Column("number", sa.String(64)),           # a generated customer number (none given in the file)
    sa.Column("stage_since", sa.Date),
    sa.Column("name_pinyin", sa.String(400)),
    sa.Column("name_initials", sa.String(100)),
    sa.Column("contact_id", sa.Integer),          # the first contact created with the record
    sa.Column("contact_pinyin", sa.String(400)),
    sa.Column("contact_initials", sa.String(100)),
    sa.Column("extra", _JSON),                    # history entries of values not staged as such
    sa.Column("contact_extra", _JSON),
    prefixes=["TEMPORARY"], postgresql_on_commit="DROP",
)
# Every relation value the new rows name: the id it stands for (a code-table row added for
# ``new:<name>``) and its text for the history.
LABELS = sa.Table(
    "import_labels", _META,
    sa.Column("key", sa.String(200), primary_key=True),
    sa.Column("staged", _Staged, primary_key=True),
    sa.Column("id", sa.Integer),
    sa.Column("label", sa.String(500)),
    prefixes=["TEMPORARY"], postgresql_on_commit="DROP",
)


class StagedInsert:
    """Writes a previewed batch's new rows (``writer``: commit.Writer; ``history``: bulk.History,
    whose time, user and source every entry takes). The caller holds the transaction."""

    def __init__(self, writer, history: bulk.History):
        self.w, self.history = writer, history
        self.session: Session = writer.session
        self.model = writer.model
        self.table = self.model.__table__
        self.dialect = self.session.get_bind().dialect
        self.sql = staged_sql.for_dialect(self.dialect)
        self.user_id = writer.who.user_id
        self.today = dt.date.today()
        keys = [k for k in dict.fromkeys((writer.batch.mapping or {}).values()) if k]
        specs = fields_of(self.model)
        self.own = [k for k in keys if not k.startswith((CONTACT, CUSTOM, "_"))
                    and not (k in specs and specs[k].type == FieldType.RELATION_MANY)]
        self.contact = [k for k in keys if k.startswith(CONTACT)] if self.model is Customer else []
        self.custom = any(k.startswith(CUSTOM) for k in keys) and CUSTOM_FIELD_COLUMN in self.table.c
        self.many = [s for s in tag_links.many_specs(self.model) if s.name in keys]
        self.choices = (writer.batch.options or {}).get("choices") or {}
        self.owner = writer.who.user_id if self.model is Customer and writer.who.user is not None \
            and _scope_own(writer.who.user) else None
        self.keyed = "name_pinyin" in self.table.c   # customers and contacts: search keys of the name
        self.ids = bulk.Ids(self.session)
        self.taken: set[str] = set()
        self.owner_entry = self._owner_entry()

    # -- the whole batch ---------------------------------------------------------------------
    def run(self, progress=None, total: int = 0) -> int:
        """Write every new row, a chunk at a time: while a chunk's statements run (in a second
        thread: SQLite and PostgreSQL do their work without Python's lock), the next chunk's
        search keys and history entries are worked out here."""
        bulk.hold_write_lock(self.session, ImportBatch.__table__, self.w.batch.id)
        connection = self.session.connection()
        self.dbapi = connection.connection.dbapi_connection   # the writing thread's (never the session)
        KEYS.create(connection)
        LABELS.create(connection)
        if self.model is Customer and "number" in self.own:
            self.taken = self._file_numbers()
        self._labels()
        statements = {name: _for_dbapi(self.dialect, statement) for name, statement in self._statements().items()}
        done = 0
        rows = self._chunk(0)
        keys = self._keys(rows, self._allocate(rows)) if rows else []
        with ThreadPoolExecutor(1, thread_name_prefix="import-writes") as pool:
            while rows:
                following = self._chunk(rows[-1][_ROW_NO])            # the connection is free here
                allocated = self._allocate(following) if following else None
                if self.many:   # tags are linked between the records and their history: all here
                    self._write(keys, statements, tagged=rows)
                    writing = None
                else:
                    writing = pool.submit(self._write, keys, statements)
                following_keys = self._keys(following, allocated) if following else []
                if writing is not None:
                    writing.result()
                self._written(len(rows))
                done += len(rows)
                if progress:
                    progress(done, total)
                rows, keys = following, following_keys
        KEYS.drop(connection)
        LABELS.drop(connection)
        return done

    def _file_numbers(self) -> set[str]:
        """The customer numbers the file's new rows bring, which numbering must not hand out."""
        table = ImportRow.__table__
        number = table.c["values"]["number"].as_string()
        query = sa.select(number).where(table.c.batch_id == self.w.batch.id, table.c.status == status.NEW,
                                        number.is_not(None), number != "")
        return set(self.session.execute(query).scalars())

    # -- relation values: their ids and texts ------------------------------------------------
    def _relations(self) -> list[tuple[str, type, object]]:
        """(staged key, model, spec) of each relation column of the new rows."""
        found = [(k, self.model, fields_of(self.model)[k]) for k in self.own
                 if k in fields_of(self.model) and fields_of(self.model)[k].type == FieldType.RELATION]
        contact_specs = fields_of(Contact)
        found += [(k, Contact, contact_specs[k[len(CONTACT):]]) for k in self.contact
                  if contact_specs[k[len(CONTACT):]].type == FieldType.RELATION]
        return found

    def _labels(self) -> None:
        """Fill the labels table: every value of every relation column the new rows stage,
        with the id it stands for (``new:<name>`` added to its code table, once) and its text."""
        rows = []
        table = ImportRow.__table__
        for key, model, spec in self._relations():
            value = table.c["values"][key]
            query = (sa.select(value).where(table.c.batch_id == self.w.batch.id, table.c.status == status.NEW,
                                            table.c["values"][key].as_string().is_not(None)).distinct())
            staged = [v for v in self.session.execute(query).scalars() if v is not None]
            ids = {v: self.w.codes.id_for(model, spec, v[len(NEW_CODE):])
                   if isinstance(v, str) and v.startswith(NEW_CODE) else v for v in staged}
            texts = labels_of(self.session, related_model(model, spec), set(ids.values()))
            rows += [{"key": key, "staged": v, "id": pk, "label": texts.get(pk)} for v, pk in ids.items()]
        if rows:
            bulk.Insert(self.dialect, LABELS, rows).run(self.dbapi)
        if self.dialect.name == "postgresql":
            self.session.execute(sa.text("ANALYZE import_labels"))

    # -- one chunk ---------------------------------------------------------------------------
    def _chunk(self, last: int) -> list[tuple]:
        """The next chunk of new rows after row ``last``: what Python needs of each (not the
        whole staged row), as tuples (see the _ROW_NO … indexes)."""
        table = ImportRow.__table__
        values = table.c["values"]
        nothing = sa.null()
        customer = self.model is Customer
        columns = [table.c.id, table.c.row_no,
                   values["name"].as_string() if self.keyed and "name" in self.own else nothing,
                   values["number"].as_string() if customer else nothing,
                   values["acquired_on"].as_string() if customer else nothing,
                   values[CONTACT + "name"].as_string() if self.contact else nothing,
                   sa.or_(*(values[k].as_string().is_not(None) for k in self.contact)) if self.contact else nothing,
                   *(values[spec.name] for spec in self.many)]
        query = (sa.select(*columns).where(table.c.batch_id == self.w.batch.id, table.c.status == status.NEW,
                                           table.c.row_no > last).order_by(table.c.row_no).limit(CHUNK))
        return self.session.execute(query).all()

    def _allocate(self, rows: list[tuple]) -> tuple[list[int], list[str], list[int]]:
        """(record ids, generated numbers, first contacts' ids) of a chunk, from the database."""
        ids = self.ids.take(self.table, len(rows))
        unnumbered = sum(1 for r in rows if not r[_NUMBER]) if self.model is Customer else 0
        numbers = bulk.reserve_numbers(self.session, Customer, unnumbered, self.taken) if unnumbered else []
        contacts = self.ids.take(Contact.__table__, sum(1 for r in rows if r[_HAS_CONTACT]))
        return ids, numbers, contacts

    def _write(self, keys: list[dict], statements: dict, tagged: list[tuple] | None = None) -> None:
        """A chunk's keys and statements, on the DBAPI connection (run in the writing thread
        unless ``tagged``: then here, with the tags linked after the records)."""
        dbapi = self.dbapi
        bulk.Insert(self.dialect, KEYS, keys).run(dbapi)
        contacts = any(k["contact_id"] is not None for k in keys)
        cursor = dbapi.cursor()
        try:
            if self.dialect.name == "postgresql":
                cursor.execute("ANALYZE import_keys")   # else the planner guesses its size
            for name, (sql, params) in statements.items():
                if name.startswith("contact") and not contacts:
                    continue
                cursor.execute(sql, params)
                if name == "record" and tagged is not None:
                    self._tags(tagged, keys)
            cursor.execute("DELETE FROM import_keys")
        finally:
            cursor.close()

    def _written(self, count: int) -> None:
        """Count a chunk's rows for the planner statistics (portal/excel/statistics.py): an
        ANALYZE of customer when it has grown past what they knew keeps the foreign-key checks
        of the next chunk on its primary key."""
        statistics.note_written(self.session, self.table.name, count)

    def _keys(self, rows: list[tuple], allocated) -> list[dict]:
        """The keys table's rows of a chunk: ids, numbers, search keys, and the history entries
        of values the staged rows do not hold as such (a generated number, the stage date, the
        owner of a salesperson's new customer, a new contact's customer)."""
        model = self.model
        ids, numbers, contact_ids = allocated
        numbers, contact_ids = iter(numbers), iter(contact_ids)
        tracked, contact_tracked = bulk.tracked(model), bulk.tracked(Contact)
        keys_of = pinyin.keys
        found = []
        for r, pk in zip(rows, ids):
            extra = {}
            key = {"row_id": r[_ID], "record_id": pk, "number": None, "stage_since": None, "name_pinyin": None,
                   "name_initials": None, "contact_id": None, "contact_pinyin": None, "contact_initials": None,
                   "extra": extra, "contact_extra": None}
            if r[_NAME]:
                key["name_pinyin"], key["name_initials"] = keys_of(r[_NAME])
            if model is Customer:
                number = r[_NUMBER] or None
                if number is None:
                    number = key["number"] = next(numbers)
                    extra["number"] = {"old": None, "new": number}
                since = r[_ACQUIRED] or self.today.isoformat()
                key["stage_since"] = dt.date.fromisoformat(since)
                if "stage_since" in tracked:
                    extra["stage_since"] = {"old": None, "new": since}
                if self.owner_entry is not None:
                    extra["owner_id"] = self.owner_entry
                if r[_HAS_CONTACT]:
                    key["contact_id"] = next(contact_ids)
                    key["contact_pinyin"], key["contact_initials"] = keys_of(r[_CONTACT_NAME])
                    contact_extra = key["contact_extra"] = {}
                    if "customer_id" in contact_tracked:
                        # The new customer's text (Customer.__str__), which the history's usual
                        # reading of the related row cannot give before the row is written.
                        contact_extra["customer_id"] = {"old": None, "new": pk, "old_text": None,
                                                        "new_text": f"{number} {r[_NAME] or ''}".strip()}
                    if "is_primary" in contact_tracked:
                        contact_extra["is_primary"] = {"old": None, "new": True}
            found.append(key)
        return found

    def _owner_entry(self) -> dict | None:
        if self.owner is None or "owner_id" not in bulk.tracked(self.model):
            return None
        from flask_appbuilder.security.sqla.models import User

        text = labels_of(self.session, User, {self.owner}).get(self.owner)
        return {"old": None, "new": self.owner, "old_text": None, "new_text": text}

    def _tags(self, rows: list[tuple], keys: list[dict]) -> None:
        """The new records' links (tags), after the records; their history entries join the
        rest of each record's creation entry (the keys table's ``extra``)."""
        many = [(spec, _MANY + i) for i, spec in enumerate(self.many)]
        tagged = [(r, k) for r, k in zip(rows, keys) if any(r[i] for _, i in many)]
        if not tagged:
            return
        changes = [{} for _ in tagged]
        tag_links.create(self.w, [{"values": {spec.name: r[i] for spec, i in many}} for r, _ in tagged],
                         [k["record_id"] for _, k in tagged], changes)
        statement = sa.update(KEYS).where(KEYS.c.row_id == sa.bindparam("k_row")).values(extra=sa.bindparam("k_extra"))
        self.session.execute(statement, [{"k_row": k["row_id"], "k_extra": {**k["extra"], **change}}
                                         for (_, k), change in zip(tagged, changes)])

    # -- the statements ----------------------------------------------------------------------
    def _statements(self) -> dict:
        found = {"record": self._insert_records(),
                 "history": self._history(self.model, self.own, 0, "k.extra", self._customer_of_entry)}
        if self.model is Customer:
            found["event"] = self._insert_events()
        if self.contact:
            found["contact"] = self._insert_contacts()
            found["contact_history"] = self._history(Contact, self.contact, len(CONTACT), "k.contact_extra",
                                                     lambda params: "k.record_id", object_id="k.contact_id",
                                                     where="k.contact_id IS NOT NULL")
        found["written"] = sa.text(
            "UPDATE import_row SET written_id = k.record_id, contact_id = k.contact_id, "
            "contact_created = CASE WHEN k.contact_id IS NOT NULL THEN TRUE ELSE FALSE END, written_version = 1 "
            "FROM import_keys k WHERE import_row.id = k.row_id")
        return found

    def _columns(self, model, staged_keys: list[str], cut: int, generated: dict[str, str],
                 params: staged_sql.Params) -> list[tuple[str, str]]:
        """(column, SQL expression) of a new row of ``model``: each staged key's value as the
        column stores it (its default where the cell was empty, the id a ``new:<name>`` stands
        for), then the ``generated`` ones, then the Python-side defaults of the rest."""
        table, sql = model.__table__, self.sql
        found = []
        for key in staged_keys:
            name = key[cut:]
            if name in generated or name not in table.c:
                continue
            column = table.c[name]
            expression = sql.stored(params, key, column)
            if self.choices.get(key) == ADD:
                expression = (f"COALESCE((SELECT l.id FROM import_labels l WHERE l.key = {params.add(key)} "
                              f"AND l.staged = {sql.json_value(params, key)}), {expression})")
            if name == "number" and model is Customer:
                expression = f"COALESCE(NULLIF({expression}, ''), k.number)"
            default = _default_of(column)
            if default is not None:
                expression = f"COALESCE({expression}, {params.add(default, column.type)})"
            found.append((name, expression))
        named = {name for name, _ in found}
        found += [(name, expression) for name, expression in generated.items() if name not in named]
        named = {name for name, _ in found}
        for name, value in bulk._defaults(table, named | {"id"}).items():
            found.append((name, params.add(value, table.c[name].type)))
        return found

    def _stamps(self, staged_keys: list[str], cut: int, params: staged_sql.Params) -> dict[str, str]:
        user = params.add(self.user_id, sa.Integer, name="user_id")
        names = {k[cut:] for k in staged_keys}
        return {name: user for name in STAMPS if name not in names}

    def _insert_records(self) -> sa.TextClause:
        params = staged_sql.Params()
        generated = {"id": "k.record_id", **self._stamps(self.own, 0, params)}
        if self.model is Customer:
            generated["stage_since"] = "k.stage_since"
            if "number" not in self.own:
                generated["number"] = "k.number"
            if self.owner is not None:
                generated["owner_id"] = params.add(self.owner, sa.Integer)
        if self.keyed:
            generated.update(name_pinyin="k.name_pinyin", name_initials="k.name_initials")
        if self.custom:
            generated[CUSTOM_FIELD_COLUMN] = self.sql.custom_fields(params, CUSTOM)
        return self._insert(self.table, self._columns(self.model, self.own, 0, generated, params), params)

    def _insert_contacts(self) -> sa.TextClause:
        params = staged_sql.Params()
        generated = {"id": "k.contact_id", "customer_id": "k.record_id", "is_primary": params.add(True, sa.Boolean),
                     **self._stamps(self.contact, len(CONTACT), params),
                     "name_pinyin": "k.contact_pinyin", "name_initials": "k.contact_initials"}
        columns = self._columns(Contact, self.contact, len(CONTACT), generated, params)
        return self._insert(Contact.__table__, columns, params, where="k.contact_id IS NOT NULL")

    def _insert_events(self) -> sa.TextClause:
        """Each new card's first stage event (bulk.card_created_rows' values)."""
        params = staged_sql.Params()
        stage = self.sql.value(params, "stage") if "stage" in self.own else "NULL"
        columns = [("customer_id", "k.record_id"), ("from_stage", "NULL"),
                   ("to_stage", f"COALESCE({stage}, 'potential')"), ("occurred_on", "k.stage_since"),
                   ("reason", params.add(str(_l("Card created")))), ("transaction_id", "NULL"),
                   ("user_id", params.add(self.user_id, sa.Integer)),
                   ("recorded_at", params.add(bulk.now(), LifecycleEvent.__table__.c.recorded_at.type))]
        return self._insert(LifecycleEvent.__table__, columns, params)

    def _customer_of_entry(self, params: staged_sql.Params) -> str:
        """The history entry's customer: the record itself, or the customer a sheet's row names."""
        if self.model is Customer:
            return "k.record_id"
        if "customer_id" in self.table.c:
            return self.sql.stored(params, "customer_id", self.table.c.customer_id)
        return "NULL"

    def _history(self, model, staged_keys: list[str], cut: int, extra: str, customer_id, *,
                 object_id: str = "k.record_id", where: str | None = None) -> sa.TextClause:
        """The creation entries of ``model``'s new records (security/history.py's shape): the
        tracked fields staged, and the entries ``extra`` holds ready-made."""
        table, history = ChangeLog.__table__, self.history
        tracked = bulk.tracked(model)
        if model is Customer:
            overridden = {"stage_since", *(("owner_id",) if self.owner is not None else ())}
        else:
            overridden = {"customer_id", "is_primary"} if cut else set()
        entries = [staged_sql.Entry(k, k[cut:], tracked[k[cut:]].type == FieldType.RELATION)
                   for k in staged_keys if k[cut:] in tracked and k[cut:] not in STAMPS
                   and k[cut:] not in overridden and tracked[k[cut:]].type != FieldType.RELATION_MANY]
        params = staged_sql.Params()
        columns = [("at", params.add(history.at, table.c.at.type)),
                   ("user_id", params.add(history.user_id, sa.Integer)),
                   ("username", params.add(history.username, sa.String)),
                   ("customer_id", customer_id(params)), ("object_type", params.add(model.__name__)),
                   ("object_id", object_id), ("action", params.add("create")), ("source", params.add(history.source)),
                   ("changes", self.sql.changes(params, entries, extra))]
        return self._insert(table, columns, params, where=where)

    def _insert(self, table, columns: list, params: staged_sql.Params, where: str | None = None) -> sa.TextClause:
        quote = self.dialect.identifier_preparer.quote
        statement = (f"INSERT INTO {quote(table.name)} ({', '.join(quote(name) for name, _ in columns)}) "
                     f"SELECT {', '.join(expression for _, expression in columns)} "
                     f"FROM import_keys k JOIN import_row r ON r.id = k.row_id "
                     f"{'WHERE ' + where if where else ''} ORDER BY k.row_id")
        return sa.text(statement).bindparams(*params.binds.values())


def _for_dbapi(dialect, statement: sa.TextClause) -> tuple[str, object]:
    """(SQL, parameters) of a statement as the DBAPI cursor takes them — compiled once, its
    values put through their types' bind processors — so the writing thread runs it without
    the session."""
    compiled = statement.compile(dialect=dialect, compile_kwargs={"render_postcompile": True})
    processors = compiled._bind_processors
    values = {name: processors[name](value) if name in processors else value
              for name, value in compiled.construct_params().items()}
    if compiled.positional:
        return compiled.string, [values[name] for name in compiled.positiontup]
    return compiled.string, values


def _default_of(column: sa.Column):
    """The column's Python-side default for an empty cell (a callable evaluated once), or None."""
    default = column.default
    if default is None or column.primary_key:
        return None
    if default.is_scalar:
        return default.arg
    if default.is_callable:
        return default.arg(None)
    return None


def labels_of(session: Session, model, ids) -> dict:
    """id → the row's text (grid.lookups.label_of) of the rows of ``model`` with those ids,
    read a chunk at a time."""
    ids = sorted(pk for pk in ids if pk is not None)
    found = {}
    with session.no_autoflush:
        for start in range(0, len(ids), LABEL_CHUNK):
            for row in session.scalars(sa.select(model).where(model.id.in_(ids[start:start + LABEL_CHUNK]))):
                found[row.id] = label_of(row)
    return found


def _scope_own(user) -> bool:
    from portal.security import scope

    return scope.kind(user) == "own"

