"""Counters behind generated numbers (customer and transaction numbers)."""
from __future__ import annotations

import sqlalchemy as sa
from flask_appbuilder import Model
from sqlalchemy.orm import Mapped, mapped_column


class NumberSequence(Model):
    """The last number handed out for one rendered prefix (e.g. ``KH2026``)."""

    __tablename__ = "number_sequence"
    prefix: Mapped[str] = mapped_column(sa.String(64), primary_key=True)
    last_value: Mapped[int] = mapped_column(sa.Integer, nullable=False, default=0)
