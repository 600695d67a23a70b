"""Column groups shared by the archive's tables."""
from __future__ import annotations

import datetime as dt

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, declared_attr, mapped_column, relationship

from flask_appbuilder import Model

from portal.context import current_user_id
from portal.fields import Section, describe

# Named constraints, so later migrations can drop them (SQLite batch mode needs names).
# Flask-AppBuilder's own ab_* tables are defined before this runs and keep their names.
Model.metadata.naming_convention = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

# A JSON document column that is JSONB (indexable) on PostgreSQL.
JSONDocument = sa.JSON().with_variant(JSONB(), "postgresql")

SYSTEM = Section("system", "系统信息", "System")


def _now() -> dt.datetime:
    return dt.datetime.now().replace(microsecond=0)


class Stamped:
    """Who created and last changed a row, and when (set by the system, never typed)."""

    created_on: Mapped[dt.datetime] = mapped_column(
        sa.DateTime, default=_now, nullable=False,
        info=describe("创建时间", "Created on", "datetime", "system", readonly=True),
    )
    changed_on: Mapped[dt.datetime] = mapped_column(
        sa.DateTime, default=_now, onupdate=_now, nullable=False,
        info=describe("修改时间", "Changed on", "datetime", "system", readonly=True),
    )

    @declared_attr
    def created_by_id(cls) -> Mapped[int | None]:
        return mapped_column(
            sa.ForeignKey("ab_user.id"), default=current_user_id, nullable=True,
            info=describe("创建人", "Created by", "relation", "system", readonly=True, relation="created_by"),
        )

    @declared_attr
    def changed_by_id(cls) -> Mapped[int | None]:
        return mapped_column(
            sa.ForeignKey("ab_user.id"), default=current_user_id, onupdate=current_user_id, nullable=True,
            info=describe("修改人", "Changed by", "relation", "system", readonly=True, relation="changed_by"),
        )

    @declared_attr
    def created_by(cls):
        return relationship("User", foreign_keys=[cls.created_by_id], lazy="joined", viewonly=True)

    @declared_attr
    def changed_by(cls):
        return relationship("User", foreign_keys=[cls.changed_by_id], lazy="joined", viewonly=True)


class Versioned:
    """A counter bumped on every update: an UPDATE that carries an older version
    matches no row, so a stale edit fails instead of overwriting (optimistic locking)."""

    version: Mapped[int] = mapped_column(sa.Integer, nullable=False, default=1, server_default="1")

    @declared_attr.directive
    def __mapper_args__(cls):
        return {"version_id_col": cls.__table__.c.version}


class CodeTable:
    """A short list clerks pick from (regions, industries, sources …), kept as data so a
    custodian can extend it without a programmer."""

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(
        sa.String(32), unique=True, nullable=False,
        info=describe("代码", "Code", "text", "basic", required=True, listed=True, searchable=True, max_length=32),
    )
    name: Mapped[str] = mapped_column(
        sa.String(100), nullable=False,
        info=describe("名称", "Name", "text", "basic", required=True, listed=True, searchable=True,
                      max_length=100, aliases=("中文名称",)),
    )
    name_en: Mapped[str | None] = mapped_column(
        sa.String(100),
        info=describe("英文名称", "English name", "text", "basic", listed=True, max_length=100),
    )
    sort_order: Mapped[int] = mapped_column(
        sa.Integer, nullable=False, default=0, server_default="0",
        info=describe("排序", "Sort order", "int", "basic", listed=True),
    )
    active: Mapped[bool] = mapped_column(
        sa.Boolean, nullable=False, default=True, server_default=sa.true(),
        info=describe("启用", "Active", "bool", "basic", listed=True),
    )

    def __str__(self) -> str:
        from portal.i18n import current_language

        return (self.name_en or self.name) if current_language() == "en" else self.name


CODE_SECTIONS = (Section("basic", "基本信息", "Basic"),)
