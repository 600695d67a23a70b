"""How the database reads an import's staged rows (``import_row.values``, JSON on SQLite, JSONB on
PostgreSQL) in SQL: a staged value as the column stores it, and a new record's creation history
built from its staged values. The commit of new rows (staged_insert.py) is written with these
pieces, so each dialect's JSON functions are named here and nowhere else.

The staged values are what the dry run converted, as JSON (``portal/fields/plain.py``): text,
numbers, booleans, dates and date-times as ISO text, decimals as exact text, relation ids (or
``new:<name>`` for a code-table row the commit adds). What each column type makes of them is
what SQLAlchemy's own bind processing stores for the Python value: the same cell either way.

Every value the SQL names (keys, paths, texts) is a bind parameter, collected by :class:`Params`.
"""
from __future__ import annotations

from dataclasses import dataclass

import orjson
import sqlalchemy as sa

STAGED = 'r."values"'      # the staged row's values, as the statements alias import_row


class Params:
    """The bind parameters of one statement, each named once."""

    def __init__(self):
        self.binds: dict[str, sa.BindParameter] = {}

    def add(self, value, type_=None, *, expanding: bool = False, name: str | None = None) -> str:
        """``:name`` of a new parameter holding ``value``."""
        name = name or f"p{len(self.binds)}"
        if name not in self.binds:
            self.binds[name] = sa.bindparam(name, value, type_=type_, expanding=expanding)
        return f":{name}"


@dataclass(frozen=True)
class Entry:
    """One field of a creation history entry: the staged ``key`` (``contact.name``), the
    field's name in the entry (``name``), and whether it is a relation (its id and text come
    from the labels table)."""

    key: str
    name: str
    relation: bool = False


def for_dialect(dialect) -> "SqliteJson | PostgresJson":
    if dialect.name == "postgresql":
        return PostgresJson(dialect)
    if dialect.name == "sqlite":
        return SqliteJson(dialect)
    raise ValueError(f"an import writes through SQLite or PostgreSQL, not {dialect.name}")


class SqliteJson:
    """SQLite's JSON functions and its ``->``/``->>`` operators (3.38 and newer; ``UPDATE …
    FROM`` needs 3.33)."""

    def __init__(self, dialect):
        self.dialect = dialect

    @staticmethod
    def path(key: str) -> str:
        return '$."' + key.replace('"', '\\"') + '"'

    def value(self, params: Params, key: str) -> str:
        """The staged value of ``key`` as an SQL scalar (NULL when absent; true/false as 1/0)."""
        return f"({STAGED} ->> {params.add(self.path(key))})"

    json_value = value   # what import_labels.staged is compared with (no affinity: 12, 'new:…')

    def stored(self, params: Params, key: str, column: sa.Column) -> str:
        """The staged value as ``column`` stores it. SQLAlchemy binds a Decimal to SQLite as a
        float and a datetime as ``YYYY-MM-DD HH:MM:SS.ffffff``; dates, text, integers and
        booleans (1/0) are JSON's own scalars."""
        value = self.value(params, key)
        kind = column.type
        if isinstance(kind, sa.DateTime):
            return f"substr(replace({value}, 'T', ' ') || '.000000', 1, 26)"
        if isinstance(kind, sa.Numeric) and not isinstance(kind, sa.Float):
            return f"CAST({value} AS REAL)"
        return value

    def custom_fields(self, params: Params, prefix: str) -> str:
        """An object of the staged ``<prefix><name>`` values keyed by name, or NULL when none
        (as the ORM stores no custom value)."""
        prefix = params.add(prefix)
        each = ("CASE e.type WHEN 'true' THEN json('true') WHEN 'false' THEN json('false') "
                "WHEN 'object' THEN json(e.value) WHEN 'array' THEN json(e.value) ELSE e.value END")
        return (f"NULLIF((SELECT json_group_object(substr(e.key, length({prefix}) + 1), {each}) "
                f"FROM json_each({STAGED}) e WHERE substr(e.key, 1, length({prefix})) = {prefix}), '{{}}')")

    def changes(self, params: Params, entries: list[Entry], extra: str) -> str:
        """A new record's history entry, ``{name: {"old": null, "new": value}, …}`` (a relation
        with ``old_text``/``new_text``), of the staged values of ``entries`` that are given
        (not null, not ''), then the ready-made entries of the JSON object ``extra``.

        Written as text: each given value's own JSON (``->``) inside a fixed frame. Building it
        with json_each and json_group_object took half as long again at 100,000 records."""
        parts = []
        for entry in entries:
            path = params.add(self.path(entry.key))
            given = f"({STAGED} ->> {path})"
            value = f"({STAGED} -> {path})"
            head = params.add("," + _json_key(entry.name) + ':{"old":null,"new":')
            if entry.relation:
                text = params.add(',"old_text":null,"new_text":')
                label = (f"(SELECT {head} || l.id || {text} || json_quote(l.label) || '}}' "
                         f"FROM import_labels l WHERE l.key = {params.add(entry.key)} AND l.staged = {given})")
                shown = f"COALESCE({label}, {head} || {value} || '}}')"
            else:
                shown = f"{head} || {value} || '}}'"
            parts.append(f"CASE WHEN {given} IS NULL OR {given} = '' THEN '' ELSE {shown} END")
        parts.append(f"CASE WHEN {extra} IS NULL OR {extra} = '{{}}' THEN '' "
                     f"ELSE ',' || substr({extra}, 2, length({extra}) - 2) END")
        return "'{' || substr(" + " || ".join(parts) + ", 2) || '}'"


