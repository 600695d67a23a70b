"""Importing a sheet as a batch: upload (sheet list, header row, suggested mapping), prepare
(the dry run: every row judged and staged, nothing in the archive written), commit (in
portal/excel/commit.py) and undo (portal/excel/undo.py).

The dry run reads the chosen sheet once, in chunks of rows: each cell goes through the
field's converter (the registry's clean()), the match key finds the existing record within
the user's row scope, and the row is staged in import_row as new, update (with old → new per
field), unchanged, invalid (a message per cell, in the user's language) or duplicate (its key
appears earlier in the file, or exists already in create-only mode).

A many-to-many column (a customer's tags) is compared as a set with the record's current links
(read per chunk); its diff entry holds the labels (``old``/``new``, the change history's shape
for such a field), the texts shown (``old_text``/``new_text``) and the previous ids
(``old_ids``, which the undo puts back). A relation's diff entry holds its texts too, as the
change history does; any other field's entry only its values (``old``/``new``, staged JSON),
which the preview shows as the card does (a choice by its label): texts computed and staged
for every changed cell cost a 100,000-row dry run of updates about half a second.
"""
from __future__ import annotations

import contextlib
import datetime as dt
import functools
import os
import shutil
import uuid
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Callable

import sqlalchemy as sa
from flask import current_app, has_app_context
from flask_babel import lazy_gettext as _l
from sqlalchemy.orm import Session

from portal.fields import FieldType, fields_of
from portal.fields.plain import plain
from portal.fields.spec import TEXT_IN_JSON
from portal.grid.resources import resource_named
from portal.models import Contact, ImportBatch, ImportMapping, ImportRow
from portal.models import imports as status
from portal.security import scope
from portal.services import unique_values

from . import bulk, conversion, forked, jobs, reader, statistics, tag_links
from .cells import NEW_CODE, POLICIES, REJECT, Converter, policies
from .headers import header_cells
from .mapping import CONTACT, CUSTOM, CUSTOM_FIELD_COLUMN, MatchKey, Target, match_key, recognises, resolve, suggest

CHUNK = 2000
PART = 500                # rows the second process converts between two looks at whether this one waits
IN_LIST = 2000           # values per IN (…) lookup: a chunk's keys in one query (SQLite binds up to 32,766)
SAMPLE_ROWS = 5
HEAD_ROWS = 40           # rows read for the header, the sample and the mapping
MODES = ("create", "update", "upsert")


class ImportRefused(Exception):
    """A step that cannot be done as asked; ``message`` is for the user, ``status`` the HTTP code."""

    def __init__(self, message, status_code: int = 422, **extra):
        super().__init__(str(message))
        self.message, self.status_code, self.extra = message, status_code, extra


@dataclass
class Who:
    """On whose behalf an import runs: the row scope's user (None outside a request: all),
    whether they see sensitive fields, and the names the history records."""

    user: object = None
    sees_sensitive: bool = True

    @property
    def scope_user(self):
        """The user the row scope limits to; none given means the request's user, and
        outside a request (commands, benchmarks) every record."""
        return scope.ALL if self.user is None else self.user

    @property
    def user_id(self):
        return getattr(self.user, "id", None)

    @property
    def username(self):
        return getattr(self.user, "username", None)


def limits() -> reader.Limits:
    if not has_app_context():
        return reader.Limits()
    config = current_app.config
    return reader.Limits(max_bytes=int(config.get("IMPORT_MAX_BYTES", config.get("MAX_CONTENT_LENGTH") or 50 << 20)),
                         max_rows=int(config.get("IMPORT_MAX_ROWS", 1_000_000)),
                         max_merged=int(config.get("IMPORT_MAX_MERGED", reader.Limits.max_merged)))


def upload_limit() -> int:
    """The most bytes a file may have to be imported: the import's own limit, or the request's
    (MAX_CONTENT_LENGTH, which counts the form around the file too) if that is lower. The
    wizard checks it before sending a file, so a clerk is not kept waiting for a refusal."""
    request_limit = current_app.config.get("MAX_CONTENT_LENGTH") if has_app_context() else None
    return min(limits().max_bytes, request_limit or limits().max_bytes)


def storage_dir(batch_id: int) -> Path:
    base = Path(current_app.instance_path) if has_app_context() else Path("instance")
    return base / "imports" / str(batch_id)


def model_of(resource: str):
    found = resource_named(resource)
    if found is None:
        raise ImportRefused(_l("There is no import for %(name)s.", name=resource), 404)
    return found.model


# -- upload ---------------------------------------------------------------------------------

def upload(session: Session, path, file_name: str, resource: str, who: Who = Who(), *,
           mapping_id: int | None = None, sheet: str | None = None, header_row: int | None = None) -> ImportBatch:
    """Keep the file, read its sheets and the first rows of ``sheet`` (else of the one to open
    on: the first with a header row), find the header row (unless ``header_row`` says it) and
    suggest a mapping. Raises reader.ReadError for a file that cannot be read."""
    model = model_of(resource)   # an unknown resource is refused before the file is read
    saved = saved_mapping(session, resource, mapping_id)   # and a mapping that is not there
    file_name = os.path.basename(str(file_name or "upload")).strip() or "upload"
    size = os.path.getsize(path)
    with reader.open_workbook(path, file_name, limits=limits()) as workbook:
        if sheet is None:
            sheet, head = _opening_sheet(workbook, recognises(model, sees_sensitive=who.sees_sensitive))
        else:
            head = workbook.head(workbook.sheet(sheet).name, HEAD_ROWS)
        sheets = [_sheet_entry(s) for s in workbook.sheets]
        batch = ImportBatch(resource=resource, file_name=file_name[:255], file_size=size, user_id=who.user_id,
                            username=who.username, status=status.UPLOADED, sheets=sheets)
        session.add(batch)
        session.flush()
        target = storage_dir(batch.id)
        target.mkdir(parents=True, exist_ok=True)
        stored = target / f"{uuid.uuid4().hex}{Path(file_name).suffix.lower()[:10]}"
        shutil.copyfile(path, stored)
        batch.stored_as = str(stored)
        # The workbook just checked and opened, not the stored copy opened and checked again.
        choose_sheet(session, batch, sheet, header_row=header_row, who=who,
                     saved=saved, workbook=workbook, head=head)
    return batch


