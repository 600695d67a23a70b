"""Sales teams: the unit a sales manager is responsible for."""
from __future__ import annotations

import sqlalchemy as sa
from flask_appbuilder import Model
from sqlalchemy.orm import Mapped, mapped_column, relationship

from portal.fields import Section, describe, register_model

team_member = sa.Table(
    "team_member",
    Model.metadata,
    sa.Column("team_id", sa.ForeignKey("sales_team.id", ondelete="CASCADE"), primary_key=True),
    sa.Column("user_id", sa.ForeignKey("ab_user.id", ondelete="CASCADE"), primary_key=True),
)


@register_model(Section("basic", "团队信息", "Team"))
class SalesTeam(Model):
    """业务团队: a manager and the salespeople who report to them."""

    __tablename__ = "sales_team"
    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(
        sa.String(100), unique=True, nullable=False,
        info=describe("团队名称", "Team", "text", "basic", required=True, listed=True, searchable=True,
                      max_length=100, aliases=("团队", "部门")),
    )
    manager_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("ab_user.id"), index=True,
        info=describe("业务经理", "Sales manager", "relation", "basic", listed=True, relation="manager"),
    )
    members = relationship(
        "User", secondary=team_member,
        info=describe("成员", "Members", "relation_many", "basic", listed=True),
    )
    manager = relationship("User", foreign_keys=[manager_id])

    def __str__(self) -> str:
        return self.name
