"""The import's JSON endpoints, /api/v1/import/…: the fields a sheet may fill and the saved
mappings, upload, choosing the sheet and header row, the dry run, its rows page by page, the
commit, the undo, the error report, the import template and the history.

Behind FAB's permissions on ImportApi (``can_get`` reads one's batches, ``can_post`` does the
steps, ``can_manage`` sees everyone's) and ImportView's ``can_import_<resource>`` (which
records a role may import), plus ``can_add`` / ``can_edit`` on the resource's view for new
and changed records; the rows are matched within the user's row scope, sensitive fields are
importable only for those who see them. The work is done in portal.excel; these only
translate HTTP."""
from __future__ import annotations

import datetime as dt
import functools
import os
import tempfile
from urllib.parse import quote

import sqlalchemy as sa
from flask import request, send_file
from flask_appbuilder.api import BaseApi, expose
from flask_appbuilder.security.decorators import permission_name, protect
from flask_babel import lazy_gettext as _l

from portal.excel import importer, jobs, reader, retention, steps
from portal.excel.cells import policies
from portal.excel.headers import header_units
from portal.excel.importer import ImportRefused, Who
from portal.excel.mapping import match_keys, targets
from portal.excel.report import error_text, hidden_columns, masked_cells, write_errors
from portal.extensions import db
from portal.grid.resources import resource_named
from portal.models import ImportBatch, ImportMapping, ImportRow
from portal.models import imports as status
from portal.security import access_log, masking
from portal.security.permissions import current_user

from .refusals import RefusalsInUsersLanguage

MANAGE = "can_manage"
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
PAGE_SIZE, MAX_PAGE_SIZE = 50, 500
MAX_ID = 2 ** 31 - 1      # an id beyond any table's (a bigger one is no batch, not an overflow)
MAX_PAGE = 1_000_000


def _paging() -> tuple[int, int]:
    """?page= and ?size= of a list, clamped to what can be asked of the database."""
    page = min(max(request.args.get("page", 1, type=int) or 1, 1), MAX_PAGE)
    size = min(max(request.args.get("size", PAGE_SIZE, type=int) or PAGE_SIZE, 1), MAX_PAGE_SIZE)
    return page, size


def _flag(body: dict, name: str) -> bool:
    """A yes/no option of a JSON body: true/false, 1/0 or their text ("false" is no)."""
    value = body.get(name)
    if isinstance(value, str):
        value = value.strip().lower()
        if value in ("", "0", "false", "no", "off", "n"):
            return False
        if value in ("1", "true", "yes", "on", "y"):
            return True
        raise ImportRefused(_l("%(name)s is yes or no.", name=name), 400)
    if value is None or isinstance(value, (bool, int)):
        return bool(value)
    raise ImportRefused(_l("%(name)s is yes or no.", name=name), 400)


def _body() -> dict:
    """The request's JSON object (none: empty); anything else is refused."""
    body = request.get_json(silent=True)
    if body is None:
        return {}
    if not isinstance(body, dict):
        raise ImportRefused(_l("The request is not understood: a JSON object is expected."), 400)
    return body


def _checked_at(body: dict) -> dt.datetime | None:
    """The dry run a commit is for (the batch's ``prepared_at`` the user saw), if the client says."""
    value = body.get("prepared_at")
    if value is None:
        return None
    try:
        return dt.datetime.fromisoformat(value)
    except (TypeError, ValueError):
        raise ImportRefused(_l("The request is not understood: prepared_at is the time of the dry run."), 400)


def _refusals(method):
    """ImportRefused and ReadError become the user's message with their status code."""
    @functools.wraps(method)
    def wrapper(self, *args, **kwargs):
        try:
            return method(self, *args, **kwargs)
        except ImportRefused as exc:
            db.session.rollback()
            return self.response(exc.status_code, message=str(exc.message), **exc.extra)
        except reader.FileTooLarge as exc:
            db.session.rollback()
            return self.response(413, message=str(exc.message))
        except reader.ReadError as exc:
            db.session.rollback()
            return self.response(400, message=str(exc.message))

    return wrapper


def attachment(name: str, fallback: str) -> str:
    return f"attachment; filename=\"{fallback}\"; filename*=UTF-8''{quote(name)}"


