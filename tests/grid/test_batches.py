"""Batches of grid edits (POST /api/v1/grid/<resource>/batches): a paste of many rows saves
the valid ones and reports the others per cell, once per batch id, through the same gate
as a single cell (scope, masking, read-only fields, locking, history, access log)."""
from __future__ import annotations

import sqlalchemy as sa

from portal.extensions import db
from portal.grid import writes
from portal.grid.resources import RESOURCES
from portal.models import AccessLog, Contact, Customer, GridBatch, LifecycleEvent, Region
from tests.conftest import login, user

from .helpers import DEMO, by_key, customers_of, edit, fresh, history_of, new_id, post_batch


def test_a_paste_batch_saves_valid_rows_and_reports_invalid_cells(demo_app):
    clerk = login(demo_app.test_client(), "clerk")
    first, second, third = customers_of(demo_app, "zhangwei")
    birth_before, loaded = second.birth_date, first.version
    batch_id = new_id()
    response = post_batch(clerk, [
        edit(first, "a", mobile="１３８ ０００１ ２３４５", city="宁波市"),
        edit(second, "b", city="温州市", birth_date="2024-02-31", mobile="1381234"),
        edit(third, "c", value_grade="A级", loyalty_index="80"),
    ], batch_id=batch_id)
    assert response.status_code == 200, response.json
    answer = response.json
    assert answer["id"] == batch_id and answer["saved"] == 2 and answer["failed"] == 1
    results = by_key(answer)
    assert results["a"]["status"] == "ok" and results["a"]["row"]["mobile"] == "13800012345"
    assert results["a"]["row"]["version"] == loaded + 1
    assert results["c"]["row"]["value_grade"] == "A" and results["c"]["row"]["loyalty_index"] == 80
    bad = results["b"]
    assert bad["status"] == "invalid" and set(bad["errors"]) == {"birth_date", "mobile"}
    assert "日期" in bad["errors"]["birth_date"][0] and "手机" in bad["errors"]["mobile"][0]
    assert fresh(Customer, first.id).city == "宁波市" and fresh(Customer, third.id).value_grade == "A"
    # As in Excel, the good cells of a row with bad ones are saved; the bad ones are not.
    partly = fresh(Customer, second.id)
    assert (partly.city, partly.birth_date, partly.mobile) == ("温州市", birth_before, second.mobile)
    assert bad["row"]["city"] == "温州市" and bad["row"]["version"] == partly.version
    entries = history_of(f"grid:batch:{batch_id}")
    assert {e.object_id for e in entries} == {first.id, second.id, third.id}
    assert set(next(e for e in entries if e.object_id == second.id).changes) == {"city"}
    assert next(e for e in entries if e.object_id == first.id).changes["mobile"]["new"] == "13800012345"


def test_a_batch_replayed_with_the_same_id_is_not_applied_twice(demo_app):
    clerk = login(demo_app.test_client(), "clerk")
    customer = customers_of(demo_app, "zhangwei", 1)[0]
    batch_id, changes = new_id(), [edit(customer, "k", city="舟山市")]
    first = post_batch(clerk, changes, batch_id=batch_id)
    assert first.status_code == 200 and first.json["saved"] == 1
    version = fresh(Customer, customer.id).version
    again = post_batch(clerk, changes, batch_id=batch_id)  # a retry: its version is stale by now
    assert again.status_code == 200 and again.json == first.json
    assert fresh(Customer, customer.id).version == version
    assert len(history_of(f"grid:batch:{batch_id}")) == 1
    custodian = login(demo_app.test_client(), "custodian")
    taken = post_batch(custodian, [edit(fresh(Customer, customer.id), "k", city="嘉兴市")], batch_id=batch_id)
    assert taken.status_code == 409 and taken.json["message"]
    assert fresh(Customer, customer.id).city == "舟山市"
    stored = db.session.get(GridBatch, batch_id)
    assert stored.user_id == user(demo_app, "clerk").id and stored.state == "applied"
    assert stored.applied["records"][0]["fields"]["city"]["new"] == "舟山市"


def test_masked_and_readonly_fields_are_refused_in_a_batch(demo_app):
    sales = login(demo_app.test_client(), "zhangwei", DEMO)
    first, second, third = customers_of(demo_app, "zhangwei")
    batch_id = new_id()
    answer = post_batch(sales, [
        edit(first, "masked", city="湖州市", id_number="11010519491231002X"),
        edit(second, "readonly", stage="former"),
        edit(third, "system", changed_on="2020-01-01"),
        edit(third, "fine", city="丽水市"),
    ], batch_id=batch_id).json
    results = by_key(answer)
    assert results["masked"]["status"] == "refused" and set(results["masked"]["errors"]) == {"id_number"}
    assert results["readonly"]["status"] == "refused" and results["system"]["status"] == "refused"
    assert results["fine"]["status"] == "ok"
    assert fresh(Customer, first.id).city == first.city  # nothing of a refused row is saved
    assert fresh(Customer, second.id).stage == second.stage
    denied = db.session.scalars(sa.select(AccessLog).where(AccessLog.username == "zhangwei",
                                                           AccessLog.action == "denied")).all()
    assert {e.object_id for e in denied} >= {str(first.id), str(second.id), str(third.id)}
    assert all(batch_id in e.detail for e in denied if e.object_id == str(first.id))
    auditor = login(demo_app.test_client(), "auditor")
    assert post_batch(auditor, [edit(first, city="北京市")]).status_code in (401, 403)


