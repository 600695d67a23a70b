"""Imports as batches: the uploaded file, what the dry run found row by row (staged, so the
commit applies what the clerk previewed instead of reading the file again), what the commit
wrote (so the batch can be undone as a whole), and the column mappings clerks saved."""
from __future__ import annotations

import datetime as dt

import sqlalchemy as sa
from flask_appbuilder import Model
from sqlalchemy.orm import Mapped, mapped_column, relationship

from .base import JSONDocument

# A batch's life: uploaded → preparing → previewed → committing → committed → undoing → undone.
# A failed step goes back to where it started (uploaded / previewed / committed) with ``error`` set,
# except a file that cannot be read at all, which is "failed".
UPLOADED, PREPARING, PREVIEWED, COMMITTING, COMMITTED, UNDOING, UNDONE, FAILED = (
    "uploaded", "preparing", "previewed", "committing", "committed", "undoing", "undone", "failed")
RUNNING = (PREPARING, COMMITTING, UNDOING)

# What the dry run decided for one row of the file.
NEW, UPDATE, UNCHANGED, INVALID, DUPLICATE = "new", "update", "unchanged", "invalid", "duplicate"
ROW_STATUSES = (INVALID, DUPLICATE, NEW, UPDATE, UNCHANGED)  # the preview's order: errors first


def _now() -> dt.datetime:
    return dt.datetime.now().replace(microsecond=0)


class ImportBatch(Model):
    """One import: file, who, when, the sheet and header chosen, the mapping and options,
    the counts of the dry run and of the commit, and where a background step has got to."""

    __tablename__ = "import_batch"

    id: Mapped[int] = mapped_column(primary_key=True)
    resource: Mapped[str] = mapped_column(sa.String(32), nullable=False, index=True)
    file_name: Mapped[str] = mapped_column(sa.String(255), nullable=False)
    file_size: Mapped[int] = mapped_column(sa.Integer, nullable=False, default=0)
    stored_as: Mapped[str | None] = mapped_column(sa.String(500))  # the upload, under the instance folder
    user_id: Mapped[int | None] = mapped_column(sa.ForeignKey("ab_user.id", ondelete="SET NULL"), index=True)
    username: Mapped[str | None] = mapped_column(sa.String(100))
    created_at: Mapped[dt.datetime] = mapped_column(sa.DateTime, nullable=False, default=_now, index=True)
    status: Mapped[str] = mapped_column(sa.String(16), nullable=False, default=UPLOADED)
    error: Mapped[str | None] = mapped_column(sa.Text)
    sheets: Mapped[list | None] = mapped_column(JSONDocument)      # [{name, rows, columns}]
    sheet: Mapped[str | None] = mapped_column(sa.String(255))
    header_row: Mapped[int | None] = mapped_column(sa.Integer)     # 1-based, as Excel numbers it
    headers: Mapped[list | None] = mapped_column(JSONDocument)
    sample: Mapped[list | None] = mapped_column(JSONDocument)
    mapping: Mapped[dict | None] = mapped_column(JSONDocument)     # column index → field name | None
    options: Mapped[dict | None] = mapped_column(JSONDocument)     # match, mode, choices, all_or_nothing
    counts: Mapped[dict | None] = mapped_column(JSONDocument)
    prepared_at: Mapped[dt.datetime | None] = mapped_column(sa.DateTime)
    committed_at: Mapped[dt.datetime | None] = mapped_column(sa.DateTime)
    undone_at: Mapped[dt.datetime | None] = mapped_column(sa.DateTime)
    added_codes: Mapped[dict | None] = mapped_column(JSONDocument)  # code-table rows the commit added

    user = relationship("User")


class ImportRow(Model):
    """One data row of the file as the dry run judged it: the values to write (plain JSON),
    the record it matched and the version seen, old → new per changed field, messages per
    cell, and for rows that will not be written the original cells (the error report)."""

    __tablename__ = "import_row"
    __table_args__ = (sa.Index("ix_import_row_batch_status", "batch_id", "status", "row_no"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    # No foreign key (migration 0015): a check per staged row cost a dry run more than it guarded.
    batch_id: Mapped[int] = mapped_column(sa.Integer, nullable=False)
    row_no: Mapped[int] = mapped_column(sa.Integer, nullable=False)   # the Excel row number
    status: Mapped[str] = mapped_column(sa.String(16), nullable=False)
    target_id: Mapped[int | None] = mapped_column(sa.Integer)
    target_version: Mapped[int | None] = mapped_column(sa.Integer)
    target_label: Mapped[str | None] = mapped_column(sa.String(300))
    values: Mapped[dict | None] = mapped_column(JSONDocument)
    diff: Mapped[dict | None] = mapped_column(JSONDocument)
    errors: Mapped[dict | None] = mapped_column(JSONDocument)
    raw: Mapped[list | None] = mapped_column(JSONDocument)
    contact_id: Mapped[int | None] = mapped_column(sa.Integer)   # an update's contact, as the dry run found it


class ImportWritten(Model):
    """What the commit wrote for one staged row, for the undo: the record it created (and
    that record's version then), the contact it created. A table of its own, so that a
    commit adds 100,000 short rows rather than rewriting 100,000 wide staged ones; without
    foreign keys, whose checks would lock each staged row again (migration 0013): the staged
    rows' deletions (retention.prune) delete these with them."""

    __tablename__ = "import_written"

    batch_id: Mapped[int] = mapped_column(sa.Integer, primary_key=True, autoincrement=False)
    row_id: Mapped[int] = mapped_column(sa.Integer, primary_key=True, autoincrement=False)
    record_id: Mapped[int | None] = mapped_column(sa.Integer)   # a new row's record
    version: Mapped[int | None] = mapped_column(sa.Integer)
    contact_id: Mapped[int | None] = mapped_column(sa.Integer)  # the contact the commit created for the row


class ImportMapping(Model):
    """A column mapping saved by name for a kind of file (header text → field), with the
    options that go with it; reused on the next upload of the same layout."""

    __tablename__ = "import_mapping"
    __table_args__ = (sa.UniqueConstraint("resource", "name"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    resource: Mapped[str] = mapped_column(sa.String(32), nullable=False)
    name: Mapped[str] = mapped_column(sa.String(100), nullable=False)
    by_header: Mapped[dict] = mapped_column(JSONDocument, nullable=False)
    options: Mapped[dict | None] = mapped_column(JSONDocument)
    owner_id: Mapped[int | None] = mapped_column(sa.ForeignKey("ab_user.id", ondelete="SET NULL"))
    created_on: Mapped[dt.datetime] = mapped_column(sa.DateTime, nullable=False, default=_now)
    changed_on: Mapped[dt.datetime] = mapped_column(sa.DateTime, nullable=False, default=_now, onupdate=_now)
