"""Business rules with no Flask in them. :func:`install` wires the rules that must hold on
every write path (forms, API, import, seeds) to the ORM session."""
from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.orm import Session

_installed = False


def install() -> None:
    """Register the flush hooks once per process."""
    global _installed
    if _installed:
        return
    from . import lifecycle, numbering, pinyin, trade

    def before_flush(session: Session, flush_context, instances) -> None:
        numbering.assign_numbers(session)
        pinyin.fill_keys(session)
        trade.recalculate_amounts(session)
        lifecycle.open_new_customers(session)
        lifecycle.apply_new_transactions(session)

    sa.event.listen(Session, "before_flush", before_flush)
    _installed = True
