"""What the archive remembers about its own use: who looked at what (access log) and who
changed what (change history). Both are append-only."""
from __future__ import annotations

import datetime as dt

import sqlalchemy as sa
from flask_appbuilder import Model
from sqlalchemy.orm import Mapped, declared_attr, mapped_column, relationship

from portal.fields import Section, describe, register_model


def _now() -> dt.datetime:
    return dt.datetime.now().replace(microsecond=0)


class _Entry:
    """When and by whom a log entry was written (the user link is cleared if the user goes;
    the username stays)."""

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[dt.datetime] = mapped_column(
        sa.DateTime, nullable=False, default=_now, index=True,
        info=describe("时间", "Time", "datetime", "basic", listed=True, readonly=True),
    )

    @declared_attr
    def user_id(cls) -> Mapped[int | None]:
        return mapped_column(sa.ForeignKey("ab_user.id", ondelete="SET NULL"),
                             info=describe("用户", "User", "relation", "basic", relation="user", readonly=True))

    @declared_attr
    def user(cls):
        return relationship("User")


ACCESS_ACTIONS = (
    ("login", "登录成功", "Login"),
    ("login_failed", "登录失败", "Failed login"),
    ("list", "列表/搜索", "List or search"),
    ("show", "查看档案", "Card viewed"),
    ("edit", "修改", "Edit"),
    ("export", "导出", "Export"),
    ("import", "导入", "Import"),
    ("denied", "拒绝访问", "Access denied"),
    ("not_found", "越权访问", "Out of scope"),
    ("purge", "彻底删除", "Purge"),
    ("reassign", "移交客户", "Reassignment"),
    ("api", "接口访问", "API access"),
)

CHANGE_ACTIONS = (("create", "新增", "Created"), ("update", "修改", "Updated"), ("delete", "删除", "Deleted"))


@register_model(Section("basic", "访问记录", "Access"))
class AccessLog(_Entry, Model):
    """对每次访问进行追踪: one access to the archive, with who, when, from where, what and
    how many rows. Rows are only ever added (the retention command removes old ones)."""

    __tablename__ = "access_log"
    __table_args__ = (sa.Index("ix_access_log_user_at", "user_id", "at"),)

    username: Mapped[str | None] = mapped_column(
        sa.String(256), index=True,
        info=describe("用户名", "Username", "text", "basic", listed=True, searchable=True, readonly=True),
    )
    ip: Mapped[str | None] = mapped_column(
        sa.String(64), info=describe("IP 地址", "IP address", "text", "basic", listed=True, searchable=True, readonly=True),
    )
    action: Mapped[str] = mapped_column(
        sa.String(16), nullable=False, index=True,
        info=describe("操作", "Action", "choice", "basic", listed=True, readonly=True, choices=ACCESS_ACTIONS),
    )
    object_type: Mapped[str | None] = mapped_column(
        sa.String(64),
        info=describe("对象类型", "Object type", "text", "basic", listed=True, searchable=True, readonly=True),
    )
    object_id: Mapped[str | None] = mapped_column(
        sa.String(64), info=describe("对象编号", "Object id", "text", "basic", listed=True, searchable=True, readonly=True),
    )
    row_count: Mapped[int | None] = mapped_column(
        sa.Integer, info=describe("行数", "Rows", "int", "basic", listed=True, readonly=True),
    )
    detail: Mapped[str | None] = mapped_column(
        sa.Text, info=describe("详情", "Details", "longtext", "basic", listed=True, searchable=True, readonly=True,
                               help_zh="如筛选条件、请求地址", help_en="Filter, address requested …"),
    )

    def detail_html(self):
        """The details as the auditor reads them (labels instead of internal names)."""
        from portal.security.access_detail import render

        return render(self)


@register_model(Section("basic", "变更记录", "Change"))
class ChangeLog(_Entry, Model):
    """One create, update or delete of an archive record, with each field's old → new value."""

    __tablename__ = "change_log"
    __table_args__ = (sa.Index("ix_change_log_object", "object_type", "object_id"),)

    username: Mapped[str | None] = mapped_column(
        sa.String(256), info=describe("用户名", "Username", "text", "basic", listed=True, searchable=True, readonly=True),
    )
    customer_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("customer.id", ondelete="SET NULL"), index=True,
        info=describe("客户", "Customer", "relation", "basic", relation="customer", readonly=True),
    )
    object_type: Mapped[str] = mapped_column(
        sa.String(64), nullable=False,
        info=describe("对象类型", "Record type", "text", "basic", listed=True, searchable=True, readonly=True),
    )
    object_id: Mapped[int | None] = mapped_column(
        sa.Integer, info=describe("对象编号", "Record id", "int", "basic", listed=True, readonly=True),
    )
    action: Mapped[str] = mapped_column(
        sa.String(16), nullable=False,
        info=describe("操作", "Action", "choice", "basic", listed=True, readonly=True, choices=CHANGE_ACTIONS),
    )
    # Long enough for "grid:batch:" and a 64-character client batch id.
    source: Mapped[str | None] = mapped_column(
        sa.String(100), info=describe("来源", "Source", "text", "basic", listed=True, readonly=True,
                                     help_zh="表单、接口、导入批次、批量操作", help_en="Form, API, import batch, bulk action"),
    )
    # Kept as written (json, not jsonb, on PostgreSQL; migration 0014): nothing queries inside an entry.
    changes: Mapped[dict] = mapped_column(
        sa.JSON, nullable=False, default=dict,
        info=describe("变更内容", "Changes", "longtext", "basic", listed=True, readonly=True),
    )

    customer = relationship("Customer")

    def changes_html(self):
        """The changes as the card's History tab shows them (labels, masking)."""
        from portal.security.history import render_changes

        return render_changes(self)
