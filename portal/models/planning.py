"""Visit plans and reminders: the contact-frequency rules (客户访问管理表) and the log of
reminders someone marked done.

A rule says how often a visitor of a given role should contact a customer of a given grade:
``monthly`` (so many visits and calls a month, as a min–max range: "call 2–3× a month"),
``interval`` (a visit every so many months, a range too: "every 1–2 months"), ``as_needed``
(no fixed frequency: "when needed", "when the customer may rise to A") or ``none``.
The rule's ``visitor_role`` is a key of :data:`VISITOR_ROLES`, not a portal role: the
marketing director and the general manager are people the rules speak of even where the
portal has no role for them. services/visit_plan.py says how a user is matched to a key.
"""
from __future__ import annotations

import datetime as dt

import sqlalchemy as sa
from flask_appbuilder import Model
from sqlalchemy.orm import Mapped, mapped_column, relationship

from portal.fields import Section, describe, register_model

from . import choices as C
from .base import SYSTEM, Stamped

VISITOR_ROLES = (
    ("salesperson", "销售人员", "Salesperson"),
    ("sales_manager", "业务经理", "Sales manager"),
    ("marketing_director", "市场总监", "Marketing director"),
    ("general_manager", "总经理或副总", "General manager / deputy"),
)

SCHEDULES = (
    ("monthly", "每月次数", "Times a month"),
    ("interval", "间隔月数", "Every so many months"),
    ("as_needed", "必要时", "When needed"),
    ("none", "不要求", "Not required"),
)

REMINDER_KINDS = (
    ("birthday", "生日", "Birthday"),
    ("replenish", "补货回访", "Replenishment due"),
    ("credit_report", "信用报告到期", "Credit report expiring"),
    ("credit_limit", "信贷限额待复核", "Credit limit to review"),
    ("stale_card", "档案待核对", "Card to re-check"),
    ("no_order", "久未订货", "No order for a long time"),
    ("complaint", "未结投诉", "Open complaint"),
)

RULE_SECTIONS = (
    Section("basic", "适用范围", "Applies to"),
    Section("frequency", "访问频率", "Frequency"),
    SYSTEM,
)


