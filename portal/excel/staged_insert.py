"""The new records of an import written by the database from the staged rows.

Per chunk of new rows, Python works out what SQL cannot — ids, customer numbers, pinyin search
keys, the code-table rows to add, tags — into a temporary keys table, and the history entries;
one INSERT … SELECT per table then reads the staged JSON (staged_sql.py) into the records, their
first contacts and their first stage events, and one UPDATE records in the staged rows what each
one wrote (the undo reads it). The statements of a chunk run in a second thread while this one
works out the next chunk: the database (SQLite's single writer, PostgreSQL's backend) and Python
each keep a core busy.

Building every row in Python instead (split, convert, bind, send) cost about 12 s of CPU at
100,000 rows against about 3 s for SQLite to write them. The history stays Python's: built by
the database from the JSON it took SQLite 1.5 times and PostgreSQL 3 times as long as parsing
the finished entries (bench/RESULTS.md). What is written is what the ORM flush hooks write for
one record (bulk.py's replicas of them): numbers (services/numbering.py), pinyin keys
(services/pinyin.py), the first stage event (services/lifecycle.py) and the history entry
(security/history.py's shape) with the batch as its source.
"""
from __future__ import annotations

import datetime as dt
import functools
from concurrent.futures import ThreadPoolExecutor

import orjson
import sqlalchemy as sa
from flask_babel import lazy_gettext as _l
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Session

from portal.fields import FieldType, fields_of
from portal.grid.lookups import label_of, related_model
from portal.models import ChangeLog, Contact, Customer, ImportBatch, ImportRow, LifecycleEvent
from portal.models import imports as status
from portal.services import pinyin, unique_values

from . import bulk, handoff, read_ahead, staged_sql, statistics, tag_links
from .cells import ADD, NEW_CODE
from .mapping import CONTACT, CUSTOM, CUSTOM_FIELD_COLUMN

CHUNK = 5000        # rows per INSERT … SELECT; two chunks are in flight (one written, one built)
BIND_EVERY = 1000   # rows worked out between two bindings (_bind)
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
    prefixes=["TEMPORARY"], postgresql_on_commit="DROP",
)
# The code-table rows a column's "add to the list" stands for: ``new:<name>`` → id.
ADDED = sa.Table(
    "import_added", _META,
    sa.Column("key", sa.String(200), primary_key=True),
    sa.Column("staged", _Staged, primary_key=True),
    sa.Column("id", sa.Integer),
    prefixes=["TEMPORARY"], postgresql_on_commit="DROP",
)


