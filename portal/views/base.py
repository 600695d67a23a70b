"""Flask-AppBuilder views declared from the field registry.

A view names its model; labels, list columns, fieldsets, search columns, form fields,
validators and display formats are all read from the model's field descriptions. A view
may still set any of them explicitly; what it sets wins.
"""
from __future__ import annotations

from decimal import Decimal

from flask import g, request
from flask_appbuilder import ModelView
from flask_babel import LazyString, format_decimal, gettext as _, lazy_gettext as _l

from portal.fields import FieldSpec, FieldType, fields_of, sections_of
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


class ArchiveModelView(ModelView):
    """A ModelView whose declaration comes from the field registry (``model = Customer``)."""

    model: type | None = None
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
            cls.label_columns = {s.form_name: LazyString(lambda s=s: s.label) for s in specs.values()}
        if unset("description_columns"):
            cls.description_columns = {s.form_name: LazyString(lambda s=s: s.help) for s in specs.values()
                                       if s.help_zh or s.help_en}
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
                cls.edit_form_extra_fields["version"] = SeenVersionField()
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
        widgets = super()._list(**kwargs)
        list_widget = widgets.get("list")
        count = list_widget.template_args.get("count") if list_widget is not None else None
        filters = {k: v for k, v in request.args.items(multi=True)} if request else {}
        access_log.record("list", self.model.__name__, row_count=count, detail={"filters": filters} if filters else None)
        return widgets

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
