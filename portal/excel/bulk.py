"""Writing many records at once, as an import commits and undoes them: multi-row INSERT (COPY
on PostgreSQL) and executemany UPDATE … WHERE version = seen, with the same change history and
search keys the ORM flush hooks write for one record.

The ORM path (a flush per record, its hooks computing each record's history from attribute
state) costs about a millisecond per customer; this one costs a few tens of microseconds, which
is what makes a 100,000-row import a matter of seconds. It is used for customers, contacts
and visits, whose flush hooks are replicated here: numbers (services/numbering.py), pinyin keys
(services/pinyin.py) and the change history (security/history.py, the same entry shape); new
rows' first stage events are written by staged_insert.py. Transactions keep the ORM path:
their hooks move the customer's lifecycle.
"""
from __future__ import annotations

import datetime as dt
import itertools
import operator
from concurrent.futures import ThreadPoolExecutor
from typing import Iterable

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql
from sqlalchemy.orm import Session

from portal.fields import FieldType, fields_of
from portal.fields.plain import plain
from portal.fields.spec import TEXT_IN_JSON
from portal.models import ChangeLog, Contact, Customer, NumberSequence, Visit
from portal.services import numbering, pinyin, unique_values

from . import copy_text, statistics

FAST_MODELS = (Customer, Contact, Visit)
CHUNK = 1000
COPY_CHUNK = 20_000  # rows per temporary table on PostgreSQL (COPY has no statement per row)
IGNORED_SECTIONS = {"system"}


class RecordsChanged(Exception):
    """Records were changed by someone else between the preview and the commit."""


def now() -> dt.datetime:
    return dt.datetime.now().replace(microsecond=0)


_tracked: dict[type, dict] = {}


def tracked(model) -> dict:
    found = _tracked.get(model)
    if found is None:
        found = _tracked[model] = {name: spec for name, spec in fields_of(model).items()
                                   if spec.section not in IGNORED_SECTIONS}
    return found


def customer_of(model, record_id, values: dict):
    if model is Customer:
        return record_id
    return values.get("customer_id")


class History:
    """Collects change-history entries and writes them in chunks (security/history.py's shape)."""

    def __init__(self, session: Session, user_id, username, source: str):
        self.session, self.user_id, self.username, self.source = session, user_id, username, source
        self.rows: list[dict] = []
        self.at = now()

    def row(self, model, record_id, action: str, changes: dict, customer_id=None) -> dict:
        """The change_log row of one entry (written by the caller)."""
        return {"at": self.at, "user_id": self.user_id, "username": self.username, "customer_id": customer_id,
                "object_type": model.__name__, "object_id": record_id, "action": action, "source": self.source,
                "changes": changes}

    def add(self, model, record_id, action: str, changes: dict, customer_id=None) -> None:
        if not changes and action == "update":
            return
        self.rows.append(self.row(model, record_id, action, changes, customer_id))
        if len(self.rows) >= CHUNK:
            self.flush()

    def flush(self) -> None:
        if self.rows:
            executemany(self.session, ChangeLog.__table__, self.rows)
            self.rows = []


def change(spec, old, new, labels=None) -> dict | None:
    """{old, new} (with old_text/new_text for relations) when the values differ."""
    old, new = plain(old), plain(new)
    if old == new or (old in (None, "") and new in (None, "")):
        return None
    entry = {"old": old, "new": new}
    if spec is not None and spec.type == FieldType.RELATION and labels is not None:
        entry["old_text"] = labels(spec, old) if old is not None else None
        entry["new_text"] = labels(spec, new) if new is not None else None
    return entry


def creation_changes(model, values: dict, labels=None) -> dict:
    """The history's changes of a new record: every tracked field given a value."""
    specs, changes = tracked(model), {}
    for name, value in values.items():
        if value is None or value == "":
            continue
        spec = specs.get(name)
        if spec is None:
            continue
        entry = {"old": None, "new": plain(value)}
        if spec.type == FieldType.RELATION and labels is not None:
            entry["old_text"], entry["new_text"] = None, labels(spec, value)
        changes[name] = entry
    return changes


