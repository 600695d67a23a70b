"""Running a classification and keeping it: one :class:`ClassificationRun` with its
parameters, period, date, who ran it and its counts, one :class:`ClassificationResult` per
customer (bulk inserts), and for ABC the grade (customer.value_grade) either applied to the
cards or proposed for review.

Applied and accepted grade changes are bulk UPDATEs that bump the card's version (an edit
form opened before the run is refused as stale) and write one change-history entry per card
with the run as its source (``classification:<run id>``) — the entry shape of
security/history.py, written in bulk by excel/bulk.py rather than one ORM flush per card.
"""
from __future__ import annotations

import datetime as dt
import time
from collections import Counter

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l
from sqlalchemy.orm import Session

from portal.excel import bulk
from portal.models import ClassificationResult, ClassificationRun, Customer, GradeProposal
from portal.models.classification import (
    ABC, ACCEPTED, KINDS, MATRIX, MODE_APPLY, MODE_NONE, MODE_PROPOSE, MODES, PENDING, REJECTED, RELATIONSHIP, RFM,
    SUPERSEDED,
)

from . import abc, facts, matrix, rfm
from .common import ClassificationError, Period, parse_date, parse_int, parse_share, parse_threshold

CHUNK = 5000
ALL = "all"

# The parameters each kind accepts (anything else is refused by name).
PARAMETERS = {
    ABC: ("a_share", "b_share", "gold_share", "drag_share", "drag_months"),
    MATRIX: ("turnover_threshold", "profit_threshold"),
    RELATIONSHIP: ("loyalty_threshold", "profit_threshold"),
    RFM: ("bins",),
}
KIND_LABELS = {ABC: _l("ABC value classes"), RFM: _l("RFM segments"), MATRIX: _l("Turnover × profit matrix"),
               RELATIONSHIP: _l("Relationship type")}
MODE_LABELS = {MODE_NONE: _l("Stored only"), MODE_APPLY: _l("Grades applied"), MODE_PROPOSE: _l("Grades proposed")}


def source_of(run: ClassificationRun) -> str:
    """The change-history source of the grade changes a run made."""
    return f"classification:{run.id}"


def check_parameters(kind: str, given: dict | None) -> dict:
    """The parameters of ``kind`` as plain JSON values, defaults filled in; an unknown name or
    a bad value raises ClassificationError."""
    given = {k: v for k, v in (given or {}).items() if v not in (None, "")}
    unknown = sorted(set(given) - set(PARAMETERS[kind]))
    if unknown:
        raise ClassificationError(_l("Unknown parameter for %(kind)s: %(names)s.", kind=str(KIND_LABELS[kind]),
                                     names=", ".join(unknown)))
    if kind == ABC:
        a = parse_share(given.get("a_share"), abc.A_SHARE)
        b = parse_share(given.get("b_share"), abc.B_SHARE)
        if a > b:
            raise ClassificationError(_l("The A share cannot be above the B share."))
        return {"a_share": str(a), "b_share": str(b),
                "gold_share": str(parse_share(given.get("gold_share"), abc.GOLD_SHARE)),
                "drag_share": str(parse_share(given.get("drag_share"), abc.DRAG_SHARE)),
                "drag_months": parse_int(given.get("drag_months"), abc.DRAG_MONTHS, 1, 120)}
    if kind == RFM:
        return {"bins": parse_int(given.get("bins"), rfm.BINS, 2, 10)}
    found = {}
    for name in PARAMETERS[kind]:
        value = parse_threshold(given.get(name))
        found[name] = value if value == "median" else str(value)
    return found


def _abc_parameters(p: dict) -> abc.AbcParameters:
    from decimal import Decimal

    return abc.AbcParameters(Decimal(p["a_share"]), Decimal(p["b_share"]), Decimal(p["gold_share"]),
                             Decimal(p["drag_share"]), int(p["drag_months"]))


def _results(kind: str, session: Session, period: Period, as_of: dt.date, p: dict, since, found: facts.Facts
             ) -> tuple[list[dict], dict]:
    """(result rows for classification_result, the thresholds/extra facts to keep with the run),
    from the per-customer numbers of :mod:`.facts` (one pass over the trades for every kind)."""
    if kind == ABC:
        rows = abc.classify(found.abc, period.end, _abc_parameters(p))
        return [{"customer_id": r.customer_id, "klass": r.klass, "rank": r.rank, "value": r.value,
                 "share_before": r.share_before, "flags": r.flags} for r in rows], {}
    if kind == RFM:
        rows = rfm.score(found.rfm, as_of, int(p["bins"]))
        return [{"customer_id": r.customer_id, "klass": r.segment, "recency": r.recency, "frequency": r.frequency,
                 "value": r.monetary, "r_score": r.r, "f_score": r.f, "m_score": r.m, "score": str(r.score)}
                for r in rows], {}
    rows = found.matrix
    if kind == MATRIX:
        used = matrix.place_matrix(rows, p["turnover_threshold"], p["profit_threshold"])
    else:
        used = matrix.place_relationship(rows, p["loyalty_threshold"], p["profit_threshold"])
    return [{"customer_id": r.customer_id, "klass": r.klass, "value": r.turnover, "profit": r.profit,
             "loyalty": r.loyalty} for r in rows], {"thresholds": used}


