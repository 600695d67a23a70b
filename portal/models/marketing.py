"""Promotions (促销) and the customers they were aimed at, with response and cost."""
from __future__ import annotations

import datetime as dt
from decimal import Decimal

import sqlalchemy as sa
from flask_appbuilder import Model
from sqlalchemy.orm import Mapped, mapped_column, relationship

from portal.fields import Section, describe, register_model

from . import choices as C
from .base import SYSTEM, JSONDocument, Stamped, Versioned

PROMOTION_SECTIONS = (
    Section("basic", "促销信息", "Promotion"),
    Section("cost", "费用", "Cost"),
    SYSTEM,
)


@register_model(*PROMOTION_SECTIONS)
class Promotion(Stamped, Versioned, Model):
    __tablename__ = "promotion"
    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(
        sa.String(200), nullable=False,
        info=describe("促销名称", "Name", "text", "basic", required=True, listed=True, searchable=True, max_length=200,
                      aliases=("活动名称", "名称")),
    )
    promotion_type: Mapped[str] = mapped_column(
        sa.String(16), nullable=False,
        info=describe("促销类型", "Type", "choice", "basic", required=True, listed=True, choices=C.PROMOTION_TYPE,
                      aliases=("类型", "方式")),
    )
    starts_at: Mapped[dt.datetime] = mapped_column(
        sa.DateTime, nullable=False,
        info=describe("开始时间", "Starts at", "datetime", "basic", required=True, listed=True, aliases=("日期", "时间")),
    )
    ends_at: Mapped[dt.datetime | None] = mapped_column(
        sa.DateTime, info=describe("结束时间", "Ends at", "datetime", "basic"),
    )
    intent: Mapped[str | None] = mapped_column(
        sa.String(500), info=describe("促销意图", "Intent", "text", "basic", max_length=500, aliases=("目的",)),
    )
    fixed_cost: Mapped[Decimal | None] = mapped_column(
        sa.Numeric(14, 2),
        info=describe("固定成本", "Fixed cost", "money", "cost", listed=True, min_value=0, aliases=("固定费用",)),
    )
    variable_cost_per_target: Mapped[Decimal | None] = mapped_column(
        sa.Numeric(12, 2),
        info=describe("单位变动成本", "Variable cost per target", "money", "cost", min_value=0,
                      aliases=("变动成本",), help_zh="每个目标客户的成本，如邮费、话费",
                      help_en="Cost per target, e.g. postage or call charges"),
    )
    owner_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("ab_user.id"),
        info=describe("负责人", "Owner", "relation", "basic", listed=True, relation="owner"),
    )
    note: Mapped[str | None] = mapped_column(sa.Text, info=describe("备注", "Notes", "longtext", "basic"))
    # A campaign list's making (services/mailing.py): the channel, the saved view or criteria
    # it was selected by, and how many customers were left out and why. Written once by the
    # system, so not a field of the card.
    audience: Mapped[dict | None] = mapped_column(JSONDocument)

    owner = relationship("User", foreign_keys=[owner_id])
    targets = relationship("PromotionTarget", back_populates="promotion", cascade="all, delete-orphan")

    def __str__(self) -> str:
        return self.name


@register_model(Section("basic", "促销对象", "Target"), SYSTEM)
class PromotionTarget(Stamped, Model):
    """A customer (and contact) a promotion was aimed at, and how they responded."""

    __tablename__ = "promotion_target"
    __table_args__ = (sa.UniqueConstraint("promotion_id", "customer_id", "contact_id", name="uq_promotion_target"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    promotion_id: Mapped[int] = mapped_column(
        sa.ForeignKey("promotion.id", ondelete="CASCADE"), nullable=False, index=True,
        info=describe("促销", "Promotion", "relation", "basic", required=True, listed=True, relation="promotion"),
    )
    customer_id: Mapped[int] = mapped_column(
        sa.ForeignKey("customer.id"), nullable=False, index=True,
        info=describe("客户", "Customer", "relation", "basic", required=True, listed=True, relation="customer"),
    )
    contact_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("contact.id", ondelete="SET NULL"),
        info=describe("联系人", "Contact", "relation", "basic", listed=True, relation="contact"),
    )
    response: Mapped[str] = mapped_column(
        sa.String(16), nullable=False, default="none", server_default="none",
        info=describe("客户反应", "Response", "choice", "basic", required=True, listed=True,
                      choices=C.PROMOTION_RESPONSE, aliases=("反应", "回应")),
    )
    responded_on: Mapped[dt.date | None] = mapped_column(
        sa.Date, info=describe("回应日期", "Responded on", "date", "basic", listed=True, not_future=True),
    )
    variable_cost: Mapped[Decimal | None] = mapped_column(
        sa.Numeric(12, 2),
        info=describe("变动成本", "Variable cost", "money", "basic", listed=True, min_value=0),
    )
    note: Mapped[str | None] = mapped_column(sa.String(500), info=describe("备注", "Notes", "text", "basic", max_length=500))

    promotion = relationship("Promotion", back_populates="targets")
    customer = relationship("Customer", backref="promotion_targets")
    contact = relationship("Contact")

    def __str__(self) -> str:
        return f"{self.promotion} → {self.customer}"