def creation_changes_many(model, rows: list[dict], labels=None, skip: Iterable[str] = ()) -> list[dict]:
    """``creation_changes`` of many rows with the same keys (an import's chunk), column by
    column: each column's spec and its JSON form are looked up once, not once per cell."""
    if not rows:
        return []
    specs, skip = tracked(model), set(skip)
    plan = []
    for name in rows[0]:
        spec = specs.get(name)
        if spec is None or name in skip:
            continue
        relation = spec.type == FieldType.RELATION and labels is not None
        plan.append((name, plain if spec.type in TEXT_IN_JSON else None, spec if relation else None))
    found = []
    for values in rows:
        changes = {}
        for name, convert, relation in plan:
            value = values[name]
            if value is None or value == "":
                continue
            if relation is not None:
                changes[name] = {"old": None, "new": value, "old_text": None, "new_text": labels(relation, value)}
            else:
                changes[name] = {"old": None, "new": value if convert is None else convert(value)}
        found.append(changes)
    return found


def reserve_numbers(session: Session, model, count: int, taken: set[str]) -> list[str]:
    """``count`` new numbers from the model's pattern, in one counter update, none of them
    used by an existing record or by ``taken`` (the file's own numbers, case-folded)."""
    if count <= 0:
        return []
    prefix, width, suffix = numbering.split_pattern(numbering.pattern_for(model), dt.date.today())
    key = prefix + "|" + suffix
    table = NumberSequence.__table__
    if session.execute(sa.select(table.c.prefix).where(table.c.prefix == key)).first() is None:
        numbering.next_value(session, key)  # creates the counter (at 1: that number is used)
        found_first = [f"{prefix}{1:0{width}d}{suffix}"]
    else:
        found_first = []
    # ``taken`` is case-folded: kh202600007 in the file takes KH202600007. The archive's
    # numbers are compared exactly here: a lookup per spelling of every number handed out
    # would cost a numberless 100,000-row import seconds, for cards whose number was typed
    # in another case than the pattern's (the form and the grid refuse a twin of it later).
    found: list[str] = [n for n in found_first if unique_values.folded(n) not in taken
                        and session.execute(sa.select(model.id).where(model.number == n)).first() is None]
    while len(found) < count:
        need = count - len(found)
        last = session.execute(sa.update(table).where(table.c.prefix == key)
                               .values(last_value=table.c.last_value + need).returning(table.c.last_value)).scalar()
        candidates = [f"{prefix}{n:0{width}d}{suffix}" for n in range(last - need + 1, last + 1)]
        used = set()
        for start in range(0, len(candidates), CHUNK):
            part = candidates[start:start + CHUNK]
            used.update(session.scalars(sa.select(model.number).where(among(session, model.number, part))))
        found.extend(n for n in candidates if n not in used and unique_values.folded(n) not in taken)
    return found[:count]


def with_keys(model, values: dict) -> dict:
    """The record's pinyin search keys, set in ``values`` (as the flush hook sets them)."""
    if model in (Customer, Contact) and "name" in values:
        values["name_pinyin"], values["name_initials"] = pinyin.keys(values["name"])
    return values


def _defaults(table, names) -> dict:
    """The Python-side defaults (scalars and callables: created_on, version, stage …) of the
    columns a row does not name, evaluated once for a chunk."""
    found = {}
    for column in table.c:
        if column.name in names or column.default is None or column.primary_key:
            continue
        default = column.default
        if default.is_scalar:
            found[column.name] = default.arg
        elif default.is_callable:
            found[column.name] = default.arg(None)
    return found


def executemany(session: Session, table, rows: list[dict]) -> None:
    """INSERT ``rows`` (the same keys in each): as one COPY on PostgreSQL, one DBAPI
    executemany elsewhere (see :class:`Insert`)."""
    if not rows:
        return
    connection = session.connection()
    Insert(connection.dialect, table, rows).run(connection.connection.dbapi_connection)
    statistics.note_written(session, table.name, len(rows))


SQLITE_ROWS_PER_INSERT = 500  # rows per multi-row INSERT (a statement's text is compiled per size)


