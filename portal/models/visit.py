"""The visit and call log (客户访问记录), what salespeople file as daily/monthly reports."""
from __future__ import annotations

import datetime as dt
from decimal import Decimal

import sqlalchemy as sa
from flask_appbuilder import Model
from sqlalchemy.orm import Mapped, mapped_column, relationship

from portal.fields import Section, describe, register_model

from . import choices as C
from .base import SYSTEM, Stamped, Versioned

VISIT_SECTIONS = (
    Section("basic", "访问信息", "Contact"),
    Section("followup", "后续安排", "Follow-up"),
    SYSTEM,
)


@register_model(*VISIT_SECTIONS)
class Visit(Stamped, Versioned, Model):
    __tablename__ = "visit"
    __table_args__ = (sa.Index("ix_visit_customer_date", "customer_id", "visited_on"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    customer_id: Mapped[int] = mapped_column(
        sa.ForeignKey("customer.id"), nullable=False,
        info=describe("客户", "Customer", "relation", "basic", required=True, listed=True, relation="customer",
                      aliases=("客户名称", "客户编号", "客户编码")),
    )
    contact_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("contact.id", ondelete="SET NULL"),
        info=describe("联系人", "Contact", "relation", "basic", listed=True, relation="contact"),
    )
    visitor_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("ab_user.id"), index=True,
        info=describe("访问人", "By", "relation", "basic", listed=True, relation="visitor", aliases=("业务员", "拜访人")),
    )
    visited_on: Mapped[dt.date] = mapped_column(
        sa.Date, nullable=False,
        info=describe("日期", "Date", "date", "basic", required=True, listed=True, not_future=True,
                      aliases=("访问日期", "拜访日期")),
    )
    method: Mapped[str] = mapped_column(
        sa.String(16), nullable=False,
        info=describe("方式", "Method", "choice", "basic", required=True, listed=True, choices=C.CONTACT_METHOD,
                      aliases=("访问方式", "拜访方式", "联系方式")),
    )
    purpose: Mapped[str | None] = mapped_column(
        sa.String(200), info=describe("目的", "Purpose", "text", "basic", listed=True, max_length=200, aliases=("访问目的", "拜访目的")),
    )
    content: Mapped[str | None] = mapped_column(
        sa.Text, info=describe("内容", "Content", "longtext", "basic", aliases=("访问内容", "拜访内容", "洽谈内容")),
    )
    cost: Mapped[Decimal | None] = mapped_column(
        sa.Numeric(12, 2), info=describe("费用", "Cost", "money", "basic", min_value=0, aliases=("访问费用",)),
    )
    next_step: Mapped[str | None] = mapped_column(
        sa.String(500), info=describe("下一步", "Next step", "text", "followup", max_length=500, aliases=("后续行动",)),
    )
    next_date: Mapped[dt.date | None] = mapped_column(
        sa.Date, info=describe("下次联系日期", "Next contact on", "date", "followup", listed=True),
    )

    customer = relationship("Customer", backref="visits")
    contact = relationship("Contact")
    visitor = relationship("User", foreign_keys=[visitor_id])

    def __str__(self) -> str:
        return f"{self.visited_on} {self.purpose or ''}".strip()
