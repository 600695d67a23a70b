"""Finding the rows a relation column may point at, by text and within reach: a few
matches for a type-ahead editor, or the one row a label pasted from Excel names."""
from __future__ import annotations

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l
from sqlalchemy.orm import Session

from portal.fields import FieldSpec, FieldType
from portal.security import scope
from portal.services.pinyin import looks_like_pinyin

from .query import GridRequestError, spec_for
from .search import escape_like

LIMIT = 20
NAME_COLUMNS = ("name", "code", "number", "username", "first_name", "last_name")
EXACT_COLUMNS = ("name", "name_en", "code", "number", "username")


def related_model(model, spec: FieldSpec) -> type:
    """The model a relation points at: through its relationship (``relation``) for a foreign
    key, the field's own relationship for a many-to-many (tags)."""
    return getattr(model, spec.relation or spec.name).property.mapper.class_


def label_of(row) -> str:
    return row.get_full_name() if hasattr(row, "get_full_name") else str(row)


def _candidates(related):
    """The related rows one may choose: within the user's scope, active ones only."""
    query = scope.scoped(sa.select(related), related)
    if hasattr(related, "active"):
        query = query.where(related.active.is_(True))
    return query


def lookup(session: Session, model, field: str, q: str, limit: int = LIMIT) -> list[dict]:
    """[{id, label}] of the rows ``field`` may point at whose name matches ``q``."""
    spec = spec_for(model, field)
    if spec.type != FieldType.RELATION:
        raise GridRequestError(_l("%(label)s: there is no list to choose from.", label=spec.label))
    related = related_model(model, spec)
    query = _candidates(related)
    q = (q or "").strip()
    if q:
        like = f"%{escape_like(q)}%"
        prefix = f"{escape_like(q.lower())}%"
        names = [c for c in NAME_COLUMNS if hasattr(related, c)]
        conditions = [getattr(related, c).ilike(like, escape="\\") for c in names]
        if looks_like_pinyin(q) and hasattr(related, "name_pinyin"):
            conditions += [related.name_pinyin.like(prefix, escape="\\"), related.name_initials.like(prefix, escape="\\")]
        query = query.where(sa.or_(*conditions))
    order = getattr(related, "sort_order", None) or getattr(related, "number", None) or related.id
    rows = session.scalars(query.order_by(order, related.id).limit(limit)).all()
    return [{"id": row.id, "label": label_of(row)} for row in rows]


def _names(row) -> set[str]:
    names = {label_of(row), str(row)}
    names.update(str(v) for c in EXACT_COLUMNS if (v := getattr(row, c, None)))
    return names


def ids_labelled(session: Session, related, text: str) -> list[int]:
    """Ids of the choosable rows that ``text`` names exactly: by their label as the grid
    shows it (``KH202600001 杭州某某公司``, 李娜), name, code, number, username or full name."""
    text = text.strip()
    if not text:
        return []
    words = [text, text.split(" ", 1)[0]]  # "number name" labels: the number finds the row
    conditions = [getattr(related, c).in_(words) for c in EXACT_COLUMNS if hasattr(related, c)]
    if hasattr(related, "first_name"):  # a user's full name, in either order
        conditions += [related.last_name + related.first_name == text,
                       related.first_name + " " + related.last_name == text]
    rows = session.scalars(_candidates(related).where(sa.or_(*conditions)).limit(50)).all()
    return sorted({row.id for row in rows if text in _names(row)})
