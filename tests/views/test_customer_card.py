"""The customer card as a clerk uses it: fieldsets, tabs, messages, lifecycle."""
import datetime as dt
import re

import sqlalchemy as sa

from portal.extensions import db
from portal.models import Customer, LifecycleEvent, Transaction
from tests.conftest import form_version, login


def add_customer(client, **fields):
    data = {"name": "杭州华信贸易有限公司", "customer_type": "org"}
    data.update(fields)
    return client.post("/customerview/add", data=data)


def field_errors(html: str) -> list[str]:
    return [e.strip() for e in re.findall(r'<div class="alert alert-danger">\s*([^<]+?)\s*</div>', html)]


def edited(client, customer, **fields) -> Customer:
    """``customer`` saved through its edit form with ``fields`` (the form must accept them)."""
    data = {"customer_type": "org", "version": form_version(client, f"/customerview/edit/{customer.id}"), **fields}
    assert client.post(f"/customerview/edit/{customer.id}", data=data).status_code == 302
    db.session.expire_all()
    return db.session.get(Customer, customer.id)


def count(model):
    return db.session.scalar(sa.select(sa.func.count()).select_from(model))


def test_bad_values_get_field_messages_in_chinese_and_nothing_is_saved(client):
    login(client, "clerk")
    response = add_customer(client, name="", mobile="1381234", birth_date="2024-02-31", postcode="1000",
                            email="wang@", credit_limit="-5")
    assert response.status_code == 200
    errors = " ".join(field_errors(response.text))
    for message in ("必填", "手机", "日期", "邮", "负"):
        assert message in errors, (message, errors)
    assert count(Customer) == 0


def test_a_future_birth_date_is_refused(client):
    login(client, "clerk")
    tomorrow = (dt.date.today() + dt.timedelta(days=1)).isoformat()
    response = add_customer(client, birth_date=tomorrow)
    assert response.status_code == 200 and count(Customer) == 0


def test_english_messages_after_switching_language(client):
    login(client, "clerk")
    client.get("/lang/en")
    response = add_customer(client, mobile="1381234")
    assert "Not a valid mobile number" in response.text
    assert "客户名称" not in response.text and "Name" in response.text


def test_the_card_shows_sections_in_domain_order_and_related_records_as_tabs(client):
    login(client, "clerk")
    assert add_customer(client, mobile="13812345678").status_code == 302
    customer = db.session.scalars(sa.select(Customer)).one()
    page = client.get(f"/customerview/show/{customer.id}").text
    html = page[page.index('id="Home"'):]
    positions = [html.find(title) for title in ("基本信息", "地址与联系方式", "信用情况", "行为爱好", "企业信息",
                                                 "业务信息", "客户来源", "生命周期", "档案审查")]
    assert -1 not in positions and positions == sorted(positions), positions
    for tab in ("ContactView", "TransactionView", "AfterSalesView", "VisitView", "PromotionTargetView",
                "LifecycleEventView"):
        assert f'href="#{tab}"' in page, tab
    assert "潜在客户" in page


def test_a_customer_cannot_be_its_own_referrer(client):
    login(client, "clerk")
    add_customer(client, name="甲")
    add_customer(client, name="乙")
    first, second = db.session.scalars(sa.select(Customer).order_by(Customer.id)).all()
    # 乙 was referred by 甲; now 甲 claims to be referred by 乙: a loop
    edit = {"name": "乙", "customer_type": "org", "number": second.number, "referred_by": str(first.id),
            "version": form_version(client, f"/customerview/edit/{second.id}")}
    assert client.post(f"/customerview/edit/{second.id}", data=edit).status_code == 302
    loop = {"name": "甲", "customer_type": "org", "number": first.number, "referred_by": str(second.id),
            "version": form_version(client, f"/customerview/edit/{first.id}")}
    response = client.post(f"/customerview/edit/{first.id}", data=loop)
    assert response.status_code == 200
    assert any("推荐" in e for e in field_errors(response.text))
    db.session.expire_all()
    assert db.session.get(Customer, first.id).referred_by_id is None


def test_a_customer_number_or_credit_code_taken_in_another_case_is_refused_by_the_form(client):
    login(client, "clerk")
    assert add_customer(client, name="甲", number="KH-FORM-1", credit_code="91330100MA2ABCDEFG").status_code == 302
    response = add_customer(client, name="乙", number="kh-form-1", credit_code="91330100ma2abcdefg")
    assert response.status_code == 200
    assert set(field_errors(response.text)) == {"客户编号“KH-FORM-1”已被其他记录使用。",
                                                "统一社会信用代码“91330100MA2ABCDEFG”已被其他记录使用。"}
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Customer)) == 1
    # The card itself may change its number's case.
    (first,) = db.session.scalars(sa.select(Customer)).all()
    assert edited(client, first, name="甲", number="kh-form-1").number == "kh-form-1"


