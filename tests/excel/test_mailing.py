"""Campaign lists: consent, one addressee per customer, one letter per address, the row scope,
the envelope's address block, the .xlsx for mail merge, label pages and the promotion."""
import datetime as dt
import io
from decimal import Decimal

import openpyxl
import pytest
import sqlalchemy as sa

from portal.excel.mailing import LABELS_PER_PAGE, label_pages, list_columns, write_list
from portal.extensions import db
from portal.models import ChangeLog, Contact, Customer, GridView, Promotion, PromotionTarget, Tag
from portal.services import mailing
from portal.services.mailing import (
    CampaignError, Criteria, address_key, build_list, create_promotion, envelope_lines, title_for,
)
from tests.conftest import user

HANGZHOU = {"postcode": "310012", "province": "浙江省", "city": "杭州市", "district": "西湖区"}


def customer(owner=None, **fields) -> Customer:
    values = {"name": "杭州明远科技有限公司", "customer_type": "org", **HANGZHOU, "street": "文三路100号"}
    values.update(fields)
    row = Customer(owner_id=getattr(owner, "id", None), **values)
    db.session.add(row)
    db.session.flush()
    return row


def contact(of: Customer, name: str, **fields) -> Contact:
    row = Contact(customer=of, name=name, **fields)
    db.session.add(row)
    db.session.flush()
    return row


def targets(campaign) -> list[tuple[str, str]]:
    return [(a.customer_name, a.name) for a in campaign.targets]


# --- the envelope ---------------------------------------------------------------------------

def test_the_envelope_of_a_person_has_postcode_region_street_and_name_with_title():
    assert envelope_lines(postcode="310012", province="浙江省", city="杭州市", district="西湖区",
                          street="文三路100号", name="李娜", title=title_for("F")) == [
        "310012", "浙江省杭州市西湖区", "文三路100号", "李娜 女士 收"]


def test_the_envelope_of_a_company_names_the_company_then_the_contact_with_their_position():
    assert envelope_lines(postcode="310012", province="浙江省", city="杭州市", district="西湖区",
                          street="文三路100号 明远大厦12楼", company="杭州明远科技有限公司", name="王伟",
                          title=title_for("M", "经理")) == [
        "310012", "浙江省杭州市西湖区", "文三路100号 明远大厦12楼", "杭州明远科技有限公司", "王伟 经理 收"]


def test_a_company_without_a_person_is_written_to_itself():
    assert envelope_lines(postcode="310012", province="浙江省", city="杭州市", street="文三路100号",
                          company="杭州明远科技有限公司") == [
        "310012", "浙江省杭州市", "文三路100号", "杭州明远科技有限公司 收"]


@pytest.mark.parametrize("city", ["北京市", "北京", "市辖区", None])
def test_a_municipality_is_written_once(city):
    assert envelope_lines(postcode="100080", province="北京市", city=city, district="海淀区",
                          street="中关村大街27号", name="张伟", title="先生")[:3] == [
        "100080", "北京市海淀区", "中关村大街27号"]


def test_the_region_typed_again_in_the_street_is_not_repeated():
    lines = envelope_lines(postcode="100080", province="北京市", city="北京市", district="海淀区",
                           street="北京市海淀区中关村大街27号", name="张伟")
    assert lines == ["100080", "北京市海淀区", "中关村大街27号", "张伟 收"]


def test_a_city_named_like_its_province_is_kept():
    assert envelope_lines(province="吉林省", city="吉林市", district="船营区", street="解放中路1号")[0] == "吉林省吉林市船营区"


def test_title_is_the_position_else_from_the_gender():
    assert (title_for("M"), title_for("F"), title_for(None), title_for("F", "总经理")) == ("先生", "女士", "", "总经理")


def test_full_width_spaces_and_punctuation_do_not_make_another_address():
    assert address_key("浙江省", "杭州市", "西湖区", "文三路１００号，明远大厦　12楼") == \
        address_key("浙江省", "杭州市", "西湖区", "文三路 100 号 明远大厦12楼") == \
        address_key("浙江省", "杭州市", None, "西湖区文三路100号明远大厦12楼")
    assert address_key("浙江省", "杭州市", "西湖区", "文三路100号") != address_key("浙江省", "杭州市", "西湖区", "文三路101号")


# --- who is on the list --------------------------------------------------------------------

def test_customers_who_opted_out_of_the_channel_are_left_out_and_counted(app):
    customer(name="甲公司", street="文一路1号")
    customer(name="乙公司", street="文二路2号", mail_opt_out=True, mail_opt_out_on=dt.date(2026, 1, 5),
             mail_opt_out_source="call")
    mail = build_list(db.session, mailing.scope.ALL, "mail")
    assert [a.customer_name for a in mail.targets] == ["甲公司"]
    assert mail.excluded == {"opted_out": 1, "no_address": 0, "duplicate": 0} and mail.selected == 2
    # opting out of mail is not opting out of SMS
    db.session.execute(sa.update(Customer).values(mobile="13812345678"))
    db.session.execute(sa.update(Customer).where(Customer.name == "甲公司").values(mobile="13900001111"))
    assert len(build_list(db.session, mailing.scope.ALL, "sms").targets) == 2


