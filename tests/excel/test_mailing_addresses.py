"""The envelope's street and the dedupe key of campaign lists, as addresses are really typed: a
street named after its city keeps its name, one letter per household or per company, numbers
10-1 and 101 are two doors, and 杭州 is 杭州市."""
import io

import openpyxl
import pytest

from portal.excel.mailing import write_list
from portal.extensions import db
from portal.services import mailing
from portal.services.mailing import address_key, build_list, envelope_lines, region_parts, street_line
from tests.conftest import login
from tests.excel.test_mailing import contact, customer, targets

GUANGZHOU = {"postcode": "510630", "province": "广东省", "city": "广州市", "district": "天河区"}


# --- the street --------------------------------------------------------------------------------

@pytest.mark.parametrize("province, city, district, street", [
    ("广东省", "广州市", "天河区", "广州大道中289号"),
    ("湖北省", "武汉市", "江汉区", "武汉大道1号"),
    ("吉林省", "吉林市", "船营区", "吉林大街88号"),
    ("北京市", "北京市", "朝阳区", "北京路1号"),
    ("浙江省", "杭州", "西湖区", "杭州路5号"),
])
def test_a_street_named_after_its_city_keeps_its_name(province, city, district, street):
    lines = envelope_lines(postcode="000000", province=province, city=city, district=district, street=street,
                           name="张伟", title="先生")
    assert lines[2] == street


@pytest.mark.parametrize("province, city, district, typed, street", [
    ("新疆维吾尔自治区", "乌鲁木齐市", "天山区", "新疆乌鲁木齐市天山区解放北路1号", "解放北路1号"),
    ("广西壮族自治区", "南宁市", "青秀区", "广西南宁市青秀区民族大道1号", "民族大道1号"),
    ("宁夏回族自治区", "银川市", "兴庆区", "宁夏银川兴庆区解放西街1号", "解放西街1号"),
    ("新疆维吾尔自治区", "乌鲁木齐市", None, "新疆路1号", "新疆路1号"),
])
def test_an_autonomous_region_typed_by_its_short_name_before_the_street_is_taken_off(province, city, district,
                                                                                    typed, street):
    # 新疆, 广西 and 宁夏 are not their names less 自治区: the region was printed twice, and the
    # card typed so got a second letter beside the one typed without it.
    lines = envelope_lines(province=province, city=city, district=district, street=typed)
    assert lines[1] == street
    assert address_key(province, city, district, typed) == address_key(province, city, district, street)


@pytest.mark.parametrize("typed", [
    "广东省广州市天河区广州大道中289号", "广州市天河区广州大道中289号", "广州市广州大道中289号",
    "天河区广州大道中289号", "广东广州市天河区广州大道中289号", "广州天河区 广州大道中289号",
    "广东省，广州市，天河区，广州大道中289号",
])
def test_only_the_region_typed_again_before_the_street_is_taken_off(typed):
    assert street_line(typed, region_parts("广东省", "广州市", "天河区")) == "广州大道中289号"


def test_a_city_typed_without_its_ending_is_still_taken_off_in_full():
    parts = region_parts("浙江省", "杭州", "西湖区")
    assert street_line("杭州市西湖区文三路100号", parts) == "文三路100号"
    assert street_line("吉林市船营区解放中路1号", region_parts("吉林省", "吉林市", "船营区")) == "解放中路1号"
    assert street_line("广州市", region_parts("广东省", "广州市", None)) == "广州市"   # never nothing


def test_the_mail_merge_xlsx_and_the_labels_carry_the_street_named_after_the_city(app):
    customer(name="广州某公司", street="广州大道中289号", **GUANGZHOU)
    customer(name="广州另一公司", street="广州市天河区广州大道中300号", **GUANGZHOU)
    campaign = build_list(db.session, mailing.scope.ALL, "mail")
    stream = io.BytesIO()
    write_list(stream, campaign.targets, "mail", sheet_name="直邮")
    rows = list(openpyxl.load_workbook(io.BytesIO(stream.getvalue())).active.iter_rows(values_only=True))[1:]
    assert sorted((r[4], r[8]) for r in rows) == [
        ("广州大道中289号", "510630\n广东省广州市天河区\n广州大道中289号\n广州某公司 收"),
        ("广州大道中300号", "510630\n广东省广州市天河区\n广州大道中300号\n广州另一公司 收"),
    ]

    client = login(app.test_client(), "marketing")
    response = client.post("/campaign/create", data={"channel": "mail", "name": "广州直邮", "starts_on": "2026-03-01"})
    assert response.status_code == 302
    labels = client.get(response.headers["Location"].rstrip("/") + "/labels").text
    assert "广州大道中289号" in labels and "广州大道中300号" in labels and ">大道中" not in labels


