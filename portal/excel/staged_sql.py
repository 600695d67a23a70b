"""How the database reads an import's staged rows (``import_row.values``, JSON on SQLite, JSONB on
PostgreSQL) in SQL: a staged value as the column stores it. The commit of new rows
(staged_insert.py) is written with these pieces, so each dialect's JSON functions are named here
and nowhere else.

The staged values are what the dry run converted, as JSON (``portal/fields/plain.py``): text,
numbers, booleans, dates and date-times as ISO text, decimals as exact text, relation ids (or
``new:<name>`` for a code-table row the commit adds). What each column type makes of them is
what SQLAlchemy's own bind processing stores for the Python value: the same cell either way.

Every value the SQL names (keys, paths, texts) is a bind parameter, collected by :class:`Params`.
"""
from __future__ import annotations

import sqlalchemy as sa

STAGED = 'r."values"'      # the staged row's values, as the statements alias import_row


class Params:
    """The bind parameters of one statement, each named once."""

    def __init__(self):
        self.binds: dict[str, sa.BindParameter] = {}

    def add(self, value, type_=None, *, name: str | None = None) -> str:
        """``:name`` of a new parameter holding ``value``."""
        name = name or f"p{len(self.binds)}"
        if name not in self.binds:
            self.binds[name] = sa.bindparam(name, value, type_=type_)
        return f":{name}"


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

    json_value = value   # what import_added.staged is compared with (no affinity: 'new:…' is text)

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


class PostgresJson:
    """PostgreSQL's JSONB operators."""

    def __init__(self, dialect):
        self.dialect = dialect

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
