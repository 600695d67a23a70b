"""Code tables and the product catalogue: the lists a card's fields pick from."""
from __future__ import annotations

from decimal import Decimal

import sqlalchemy as sa
from flask_appbuilder import Model
from sqlalchemy.orm import Mapped, mapped_column, relationship

from portal.fields import Section, describe, register_model

from .base import SYSTEM, CODE_SECTIONS, CodeTable, Stamped


@register_model(*CODE_SECTIONS)
class Region(CodeTable, Model):
    """所属地区: the sales region a customer belongs to (华东区, 华北区 …)."""

    __tablename__ = "region"


@register_model(*CODE_SECTIONS)
class Route(CodeTable, Model):
    """线路: a visit/delivery route inside a region; a customer's 路序 is its order on it."""

    __tablename__ = "route"
    region_id: Mapped[int] = mapped_column(
        sa.ForeignKey("region.id"), nullable=False, index=True,
        info=describe("所属地区", "Region", "relation", "basic", required=True, listed=True, relation="region"),
    )
    region = relationship(Region)


@register_model(*CODE_SECTIONS)
class Industry(CodeTable, Model):
    """行业."""

    __tablename__ = "industry"


@register_model(*CODE_SECTIONS)
class Source(CodeTable, Model):
    """客户来源: how a customer was obtained. Third-party sources start unverified."""

    __tablename__ = "customer_source"
    third_party: Mapped[bool] = mapped_column(
        sa.Boolean, nullable=False, default=False, server_default=sa.false(),
        info=describe("第三方数据", "Third-party data", "bool", "basic", listed=True,
                      help_zh="来自购买名单等第三方的数据，需核实后方可视为可靠",
                      help_en="Data from purchased lists and other third parties must be verified"),
    )


@register_model(*CODE_SECTIONS)
class OwnershipType(CodeTable, Model):
    """所有制: 全民/集体/个体/股份/合资."""

    __tablename__ = "ownership_type"


@register_model(*CODE_SECTIONS)
class ChannelType(CodeTable, Model):
    """客户性质: 批发/零售/代理/特约/连锁/专营."""

    __tablename__ = "channel_type"


@register_model(*CODE_SECTIONS)
class Tag(CodeTable, Model):
    """标签: free classification a clerk attaches to customers."""

    __tablename__ = "tag"


@register_model(*CODE_SECTIONS)
class ProductCategory(CodeTable, Model):
    """产品类别."""

    __tablename__ = "product_category"


@register_model(*CODE_SECTIONS)
class PriceList(CodeTable, Model):
    """价格表: the default price list of a customer."""

    __tablename__ = "price_list"


PRODUCT_SECTIONS = (
    Section("basic", "产品信息", "Product"),
    Section("service", "使用周期", "Usage cycle"),
    SYSTEM,
)


@register_model(*PRODUCT_SECTIONS)
class Product(Stamped, Model):
    """产品: what customers buy; its usage cycle drives replenishment reminders."""

    __tablename__ = "product"
    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(
        sa.String(32), unique=True, nullable=False,
        info=describe("产品编号", "Product code", "text", "basic", required=True, listed=True,
                      searchable=True, max_length=32, aliases=("产品代码", "货号", "SKU")),
    )
    name: Mapped[str] = mapped_column(
        sa.String(200), nullable=False,
        info=describe("产品名称", "Product name", "text", "basic", required=True, listed=True,
                      searchable=True, max_length=200, aliases=("品名", "产品")),
    )
    category_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("product_category.id"), index=True,
        info=describe("产品类别", "Category", "relation", "basic", listed=True, relation="category",
                      aliases=("类别", "分类")),
    )
    unit: Mapped[str | None] = mapped_column(
        sa.String(16), info=describe("单位", "Unit", "text", "basic", listed=True, max_length=16),
    )
    list_price: Mapped[Decimal | None] = mapped_column(
        sa.Numeric(14, 2),
        info=describe("标准价格", "List price", "money", "basic", listed=True, min_value=0, aliases=("单价", "价格")),
    )
    cost_price: Mapped[Decimal | None] = mapped_column(
        sa.Numeric(14, 2),
        info=describe("成本价", "Cost price", "money", "basic", min_value=0, aliases=("成本", "进价", "Cost")),
    )
    replenish_cycle_days: Mapped[int | None] = mapped_column(
        sa.Integer,
        info=describe("补货周期(天)", "Replenishment cycle (days)", "int", "service", listed=True,
                      min_value=1, max_value=3650, aliases=("使用周期", "周期"),
                      help_zh="从上次购买起，多少天后提醒回访补货（如墨盒约60天）",
                      help_en="Days after a purchase to remind the salesperson to call (ink ≈ 60)"),
    )
    active: Mapped[bool] = mapped_column(
        sa.Boolean, nullable=False, default=True, server_default=sa.true(),
        info=describe("在售", "On sale", "bool", "basic", listed=True),
    )
    description: Mapped[str | None] = mapped_column(
        sa.Text, info=describe("说明", "Description", "longtext", "basic"),
    )

    category = relationship(ProductCategory)

    def __str__(self) -> str:
        return f"{self.code} {self.name}"