def saved_mapping(session: Session, resource: str, mapping_id) -> ImportMapping | None:
    """The saved mapping ``mapping_id`` of ``resource`` (None and "": none); one that is not
    there (deleted meanwhile) or is another resource's is refused, not silently left out."""
    if mapping_id in (None, ""):
        return None
    try:
        pk = int(mapping_id)
    except (TypeError, ValueError):
        raise ImportRefused(_l("There is no such saved mapping."), 400)
    found = session.get(ImportMapping, pk) if 0 < pk < 2 ** 31 else None
    if found is None or found.resource != resource:
        raise ImportRefused(_l("There is no such saved mapping."), 404)
    return found


def _sheet_entry(sheet: reader.SheetInfo) -> dict:
    """What a batch keeps of one sheet of its file: ``{"name", "rows", "columns"}``, and
    ``"hidden": True`` for a sheet Excel hides (a visible sheet's entry has no such key)."""
    entry = {"name": sheet.name, "rows": sheet.rows, "columns": sheet.columns}
    if sheet.hidden:
        entry["hidden"] = True
    return entry


def _opening_sheet(workbook: reader.Workbook, recognised) -> tuple[str, list[list]]:
    """The sheet the mapping step opens on, and its first rows.

    Workbooks often lead with a sheet of notes (填表说明) or a summary before the list (地区 |
    客户数, where 地区 names a field). So the sheet whose header row names the most fields is
    taken (of equals, the first), else the first in which a header row is found at all; the
    clerk can still choose another. Hidden sheets (a lookup list, an old copy) are looked at
    only when no visible sheet has a header row. A sheet that cannot be read is passed over;
    when none will do, the first one's reason is given."""
    best = fallback = refused = None
    for name in workbook.with_data():   # the visible sheets, then the hidden ones
        if (best is not None or fallback is not None) and workbook.sheet(name).hidden:
            break
        try:
            head = workbook.head(name, HEAD_ROWS)
            index = reader.find_header(head, recognised)
        except reader.ReadError as error:
            refused = refused or error
            continue
        named = sum(1 for cell in head[index] if (text := reader.cell_text(cell)) and recognised(text))
        if named and (best is None or named > best[0]):
            best = (named, name, head)
        fallback = fallback or (name, head)
    if best is not None:
        return best[1], best[2]
    if fallback is not None:
        return fallback
    raise refused or reader.ReadError(_l("The file holds no data."))


def _workbook(batch: ImportBatch) -> reader.Workbook:
    if not batch.stored_as or not os.path.exists(batch.stored_as):
        raise ImportRefused(_l("The uploaded file is no longer kept; upload it again."), 409)
    # The portal's copy, taken after upload() had it unpacked and checked.
    return reader.open_workbook(batch.stored_as, batch.file_name, limits=limits(), unpacked_before=True)


def choose_sheet(session: Session, batch: ImportBatch, sheet: str, *, header_row: int | None = None,
                 who: Who = Who(), saved: ImportMapping | None = None, workbook: reader.Workbook | None = None,
                 head: list[list] | None = None) -> ImportBatch:
    """Use ``sheet`` (its header at Excel row ``header_row``, else found): headers, a sample
    and the suggested mapping — ``saved``'s columns and options first, when the clerk chose a
    saved mapping (at the upload, or on the columns step). ``workbook``: the batch's file,
    already open (the caller closes it); ``head``: the sheet's first rows, already read from it."""
    _require(batch, status.UPLOADED, status.PREVIEWED)
    model = model_of(batch.resource)
    with (_workbook(batch) if workbook is None else contextlib.nullcontext(workbook)) as workbook:
        if head is None:
            if sheet not in [s.name for s in workbook.sheets]:
                raise ImportRefused(_l("There is no sheet named %(name)s.", name=sheet), 400)
            head = workbook.head(sheet, HEAD_ROWS)   # an .xlsx is not parsed past these rows
        merged = workbook.merged(sheet)
    recognised = recognises(model, sees_sensitive=who.sees_sensitive)
    if header_row is not None:
        if not 1 <= int(header_row) <= len(head):
            raise ImportRefused(_l("Row %(n)s is not among the first rows of the sheet.", n=header_row), 400)
        index = int(header_row) - 1
    else:
        index = reader.find_header(head, recognised)
    # A two-row header (a group's name over its columns) is one header ending a row lower.
    headers, index = header_cells(head, index, merged, recognised)
    while headers and not headers[-1]:
        headers.pop()
    if not any(headers):
        raise ImportRefused(_l("Row %(n)s holds no column headers.", n=index + 1), 400)
    sample = [[reader.cell_text(c) for c in cells]
              for _, cells in _take(reader.data_rows(iter(head), index, len(headers), merged), SAMPLE_ROWS)]
    # Another sheet is another list: its key and choices are found for its own columns (the
    # header row of the same sheet read again keeps them, a saved mapping's included).
    other_sheet = batch.sheet is not None and batch.sheet != sheet
    batch.sheet, batch.header_row, batch.headers, batch.sample = sheet, index + 1, headers, sample
    # Kept with the sheet's entry for the dry run, which reads the rows and not this tail of the XML.
    batch.sheets = [{**s, "merged": merged} if s["name"] == sheet else s for s in batch.sheets or []]
    batch.mapping = suggest(model, headers, sees_sensitive=who.sees_sensitive,
                            saved=saved.by_header if saved is not None else None)
    if saved is not None:
        batch.options = dict(saved.options or {})
    elif batch.options is None or other_sheet:
        batch.options = default_options(model, batch.mapping, who)
    batch.status = status.UPLOADED
    return batch


def _take(iterator, n):
    for i, item in enumerate(iterator):
        if i >= n:
            return
        yield item