def test_salesperson_batch_cannot_touch_others_customers(demo_app):
    sales = login(demo_app.test_client(), "zhangwei", DEMO)
    others = customers_of(demo_app, "liuyang", 1)[0]
    answer = post_batch(sales, [
        edit(others, "theirs", city="北京市"),
        {"key": "contact", "id": None, "values": {"customer": others.id, "name": "王五"}},
        {"key": "contact-by-name", "id": None, "values": {"customer": others.name, "name": "王六"}},
        {"key": "new", "id": None, "values": {"name": "新建测试公司", "owner": user(demo_app, "lina").id}},
    ]).json
    results = by_key(answer)
    assert results["theirs"]["status"] == "not_found"
    assert fresh(Customer, others.id).city == others.city
    assert results["contact"]["status"] == "invalid" and "customer" in results["contact"]["errors"]
    assert results["contact-by-name"]["status"] == "invalid"
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Contact).where(Contact.name.in_(["王五", "王六"]))) == 0
    created = results["new"]
    assert created["status"] == "ok" and created["row"]["owner"]["id"] == user(demo_app, "zhangwei").id
    listed = sales.get("/api/v1/grid/customer/rows", query_string={"q": "新建测试公司"}).json
    assert [r["id"] for r in listed["rows"]] == [created["id"]]  # theirs, so they see it
    actions = db.session.scalars(sa.select(AccessLog.action).where(AccessLog.username == "zhangwei")).all()
    assert "not_found" in actions


def test_relation_labels_pasted_as_text_are_resolved(demo_app):
    clerk = login(demo_app.test_client(), "clerk")
    first, second, third = customers_of(demo_app, "zhangwei")
    referrer = customers_of(demo_app, "lina", 1)[0]
    east = db.session.scalars(sa.select(Region).where(Region.name == "华东区")).one()
    db.session.add_all([Region(code="DUP1", name="重名区"), Region(code="DUP2", name="重名区"),
                        Region(code="OLD", name="停用区", active=False)])
    db.session.commit()
    answer = post_batch(clerk, [
        edit(first, "names", owner="李娜", region=" 华东区 ", referred_by=str(referrer)),
        edit(second, "by-username-and-code", owner="lina", region=east.code),
        edit(third, "unknown", owner="不存在的人"),
        edit(third, "ambiguous", region="重名区"),
        edit(third, "inactive", region="停用区"),
    ]).json
    results = by_key(answer)
    assert results["names"]["status"] == "ok", results["names"]
    row = results["names"]["row"]
    assert row["owner"] == {"id": user(demo_app, "lina").id, "label": "李娜"}
    assert row["region"]["id"] == east.id and row["referred_by"]["id"] == referrer.id
    assert results["by-username-and-code"]["row"]["region"]["id"] == east.id
    for key, field in (("unknown", "owner"), ("ambiguous", "region"), ("inactive", "region")):
        assert results[key]["status"] == "invalid", key
        assert "从列表中选择" in results[key]["errors"][field][0] or "选择" in results[key]["errors"][field][0]


def test_batch_over_500_changes_is_refused(demo_app):
    clerk = login(demo_app.test_client(), "clerk")
    customer = customers_of(demo_app, "zhangwei", 1)[0]
    batch_id = new_id()
    response = post_batch(clerk, [edit(customer, f"k{i}", city="衢州市") for i in range(501)], batch_id=batch_id)
    assert response.status_code == 413 and "500" in response.json["message"]
    assert any("\u4e00" <= ch <= "\u9fff" for ch in response.json["message"])
    assert db.session.get(GridBatch, batch_id) is None and fresh(Customer, customer.id).city == customer.city
    assert post_batch(clerk, [], batch_id="short").status_code == 400  # ids have 8 to 64 characters


def test_new_rows_get_defaults_numbers_and_required_messages(demo_app):
    clerk = login(demo_app.test_client(), "clerk")
    answer = post_batch(clerk, [
        {"key": "ok", "id": None, "values": {"name": "批量新建有限公司", "value_grade": "B"}},
        {"key": "empty", "id": None, "values": {"city": "杭州市"}},
        {"key": "cleared", "id": None, "values": {"name": "某公司", "customer_type": ""}},
    ]).json
    results = by_key(answer)
    row = results["ok"]["row"]
    assert results["ok"]["status"] == "ok" and row["number"].startswith("KH") and row["customer_type"] == "org"
    assert row["stage"] == "potential" and row["version"] == 1
    assert db.session.scalar(sa.select(sa.func.count()).select_from(LifecycleEvent)
                             .where(LifecycleEvent.customer_id == results["ok"]["id"])) == 1
    assert results["empty"]["status"] == "invalid" and "name" in results["empty"]["errors"]
    assert "必填" in results["empty"]["errors"]["name"][0]
    assert results["cleared"]["status"] == "invalid" and "customer_type" in results["cleared"]["errors"]


