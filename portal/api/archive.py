"""REST API of archive records (FAB ModelRestApi) with the gate applied: row scope through
the scoped interface (outside the scope answers 404, logged), sensitive fields masked in
every response and refused on write, registry validation on write, the record version
required on update (409 with who and when on a stale one), and the access log."""
from __future__ import annotations

import re

import sqlalchemy as sa
from flask import request
from flask_appbuilder.api import ModelRestApi
from flask_appbuilder.exceptions import DatabaseException
from marshmallow import ValidationError
from flask_babel import LazyString, lazy_gettext as _l

from portal.extensions import db
from portal.fields import FieldInvalid, FieldType, clean, fields_of
from portal.fields.registry import description_columns, label_columns
from portal.grid.values import REQUIRED, related_id
from portal.grid.writes import NOT_IN_REACH
from portal.models import Contact, Customer
from portal.security import access_log, locking, masking
from portal.security.interface import ScopedInterface
from portal.services import archive, numbering, unique_values

from .refusals import RefusalsInUsersLanguage

# A unique value taken between the check and the write: FAB would answer with the database's
# own text (a PUT) or a bare 500 (a POST).
TAKEN_MEANWHILE = _l("A value that must be unique (such as a customer number) is used by another record: "
                     "nothing was saved.")
NOT_SAVED = _l("This record could not be saved.")

# What FAB says of a bad ``q``, in the user's language; anything else as it is.
NOT_A_QUERY = _l("The q parameter is not valid Rison or JSON, or holds a value of the wrong type.")
QUERY_MESSAGES = (
    (re.compile(r"Not a valid rison(?:/json)? (?:argument|schema).*", re.S), NOT_A_QUERY),
    (re.compile(r"Invalid order by column: (.*)", re.S), lambda column: _l("Cannot sort by %(column)s.",
                                                                            column=column)),
    (re.compile(r"Filter column: (.*) not allowed to filter", re.S), lambda column: _l(
        "Cannot filter by %(column)s.", column=column)),
)

# What marshmallow (FAB's schemas) says, in the user's language; anything else as it is.
NOT_AN_OBJECT = _l("The request body must be a JSON object of field names and values.")
NOT_A_VALUE = _l("Not a valid value for this field.")
SCHEMA_MESSAGES = {
    "Missing data for required field.": REQUIRED,
    "Field may not be null.": REQUIRED,
    "Unknown field.": _l("No such field, or it cannot be written here."),
    "Invalid input type.": NOT_AN_OBJECT,
}


def _query_refusal(message):
    text = str(message or "")
    for pattern, said in QUERY_MESSAGES:
        found = pattern.fullmatch(text)
        if found:
            return str(said(found.group(1))) if found.groups() else str(said)
    return message


def _in_users_language(message):
    if isinstance(message, dict):
        return {key: _in_users_language(value) for key, value in message.items()}
    if isinstance(message, list):
        return [_in_users_language(value) for value in message]
    if isinstance(message, str) and message in SCHEMA_MESSAGES:
        return str(SCHEMA_MESSAGES[message])
    return message


class WriteRefused(Exception):
    def __init__(self, status: int, message, **extra):
        super().__init__(str(message))
        self.status, self.message, self.extra = status, message, extra


class _WritingInterface(ScopedInterface):
    """The scoped interface, with a write the database refuses as a breach of a constraint
    answered as :class:`WriteRefused` (the session rolled back by FAB), and a customer's
    delete a purge."""

    def add(self, item, commit: bool = True) -> None:
        self._refused_as_422(super().add, item, commit)

    def edit(self, item, commit: bool = True) -> None:
        self._refused_as_422(super().edit, item, commit)

    def delete(self, item, commit: bool = True) -> None:
        """A customer is purged as on its page: its records with it, each kept in the history,
        the purge in the access log (FAB's delete stopped at its first transaction)."""
        if isinstance(item, Customer):
            archive.purge_and_log(self.session, item, via="api")
        else:
            self._refused_as_422(super().delete, item, commit)

    @staticmethod
    def _refused_as_422(write, item, commit: bool) -> None:
        try:
            write(item, commit)
        except (DatabaseException, sa.exc.SQLAlchemyError) as exc:
            refused = exc if isinstance(exc, sa.exc.IntegrityError) else exc.__cause__
            if isinstance(refused, sa.exc.IntegrityError):
                raise WriteRefused(422, _refusal_of(refused)) from exc
            raise


