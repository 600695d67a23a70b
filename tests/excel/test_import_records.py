"""Importing the records that belong to a customer — visits and calls, contacts, transactions —
from the sheets clerks actually get: customers named by number or by a name two cards share,
the contact met named as the salesperson wrote it down."""
from __future__ import annotations

import datetime as dt

import pytest
import sqlalchemy as sa

from portal.excel import importer, steps
from portal.excel.importer import ImportRefused, Who
from portal.extensions import db
from portal.models import ChangeLog, Contact, Customer, ImportBatch, LifecycleEvent, Transaction, Visit

from tests.conftest import user

from .importing import committed, prepared, staged

VISIT_HEADER = ["客户", "日期", "方式", "联系人", "内容"]


def _customer(number: str, name: str, *contacts: str, **values) -> Customer:
    customer = Customer(number=number, name=name, **values)
    db.session.add(customer)
    db.session.flush()
    db.session.add_all(Contact(customer_id=customer.id, name=c) for c in contacts)
    db.session.commit()
    return customer


def test_a_visits_contact_is_the_one_of_its_customer_not_a_namesake_elsewhere(app, tmp_path):
    first = _customer("KH-1", "甲公司", "张三")
    _customer("KH-2", "乙公司", "张三", "李四")
    batch = committed(tmp_path, [VISIT_HEADER, ["KH-1", "2026/3/2", "走访", "张三", "谈续约"],
                                 ["KH-1", "2026/3/3", "电话", "李四", "催款"]], "visit", mode="create")
    assert batch.counts["created"] == 1 and batch.counts["invalid"] == 1
    visit = db.session.scalars(sa.select(Visit)).one()
    assert visit.contact.customer_id == first.id and visit.contact.name == "张三"
    # 李四 is 乙公司's contact: the visit to 甲公司 does not get him
    assert staged(batch)[3].errors == {"contact_id": "联系人：“李四”不属于该客户。"}


def test_a_customer_name_two_cards_share_is_refused_asking_for_the_number(app, tmp_path):
    _customer("KH-1", "乙公司")
    _customer("KH-2", "乙公司")
    batch = prepared(tmp_path, [VISIT_HEADER, ["乙公司", "2026/3/2", "走访", None, "拜访"],
                                ["KH-2", "2026/3/2", "走访", None, "拜访"]], "visit", mode="create")
    rows = staged(batch)
    assert rows[2].status == "invalid"
    assert rows[2].errors["customer_id"] == "客户：有 2 条记录名为“乙公司”，请改填要指的那一条的编号。"
    assert rows[3].status == "new"


def test_visit_methods_and_dates_as_salespeople_write_them_are_understood(app, tmp_path):
    _customer("KH-1", "甲公司")
    batch = committed(tmp_path, [VISIT_HEADER, ["KH-1", "2026年3月2号", "上门拜访", None, "a"],
                                 ["KH-1", "2026年3月2日 星期一", "打电话", None, "b"],
                                 ["KH-1", "2026/3/3（周二）", "微信", None, "c"],
                                 ["KH-1", "2026.3.4", "邮件", None, "d"],
                                 ["KH-1", "2026年3月5日 星期一", "走访", None, "e"]], "visit", mode="create")
    assert batch.counts["created"] == 4
    visits = {v.content: (v.method, v.visited_on) for v in db.session.scalars(sa.select(Visit))}
    assert visits == {"a": ("visit", dt.date(2026, 3, 2)), "b": ("phone", dt.date(2026, 3, 2)),
                      "c": ("message", dt.date(2026, 3, 3)), "d": ("email", dt.date(2026, 3, 4))}
    # 2026-03-05 is a Thursday: one of the two is mistyped, and the row says so
    assert staged(batch)[6].errors == {"visited_on": "2026-03-05 是星期四，不是星期一，请核对日期。"}


