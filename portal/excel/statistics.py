"""Keeping PostgreSQL's planner statistics true while an import writes tens of thousands of rows.

PostgreSQL plans every foreign-key check and every lookup from a table's statistics, which
autovacuum refreshes — when it is on (it is off on some servers, this project's CI machine
among them) and once it has run (it has not, during a first import into a new archive). A
planner that still believes ``customer`` is empty may check each new contact's, history
entry's or stage event's customer through an index that has ``id`` only as its second column
(``ix_customer_stage``: stage, id), scanning all of it: 12 ms a row at 100,000 customers
instead of 0.01 ms, which made a 100,000-row commit take minutes. So the import does what
autovacuum would: ANALYZE a table once the rows written to it outgrow what its statistics
know. ANALYZE inside the transaction counts the transaction's own new rows.
"""
from __future__ import annotations

import functools

import sqlalchemy as sa
from sqlalchemy.orm import Session

MIN_ROWS = 1000
# autovacuum's defaults: ANALYZE when the changes since the last one exceed 50 + 10 %.
THRESHOLD, SCALE = 50, 0.1
_WRITTEN = "statistics_written"
# What an import reads and writes (matching, foreign-key checks, staging, history).
IMPORT_TABLES = ("customer", "contact", "trade", "visit", "import_row", "change_log", "lifecycle_event")
# The ANALYZE an import runs while a table grows (:func:`due`) is for the plans of its own
# statements and for the table's size, which any ANALYZE updates: it samples only the columns
# those statements find rows by (:func:`lookup_columns`), a quarter to a tenth of the whole
# table's cost at 100,000 rows (customer 0.45 s → 0.13–0.2 s; bench/RESULTS.md). The other
# columns' statistics stay autovacuum's, or :func:`refresh`'s at the next import (whole tables).
_LOOKED_UP_THROUGH = ("customer", "contact")   # dependents, contacts
# Columns rows are found by that no foreign key names: a batch's staged rows (migration 0015).
_LOOKED_UP_WITHOUT_A_KEY = {"import_row": ("batch_id", "status")}
# Tables only an import's own statements read, and only by those columns: :func:`refresh`
# samples them too, not their JSON documents (a whole ANALYZE of 100,000 staged rows 0.2 s,
# of their lookup columns 0.03 s), whose statistics no statement uses.
_ONLY_LOOKED_UP = ("import_row",)


def _postgres(session: Session) -> bool:
    return session.get_bind().dialect.name == "postgresql"


def _analyze(session: Session, name: str, whole: bool = False) -> None:
    session.execute(sa.text(analyze_statement(session.get_bind().dialect, name, whole=whole)))


def note_written(session: Session, table_name: str, count: int) -> None:
    """Count ``count`` rows written to the table in this transaction; ANALYZE it when they
    exceed both MIN_ROWS and the rows its statistics know of (so at most log₂ of the rows
    written times per transaction)."""
    if due(session, table_name, count):
        _analyze(session, table_name)


def due(session: Session, table_name: str, count: int) -> bool:
    """Count ``count`` rows about to be written to the table in this transaction; whether the
    caller is to ANALYZE it once they are (see :func:`note_written`; counted as analysed)."""
    if not _postgres(session):
        return False
    written = session.info.setdefault(_WRITTEN, {})
    written[table_name] = written.get(table_name, 0) + count
    if written[table_name] <= MIN_ROWS:
        return False
    known = session.execute(sa.text("SELECT reltuples FROM pg_class WHERE oid = CAST(:t AS regclass)"),
                            {"t": table_name}).scalar()
    if written[table_name] > max(known or 0, 0):
        written[table_name] = 0
        return True
    return False


def analyze_statement(dialect, table_name: str, whole: bool = False) -> str:
    """The ANALYZE :func:`due` asks for (the table's :func:`lookup_columns`, unless ``whole``),
    as a statement a DBAPI cursor runs."""
    quote = dialect.identifier_preparer.quote
    columns = () if whole else lookup_columns(table_name)
    listed = f" ({', '.join(quote(c) for c in columns)})" if columns else ""
    return f"ANALYZE {quote(table_name)}{listed}"


@functools.lru_cache(maxsize=None)
def lookup_columns(table_name: str) -> tuple[str, ...]:
    """The columns an import's statements find a table's rows by: its primary key (foreign-key
    checks), the fields of its model's match keys (excel/mapping.py), the columns that point
    at a customer or a contact (dependents, a contact's customer), and the staged rows' batch
    and status. Empty for a table the metadata does not know (then the whole table is analysed)."""
    from flask_appbuilder import Model

    from .mapping import MATCH_KEYS

    table = Model.metadata.tables.get(table_name)
    if table is None:
        return ()
    found = [c.name for c in table.primary_key.columns]
    for model, keys in MATCH_KEYS.items():
        if model.__table__ is table:
            found += [field for key in keys for field in key.fields]
    found += [c.name for c in table.c if any(fk.column.table.name in _LOOKED_UP_THROUGH for fk in c.foreign_keys)]
    found += _LOOKED_UP_WITHOUT_A_KEY.get(table_name, ())
    return tuple(dict.fromkeys(found))


def refresh(session: Session, table_names) -> list[str]:
    """ANALYZE those of the tables whose committed changes since their last ANALYZE exceed
    autovacuum's threshold (e.g. an earlier import's rows), whole but for the staged rows;
    returns the tables analysed."""
    if not _postgres(session):
        return []
    session.info.pop(_WRITTEN, None)
    rows = session.execute(sa.text(
        "SELECT s.relname, s.n_mod_since_analyze, GREATEST(c.reltuples, 0) FROM pg_stat_user_tables s "
        "JOIN pg_class c ON c.oid = s.relid WHERE s.relname = ANY(:names)"), {"names": list(table_names)}).all()
    stale = [name for name, changed, known in rows if changed > THRESHOLD + SCALE * known]
    for name in stale:
        _analyze(session, name, whole=name not in _ONLY_LOOKED_UP)
    return stale
