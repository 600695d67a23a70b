"""What the spreadsheet grid keeps besides the archive itself: the batches of edits it
applied (so that a batch sent twice is applied once, and can be undone and redone as a
whole) and the layouts and views its users saved."""
from __future__ import annotations

import datetime as dt

import sqlalchemy as sa
from flask_appbuilder import Model
from sqlalchemy.orm import Mapped, mapped_column, relationship

from .base import JSONDocument

BATCH_APPLIED, BATCH_UNDONE = "applied", "undone"


def _now() -> dt.datetime:
    return dt.datetime.now().replace(microsecond=0)


class GridBatch(Model):
    """One batch of grid edits (a paste, a fill, a single cell) as the client sent it, the
    answer it got, and what it actually wrote: per record the fields' old → new values,
    and which records it created. The id is the client's, so a retried request is
    recognised and answered from here instead of being applied again."""

    __tablename__ = "grid_batch"

    id: Mapped[str] = mapped_column(sa.String(64), primary_key=True)
    resource: Mapped[str] = mapped_column(sa.String(32), nullable=False)
    user_id: Mapped[int | None] = mapped_column(sa.ForeignKey("ab_user.id", ondelete="SET NULL"), index=True)
    created_at: Mapped[dt.datetime] = mapped_column(sa.DateTime, nullable=False, default=_now)
    request: Mapped[dict] = mapped_column(JSONDocument, nullable=False)
    response: Mapped[dict | None] = mapped_column(JSONDocument)
    applied: Mapped[dict | None] = mapped_column(JSONDocument)
    state: Mapped[str] = mapped_column(sa.String(16), nullable=False, default=BATCH_APPLIED,
                                       server_default=BATCH_APPLIED)
    undone_at: Mapped[dt.datetime | None] = mapped_column(sa.DateTime)

    user = relationship("User")


class GridView(Model):
    """A saved grid layout (columns, widths, sort, filters, search, page size). A row
    without a name is the user's own current layout of that grid, one per user and grid;
    a named one is a view the user can switch to, and share with everyone."""

    __tablename__ = "grid_view"
    __table_args__ = (
        sa.UniqueConstraint("owner_id", "resource", "name"),
        # NULLs are distinct in a unique constraint: the one current layout per user and
        # grid needs its own partial index.
        sa.Index("uq_grid_view_current", "owner_id", "resource", unique=True,
                 sqlite_where=sa.text("name IS NULL"), postgresql_where=sa.text("name IS NULL")),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    resource: Mapped[str] = mapped_column(sa.String(32), nullable=False)
    name: Mapped[str | None] = mapped_column(sa.String(100))
    owner_id: Mapped[int] = mapped_column(sa.ForeignKey("ab_user.id", ondelete="CASCADE"), nullable=False)
    shared: Mapped[bool] = mapped_column(sa.Boolean, nullable=False, default=False, server_default=sa.false())
    layout: Mapped[dict] = mapped_column(JSONDocument, nullable=False)
    created_on: Mapped[dt.datetime] = mapped_column(sa.DateTime, nullable=False, default=_now)
    changed_on: Mapped[dt.datetime] = mapped_column(sa.DateTime, nullable=False, default=_now, onupdate=_now)

    owner = relationship("User")