class _Chunk:
    """One chunk of new rows on its way: the staged rows (id, row number, values), what the
    database gave them (ids, numbers), and what is written for them."""

    def __init__(self, rows):
        self.rows = rows
        self.count = len(rows)   # kept once the rows are let go (_build)
        self.ids: list[int] = []
        self.numbers: list[str] = []
        self.contact_ids: list[int] = []
        self.keys: list[dict] = []
        self.history: list[dict] = []
        self.contact_history: list[dict] = []
        self.inserts: dict[str, bulk.Insert] = {}   # bound here, run by the writing thread
        self.analyze = False                          # ANALYZE the records' table once they are in

    def __len__(self) -> int:
        return self.count


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
        self.sqlite = self.dialect.name == "sqlite"
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
        self.owner = _owner(writer) if self.model is Customer else None
        self.keyed = "name_pinyin" in self.table.c   # customers and contacts: search keys of the name
        self.ids = bulk.Ids(self.session)
        self.taken: set[str] | None = None        # the file's own numbers, read when first needed
        self.relations: dict[tuple[str, object], tuple[int, str | None]] = {}   # (key, staged) → id, text
        self.entries = self._entries(self.model, self.own, 0)
        self.contact_entries = self._entries(Contact, self.contact, len(CONTACT))
        self.owner_entry = self._owner_entry()

    # -- the whole batch ---------------------------------------------------------------------
    def run(self, progress=None, total: int = 0) -> int:
        """Write every new row, a chunk at a time: while a chunk's statements run in a second
        thread (SQLite and PostgreSQL do their work without Python's lock), the next chunk is
        read, given its ids and numbers, and its keys and history are worked out here."""
        bulk.hold_write_lock(self.session, ImportBatch.__table__, self.w.batch.id)
        connection = self.session.connection()
        self.dbapi = connection.connection.dbapi_connection   # the writing thread's (never the session)
        KEYS.create(connection)
        ADDED.create(connection)
        self._relations()
        statements = {name: _for_dbapi(self.dialect, statement) for name, statement in self._statements().items()}
        done = 0
        pages = functools.partial(read_ahead.staged, batch_id=self.w.batch.id, state=status.NEW,
                                  columns=["id", "row_no", "values"], size=CHUNK, mappings=False)
        with read_ahead.staged_pages(self.session, pages) as staged, handoff.quick(), \
                ThreadPoolExecutor(1, thread_name_prefix="import-writes") as pool:
            self.staged = iter(staged)
            chunk = self._next(first=True)
            while chunk is not None:
                following = self._next()          # the connection is free here
                # Planner statistics (statistics.py): customer analysed once it has grown past
                # what they knew, before the chunk's history and contacts check their customer.
                chunk.analyze = statistics.due(self.session, self.table.name, len(chunk))
                if self.many:   # tags are linked between the records and their history: all here
                    self._write(chunk, statements, tags=True)
                    writing = None
                else:
                    writing = pool.submit(self._write, chunk, statements)
                if following is not None:
                    self._build(following)
                if writing is not None:
                    writing.result()
                done += len(chunk)
                if progress:
                    progress(done, total)
                chunk = following
        KEYS.drop(connection)
        ADDED.drop(connection)
        return done

    def _next(self, first: bool = False) -> "_Chunk | None":
        """The next chunk of new rows, with its ids and numbers (the first one built here too:
        the others are built while the one before is written)."""
        rows = next(self.staged, None)
        if not rows:
            return None
        chunk = _Chunk(rows)
        chunk.ids = self.ids.take(self.table, len(rows))
        if self.model is Customer:
            unnumbered = sum(1 for r in rows if not r[2].get("number"))
            if unnumbered:
                chunk.numbers = bulk.reserve_numbers(self.session, Customer, unnumbered, self._taken())
        if self.contact:
            chunk.contact_ids = self.ids.take(Contact.__table__, sum(1 for r in rows if self._has_contact(r[2])))
        if first:
            self._build(chunk)
        return chunk

    def _taken(self) -> set[str]:
        """The customer numbers the file's new rows bring (case-folded), which numbering must
        not hand out."""
        if self.taken is None:
            table = ImportRow.__table__
            number = table.c["values"]["number"].as_string()
            query = sa.select(number).where(table.c.batch_id == self.w.batch.id, table.c.status == status.NEW,
                                            number.is_not(None), number != "")
            self.taken = {unique_values.folded(n) for n in self.session.execute(query).scalars()} \
                if "number" in self.own else set()
        return self.taken

    def _has_contact(self, values: dict) -> bool:
        return any(k in values for k in self.contact)

    # -- relation values: their ids and texts ------------------------------------------------
    def _relations(self) -> None:
        """Every value the new rows stage in a relation column: the id it stands for
        (``new:<name>`` added to its code table, once) and that row's text for the history.
        The added ones go to the database's table, which the records' INSERT reads."""
        table = ImportRow.__table__
        contact_specs = fields_of(Contact)
        columns = [(k, self.model, fields_of(self.model).get(k)) for k in self.own] + \
                  [(k, Contact, contact_specs.get(k[len(CONTACT):])) for k in self.contact]
        added = []
        for key, model, spec in columns:
            if spec is None or spec.type != FieldType.RELATION:
                continue
            value = table.c["values"][key]
            query = (sa.select(value).where(table.c.batch_id == self.w.batch.id, table.c.status == status.NEW,
                                            value.as_string().is_not(None)).distinct())
            staged = [v for v in self.session.execute(query).scalars() if v is not None]
            ids = {v: self.w.codes.id_for(model, spec, v[len(NEW_CODE):])
                   if isinstance(v, str) and v.startswith(NEW_CODE) else v for v in staged}
            texts = labels_of(self.session, related_model(model, spec), set(ids.values()))
            for v, pk in ids.items():
                self.relations[(key, v)] = (pk, texts.get(pk))
                if isinstance(v, str):
                    added.append({"key": key, "staged": v, "id": pk})
        if added:
            bulk.Insert(self.dialect, ADDED, added).run(self.dbapi)

    # -- one chunk: built here ---------------------------------------------------------------
    def _build(self, chunk: _Chunk) -> None:
        """The chunk's keys table rows (ids, numbers, search keys) and history rows (pure
        Python: it runs while the chunk before is written)."""
        model, keys_of, history = self.model, pinyin.keys, self.history
        customer = model is Customer
        numbers, contact_ids = iter(chunk.numbers), iter(chunk.contact_ids)
        today = self.today.isoformat()
        since_tracked = "stage_since" in bulk.tracked(model)
        for (row_id, _, values), pk in zip(chunk.rows, chunk.ids):
            key = {"row_id": row_id, "record_id": pk, "number": None, "stage_since": None, "name_pinyin": None,
                   "name_initials": None, "contact_id": None, "contact_pinyin": None, "contact_initials": None}
            name = values.get("name")
            if self.keyed and name:
                key["name_pinyin"], key["name_initials"] = keys_of(name)
            changes = self._changes(values, self.entries)
            if customer:
                number = values.get("number") or None
                if number is None:
                    number = key["number"] = next(numbers)
                    changes["number"] = {"old": None, "new": number}
                since = values.get("acquired_on") or today
                key["stage_since"] = since if self.sqlite else dt.date.fromisoformat(since)   # as SQLite keeps dates
                if since_tracked:
                    changes["stage_since"] = {"old": None, "new": since}
                if self.owner_entry is not None:
                    changes["owner_id"] = self.owner_entry
                if self.contact and self._has_contact(values):
                    contact = key["contact_id"] = next(contact_ids)
                    key["contact_pinyin"], key["contact_initials"] = keys_of(values.get(CONTACT + "name"))
                    chunk.contact_history.append(history.row(Contact, contact, "create", self._contact_changes(
                        values, pk, f"{number} {name or ''}".strip()), pk))
            chunk.keys.append(key)
            chunk.history.append(history.row(model, pk, "create", changes,
                                             pk if customer else values.get("customer_id")))
            if len(chunk.keys) == BIND_EVERY:
                self._bind(chunk)
        self._bind(chunk)
        if self.sqlite:
            chunk.inserts["keys"].seal()
        if not self.many:
            chunk.rows = None   # the staged values let go: the chunk holds its bound values only

    def _bind(self, chunk: _Chunk) -> None:
        """Bind the rows worked out since the last call and let their dicts go (peak memory:
        a chunk's dicts take several times its bound values). Every value is bound here, so
        that the writing thread only runs statements (Python in that thread would wait for
        this one's lock)."""
        inserts = chunk.inserts
        for name, table, rows in (("keys", KEYS, chunk.keys), ("contact", ChangeLog.__table__, chunk.contact_history),
                                  ("record", ChangeLog.__table__, chunk.history)):
            if name == "record" and self.many:
                continue   # the tags are named in the history first (see _write)
            inserts.setdefault(name, _KeysAsJson() if name == "keys" and self.sqlite else
                               bulk.Insert(self.dialect, table)).add(rows)
            rows.clear()

    def _entries(self, model, staged_keys: list[str], cut: int) -> list[tuple[str, str, bool]]:
        """(staged key, field, is a relation) of the tracked fields a new record's history names
        from its staged values (bulk.creation_changes); what the commit sets itself (the stage
        date, a salesperson's ownership, a first contact's customer) is added by :meth:`_build`."""
        tracked = bulk.tracked(model)
        if model is Customer:
            overridden = {"stage_since", *(("owner_id",) if self.owner is not None else ())}
        else:
            overridden = {"customer_id", "is_primary"} if cut else set()
        return [(k, k[cut:], tracked[k[cut:]].type == FieldType.RELATION) for k in staged_keys
                if k[cut:] in tracked and k[cut:] not in STAMPS and k[cut:] not in overridden
                and tracked[k[cut:]].type != FieldType.RELATION_MANY]

    def _changes(self, values: dict, entries) -> dict:
        """A new record's history from its staged values (already JSON: what ``plain`` gives)."""
        changes = {}
        relations = self.relations
        for key, name, relation in entries:
            value = values.get(key)
            if value is None or value == "":
                continue
            if relation:
                pk, text = relations.get((key, value), (value, None))
                changes[name] = {"old": None, "new": pk, "old_text": None, "new_text": text}
            else:
                changes[name] = {"old": None, "new": value}
        return changes

    def _contact_changes(self, values: dict, customer_id: int, customer_text: str) -> dict:
        changes = self._changes(values, self.contact_entries)
        tracked = bulk.tracked(Contact)
        if "customer_id" in tracked:
            # The new customer's text (Customer.__str__): reading the related row, as the
            # history does for one record, finds nothing before the row is written.
            changes["customer_id"] = {"old": None, "new": customer_id, "old_text": None, "new_text": customer_text}
        if "is_primary" in tracked:
            changes["is_primary"] = {"old": None, "new": True}
        return changes

    def _owner_entry(self) -> dict | None:
        if self.owner is None or "owner_id" not in bulk.tracked(self.model):
            return None
        from flask_appbuilder.security.sqla.models import User

        text = labels_of(self.session, User, {self.owner}).get(self.owner)
        return {"old": None, "new": self.owner, "old_text": None, "new_text": text}

    # -- one chunk: written (in the writing thread) ------------------------------------------
    def _write(self, chunk: _Chunk, statements: dict, tags: bool = False) -> None:
        """A chunk's keys, records, history, stage events, contacts and written ids, on the
        DBAPI connection (in the writing thread, unless ``tags``: then here, with the tags
        linked after the records and named in their history)."""
        dbapi = self.dbapi
        chunk.inserts["keys"].run(dbapi)
        cursor = dbapi.cursor()
        try:
            if self.dialect.name == "postgresql":
                cursor.execute("ANALYZE import_keys")   # else the planner guesses its size
            for name, (sql, params) in statements.items():
                if name == "contact" and not chunk.inserts["contact"]:
                    continue
                cursor.execute(sql, params)
                if name == "record" and chunk.analyze:
                    cursor.execute(statistics.analyze_statement(self.dialect, self.table.name))
                if name == "record" and tags:
                    self._tags(chunk)
                    chunk.inserts["record"] = bulk.Insert(self.dialect, ChangeLog.__table__, chunk.history)
                if name in chunk.inserts:   # the history entries of what was just written
                    chunk.inserts[name].run(dbapi)
            cursor.execute("DELETE FROM import_keys")
        finally:
            cursor.close()

    def _tags(self, chunk: _Chunk) -> None:
        """The new records' links (tags), after the records, and each one's tags in its
        history entry."""
        tagged = [(values, pk, entry) for (_, _, values), pk, entry in zip(chunk.rows, chunk.ids, chunk.history)
                  if any(values.get(s.name) for s in self.many)]
        if tagged:
            tag_links.create(self.w, [{"values": values} for values, _, _ in tagged], [pk for _, pk, _ in tagged],
                             [entry["changes"] for _, _, entry in tagged])

    # -- the statements ----------------------------------------------------------------------
    def _statements(self) -> dict:
        """The statements of a chunk, in the order they run."""
        found = {"record": self._insert_records()}
        if self.model is Customer:
            found["event"] = self._insert_events()
        if self.contact:
            found["contact"] = self._insert_contacts()
        found["written"] = sa.text(
            "INSERT INTO import_written (batch_id, row_id, record_id, version, contact_id) "
            f"SELECT {int(self.w.batch.id)}, row_id, record_id, 1, contact_id FROM import_keys")
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
                expression = (f"COALESCE((SELECT a.id FROM import_added a WHERE a.key = {params.add(key)} "
                              f"AND a.staged = {sql.json_value(params, key)}), {expression})")
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
        """Each new card's first stage event, as services/lifecycle.py opens a new customer's."""
        params = staged_sql.Params()
        stage = self.sql.value(params, "stage") if "stage" in self.own else "NULL"
        columns = [("customer_id", "k.record_id"), ("from_stage", "NULL"),
                   ("to_stage", f"COALESCE({stage}, 'potential')"), ("occurred_on", "k.stage_since"),
                   ("reason", params.add(str(_l("Card created")))), ("transaction_id", "NULL"),
                   ("user_id", params.add(self.user_id, sa.Integer)),
                   ("recorded_at", params.add(bulk.now(), LifecycleEvent.__table__.c.recorded_at.type))]
        # Without a stage column the keys hold all an event needs: the wide staged rows are not read.
        return self._insert(LifecycleEvent.__table__, columns, params, staged="stage" in self.own)

    def _insert(self, table, columns: list, params: staged_sql.Params, where: str | None = None,
                staged: bool = True) -> sa.TextClause:
        quote = self.dialect.identifier_preparer.quote
        # The chunk's staged rows by their range of ids: PostgreSQL's merge join read the
        # staged rows' key from the first one (every earlier batch's included), its hash join
        # all of them, for every chunk (bench/RESULTS.md, twenty-fourth session).
        join = ("JOIN import_row r ON r.id = k.row_id AND r.id BETWEEN (SELECT min(row_id) FROM import_keys) "
                "AND (SELECT max(row_id) FROM import_keys) ") if staged else ""
        statement = (f"INSERT INTO {quote(table.name)} ({', '.join(quote(name) for name, _ in columns)}) "
                     f"SELECT {', '.join(expression for _, expression in columns)} "
                     f"FROM import_keys k {join}"
                     f"{'WHERE ' + where if where else ''} ORDER BY k.row_id")
        return sa.text(statement).bindparams(*params.binds.values())