def default_options(model, mapping: dict, who: Who) -> dict:
    """Match on the first key whose columns are all mapped; create and update."""
    from .mapping import match_keys

    mapped = {k for k in mapping.values() if k}
    keys = [k for k in match_keys(model, sees_sensitive=who.sees_sensitive) if set(k.fields) <= mapped]
    return {"match": list(keys[0].fields) if keys else [], "mode": "upsert" if keys else "create",
            "choices": {}, "all_or_nothing": False}


def _require(batch: ImportBatch, *allowed: str) -> None:
    jobs.settle(batch)
    if batch.status not in allowed:
        raise ImportRefused(_l("This import is %(status)s; that cannot be done now.",
                               status=status_label(batch.status)), 409)


def status_label(value: str) -> str:
    labels = {
        status.UPLOADED: _l("uploaded"), status.PREPARING: _l("being checked"), status.PREVIEWED: _l("checked"),
        status.COMMITTING: _l("being imported"), status.COMMITTED: _l("imported"),
        status.UNDOING: _l("being undone"), status.UNDONE: _l("undone"), status.FAILED: _l("failed"),
    }
    return str(labels.get(value, value))


# -- the plan: what the mapping and options mean ---------------------------------------------

@dataclass
class Column:
    index: int
    header: str
    target: Target
    convert: Converter


@dataclass
class Plan:
    model: type
    columns: list[Column]
    key: MatchKey | None
    mode: str
    all_or_nothing: bool
    who: Who
    own: list[Column] = field(default_factory=list)       # the sheet's model's own fields (its columns)
    many: list[Column] = field(default_factory=list)      # its many-to-many fields (tags): link rows
    contact: list[Column] = field(default_factory=list)   # contact.* on a customer sheet
    custom: list[Column] = field(default_factory=list)

    @property
    def creates(self) -> bool:
        return self.mode in ("create", "upsert")

    @property
    def updates(self) -> bool:
        return self.mode in ("update", "upsert")


def required_fields(model) -> list:
    """Fields a new record cannot do without (no column default to fall back on)."""
    found = []
    for spec in fields_of(model).values():
        column = model.__table__.c.get(spec.name)
        if spec.required and not spec.readonly and column is not None and column.default is None \
                and column.server_default is None:
            found.append(spec)
    return found


def make_plan(session: Session, batch: ImportBatch, mapping: dict, options: dict, who: Who) -> Plan:
    model = model_of(batch.resource)
    headers = batch.headers or []
    options = options or {}
    mode = options.get("mode") or "upsert"
    if mode not in MODES:
        raise ImportRefused(_l("Choose create only, update only, or create and update."))
    choices = options.get("choices") or {}
    match = options.get("match") or []
    if not isinstance(mapping or {}, dict) or not isinstance(choices, dict) or not isinstance(match, list) \
            or not all(str(k).isdigit() and (v is None or isinstance(v, str)) for k, v in (mapping or {}).items()):
        raise ImportRefused(_l("The mapping and options are not understood; choose them again."), 400)
    columns, used = [], {}
    for index_text, key in sorted((mapping or {}).items(), key=lambda kv: int(kv[0])):
        if not key:
            continue
        index = int(index_text)
        if not 0 <= index < len(headers):
            raise ImportRefused(_l("Column %(n)s is not in the sheet.", n=index + 1))
        header = headers[index]
        target = resolve(model, key, sees_sensitive=who.sees_sensitive, header=header)
        if target is None:
            raise ImportRefused(_l("You may not import the field %(key)s.", key=key))
        if target.key in used:
            raise ImportRefused(_l("%(label)s is mapped to more than one column (%(a)s and %(b)s).",
                                   label=target.label, a=used[target.key], b=header))
        used[target.key] = header
        policy = choices.get(target.key) or REJECT
        allowed = policies(target.model, target.spec) if target.spec is not None else None
        if policy not in POLICIES or (allowed and policy not in allowed):
            raise ImportRefused(_l("%(label)s: values not in the list cannot be added.", label=target.label))
        columns.append(Column(index, header, target, Converter(session, target, policy, who.user, header)))
    if not columns:
        raise ImportRefused(_l("Map at least one column to a field."))
    key = None
    if options.get("match"):
        key = match_key(model, options["match"], sees_sensitive=who.sees_sensitive)
        if key is None:
            raise ImportRefused(_l("Records cannot be matched on %(key)s.", key="+".join(options["match"])))
        missing = [f for f in key.fields if f not in used]
        if missing:
            raise ImportRefused(_l("Map a column to each field of the match key (%(key)s).", key=key.label))
    elif mode != "create":
        raise ImportRefused(_l("Choose how rows find their record (the match key) to update records."))
    plan = Plan(model, columns, key, mode, bool(options.get("all_or_nothing")), who)
    plan.many = [c for c in columns if c.convert.many is not None and not c.target.is_contact]
    plan.own = [c for c in columns if not c.target.is_contact and not c.target.is_custom and c not in plan.many]
    plan.contact = [c for c in columns if c.target.is_contact]
    plan.custom = [c for c in columns if c.target.is_custom]
    if plan.creates:
        absent = [s.label for s in required_fields(model) if s.name not in used]
        if absent:
            raise ImportRefused(_l("Map a column to %(labels)s: new records need it.", labels="、".join(absent)))
    return plan


# -- the dry run ------------------------------------------------------------------------------