def test_payment_methods_and_deal_roles_as_clerks_write_them_are_understood(app, tmp_path):
    _customer("KH-1", "甲公司")
    batch = committed(tmp_path, [["交易单号", "客户", "交易日期", "金额", "付款方式"],
                                 ["T1", "KH-1", "2026/3/2", "¥1,234.50", "微信"],
                                 ["T2", "KH-1", "2026/3/2", "1.2万", "转账"],
                                 ["T3", "KH-1", "2026/3/2", "-300", "赊帐"]], "transaction", match=["number"])
    assert batch.counts["created"] == 3
    paid = {t.number: (t.payment_method, t.amount) for t in db.session.scalars(sa.select(Transaction))}
    assert paid == {"T1": ("wechat", 1234.5), "T2": ("transfer", 12000), "T3": ("credit", -300)}
    batch = committed(tmp_path, [["客户", "姓名", "角色"], ["KH-1", "张三", "决策者"], ["KH-1", "李四", "采购"]],
                      "contact", mode="create")
    assert batch.counts["created"] == 2
    assert {c.name: c.deal_role for c in db.session.scalars(sa.select(Contact))} == \
        {"张三": "decision_maker", "李四": "purchaser"}


def test_a_customer_named_with_the_other_brackets_spaces_or_case_is_found(app, tmp_path):
    hangzhou = _customer("KH-1", "杭州某某（集团）有限公司")
    ningbo = _customer("KH-2", "宁波某某(集团)有限公司")
    batch = prepared(tmp_path, [VISIT_HEADER, ["杭州某某(集团)有限公司", "2026/3/2", "走访", None, "a"],
                                ["宁波某某（集团）有限公司", "2026/3/2", "走访", None, "b"],
                                ["杭州某某 （集团） 有限公司", "2026/3/3", "走访", None, "c"],
                                ["kh-2", "2026/3/4", "走访", None, "d"]], "visit", mode="create")
    assert {n: (r.status, r.values["customer_id"]) for n, r in staged(batch).items()} == {
        2: ("new", hangzhou.id), 3: ("new", ningbo.id), 4: ("new", hangzhou.id), 5: ("new", ningbo.id)}


def test_an_undo_kept_back_by_an_edited_visit_names_the_visit_and_its_customer(app, tmp_path):
    _customer("KH-1", "甲公司")
    batch = committed(tmp_path, [["客户", "日期", "方式", "目的"], ["KH-1", "2026/3/2", "走访", "谈续约"],
                                 ["KH-1", "2026/3/3", "电话", "催款"]], "visit", mode="create")
    edited = db.session.scalars(sa.select(Visit).filter_by(purpose="谈续约")).one()
    edited.content = "客户同意续约"
    db.session.commit()
    with pytest.raises(ImportRefused) as refused:
        steps.run("undo", batch, Who(), background=False)
    (kept,) = refused.value.extra["blocked"]
    assert kept["row"] == 2 and kept["label"] == "KH-1 甲公司 2026-03-02 谈续约"
    steps.run("undo", db.session.get(ImportBatch, batch.id), Who(), background=False, partial=True)
    assert [v.purpose for v in db.session.scalars(sa.select(Visit))] == ["谈续约"]


def test_negative_amounts_as_excel_writes_them_to_csv_are_read(app, tmp_path):
    """Text cells as a CSV saved from Excel holds them (it keeps the cells' format): a return
    of 300 yuan is -¥300.00, or (¥300.00) in the accounting format."""
    _customer("KH-1", "甲公司")
    batch = committed(tmp_path, [["交易单号", "客户", "交易日期", "金额"], ["R1", "KH-1", "2026/3/2", "-¥300.00"],
                                 ["R2", "KH-1", "2026/3/2", "(¥1,234.50)"], ["S1", "KH-1", "2026/3/2", "¥2,000.00"]],
                      "transaction", match=["number"])
    assert batch.counts["created"] == 3
    assert {t.number: t.amount for t in db.session.scalars(sa.select(Transaction))} == \
        {"R1": -300, "R2": pytest.approx(-1234.5), "S1": 2000}