def test_a_card_whose_number_has_a_twin_in_another_case_from_before_can_still_be_edited(client):
    db.session.add_all([Customer(number="KH-TWIN", name="甲"), Customer(number="kh-twin", name="乙")])
    db.session.commit()
    login(client, "clerk")
    twin = db.session.scalars(sa.select(Customer).filter_by(number="kh-twin")).one()
    assert edited(client, twin, name="乙（已改名）", number="kh-twin").name == "乙（已改名）"


def test_entering_a_transaction_makes_the_customer_current(client):
    login(client, "clerk")
    add_customer(client)
    customer = db.session.scalars(sa.select(Customer)).one()
    response = client.post("/transactionview/add", data={
        "customer": str(customer.id), "trade_date": "2025-06-01", "amount": "1,200", "payment_method": "transfer"})
    assert response.status_code == 302
    db.session.expire_all()
    customer = db.session.get(Customer, customer.id)
    assert customer.stage == "current" and customer.first_trade_on == dt.date(2025, 6, 1)
    txn = db.session.scalars(sa.select(Transaction)).one()
    assert txn.number.startswith("JY") and str(txn.amount) == "1200.00"
    assert "现有客户" in client.get(f"/customerview/show/{customer.id}").text


def test_marking_former_needs_a_reason_and_is_kept_in_history(client):
    login(client, "clerk")
    add_customer(client)
    customer = db.session.scalars(sa.select(Customer)).one()
    client.post("/transactionview/add", data={"customer": str(customer.id), "trade_date": "2025-06-01",
                                              "amount": "100"})
    response = client.post(f"/customerview/former/{customer.id}", data={"reason": "", "stopped_on": ""})
    assert response.status_code == 200
    db.session.expire_all()
    assert db.session.get(Customer, customer.id).stage == "current"

    response = client.post(f"/customerview/former/{customer.id}", data={"reason": "转向竞争对手",
                                                                       "stopped_on": "2025-09-30"})
    assert response.status_code == 302
    db.session.expire_all()
    customer = db.session.get(Customer, customer.id)
    assert (customer.stage, customer.stop_reason, customer.stage_since) == ("former", "转向竞争对手", dt.date(2025, 9, 30))
    history = client.get(f"/lifecycleeventview/list/?_flt_0_customer={customer.id}").text
    assert "转向竞争对手" in history
    stages = db.session.scalars(sa.select(LifecycleEvent.to_stage).where(LifecycleEvent.customer_id == customer.id)
                                .order_by(LifecycleEvent.id)).all()
    assert stages == ["potential", "current", "former"]


def test_marking_a_potential_customer_former_is_refused_with_a_message(client):
    login(client, "clerk")
    add_customer(client)
    customer = db.session.scalars(sa.select(Customer)).one()
    response = client.post(f"/customerview/former/{customer.id}", data={"reason": "无", "stopped_on": ""},
                           follow_redirects=True)
    assert "只有现有客户" in response.text
    db.session.expire_all()
    assert db.session.get(Customer, customer.id).stage == "potential"


def test_search_by_mobile_and_filter_by_stage(client):
    login(client, "clerk")
    add_customer(client, name="甲", mobile="13812345678")
    add_customer(client, name="乙", mobile="13912345678")
    html = client.get("/customerview/list/?_flt_0_mobile=13812345678").text
    assert "甲" in html and ">乙<" not in html
    assert client.get("/customerview/list/?_flt_0_stage=potential").status_code == 200


def test_the_custodian_marks_cards_verified_and_a_clerk_cannot(client, app):
    from tests.conftest import user

    login(client, "clerk")
    add_customer(client, name="甲")
    add_customer(client, name="乙")
    ids = db.session.scalars(sa.select(Customer.id).order_by(Customer.id)).all()
    client.post("/customerview/action_post", data={"action": "verify", "rowid": [str(i) for i in ids]})
    db.session.expire_all()
    assert all(c.verified_on is None for c in db.session.scalars(sa.select(Customer)))

    client.get("/logout/")
    login(client, "custodian")
    response = client.post("/customerview/action_post", data={"action": "verify", "rowid": [str(i) for i in ids]})
    assert response.status_code == 302
    db.session.expire_all()
    custodian = user(app, "custodian")
    for customer in db.session.scalars(sa.select(Customer)):
        assert customer.verified_on == dt.date.today() and customer.verified_by_id == custodian.id


def test_the_card_lists_the_customers_it_referred(client):
    login(client, "clerk")
    add_customer(client, name="介绍人公司")
    referrer = db.session.scalars(sa.select(Customer)).one()
    add_customer(client, name="被介绍公司", referred_by=str(referrer.id))
    page = client.get(f"/customerview/show/{referrer.id}").text
    tab = page[page.index('id="ReferralView"'):]
    assert "被介绍公司" in tab[:tab.index("</table>")]
