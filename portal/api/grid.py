"""The grid's JSON endpoints, /api/v1/grid/<resource>/… for customer, contact, transaction
and visit: schema, rows, count, lookups, writes (one cell, batches, their undo and redo),
saved layouts and views, and export of the current view.

Behind FAB's permissions on GridApi — ``can_get`` (read), ``can_put`` (write; each record
also needs ``can_edit`` / ``can_add`` on the resource's form view), ``can_layout`` (save
layouts and views), ``can_export``, ``can_manage_views`` (delete others' shared views) —
and the gate: rows scoped before counting, sensitive values masked, reads, exports and
refusals in the access log. The work is done in portal.grid; these only translate HTTP."""
from __future__ import annotations

import functools
import tempfile

from flask import flash, g, redirect, request, send_file
from flask_appbuilder.api import BaseApi, expose
from flask_appbuilder.security.decorators import permission_name, protect
from flask_babel import lazy_gettext as _l

from portal.analysis import drill as drills
from portal.context import changes_from
from portal.excel import limits
from portal.extensions import db
from portal.grid import batches, layouts, undo
from portal.grid import rows as grid_rows
from portal.grid import export as grid_export
from portal.grid.batches import BatchRefused
from portal.grid.columns import columns_for
from portal.grid.edit import CellRefused, update_cell
from portal.grid.layouts import LayoutRefused
from portal.grid.lookups import lookup as lookup_choices
from portal.grid.query import GridRequest, GridRequestError
from portal.grid.resources import resource_named
from portal.grid.writes import Rights
from portal.security import access_log, masking, scope
from portal.security.permissions import current_user

from .refusals import RefusalsInUsersLanguage

MANAGE_VIEWS = "can_manage_views"


def _with_resource(method):
    """Resolve ``resource`` to the grid's description (404 when there is no such grid)."""
    @functools.wraps(method)
    def wrapper(self, resource: str, **kwargs):
        found = resource_named(resource)
        if found is None:
            return self.response_404()
        return method(self, found, **kwargs)

    return wrapper