def test_a_contact_who_opted_out_is_passed_over_and_a_company_whose_contacts_all_did_is_left_out(app):
    first = customer(name="甲公司", street="文一路1号")
    contact(first, "王伟", position="经理", is_primary=True, mail_opt_out=True)
    contact(first, "李娜", gender="F")
    second = customer(name="乙公司", street="文二路2号")
    contact(second, "赵强", is_primary=True, mail_opt_out=True, mail_opt_out_source="returned")
    mail = build_list(db.session, mailing.scope.ALL, "mail")
    assert targets(mail) == [("甲公司", "李娜")]
    assert mail.excluded["opted_out"] == 1 and mail.contacts_passed_over == 1
    assert mail.targets[0].lines[-1] == "李娜 女士 收"


def test_the_addressee_is_the_primary_contact_else_the_person_else_the_company(app):
    org = customer(name="甲公司", street="文一路1号")
    contact(org, "李娜")
    contact(org, "王伟", position="经理", is_primary=True)
    customer(name="张伟", customer_type="person", gender="M", street="文二路2号")
    customer(name="丙公司", street="文三路3号")
    mail = build_list(db.session, mailing.scope.ALL, "mail")
    assert sorted(targets(mail)) == [("丙公司", ""), ("张伟", "张伟"), ("甲公司", "王伟")]
    person = next(a for a in mail.targets if a.customer_name == "张伟")
    assert person.company == "" and person.lines[-1] == "张伟 先生 收"


def test_two_contacts_of_one_company_at_one_address_get_one_letter(app):
    company = customer()
    contact(company, "王伟", position="经理", is_primary=True)
    contact(company, "李娜", position="采购")
    mail = build_list(db.session, mailing.scope.ALL, "mail")
    assert targets(mail) == [("杭州明远科技有限公司", "王伟")]
    assert mail.excluded["duplicate"] == 0


def test_one_address_spelled_in_full_and_half_width_gets_one_letter_to_the_best_addressee(app):
    twice = customer(name="杭州明远", street="文三路１００号　明远大厦")
    kept = customer(name="杭州明远科技有限公司", street="西湖区文三路100号明远大厦", value_grade="A")
    contact(kept, "王伟", position="经理", is_primary=True)
    customer(name="别家公司", street="文三路200号")
    mail = build_list(db.session, mailing.scope.ALL, "mail")
    assert sorted(targets(mail)) == [("别家公司", ""), ("杭州明远科技有限公司", "王伟")]
    assert mail.excluded["duplicate"] == 1
    assert mail.duplicates == [(twice.number, kept.number)]


def test_a_household_of_two_persons_gets_one_letter(app):
    customer(name="张伟", customer_type="person", gender="M", street="文三路100号3幢201室")
    customer(name="李娜", customer_type="person", gender="F", street="文三路100号3幢201室", value_grade="B")
    mail = build_list(db.session, mailing.scope.ALL, "mail")
    assert targets(mail) == [("李娜", "李娜")] and mail.excluded["duplicate"] == 1


def test_customers_without_a_usable_address_are_counted(app):
    customer(name="无街道", street=None)
    customer(name="只有街道", street="文三路100号", postcode=None, province=None, city=None, district=None)
    customer(name="有地址", street="文一路1号")
    mail = build_list(db.session, mailing.scope.ALL, "mail")
    assert targets(mail) == [("有地址", "")] and mail.excluded["no_address"] == 2


def test_sms_and_email_lists_need_a_mobile_or_address_and_dedupe_by_it(app):
    a = customer(name="甲公司", street="文一路1号")
    contact(a, "王伟", is_primary=True, mobile="13812345678", email="Wang@Example.cn")
    b = customer(name="乙公司", street="文二路2号", mobile="13812345678", email="wang@example.cn")
    contact(b, "李娜", is_primary=True, sms_opt_out=True)
    contact(b, "赵强")    # no mobile: the company's own is used
    customer(name="丙公司", street="文三路3号")
    sms = build_list(db.session, mailing.scope.ALL, "sms")
    assert targets(sms) == [("甲公司", "王伟")] and sms.excluded == {"opted_out": 0, "no_address": 1, "duplicate": 1}
    email = build_list(db.session, mailing.scope.ALL, "email")
    assert len(email.targets) == 1 and email.excluded["duplicate"] == 1


