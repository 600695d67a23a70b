"""Writes through the REST API (/api/v1/customer/, /api/v1/contact/) judged as the form and
the grid judge them: a number left out is generated, a related record must exist within the
user's reach, and whatever is refused is told per field in the user's language — never a
500 or the database's own text — with nothing saved."""
from __future__ import annotations

import datetime as dt

import pytest
import sqlalchemy as sa

from portal.extensions import db
from portal.models import Customer
from tests.conftest import login

PICK = "：请从列表中选择。"
NOT_AN_OBJECT = "请求内容必须是由字段名和值组成的 JSON 对象。"


def test_a_customer_posted_without_a_number_gets_one_from_the_pattern(app):
    clerk = login(app.test_client(), "clerk")
    year = dt.date.today().year
    for body in ({"name": "甲", "customer_type": "org"}, {"name": "乙", "customer_type": "org", "number": ""}):
        response = clerk.post("/api/v1/customer/", json=body)
        assert response.status_code == 201, response.json
    assert sorted(db.session.scalars(sa.select(Customer.number))) == [f"KH{year}00001", f"KH{year}00002"]


@pytest.mark.parametrize("body, status, message", [
    ({"owner": 999999}, 422, {"owner": ["业务员" + PICK]}),
    ({"owner": "不存在的人"}, 422, {"owner": ["业务员" + PICK]}),
    ({"referred_by": 999999}, 422, {"referred_by": ["推荐客户" + PICK]}),
    ({"name": ["甲"]}, 422, {"name": ["不是此字段的有效值。"]}),
    ({"city": {"name": "杭州"}}, 422, {"city": ["不是此字段的有效值。"]}),
    ({"colour": "red"}, 422, {"colour": ["没有此字段，或此处不能写入该字段。"]}),
    ([{"name": "甲"}], 400, NOT_AN_OBJECT),
    ("甲", 400, NOT_AN_OBJECT),
    (None, 400, NOT_AN_OBJECT),
], ids=["missing-owner", "owner-by-unknown-name", "missing-referrer", "list", "object", "unknown-field",
        "array-body", "string-body", "null-body"])
def test_a_bad_api_write_is_told_per_field_in_the_users_language_and_saves_nothing(app, body, status, message):
    clerk = login(app.test_client(), "clerk")
    customer = Customer(number="KH-A1", name="甲公司", city="宁波市")
    db.session.add(customer)
    db.session.commit()
    post = {"name": "乙公司", "customer_type": "org", **body} if isinstance(body, dict) else body
    put = {**body, "version": customer.version} if isinstance(body, dict) else body
    for response in (clerk.post("/api/v1/customer/", json=post), clerk.put(f"/api/v1/customer/{customer.id}", json=put)):
        assert (response.status_code, response.json["message"]) == (status, message)
    db.session.expire_all()
    assert db.session.scalars(sa.select(Customer)).all() == [customer]
    assert (customer.name, customer.city, customer.version) == ("甲公司", "宁波市", 1)


def test_a_customer_posted_without_a_name_is_told_the_name_is_required(app):
    clerk = login(app.test_client(), "clerk")
    response = clerk.post("/api/v1/customer/", json={"customer_type": "org"})
    assert response.status_code == 422 and response.json["message"] == {"name": ["此项为必填项。"]}
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Customer)) == 0


def test_a_salesperson_cannot_name_a_customer_out_of_reach_as_referrer_through_the_api(demo_app):
    from tests.grid.helpers import DEMO, customers_of

    sales = login(demo_app.test_client(), "zhangwei", DEMO)
    mine = customers_of(demo_app, "zhangwei", 1)[0]
    theirs = db.session.scalars(sa.select(Customer).where(Customer.owner_id != mine.owner_id,
                                                          Customer.owner_id.is_not(None))).first()
    response = sales.put(f"/api/v1/customer/{mine.id}", json={"referred_by": theirs.id, "version": mine.version})
    assert response.status_code == 422 and response.json["message"] == {"referred_by": ["推荐客户" + PICK]}
    db.session.expire_all()
    assert db.session.get(Customer, mine.id).referred_by_id == mine.referred_by_id


def test_a_salesperson_cannot_add_a_contact_to_a_customer_out_of_reach_through_the_api(demo_app):
    from portal.models import Contact
    from tests.grid.helpers import DEMO, customers_of

    sales = login(demo_app.test_client(), "zhangwei", DEMO)
    mine = customers_of(demo_app, "zhangwei", 1)[0]
    theirs = db.session.scalars(sa.select(Customer).where(Customer.owner_id != mine.owner_id)).first()
    before = db.session.scalar(sa.select(sa.func.count()).select_from(Contact))
    refused = sales.post("/api/v1/contact/", json={"customer": theirs.id, "name": "赵六"})
    assert refused.status_code == 422 and refused.json["message"] == {"customer": ["客户" + PICK]}
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Contact)) == before
    added = sales.post("/api/v1/contact/", json={"customer": mine.id, "name": "赵六", "mobile": "139 0000 1111"})
    assert added.status_code == 201, added.json
    contact = db.session.get(Contact, added.json["id"])
    assert (contact.customer_id, contact.mobile) == (mine.id, "13900001111")
