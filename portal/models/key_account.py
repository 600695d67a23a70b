"""Key accounts (大客户): their purchase projects and the competitors present."""
from __future__ import annotations

import datetime as dt
from decimal import Decimal

import sqlalchemy as sa
from flask_appbuilder import Model
from sqlalchemy.orm import Mapped, mapped_column, relationship

from portal.fields import Section, describe, register_model

from . import choices as C
from .base import SYSTEM, Stamped, Versioned

PROJECT_SECTIONS = (
    Section("basic", "采购项目", "Purchase project"),
    Section("decision", "决策与流程", "Decision and procurement"),
    SYSTEM,
)


@register_model(*PROJECT_SECTIONS)
class PurchaseProject(Stamped, Versioned, Model):
    __tablename__ = "purchase_project"
    id: Mapped[int] = mapped_column(primary_key=True)
    customer_id: Mapped[int] = mapped_column(
        sa.ForeignKey("customer.id"), nullable=False, index=True,
        info=describe("客户", "Customer", "relation", "basic", required=True, listed=True, relation="customer"),
    )
    name: Mapped[str] = mapped_column(
        sa.String(200), nullable=False,
        info=describe("项目名称", "Project", "text", "basic", required=True, listed=True, searchable=True, max_length=200),
    )
    plan: Mapped[str | None] = mapped_column(sa.Text, info=describe("采购计划", "Purchase plan", "longtext", "basic"))
    problem: Mapped[str | None] = mapped_column(
        sa.Text, info=describe("要解决的问题", "Problem to solve", "longtext", "basic"),
    )
    budget: Mapped[Decimal | None] = mapped_column(
        sa.Numeric(16, 2), info=describe("预算", "Budget", "money", "basic", listed=True, min_value=0),
    )
    expected_decision_on: Mapped[dt.date | None] = mapped_column(
        sa.Date, info=describe("预计决策日期", "Decision expected on", "date", "basic", listed=True),
    )
    timeline: Mapped[str | None] = mapped_column(
        sa.String(500), info=describe("时间表", "Timeline", "text", "basic", max_length=500),
    )
    status: Mapped[str] = mapped_column(
        sa.String(16), nullable=False, default="planning", server_default="planning",
        info=describe("状态", "Status", "choice", "basic", required=True, listed=True, choices=C.PROJECT_STATUS),
    )
    decision_makers: Mapped[str | None] = mapped_column(
        sa.String(500), info=describe("决策人", "Decision makers", "text", "decision", max_length=500),
    )
    influencers: Mapped[str | None] = mapped_column(
        sa.String(500), info=describe("影响者", "Influencers", "text", "decision", max_length=500),
    )
    procurement_process: Mapped[str | None] = mapped_column(
        sa.Text, info=describe("采购流程", "Procurement process", "longtext", "decision"),
    )

    customer = relationship("Customer", backref="purchase_projects")

    def __str__(self) -> str:
        return self.name


@register_model(Section("basic", "竞争对手", "Competitor"), SYSTEM)
class CompetitorPresence(Stamped, Versioned, Model):
    """A competitor selling to the customer: what, how satisfied the customer is, who sells."""

    __tablename__ = "competitor_presence"
    id: Mapped[int] = mapped_column(primary_key=True)
    customer_id: Mapped[int] = mapped_column(
        sa.ForeignKey("customer.id"), nullable=False, index=True,
        info=describe("客户", "Customer", "relation", "basic", required=True, listed=True, relation="customer"),
    )
    competitor: Mapped[str] = mapped_column(
        sa.String(200), nullable=False,
        info=describe("竞争对手", "Competitor", "text", "basic", required=True, listed=True, searchable=True, max_length=200),
    )
    products: Mapped[str | None] = mapped_column(
        sa.String(500), info=describe("对手产品", "Their products", "text", "basic", listed=True, max_length=500),
    )
    satisfaction: Mapped[str | None] = mapped_column(
        sa.String(16), info=describe("客户满意度", "Customer satisfaction", "choice", "basic", listed=True,
                                     choices=C.SATISFACTION),
    )
    sales_rep: Mapped[str | None] = mapped_column(
        sa.String(100), info=describe("对手业务员", "Their sales rep", "text", "basic", max_length=100),
    )
    relationship_note: Mapped[str | None] = mapped_column(
        sa.Text, info=describe("与客户的关系", "Relationship with the customer", "longtext", "basic"),
    )

    customer = relationship("Customer", backref="competitors")

    def __str__(self) -> str:
        return self.competitor