def test_a_salesperson_gets_only_their_own_customers(app):
    sales, other = user(app, "sales"), user(app, "sales2")
    customer(owner=sales, name="我的客户", street="文一路1号")
    customer(owner=other, name="别人的客户", street="文二路2号")
    customer(name="无人负责", street="文三路3号")
    assert targets(build_list(db.session, sales, "mail")) == [("我的客户", "")]
    assert len(build_list(db.session, user(app, "marketing"), "mail").targets) == 3


def test_a_saved_view_and_criteria_choose_the_customers(app):
    marketing, sales = user(app, "marketing"), user(app, "sales")
    vip = Tag(code="vip", name="VIP")
    db.session.add(vip)
    customer(name="A级一", street="文一路1号", value_grade="A", stage="current", tags=[vip])
    customer(name="A级二", street="文二路2号", value_grade="A", stage="potential")
    customer(name="B级", street="文三路3号", value_grade="B", stage="current", tags=[vip])
    customer(name="上海A级", street="南京路1号", value_grade="A", province="上海市", city="上海市", district="黄浦区")
    view = GridView(resource="customer", name="A级客户", owner_id=marketing.id, layout={"filters": {"value_grade": "A"}})
    private = GridView(resource="customer", name="私人", owner_id=sales.id, layout={"q": "B"})
    db.session.add_all([view, private])
    db.session.flush()

    def names(**criteria):
        return sorted(a.customer_name for a in build_list(db.session, marketing, "mail", Criteria(**criteria)).targets)

    assert names(view_id=view.id) == ["A级一", "A级二", "上海A级"]
    assert names(view_id=view.id, provinces=("浙江省",), stages=("current",)) == ["A级一"]
    assert names(tag_ids=(vip.id,)) == ["A级一", "B级"]
    assert names(grades=("B", "A"), provinces=("上海市",)) == ["上海A级"]
    assert [v.name for v in mailing.saved_views(db.session, marketing.id)] == ["A级客户"]
    with pytest.raises(CampaignError):
        build_list(db.session, marketing, "mail", Criteria(view_id=private.id))
    with pytest.raises(CampaignError):
        build_list(db.session, marketing, "mail", Criteria(stages=("nonsense",)))
    with pytest.raises(CampaignError):
        build_list(db.session, marketing, "fax")


# --- the promotion ---------------------------------------------------------------------------

def test_the_campaign_is_recorded_as_a_promotion_with_a_target_per_addressee_in_the_history(app):
    marketing = user(app, "marketing")
    company = customer(name="甲公司", street="文一路1号")
    manager = contact(company, "王伟", is_primary=True)
    person = customer(name="张伟", customer_type="person", street="文二路2号")
    customer(name="乙公司", street="文三路3号", mail_opt_out=True)
    db.session.commit()
    campaign = build_list(db.session, marketing, "mail")
    promotion = create_promotion(db.session, campaign, name="春季直邮", starts_at=dt.date(2026, 3, 1),
                                 cost_per_target="1.20", fixed_cost="500", owner_id=marketing.id)
    db.session.commit()
    promotion = db.session.get(Promotion, promotion.id)
    assert (promotion.promotion_type, promotion.starts_at, promotion.variable_cost_per_target, promotion.fixed_cost) == (
        "mail", dt.datetime(2026, 3, 1), Decimal("1.20"), Decimal("500.00"))
    assert promotion.audience["targets"] == 2 and promotion.audience["excluded"]["opted_out"] == 1
    assert sorted((t.customer_id, t.contact_id, t.variable_cost) for t in promotion.targets) == sorted(
        [(company.id, manager.id, Decimal("1.20")), (person.id, None, Decimal("1.20"))])
    history = db.session.scalars(sa.select(ChangeLog).where(ChangeLog.object_type == "PromotionTarget")).all()
    assert sorted(h.customer_id for h in history) == sorted([company.id, person.id])
    assert {(h.action, h.source) for h in history} == {("create", "campaign")}
    entry = next(h for h in history if h.customer_id == company.id)
    assert entry.username == "marketing" or entry.user_id is None
    assert {k: entry.changes[k]["new_text"] for k in ("promotion_id", "customer_id", "contact_id")} == {
        "promotion_id": "春季直邮", "customer_id": str(company), "contact_id": "王伟"}
    assert entry.changes["variable_cost"]["new"] in ("1.20", 1.2)


def test_a_campaign_needs_a_name_a_valid_cost_and_someone_to_write_to(app):
    customer(street="文一路1号")
    campaign = build_list(db.session, mailing.scope.ALL, "mail")
    for kwargs in ({"name": ""}, {"name": "x" * 201}, {"name": "直邮", "cost_per_target": "一块"},
                   {"name": "直邮", "cost_per_target": "-1"}):
        with pytest.raises(CampaignError):
            create_promotion(db.session, campaign, starts_at=dt.date(2026, 3, 1), **kwargs)
    empty = build_list(db.session, mailing.scope.ALL, "sms")
    with pytest.raises(CampaignError):
        create_promotion(db.session, empty, name="短信", starts_at=dt.date(2026, 3, 1))
    db.session.rollback()
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Promotion)) == 0


