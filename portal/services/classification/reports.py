"""Reading stored runs for the pages, scoped: ``condition`` is a WHERE condition on Customer
(security.scope.customer_condition(user)) or None for all. A salesperson's ABC page counts
only their own customers of the run (the run itself classed everyone)."""
from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.orm import Session

from portal.models import ClassificationResult, ClassificationRun, Customer, GradeProposal, User
from portal.models.classification import ABC, MATRIX, PENDING, RELATIONSHIP, RFM

from . import abc, matrix, rfm
from .common import money

CLASS_ORDER = {ABC: list(abc.CLASSES), RFM: rfm.SEGMENT_ORDER, MATRIX: list(matrix.MATRIX_QUADRANTS),
               RELATIONSHIP: list(matrix.RELATIONSHIP_TYPES)}


def class_label(kind: str, klass: str) -> str:
    if kind == RFM:
        return str(rfm.SEGMENT_LABELS.get(klass, klass))
    if kind == MATRIX:
        return str(matrix.MATRIX_LABELS.get(klass, klass))
    if kind == RELATIONSHIP:
        return str(matrix.RELATIONSHIP_LABELS.get(klass, klass))
    return klass


def class_focus(kind: str, klass: str) -> str | None:
    focus = {RFM: rfm.SEGMENT_FOCUS, MATRIX: matrix.MATRIX_FOCUS, RELATIONSHIP: matrix.RELATIONSHIP_FOCUS}.get(kind)
    return None if focus is None or klass not in focus else str(focus[klass])


def runs(session: Session, kind: str | None = None, limit: int = 50) -> list[ClassificationRun]:
    query = sa.select(ClassificationRun).order_by(ClassificationRun.ran_at.desc(), ClassificationRun.id.desc())
    if kind:
        query = query.where(ClassificationRun.kind == kind)
    return list(session.scalars(query.limit(limit)))


def latest_run(session: Session, kind: str) -> ClassificationRun | None:
    found = runs(session, kind, 1)
    return found[0] if found else None


def _scoped(query, condition):
    if condition is None:
        return query
    return query.where(ClassificationResult.customer_id.in_(sa.select(Customer.id).where(condition)))


def summary(session: Session, run: ClassificationRun, condition=None) -> list[dict]:
    """Per class of the run (in the kind's order, empty classes included): customers, the sum
    of value (ABC/RFM: amount; matrix/relationship: turnover), the sum of profit, its share of
    the visible total, and the work focus. One GROUP BY."""
    r = ClassificationResult
    query = _scoped(sa.select(r.klass, sa.func.count(), sa.func.sum(r.value), sa.func.sum(r.profit),
                              sa.func.sum(r.frequency))
                    .where(r.run_id == run.id).group_by(r.klass), condition)
    found = {k: (n, money(v), money(p) if p is not None else None, f) for k, n, v, p, f in session.execute(query)}
    total = sum((v for _n, v, _p, _f in found.values() if v > 0), money(0))
    order = CLASS_ORDER[run.kind] + sorted(set(found) - set(CLASS_ORDER[run.kind]))
    rows = []
    for klass in order:
        if klass == "unrated" and klass not in found:
            continue
        n, value, profit, orders = found.get(klass, (0, money(0), None, None))
        rows.append({"klass": klass, "label": class_label(run.kind, klass), "customers": n, "value": value,
                     "profit": profit, "orders": int(orders) if orders is not None else None,
                     "share": float(value / total) if total > 0 and value > 0 else 0.0,
                     "focus": class_focus(run.kind, klass)})
    return rows


def flag_counts(session: Session, run: ClassificationRun, condition=None) -> dict:
    """ABC: the visible gold and drag customers of the run."""
    r = ClassificationResult
    counts = {}
    for flag in ("gold", "drag"):
        query = _scoped(sa.select(sa.func.count()).select_from(r)
                        .where(r.run_id == run.id, r.flags.like(f"%{flag}%")), condition)
        counts[flag] = session.scalar(query)
    return counts


def members_query(run_id: int, klass: str | None = None, flag: str | None = None, condition=None):
    """The customers of a run (of one class, or flagged gold/drag), with their numbers — the
    drill-down behind a bar of the chart."""
    r, c = ClassificationResult, Customer
    query = (sa.select(c.id, c.number, c.name, c.value_grade, User.username.label("owner"), r.klass, r.rank,
                       r.value, r.profit, r.share_before, r.recency, r.frequency, r.score, r.loyalty, r.flags)
             .select_from(r).join(c, c.id == r.customer_id).outerjoin(User, User.id == c.owner_id)
             .where(r.run_id == run_id))
    if klass is not None:
        query = query.where(r.klass == klass)
    if flag is not None:
        query = query.where(r.flags.like(f"%{flag}%"))
    if condition is not None:
        query = query.where(condition)
    return query.order_by(r.value.desc(), c.id)


def members(session: Session, run_id: int, klass: str | None = None, flag: str | None = None, condition=None,
            limit: int | None = 500, offset: int = 0) -> list[dict]:
    query = members_query(run_id, klass, flag, condition)
    if limit is not None:
        query = query.limit(limit).offset(offset)
    return [dict(row) for row in session.execute(query).mappings()]


def member_count(session: Session, run_id: int, klass: str | None = None, flag: str | None = None,
                 condition=None) -> int:
    query = members_query(run_id, klass, flag, condition).order_by(None)
    return session.scalar(sa.select(sa.func.count()).select_from(query.subquery()))


def member_ids_query(run_id: int, klass: str | None = None, flag: str | None = None):
    """SELECT customer_id of a run's class (unscoped: the caller's scope applies to Customer)."""
    r = ClassificationResult
    query = sa.select(r.customer_id).where(r.run_id == run_id)
    if klass is not None:
        query = query.where(r.klass == klass)
    if flag is not None:
        query = query.where(r.flags.like(f"%{flag}%"))
    return query


def proposals(session: Session, status: str = PENDING, run_id: int | None = None, condition=None,
              limit: int = 500) -> list[dict]:
    p, c = GradeProposal, Customer
    query = (sa.select(p.id, p.run_id, p.old_grade, p.new_grade, p.status, c.id.label("customer_id"), c.number,
                       c.name, c.value_grade.label("current_grade"))
             .select_from(p).join(c, c.id == p.customer_id).where(p.status == status))
    if run_id is not None:
        query = query.where(p.run_id == run_id)
    if condition is not None:
        query = query.where(condition)
    return [dict(row) for row in session.execute(query.order_by(p.run_id.desc(), c.number).limit(limit)).mappings()]


def proposal_count(session: Session, status: str = PENDING, condition=None) -> int:
    p = GradeProposal
    query = sa.select(sa.func.count()).select_from(p).where(p.status == status)
    if condition is not None:
        query = query.where(p.customer_id.in_(sa.select(Customer.id).where(condition)))
    return session.scalar(query)
