"""The grid's columns for one user, generated from the field registry."""
from __future__ import annotations

from portal.fields import FieldSpec, FieldType, fields_of
from portal.security import masking

from .resources import GridResource

EDITORS = {
    FieldType.TEXT: "input", FieldType.LONGTEXT: "textarea", FieldType.INT: "number", FieldType.DECIMAL: "number",
    FieldType.MONEY: "number", FieldType.DATE: "date", FieldType.DATETIME: "datetime", FieldType.BOOL: "tickCross",
    FieldType.CHOICE: "list", FieldType.RELATION: "autocomplete", FieldType.RELATION_MANY: None,
}
# A column's starting width in pixels, by what it holds (the user may drag it and save it).
WIDTHS = {
    FieldType.TEXT: 160, FieldType.LONGTEXT: 240, FieldType.INT: 90, FieldType.DECIMAL: 110, FieldType.MONEY: 120,
    FieldType.DATE: 110, FieldType.DATETIME: 150, FieldType.BOOL: 80, FieldType.CHOICE: 110,
    FieldType.RELATION: 160, FieldType.MOBILE: 120, FieldType.PHONE: 140, FieldType.EMAIL: 200,
    FieldType.URL: 180, FieldType.POSTCODE: 80, FieldType.ID_NUMBER: 180, FieldType.CARD_NUMBER: 190,
}
DEFAULT_WIDTH = 140


def grid_specs(model) -> list[FieldSpec]:
    """The fields a grid can show: every described field but many-to-many ones."""
    return [s for s in fields_of(model).values() if s.type != FieldType.RELATION_MANY]


def is_writable(spec: FieldSpec, sees_sensitive: bool) -> bool:
    """Whether anyone with the right to edit may type into this field (the gate's rule:
    never system or read-only fields, never a sensitive one the user sees masked)."""
    return not spec.readonly and spec.section != "system" and not (spec.sensitive and not sees_sensitive)


def lookup_url(resource: GridResource, spec: FieldSpec) -> str | None:
    if spec.type != FieldType.RELATION:
        return None
    return f"/api/v1/grid/{resource.name}/lookup/{spec.form_name}"


def column(resource: GridResource, spec: FieldSpec, *, can_write: bool, sees_sensitive: bool) -> dict:
    return {
        "field": spec.form_name,
        "label": spec.label,
        "type": spec.type.value,
        "editor": EDITORS.get(spec.type, "input"),
        "choices": [{"value": c.code, "label": c.label} for c in spec.choices] or None,
        "required": spec.required,
        "editable": can_write and is_writable(spec, sees_sensitive),
        "masked": spec.sensitive and not sees_sensitive,
        "frozen": spec.form_name in resource.frozen,
        "visible": spec.listed,
        "sortable": not (spec.sensitive and not sees_sensitive),   # the order would give masked values away
        "help": spec.help or None,
        "width": WIDTHS.get(spec.type, DEFAULT_WIDTH),
        "lookup": lookup_url(resource, spec),
    }


def columns_for(resource: GridResource, *, can_write: bool, user=None) -> list[dict]:
    sees = masking.can_see_sensitive(user)
    return [column(resource, s, can_write=can_write, sees_sensitive=sees) for s in grid_specs(resource.model)]