class GridApi(RefusalsInUsersLanguage, BaseApi):
    resource_name = "grid"
    allow_browser_login = True  # the grid page calls it with the session cookie
    openapi_spec_methods = {}

    def __init__(self):
        super().__init__()
        # Deleting a view someone else shared (custodian): a right without a route of its own.
        self.base_permissions = [*self.base_permissions, MANAGE_VIEWS]

    def _rights(self, res) -> Rights:
        sm, user = self.appbuilder.sm, current_user()
        return Rights(can_write=sm.has_access("can_edit", res.view), can_create=sm.has_access("can_add", res.view),
                      sees_sensitive=masking.can_see_sensitive(), scope_kind=scope.kind(user),
                      user_id=getattr(user, "id", None))

    def _log_denials(self, res, batch_id, denials) -> None:
        for denial in denials:
            access_log.record(denial.action, res.model.__name__, denial.object_id,
                              detail={"via": "grid", "batch": batch_id, "fields": denial.fields or None})

    # -- reading ------------------------------------------------------------------------------

    @expose("/<resource>/schema", methods=["GET"])
    @protect()
    @permission_name("get")
    @_with_resource
    def schema(self, res):
        rights = self._rights(res)
        can_export = self.appbuilder.sm.has_access("can_export", self.class_permission_name)
        return self.response(200, resource=res.name, title=str(res.plural), can_write=rights.can_write,
                             can_create=rights.can_create, can_export=can_export, card_url=res.card_url,
                             edit_url=res.edit_url, columns=columns_for(res, can_write=rights.can_write))

    @expose("/<resource>/rows", methods=["GET"])
    @protect()
    @permission_name("get")
    @_with_resource
    def rows(self, res):
        """?page=&size=&sort=a,-b&f.<field>=&q=&count=1|0&drill=<name>&d.<param>= (portal.analysis.drill)"""
        try:
            grid_request = GridRequest.parse(request.args)
            result = grid_rows.fetch(db.session, res.model, grid_request)
        except GridRequestError as exc:
            return self.response_400(message=str(exc.message))
        if grid_request.drill is not None:   # the chip "Filtered by: …"
            result["drill"] = {"name": grid_request.drill[0], "label": drills.describe(*grid_request.drill)}
        access_log.record("list", res.model.__name__,
                          row_count=result["total"] if result["total"] is not None else len(result["rows"]),
                          detail={"via": "grid", "filters": grid_request.filters, "q": grid_request.q,
                                  "sort": request.args.get("sort"), "drill": grid_request.drill})
        return self.response(200, **result)

    @expose("/<resource>/rows/<int:pk>", methods=["GET"])
    @protect()
    @permission_name("get")
    @_with_resource
    def row(self, res, pk: int):
        """One row, as the grid shows it (after its card was edited elsewhere)."""
        found = grid_rows.one(db.session, res.model, pk)
        if found is None:
            access_log.record("not_found", res.model.__name__, pk, detail={"via": "grid"})
            return self.response_404()
        access_log.record("show", res.model.__name__, pk, detail={"via": "grid"})
        return self.response(200, row=found)

    @expose("/<resource>/count", methods=["GET"])
    @protect()
    @permission_name("get")
    @_with_resource
    def count(self, res):
        """The exact count of the rows the same filters yield (the page read is logged)."""
        try:
            grid_request = GridRequest.parse(request.args)
            total = grid_rows.count(db.session, res.model, grid_request)
        except GridRequestError as exc:
            return self.response_400(message=str(exc.message))
        return self.response(200, total=total, estimate=grid_rows.estimate(db.session, res.model, grid_request))

    @expose("/<resource>/lookup/<field>", methods=["GET"])
    @protect()
    @permission_name("get")
    @_with_resource
    def lookup(self, res, field: str):
        """Type-ahead for a relation column: ?q=… → [{id, label}] (at most 20)."""
        try:
            return self.response(200, result=lookup_choices(db.session, res.model, field, request.args.get("q", "")))
        except GridRequestError as exc:
            return self.response_400(message=str(exc.message))

    @expose("/<resource>/export", methods=["GET"])
    @protect()
    @permission_name("export")
    @_with_resource
    def export(self, res):
        """?format=xlsx|csv&columns=a,b,c&sort=&f.<field>=&q= → the current view as a file, within
        the user's export limits (portal.excel.limits); a refusal is a 403 with its message — or,
        for a browser that navigated here, the grid page again with the message shown."""
        fmt = request.args.get("format", "xlsx")
        stream = tempfile.TemporaryFile()
        try:
            grid_request = GridRequest.parse(request.args)
            exported = grid_export.export(db.session, res, grid_request, request.args.get("columns"), fmt, stream)
        except GridRequestError as exc:
            stream.close()
            return self.response_400(message=str(exc.message))
        except limits.ExportRefused as refused:
            stream.close()
            limits.log_refusal("grid", res.model.__name__, refused, filters=grid_request.filters, q=grid_request.q,
                               format=fmt)
            if request.accept_mimetypes.best_match(["application/json", "text/html"]) == "text/html":
                flash(str(refused.message), "warning")
                return redirect(f"/grid/{res.name}/")
            return self.response(403, message=str(refused.message))
        limits.log_export("grid", res.model.__name__, exported.rows, filters=grid_request.filters,
                          drill=grid_request.drill,
                          columns=[s.form_name for s in exported.columns],
                          withheld=[s.form_name for s in exported.withheld],
                          format=fmt, q=grid_request.q, sort=request.args.get("sort"))
        stream.seek(0)
        response = send_file(stream, mimetype=grid_export.MIMETYPES[fmt], as_attachment=True,
                             download_name=f"{res.name}.{fmt}")
        response.headers["Content-Disposition"] = grid_export.content_disposition(res, fmt)
        return response

    # -- writing ------------------------------------------------------------------------------

    @expose("/<resource>/rows/<int:pk>", methods=["PATCH"])
    @protect()
    @permission_name("put")
    @_with_resource
    def update(self, res, pk: int):
        """One cell: {"field": …, "value": …, "version": the version the row was loaded with}."""
        body = request.get_json(silent=True)
        if not isinstance(body, dict) or "field" not in body:
            return self.response_400(message=str(_l(
                "A cell's change is a JSON object with its field, value and version.")))
        try:
            with changes_from("grid"):
                row = update_cell(db.session, res, self._rights(res), pk, body["field"], body.get("value"),
                                  body.get("version"))
        except CellRefused as exc:
            if exc.status in (403, 404):
                access_log.record("denied" if exc.status == 403 else "not_found", res.model.__name__, pk,
                                  detail={"via": "grid", "field": body.get("field")})
            return self.response(exc.status, **exc.payload)
        return self.response(200, row=row)

    def _batch_answer(self, res, run, batch_id):
        try:
            answer, denials = run()
            db.session.commit()
        except BatchRefused as exc:
            db.session.rollback()
            return self.response(exc.status, message=exc.message)
        self._log_denials(res, batch_id, denials)
        return self.response(200, **answer)

    @expose("/<resource>/batches", methods=["POST"])
    @protect()
    @permission_name("put")
    @_with_resource
    def batch(self, res):
        """{"id": client uuid, "changes": [{"key", "id"|null, "version", "values": {field: value}}]}"""
        body = request.get_json(silent=True)
        rights = self._rights(res)
        return self._batch_answer(res, lambda: batches.apply_batch(db.session, res, rights, body),
                                  (body or {}).get("id") if isinstance(body, dict) else None)

    @expose("/<resource>/batches/<batch_id>/undo", methods=["POST"])
    @protect()
    @permission_name("put")
    @_with_resource
    def undo_batch(self, res, batch_id: str):
        rights = self._rights(res)
        return self._batch_answer(res, lambda: undo.undo(db.session, res, rights, batch_id), batch_id)

    @expose("/<resource>/batches/<batch_id>/redo", methods=["POST"])
    @protect()
    @permission_name("put")
    @_with_resource
    def redo_batch(self, res, batch_id: str):
        rights = self._rights(res)
        return self._batch_answer(res, lambda: undo.redo(db.session, res, rights, batch_id), batch_id)

    # -- layouts and views --------------------------------------------------------------------

    def _layout_answer(self, run, status: int = 200):
        try:
            answer = run()
            if answer is None:
                db.session.rollback()
                return self.response_404()
            db.session.commit()
        except LayoutRefused as exc:
            db.session.rollback()
            return self.response(exc.status, message=exc.message)
        return self.response(status, **answer)

    @expose("/<resource>/views", methods=["GET"])
    @protect()
    @permission_name("layout")
    @_with_resource
    def views(self, res):
        """{"current": my layout or null, "views": mine and those shared with me, by name}"""
        return self.response(200, **layouts.views_of(db.session, res, g.user.id))

    @expose("/<resource>/layout", methods=["PUT"])
    @protect()
    @permission_name("layout")
    @_with_resource
    def save_layout(self, res):
        """{"layout": {...}} → my current layout of this grid."""
        body = request.get_json(silent=True) or {}
        return self._layout_answer(lambda: {"layout": layouts.save_current(
            db.session, res, g.user.id, body.get("layout") if isinstance(body, dict) else None)})

    @expose("/<resource>/views", methods=["POST"])
    @protect()
    @permission_name("layout")
    @_with_resource
    def create_view(self, res):
        """{"name", "shared", "layout"} → 201 the view."""
        body = request.get_json(silent=True)
        return self._layout_answer(lambda: layouts.create_view(db.session, res, g.user.id, body), status=201)

    @expose("/<resource>/views/<int:pk>", methods=["PUT"])
    @protect()
    @permission_name("layout")
    @_with_resource
    def update_view(self, res, pk: int):
        body = request.get_json(silent=True)
        return self._layout_answer(lambda: layouts.update_view(db.session, res, g.user.id, pk, body))

    @expose("/<resource>/views/<int:pk>", methods=["DELETE"])
    @protect()
    @permission_name("layout")
    @_with_resource
    def delete_view(self, res, pk: int):
        may_moderate = self.appbuilder.sm.has_access(MANAGE_VIEWS, self.class_permission_name)
        return self._layout_answer(lambda: {"id": pk, "deleted": True} if layouts.delete_view(
            db.session, res, g.user.id, pk, may_moderate=may_moderate) else None)