def test_a_misspelt_customer_is_refused_offering_the_one_in_reach_it_sounds_like(app, tmp_path):
    sales, other = user(app, "sales"), user(app, "sales2")
    _customer("KH-1", "杭州明远贸易有限公司", owner_id=sales.id)
    _customer("KH-2", "宁波明远贸易有限公司", owner_id=other.id)
    rows = [VISIT_HEADER, ["杭州明源贸易有限公司", "2026/3/2", "走访", None, "a"],   # 源 for 远: same pinyin
            ["宁波明源贸易有限公司", "2026/3/2", "走访", None, "b"]]
    batch = prepared(tmp_path, rows, "visit", who=Who(user=sales, sees_sensitive=False), mode="create")
    rows = staged(batch)
    assert rows[2].errors == {"customer_id": "客户：列表中没有“杭州明源贸易有限公司”，是否指“KH-1 杭州明远贸易有限公司”？"}
    # another salesperson's customer is not offered
    assert rows[3].errors == {"customer_id": "客户：列表中没有“宁波明源贸易有限公司”。"}


def test_a_customer_listed_again_for_its_second_contact_says_where_that_contact_goes(app, tmp_path):
    batch = prepared(tmp_path, [["客户编号", "客户名称", "联系人", "联系人手机"], ["KH-9", "甲公司", "张三", "13800000001"],
                                ["KH-9", "甲公司", "李四", "13800000002"]], "customer", match=["number"], mode="upsert")
    second = staged(batch)[3]
    assert second.status == "duplicate"
    assert second.errors["_row"] == "与第 2 行的客户编号相同：客户表每个客户只导入一位联系人；此行的联系人请用联系人表导入。"


def test_a_visit_report_imported_twice_adds_its_visits_once(app, tmp_path):
    _customer("KH-1", "甲公司")
    rows = [["客户", "日期", "方式", "内容", "费用"], ["KH-1", "2026/3/2", "走访", "谈续约", "¥12.50"],
            ["KH-1", "2026/3/3", "电话", None, None]]
    committed(tmp_path, rows, "visit", mode="create")
    again = committed(tmp_path, [*rows, ["KH-1", "2026/3/3", "电话", "催款", None]], "visit", mode="create")
    assert again.counts["created"] == 1 and again.counts["duplicate"] == 2
    assert staged(again)[2].errors == {"_row": "档案中已有：该客户已有一条记录，各列的值与此行完全相同。"}
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Visit)) == 3


def test_the_error_report_of_a_visit_sheet_fixed_and_imported_again_adds_only_the_fixed_rows(app, tmp_path):
    import openpyxl

    from portal.excel.report import write_errors

    _customer("KH-1", "甲公司")
    visit = ["KH-1", "2026/3/2", "走访", "谈续约"]
    batch = committed(tmp_path, [["客户", "日期", "方式", "内容"], visit, visit, ["KH-X", "2026/3/3", "电话", "催款"]],
                      "visit", mode="create")
    assert batch.counts["created"] == 1 and batch.counts["skipped"] == 2
    report = tmp_path / "errors.xlsx"
    with report.open("wb") as stream:
        write_errors(stream, db.session, batch, sees_sensitive=True)
    book = openpyxl.load_workbook(report)
    sheet = book.active
    assert [c.value for c in sheet[3]][:4] == ["KH-X", "2026/3/3", "电话", "催款"]
    sheet["A3"] = "KH-1"   # the clerk fixes the customer and imports the whole report again
    fixed = tmp_path / "fixed.xlsx"
    book.save(fixed)
    batch = importer.upload(db.session, fixed, fixed.name, "visit", Who())
    db.session.commit()
    steps.run("prepare", batch, Who(), background=False, options={"mode": "create", "match": []})
    steps.run("commit", batch, Who(), background=False)
    assert batch.counts["created"] == 1 and batch.counts["duplicate"] == 1   # the visit typed twice: still once
    assert sorted(v.content for v in db.session.scalars(sa.select(Visit))) == ["催款", "谈续约"]