class ImportApi(RefusalsInUsersLanguage, BaseApi):
    resource_name = "import"
    allow_browser_login = True
    openapi_spec_methods = {}

    def __init__(self):
        super().__init__()
        self.base_permissions = [*self.base_permissions, MANAGE]

    # -- who may do what ---------------------------------------------------------------------

    def _who(self) -> Who:
        return Who(user=current_user(), sees_sensitive=masking.can_see_sensitive())

    def _may_import(self, resource: str) -> bool:
        return self.appbuilder.sm.has_access(f"can_import_{resource}", "ImportView")

    def _resource(self, name: str):
        found = resource_named(name)
        if found is None or not self._may_import(name):
            raise ImportRefused(_l("You may not import these records."), 403 if found else 404)
        return found

    def _check_writes(self, batch: ImportBatch, mode: str) -> None:
        res = self._resource(batch.resource)
        sm = self.appbuilder.sm
        if mode in ("create", "upsert") and not sm.has_access("can_add", res.view):
            raise ImportRefused(_l("You may not add these records; choose update only."), 403)
        if mode in ("update", "upsert") and not sm.has_access("can_edit", res.view):
            raise ImportRefused(_l("You may not change these records; choose create only."), 403)

    def _batch(self, pk: int) -> ImportBatch:
        batch = db.session.get(ImportBatch, pk) if pk <= MAX_ID else None
        user = current_user()
        if batch is None or (batch.user_id != getattr(user, "id", None)
                             and not self.appbuilder.sm.has_access(MANAGE, self.class_permission_name)):
            access_log.record("not_found", "ImportBatch", pk, detail={"via": "import"})
            raise ImportRefused(_l("There is no such import, or it is not yours."), 404)
        before = batch.status
        jobs.settle(batch)
        if batch.status != before:
            db.session.commit()
        return batch

    def _answer(self, batch: ImportBatch, code: int = 200):
        return self.response(code, **batch_json(batch))

    # -- fields, mappings, template ----------------------------------------------------------

    @expose("/<resource>/fields", methods=["GET"])
    @protect()
    @permission_name("get")
    @_refusals
    def fields(self, resource: str):
        res = self._resource(resource)
        who = self._who()
        found = []
        for target in targets(res.model, sees_sensitive=who.sees_sensitive).values():
            spec = target.spec
            found.append({"name": target.key, "label": target.label, "type": spec.type.value,
                          "required": bool(spec.required and target.key in _required_names(res.model)),
                          "choices": [c.label for c in spec.choices] or None,
                          "policy": list(policies(target.model, spec) or []) or None})
        keys = [{"key": k.key, "label": str(k.label), "fields": list(k.fields)}
                for k in match_keys(res.model, sees_sensitive=who.sees_sensitive)]
        mappings = [{"id": m.id, "name": m.name, "mapping_by_header": m.by_header, "options": m.options}
                    for m in db.session.scalars(sa.select(ImportMapping).filter_by(resource=res.name)
                                                .order_by(ImportMapping.name))]
        return self.response(200, fields=found, match_keys=keys, mappings=mappings,
                             template=f"/api/v1/import/{res.name}/template.xlsx")

    @expose("/mappings/<int:pk>", methods=["DELETE"])
    @protect()
    @permission_name("post")
    @_refusals
    def delete_mapping(self, pk: int):
        mapping = db.session.get(ImportMapping, pk)
        user = current_user()
        if mapping is None or not self._may_import(mapping.resource) or (
                mapping.owner_id != getattr(user, "id", None)
                and not self.appbuilder.sm.has_access(MANAGE, self.class_permission_name)):
            return self.response_404()
        db.session.delete(mapping)
        db.session.commit()
        return self.response(204)

    @expose("/<resource>/template.xlsx", methods=["GET"])
    @protect()
    @permission_name("get")
    @_refusals
    def template(self, resource: str):
        from portal.excel.template import write_template

        res = self._resource(resource)
        stream = tempfile.TemporaryFile()
        write_template(stream, res.model, sees_sensitive=masking.can_see_sensitive(),
                       include_contact=res.name == "customer", session=db.session)
        stream.seek(0)
        response = send_file(stream, mimetype=XLSX, as_attachment=True, download_name=f"{res.name}-template.xlsx")
        # Not an f-string around _l(): the extractor would not see the msgid, and zh users got English.
        name = _l("%(records)s-import template", records=res.plural)
        response.headers["Content-Disposition"] = attachment(f"{name}.xlsx", f"{res.name}-template.xlsx")
        return response

    # -- the steps ---------------------------------------------------------------------------

    @expose("/<resource>/upload", methods=["POST"])
    @protect()
    @permission_name("post")
    @_refusals
    def upload(self, resource: str):
        self._resource(resource)
        upload = request.files.get("file")
        if upload is None or not upload.filename:
            raise ImportRefused(_l("Choose a file to upload."), 400)
        handle, path = tempfile.mkstemp(prefix="import-")
        try:
            with os.fdopen(handle, "wb") as out:
                upload.save(out)
            mapping_id = request.form.get("mapping_id", type=int)
            batch = importer.upload(db.session, path, upload.filename, resource, self._who(), mapping_id=mapping_id)
            db.session.commit()
        finally:
            os.unlink(path)
        access_log.record("import", "ImportBatch", batch.id, detail={"step": "upload", "file": batch.file_name,
                                                                     "resource": resource})
        return self._answer(batch, 201)

    @expose("/batches/<int:pk>/sheet", methods=["POST"])
    @protect()
    @permission_name("post")
    @_refusals
    def sheet(self, pk: int):
        batch = self._batch(pk)
        body = _body()
        header_row = body.get("header_row")
        try:
            if isinstance(header_row, float) and not header_row.is_integer():
                raise ValueError(header_row)
            header_row = int(header_row) if header_row not in (None, "") else None
        except (TypeError, ValueError):
            raise ImportRefused(_l("The header row is a row number."), 400)
        saved = importer.saved_mapping(db.session, batch.resource, body.get("mapping_id"))
        importer.choose_sheet(db.session, batch, str(body.get("sheet") or batch.sheet), header_row=header_row,
                              who=self._who(), saved=saved)
        db.session.commit()
        return self._answer(batch)

    @expose("/batches/<int:pk>/prepare", methods=["POST"])
    @protect()
    @permission_name("post")
    @_refusals
    def prepare(self, pk: int):
        batch = self._batch(pk)
        body = request.get_json(silent=True)
        if not isinstance(body, dict):
            raise ImportRefused(_l("The mapping and options are missing."), 400)
        mapping, options = body.get("mapping"), body.get("options") or {}
        if mapping is not None and not isinstance(mapping, dict) or not isinstance(options, dict):
            raise ImportRefused(_l("The mapping and options are missing."), 400)
        save_as = body.get("save_mapping_as") or None
        if save_as is not None and not isinstance(save_as, str):
            raise ImportRefused(_l("A mapping is saved under a name."), 400)
        if "all_or_nothing" in options:
            options = {**options, "all_or_nothing": _flag(options, "all_or_nothing")}
        self._check_writes(batch, options.get("mode") or (batch.options or {}).get("mode") or "upsert")
        steps.run("prepare", batch, self._who(), mapping=mapping, options=options, save_as=save_as)
        return self._answer(batch, 202)

    @expose("/batches/<int:pk>/commit", methods=["POST"])
    @protect()
    @permission_name("post")
    @_refusals
    def commit(self, pk: int):
        batch = self._batch(pk)
        self._check_writes(batch, (batch.options or {}).get("mode") or "upsert")
        steps.run("commit", batch, self._who(), checked_at=_checked_at(_body()))
        return self._answer(batch, 202)

    @expose("/batches/<int:pk>/undo", methods=["POST"])
    @protect()
    @permission_name("post")
    @_refusals
    def undo(self, pk: int):
        batch = self._batch(pk)
        self._check_writes(batch, (batch.options or {}).get("mode") or "upsert")
        steps.run("undo", batch, self._who(), partial=_flag(_body(), "partial"))
        return self._answer(batch)

    # -- reading -----------------------------------------------------------------------------

    @expose("/batches/<int:pk>", methods=["GET"])
    @protect()
    @permission_name("get")
    @_refusals
    def batch(self, pk: int):
        return self._answer(self._batch(pk))

    @expose("/batches/<int:pk>/rows", methods=["GET"])
    @protect()
    @permission_name("get")
    @_refusals
    def rows(self, pk: int):
        batch = self._batch(pk)
        state = request.args.get("status") or None
        if state is not None and state not in status.ROW_STATUSES:
            raise ImportRefused(_l("Unknown row status %(s)s.", s=state), 400)
        page, size = _paging()
        return self.response(200, **rows_page(batch, state, page, size))

    @expose("/batches/<int:pk>/errors.xlsx", methods=["GET"])
    @protect()
    @permission_name("get")
    @_refusals
    def errors(self, pk: int):
        batch = self._batch(pk)
        stream = tempfile.TemporaryFile()
        written = write_errors(stream, db.session, batch, sees_sensitive=masking.can_see_sensitive())
        access_log.record("export", "ImportBatch", batch.id, row_count=written,
                          detail={"via": "import", "kind": "error report"})
        stream.seek(0)
        base = os.path.splitext(batch.file_name)[0]
        response = send_file(stream, mimetype=XLSX, as_attachment=True, download_name=f"import-{batch.id}-errors.xlsx")
        name = _l("%(file)s-errors", file=base)
        response.headers["Content-Disposition"] = attachment(f"{name}.xlsx", f"import-{batch.id}-errors.xlsx")
        return response

    @expose("/batches", methods=["GET"])
    @protect()
    @permission_name("get")
    @_refusals
    def history(self):
        query = sa.select(ImportBatch)
        if not self.appbuilder.sm.has_access(MANAGE, self.class_permission_name):
            query = query.where(ImportBatch.user_id == getattr(current_user(), "id", None))
        if request.args.get("resource"):
            query = query.where(ImportBatch.resource == request.args["resource"])
        total = db.session.scalar(sa.select(sa.func.count()).select_from(query.subquery()))
        page, size = _paging()
        found = db.session.scalars(query.order_by(ImportBatch.created_at.desc(), ImportBatch.id.desc())
                                   .offset((page - 1) * size).limit(size)).all()
        for batch in found:
            jobs.settle(batch)
        return self.response(200, batches=[batch_json(b) for b in found], total=total, page=page, size=size)