# --- one letter per household or company -----------------------------------------------------

def test_two_companies_in_one_building_each_get_a_letter(app):
    customer(name="丁公司A", street="文三路200号")
    customer(name="戊公司B", street="文三路２００号")
    mail = build_list(db.session, mailing.scope.ALL, "mail")
    assert sorted(targets(mail)) == [("丁公司A", ""), ("戊公司B", "")] and mail.excluded["duplicate"] == 0


def test_a_person_living_where_a_company_has_its_office_gets_their_own_letter(app):
    company = customer(name="杭州明远科技有限公司", street="文三路100号")
    contact(company, "王伟", position="经理", is_primary=True)
    customer(name="李娜", customer_type="person", gender="F", street="文三路100号")
    mail = build_list(db.session, mailing.scope.ALL, "mail")
    assert sorted(targets(mail)) == [("李娜", "李娜"), ("杭州明远科技有限公司", "王伟")]
    assert mail.excluded["duplicate"] == 0


def test_one_company_on_two_cards_at_one_address_still_gets_one_letter(app):
    customer(name="明远科技（杭州）有限公司", street="文三路100号")
    customer(name="杭州明远", street="西湖区文三路100号", value_grade="A")
    mail = build_list(db.session, mailing.scope.ALL, "mail")
    assert targets(mail) == [("杭州明远", "")] and mail.excluded["duplicate"] == 1


def test_a_company_is_known_by_its_trade_name_without_place_legal_form_or_trade():
    organisation_key = mailing.organisation_key
    parts = region_parts("浙江省", "杭州市", "西湖区")
    assert organisation_key("杭州明远", parts) == organisation_key("杭州明远科技有限公司", parts) == \
        organisation_key("浙江明远信息技术股份有限公司", parts) == organisation_key("明远科技（杭州）有限公司", parts)
    assert organisation_key("丁公司A", parts) != organisation_key("戊公司B", parts)
    assert organisation_key("杭州明远", parts) != organisation_key("杭州华信", parts)
    assert organisation_key("公司", parts) == "公司"   # nothing of it left: the whole name


# --- numbers in the address ------------------------------------------------------------------

def key(street, city="杭州市", district="西湖区"):
    return address_key("浙江省", city, district, street)


@pytest.mark.parametrize("one, other", [("文二路10-1号", "文二路101号"), ("幸福小区1-201", "幸福小区12-01"),
                                        ("幸福小区1-201", "幸福小区1201"), ("3幢2-301室", "3幢23-01室")])
def test_a_separator_between_numbers_makes_another_door(one, other):
    assert key(one) != key(other)


@pytest.mark.parametrize("typed", ["文二路10－1号", "文二路10—1号", "文二路10之1号", "文二路10 - 1号", "文二路10/1号",
                                   "文二路１０－１号", "文二路10–1号"])
def test_any_separator_between_numbers_is_the_same_door(typed):
    assert key(typed) == key("文二路10-1号")


def test_households_at_10_1_and_101_each_get_a_letter(app):
    customer(name="张三", customer_type="person", gender="M", street="文二路10-1号")
    customer(name="李四", customer_type="person", gender="F", street="文二路101号")
    customer(name="王五", customer_type="person", gender="M", street="文二路10之1号")
    mail = build_list(db.session, mailing.scope.ALL, "mail")
    assert len(mail.targets) == 2 and mail.excluded["duplicate"] == 1
    assert {a.street_only for a in mail.targets} == {"文二路10-1号", "文二路101号"}


# --- the city and district with or without their ending ----------------------------------------

def test_a_city_or_district_with_or_without_its_ending_is_one_address():
    assert key("文三路100号", city="杭州") == key("文三路100号", city="杭州市")
    assert key("文三路100号", district="西湖") == key("文三路100号", district="西湖区")
    assert key("杭州市西湖区文三路100号", city="杭州") == key("文三路100号")
    assert address_key("北京市", "北京", "海淀区", "中关村大街27号") == address_key("北京市", "北京市", "海淀区", "中关村大街27号")
    assert key("文三路100号", city="湖州") != key("文三路100号")


def test_the_envelope_prints_the_city_as_it_was_typed(app):
    customer(name="张伟", customer_type="person", gender="M", city="杭州", street="文三路100号")
    customer(name="李娜", customer_type="person", gender="F", city="杭州市", street="文三路100号", value_grade="A")
    mail = build_list(db.session, mailing.scope.ALL, "mail")
    assert targets(mail) == [("李娜", "李娜")] and mail.excluded["duplicate"] == 1
    assert envelope_lines(province="浙江省", city="杭州", district="西湖区", street="文三路100号")[0] == "浙江省杭州西湖区"
