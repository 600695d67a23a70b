"""The grid's columns for one user, generated from the field registry."""
from __future__ import annotations

from portal.fields import FieldSpec, FieldType, fields_of
from portal.security import masking

EDITORS = {
    FieldType.TEXT: "input", FieldType.LONGTEXT: "textarea", FieldType.INT: "number", FieldType.DECIMAL: "number",
    FieldType.MONEY: "number", FieldType.DATE: "date", FieldType.DATETIME: "datetime", FieldType.BOOL: "tickCross",
    FieldType.CHOICE: "list", FieldType.RELATION: "autocomplete", FieldType.RELATION_MANY: None,
}
# Columns that stay on screen while scrolling sideways.
FROZEN = {"number", "name"}


def grid_specs(model) -> list[FieldSpec]:
    """The fields a grid can show: every described field but many-to-many ones."""
    return [s for s in fields_of(model).values() if s.type != FieldType.RELATION_MANY]


def column(spec: FieldSpec, *, can_write: bool, sees_sensitive: bool) -> dict:
    masked = spec.sensitive and not sees_sensitive
    return {
        "field": spec.form_name,
        "label": spec.label,
        "type": spec.type.value,
        "editor": EDITORS.get(spec.type, "input"),
        "choices": [{"value": c.code, "label": c.label} for c in spec.choices] or None,
        "required": spec.required,
        "editable": can_write and not masked and not spec.readonly and spec.section != "system",
        "masked": masked,
        "frozen": spec.name in FROZEN,
        "visible": spec.listed,
        "sortable": True,
        "help": spec.help or None,
    }


def columns_for(model, *, can_write: bool, user=None) -> list[dict]:
    sees = masking.can_see_sensitive(user)
    return [column(s, can_write=can_write, sees_sensitive=sees) for s in grid_specs(model)]