def run(session: Session, kind: str, *, start=None, end=None, on=None, parameters: dict | None = None,
        mode: str = MODE_NONE, user_id: int | None = None, username: str | None = None,
        today: dt.date | None = None) -> list[ClassificationRun]:
    """Run ``kind`` (or every kind for "all") over every customer and store it.

    ``start``/``end`` bound the period of ABC, matrix and relationship (default: the 12 months
    ending on ``end``, which defaults to ``on`` or today); ``on`` is RFM's analysis date
    (default: ``end`` or today; with ``start`` given, only orders from then count). ``mode``
    is what to do with the ABC grade: "none", "apply" or "propose" (other kinds store only).
    The caller commits. Returns the runs in order."""
    if kind != ALL and kind not in KINDS:
        raise ClassificationError(_l("Unknown classification: %(kind)s.", kind=str(kind)[:40]))
    if mode not in MODES:
        raise ClassificationError(_l("Unknown mode: %(mode)s.", mode=str(mode)[:40]))
    start, end, on = parse_date(start), parse_date(end), parse_date(on)
    today = today or dt.date.today()
    kinds = KINDS if kind == ALL else (kind,)
    given = parameters or {}
    if kind == ALL:
        checked = {k: check_parameters(k, {n: v for n, v in given.items() if n in PARAMETERS[k]}) for k in kinds}
        unknown = sorted(set(given) - {n for names in PARAMETERS.values() for n in names})
        if unknown:
            raise ClassificationError(_l("Unknown parameter: %(names)s.", names=", ".join(unknown)))
    else:
        checked = {kind: check_parameters(kind, given)}
    period = Period.of(start, end or on, today)
    as_of = on or end or today
    began = time.perf_counter()
    found = facts.gather(session, period, as_of, start)
    if MATRIX in kinds or RELATIONSHIP in kinds:
        found.matrix = matrix.figures(session, period, found.turnover)
    shared_ms = (time.perf_counter() - began) * 1000 / len(kinds)   # the one pass, shared by the kinds
    return [_run_one(session, k, period, as_of, checked[k], start, mode if k == ABC else MODE_NONE, user_id, username,
                     found, shared_ms) for k in kinds]


def _run_one(session, kind, period, as_of, params, since, mode, user_id, username, found, shared_ms
             ) -> ClassificationRun:
    began = time.perf_counter() - shared_ms / 1000
    rows, extra = _results(kind, session, period, as_of, params, since, found)
    counts = dict(Counter(r["klass"] for r in rows))
    if kind == ABC:
        counts["gold"] = sum(1 for r in rows if r["flags"] and "gold" in r["flags"])
        counts["drag"] = sum(1 for r in rows if r["flags"] and "drag" in r["flags"])
    record = ClassificationRun(
        kind=kind, parameters={**params, **extra}, mode=mode, ran_by_id=user_id, ran_by_name=username,
        period_from=None if kind == RFM else period.start, period_to=None if kind == RFM else period.end,
        as_of=as_of if kind == RFM else period.end, customer_count=len(rows), counts=dict(counts))
    if kind == RFM and since is not None:
        record.period_from, record.period_to = since, as_of
    session.add(record)
    session.flush()
    _store(session, record, rows)
    if mode == MODE_APPLY:
        counts["changed"] = apply_grades(session, record, user_id, username)
    elif mode == MODE_PROPOSE:
        counts["proposed"] = propose_grades(session, record)
    record.counts = dict(counts)
    record.duration_ms = int((time.perf_counter() - began) * 1000)
    session.flush()
    return record


_RESULT_KEYS = ("customer_id", "klass", "rank", "value", "profit", "share_before", "recency", "frequency",
                "r_score", "f_score", "m_score", "score", "loyalty", "flags")


def _store(session: Session, record: ClassificationRun, rows: list[dict]) -> None:
    """The rows in customer order (the indexes on customer_id and run_id grow at their ends,
    not at random places), with only the columns the kind fills (the others stay NULL)."""
    table = ClassificationResult.__table__
    if not rows:
        return
    keys = [k for k in _RESULT_KEYS if k in rows[0]]
    run_id = record.id
    # One COPY (PostgreSQL) / executemany for the whole run: chunks only added statements.
    bulk.executemany(session, table, [{"run_id": run_id, **{k: r[k] for k in keys}}
                                      for r in sorted(rows, key=lambda r: r["customer_id"])])


