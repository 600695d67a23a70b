"""The grid's JSON endpoints: /api/v1/grid/<resource>/schema and …/rows (read path).

Behind FAB's permissions (``can_get`` on GridApi) and the gate: rows are scoped before
counting, sensitive values masked, and every page read is in the access log."""
from __future__ import annotations

from flask import request
from flask_appbuilder.api import BaseApi, expose
from flask_appbuilder.security.decorators import permission_name, protect

from portal.context import changes_from
from portal.extensions import db
from portal.grid.columns import columns_for
from portal.grid.edit import CellRefused, update_cell
from portal.grid.lookups import lookup
from portal.grid.rows import GridRequest, GridRequestError, fetch
from portal.models import Customer
from portal.security import access_log

# resource → (model, the form view whose edit permission makes cells editable)
RESOURCES = {"customer": (Customer, "CustomerView")}


class GridApi(BaseApi):
    resource_name = "grid"
    allow_browser_login = True  # the grid page calls it with the session cookie
    openapi_spec_methods = {}

    def _resource(self, resource: str):
        if resource not in RESOURCES:
            return None
        return RESOURCES[resource]

    @expose("/<resource>/schema", methods=["GET"])
    @protect()
    @permission_name("get")
    def schema(self, resource: str):
        found = self._resource(resource)
        if found is None:
            return self.response_404()
        model, view = found
        can_write = self.appbuilder.sm.has_access("can_edit", view)
        return self.response(200, columns=columns_for(model, can_write=can_write))

    @expose("/<resource>/rows", methods=["GET"])
    @protect()
    @permission_name("get")
    def rows(self, resource: str):
        found = self._resource(resource)
        if found is None:
            return self.response_404()
        model, _ = found
        try:
            grid_request = GridRequest.parse(request.args)
            result = fetch(db.session, model, grid_request)
        except GridRequestError as exc:
            return self.response_400(message=str(exc.message))
        access_log.record("list", model.__name__, row_count=result["total"],
                          detail={"via": "grid", "filters": grid_request.filters, "q": grid_request.q,
                                  "sort": request.args.get("sort")})
        return self.response(200, **result)

    @expose("/<resource>/lookup/<field>", methods=["GET"])
    @protect()
    @permission_name("get")
    def lookup(self, resource: str, field: str):
        """Type-ahead for a relation column: ?q=… → [{id, label}] (at most 20)."""
        found = self._resource(resource)
        if found is None:
            return self.response_404()
        try:
            return self.response(200, result=lookup(db.session, found[0], field, request.args.get("q", "")))
        except GridRequestError as exc:
            return self.response_400(message=str(exc.message))

    @expose("/<resource>/rows/<int:pk>", methods=["PATCH"])
    @protect()
    @permission_name("put")
    def update(self, resource: str, pk: int):
        """One cell: {"field": …, "value": …, "version": the version the row was loaded with}."""
        found = self._resource(resource)
        if found is None:
            return self.response_404()
        model, view = found
        body = request.get_json(silent=True)
        if not isinstance(body, dict) or "field" not in body:
            return self.response_400(message="{field, value, version} expected")
        try:
            with changes_from("grid"):
                row = update_cell(db.session, model, pk, body["field"], body.get("value"), body.get("version"),
                                  can_write=self.appbuilder.sm.has_access("can_edit", view))
        except CellRefused as exc:
            db.session.rollback()
            if exc.status in (403, 404):
                access_log.record("denied" if exc.status == 403 else "not_found", model.__name__, pk,
                                  detail={"via": "grid", "field": body.get("field")})
            return self.response(exc.status, **exc.payload)
        return self.response(200, row=row)