def _required_names(model) -> set[str]:
    return {s.name for s in importer.required_fields(model)}


def batch_json(batch: ImportBatch) -> dict:
    progress = jobs.read_progress(batch.id) if batch.status in status.RUNNING else None
    hidden = hidden_columns(batch, masking.can_see_sensitive())
    counts = batch.counts or {}
    return {
        "id": batch.id, "resource": batch.resource, "file_name": batch.file_name, "username": batch.username,
        "created_at": batch.created_at.isoformat() if batch.created_at else None, "status": batch.status,
        "status_label": importer.status_label(batch.status),
        "progress": {"phase": progress.get("phase"), "done": progress.get("done"), "total": progress.get("total")}
        if progress else {"phase": None, "done": None, "total": None},
        "error": batch.error, "sheet": batch.sheet, "header_row": batch.header_row,
        # The merged ranges kept for the dry run are not the browser's business.
        "sheets": [{k: v for k, v in s.items() if k != "merged"} for s in batch.sheets or []],
        "headers": batch.headers or [], "mapping": batch.mapping or {},
        "sample": [masked_cells(list(row), hidden) for row in batch.sample or []],
        "units": header_units(batch.headers or []),
        "options": batch.options or {}, "counts": counts,
        "can_commit": batch.status == status.PREVIEWED and bool(counts.get("new") or counts.get("update"))
        and not ((batch.options or {}).get("all_or_nothing") and (counts.get("invalid") or counts.get("duplicate"))),
        "can_undo": batch.status == status.COMMITTED and not retention.is_pruned(batch),
        "notice": str(notice) if (notice := retention.pruned_notice(batch)) else None,
        "prepared_at": batch.prepared_at.isoformat() if batch.prepared_at else None,
        "committed_at": batch.committed_at.isoformat() if batch.committed_at else None,
        "undone_at": batch.undone_at.isoformat() if batch.undone_at else None,
        "links": {"rows": f"/api/v1/import/batches/{batch.id}/rows",
                  "errors": f"/api/v1/import/batches/{batch.id}/errors.xlsx", "page": f"/import/batches/{batch.id}"},
    }


