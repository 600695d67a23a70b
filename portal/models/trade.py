"""Transactions (交易) with their lines, and after-sales records (售后)."""
from __future__ import annotations

import datetime as dt
from decimal import Decimal

import sqlalchemy as sa
from flask_appbuilder import Model
from sqlalchemy.orm import Mapped, mapped_column, relationship

from portal.fields import Section, describe, register_model

from . import choices as C
from .base import SYSTEM, Stamped, Versioned

TRADE_SECTIONS = (
    Section("basic", "交易信息", "Transaction"),
    Section("delivery", "付款与交货", "Payment and delivery"),
    SYSTEM,
)


@register_model(*TRADE_SECTIONS)
class Transaction(Stamped, Versioned, Model):
    """One sale (or return, with negative amounts). The first one makes a potential
    customer current (services/lifecycle.py)."""

    __tablename__ = "trade"
    # ix_trade_date_cover: the analyses read a period's transactions by date and need only
    # these columns, so the range is answered from the index alone (2.2 → 0.6 s for sales by
    # grade over 400,000 transactions on SQLite); it replaces the plain trade_date index.
    __table_args__ = (sa.Index("ix_trade_customer_date", "customer_id", "trade_date"),
                      sa.Index("ix_trade_date_cover", "trade_date", "customer_id", "amount", "payment_method", "id"))

    id: Mapped[int] = mapped_column(primary_key=True)
    number: Mapped[str] = mapped_column(
        sa.String(32), unique=True, nullable=False,
        info=describe("交易单号", "Transaction number", "text", "basic", listed=True, searchable=True, max_length=32,
                      aliases=("单号", "订单号", "Order number"),
                      help_zh="留空则自动生成", help_en="Left empty, it is generated"),
    )
    customer_id: Mapped[int] = mapped_column(
        sa.ForeignKey("customer.id"), nullable=False, index=True,
        info=describe("客户", "Customer", "relation", "basic", required=True, listed=True, relation="customer",
                      aliases=("客户名称", "客户编号")),
    )
    trade_date: Mapped[dt.date] = mapped_column(
        sa.Date, nullable=False,
        info=describe("交易日期", "Date", "date", "basic", required=True, listed=True, not_future=True,
                      aliases=("日期", "订单日期", "下单日期", "Order date")),
    )
    amount: Mapped[Decimal] = mapped_column(
        sa.Numeric(14, 2), nullable=False, default=0, server_default="0",
        info=describe("金额", "Amount", "money", "basic", listed=True,
                      aliases=("交易金额", "订单金额", "Revenue", "Total"),
                      help_zh="有明细时为明细合计；退货为负数", help_en="Sum of the lines when there are lines; returns are negative"),
    )
    salesperson_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("ab_user.id"), index=True,
        info=describe("业务员", "Salesperson", "relation", "basic", listed=True, relation="salesperson",
                      aliases=("销售员",)),
    )
    payment_method: Mapped[str | None] = mapped_column(
        sa.String(16),
        info=describe("付款方式", "Payment method", "choice", "delivery", listed=True, choices=C.PAYMENT_METHOD,
                      aliases=("支付方式",)),
    )
    delivery_requirements: Mapped[str | None] = mapped_column(
        sa.String(500), info=describe("交货要求", "Delivery requirements", "text", "delivery", max_length=500,
                                      aliases=("交货方式", "送货要求")),
    )
    delivered_on: Mapped[dt.date | None] = mapped_column(
        sa.Date, info=describe("交货日期", "Delivered on", "date", "delivery"),
    )
    note: Mapped[str | None] = mapped_column(
        sa.Text, info=describe("备注", "Notes", "longtext", "delivery", aliases=("说明",)),
    )

    customer = relationship("Customer", backref=sa.orm.backref("transactions", order_by="Transaction.trade_date.desc()"))
    salesperson = relationship("User", foreign_keys=[salesperson_id])
    lines = relationship("TransactionLine", back_populates="transaction", cascade="all, delete-orphan")

    def __str__(self) -> str:
        return f"{self.number} {self.trade_date or ''}".strip()


