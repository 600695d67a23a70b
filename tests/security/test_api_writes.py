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
    answers = (clerk.post("/api/v1/customer/", json=post), clerk.put(f"/api/v1/customer/{customer.id}", json=put))
    for response in answers:
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


# -- what the API says about itself and about a bad query ---------------------------------

@pytest.mark.parametrize("language, title, labels", [
    ("zh", "客户", {"number": "客户编号", "customer_type": "客户类型", "owner": "业务员", "version": "版本"}),
    ("en", "Customers", {"number": "Customer number", "customer_type": "Customer type", "owner": "Salesperson",
                         "version": "Version"}),
], ids=["zh", "en"])
def test_the_apis_labels_title_and_field_help_come_from_the_registry_in_the_users_language(app, language, title,
                                                                                          labels):
    clerk = login(app.test_client(), "clerk")
    if language == "en":
        clerk.get("/lang/en")
    listed = clerk.get("/api/v1/customer/").json
    assert listed["list_title"] == title
    assert {name: listed["label_columns"][name] for name in labels} == labels
    fields = {f["name"]: f for f in clerk.get("/api/v1/customer/_info").json["add_columns"]}
    assert fields["number"]["label"] == labels["number"]
    assert fields["number"]["description"] == ("留空则按规则自动生成" if language == "zh" else
                                               "Left empty, it is generated from the pattern")
    # A field without help has none (FAB would give gettext(""): the catalog's header).
    assert fields["name"]["description"] == ""


@pytest.mark.parametrize("query, message", [
    ("(bad", "参数 q 不是有效的 Rison 或 JSON，或其中某个值的类型不对。"),
    ("(page:abc)", "参数 q 不是有效的 Rison 或 JSON，或其中某个值的类型不对。"),
    ("(order_column:id_number,order_direction:asc)", "不能按 id_number 排序。"),
    ("(filters:!((col:colour,opr:eq,value:1)))", "不能按 colour 筛选。"),
], ids=["not-rison", "wrong-type", "unsortable", "unfilterable"])
def test_a_bad_api_query_is_told_in_the_users_language(app, query, message):
    clerk = login(app.test_client(), "clerk")
    response = clerk.get(f"/api/v1/customer/?q={query}")
    assert response.status_code == 400 and response.json["message"] == message


def test_a_record_out_of_reach_or_missing_is_a_404_in_the_users_language(app):
    clerk = login(app.test_client(), "clerk")
    response = clerk.get("/api/v1/customer/99999")
    assert response.status_code == 404 and response.json["message"] == "该记录不存在，或不在您的查看范围内。"


@pytest.mark.parametrize("method, url", [
    ("delete", "/api/v1/customer/{id}"), ("get", "/api/v1/grid/customer/schema"), ("get", "/api/v1/import/batches"),
], ids=["archive", "grid", "import"])
def test_what_an_api_turns_away_is_told_in_the_users_language(app, method, url):
    customer = Customer(number="KH-A1", name="甲公司")
    db.session.add(customer)
    db.session.commit()
    url = url.format(id=customer.id)
    anonymous = getattr(app.test_client(), method)(url)
    assert anonymous.status_code == 401 and anonymous.json == {"message": "请先登录。"}
    forged = getattr(app.test_client(), method)(url, headers={"Authorization": "Bearer not-a-token"})
    assert forged.status_code == 401 and forged.json == {"message": "请先登录。"}
    if method == "delete":
        clerk = getattr(login(app.test_client(), "clerk"), method)(url)
        assert clerk.status_code == 403 and clerk.json["message"] == "您无权执行此操作。"
        assert db.session.get(Customer, customer.id) is not None


def test_a_customer_deleted_through_the_api_is_purged_as_on_its_page_with_its_records_and_kept_in_history(app):
    from portal.models import AccessLog, ChangeLog, Transaction

    customer = Customer(number="KH-A1", name="甲公司")
    db.session.add(customer)
    db.session.commit()
    db.session.add(Transaction(customer=customer, trade_date=dt.date(2025, 1, 1), amount=100))
    db.session.commit()
    pk = customer.id
    response = login(app.test_client(), "admin").delete(f"/api/v1/customer/{pk}")
    assert response.status_code == 200, response.json   # was a 422 with the database's UPDATE statement
    db.session.expire_all()
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Customer)) == 0
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Transaction)) == 0
    deleted = {(e.object_type, e.source) for e in db.session.scalars(sa.select(ChangeLog).filter_by(action="delete"))}
    assert deleted == {("Customer", "purge"), ("Transaction", "purge")}
    purge = db.session.scalars(sa.select(AccessLog).filter_by(action="purge")).one()
    assert purge.object_id == str(pk) and '"via": "api"' in purge.detail and '"Transaction": 1' in purge.detail
