"""Flask-AppBuilder views declared from the field registry.

A view names its model; labels, list columns, fieldsets, search columns, form fields,
validators and display formats are all read from the model's field descriptions. A view
may still set any of them explicitly; what it sets wins.
"""
from __future__ import annotations

import tempfile
from decimal import Decimal

from flask import flash, g, redirect, request, send_file, url_for
from flask_appbuilder import ModelView, expose, has_access
from flask_appbuilder.security.decorators import permission_name
from flask_appbuilder.urltools import get_filter_args, get_order_args
from flask_appbuilder.widgets import ListWidget
from flask_babel import LazyString, format_decimal, gettext as _, lazy_gettext as _l

from portal.excel import limits
from portal.excel.export import FORMATS, ExportColumn, write_table
from portal.excel.records import export_type, plain_rows
from portal.fields import FieldSpec, FieldType, fields_of, sections_of
from portal.fields.registry import description_columns, field_by_form_name, label_columns
from portal.grid.export import attachment
from portal.models.base import Versioned
from portal.security import access_log, locking, masking
from portal.security.interface import ScopedInterface

from .forms import RegistryValidator, SeenVersionField, form_field

EDITABLE_SECTIONS_EXCLUDED = {"system"}


def format_bool(value) -> str:
    if value is None:
        return ""
    return str(_l("Yes")) if value else str(_l("No"))


def _format_money(value) -> str:
    if value is None:
        return ""
    return format_decimal(Decimal(value), format="#,##0.00")


def _format_plain(value) -> str:
    # Flask-AppBuilder prints an empty value as "None".
    return "" if value is None else value


def _format_many(values) -> str:
    return "、".join(str(v) for v in values or ())


def formatter_for(spec: FieldSpec):
    """How a value of this field is shown in lists and on the card (masked if need be)."""
    plain = _plain_formatter(spec)
    if not spec.sensitive:
        return plain

    def masked(value):
        return plain(value) if masking.can_see_sensitive() else (masking.mask(spec, value) or "")

    return masked


def _plain_formatter(spec: FieldSpec):
    if spec.type == FieldType.CHOICE:
        return spec.choice_label
    if spec.type == FieldType.BOOL:
        return format_bool
    if spec.type == FieldType.MONEY:
        return _format_money
    if spec.type == FieldType.RELATION_MANY:
        return _format_many
    return _format_plain


EXPORT_MIMETYPES = {"xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
                    "csv": "text/csv; charset=utf-8"}


class ExportListWidget(ListWidget):
    """FAB's list with "Export to Excel / CSV" beside its header, when the page passes
    ``export_links`` (the list page does; the related tabs of a card do not)."""

    template = "portal/widgets/list_export.html"