class PostgresJson:
    """PostgreSQL's JSONB operators."""

    def __init__(self, dialect):
        self.dialect = dialect

    @staticmethod
    def path(key: str) -> str:
        return key

    def value(self, params: Params, key: str) -> str:
        return f"({STAGED} ->> CAST({params.add(key)} AS TEXT))"

    def json_value(self, params: Params, key: str) -> str:
        return f"({STAGED} -> CAST({params.add(key)} AS TEXT))"

    def stored(self, params: Params, key: str, column: sa.Column) -> str:
        kind = column.type
        if isinstance(kind, (sa.String, sa.Text, sa.Enum)):
            return self.value(params, key)
        if isinstance(kind, sa.JSON):
            return self.json_value(params, key)
        return f"CAST({self.value(params, key)} AS {kind.compile(dialect=self.dialect)})"

    def custom_fields(self, params: Params, prefix: str) -> str:
        prefix = params.add(prefix)
        return (f"(SELECT jsonb_object_agg(substr(e.key, length(CAST({prefix} AS TEXT)) + 1), e.value) "
                f"FROM jsonb_each({STAGED}) e WHERE starts_with(e.key, CAST({prefix} AS TEXT)))")

    def changes(self, params: Params, entries: list[Entry], extra: str) -> str:
        parts = []
        for entry in entries:
            value = self.json_value(params, entry.key)
            name = f"CAST({params.add(entry.name)} AS TEXT)"
            if entry.relation:
                shown = (f"COALESCE((SELECT jsonb_build_object({name}, jsonb_build_object('old', NULL, 'new', l.id, "
                         f"'old_text', NULL, 'new_text', l.label)) FROM import_labels l "
                         f"WHERE l.key = CAST({params.add(entry.key)} AS TEXT) AND l.staged = {value}), "
                         f"jsonb_build_object({name}, jsonb_build_object('old', NULL, 'new', {value})))")
            else:
                shown = f"jsonb_build_object({name}, jsonb_build_object('old', NULL, 'new', {value}))"
            parts.append(f"CASE WHEN {value} IS NULL OR {value} IN ('null'::jsonb, '\"\"'::jsonb) "
                         f"THEN '{{}}'::jsonb ELSE {shown} END")
        parts.append(f"COALESCE({extra}, '{{}}'::jsonb)")
        return "(" + " || ".join(parts) + ")"


def _json_key(name: str) -> str:
    """A field name as a JSON string (quoted)."""
    return orjson.dumps(name).decode()