class _Display:
    """The text of staged (JSON) values for one page of the preview: choices by their label,
    related rows by theirs (looked up once for the page; a many-to-many's joined with "、" in
    the card's order), yes/no, numbers and dates as text."""

    def __init__(self, model, rows):
        from portal.excel.cells import NEW_CODE
        from portal.grid.lookups import label_of, related_model

        self.model, self.new_code = model, NEW_CODE
        self.targets = {}
        self.labels: dict[str, dict] = {}
        wanted: dict[str, set] = {}
        for row in rows:
            for key, value in (row["values"] or {}).items():
                target = self._target(key)
                kind = target.spec.type.value if target is not None and target.spec is not None else None
                if kind == "relation" and isinstance(value, int):
                    wanted.setdefault(key, set()).add(value)
                elif kind == "relation_many" and isinstance(value, list):
                    wanted.setdefault(key, set()).update(v for v in value if isinstance(v, int))
        for key, ids in wanted.items():
            target = self.targets[key]
            related = related_model(target.model, target.spec)
            order = getattr(target.model, target.spec.name).property.order_by or () \
                if target.spec.type.value == "relation_many" else ()
            found = db.session.scalars(sa.select(related).where(related.id.in_(sorted(ids)))
                                       .order_by(*order, related.id)).all()
            self.labels[key] = {r.id: label_of(r) for r in found}   # in the card's order

    def _target(self, key):
        if key not in self.targets:
            self.targets[key] = importer.resolve(self.model, key, sees_sensitive=True)
        return self.targets[key]

    def __call__(self, key, value) -> str:
        if value is None:
            return ""
        target = self._target(key)
        spec = target.spec if target is not None else None
        if spec is None:
            return str(value)
        if spec.type.value == "relation_many" and isinstance(value, list):
            labels = self.labels.get(key, {})
            known = [text for pk, text in labels.items() if pk in value]
            added = [str(_l("%(name)s (new)", name=v[len(self.new_code):])) for v in value
                     if isinstance(v, str) and v.startswith(self.new_code)]
            return "、".join(known + added)
        if spec.type.value == "relation":
            if isinstance(value, str) and value.startswith(self.new_code):
                return str(_l("%(name)s (new)", name=value[len(self.new_code):]))
            return self.labels.get(key, {}).get(value, str(value))
        if spec.type.value == "choice":
            return spec.choice_label(value)
        if isinstance(value, bool):
            return str(_l("Yes")) if value else str(_l("No"))
        if spec.type.value == "datetime" and isinstance(value, str):
            return reader.cell_text(dt.datetime.fromisoformat(value))   # 2026-03-02 14:30, as the sheet shows it
        return str(value)