def _sqlite_variables(dbapi_connection) -> int:
    """How many values one statement may bind on this SQLite build (32,766 since 3.32)."""
    import sqlite3

    try:
        return dbapi_connection.getlimit(sqlite3.SQLITE_LIMIT_VARIABLE_NUMBER)
    except (AttributeError, sqlite3.Error):
        return 999   # the limit of SQLite before 3.32


class Insert:
    """The INSERT of ``rows`` (the same keys in each) with every value already put through its
    column type's own bind processor, ready to be run on a DBAPI connection — in this thread,
    or in a second one while this one prepares the next rows (:class:`WriteBehind`).

    SQLAlchemy's executemany does the same per parameter set and costs more than the database
    at 100,000 rows; the values stored are identical (same processors, same Python-side
    defaults: created_on, version, stage …). A row's tuple is taken in C (itemgetter) and only
    the columns whose type has a processor are touched in Python."""

    def __init__(self, dialect, table, rows: list[dict] = ()):
        self.dialect, self.table, self.postgres, self.params = dialect, table, dialect.name == "postgresql", []
        self._values = None
        # PostgreSQL: the rows are formatted as COPY text here, not in the thread that sends them
        formatter = copy_text.formatter(dialect) if self.postgres else None
        self.copied = copy_text.Rows(formatter) if formatter is not None else None
        self.add(rows)

    def add(self, rows: list[dict]) -> None:
        """Bind more rows (the same keys as the first ones): a caller building many rows binds
        them a slice at a time and lets each slice's dicts go (peak memory)."""
        if not rows:
            return
        if self._values is None:
            self._columns_of(rows[0])
        if self.copied is not None:
            self.copied.add(map(self._values, rows))
        else:
            self.params.extend(map(self._values, rows))

    def _columns_of(self, first: dict) -> None:
        dialect, table = self.dialect, self.table
        names = list(first)
        defaults = _defaults(table, set(names))
        self.columns = names + list(defaults)
        processed = [(i, p) for i, p in enumerate(table.c[n].type._cached_bind_processor(dialect) for n in names)
                     if p is not None]
        fixed = []
        for name, value in defaults.items():
            processor = table.c[name].type._cached_bind_processor(dialect)
            fixed.append(processor(value) if processor is not None else value)
        self._values = _row_values(names, processed, tuple(fixed))
        quote = dialect.identifier_preparer.quote
        listed = ", ".join(quote(c) for c in self.columns)
        if self.postgres:
            self.statement = f"COPY {quote(table.name)} ({listed}) FROM STDIN"
        elif dialect.paramstyle == "qmark":
            self.statement = f"INSERT INTO {quote(table.name)} ({listed}) VALUES "
            self.row_marks = f"({', '.join('?' * len(self.columns))})"
        else:
            raise ValueError(f"bulk inserts need SQLite or PostgreSQL, not {dialect.name}")

    def __len__(self) -> int:
        return len(self.copied) if self.copied is not None else len(self.params)

    def run(self, dbapi_connection) -> None:
        if not len(self):
            return
        cursor = dbapi_connection.cursor()
        try:
            if self.postgres:
                with cursor.copy(self.statement) as copy:
                    if self.copied is not None:
                        copy.write(self.copied.data(dbapi_connection))
                    else:
                        for row in self.params:
                            copy.write_row(row)
            else:
                # Many rows per statement: one step of SQLite's for a few hundred rows, where an
                # executemany steps (and lets go of the GIL and waits to get it back) per row.
                per = max(1, min(SQLITE_ROWS_PER_INSERT, _sqlite_variables(dbapi_connection) // len(self.columns)))
                for start in range(0, len(self.params), per):
                    part = self.params[start:start + per]
                    cursor.execute(self.statement + ", ".join([self.row_marks] * len(part)),
                                   list(itertools.chain.from_iterable(part)))
        finally:
            cursor.close()


class WriteBehind:
    """Runs one chunk's statements (:class:`Insert`, :class:`Update`) in a second thread while
    the caller builds the next chunk's: the database (SQLite's B-trees, PostgreSQL's server)
    works on one core while Python builds on the other (sqlite3 and psycopg let go of the GIL
    while the database works). The caller uses the connection only between :meth:`wait` and
    the next :meth:`submit`, so one thread at a time uses it (SQLite connections are opened
    with ``check_same_thread=False`` for this: see portal/__init__.py)."""

    def __init__(self, session: Session):
        self.session = session
        self.dbapi = session.connection().connection.dbapi_connection
        self.pool = ThreadPoolExecutor(1, thread_name_prefix="import-writes")
        self.pending = None
        self.statements: list["Insert | Update"] = []

    def __enter__(self) -> "WriteBehind":
        return self

    def __exit__(self, *exc) -> None:
        try:
            if exc[0] is None:
                self.wait()
            elif self.pending is not None:
                self.pending.exception()   # let it finish; the transaction is rolled back anyway
        finally:
            self.pool.shutdown(wait=True)

    def submit(self, statements: list["Insert | Update"]) -> None:
        self.wait()
        statements = [s for s in statements if len(s)]
        self.statements = statements
        self.pending = self.pool.submit(self._run, statements)

    def _run(self, statements: list["Insert | Update"]) -> None:
        for statement in statements:
            statement.run(self.dbapi)

    def wait(self) -> None:
        """Until the submitted statements are written (their error raised here)."""
        if self.pending is None:
            return
        pending, self.pending = self.pending, None
        pending.result()
        _note_growth(self.session, self.statements)
        self.statements = []


def run(session: Session, statements: list["Insert | Update"]) -> None:
    """Run the statements here, on the session's DBAPI connection."""
    dbapi = session.connection().connection.dbapi_connection
    for statement in statements:
        statement.run(dbapi)
    _note_growth(session, statements)


def _note_growth(session: Session, statements) -> None:
    for statement in statements:
        if isinstance(statement, Insert) and len(statement):   # the tables that grew (statistics.py)
            statistics.note_written(session, statement.table.name, len(statement))


class Ids:
    """Ids for new rows, taken before the rows are written, so a chunk's history and its
    dependants (contacts, stage events) can be built while an earlier chunk is still being
    written. PostgreSQL: from the table's sequence. SQLite: counted on from the table's last
    id — what SQLite itself would give, since the caller's transaction holds the database's
    only write lock (see :func:`hold_write_lock`) until it commits."""

    def __init__(self, session: Session):
        self.session, self.last = session, {}

    def take(self, table, count: int) -> list[int]:
        if count <= 0:
            return []
        given = _new_ids(self.session, table, count)
        if given is not None:
            return given
        last = self.last.get(table.name)
        if last is None:
            last = self.session.execute(sa.select(sa.func.max(table.c.id))).scalar() or 0
        self.last[table.name] = last + count
        return list(range(last + 1, last + count + 1))


def hold_write_lock(session: Session, table, key) -> None:
    """SQLite: take the database's write lock now (a write to the row ``key`` of ``table``
    that changes nothing), so that ids counted from a table's last one stay free until commit."""
    if not _postgres(session):
        session.execute(sa.update(table).where(table.c.id == key).values(id=table.c.id))


_UNSEEN = object()


def _row_values(names: list[str], processed: list[tuple[int, object]], fixed: tuple):
    """row dict → the statement's values: the named columns in order, then the defaults."""
    get = operator.itemgetter(*names)
    single = len(names) == 1
    if not processed:
        if single:
            return lambda row: (row[names[0]], *fixed)
        return lambda row: get(row) + fixed

    # A value the row before had too (the history's time, a batch's user, an empty JSON column
    # that is stored as JSON null …) is processed once: the same object gives the same result.
    last = [(_UNSEEN, None)] * len(processed)

    def values(row):
        found = [get(row)] if single else list(get(row))
        for n, (index, processor) in enumerate(processed):
            value = found[index]
            seen, done = last[n]
            if value is seen:
                found[index] = done
            else:
                found[index] = done = processor(value)
                last[n] = (value, done)
        found.extend(fixed)
        return found
    return values


def _new_ids(session: Session, table, count: int) -> list[int] | None:
    """PostgreSQL: ``count`` ids from the table's sequence (given explicitly to the INSERT)."""
    if session.get_bind().dialect.name != "postgresql":
        return None
    sequence = session.execute(sa.text("SELECT pg_get_serial_sequence(:t, 'id')"), {"t": table.name}).scalar()
    return list(session.execute(sa.text("SELECT nextval(:s) FROM generate_series(1, :n)"),
                                {"s": sequence, "n": count}).scalars())


def insert(session: Session, model, rows: list[dict]) -> list[int]:
    """INSERT the rows (column name → value, the same keys in every row) and return their ids
    in order. Python-side column defaults (created_on, version, stage …) apply to the
    columns a row does not name."""
    if not rows:
        return []
    table = model.__table__
    for values in rows:
        with_keys(model, values)
    ids: list[int] = []
    for start in range(0, len(rows), CHUNK):
        part = rows[start:start + CHUNK]
        given = _new_ids(session, table, len(part))
        if given is not None:
            part = [{"id": pk, **values} for pk, values in zip(given, part)]
            executemany(session, table, part)
            ids.extend(given)
            continue
        # SQLite: this transaction holds the only write lock from its first INSERT to its
        # commit, so the rows just inserted are the table's last ones, in order.
        executemany(session, table, part)
        last = session.execute(sa.select(table.c.id).order_by(table.c.id.desc()).limit(len(part))).scalars().all()
        ids.extend(reversed(last))
    return ids


def update(session: Session, model, items: Iterable[tuple[int, int, dict]], user_id) -> int:
    """UPDATE each (id, seen version, {column: value}) where the version is still the one
    seen, bumping it; raises RecordsChanged when any record moved on meanwhile. On
    PostgreSQL one UPDATE … FROM a copied temporary table for all the rows, whatever columns
    each sets; elsewhere one executemany per group of rows setting the same columns."""
    dbapi = session.connection().connection.dbapi_connection
    written = 0
    for statement in updates(session.get_bind().dialect, model, items, user_id):
        statement.run(dbapi)
        written += len(statement)
    return written


def updates(dialect, model, items: Iterable[tuple[int, int, dict]], user_id) -> list["Update"]:
    """:func:`update`'s statements, built but not run (a WriteBehind thread may run them),
    each refusing (RecordsChanged) when a record's version moved on."""
    table = model.__table__
    stamp = {c: v for c, v in (("changed_on", now()), ("changed_by_id", user_id)) if c in table.c}
    also = {"version": table.c.version + 1, **stamp}
    items = [(pk, version, with_keys(model, dict(values))) for pk, version, values in items]
    if dialect.name == "postgresql":
        return [_merged(dialect, table, items[start:start + COPY_CHUNK], also)
                for start in range(0, len(items), COPY_CHUNK)]
    groups: dict[tuple, list[tuple]] = {}
    for pk, version, values in items:
        columns = tuple(sorted(values))
        groups.setdefault(columns, []).append((pk, version, *(values[c] for c in columns)))
    return [Update(dialect, table, ("id", "version"), columns, rows[start:start + CHUNK], also=also, every=True)
            for columns, rows in groups.items() for start in range(0, len(rows), CHUNK)]


def _merged(dialect, table, items: list[tuple[int, int, dict]], also: dict) -> "Update":
    """PostgreSQL: one UPDATE for rows setting different columns (a person's card and a
    company's in one file): a column some rows leave alone comes with a flag saying which
    rows set it. A temporary table, its COPY and its UPDATE per set of columns cost more
    than the flags (100,000 updates in two sets: 200 statements of each kind, 0.7 s)."""
    columns = sorted({c for _, _, values in items for c in values})
    some = [c for c in columns if not all(c in values for _, _, values in items)]
    rows = [(pk, version, *(values.get(c) for c in columns), *(c in values for c in some))
            for pk, version, values in items]
    return Update(dialect, table, ("id", "version"), tuple(columns), rows, also=also, every=True, given=tuple(some))


def _postgres(session: Session) -> bool:
    return session.get_bind().dialect.name == "postgresql"


def server_side(session: Session) -> bool:
    """Whether the database does a statement's work away from Python's lock (PostgreSQL's
    server), so that a second thread's statements and this thread's Python overlap."""
    return _postgres(session)


def among(session: Session, column, values) -> sa.ColumnElement[bool]:
    """``column IN values`` as the database takes it quickest. PostgreSQL: one array
    parameter (``= ANY``), one statement text for any number of values; an IN list of 2,000
    is compiled, given a cast per value and parsed again by psycopg for every chunk (about
    20 µs per value: 2 s of an all-new 100,000-row dry run). SQLite: IN (…)."""
    if _postgres(session):
        # Text as unbounded text: a cast to VARCHAR(n)[] would cut longer values to n characters.
        item = sa.String() if isinstance(column.type, sa.String) else column.type
        return column == sa.any_(sa.bindparam(None, list(values), type_=postgresql.ARRAY(item)))
    return column.in_(values)


_temporary = itertools.count()


def update_rows(session: Session, table, keys: tuple[str, ...], columns: tuple[str, ...], rows: list[tuple],
                also: dict | None = None) -> int:
    """Set ``columns`` of the rows matched on ``keys``: each row is (key values…, column
    values…). ``also`` holds values (or SQL expressions) set on every matched row. Returns
    the number of rows matched (see :class:`Update`)."""
    if not rows:
        return 0
    connection = session.connection()
    return Update(connection.dialect, table, keys, columns, rows, also).run(connection.connection.dbapi_connection)


class Update:
    """The UPDATE of ``rows`` (key values…, column values…) matched on ``keys``, compiled and
    bound here, run on a DBAPI connection — at once, or in a WriteBehind thread while the
    next rows are built. PostgreSQL: the rows are copied into a temporary table and applied by
    one UPDATE … FROM, instead of a statement per row. SQLite: the statement compiled once and
    run by the DBAPI's executemany with each row's values put through the bind processors
    (SQLAlchemy's own executemany builds a parameter dictionary per row, which cost as much as
    SQLite's work at 100,000 updates). ``every``: fewer rows matched than given raise
    RecordsChanged (a version moved on). ``given`` (PostgreSQL): columns that only some rows
    set; each row ends with a flag per such column, and a row without it keeps its value."""

    def __init__(self, dialect, table, keys: tuple[str, ...], columns: tuple[str, ...], rows: list[tuple],
                 also: dict | None = None, every: bool = False, given: tuple[str, ...] = ()):
        self.table, self.rows, self.every, self.postgres = table, len(rows), every, dialect.name == "postgresql"
        also = also or {}
        if given and not self.postgres:
            raise ValueError("flagged columns are PostgreSQL's: elsewhere rows are grouped by their columns")
        if not self.postgres:
            statement = (sa.update(table).where(*(table.c[k] == sa.bindparam(f"k_{k}") for k in keys))
                         .values({**{c: sa.bindparam(f"v_{c}") for c in columns}, **also}))
            self.sql, self.params = _positional(dialect, statement, [f"k_{k}" for k in keys] +
                                                [f"v_{c}" for c in columns], rows)
            return
        quote = dialect.identifier_preparer.quote
        self.temporary = temporary = f"_bulk_update_{next(_temporary)}"
        flags = [f"g_{c}" for c in given]
        selected = ", ".join([f"{quote(k)} AS {quote('k_' + k)}" for k in keys] + [quote(c) for c in columns]
                             + [f"CAST(NULL AS BOOLEAN) AS {quote(f)}" for f in flags])
        self.create = (f"CREATE TEMPORARY TABLE {temporary} ON COMMIT DROP AS "
                       f"SELECT {selected} FROM {quote(table.name)} WITH NO DATA")
        self.copy = (f"COPY {temporary} ({', '.join(quote(c) for c in [f'k_{k}' for k in keys] + list(columns) + flags)})"
                     " FROM STDIN")
        processors = [table.c[name].type._cached_bind_processor(dialect) for name in (*keys, *columns)]
        processors += [None] * len(flags)
        bound = (tuple(v if f is None else f(v) for f, v in zip(processors, row)) for row in rows)
        formatter = copy_text.formatter(dialect)
        self.params = self.copied = None
        if formatter is not None:   # formatted here, not in the thread that sends them
            self.copied = copy_text.Rows(formatter)
            self.copied.add(bound)
        else:
            self.params = list(bound)
        source = sa.table(temporary, *(sa.column(f"k_{k}") for k in keys), *(sa.column(c) for c in columns),
                          *(sa.column(f) for f in flags))
        values = {c: source.c[c] for c in columns}
        for c in given:
            values[c] = sa.case((source.c[f"g_{c}"], source.c[c]), else_=table.c[c])
        statement = (sa.update(table).where(*(table.c[k] == source.c[f"k_{k}"] for k in keys))
                     .values({**values, **also}))
        if keys[0] == "id" and rows:
            # The rows' range of ids: the join reads that part of the primary key, where it read
            # the table from its first row (a merge join's index scan, a hash join's full scan),
            # 30-50 ms of each 5,000-row UPDATE at 100,000 cards (bench/RESULTS.md).
            ids = [row[0] for row in rows]
            statement = statement.where(table.c.id.between(min(ids), max(ids)))
        compiled = statement.compile(dialect=dialect)
        processors = compiled._bind_processors
        self.sql = compiled.string
        self.bound = {}
        for name, value in compiled.construct_params().items():
            value = _on_update(statement, name, value)
            self.bound[name] = processors[name](value) if name in processors else value

    def __len__(self) -> int:
        return self.rows

    def run(self, dbapi_connection) -> int:
        """Run it; the rows matched."""
        cursor = dbapi_connection.cursor()
        try:
            if self.postgres:
                cursor.execute(self.create)
                with cursor.copy(self.copy) as copy:
                    if self.params is None:
                        copy.write(self.copied.data(dbapi_connection))
                    else:
                        for row in self.params:
                            copy.write_row(row)
                cursor.execute(f"ANALYZE {self.temporary}")  # else the planner guesses its size
                cursor.execute(self.sql, self.bound)
                matched = cursor.rowcount
                cursor.execute(f"DROP TABLE {self.temporary}")
            else:
                cursor.executemany(self.sql, self.params)
                matched = cursor.rowcount
        finally:
            cursor.close()
        if self.every and matched != self.rows:
            raise RecordsChanged()
        return matched


def _on_update(statement, name: str, value):
    """A bind parameter's value, or its column's onupdate (changed_on) where none is given:
    SQLAlchemy evaluates those per execution, and these statements run on the DBAPI."""
    column = statement.table.c.get(name)
    if value is None and column is not None and column.onupdate is not None:
        update = column.onupdate
        return update.arg if update.is_scalar else update.arg(None) if update.is_callable else None
    return value


def _positional(dialect, statement, names: list[str], rows: list[tuple]) -> tuple[str, list[tuple]]:
    """SQLite: ``statement`` compiled once, and each row's values (``names``, in order) put
    through the bind parameters' processors; the other bind parameters (``also``'s values)
    bound once."""
    compiled = statement.compile(dialect=dialect)
    processors = compiled._bind_processors
    given = compiled.construct_params({name: None for name in names})
    where = {name: i for i, name in enumerate(names)}
    plan = []
    for name in compiled.positiontup:
        processor = processors.get(name)
        if name in where:
            plan.append((where[name], processor))
        else:
            value = _on_update(statement, name, given.get(name))
            plan.append((None, processor(value) if processor is not None else value))
    return compiled.string, [tuple((row[i] if f is None else f(row[i])) if i is not None else f for i, f in plan)
                             for row in rows]


def delete(session: Session, model, ids: list[int]) -> None:
    table = model.__table__
    for start in range(0, len(ids), CHUNK):
        session.execute(sa.delete(table).where(among(session, table.c.id, ids[start:start + CHUNK])))


def current(session: Session, model, ids: list[int], columns: Iterable[str] = ()) -> dict[int, dict]:
    """id → {version, changed_on, changed_by_id, and the columns asked for} of the records."""
    table = model.__table__
    wanted = ["id", "version", *(c for c in ("changed_on", "changed_by_id") if c in table.c), *columns]
    found = {}
    for start in range(0, len(ids), CHUNK):
        query = sa.select(*(table.c[c] for c in dict.fromkeys(wanted))).where(among(session, table.c.id, ids[start:start + CHUNK]))
        for row in session.execute(query).mappings():
            found[row["id"]] = dict(row)
    return found
