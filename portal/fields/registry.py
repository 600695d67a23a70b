"""Collects the field descriptions of every registered model, in declaration order."""
from __future__ import annotations

from collections import OrderedDict
from dataclasses import replace
from decimal import Decimal

import sqlalchemy as sa

from .spec import NUMBER_TYPES, FieldSpec, Section

_models: "OrderedDict[str, type]" = OrderedDict()
_sections: dict[type, tuple[Section, ...]] = {}
_fields_cache: dict[type, "OrderedDict[str, FieldSpec]"] = {}


def register_model(*sections: Section):
    """Class decorator: the model's fields are described in its columns' ``info``;
    ``sections`` are the card's fieldsets in display order."""

    def decorate(model: type) -> type:
        _models[model.__name__] = model
        _sections[model] = tuple(sections)
        _fields_cache.pop(model, None)
        return model

    return decorate


def registered_models() -> list[type]:
    return list(_models.values())


def model_for(name: str) -> type:
    """A registered model by class name (``Customer``) or table name (``customer``)."""
    if name in _models:
        return _models[name]
    for model in _models.values():
        if model.__tablename__ == name:
            return model
    raise KeyError(name)


def sections_of(model: type) -> tuple[Section, ...]:
    return _sections[model]


def fields_of(model: type) -> "OrderedDict[str, FieldSpec]":
    """Name → description of every described field of ``model``, in declaration order.

    Columns and relationships both may carry a description (``info={"spec": ...}``).
    """
    cached = _fields_cache.get(model)
    if cached is not None:
        return cached
    mapper = sa.inspect(model)
    found: list[FieldSpec] = []
    for prop in mapper.attrs:
        info = prop.columns[0].info if isinstance(prop, sa.orm.ColumnProperty) else prop.info
        spec = info.get("spec")
        if spec is not None:
            spec = spec.named(prop.key)
            found.append(_bounded(spec, prop.columns[0].type) if isinstance(prop, sa.orm.ColumnProperty) else spec)
    found.sort(key=lambda s: s.order)
    known = {s.key for s in _sections.get(model, ())}
    for spec in found:
        if known and spec.section not in known:
            raise ValueError(f"{model.__name__}.{spec.name}: unknown section {spec.section!r}")
        if spec.relation and spec.relation not in mapper.relationships:
            raise ValueError(f"{model.__name__}.{spec.name}: no relationship {spec.relation!r}")
    result = OrderedDict((s.name, s) for s in found)
    _fields_cache[model] = result
    return result


def _bounded(spec: FieldSpec, column_type) -> FieldSpec:
    """``spec`` with what its column can hold where the description does not say it: a
    String's length (an e-mail or phone longer than the column) and a number's largest value
    (Numeric(p, s) or the integer's width). SQLite would keep either; PostgreSQL refuses it at
    the commit."""
    changes = {}
    if isinstance(column_type, sa.String) and column_type.length and spec.max_length is None:
        changes["max_length"] = column_type.length
    if spec.type in NUMBER_TYPES:
        if isinstance(column_type, sa.Integer):
            bits = 16 if isinstance(column_type, sa.SmallInteger) else 64 if isinstance(column_type, sa.BigInteger) else 32
            changes["column_limit"] = Decimal(2 ** (bits - 1) - 1)
        elif isinstance(column_type, sa.Numeric) and column_type.precision:
            scale = column_type.scale or 0
            changes["column_limit"] = Decimal(10) ** (column_type.precision - scale) - Decimal(10) ** -scale
    return replace(spec, **changes) if changes else spec


def field_by_form_name(model: type, form_name: str) -> FieldSpec | None:
    """The description behind a form/list column name (a relationship name for foreign keys)."""
    for spec in fields_of(model).values():
        if spec.form_name == form_name:
            return spec
    return None


def label_columns(specs) -> dict:
    """Form name → the field's label in the language of the request reading it (FAB's
    ``label_columns``, for views and REST APIs alike)."""
    from flask_babel import LazyString

    return {s.form_name: LazyString(lambda s=s: s.label) for s in specs}


def description_columns(specs) -> dict:
    """Form name → the field's help in the request's language, for the fields that have one."""
    from flask_babel import LazyString

    return {s.form_name: LazyString(lambda s=s: s.help) for s in specs if s.help_zh or s.help_en}