def test_a_recorded_campaign_leaves_out_who_opted_out_since(app):
    first = customer(name="甲公司", street="文一路1号")
    customer(name="乙公司", street="文二路2号")
    promotion = create_promotion(db.session, build_list(db.session, mailing.scope.ALL, "mail"), name="直邮",
                                 starts_at=dt.date(2026, 3, 1))
    first.mail_opt_out = True
    db.session.flush()
    now = mailing.addressees_of(db.session, promotion, mailing.scope.ALL)
    assert targets(now) == [("乙公司", "")] and now.excluded["opted_out"] == 1
    assert db.session.scalar(sa.select(sa.func.count()).select_from(PromotionTarget)) == 2


# --- the files ---------------------------------------------------------------------------------

def test_the_xlsx_for_mail_merge_reads_back_with_the_address_block_in_one_cell(app, tmp_path):
    company = customer(street="文三路100号")
    contact(company, "王伟", position="经理", is_primary=True)
    customer(name="李娜", customer_type="person", gender="F", postcode="100080", province="北京市", city="北京市",
             district="海淀区", street="北京市海淀区中关村大街27号")
    campaign = build_list(db.session, mailing.scope.ALL, "mail")
    path = tmp_path / "直邮.xlsx"
    with path.open("wb") as stream:
        assert write_list(stream, campaign.targets, "mail", sheet_name="春季直邮") == 2
    sheet = openpyxl.load_workbook(path)["春季直邮"]
    rows = list(sheet.iter_rows(values_only=True))
    assert list(rows[0]) == [str(c.label) for c in list_columns("mail")]
    assert rows[0][:5] == ("邮编", "省份", "城市", "区县", "详细地址") and rows[0][-2:] == ("客户编号", "客户名称")
    beijing, hangzhou = rows[1], rows[2]          # in postcode order
    assert beijing[:8] == ("100080", "北京市", "北京市", "海淀区", "中关村大街27号", None, "李娜", "女士")
    assert beijing[8] == "100080\n北京市海淀区\n中关村大街27号\n李娜 女士 收"
    assert hangzhou[5:9] == ("杭州明远科技有限公司", "王伟", "经理",
                             "310012\n浙江省杭州市西湖区\n文三路100号\n杭州明远科技有限公司\n王伟 经理 收")
    assert hangzhou[9] == company.number
    assert sheet["A2"].data_type == "s"           # the postcode is text, never a number
    # The block's line breaks show in Excel (a cell shows "\n" only when it wraps), top-aligned;
    # the column carries the wrap too, so a block typed in later wraps as well.
    for cell in (sheet["I2"], sheet["I3"]):
        assert cell.alignment.wrap_text and cell.alignment.vertical == "top"
    assert not sheet["E2"].alignment.wrap_text
    assert sheet.column_dimensions["I"].width > 40


def test_an_sms_list_carries_the_mobile_and_no_address():
    headers = [str(c.label) for c in list_columns("sms")]
    assert headers[0] == "手机" and "邮编" not in headers and "详细地址" not in headers


def test_label_pages_hold_24_labels_and_can_start_on_a_used_sheet():
    people = [object() for _ in range(50)]
    assert [len(p) for p in label_pages(people)] == [24, 24, 2] and LABELS_PER_PAGE == 24
    pages = label_pages(people, skip=5)
    assert [len(p) for p in pages] == [24, 24, 7] and pages[0][:5] == [None] * 5 and pages[0][5] is people[0]
    assert label_pages([]) == [] and [len(p) for p in label_pages(people, skip=99)] == [24, 24, 24, 1]


def test_a_roles_export_limits_withhold_the_columns_made_of_fields_it_may_not_take(app):
    from portal.excel.limits import ExportRules, limits_data, role_rules
    from portal.excel.mailing import allowed_columns, labels_allowed

    _, rule = role_rules({"fields": {"exclude": ["street"]}})
    kept, withheld = allowed_columns("mail", ExportRules(field_rules=(rule,)))
    assert [str(c.label) for c in withheld] == ["详细地址", str(list_columns("mail")[8].label)]
    assert "邮编" in [str(c.label) for c in kept]
    assert not labels_allowed(ExportRules(field_rules=(rule,))) and labels_allowed(ExportRules())
    marketing = role_rules(limits_data()["Marketing"])[1]
    assert allowed_columns("mail", ExportRules(field_rules=(marketing,)))[1] == []   # as shipped: all of it
