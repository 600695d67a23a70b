"""SQL expressions the analyses share that SQLite and PostgreSQL spell differently."""
from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.expression import FunctionElement


class year_month(FunctionElement):
    """'YYYY-MM' of a date column (text), for GROUP BY month."""

    type = sa.String()
    inherit_cache = True


@compiles(year_month)
def _year_month_default(element, compiler, **kw):
    return "to_char(%s, 'YYYY-MM')" % compiler.process(element.clauses, **kw)


@compiles(year_month, "sqlite")
def _year_month_sqlite(element, compiler, **kw):
    return "strftime('%%Y-%%m', %s)" % compiler.process(element.clauses, **kw)


class year_of(FunctionElement):
    """The year of a date column, as an integer."""

    type = sa.Integer()
    inherit_cache = True


@compiles(year_of)
def _year_default(element, compiler, **kw):
    return "CAST(EXTRACT(YEAR FROM %s) AS INTEGER)" % compiler.process(element.clauses, **kw)


@compiles(year_of, "sqlite")
def _year_sqlite(element, compiler, **kw):
    return "CAST(strftime('%%Y', %s) AS INTEGER)" % compiler.process(element.clauses, **kw)