@register_model(*RULE_SECTIONS)
class VisitRule(Stamped, Model):
    """客户访问管理表 — one cell: visitor role × customer grade → how often."""

    __tablename__ = "visit_rule"
    __table_args__ = (sa.UniqueConstraint("visitor_role", "grade", name="uq_visit_rule_role_grade"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    visitor_role: Mapped[str] = mapped_column(
        sa.String(32), nullable=False,
        info=describe("访问人角色", "Visitor's role", "choice", "basic", required=True, listed=True,
                      choices=VISITOR_ROLES, aliases=("角色",)),
    )
    grade: Mapped[str] = mapped_column(
        sa.String(1), nullable=False,
        info=describe("客户等级", "Grade", "choice", "basic", required=True, listed=True, choices=C.VALUE_GRADE,
                      aliases=("等级",)),
    )
    schedule: Mapped[str] = mapped_column(
        sa.String(16), nullable=False, default="monthly", server_default="monthly",
        info=describe("频率方式", "Schedule", "choice", "frequency", required=True, listed=True, choices=SCHEDULES,
                      help_zh="每月次数：填访问/电话次数；间隔月数：填间隔；必要时/不要求：不计入计划",
                      help_en="Times a month: fill in visits/calls; every so many months: the interval; "
                              "when needed / not required: outside the plan"),
    )
    visits_min: Mapped[int | None] = mapped_column(
        sa.Integer,
        info=describe("每月访问次数(下限)", "Visits a month (at least)", "int", "frequency", listed=True,
                      min_value=0, max_value=31),
    )
    visits_max: Mapped[int | None] = mapped_column(
        sa.Integer,
        info=describe("每月访问次数(上限)", "Visits a month (at most)", "int", "frequency", listed=True,
                      min_value=0, max_value=31, help_zh="留空同下限", help_en="Empty: same as at least"),
    )
    calls_min: Mapped[int | None] = mapped_column(
        sa.Integer,
        info=describe("每月电话次数(下限)", "Calls a month (at least)", "int", "frequency", listed=True,
                      min_value=0, max_value=31),
    )
    calls_max: Mapped[int | None] = mapped_column(
        sa.Integer,
        info=describe("每月电话次数(上限)", "Calls a month (at most)", "int", "frequency", listed=True,
                      min_value=0, max_value=31, help_zh="留空同下限", help_en="Empty: same as at least"),
    )
    interval_min_months: Mapped[int | None] = mapped_column(
        sa.Integer,
        info=describe("访问间隔(月,最短)", "Visit every (months, shortest)", "int", "frequency", listed=True,
                      min_value=1, max_value=60),
    )
    interval_max_months: Mapped[int | None] = mapped_column(
        sa.Integer,
        info=describe("访问间隔(月,最长)", "Visit every (months, longest)", "int", "frequency", listed=True,
                      min_value=1, max_value=60, help_zh="超过即逾期；留空同最短",
                      help_en="Overdue after this; empty: same as shortest"),
    )
    note: Mapped[str | None] = mapped_column(
        sa.String(200),
        info=describe("说明", "Note", "text", "frequency", listed=True, max_length=200),
    )
    active: Mapped[bool] = mapped_column(
        sa.Boolean, nullable=False, default=True, server_default=sa.true(),
        info=describe("启用", "Active", "bool", "basic", listed=True),
    )

    def __str__(self) -> str:
        return f"{self.visitor_role} {self.grade}"


@register_model(Section("basic", "已办提醒", "Reminder done"))
class ReminderDone(Model):
    """A reminder someone marked done, with who and when.

    A reminder is (kind, customer, subject, occurrence): the subject is the contact, product
    or complaint it is about (0: the customer itself), the occurrence the date that makes it
    this reminder and not the next one — the birthday's date this year, the purchase the
    replenishment follows, the credit report that expires, the last order. A done reminder
    stays hidden; the next occurrence has another date and shows again. For the rolling
    checks (a card to re-check, a credit limit to review) the done row is itself the check:
    the reminder comes back so many months after it (services/reminders.py).
    """

    __tablename__ = "reminder_done"
    __table_args__ = (
        sa.UniqueConstraint("kind", "customer_id", "subject_id", "occurrence", name="uq_reminder_done_occurrence"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(
        sa.String(16), nullable=False,
        info=describe("提醒类型", "Reminder", "choice", "basic", listed=True, readonly=True, choices=REMINDER_KINDS),
    )
    customer_id: Mapped[int] = mapped_column(
        sa.ForeignKey("customer.id", ondelete="CASCADE"), nullable=False, index=True,
        info=describe("客户", "Customer", "relation", "basic", listed=True, readonly=True, relation="customer"),
    )
    subject_id: Mapped[int] = mapped_column(
        sa.Integer, nullable=False, default=0, server_default="0",
        info=describe("对象编号", "Subject", "int", "basic", readonly=True,
                      help_zh="联系人、产品或售后记录的编号；0为客户本身",
                      help_en="The contact, product or after-sales record; 0 for the customer itself"),
    )
    occurrence: Mapped[dt.date] = mapped_column(
        sa.Date, nullable=False,
        info=describe("提醒日期", "Occurrence", "date", "basic", listed=True, readonly=True),
    )
    done_by_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("ab_user.id", ondelete="SET NULL"),
        info=describe("办理人", "Done by", "relation", "basic", listed=True, readonly=True, relation="done_by"),
    )
    done_at: Mapped[dt.datetime] = mapped_column(
        sa.DateTime, nullable=False,
        info=describe("办理时间", "Done at", "datetime", "basic", listed=True, readonly=True),
    )

    customer = relationship("Customer")
    done_by = relationship("User", foreign_keys=[done_by_id])
