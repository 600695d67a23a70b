"""Customer and transaction numbers from a configurable pattern, e.g. ``KH{yyyy}{seq:05d}``.

``{yyyy} {yy} {mm} {dd}`` are the date; ``{seq:0Nd}`` is a counter kept per rendered
prefix in ``number_sequence``, so ``KH{yyyy}{seq:05d}`` restarts at 00001 every year.
The counter is advanced with one ``UPDATE … RETURNING`` inside the caller's transaction,
so two clerks saving at once cannot receive the same number.
"""
from __future__ import annotations

import datetime as dt
import re

import sqlalchemy as sa
from flask import current_app, has_app_context
from sqlalchemy.orm import Session

from portal.models import Customer, NumberSequence, Transaction

from . import unique_values

_SEQ = re.compile(r"\{seq(?::0?(\d+)d)?\}")
DEFAULT_PATTERNS = {Customer: "KH{yyyy}{seq:05d}", Transaction: "JY{yyyy}{mm}{seq:05d}"}
CONFIG_KEYS = {Customer: "CUSTOMER_NUMBER_PATTERN", Transaction: "TRANSACTION_NUMBER_PATTERN"}


class PatternError(ValueError):
    pass


def split_pattern(pattern: str, today: dt.date) -> tuple[str, int, str]:
    """(prefix, seq width, suffix) of a pattern rendered for ``today``."""
    matches = list(_SEQ.finditer(pattern))
    if len(matches) != 1:
        raise PatternError(f"number pattern needs exactly one {{seq}}: {pattern!r}")
    match = matches[0]
    dates = {"yyyy": f"{today.year:04d}", "yy": f"{today.year % 100:02d}", "mm": f"{today.month:02d}",
             "dd": f"{today.day:02d}"}

    def render(text: str) -> str:
        try:
            return text.format(**dates)
        except (KeyError, IndexError, ValueError) as exc:
            raise PatternError(f"unknown placeholder in number pattern {pattern!r}: {exc}") from None

    return render(pattern[: match.start()]), int(match.group(1) or 1), render(pattern[match.end():])


def next_value(session: Session, prefix: str) -> int:
    """Advance and return the counter of ``prefix`` (created at 1)."""
    table = NumberSequence.__table__
    stmt = (sa.update(table).where(table.c.prefix == prefix)
            .values(last_value=table.c.last_value + 1).returning(table.c.last_value))
    value = session.execute(stmt).scalar()
    if value is not None:
        return value
    dialect = session.get_bind().dialect.name
    if dialect == "postgresql":
        from sqlalchemy.dialects.postgresql import insert
    else:
        from sqlalchemy.dialects.sqlite import insert
    session.execute(insert(table).values(prefix=prefix, last_value=0).on_conflict_do_nothing())
    return session.execute(stmt).scalar()


def pattern_for(model: type) -> str:
    if has_app_context():
        return current_app.config.get(CONFIG_KEYS[model], DEFAULT_PATTERNS[model])
    return DEFAULT_PATTERNS[model]


def next_number(session: Session, model: type, today: dt.date | None = None) -> str:
    """A number for a new ``model`` row that no existing row uses."""
    prefix, width, suffix = split_pattern(pattern_for(model), today or dt.date.today())
    with session.no_autoflush:
        while True:
            number = f"{prefix}{next_value(session, prefix + '|' + suffix):0{width}d}{suffix}"
            # Unused in any case: kh202600007 typed on a card takes KH202600007 too.
            if unique_values.other_holder(session, model, "number", number) is None:
                return number


def assign_numbers(session: Session) -> None:
    """Give new customers and transactions without a number one from the pattern."""
    for obj in list(session.new):
        if isinstance(obj, (Customer, Transaction)) and not obj.number:
            obj.number = next_number(session, type(obj))
