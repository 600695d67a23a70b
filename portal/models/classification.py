"""Classification runs (issue 6): each recomputation of ABC, RFM, the turnover × profit matrix
or the relationship type is stored with its parameters, period and counts, one result row per
customer, and — when a run proposes grade changes instead of applying them — the proposals a
custodian accepts or rejects."""
from __future__ import annotations

import datetime as dt
from decimal import Decimal

import sqlalchemy as sa
from flask_appbuilder import Model
from sqlalchemy.orm import Mapped, mapped_column, relationship

from .base import JSONDocument

ABC, RFM, MATRIX, RELATIONSHIP = "abc", "rfm", "matrix", "relationship"
KINDS = (ABC, RFM, MATRIX, RELATIONSHIP)

# What a run did with the grades it computed (only ABC computes grades).
MODE_NONE, MODE_APPLY, MODE_PROPOSE = "none", "apply", "propose"
MODES = (MODE_NONE, MODE_APPLY, MODE_PROPOSE)

PENDING, ACCEPTED, REJECTED, SUPERSEDED = "pending", "accepted", "rejected", "superseded"


def _now() -> dt.datetime:
    return dt.datetime.now().replace(microsecond=0)


class ClassificationRun(Model):
    """One run of one kind: its parameters, the period it looked at, who ran it and when,
    how many customers it classified and how many fell in each class."""

    __tablename__ = "classification_run"
    __table_args__ = (sa.Index("ix_classification_run_kind_ran_at", "kind", "ran_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(sa.String(16), nullable=False)
    parameters: Mapped[dict | None] = mapped_column(JSONDocument)
    period_from: Mapped[dt.date | None] = mapped_column(sa.Date)
    period_to: Mapped[dt.date | None] = mapped_column(sa.Date)
    as_of: Mapped[dt.date | None] = mapped_column(sa.Date)
    mode: Mapped[str] = mapped_column(sa.String(16), nullable=False, default=MODE_NONE)
    ran_at: Mapped[dt.datetime] = mapped_column(sa.DateTime, nullable=False, default=_now)
    ran_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("ab_user.id", ondelete="SET NULL"))
    ran_by_name: Mapped[str | None] = mapped_column(sa.String(100))
    customer_count: Mapped[int] = mapped_column(sa.Integer, nullable=False, default=0, server_default="0")
    counts: Mapped[dict | None] = mapped_column(JSONDocument)   # class → number of customers (+ grade changes)
    duration_ms: Mapped[int | None] = mapped_column(sa.Integer)

    ran_by = relationship("User")


class ClassificationResult(Model):
    """A customer's class (or segment) in one run, with the numbers behind it:
    ABC — value, rank, cumulative share before; matrix/relationship — value (turnover), profit,
    loyalty; RFM — recency (days), frequency (orders), value (amount), the three scores."""

    __tablename__ = "classification_result"
    __table_args__ = (
        sa.UniqueConstraint("run_id", "customer_id", name="uq_classification_result_run_id"),
        sa.Index("ix_classification_result_run_klass", "run_id", "klass"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    run_id: Mapped[int] = mapped_column(sa.ForeignKey("classification_run.id", ondelete="CASCADE"), nullable=False)
    customer_id: Mapped[int] = mapped_column(sa.ForeignKey("customer.id", ondelete="CASCADE"), nullable=False,
                                             index=True)
    klass: Mapped[str] = mapped_column(sa.String(32), nullable=False)
    rank: Mapped[int | None] = mapped_column(sa.Integer)
    value: Mapped[Decimal | None] = mapped_column(sa.Numeric(16, 2))
    profit: Mapped[Decimal | None] = mapped_column(sa.Numeric(16, 2))
    share_before: Mapped[float | None] = mapped_column(sa.Float)
    recency: Mapped[int | None] = mapped_column(sa.Integer)
    frequency: Mapped[int | None] = mapped_column(sa.Integer)
    r_score: Mapped[int | None] = mapped_column(sa.SmallInteger)
    f_score: Mapped[int | None] = mapped_column(sa.SmallInteger)
    m_score: Mapped[int | None] = mapped_column(sa.SmallInteger)
    score: Mapped[str | None] = mapped_column(sa.String(8))
    loyalty: Mapped[int | None] = mapped_column(sa.Integer)
    flags: Mapped[str | None] = mapped_column(sa.String(32))   # ABC: "gold", "drag"

    run = relationship(ClassificationRun)
    customer = relationship("Customer")


class GradeProposal(Model):
    """A grade change an ABC run proposed; the custodian accepts (the card changes, with the
    run as the reason in its history) or rejects it. A newer proposal for the same customer
    supersedes a pending older one."""

    __tablename__ = "grade_proposal"
    __table_args__ = (sa.Index("ix_grade_proposal_status_run", "status", "run_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    run_id: Mapped[int] = mapped_column(sa.ForeignKey("classification_run.id", ondelete="CASCADE"), nullable=False)
    customer_id: Mapped[int] = mapped_column(sa.ForeignKey("customer.id", ondelete="CASCADE"), nullable=False,
                                             index=True)
    old_grade: Mapped[str | None] = mapped_column(sa.String(1))
    new_grade: Mapped[str | None] = mapped_column(sa.String(1))
    status: Mapped[str] = mapped_column(sa.String(16), nullable=False, default=PENDING, server_default=PENDING)
    decided_at: Mapped[dt.datetime | None] = mapped_column(sa.DateTime)
    decided_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("ab_user.id", ondelete="SET NULL"))

    run = relationship(ClassificationRun)
    customer = relationship("Customer")
    decided_by = relationship("User")