def prepare(session: Session, batch: ImportBatch, *, mapping: dict | None = None, options: dict | None = None,
            who: Who = Who(), save_as: str | None = None, progress: Callable[[int, int], None] | None = None
            ) -> ImportBatch:
    """Judge every row of the sheet and stage the result; nothing of the archive is written."""
    _require(batch, status.UPLOADED, status.PREVIEWED, status.PREPARING)
    if save_as is not None and not isinstance(save_as, str):
        _mapping_name(save_as)   # refused before anything is done
    mapping = {str(k): v for k, v in (mapping if mapping is not None else batch.mapping or {}).items()}
    options = {**(batch.options or {}), **(options or {})}
    plan = make_plan(session, batch, mapping, options, who)
    batch.mapping, batch.options = mapping, options
    if save_as:
        save_mapping(session, batch, save_as, who)
    session.execute(sa.delete(ImportRow.__table__).where(ImportRow.__table__.c.batch_id == batch.id))
    total = next((s["rows"] for s in batch.sheets or [] if s["name"] == batch.sheet), 0)
    done = 0
    with contextlib.ExitStack() as stack:
        if forked.in_second_process(session, total):
            # Forked before this process starts its writing thread; it reads and converts
            # while this one judges and stages.
            source = stack.enter_context(forked.SecondProcess(
                functools.partial(_converted, _BatchFile.of(batch), mapping, options, _UserKey.of(who))))
        else:
            source = None
        # After the fork: the server analyses (an earlier import's rows, where autovacuum has
        # not yet) while the second process unpacks the sheet and converts its first rows.
        statistics.refresh(session, statistics.IMPORT_TABLES)
        behind = stack.enter_context(bulk.WriteBehind(session))
        judge = Judge(session, plan, behind)
        if source is None:
            workbook = stack.enter_context(_workbook(batch))
            source = ((False, chunk) for chunk in conversion.chunks(_data_rows(workbook, _BatchFile.of(batch)), CHUNK))
        for converted, chunk in source:
            done += (judge.stage_converted if converted else judge.stage)(batch.id, chunk)
            if progress:
                progress(done, max(total - batch.header_row, done))
        judge.finish()
    if done == 0:
        raise ImportRefused(_l("The sheet has no data rows under its header."), 400)
    batch.counts = {**judge.counts, "total": done}
    batch.status, batch.error, batch.prepared_at = status.PREVIEWED, None, dt.datetime.now()
    return batch


def save_mapping(session: Session, batch: ImportBatch, name: str, who: Who) -> ImportMapping:
    """Save the batch's mapping and options as ``name``, or overwrite the user's own mapping
    of that name. A name is unique per kind of file (the table's constraint), so a name
    another user's mapping has is refused rather than taken over; a mapping without owner
    (saved from the command line) is overwritten only from the command line."""
    name = _mapping_name(name)
    by_header = {batch.headers[int(i)]: key for i, key in batch.mapping.items() if key and batch.headers[int(i)]}
    saved = session.scalars(sa.select(ImportMapping).filter_by(resource=batch.resource, name=name)).first()
    if saved is not None and saved.owner_id != who.user_id:
        raise ImportRefused(_l("Another user has saved a mapping named %(name)s; choose another name.", name=name),
                            409)
    if saved is None:
        saved = ImportMapping(resource=batch.resource, name=name, owner_id=who.user_id, by_header={})
        session.add(saved)
    saved.by_header = by_header
    saved.options = {k: v for k, v in (batch.options or {}).items()}
    session.flush()
    return saved


def _mapping_name(name) -> str:
    """A mapping's name as saved (trimmed, at most 100 characters); refused when it is not
    text or is empty."""
    if not isinstance(name, str):
        raise ImportRefused(_l("A mapping is saved under a name."))
    name = name.strip()[:100]
    if not name:
        raise ImportRefused(_l("Give the mapping a name."))
    return name


@dataclass
class _BatchFile:
    """What the dry run's second process needs of a batch (not the ORM row, which belongs to
    this process's session)."""

    resource: str
    headers: list
    stored_as: str
    file_name: str
    sheet: str
    header_row: int
    merged: list

    @classmethod
    def of(cls, batch: ImportBatch) -> "_BatchFile":
        merged = next((s.get("merged") or [] for s in batch.sheets or [] if s["name"] == batch.sheet), [])
        return cls(batch.resource, list(batch.headers or []), batch.stored_as, batch.file_name, batch.sheet,
                   batch.header_row, merged)


def _data_rows(workbook: reader.Workbook, batch: _BatchFile):
    """The batch's data rows as the dry run reads them (see :func:`reader.data_rows`)."""
    return reader.data_rows(workbook.rows(batch.sheet), batch.header_row - 1, len(batch.headers), batch.merged)


@dataclass
class _UserKey:
    """Whom a dry run converts for, as the second process looks the user up again: what it
    needs of the ORM user is read here (an expired attribute read there would load it through
    this process's connection, which that process shares and must never use)."""

    model: type | None
    id: int | None
    sees_sensitive: bool

    @classmethod
    def of(cls, who: Who) -> "_UserKey":
        return cls(type(who.user) if who.user is not None else None, who.user_id, who.sees_sensitive)


def _converted(batch: _BatchFile, mapping: dict, options: dict, who: _UserKey, session: Session):
    """(In the second process) the sheet's rows, chunk by chunk, as ``(True, converted rows)``
    — converted with converters of its own session, for the user looked up again there — or,
    when the portal's process is idle, as ``(False, rows as read)`` for it to convert."""
    user = session.get(who.model, who.id) if who.model is not None else None
    plan = make_plan(session, batch, mapping, options, Who(user=user, sees_sensitive=who.sees_sensitive))
    converting = conversion.Conversion(plan)
    with _workbook(batch) as workbook:
        for chunk in conversion.chunks(_data_rows(workbook, batch), CHUNK):
            if forked.parent_idle():
                yield False, chunk
                continue
            converting.prime(chunk)
            yield from _converted_or_handed_over(converting, chunk)


def _converted_or_handed_over(converting: conversion.Conversion, chunk: list):
    """(In the second process) ``chunk`` converted a part (PART rows) at a time; when the
    portal's process waits meanwhile, it gets what is converted at once and the rest as read,
    instead of waiting for the whole chunk (its waits were half a second of a dry run)."""
    done: list[dict] = []
    for start in range(0, len(chunk), PART):
        if done and forked.parent_idle():
            yield True, done
            yield False, chunk[start:]
            return
        done.extend(converting.convert(chunk[start:start + PART]))
    yield True, done