class _KeysAsJson:
    """SQLite: a chunk's keys rows as one JSON array, written by one INSERT … SELECT FROM
    json_each. Run in the writing thread, each statement lets go of Python's lock and then
    waits up to a switch interval (5 ms) to get it back from the building thread: the keys as
    500-row INSERTs (bulk.Insert) spent 1.5 s of 100,000 rows waiting, this 0.4 s. (Not for the
    history rows: their JSON text inside JSON costs SQLite more to unescape than it saves.)"""

    STATEMENT = ("INSERT INTO import_keys ({}) SELECT {} FROM json_each(?)".format(
        ", ".join(c.name for c in KEYS.c), ", ".join(f"json_extract(value, '$[{i}]')" for i in range(len(KEYS.c)))))

    def __init__(self):
        self.rows: list[tuple] = []
        self.count = 0

    def add(self, rows: list[dict]) -> None:
        self.rows += [tuple(row.values()) for row in rows]   # in the table's column order
        self.count += len(rows)

    def __len__(self) -> int:
        return self.count

    def run(self, dbapi) -> None:
        cursor = dbapi.cursor()
        try:
            cursor.execute(self.STATEMENT, (self.text,))
        finally:
            cursor.close()

    def seal(self) -> None:
        """The JSON text, made here in the building thread."""
        self.text, self.rows = orjson.dumps(self.rows).decode(), []


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


def _owner(writer) -> int | None:
    """Who owns the new customers: the one whose file it is, when their scope is their own
    customers (a salesperson's list committed by the custodian stays the salesperson's), else
    the committer when theirs is."""
    for user in (writer.batch.user, writer.who.user):
        if user is not None and _scope_own(user):
            return user.id
    return None


def _scope_own(user) -> bool:
    from portal.security import scope

    return scope.kind(user) == "own"
