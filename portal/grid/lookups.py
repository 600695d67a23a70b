"""Type-ahead choices for a grid's relation editors: a few matching rows, within reach."""
from __future__ import annotations

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l
from sqlalchemy.orm import Session

from portal.fields import FieldType
from portal.security import scope
from portal.services.pinyin import looks_like_pinyin

from .rows import GridRequestError, _escape_like, _spec_for

LIMIT = 20


def lookup(session: Session, model, field: str, q: str, limit: int = LIMIT) -> list[dict]:
    """[{id, label}] of the rows ``field`` may point at whose name matches ``q``."""
    spec = _spec_for(model, field)
    if spec.type != FieldType.RELATION:
        raise GridRequestError(_l("%(label)s: there is no list to choose from.", label=spec.label))
    related = getattr(model, spec.relation).property.mapper.class_
    query = scope.scoped(sa.select(related), related)
    if hasattr(related, "active"):
        query = query.where(related.active.is_(True))
    q = (q or "").strip()
    if q:
        like = f"%{_escape_like(q)}%"
        prefix = f"{_escape_like(q.lower())}%"
        names = [c for c in ("name", "code", "number", "username", "first_name", "last_name") if hasattr(related, c)]
        conditions = [getattr(related, c).ilike(like, escape="\\") for c in names]
        if looks_like_pinyin(q) and hasattr(related, "name_pinyin"):
            conditions += [related.name_pinyin.like(prefix, escape="\\"), related.name_initials.like(prefix, escape="\\")]
        query = query.where(sa.or_(*conditions))
    order = getattr(related, "sort_order", None) or getattr(related, "number", None) or related.id
    rows = session.scalars(query.order_by(order, related.id).limit(limit)).all()
    return [{"id": row.id, "label": row.get_full_name() if hasattr(row, "get_full_name") else str(row)} for row in rows]