class Judge:
    """Judges chunks of rows against the archive and stages them, remembering what earlier
    chunks held (keys and unique values seen in the file)."""

    def __init__(self, session: Session, plan: Plan, behind: "bulk.WriteBehind | None" = None):
        self.session, self.plan, self.behind = session, plan, behind
        self.overlap = bulk.server_side(session)
        self.pending = None   # the staged rows of the last chunk, written while the next one converts
        self.model = plan.model
        self.table = self.model.__table__
        self.seen_keys: dict[tuple, int] = {}
        self.seen_rows: dict[int, int] = {}   # a hash of a keyless row's values → its row number
        self.cases: dict[str, tuple] = {}     # see _cases
        self.key_names = frozenset(plan.key.fields) if plan.key is not None else frozenset()
        self.example = _example_values(session, plan)
        self.unique_columns = [c for c in plan.own if self.table.c[c.target.name].unique]
        self.seen_unique: dict[str, dict] = {c.target.key: {} for c in self.unique_columns}
        self.counts = {s: 0 for s in status.ROW_STATUSES}
        self.labels = {c.target.key: c.target.label for c in plan.columns}
        self.conversion = conversion.Conversion(plan)
        # What _update needs of each column, looked up once (not 16 properties a row).
        self.updating = [(c.target.key, c.target.name, _MANY if c.convert.many is not None else
                          _CUSTOM if c.target.is_custom else _CONTACT if c.target.is_contact else _OWN, c)
                         for c in plan.columns]
        self.updating_keys = [u[0] for u in self.updating]
        self.updating_absent = [_ABSENT] * len(self.updating)
        # A record's own column by its name; any other kind by a name no record has (its old
        # value is looked up where it is kept).
        self.updating_names = [name if where is _OWN else _ABSENT for _, name, where, _ in self.updating]
        self.updating_other = [None if where is _OWN else _OTHER for _, _, where, _ in self.updating]
        self.updating_range = range(len(self.updating))
        self.required_new = [s.name for s in required_fields(self.model)]
        # The values staged as JSON text: dates and decimals (the others are JSON already).
        self.plain_keys = [c.target.key for c in plan.columns
                           if c.target.spec is not None and c.target.spec.type in TEXT_IN_JSON]
        self.contact_keys = [c.target.key for c in plan.contact]
        self.contact_required = [s.name for s in required_fields(Contact) if s.name != "customer_id"]
        # Without a match key (visits, transactions without their number), a row whose every
        # column holds what a record of its customer holds is that record: the same visit
        # report imported twice, or the error report imported again whole, adds nothing.
        self.same_columns = [c for c in plan.own] if plan.key is None and not plan.many and not plan.custom \
            and not plan.contact and "customer_id" in {c.target.name for c in plan.own} else []
        self.same_keys = [c.target.key for c in self.same_columns]

    # one chunk ---------------------------------------------------------------------------
    def stage(self, batch_id: int, chunk: list[tuple[int, list]]) -> int:
        """Convert a chunk of ``(row number, cells)`` here, judge and stage it."""
        self.conversion.prime(chunk)
        self._write_pending()   # the last chunk's staged rows are written while this one converts
        judged = self.conversion.convert(chunk)
        if self.behind is not None:
            self.behind.wait()
        return self._stage(batch_id, judged, self._look_up(judged))

    def stage_converted(self, batch_id: int, judged: list[dict]) -> int:
        """Judge and stage a chunk the second process converted. The connection first serves
        this chunk's lookups. On PostgreSQL the last chunk's staged rows are then written
        (second thread) while this one is judged, and its own rows wait for the next chunk's
        lookups. On SQLite a chunk's rows are written as soon as it is judged, while the next
        one comes: its INSERTs bind their rows under Python's lock, which judging needs too
        (written while judging, a 100,000-row dry run of updates took 0.7-0.9 s longer)."""
        if self.behind is not None:
            self.behind.wait()
        # This process's relation columns learn the rows the chunk names: the preview's
        # texts of old and new values come from them.
        self.conversion.prime((j["row"], j["cells"]) for j in judged)
        looked_up = self._look_up(judged)
        if self.overlap:
            self._write_pending()
        count = self._stage(batch_id, judged, looked_up)
        if not self.overlap:
            self._write_pending()
        return count

    def _look_up(self, judged: list[dict]) -> tuple[dict, dict, dict, set]:
        """What judging a chunk asks the database: the records its keys match, the holders of
        its unique values, the matched customers' first contacts, the values of the records
        its keyless rows may repeat."""
        # Rows with errors too: such a row is still said to be new or an update, and what a
        # new record would lack is said with its other errors (_decide).
        existing = self._existing(judged)
        return existing, self._taken_uniques(judged, existing), self._contacts(existing), self._archived(judged)

    def _archived(self, judged: list[dict]) -> set[tuple]:
        """The values (in the order of ``same_keys``) of the records, within the user's row
        scope, of the customers the chunk's valid rows name, on the dates they name (the first
        date column mapped: a customer's years of visits are not read for one day's)."""
        if not self.same_columns:
            return set()
        rows = [j["values"] for j in judged if not j["errors"] and j["values"].get("customer_id") is not None]
        if not rows:
            return set()
        columns = [self.table.c[c.target.name] for c in self.same_columns]
        dated = next((c for c in self.same_columns if c.target.spec.type == FieldType.DATE), None)
        found = set()
        customers = sorted({v["customer_id"] for v in rows})
        for start in range(0, len(customers), IN_LIST):
            query = sa.select(*columns).where(bulk.among(self.session, self.table.c.customer_id,
                                                         customers[start:start + IN_LIST]))
            if dated is not None:
                days = sorted({v[dated.target.key] for v in rows if dated.target.key in v})
                query = query.where(bulk.among(self.session, self.table.c[dated.target.name], days))
            query = scope.scoped(query, self.model, self.plan.who.scope_user)
            found.update(tuple(row) for row in self.session.execute(query))
        return found

    def _stage(self, batch_id: int, judged: list[dict], looked_up: tuple[dict, dict, dict, set]) -> int:
        """Judge the chunk (asking the database nothing) and stage its rows: at once without a
        writing thread, else when the next chunk's lookups are done (or at :meth:`finish`)."""
        cell_text = reader.cell_text
        existing, taken, contacts, archived = looked_up
        out = []
        for item in judged:
            row = self._decide(batch_id, item, existing, taken, contacts, archived)
            # The file's own cells are kept for the rows that are not written (the error
            # report gives them back) and for updates (the preview shows the whole row);
            # new rows are shown from their staged values.
            row["raw"] = [c.strip() if c.__class__ is str else cell_text(c) for c in row["raw"]] \
                if row["status"] in (status.INVALID, status.DUPLICATE, status.UPDATE) else None
            out.append(row)
        if self.behind is None:
            bulk.executemany(self.session, ImportRow.__table__, out)
        else:
            self._write_pending()   # none is left by now; were one, it goes before this one
            self.pending = bulk.Insert(self.session.get_bind().dialect, ImportRow.__table__, out)
        return len(out)

    def _write_pending(self) -> None:
        if self.pending is not None:
            self.behind.submit([self.pending])
            self.pending = None

    def finish(self) -> None:
        """Write what is still pending (the last chunk)."""
        if self.behind is not None:
            self._write_pending()
            self.behind.wait()

    def _existing(self, judged: list[dict]) -> dict[tuple, dict]:
        """Match key → the existing record's columns, within the user's row scope."""
        key = self.plan.key
        if key is None:
            return {}
        wanted = {j["key"] for j in judged if j["key"] is not None}
        if not wanted:
            return {}
        lead = key.fields[-1]  # name+mobile: the mobile finds the candidates, the name decides
        names = ["id", "version", *dict.fromkeys(c.target.name for c in self.plan.own)]
        if CUSTOM_FIELD_COLUMN in self.table.c:
            names.append(CUSTOM_FIELD_COLUMN)
        for extra in ("number", "name", *key.fields):
            if extra in self.table.c:
                names.append(extra)
        columns = [self.table.c[n] for n in dict.fromkeys(names)]
        leads = {j["lookup"][-1] for j in judged if j["key"] is not None}
        found: dict[tuple, dict] = {}
        lead_column = self.table.c[lead]
        names = [c.name for c in columns]
        folded = conversion.folded

        def fetch(column, values) -> None:
            for start in range(0, len(values), IN_LIST):
                part = values[start:start + IN_LIST]
                query = scope.scoped(sa.select(*columns).where(bulk.among(self.session, column, part)), self.model,
                                     self.plan.who.scope_user)
                for row in self.session.execute(query):
                    record = dict(zip(names, row))
                    record_key = tuple(folded(record[f]) for f in key.fields)
                    if record_key in wanted:
                        held = found.setdefault(record_key, record)
                        if held["id"] != record["id"]:
                            # Two records answer to the key (two contacts with one mobile):
                            # neither is updated on a guess (_decide).
                            held.setdefault(_SHARED, {held["id"]}).add(record["id"])

        # Exact values (as cleaned), so the column's index serves the lookup.
        fetch(lead_column, sorted(leads, key=str))
        if len(found) < len(wanted) and isinstance(lead_column.type, sa.String):
            # Text written in another case than the archive's (kh202600001, Zhang.San@…) is
            # the same key, as it is within the file: see _other_case.
            missing = {j["lookup"][-1] for j in judged if j["key"] is not None and j["key"] not in found}
            self._other_case(lead_column, missing, fetch)
        self._links(found)
        return found

    def _other_case(self, column, values: set, fetch) -> None:
        """Fetch (through ``fetch``) the records whose ``column`` holds one of ``values`` in
        another case. A case-folded comparison of the column would read the whole table for
        each chunk (no index serves it), so the index is asked for the values in lower and in
        upper case, where the archive has such values at all; the values in mixed case
        (Zhang.San@…), which neither finds, are read once per dry run (:meth:`_mixed_case`)."""
        cased = [v for v in values if v.__class__ is str and v.lower() != v.upper()]
        if not cased:
            return
        lower, upper, mixed = self._cases(column)
        variants = set()
        if lower:
            variants.update(v.lower() for v in cased)
        if upper:
            variants.update(v.upper() for v in cased)
        variants -= values
        if variants:
            fetch(column, sorted(variants))
        if mixed:
            folded = conversion.folded
            ids = sorted({pk for v in cased for pk in mixed.get(folded(v), ())})
            if ids:
                fetch(self.table.c.id, ids)

    def _cases(self, column) -> tuple[bool, bool, dict[str, list[int]]]:
        """Whether ``column`` holds values with lower-case letters, with upper-case letters,
        and its values in mixed case (case-folded → ids): asked once per dry run, when a
        chunk first has a key the exact lookup did not find."""
        cases = self.cases.get(column.name)
        if cases is None:
            def some(condition) -> bool:
                return self.session.execute(sa.select(sa.literal(1)).select_from(self.table)
                                            .where(condition).limit(1)).first() is not None

            lower = some(column != sa.func.upper(column))
            upper = some(column != sa.func.lower(column))
            mixed: dict[str, list[int]] = {}
            if lower and upper:
                query = sa.select(self.table.c.id, column).where(column != sa.func.lower(column),
                                                                 column != sa.func.upper(column))
                for pk, value in self.session.execute(query):
                    mixed.setdefault(conversion.folded(value), []).append(pk)
            cases = self.cases[column.name] = (lower, upper, mixed)
        return cases

    def _links(self, found: dict) -> None:
        """The records' current links of each many-to-many column (ids, sorted), under the
        column's key, with one query per chunk of records."""
        if not self.plan.many or not found:
            return
        ids = [r["id"] for r in found.values()]
        for column in self.plan.many:
            now = tag_links.current(self.session, self.model, column.target.spec, ids)
            column.convert.many.remember({pk for linked in now.values() for pk in linked})
            for record in found.values():
                record[column.target.key] = now.get(record["id"], [])

    def _taken_uniques(self, judged: list[dict], existing: dict) -> dict[tuple[str, object], tuple[int, object]]:
        """(key, case-folded value) → (id, value as held) of the record holding a unique
        value, in any case, somewhere in the archive (any scope: a unique value is unique for
        everyone)."""
        taken, folded = {}, conversion.folded
        for column in self.unique_columns:
            key, table_column = column.target.key, self.table.c[column.target.name]
            rows = judged
            if self._found_whole(column):
                # The match on this very column found every record holding the values of the
                # rows it looked up (those without errors): only the others are asked for.
                taken.update(((key, folded(record[table_column.name])), (record["id"], record[table_column.name]))
                             for record in existing.values())
                rows = [j for j in judged if j["errors"]]
            values = {j["values"][key] for j in rows if key in j["values"]}

            def fetch(by, part_values, key=key, table_column=table_column) -> None:
                for start in range(0, len(part_values), IN_LIST):
                    query = sa.select(self.table.c.id, table_column).where(
                        bulk.among(self.session, by, part_values[start:start + IN_LIST]))
                    for pk, value in self.session.execute(query):
                        taken[(key, folded(value))] = (pk, value)

            fetch(table_column, sorted(values, key=str))
            if isinstance(table_column.type, sa.String):
                # Held in another case (kh202600001 beside KH202600001): see _other_case.
                self._other_case(table_column, {v for v in values if (key, folded(v)) not in taken}, fetch)
        return taken

    def _found_whole(self, column: Column) -> bool:
        """Whether the match found every record that holds the column's values: the column is
        the whole match key, and the user sees the whole archive (a unique value is unique for
        everyone, in reach or not)."""
        key = self.plan.key
        if key is None or tuple(key.fields) != (column.target.name,):
            return False
        user = self.plan.who.scope_user
        return user is scope.ALL or scope.kind(user) == scope.ALL

    def _contacts(self, existing: dict) -> dict[int, dict]:
        """Customer id → its first contact (the primary one, else the oldest), for the
        contact columns of a customer sheet."""
        if not self.plan.contact or not existing:
            return {}
        table = Contact.__table__
        ids = sorted(r["id"] for r in existing.values())
        names = ["id", "version", "customer_id", *dict.fromkeys(c.target.name for c in self.plan.contact)]
        found = {}
        for start in range(0, len(ids), 500):
            query = (sa.select(*(table.c[n] for n in dict.fromkeys(names)))
                     .where(bulk.among(self.session, table.c.customer_id, ids[start:start + 500]))
                     .order_by(table.c.customer_id, table.c.is_primary.desc(), table.c.id))
            for row in self.session.execute(query).mappings():
                found.setdefault(row["customer_id"], dict(row))
        return found

    # one row -----------------------------------------------------------------------------
    def _decide(self, batch_id: int, item: dict, existing: dict, taken: dict, contacts: dict,
                archived: set = frozenset()) -> dict:
        plan, values, errors = self.plan, item["values"], dict(item["errors"])
        record = existing.get(item["key"]) if item["key"] is not None else None
        row = {"batch_id": batch_id, "row_no": item["row"], "status": None, "target_id": None,
               "target_version": None, "target_label": None, "values": None, "diff": None, "errors": None,
               "raw": item["cells"], "contact_id": None}
        if record is not None and _SHARED in record:
            return self._count(row, status.INVALID, {**errors, "_row": str(_l(
                "%(n)s records have this %(key)s, and which one the row is for cannot be told: match on "
                "another key, or merge the duplicates first.", n=len(record[_SHARED]), key=plan.key.label))})
        if record is not None:
            row["target_id"], row["target_version"] = record["id"], record["version"]
            row["target_label"] = " ".join(str(record[c]) for c in ("number", "name") if record.get(c))[:300] or None
        # unique values: in the file, and in the archive
        for column in self.unique_columns:
            value = values.get(column.target.key)
            if value is None:
                continue
            holder, held = taken.get((column.target.key, conversion.folded(value)), (None, None))
            # A key column's value held by a record out of reach is taken too: no second record.
            if holder is not None and (record is None or holder != record["id"]):
                errors[column.target.key] = unique_values.taken_message(column.target.label, held)
            earlier = self.seen_unique[column.target.key].setdefault(conversion.folded(value), item["row"])
            if earlier != item["row"] and not (plan.key and column.target.key in plan.key.fields):
                errors[column.target.key] = str(_l("Same %(label)s as row %(row)s.", label=column.target.label,
                                                   row=earlier))
        if item["key"] is not None:
            earlier = self.seen_keys.setdefault(item["key"], item["row"])
            if earlier != item["row"]:
                if any(k in values for k in self.contact_keys):
                    # A customer listed once per contact: the other contacts are not dropped unsaid.
                    message = _l("Same %(key)s as row %(row)s: a customer sheet brings one contact per customer; "
                                 "import this row's contact from a sheet of contacts.", key=plan.key.label, row=earlier)
                else:
                    message = _l("Same %(key)s as row %(row)s.", key=plan.key.label, row=earlier)
                return self._count(row, status.DUPLICATE, {**errors, "_row": str(message)})
        elif not errors and values:
            # Without a (whole) key, a row whose values are all those of an earlier row is
            # that row again. One hash a row is kept, not the values.
            earlier = self.seen_rows.setdefault(hash(tuple(values.items())), item["row"])
            if earlier != item["row"]:
                return self._count(row, status.DUPLICATE, {
                    "_row": str(_l("Same values as row %(row)s.", row=earlier))})
            if archived and tuple(values.get(k) for k in self.same_keys) in archived:
                return self._count(row, status.DUPLICATE, {"_row": str(_l(
                    "Already in the archive: a record of this customer holds the same values in every column."))})
        if self.example is not None and values == self.example:
            return self._count(row, status.DUPLICATE, {
                "_row": str(_l("The example row of the import template: not imported."))})
        if errors:
            if record is None and plan.creates:
                # All of a row's errors at once: a field left empty too.
                errors.update((k, m) for k, m in self._missing(values).items() if k not in errors)
            return self._count(row, status.INVALID, errors)
        if record is None:
            return self._new(row, values)
        if not plan.updates:
            return self._count(row, status.DUPLICATE, {"_row": str(_l(
                "A record with this %(key)s exists already: %(label)s.", key=plan.key.label,
                label=row["target_label"] or record["id"]))})
        return self._update(row, values, record, contacts.get(record["id"]))

    def _count(self, row: dict, state: str, errors: dict | None = None) -> dict:
        row["status"] = state
        row["errors"] = errors or None
        self.counts[state] += 1
        return row

    def _new(self, row: dict, values: dict) -> dict:
        plan = self.plan
        if not plan.creates:
            return self._count(row, status.INVALID, {"_row": str(_l(
                "No record with this %(key)s (update only).", key=plan.key.label if plan.key else ""))})
        missing = self._missing(values)
        if missing:
            return self._count(row, status.INVALID, missing)
        for key in self.plain_keys:
            value = values.get(key)
            if value is not None:
                values[key] = plain(value)
        row["values"] = values
        return self._count(row, status.NEW)

    def _missing(self, values: dict) -> dict[str, str]:
        """A message per field a new record needs that the row leaves empty (the contact's
        only when the row fills a contact column)."""
        missing = {name: str(_l("This field is required.")) for name in self.required_new if name not in values}
        if any(k in values for k in self.contact_keys):
            missing.update({CONTACT + n: str(_l("This field is required."))
                            for n in self.contact_required if CONTACT + n not in values})
        return missing

    def _update(self, row: dict, values: dict, record: dict, contact: dict | None) -> dict:
        diff, changed = {}, {}
        updating = self.updating
        # Most cells of an update file hold the value the record has: the cells whose value
        # may differ are found with C-level gets over all columns at once (a record's own
        # columns; every other kind of column is looked at below), in the sheet's order.
        news = list(map(values.get, self.updating_keys, self.updating_absent))
        olds = list(map(record.get, self.updating_names, self.updating_other))
        for i in [i for i, o, n in zip(self.updating_range, olds, news)
                  if o != n or o.__class__ is not n.__class__ or o.__class__ is Decimal]:
            new = news[i]
            if new is _ABSENT:
                continue  # an empty cell leaves the field as it is
            key, name, where, column = updating[i]
            if where is _OWN:
                old = olds[i]
            elif where is _MANY:
                old = record.get(key) or []
                if set(old) != set(new):
                    changed[key] = list(new)
                    diff[key] = _many_diff(column, old, new)
                continue
            elif where is _CUSTOM:
                old = (record.get(CUSTOM_FIELD_COLUMN) or {}).get(key[len(CUSTOM):])
            else:
                old = contact.get(name) if contact else None
            if old == new and old.__class__ is new.__class__ and old.__class__ is not Decimal:
                continue
            if where is _OWN and name in self.key_names and conversion.folded(old) == conversion.folded(new):
                continue   # the key found its record in another case: the archive's writing is kept
            old_plain, new_plain = plain(old), plain(new)
            if old_plain == new_plain and not (isinstance(new, str) and new.startswith(NEW_CODE)):
                continue
            changed[key] = new_plain
            if column.convert.relation is None:
                diff[key] = {"old": old_plain, "new": new_plain}   # shown from these (api/imports.py)
            else:   # the related rows' texts now: the change history keeps them
                diff[key] = {"old": old_plain, "new": new_plain, "old_text": _shown(column, old),
                             "new_text": column.convert.display(new), "relation": True}
        if contact is None and any(k.startswith(CONTACT) for k in changed):
            absent = [n for n in self.contact_required if CONTACT + n not in values]
            if absent:
                return self._count(row, status.INVALID, {CONTACT + n: str(_l("This field is required."))
                                                         for n in absent})
        if not changed:
            return self._count(row, status.UNCHANGED)
        row["values"], row["diff"] = changed, diff
        if contact is not None:
            row["contact_id"] = contact["id"]
            row["values"]["_contact_version"] = contact["version"]
        return self._count(row, status.UPDATE)


