"""Every generated view lists, shows, adds and edits for real, as Admin.

Form values are made from the field registry, so a field added to a model is exercised
here without touching this file.
"""
from __future__ import annotations

import datetime as dt
import itertools
import re

import pytest
import sqlalchemy as sa

from portal.extensions import db
from portal.fields import FieldType, fields_of
from portal.views import MENUS, NO_MENU
from portal.views.base import EDITABLE_SECTIONS_EXCLUDED
from tests.conftest import form_version, login

# Catalogue first, so that what a record points at exists before the record.
VIEWS = [view for _, _, _, items in (MENUS[2], MENUS[0], MENUS[1]) for view, *_ in items] + list(NO_MENU)
WRITABLE = [v for v in VIEWS if "can_add" in (v.base_permissions or ["can_add"])]
_unique = itertools.count(1)

SAMPLES = {
    FieldType.LONGTEXT: "说明文字", FieldType.INT: None, FieldType.DECIMAL: "12.5", FieldType.MONEY: "1,234.50",
    FieldType.DATE: "2020-01-02", FieldType.DATETIME: "2020-01-02 10:00:00", FieldType.BOOL: "y",
    FieldType.MOBILE: "１３８ １２３４ ５６７８", FieldType.PHONE: "010-12345678", FieldType.EMAIL: "Li@Example.cn",
    FieldType.URL: "www.example.cn", FieldType.POSTCODE: "100010", FieldType.ID_NUMBER: "11010519491231002X",
    FieldType.CARD_NUMBER: "6222 0212 3456 7890 123",
}


def form_value(model, spec, record_id=None):
    """A valid value for ``spec`` as a browser would post it (never the record itself)."""
    if spec.type == FieldType.RELATION:
        related = getattr(model, spec.relation).property.mapper.class_
        query = sa.select(related).order_by(related.id)
        if related is model and record_id is not None:
            query = query.where(related.id != record_id)
        row = db.session.scalars(query).first()
        if row is None and not spec.required:
            return None
        assert row is not None, f"no {related.__name__} to pick for {spec.name}"
        return str(row.id)
    if spec.type == FieldType.RELATION_MANY:
        related = getattr(model, spec.name).property.mapper.class_
        return [str(r.id) for r in db.session.scalars(sa.select(related).limit(2))]
    if spec.type == FieldType.CHOICE:
        return spec.choices[0].code
    if spec.type == FieldType.INT:
        return str(int(spec.min_value if spec.min_value is not None else 1))
    if spec.type == FieldType.TEXT:
        column = model.__table__.columns.get(spec.name)
        text = f"T{next(_unique)}-{spec.en}"
        return text[: min(spec.max_length or 50, column.type.length or 50)] if column is not None else text
    return SAMPLES[spec.type]


def editable_specs(view):
    return [s for s in fields_of(view.model).values()
            if not s.readonly and s.name not in view.readonly_fields and s.section not in EDITABLE_SECTIONS_EXCLUDED]


def endpoint(view, action, pk=None):
    base = f"/{view.__name__.lower()}"
    return f"{base}/{action}/" if pk is None and action == "list" else f"{base}/{action}" + (f"/{pk}" if pk else "")


def add_record(client, view):
    data = {s.form_name: v for s in editable_specs(view) if (v := form_value(view.model, s)) is not None}
    if view.model.__name__ in ("Customer", "Transaction"):
        data["number"] = ""  # left empty: generated from the pattern
    response = client.post(endpoint(view, "add"), data=data)
    errors = re.findall(r'class="[^"]*has-error[^"]*".*?<span class="help-block">([^<]*)', response.text, re.S)
    assert response.status_code == 302, f"{view.__name__} add refused: {errors or response.text[:500]}"
    return db.session.scalars(sa.select(view.model).order_by(view.model.id.desc())).first()


@pytest.fixture
def admin(client):
    return login(client, "admin")


def test_every_list_and_add_page_opens(admin):
    for view in VIEWS:
        assert admin.get(endpoint(view, "list")).status_code == 200, view.__name__
        if view in WRITABLE:
            assert admin.get(endpoint(view, "add")).status_code == 200, view.__name__


def test_every_model_can_be_added_shown_and_edited_through_its_form(admin):
    for view in WRITABLE:  # ordered so that what a record points at exists first
        before = db.session.scalar(sa.select(sa.func.count()).select_from(view.model))
        record = add_record(admin, view)
        db.session.expire_all()
        assert db.session.scalar(sa.select(sa.func.count()).select_from(view.model)) == before + 1, view.__name__

        show = admin.get(endpoint(view, "show", record.id))
        assert show.status_code == 200, view.__name__

        text_field = next((s for s in editable_specs(view) if s.type == FieldType.TEXT and not
                           view.model.__table__.columns[s.name].unique), None)
        if text_field is None:
            continue
        data = {s.form_name: v for s in editable_specs(view)
                if (v := form_value(view.model, s, record.id)) is not None}
        data[text_field.name] = "已修改"
        if "number" in data:
            data["number"] = record.number
        if hasattr(view.model, "version"):
            data["version"] = form_version(admin, endpoint(view, "edit", record.id))
        response = admin.post(endpoint(view, "edit", record.id), data=data)
        assert response.status_code == 302, f"{view.__name__} edit refused"
        db.session.expire_all()
        assert getattr(db.session.get(view.model, record.id), text_field.name) == "已修改", view.__name__


def test_the_customer_form_saves_normalised_values(admin):
    from tests.views.test_crud import add_record  # noqa: F401 (documenting reuse)
    from portal.views.archive import CustomerView

    customer = add_record(admin, CustomerView)
    assert customer.mobile == "13812345678"
    assert customer.email == "Li@example.cn"
    assert customer.bank_account == "6222021234567890123"
    assert str(customer.credit_limit) == "1234.50"
    assert customer.number.startswith(f"KH{dt.date.today().year}")
    assert customer.stage == "potential"
