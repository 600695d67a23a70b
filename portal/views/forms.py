"""Form fields generated from the field registry.

Every editable field of a card gets its WTForms field here, from its description: the
widget follows the type, choices come from the description, and one validator runs the
registry's :func:`portal.fields.clean`, so a form judges a value exactly as the grid and
the import do. Relations are left to Flask-AppBuilder's query-select fields.
"""
from __future__ import annotations

from flask_appbuilder.fieldwidgets import (
    BS3TextAreaFieldWidget, BS3TextFieldWidget, DatePickerWidget, DateTimePickerWidget, Select2Widget,
)
from flask_babel import LazyString, lazy_gettext as _l
from wtforms import BooleanField, Field, HiddenField, SelectField, StringField, TextAreaField, ValidationError

from portal.fields import FieldInvalid, FieldSpec, FieldType, clean
from portal.security import masking
from portal.services import unique_values

_WIDGETS = {
    FieldType.LONGTEXT: (TextAreaField, BS3TextAreaFieldWidget),
    FieldType.DATE: (StringField, DatePickerWidget),
    FieldType.DATETIME: (StringField, DateTimePickerWidget),
}


class RegistryValidator:
    """Runs the field's rules and keeps the normalised value (e.g. a mobile typed with
    full-width digits and spaces is saved as 11 ASCII digits)."""

    def __init__(self, spec: FieldSpec):
        self.spec = spec
        self.field_flags = {"required": True} if spec.required else {}

    def __call__(self, form, field: Field) -> None:
        if self.spec.sensitive and not masking.can_see_sensitive():
            if field.data not in (None, "", []):
                raise ValidationError(str(_l("You may not enter or change this field.")))
            return
        if self.spec.type in (FieldType.RELATION, FieldType.RELATION_MANY):
            if self.spec.required and not field.data:
                raise ValidationError(str(_l("This field is required.")))
            return
        try:
            field.data = clean(self.spec, field.data)
        except FieldInvalid as exc:
            raise ValidationError(str(exc.message))


class UniqueValidator:
    """The value is not used by another row, in any case (the edited row itself excepted,
    and its value left as it was not checked again)."""

    def __init__(self, model: type, spec: FieldSpec):
        self.model, self.spec = model, spec

    def __call__(self, form, field: Field) -> None:
        from portal.extensions import db

        editing = getattr(form, "_id", None)
        message = unique_values.clash(db.session, self.model, self.spec.name, self.spec.label, field.data,
                                      int(editing) if editing is not None else None)
        if message is not None:
            raise ValidationError(message)


class SeenVersionField(HiddenField):
    """The record version the form was loaded with. It is compared with the stored
    version before saving (optimistic locking) and never written to the record itself."""

    def populate_obj(self, obj, name):
        pass


class _EmptyAsNone:
    """A text input whose empty value is None rather than '' (so optional numbers stay NULL)."""

    def process_formdata(self, valuelist):
        super().process_formdata(valuelist)
        if self.data == "":
            self.data = None


class RegistryStringField(_EmptyAsNone, StringField):
    def _value(self):
        return "" if self.data is None else str(self.data)


class RegistryTextAreaField(_EmptyAsNone, TextAreaField):
    pass


def _choices_of(spec: FieldSpec):
    def choices():
        blank = [] if spec.required else [("", "—")]
        return blank + [(c.code, c.label) for c in spec.choices]

    return choices


def form_field(model: type, spec: FieldSpec) -> Field | None:
    """The WTForms field for ``spec``; None for relations (Flask-AppBuilder builds those)."""
    if spec.type in (FieldType.RELATION, FieldType.RELATION_MANY):
        return None
    label = LazyString(lambda: spec.label)
    description = LazyString(lambda: spec.help)
    validators = [RegistryValidator(spec)]
    column = model.__table__.columns.get(spec.name)
    if column is not None and column.unique:
        validators.append(UniqueValidator(model, spec))
    if spec.type == FieldType.BOOL:
        return BooleanField(label, description=description, default=False)
    if spec.type == FieldType.CHOICE:
        default = column.default.arg if column is not None and column.default is not None else None
        return SelectField(label, description=description, choices=_choices_of(spec), validators=validators,
                           widget=Select2Widget(), default=default if isinstance(default, str) else None,
                           validate_choice=False)
    field_class, widget = _WIDGETS.get(spec.type, (StringField, BS3TextFieldWidget))
    field_class = RegistryTextAreaField if field_class is TextAreaField else RegistryStringField
    return field_class(label, description=description, validators=validators, widget=widget())