def _grade_differences(session: Session, record: ClassificationRun):
    """(customer id, version, current grade, new grade) where the run's class differs from the card."""
    c, r = Customer.__table__, ClassificationResult.__table__
    query = (sa.select(c.c.id, c.c.version, c.c.value_grade, r.c.klass)
             .select_from(r.join(c, c.c.id == r.c.customer_id))
             .where(r.c.run_id == record.id,
                    sa.or_(c.c.value_grade.is_(None), c.c.value_grade != r.c.klass))
             .order_by(c.c.id))
    return session.execute(query).all()


def _write_grades(session: Session, record: ClassificationRun, changes, user_id, username) -> int:
    """changes: (customer id, version, old grade, new grade). One bulk UPDATE per chunk and the
    history entries naming the run."""
    history = bulk.History(session, user_id, username, source_of(record))
    items = []
    for cid, version, old, new in changes:
        items.append((cid, version, {"value_grade": new}))
        history.add(Customer, cid, "update", {"value_grade": {"old": old, "new": new}}, customer_id=cid)
    try:
        written = bulk.update(session, Customer, items, user_id) if items else 0
    except bulk.RecordsChanged:
        raise ClassificationError(_l("Some cards were changed while the grades were written; run it again.")) from None
    history.flush()
    session.expire_all()  # cards loaded before the run are stale now
    return written


def apply_grades(session: Session, record: ClassificationRun, user_id=None, username=None) -> int:
    """Set every classified card's grade to its ABC class; returns the number changed."""
    if record.kind != ABC:
        raise ClassificationError(_l("Only an ABC run sets grades."))
    return _write_grades(session, record, _grade_differences(session, record), user_id, username)


def propose_grades(session: Session, record: ClassificationRun) -> int:
    """Keep the grade changes of an ABC run as pending proposals; pending proposals of earlier
    runs are superseded (the new run has looked at every customer again)."""
    if record.kind != ABC:
        raise ClassificationError(_l("Only an ABC run sets grades."))
    table = GradeProposal.__table__
    session.execute(sa.update(table).where(table.c.status == PENDING, table.c.run_id != record.id)
                    .values(status=SUPERSEDED))
    rows = [{"run_id": record.id, "customer_id": cid, "old_grade": old, "new_grade": new, "status": PENDING,
             "decided_at": None, "decided_by_id": None}
            for cid, _version, old, new in _grade_differences(session, record)]
    for begin in range(0, len(rows), CHUNK):
        bulk.executemany(session, table, rows[begin:begin + CHUNK])
    return len(rows)


def _pending(session: Session, ids=None, run_id=None, condition=None):
    p, c = GradeProposal.__table__, Customer.__table__
    query = (sa.select(p.c.id, p.c.run_id, c.c.id, c.c.version, c.c.value_grade, p.c.new_grade)
             .select_from(p.join(c, c.c.id == p.c.customer_id)).where(p.c.status == PENDING))
    if ids is not None:
        query = query.where(p.c.id.in_(list(ids)))
    if run_id is not None:
        query = query.where(p.c.run_id == run_id)
    if condition is not None:
        query = query.where(condition)
    return session.execute(query).all()


def _decide(session: Session, proposal_ids: list[int], status: str, user_id) -> None:
    table = GradeProposal.__table__
    at = dt.datetime.now().replace(microsecond=0)
    for begin in range(0, len(proposal_ids), CHUNK):
        session.execute(sa.update(table).where(table.c.id.in_(proposal_ids[begin:begin + CHUNK]))
                        .values(status=status, decided_at=at, decided_by_id=user_id))


def accept(session: Session, *, ids=None, run_id=None, condition=None, user_id=None, username=None) -> int:
    """Accept pending proposals (those ``ids``, or all of ``run_id``, or all): each card gets
    its new grade with the proposing run in its history. Returns the number accepted."""
    found = _pending(session, ids, run_id, condition)
    by_run: dict[int, list] = {}
    for _pid, rid, cid, version, current, new in found:
        if current != new:
            by_run.setdefault(rid, []).append((cid, version, current, new))
    for rid, changes in by_run.items():
        _write_grades(session, session.get(ClassificationRun, rid), changes, user_id, username)
    _decide(session, [row[0] for row in found], ACCEPTED, user_id)
    return len(found)


def reject(session: Session, *, ids=None, run_id=None, condition=None, user_id=None) -> int:
    """Reject pending proposals; the cards keep their grade. Returns the number rejected."""
    found = _pending(session, ids, run_id, condition)
    _decide(session, [row[0] for row in found], REJECTED, user_id)
    return len(found)