class ArchiveModelView(ModelView):
    """A ModelView whose declaration comes from the field registry (``model = Customer``).

    Its list can be exported (``/export/?format=xlsx|csv`` with the list's own query string,
    right ``can_download``): exactly the rows the list shows — its filters, order, the row
    scope — with its columns, labelled and masked as on screen, within the user's export limits.
    """

    model: type | None = None
    list_widget = ExportListWidget
    list_page_size = 25
    #: what one record is called and what the list is called (lazy, translated)
    noun = None
    plural = None
    #: fields shown on the list besides those described as ``listed``
    extra_list_columns: tuple[str, ...] = ()
    #: search columns besides the searchable fields and the listed choices/relations
    extra_search_columns: tuple[str, ...] = ()
    #: rules of this view's forms besides the registry's: {form column: [validators]}
    extra_validators: dict = {}
    #: fields that are read-only on this view's forms besides the ``readonly`` ones
    readonly_fields: tuple[str, ...] = ()

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        if cls.__dict__.get("model") is None:
            return
        cls.datamodel = ScopedInterface(cls.model)
        specs = fields_of(cls.model)
        editable = [s for s in specs.values()
                    if not s.readonly and s.name not in cls.readonly_fields and s.section not in EDITABLE_SECTIONS_EXCLUDED]

        def unset(attr: str) -> bool:
            return attr not in cls.__dict__

        if cls.noun is not None:
            noun, plural = cls.noun, (cls.plural if cls.plural is not None else cls.noun)
            cls.list_title = plural
            cls.show_title = LazyString(lambda: _("%(noun)s details", noun=noun))
            cls.add_title = LazyString(lambda: _("Add %(noun)s", noun=noun))
            cls.edit_title = LazyString(lambda: _("Edit %(noun)s", noun=noun))
        if unset("label_columns"):
            cls.label_columns = label_columns(specs.values())
        if unset("description_columns"):
            cls.description_columns = description_columns(specs.values())
        if unset("list_columns"):
            cls.list_columns = [s.form_name for s in specs.values() if s.listed] + list(cls.extra_list_columns)
        if unset("search_columns"):
            cls.search_columns = [s.form_name for s in specs.values()
                                  if s.searchable or (s.listed and s.type in (FieldType.CHOICE, FieldType.RELATION))
                                  ] + list(cls.extra_search_columns)
        if unset("show_fieldsets"):
            cls.show_fieldsets = cls._fieldsets(list(specs.values()))
        if unset("add_fieldsets"):
            cls.add_fieldsets = cls._fieldsets(editable)
        if unset("edit_fieldsets"):
            cls.edit_fieldsets = cls._fieldsets(editable)
        if unset("formatters_columns"):
            cls.formatters_columns = {s.form_name: f for s in specs.values() if (f := formatter_for(s))}
        if unset("add_form_extra_fields"):
            extra = {s.name: f for s in editable if (f := form_field(cls.model, s)) is not None}
            cls.add_form_extra_fields = extra
            cls.edit_form_extra_fields = dict(extra)
            if issubclass(cls.model, Versioned) and cls.edit_fieldsets:
                # The version the user saw travels with the edit (optimistic locking);
                # hidden fields are rendered by the form's hidden_tag().
                cls.edit_form_extra_fields["version"] = SeenVersionField(_l("Version"))
                cls.edit_fieldsets = [(cls.edit_fieldsets[0][0], {"fields": [*cls.edit_fieldsets[0][1]["fields"], "version"]}),
                                      *cls.edit_fieldsets[1:]]
        if unset("validators_columns"):
            cls.validators_columns = {s.form_name: [RegistryValidator(s)] for s in editable
                                      if s.type in (FieldType.RELATION, FieldType.RELATION_MANY)}
            for name, validators in cls.extra_validators.items():
                cls.validators_columns[name] = [*cls.validators_columns.get(name, []), *validators]
        if unset("order_columns"):
            cls.order_columns = [s.form_name for s in specs.values()
                                 if s.listed and s.type != FieldType.RELATION_MANY]

    # -- the security gate on the form and page paths ------------------------------------

    def _sensitive_specs(self):
        return [s for s in fields_of(self.model).values() if s.sensitive]

    def _list(self, **kwargs):
        if self._may_export():
            args = {k: v for k, v in request.args.to_dict(flat=False).items() if k != "format"}
            kwargs.setdefault("export_links", {fmt: url_for(f"{self.endpoint}.export", format=fmt, **args)
                                               for fmt in FORMATS})
        widgets = super()._list(**kwargs)
        list_widget = widgets.get("list")
        count = list_widget.template_args.get("count") if list_widget is not None else None
        filters = {k: v for k, v in request.args.items(multi=True)} if request else {}
        access_log.record("list", self.model.__name__, row_count=count, detail={"filters": filters} if filters else None)
        return widgets

    # -- export of the list ---------------------------------------------------------------

    def _may_export(self) -> bool:
        return "can_download" in (self.base_permissions or ()) and self.appbuilder.sm.has_access(
            "can_download", self.class_permission_name)

    def _export_specs(self) -> list[FieldSpec]:
        """The list's columns that are fields (a computed column, e.g. the rendered changes of
        the history, has no value to write and is left out)."""
        return [spec for name in self.list_columns if (spec := field_by_form_name(self.model, name)) is not None]

    def _export_query(self):
        """The list's filters (FAB's ``_flt_`` arguments, with the view's base filters), its
        order (``_oc_``/``_od_``, a column the list may be sorted by; else the default) and the
        row scope (ScopedInterface), as FAB's list page applies them, but all pages."""
        filters = self.datamodel.get_filters(self.search_columns)   # a fresh set: no state shared between requests
        get_filter_args(filters)
        joined = filters.get_joined_filters(self._base_filters)
        order_column, order_direction = get_order_args().get(self.__class__.__name__, ("", ""))
        if order_column not in self.order_columns:
            order_column, order_direction = self.base_order or ("", "")
        query = self.datamodel.session.query(self.datamodel.obj)
        count = self.datamodel.query_count(query, joined)
        return filters, count, self.datamodel.apply_all(query, joined, order_column, order_direction)

    @expose("/export/")
    @has_access
    @permission_name("download")
    def export(self):
        """The list as .xlsx or .csv (?format=), or back to the list with the reason."""
        fmt = request.args.get("format", "xlsx")
        back_args = {k: v for k, v in request.args.to_dict(flat=False).items() if k != "format"}
        name = self.model.__name__
        if fmt not in FORMATS:
            flash(_("Export as xlsx or csv."), "warning")
            return redirect(url_for(f"{self.endpoint}.list", **back_args))
        rules = limits.rules_for()
        filters, count, query = self._export_query()
        shown = filters.get_filters_values_tojson()
        stream = tempfile.TemporaryFile()
        try:
            asked = self._export_specs()
            specs = rules.fields(self.model, asked)
            rules.check_count(count)
            sees = masking.can_see_sensitive()
            columns = [ExportColumn(label=str(self.label_columns.get(s.form_name, s.label)), type=export_type(s, sees))
                       for s in specs]
            rows = rules.capped(plain_rows(self.datamodel.session, query.limit(rules.cap + 1), self.model, specs,
                                           sees_sensitive=sees))
            written = write_table(stream, fmt=fmt, sheet_name=str(self.list_title or name), columns=columns, rows=rows,
                                  yes_no=(_("Yes"), _("No")))
        except limits.ExportRefused as refused:
            stream.close()
            limits.log_refusal("list", name, refused, filters=shown, view=self.__class__.__name__, format=fmt)
            flash(str(refused.message), "warning")
            return redirect(url_for(f"{self.endpoint}.list", **back_args))
        limits.log_export("list", name, written, filters=shown, columns=[s.form_name for s in specs],
                          withheld=[s.form_name for s in asked if s not in specs], view=self.__class__.__name__,
                          format=fmt, order=list(get_order_args().get(self.__class__.__name__, ())) or None)
        stream.seek(0)
        response = send_file(stream, mimetype=EXPORT_MIMETYPES[fmt], as_attachment=True,
                             download_name=f"{self.model.__tablename__}.{fmt}")
        response.headers["Content-Disposition"] = attachment(str(self.list_title or name),
                                                             self.model.__tablename__, fmt)
        return response

    def _show(self, pk):
        widgets = super()._show(pk)
        access_log.record("show", self.model.__name__, pk)
        return widgets

    def prefill_form(self, form, pk):
        """Sensitive fields the user may not see are shown masked and cannot be typed in."""
        super().prefill_form(form, pk)
        if masking.can_see_sensitive():
            return
        for spec in self._sensitive_specs():
            if spec.name in form:
                field = form[spec.name]
                field.data = masking.mask(spec, field.data)
                field.render_kw = {**(field.render_kw or {}), "disabled": True}

    def process_form(self, form, is_created):
        super().process_form(form, is_created)
        if not masking.can_see_sensitive():
            # Fields the user may not change are not written back (the validator has
            # already refused any value typed into them).
            for spec in self._sensitive_specs():
                if spec.name in form:
                    form[spec.name].populate_obj = lambda obj, name: None
        if not is_created and "version" in form:
            g.portal_seen_version = form["version"].data
        # Copy the form onto the record without autoflush: setting a relationship loads its
        # old value, and that query would flush the fields set before it, bumping the
        # version before pre_update compares it with the one the user saw.
        session, populate = self.datamodel.session, form.populate_obj

        def populate_without_autoflush(obj):
            with session.no_autoflush:
                populate(obj)

        form.populate_obj = populate_without_autoflush

    def pre_update(self, item):
        super().pre_update(item)
        if isinstance(item, Versioned):
            try:
                locking.check(item, getattr(g, "portal_seen_version", None))
            except (locking.StaleEdit, locking.VersionMissing):
                # Drop the refused values at once, so no later query can flush them.
                self.datamodel.session.rollback()
                raise

    def _init_forms(self):
        super()._init_forms()
        # Optional dropdowns of related records show "—" when empty, not WTForms' "__None".
        for form in (self.add_form, self.edit_form):
            for unbound in vars(form).values():
                if getattr(unbound, "field_class", None) is not None and "allow_blank" in unbound.kwargs:
                    unbound.kwargs["blank_text"] = "—"

    @classmethod
    def _fieldsets(cls, specs: list[FieldSpec]) -> list:
        sets = []
        for section in sections_of(cls.model):
            names = [s.form_name for s in specs if s.section == section.key]
            if names:
                sets.append((LazyString(lambda section=section: section.label), {"fields": names}))
        return sets