def _refusal_of(error: sa.exc.IntegrityError):
    """What the database refused, said plainly: a unique value taken, else that nothing was saved."""
    unique = getattr(error.orig, "sqlstate", None) == "23505" or "UNIQUE constraint failed" in str(error.orig)
    return TAKEN_MEANWHILE if unique else NOT_SAVED


def _model_label(model) -> str:
    from portal.excel.archive import model_labels   # the views' plurals: known once they are built

    return model_labels().get(model, model.__name__)


def _plain_specs(model):
    """Described columns an API client reads and writes by name (relations by their id)."""
    return [s for s in fields_of(model).values() if s.type != FieldType.RELATION_MANY]


class ArchiveApi(RefusalsInUsersLanguage, ModelRestApi):
    """A model's REST resource generated from its field descriptions."""

    model: type | None = None
    allow_browser_login = True  # the portal's own pages call it with the session cookie
    page_size = 50

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        if cls.__dict__.get("model") is None:
            return
        cls.datamodel = _WritingInterface(cls.model)
        specs = _plain_specs(cls.model)
        # Relations are named by their relationship (FAB nests them as {id, label}) and
        # written as the related record's id.
        cls.list_columns = ["id", *[s.form_name for s in specs if s.listed], "version"]
        cls.show_columns = ["id", *[s.form_name for s in specs], "version"]
        writable = [s.form_name for s in specs if not s.readonly and s.section != "system"]
        cls.add_columns = writable
        cls.edit_columns = [*writable, "version"]  # the version read, for optimistic locking
        cls._generated = ("number",) if cls.model in numbering.DEFAULT_PATTERNS else ()
        cls.label_columns = {**label_columns(specs), "id": "ID", "version": _l("Version")}
        cls.description_columns = description_columns(specs)
        cls.list_title = LazyString(lambda model=cls.model: _model_label(model))
        plain = [s for s in specs if s.type != FieldType.RELATION]
        cls.order_columns = [s.name for s in plain if s.listed]
        cls.search_columns = [s.name for s in plain if s.searchable or s.listed]

    # -- reads ------------------------------------------------------------------------------

    def _mask(self, row: dict) -> None:
        if masking.can_see_sensitive():
            return
        for spec in fields_of(self.model).values():
            if spec.sensitive and spec.form_name in row:
                row[spec.form_name] = masking.mask(spec, row[spec.form_name])

    def pre_get(self, data):
        self._mask(data.get("result", {}))
        access_log.record("show", self.model.__name__, data.get("id"), detail={"via": "api"})

    def pre_get_list(self, data):
        for row in data.get("result", []):
            self._mask(row)
        access_log.record("list", self.model.__name__, row_count=data.get("count"),
                          detail={"via": "api", "q": request.args.get("q")})

    # -- writes -----------------------------------------------------------------------------

    def _clean_body(self, body, own_id=None) -> dict:
        """The request's values judged by the registry (as the forms do), related records
        looked up within the user's reach (as the grid does), unique values checked against
        the other records in any case; sensitive fields refused to users without the right.
        Raises :class:`WriteRefused`."""
        if not isinstance(body, dict):
            raise WriteRefused(400, NOT_AN_OBJECT)
        specs = {s.form_name: s for s in fields_of(self.model).values()}
        cleaned, errors = dict(body), {}
        for name, raw in body.items():
            spec = specs.get(name)
            if spec is None or name not in self.edit_columns:
                continue
            if spec.sensitive and not masking.can_see_sensitive():
                raise WriteRefused(403, _l("You may not enter or change this field."), field=name)
            try:
                if spec.type == FieldType.RELATION:
                    cleaned[name] = related_id(db.session, self.model, spec, raw)
                    continue
                if isinstance(raw, (list, dict)):
                    raise FieldInvalid(NOT_A_VALUE)
                value = clean(spec, raw)
            except FieldInvalid as exc:
                errors[name] = [str(exc.message)]
                continue
            if value is None and name in self._generated:
                del cleaned[name]   # generated from the pattern, as on the form (numbering.py)
                continue
            taken = unique_values.clash(db.session, self.model, spec.name, spec.label, value, own_id)
            if taken is not None:
                errors[name] = [taken]
            else:
                cleaned[name] = value.isoformat() if hasattr(value, "isoformat") else (
                    str(value) if value is not None and spec.type in (FieldType.MONEY, FieldType.DECIMAL) else value)
        if errors:
            raise WriteRefused(422, errors)
        return cleaned

    def _get_field_info(self, field, filter_rel_field, page=None, page_size=None):
        # FAB translates a missing description as gettext(""): the catalog's header.
        info = super()._get_field_info(field, filter_rel_field, page=page, page_size=page_size)
        info["description"] = str(self.description_columns.get(field.name, ""))
        return info

    def response_404(self):
        return self.response(404, message=str(NOT_IN_REACH))

    def response_400(self, message=None):
        """FAB's answers to a bad ``q`` (not Rison, a column that cannot be sorted or
        filtered by), in the user's language."""
        return super().response_400(message=_query_refusal(message))

    def response_422(self, message=None):
        """FAB's answer to what its schema refuses, with marshmallow's messages in the user's
        language."""
        return super().response_422(message=_in_users_language(message))

    def _merge_update_item(self, model_item, data):
        return super()._merge_update_item(model_item, self._clean_body(data, model_item.id))

    def pre_update(self, item):
        body = request.get_json(silent=True) or {}
        try:
            locking.check(item, body.get("version"))
        except locking.StaleEdit as exc:
            raise WriteRefused(409, exc.message, current_version=exc.current_version, changed_by=exc.who,
                               changed_at=exc.when)
        except locking.VersionMissing as exc:
            raise WriteRefused(428, exc.message)

    def _refusal(self, exc: WriteRefused):
        db.session.rollback()
        if exc.status == 403:
            access_log.record("denied", self.model.__name__, (request.view_args or {}).get("pk"),
                              detail={"via": "api", "field": exc.extra.get("field")})
        message = exc.message if isinstance(exc.message, dict) else str(exc.message)
        return self.response(exc.status, message=message, **exc.extra)

    def put_headless(self, pk):
        if not request.is_json:
            return self.response_400(message=str(NOT_AN_OBJECT))
        try:
            return super().put_headless(pk)
        except WriteRefused as exc:
            return self._refusal(exc)
        except sa.exc.IntegrityError as exc:   # flushed early by a query (the version check's)
            return self._refusal(WriteRefused(422, _refusal_of(exc)))

    def delete_headless(self, pk):
        try:
            return super().delete_headless(pk)
        except WriteRefused as exc:
            return self._refusal(exc)

    def post_headless(self):
        """FAB's POST, with the body judged by the registry before it is loaded."""
        if not request.is_json:
            return self.response_400(message=str(NOT_AN_OBJECT))
        try:
            body = self._clean_body(request.json)
            # A number left out is generated from the pattern, as on the form (numbering.py).
            item = self.add_model_schema.load(body, partial=self._generated)
        except WriteRefused as exc:
            return self._refusal(exc)
        except ValidationError as err:
            return self.response_422(message=err.messages)
        try:
            self.datamodel.add(item)
        except WriteRefused as exc:
            return self._refusal(exc)
        return self.response(201, result=self.add_model_schema.dump(item, many=False),
                             id=self.datamodel.get_pk_value(item))


class CustomerApi(ArchiveApi):
    resource_name = "customer"
    model = Customer


class ContactApi(ArchiveApi):
    resource_name = "contact"
    model = Contact
