"""Typing in a grid cell (PATCH /api/v1/grid/customer/rows/<id>): 200 with the normalised
row, 422 with the field's message, 409 with the other person's value, 403/404 refused."""
from __future__ import annotations

import sqlalchemy as sa

from portal.extensions import db
from portal.models import AccessLog, ChangeLog, Customer
from tests.conftest import login, user

DEMO = "Demo@2026!"


def patch(client, customer_id, field, value, version):
    return client.patch(f"/api/v1/grid/customer/rows/{customer_id}",
                        json={"field": field, "value": value, "version": version})


def a_customer(app, owner="zhangwei"):
    return db.session.scalars(sa.select(Customer).where(Customer.owner_id == user(app, owner).id)
                              .order_by(Customer.id)).first()


def test_a_cell_change_that_is_not_an_object_with_a_field_is_told_in_the_users_language(app):
    clerk = login(app.test_client(), "clerk")
    for body in ([1], {"value": "宁波市"}, "宁波市"):
        response = clerk.patch("/api/v1/grid/customer/rows/1", json=body)
        assert response.status_code == 400
        assert response.json["message"] == "单元格的修改须是包含字段、值和版本的 JSON 对象。"


def test_a_valid_value_is_saved_normalised_and_kept_in_history(demo_app):
    clerk = login(demo_app.test_client(), "clerk")
    customer = a_customer(demo_app)
    loaded = customer.version
    response = patch(clerk, customer.id, "mobile", "１３８ ０００１ ２３４５", loaded)
    assert response.status_code == 200, response.json
    row = response.json["row"]
    assert row["mobile"] == "13800012345" and row["version"] == loaded + 1
    db.session.expire_all()
    assert db.session.get(Customer, customer.id).mobile == "13800012345"
    entry = db.session.scalars(sa.select(ChangeLog).where(ChangeLog.customer_id == customer.id)
                               .order_by(ChangeLog.id.desc())).first()
    assert entry.source == "grid" and entry.changes["mobile"]["new"] == "13800012345"


def test_an_invalid_value_gets_the_fields_message_and_saves_nothing(demo_app):
    clerk = login(demo_app.test_client(), "clerk")
    customer = a_customer(demo_app)
    before = customer.birth_date
    for field, value in (("birth_date", "2024-02-31"), ("mobile", "1381234"), ("name", "")):
        response = patch(clerk, customer.id, field, value, customer.version)
        assert response.status_code == 422, (field, response.json)
        assert response.json["errors"][field]
    db.session.expire_all()
    assert db.session.get(Customer, customer.id).birth_date == before


def test_a_stale_cell_shows_the_other_persons_value_who_and_when(demo_app):
    first, second = login(demo_app.test_client(), "clerk"), login(demo_app.test_client(), "custodian")
    customer = a_customer(demo_app)
    loaded = customer.version
    assert patch(second, customer.id, "city", "宁波市", loaded).status_code == 200
    response = patch(first, customer.id, "city", "温州市", loaded)
    assert response.status_code == 409
    assert response.json["their_value"] == "宁波市"
    assert response.json["changed_by"] == user(demo_app, "custodian").get_full_name()
    db.session.expire_all()
    assert db.session.get(Customer, customer.id).city == "宁波市"


def test_relations_take_an_id_within_reach(demo_app):
    clerk = login(demo_app.test_client(), "clerk")
    customer = a_customer(demo_app)
    lina = user(demo_app, "lina")
    response = patch(clerk, customer.id, "owner", lina.id, customer.version)
    assert response.status_code == 200 and response.json["row"]["owner"] == {"id": lina.id, "label": "李娜"}
    assert patch(clerk, customer.id, "owner", 999999, response.json["row"]["version"]).status_code == 422


def test_read_only_masked_and_foreign_cells_are_refused_on_the_server(demo_app):
    sales = login(demo_app.test_client(), "zhangwei", DEMO)
    mine = a_customer(demo_app)
    assert patch(sales, mine.id, "stage", "former", mine.version).status_code == 403
    assert patch(sales, mine.id, "id_number", "11010519491231002X", mine.version).status_code == 403
    other = a_customer(demo_app, owner="liuyang")
    assert patch(sales, other.id, "city", "北京市", other.version).status_code == 404
    auditor = login(demo_app.test_client(), "auditor")
    assert patch(auditor, mine.id, "city", "北京市", mine.version).status_code in (401, 403)
    db.session.expire_all()
    assert db.session.get(Customer, other.id).city == other.city
    actions = db.session.scalars(sa.select(AccessLog.action).where(AccessLog.username == "zhangwei")).all()
    assert "not_found" in actions and "denied" in actions


def test_a_number_already_used_elsewhere_is_a_field_message_not_a_server_error(demo_app):
    clerk = login(demo_app.test_client(), "clerk")
    first, second = db.session.scalars(sa.select(Customer).order_by(Customer.id).limit(2)).all()
    taken, number = first.number, second.number
    response = patch(clerk, second.id, "number", taken, second.version)
    assert response.status_code == 422 and taken in response.json["errors"]["number"][0]
    db.session.expire_all()
    assert db.session.get(Customer, second.id).number == number