def _diff_text(shown: _Display, key: str, entry: dict, side: str) -> str:
    """An update's old or new value as the preview shows it: the text the dry run kept (a
    related row's, a tag list's), else the value's text."""
    text = entry.get(f"{side}_text")
    if text is not None:
        return text
    if entry.get("relation") or entry.get("many"):
        return "" if entry.get(side) is None else str(entry.get(side))
    return shown(key, entry.get(side))


def rows_page(batch: ImportBatch, state: str | None, page: int, size: int) -> dict:
    """One page of the dry run's rows: errors first unless a status is asked for."""
    table = ImportRow.__table__
    query = sa.select(table).where(table.c.batch_id == batch.id)
    if state:
        query = query.where(table.c.status == state)
    order = sa.case({s: i for i, s in enumerate(status.ROW_STATUSES)}, value=table.c.status)
    total = db.session.scalar(sa.select(sa.func.count()).select_from(query.subquery()))
    found = db.session.execute(query.order_by(order, table.c.row_no).offset((page - 1) * size).limit(size)).mappings()
    model = importer.model_of(batch.resource)
    mapped = {int(i): key for i, key in (batch.mapping or {}).items() if key}
    labels, hidden = {}, set()
    sees = masking.can_see_sensitive()
    for key in mapped.values():
        target = importer.resolve(model, key, sees_sensitive=True)
        labels[key] = target.label if target is not None else key
        if target is not None and target.spec is not None and target.spec.sensitive and not sees:
            hidden.add(key)  # e.g. the auditor reading a custodian's batch
    found = list(found)
    shown = _Display(model, found)
    rows = []
    for row in found:
        if row["raw"] is not None:
            raw = row["raw"]
            values = {key: (raw[i] if i < len(raw) else "") for i, key in mapped.items()}
        else:
            values = {key: shown(key, (row["values"] or {}).get(key)) for key in mapped.values()}
        diff = {key: {"label": labels.get(key, key), "old": _diff_text(shown, key, entry, "old"),
                      "new": _diff_text(shown, key, entry, "new")} for key, entry in (row["diff"] or {}).items()}
        for key in hidden:
            if values.get(key):
                values[key] = masking.MASK
            if key in diff:
                diff[key]["old"] = diff[key]["new"] = masking.MASK
        rows.append({"row": row["row_no"], "status": row["status"],
                     "target": {"id": row["target_id"], "label": row["target_label"]} if row["target_id"] else None,
                     "values": values, "diff": diff, "errors": row["errors"] or {},
                     "message": error_text(batch, row["errors"])})
    return {"rows": rows, "total": total, "page": page, "size": size, "labels": labels}