_OWN, _MANY, _CUSTOM, _CONTACT = "own", "many", "custom", "contact"   # where an update's old value is
_SHARED = "_shared"   # in a matched record: the ids of all the records its key finds, when several
_ABSENT = object()
_OTHER = object()   # the old value of a column that is not the record's own: looked up apart


def _many_diff(column: Column, old: list, new) -> dict:
    many = column.convert.many
    return {"old": many.labels_of(old), "new": many.labels_of(new), "old_ids": list(old),
            "old_text": "、".join(many.labels_of(old)), "new_text": column.convert.display(new), "many": True}


def _shown(column: Column, old) -> str:
    if old is None:
        return ""
    spec = column.target.spec
    if spec is not None and spec.type == FieldType.RELATION:
        label = column.convert.relation.label(old)
        return label or str(old)
    return column.convert.display(old)


def _example_values(session: Session, plan: Plan) -> dict | None:
    """The values the import template's example row (template.example_row) gives the plan's
    columns, converted as its cells are: a row with exactly these values is that example,
    left in the file. None when the mapped columns hold too little of it to tell (fewer
    than three of its cells, or not all of them when it has fewer) or it cannot be read."""
    from .template import example_row

    try:
        example = example_row(plan.model, sees_sensitive=plan.who.sees_sensitive,
                              include_contact=plan.model.__name__ == "Customer", session=session)
    except Exception:   # the template's lists cannot be read: nothing to recognise
        return None
    values = {}
    for column in plan.columns:
        raw = example.get(column.target.key)
        if raw is None:
            continue
        if isinstance(raw, dt.date) and not isinstance(raw, dt.datetime):
            raw = dt.datetime.combine(raw, dt.time())   # as a date cell is read
        elif isinstance(raw, Decimal):
            raw = float(raw)                             # as a number cell is read
        try:
            column.convert.prime([raw])
            value = column.convert(raw)
        except Exception:
            return None
        if value is not None:
            values[column.target.key] = value
    return values if len(values) >= min(3, len(example)) else None
