"""The field registry: one description per field (see DESIGN.md).

Built-in fields carry a :class:`FieldSpec` in the column's ``info``; forms, list columns,
filters, labels, validation — and later the grid, import, export and masking — read it
through :func:`fields_of`.
"""
from .spec import Choice, FieldSpec, FieldType, Section, describe
from .registry import fields_of, model_for, registered_models, register_model, sections_of
from .validation import FieldInvalid, clean

__all__ = [
    "Choice", "FieldSpec", "FieldType", "Section", "describe",
    "fields_of", "model_for", "registered_models", "register_model", "sections_of",
    "FieldInvalid", "clean",
]
