"""A unique text value is unique whatever its case: KH202600001 and kh202600001 are one
customer number, as the import's match key already treats them, and one credit code.

The database's unique indexes compare exactly, so the holders of a value are found through
them by asking for each of the value's spellings: codes hold few letters (KH202600001 has
four spellings, a credit code such as 91310000MA1FL3KX6B 128). A value with more letters than
:data:`MAX_SPELLINGS` allows, or the values past :data:`SPELLING_BUDGET` spellings in one
call, are compared case-folded, which reads the table. The form, the grid, the API,
numbering and an import's undo ask here for a few values; an import's dry run asks for
thousands a chunk and keeps its own way (importer.Judge._cases), which learns once which
cases the column holds at all.
"""
from __future__ import annotations

import itertools
from collections.abc import Iterable

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l
from sqlalchemy.orm import Session

MAX_SPELLINGS = 256        # 8 letters: 256 index lookups still take a few milliseconds
SPELLING_BUDGET = 20_000   # an undo of thousands of credit codes reads the table instead
CHUNK = 500


def taken_message(label, value) -> str:
    return str(_l("%(label)s %(value)s is already used by another record.", label=label, value=value))


def folded(value):
    """A value as uniqueness compares it: text trimmed and case-folded."""
    return value.strip().casefold() if isinstance(value, str) else value


def spellings(value: str) -> list[str] | None:
    """Every way of writing ``value``'s letters in lower or upper case (the value itself
    among them); None when there are more than MAX_SPELLINGS."""
    choices, count = [], 1
    for c in value:
        # Counted as it goes: a value of a megabyte (a bad form post) stops at its 9th letter.
        options = dict.fromkeys((c.lower(), c.upper(), c))
        count *= len(options)
        if count > MAX_SPELLINGS:
            return None
        choices.append(options)
    return ["".join(p) for p in itertools.product(*choices)]


def holders(session: Session, model, name: str, values: Iterable) -> dict[object, dict[int, object]]:
    """Case-folded value → {id: stored value} of the records whose column ``name`` holds
    one of ``values`` in any case (exactly, for values that are not text)."""
    table = model.__table__
    column, pk = table.c[name], table.c.id
    exact, folded_only = set(), set()
    for value in values:
        if value is None or value == "":
            continue
        if not isinstance(value, str) or not isinstance(column.type, sa.String):
            exact.add(value)
            continue
        spelled = spellings(value) if len(exact) < SPELLING_BUDGET else None
        if spelled is None:
            folded_only.add(folded(value))
        else:
            exact.update(spelled)
    found: dict[object, dict[int, object]] = {}

    def keep(rows) -> None:
        for holder, stored in rows:
            found.setdefault(folded(stored), {})[holder] = stored

    ordered = sorted(exact, key=str)
    for start in range(0, len(ordered), CHUNK):
        keep(session.execute(sa.select(pk, column).where(column.in_(ordered[start:start + CHUNK]))))
    if folded_only:
        # SQL's lower() finds the candidates (SQLite's folds ASCII only); Python's casefold decides.
        lowered = sorted({v.lower() for v in folded_only})
        for start in range(0, len(lowered), CHUNK):
            rows = session.execute(sa.select(pk, column).where(sa.func.lower(column).in_(lowered[start:start + CHUNK])))
            keep((h, s) for h, s in rows if folded(s) in folded_only)
    return found


def clash(session: Session, model, name: str, label, value, own_id=None) -> str | None:
    """The message when a record other than ``own_id`` holds ``value`` of the unique column
    ``name`` in any case; None when none does, when the column is not unique, or when the
    record keeps the value it has (a twin in another case from before does not block an
    edit of its other fields)."""
    column = model.__table__.c.get(name)
    if value is None or value == "" or column is None or not column.unique:
        return None
    if own_id is not None:
        with session.no_autoflush:
            if session.scalar(sa.select(column).where(model.__table__.c.id == own_id)) == value:
                return None
    found = other_holder(session, model, name, value, own_id)
    return taken_message(label, found[1]) if found is not None else None


def other_holder(session: Session, model, name: str, value, own_id=None):
    """(id, stored value) of a record other than ``own_id`` holding ``value`` in any case, or None."""
    with session.no_autoflush:
        held = holders(session, model, name, [value]).get(folded(value), {})
    for holder, stored in sorted(held.items()):
        if holder != own_id:
            return holder, stored
    return None