def test_a_new_row_needs_the_right_to_add(demo_app):
    rights = writes.Rights(can_write=True, can_create=False, sees_sensitive=True, scope_kind="all", user_id=None)
    try:
        writes.create_record(db.session, RESOURCES["customer"], rights, {"name": "不该有的公司"})
    except writes.ChangeFailed as exc:
        assert exc.status == "refused"
    else:
        raise AssertionError("created without the right to add")
    assert db.session.scalar(sa.select(Customer.id).where(Customer.name == "不该有的公司")) is None


def test_a_stale_row_in_a_batch_is_a_conflict_with_their_values(demo_app):
    clerk, custodian = login(demo_app.test_client(), "clerk"), login(demo_app.test_client(), "custodian")
    customer = customers_of(demo_app, "zhangwei", 1)[0]
    stale = edit(customer, "mine", city="温州市", district="鹿城区")
    assert post_batch(custodian, [edit(customer, city="宁波市")]).json["saved"] == 1
    result = post_batch(clerk, [stale]).json["results"][0]
    assert result["status"] == "conflict" and result["message"]
    conflict = result["conflict"]
    assert conflict["their_values"]["city"] == "宁波市" and set(conflict["their_values"]) == {"city", "district"}
    assert conflict["changed_by"] == user(demo_app, "custodian").get_full_name()
    assert conflict["current_version"] == stale["version"] + 1 and conflict["row"]["city"] == "宁波市"
    assert fresh(Customer, customer.id).city == "宁波市"


def test_a_number_taken_in_the_same_batch_is_invalid(demo_app):
    clerk = login(demo_app.test_client(), "clerk")
    first, second = customers_of(demo_app, "zhangwei", 2)
    answer = post_batch(clerk, [edit(first, "one", number="KH-TEST-1"), edit(second, "two", number="KH-TEST-1")]).json
    results = by_key(answer)
    assert results["one"]["status"] == "ok"
    assert results["two"]["status"] == "invalid" and "KH-TEST-1" in results["two"]["errors"]["number"][0]


def test_a_number_taken_in_another_case_is_invalid_and_a_card_may_change_its_own_numbers_case(demo_app):
    clerk = login(demo_app.test_client(), "clerk")
    first, second, third = customers_of(demo_app, "zhangwei", 3)
    answer = post_batch(clerk, [edit(first, "one", number="KH-CASE-1"), edit(second, "two", number="kh-case-1"),
                                {"key": "new", "id": None, "values": {"name": "新客户", "number": "Kh-Case-1"}}]).json
    results = by_key(answer)
    assert results["one"]["status"] == "ok"
    for key in ("two", "new"):
        assert results[key]["status"] == "invalid"
        assert results[key]["errors"]["number"] == ["客户编号“KH-CASE-1”已被其他记录使用。"]
    assert fresh(Customer, second.id).number == second.number
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Customer).filter_by(name="新客户")) == 0
    again = post_batch(clerk, [edit(fresh(Customer, first.id), "own", number="kh-case-1"),
                               edit(third, "other", number="KH-CASE-2")]).json
    assert [r["status"] for r in again["results"]] == ["ok", "ok"]
    assert fresh(Customer, first.id).number == "kh-case-1"


def test_contacts_are_created_on_a_customer_named_by_its_label(demo_app):
    sales = login(demo_app.test_client(), "zhangwei", DEMO)
    mine = customers_of(demo_app, "zhangwei", 1)[0]
    answer = post_batch(sales, [{"key": "c", "id": None, "values": {
        "customer": mine.name, "name": "赵六", "mobile": "139 0000 1111", "gender": "男"}}], resource="contact").json
    result = answer["results"][0]
    assert result["status"] == "ok", result
    assert result["row"]["customer"]["id"] == mine.id and result["row"]["mobile"] == "13900001111"
    assert result["row"]["gender"] == "M"


def test_two_changes_of_one_record_in_a_batch_are_not_a_conflict_with_oneself(demo_app):
    clerk = login(demo_app.test_client(), "clerk")
    customer = customers_of(demo_app, "zhangwei", 1)[0]
    answer = post_batch(clerk, [edit(customer, "city", city="宁波市"), edit(customer, "district", district="鄞州区")]).json
    assert [r["status"] for r in answer["results"]] == ["ok", "ok"]
    again = fresh(Customer, customer.id)
    assert (again.city, again.district) == ("宁波市", "鄞州区")