@register_model(Section("basic", "交易明细", "Line"))
class TransactionLine(Model):
    """A product, quantity and price on a transaction."""

    __tablename__ = "trade_line"
    # ix_trade_line_cover: the lines of a set of transactions (and the foreign key's lookups,
    # as the plain transaction_id index did). The product and customer ones (migration 0011):
    # a period's lines for the product and category analyses and the replenishment reminders,
    # from the index alone — by product for all customers, by customer for a salesperson's.
    __table_args__ = (sa.Index("ix_trade_line_cover", "transaction_id", "product_id", "amount", "quantity"),
                      sa.Index("ix_trade_line_product_date", "product_id", "trade_date", "customer_id", "amount",
                               "quantity"),
                      sa.Index("ix_trade_line_customer_date", "customer_id", "trade_date", "product_id", "amount",
                               "quantity"))
    # The ORM fetches the trigger-set columns after an INSERT with a SELECT, not with
    # RETURNING: SQLite's RETURNING gives the row before its AFTER INSERT trigger ran.
    __mapper_args__ = {"eager_defaults": False}
    id: Mapped[int] = mapped_column(primary_key=True)
    transaction_id: Mapped[int] = mapped_column(
        sa.ForeignKey("trade.id", ondelete="CASCADE"), nullable=False,
        info=describe("交易", "Transaction", "relation", "basic", required=True, listed=True, relation="transaction",
                      aliases=("交易单号",)),
    )
    product_id: Mapped[int] = mapped_column(
        sa.ForeignKey("product.id"), nullable=False,
        info=describe("产品", "Product", "relation", "basic", required=True, listed=True, relation="product",
                      aliases=("产品名称", "产品编号", "品名")),
    )
    quantity: Mapped[Decimal] = mapped_column(
        sa.Numeric(12, 3), nullable=False,
        info=describe("数量", "Quantity", "decimal", "basic", required=True, listed=True, aliases=("Qty",),
                      help_zh="退货为负数", help_en="Negative for returns"),
    )
    unit_price: Mapped[Decimal] = mapped_column(
        sa.Numeric(14, 2), nullable=False,
        info=describe("单价", "Unit price", "money", "basic", required=True, listed=True, min_value=0, aliases=("价格",)),
    )
    amount: Mapped[Decimal] = mapped_column(
        sa.Numeric(14, 2), nullable=False, default=0,
        info=describe("金额", "Amount", "money", "basic", listed=True, readonly=True),
    )
    # The transaction's date and customer, copied by database triggers (migration 0011) on
    # every write of the line or of the transaction's date or customer, so a period's lines
    # are read without joining trade. Not described (no ``info``): no form, grid, import,
    # export or history shows them, and the ORM never writes them (FetchedValue).
    trade_date: Mapped[dt.date] = mapped_column(sa.Date, nullable=False, server_default=sa.FetchedValue(),
                                                server_onupdate=sa.FetchedValue())
    customer_id: Mapped[int] = mapped_column(sa.ForeignKey("customer.id"), nullable=False,
                                             server_default=sa.FetchedValue(), server_onupdate=sa.FetchedValue())

    transaction = relationship("Transaction", back_populates="lines")
    product = relationship("Product")

    def __str__(self) -> str:
        return f"{self.product} × {self.quantity}"


AFTER_SALES_SECTIONS = (
    Section("basic", "售后信息", "After-sales"),
    Section("rating", "评价", "Ratings"),
    Section("handling", "处理", "Handling"),
    SYSTEM,
)


@register_model(*AFTER_SALES_SECTIONS)
class AfterSales(Stamped, Versioned, Model):
    """售后: a service visit, a complaint or a return, with the customer's ratings."""

    __tablename__ = "after_sales"
    id: Mapped[int] = mapped_column(primary_key=True)
    customer_id: Mapped[int] = mapped_column(
        sa.ForeignKey("customer.id"), nullable=False, index=True,
        info=describe("客户", "Customer", "relation", "basic", required=True, listed=True, relation="customer"),
    )
    kind: Mapped[str] = mapped_column(
        sa.String(16), nullable=False,
        info=describe("类型", "Kind", "choice", "basic", required=True, listed=True, choices=C.AFTER_SALES_KIND),
    )
    occurred_on: Mapped[dt.date] = mapped_column(
        sa.Date, nullable=False,
        info=describe("日期", "Date", "date", "basic", required=True, listed=True, not_future=True),
    )
    transaction_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("trade.id"),
        info=describe("相关交易", "Transaction", "relation", "basic", relation="transaction"),
    )
    product_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("product.id"),
        info=describe("产品", "Product", "relation", "basic", listed=True, relation="product"),
    )
    content: Mapped[str] = mapped_column(
        sa.Text, nullable=False,
        info=describe("服务内容/问题", "Service or problem", "longtext", "basic", required=True,
                      aliases=("内容", "问题描述", "投诉内容")),
    )
    return_quantity: Mapped[Decimal | None] = mapped_column(
        sa.Numeric(12, 3), info=describe("退货数量", "Returned quantity", "decimal", "basic", min_value=0),
    )
    return_amount: Mapped[Decimal | None] = mapped_column(
        sa.Numeric(14, 2), info=describe("退货金额", "Returned amount", "money", "basic", min_value=0),
    )
    product_rating: Mapped[str | None] = mapped_column(
        sa.String(1), info=describe("产品评价", "Product rating", "choice", "rating", listed=True, choices=C.RATING),
    )
    service_rating: Mapped[str | None] = mapped_column(
        sa.String(1), info=describe("服务评价", "Service rating", "choice", "rating", listed=True, choices=C.RATING),
    )
    status: Mapped[str] = mapped_column(
        sa.String(16), nullable=False, default="open", server_default="open",
        info=describe("状态", "Status", "choice", "handling", required=True, listed=True, choices=C.CASE_STATUS),
    )
    handled_by_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("ab_user.id"),
        info=describe("处理人", "Handled by", "relation", "handling", listed=True, relation="handled_by"),
    )
    resolution: Mapped[str | None] = mapped_column(
        sa.Text, info=describe("处理结果", "Resolution", "longtext", "handling"),
    )
    closed_on: Mapped[dt.date | None] = mapped_column(
        sa.Date, info=describe("关闭日期", "Closed on", "date", "handling", not_future=True),
    )

    customer = relationship("Customer", backref="after_sales")
    transaction = relationship("Transaction")
    product = relationship("Product")
    handled_by = relationship("User", foreign_keys=[handled_by_id])

    def __str__(self) -> str:
        return f"{self.occurred_on} {self.content[:20] if self.content else ''}"