def test_a_contact_key_two_contacts_share_updates_neither_and_says_why(app, tmp_path):
    first = _customer("KH-1", "甲公司", "李四", "李四")
    second = _customer("KH-2", "乙公司")
    db.session.add_all([Contact(customer_id=first.id, name="张三", mobile="13800000001"),
                        Contact(customer_id=second.id, name="张三丰", mobile="13800000001")])
    db.session.commit()
    batch = prepared(tmp_path, [["手机", "职务"], ["13800000001", "经理"]], "contact", match=["mobile"], mode="update")
    assert batch.counts["invalid"] == 1 and batch.counts["update"] == 0
    assert staged(batch)[2].errors == {
        "_row": "有 2 条记录的手机与此行相同，无法确定此行指的是哪一条：请换一个匹配键，或先合并重复的记录。"}
    batch = prepared(tmp_path, [["客户", "姓名", "职务"], ["KH-1", "李四", "经理"]], "contact",
                     match=["customer_id", "name"], mode="update")
    assert batch.counts["invalid"] == 1 and staged(batch)[2].target_id is None
    assert db.session.scalars(sa.select(Contact.position).where(Contact.position.is_not(None))).all() == []


TRADES = [["交易单号", "客户编号", "交易日期", "金额"], ["T1", "KH-T1", "2026/3/2", "100"], ["T2", "KH-T1", "2026/3/5", "50"]]


def test_an_undo_of_a_customers_first_transactions_makes_it_a_potential_customer_again(app, tmp_path):
    customer = _customer("KH-T1", "甲公司")
    before = (customer.stage, customer.stage_since)
    batch = committed(tmp_path, TRADES, "transaction", match=["number"])
    db.session.refresh(customer)
    assert customer.stage == "current"   # the first transaction made it current
    steps.run("undo", batch, Who(), background=False)
    db.session.expire_all()
    customer = db.session.get(Customer, customer.id)
    assert (customer.stage, customer.stage_since) == before == ("potential", customer.stage_since)
    assert customer.first_trade_on is None and customer.last_trade_on is None
    assert [e.to_stage for e in db.session.scalars(sa.select(LifecycleEvent))] == ["potential"]
    change = db.session.scalars(sa.select(ChangeLog).filter_by(object_type="Customer",
                                                                source=f"undo:import:{batch.id}")).one()
    assert change.changes["stage"] == {"old": "current", "new": "potential"}


def test_an_undo_of_first_transactions_keeps_the_customer_current_through_one_entered_since(app, tmp_path):
    customer = _customer("KH-T1", "甲公司")
    batch = committed(tmp_path, TRADES, "transaction", match=["number"])
    later = Transaction(number="T9", customer_id=customer.id, trade_date=dt.date(2026, 4, 1), amount=80)
    db.session.add(later)
    db.session.commit()
    steps.run("undo", batch, Who(), background=False)
    db.session.expire_all()
    customer = db.session.get(Customer, customer.id)
    assert (customer.stage, customer.stage_since) == ("current", dt.date(2026, 4, 1))
    assert customer.first_trade_on == customer.last_trade_on == dt.date(2026, 4, 1)
    event = db.session.scalars(sa.select(LifecycleEvent).filter_by(to_stage="current")).one()
    assert event.transaction_id == later.id and event.occurred_on == dt.date(2026, 4, 1)


def test_an_undo_of_a_first_transaction_is_refused_once_the_customer_has_moved_on(app, tmp_path):
    from portal.services import lifecycle

    customer = _customer("KH-T1", "甲公司")
    batch = committed(tmp_path, TRADES, "transaction", match=["number"])
    lifecycle.mark_former(db.session, db.session.get(Customer, customer.id), "转向竞争对手")
    db.session.commit()
    with pytest.raises(ImportRefused) as refused:
        steps.run("undo", batch, Who(), background=False)
    (kept,) = refused.value.extra["blocked"]
    assert kept["label"] == "T1" and kept["reason"] == "导入后其客户的阶段已有变更。"
    steps.run("undo", db.session.get(ImportBatch, batch.id), Who(), background=False, partial=True)
    db.session.expire_all()
    assert db.session.scalars(sa.select(Transaction.number)).all() == ["T1"]
    assert db.session.get(Customer, customer.id).stage == "former"
