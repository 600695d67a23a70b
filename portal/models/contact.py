"""Contacts (联系人) of a customer, with the personal profile kept for key accounts."""
from __future__ import annotations

import datetime as dt

import sqlalchemy as sa
from flask_appbuilder import Model
from sqlalchemy.orm import Mapped, mapped_column, relationship

from portal.fields import Section, describe, register_model

from . import choices as C
from .base import SYSTEM, Stamped, Versioned
from .consent import CONSENT, opt_out_columns

CONTACT_SECTIONS = (
    Section("basic", "基本信息", "Basic data"),
    Section("contact", "联系方式", "Contact details"),
    Section("profile", "个人档案(大客户)", "Personal profile (key accounts)"),
    CONSENT,
    SYSTEM,
)


@register_model(*CONTACT_SECTIONS)
class Contact(Stamped, Versioned, Model):
    __tablename__ = "contact"
    id: Mapped[int] = mapped_column(primary_key=True)
    customer_id: Mapped[int] = mapped_column(
        sa.ForeignKey("customer.id", ondelete="CASCADE"), nullable=False, index=True,
        info=describe("客户", "Customer", "relation", "basic", required=True, listed=True, relation="customer",
                      aliases=("客户名称", "所属客户", "公司")),
    )
    name: Mapped[str] = mapped_column(
        sa.String(50), nullable=False, index=True,
        info=describe("姓名", "Name", "text", "basic", required=True, listed=True, searchable=True, max_length=50,
                      aliases=("联系人", "联系人姓名", "Contact")),
    )
    gender: Mapped[str | None] = mapped_column(
        sa.String(1), info=describe("性别", "Gender", "choice", "basic", listed=True, choices=C.GENDER),
    )
    birth_date: Mapped[dt.date | None] = mapped_column(
        sa.Date, info=describe("生日", "Birthday", "date", "basic", not_future=True, aliases=("出生日期",)),
    )
    position: Mapped[str | None] = mapped_column(
        sa.String(50), info=describe("职务", "Position", "text", "basic", listed=True, max_length=50, aliases=("职位", "头衔")),
    )
    department: Mapped[str | None] = mapped_column(
        sa.String(50), info=describe("部门", "Department", "text", "basic", max_length=50),
    )
    deal_role: Mapped[str | None] = mapped_column(
        sa.String(16),
        info=describe("采购角色", "Role in the deal", "choice", "basic", listed=True, choices=C.DEAL_ROLE,
                      aliases=("角色", "决策角色")),
    )
    is_primary: Mapped[bool] = mapped_column(
        sa.Boolean, nullable=False, default=False, server_default=sa.false(),
        info=describe("主要联系人", "Primary contact", "bool", "basic", listed=True, aliases=("首要联系人",)),
    )
    phone: Mapped[str | None] = mapped_column(
        sa.String(32), info=describe("电话", "Phone", "phone", "contact", searchable=True, aliases=("办公电话", "座机", "电话号码")),
    )
    mobile: Mapped[str | None] = mapped_column(
        sa.String(11), index=True,
        info=describe("手机", "Mobile", "mobile", "contact", listed=True, searchable=True, aliases=("手机号", "手机号码", "移动电话", "Cell", "Cellphone", "Mobile phone")),
    )
    email: Mapped[str | None] = mapped_column(
        sa.String(200), info=describe("电子邮箱", "E-mail", "email", "contact", searchable=True, aliases=("邮箱", "邮箱地址", "电子邮件", "E-mail address", "E-mail地址")),
    )
    wechat: Mapped[str | None] = mapped_column(
        sa.String(50), info=describe("微信号", "WeChat", "text", "contact", max_length=50, aliases=("微信",)),
    )
    hobbies: Mapped[str | None] = mapped_column(
        sa.String(200), info=describe("爱好", "Hobbies", "text", "profile", max_length=200, aliases=("兴趣爱好",)),
    )
    hometown: Mapped[str | None] = mapped_column(
        sa.String(50), info=describe("籍贯", "Hometown", "text", "profile", max_length=50, aliases=("家乡",)),
    )
    school: Mapped[str | None] = mapped_column(
        sa.String(100), info=describe("毕业学校", "School", "text", "profile", max_length=100, aliases=("母校",)),
    )
    sports: Mapped[str | None] = mapped_column(
        sa.String(100), info=describe("喜欢的运动", "Sports", "text", "profile", max_length=100),
    )
    favourite_restaurants: Mapped[str | None] = mapped_column(
        sa.String(200), info=describe("喜欢的餐厅", "Favourite restaurants", "text", "profile", max_length=200),
    )
    favourite_food: Mapped[str | None] = mapped_column(
        sa.String(200), info=describe("喜欢的食物", "Favourite food", "text", "profile", max_length=200),
    )
    pets: Mapped[str | None] = mapped_column(
        sa.String(100), info=describe("宠物", "Pets", "text", "profile", max_length=100),
    )
    books: Mapped[str | None] = mapped_column(
        sa.String(200), info=describe("喜欢的书", "Books", "text", "profile", max_length=200),
    )
    holidays: Mapped[str | None] = mapped_column(
        sa.String(200), info=describe("度假方式", "Holidays", "text", "profile", max_length=200),
    )
    # Whereabouts are sensitive personal information under PIPL art. 28.
    itinerary: Mapped[str | None] = mapped_column(
        sa.Text, info=describe("行程安排", "Travel itinerary", "longtext", "profile", sensitive=True, aliases=("行程",)),
    )
    colleague_relations: Mapped[str | None] = mapped_column(
        sa.Text, info=describe("与同事关系", "Relations with colleagues", "longtext", "profile"),
    )
    goals: Mapped[str | None] = mapped_column(
        sa.Text, info=describe("个人目标", "Personal goals", "longtext", "profile"),
    )
    note: Mapped[str | None] = mapped_column(
        sa.Text, info=describe("备注", "Notes", "longtext", "profile", aliases=("说明",)),
    )

    # -- consent 联系许可 (models/consent.py) --------------------------------------------
    mail_opt_out, mail_opt_out_on, mail_opt_out_source = opt_out_columns("mail")
    sms_opt_out, sms_opt_out_on, sms_opt_out_source = opt_out_columns("sms")
    email_opt_out, email_opt_out_on, email_opt_out_source = opt_out_columns("email")

    # Search keys derived from the name (services/pinyin.py): not fields of the card.
    name_pinyin: Mapped[str | None] = mapped_column(sa.String(400), index=True)
    name_initials: Mapped[str | None] = mapped_column(sa.String(100), index=True)

    customer = relationship("Customer", backref=sa.orm.backref(
        "contacts", cascade="all, delete-orphan", passive_deletes=True))

    def __str__(self) -> str:
        return self.name
