"""The registry's rules, applied by clean() on every path (forms, grid, import)."""
import datetime as dt
from decimal import Decimal

import pytest

from portal.fields import FieldInvalid, FieldSpec, FieldType, clean
from portal.fields.validation import id_number_is_valid, in_unit, parse_date, parse_moment

TODAY = dt.date(2026, 11, 25)


def spec(type_, **kw):
    return FieldSpec(zh="字段", en="Field", type=FieldType(type_), section="basic", name="f", **kw)


@pytest.mark.parametrize("typed, stored", [
    ("13812345678", "13812345678"),
    ("１３８ １２３４ ５６７８", "13812345678"),      # full-width digits and spaces
    ("138-1234-5678", "13812345678"),
    ("+86 138 1234 5678", "13812345678"),
    ("008613812345678", "13812345678"),
    (" 13812345678\u3000", "13812345678"),
])
def test_mobile_is_normalised(typed, stored):
    assert clean(spec("mobile"), typed) == stored


@pytest.mark.parametrize("typed", ["1381234567", "23812345678", "12012345678", "138123456789", "abc", "010-12345678"])
def test_bad_mobile_is_refused(typed):
    with pytest.raises(FieldInvalid) as err:
        clean(spec("mobile"), typed)
    assert "11" in str(err.value.message)


@pytest.mark.parametrize("typed, stored", [
    ("010-12345678", "010-12345678"),
    ("(0571) 8812 3456", "0571-88123456"),
    ("0571-88123456转801", "0571-88123456转801"),
    ("02112345678", "021-12345678"),
    ("13912345678", "13912345678"),
])
def test_landline_is_formatted_with_area_code(typed, stored):
    assert clean(spec("phone"), typed) == stored


@pytest.mark.parametrize("typed", ["12345", "010-123", "phone"])
def test_bad_landline_is_refused(typed):
    with pytest.raises(FieldInvalid):
        clean(spec("phone"), typed)


def test_email_keeps_local_part_and_lowercases_domain():
    assert clean(spec("email"), " Li.Na@Example.COM ") == "Li.Na@example.com"
    for bad in ("li.na", "li@", "@example.com", "li na@example.com"):
        with pytest.raises(FieldInvalid):
            clean(spec("email"), bad)


def test_postcode_has_six_digits():
    assert clean(spec("postcode"), "１０００１０") == "100010"
    assert clean(spec("postcode"), 100010) == "100010"
    for bad in ("10001", "1000100", "10001a"):
        with pytest.raises(FieldInvalid):
            clean(spec("postcode"), bad)


def test_id_number_check_digit():
    assert id_number_is_valid("11010519491231002X")
    assert not id_number_is_valid("110105194912310021")
    assert not id_number_is_valid("11010519491331002X")  # month 13
    assert clean(spec("id_number"), "11010519491231002x") == "11010519491231002X"
    with pytest.raises(FieldInvalid):
        clean(spec("id_number"), "110105194912310021")


@pytest.mark.parametrize("typed", ["1985-03-02", "1985/3/2", "1985年3月2日", "1985.3.2", "19850302", 31108,
                                   dt.date(1985, 3, 2), dt.datetime(1985, 3, 2, 9, 30),
                                   # a date cell with a time format, as Excel saves it to a CSV
                                   "1985/3/2 0:00", "1985/3/2 0:00:00", "1985-03-02 09:30", "1985年3月2日 9:30",
                                   "1985-03-02T00:00:00", 31108.5])
def test_dates_in_common_chinese_forms(typed):
    assert clean(spec("date"), typed) == dt.date(1985, 3, 2)


@pytest.mark.parametrize("typed", ["2026年3月2号", "2026年3月2日 星期一", "2026/3/2（周一）", "2026-03-02 周一",
                                   "2026年3月2日(礼拜一)"])
def test_dates_with_hao_or_a_weekday_after_them_are_read(typed):
    assert clean(spec("date"), typed) == dt.date(2026, 3, 2)


def test_a_date_whose_weekday_is_not_its_own_is_refused_not_guessed(app):
    from flask_babel import force_locale
    with app.test_request_context():
        with pytest.raises(FieldInvalid) as err:
            clean(spec("date"), "2026年3月2日 星期日")   # a Monday
        assert str(err.value.message) == "2026-03-02 是星期一，不是星期日，请核对日期。"
        with force_locale("en"):
            with pytest.raises(FieldInvalid) as err:
                clean(spec("date"), "2026/3/2 (周日)")
            assert str(err.value.message) == "2026-03-02 was a Monday, not a Sunday: check the date."


def test_impossible_and_future_dates_are_refused():
    with pytest.raises(FieldInvalid):
        clean(spec("date"), "2024-02-31")
    with pytest.raises(FieldInvalid) as err:
        clean(spec("date", not_future=True), "2026-11-26", today=TODAY)
    assert "future" in str(err.value.message)
    assert clean(spec("date", not_future=True), "2026-11-25", today=TODAY) == TODAY
    assert clean(spec("date"), "2030-01-01") == dt.date(2030, 1, 1)  # a follow-up date may lie ahead


def test_excel_serials_are_dates():
    assert parse_date(45658) == dt.date(2025, 1, 1)
    assert parse_moment(45658.6041666667) == dt.datetime(2025, 1, 1, 14, 30)   # the fraction is the time


@pytest.mark.parametrize("typed", ["2024-03-02 14:30", "2024/3/2 14:30", "2024/03/02 14:30:00", "2024.3.2 14:30",
                                   "2024年3月2日 14:30", "2024年3月2日14时30分", "2024年3月2日14:30",
                                   "２０２４/３/２ １４：３０", "2024-03-02T14:30:00", 45353.6041666667,
                                   dt.datetime(2024, 3, 2, 14, 30)])
def test_date_and_time_in_common_chinese_forms(typed):
    assert clean(spec("datetime"), typed) == dt.datetime(2024, 3, 2, 14, 30)


@pytest.mark.parametrize("typed", ["2024/3/2", "20240302", dt.date(2024, 3, 2), 45353])
def test_a_date_alone_is_midnight(typed):
    assert clean(spec("datetime"), typed) == dt.datetime(2024, 3, 2)


@pytest.mark.parametrize("typed", ["2024/3/2 25:00", "2024/3/2 14:61", "2024-3-214:30", "2024-03-02 x", "下午两点", 0])
def test_a_wrong_date_and_time_is_refused(typed):
    with pytest.raises(FieldInvalid) as err:
        clean(spec("datetime"), typed)
    assert "2024-03-02 14:30" in str(err.value.message)
    with pytest.raises(FieldInvalid):
        clean(spec("date"), typed)


def test_money_accepts_separators_and_refuses_negative_when_floor_is_zero():
    money = spec("money", min_value=0)
    assert clean(money, "1,234.5") == Decimal("1234.50")
    assert clean(money, "￥１，０００") == Decimal("1000.00")
    assert clean(money, 0) == Decimal("0.00")
    with pytest.raises(FieldInvalid) as err:
        clean(money, "-1")
    assert "negative" in str(err.value.message)
    assert clean(spec("money"), "-20") == Decimal("-20.00")  # a return may be negative


@pytest.mark.parametrize("typed, value", [
    ("500万", "5000000"), ("500万元", "5000000"), ("1,200.5万元人民币", "12005000"), ("人民币500万元", "5000000"),
    ("1000万人民币", "10000000"), ("RMB 1000", "1000"), ("CNY 2亿元", "200000000"), ("1.2亿", "120000000"),
    ("3千元", "3000"), ("1000元整", "1000"), ("１，２００元", "1200"), ("1 000 000", "1000000")])
def test_amounts_as_company_lists_write_them(typed, value):
    assert clean(spec("money"), typed) == Decimal(value)


@pytest.mark.parametrize("typed, currency", [("50万美元", "美元"), ("$1,000", "$"), ("HK$ 300", "HK$"),
                                             ("100 EUR", "EUR"), ("2000万港币", "港币")])
def test_an_amount_in_another_currency_is_refused_naming_it(typed, currency):
    with pytest.raises(FieldInvalid) as err:
        clean(spec("money"), typed)
    assert currency in str(err.value.message) and "yuan" in str(err.value.message)


def test_a_magnitude_makes_whole_numbers_and_words_are_no_number():
    assert clean(spec("int"), "1.2万") == 12000
    with pytest.raises(FieldInvalid):
        clean(spec("int"), "1.23456万")   # 12345.6 people
    for typed in ("三百万", "万", "约500万", "50%"):
        with pytest.raises(FieldInvalid):
            clean(spec("money"), typed)


def test_a_header_unit_counts_plain_numbers_only():
    unit = Decimal(10000)
    assert in_unit(500, unit) == Decimal(5000000)
    assert in_unit(12.5, unit) == Decimal(125000)
    assert in_unit("1,200.5", unit) == Decimal(12005000)
    assert in_unit("800元", unit) == "800元" and in_unit("3亿", unit) == "3亿"   # the cell's own unit


def test_integers_and_ranges():
    index = spec("int", min_value=0, max_value=100)
    assert clean(index, "85") == 85
    for bad in ("101", "-1", "8.5", "eighty"):
        with pytest.raises(FieldInvalid):
            clean(index, bad)


def test_required_and_empty():
    assert clean(spec("text"), "   ") is None
    with pytest.raises(FieldInvalid):
        clean(spec("text", required=True), " ")
    with pytest.raises(FieldInvalid):
        clean(spec("mobile", required=True), None)


def test_text_is_trimmed_and_bounded():
    assert clean(spec("text", max_length=5), "  a  b ") == "a b"
    with pytest.raises(FieldInvalid):
        clean(spec("text", max_length=5), "abcdef")


def test_choices_accept_code_or_either_label():
    grade = spec("choice", choices=(("A", "A级", "Grade A"), ("B", "B级", "Grade B")))
    assert clean(grade, "A") == "A"
    assert clean(grade, "B级") == "B"
    assert clean(grade, "grade b") == "B"
    with pytest.raises(FieldInvalid):
        clean(grade, "Z")


def test_choices_accept_the_other_words_clerks_write_for_them():
    method = spec("choice", choices=(("visit", "走访", "Visit", ("上门拜访", "拜访")), ("phone", "电话", "Phone call")))
    assert clean(method, "上门拜访") == "visit" and clean(method, "拜访") == "visit"
    with pytest.raises(FieldInvalid) as err:
        clean(method, "飞鸽传书")
    assert "上门拜访" not in str(err.value.message)   # the list offered is the labels


@pytest.mark.parametrize("typed, stored", [("-¥300.00", Decimal("-300.00")), ("(¥1,234.50)", Decimal("-1234.50")),
                                           ("(300)", Decimal("-300.00")), ("¥-300", Decimal("-300.00")),
                                           ("+¥5", Decimal("5.00"))])
def test_negative_amounts_in_excels_currency_and_accounting_formats(typed, stored):
    assert clean(spec("money"), typed) == stored


def test_booleans_in_chinese_and_english():
    flag = spec("bool")
    assert clean(flag, "是") is True and clean(flag, "否") is False
    assert clean(flag, "yes") is True and clean(flag, "0") is False
    with pytest.raises(FieldInvalid):
        clean(flag, "maybe")


def test_card_numbers_and_urls():
    assert clean(spec("card_number"), "6222 0212 3456 7890 123") == "6222021234567890123"
    with pytest.raises(FieldInvalid):
        clean(spec("card_number"), "12ab")
    assert clean(spec("url"), "www.example.cn") == "http://www.example.cn"
    with pytest.raises(FieldInvalid):
        clean(spec("url"), "not a url")


def test_landlines_are_formatted_as_phonenumbers_reads_them():
    """The quick path for landlines with their trunk 0 gives what phonenumbers' own reading
    gives: the number valid as a fixed line, its area code cut off (010, 02x: two digits
    after the 0; the others three) — for random numbers in every area-code range."""
    import random

    import phonenumbers

    rnd = random.Random(11)
    checked = 0
    for _ in range(8000):
        digits = "0" + str(rnd.randint(1, 9)) + "".join(rnd.choice("0123456789") for _ in range(rnd.randint(6, 11)))
        number = phonenumbers.parse(digits, "CN")
        fixed = phonenumbers.number_type(number) in (phonenumbers.PhoneNumberType.FIXED_LINE,
                                                     phonenumbers.PhoneNumberType.FIXED_LINE_OR_MOBILE)
        if not fixed:
            continue
        national = phonenumbers.national_significant_number(number)
        area = 2 if national[:1] in "12" else 3
        assert clean(spec("phone"), f"{digits[:4]} {digits[4:]}转8") == f"0{national[:area]}-{national[area:]}转8"
        checked += 1
    assert checked > 300


# --- numbers and partial dates in date columns ------------------------------------------------

@pytest.mark.parametrize("kind", ["date", "datetime"])
@pytest.mark.parametrize("typed", [2026, 1985, 2026.0, "1985", "1985年"])
def test_a_year_alone_in_a_date_column_is_refused_not_read_as_a_day_of_1905(kind, typed):
    with pytest.raises(FieldInvalid) as err:
        clean(spec(kind), typed)
    assert str(err.value.message) == "This looks like a year, not a date: write the whole date, e.g. 1985/3/2."


@pytest.mark.parametrize("kind", ["date", "datetime"])
@pytest.mark.parametrize("typed", [1985.03, 1985.3, 1985.12, 198503, "1985.03", "1985.3", "1985年3月", "1985-03",
                                   "1985/3", "198503", "１９８５年３月"])
def test_a_year_and_month_in_a_date_column_is_refused_and_no_day_is_made_up(kind, typed):
    with pytest.raises(FieldInvalid) as err:
        clean(spec(kind), typed)
    assert str(err.value.message) == ("This looks like a year and a month, not a date: write it down to the day, "
                                      "e.g. 1985/3/2.")


@pytest.mark.parametrize("typed", [85, 1, 999.5, -3])
def test_a_small_number_in_a_date_column_is_no_excel_serial(typed):
    with pytest.raises(FieldInvalid) as err:
        clean(spec("date"), typed)
    assert "2024-03-02" in str(err.value.message)


def test_excel_serials_from_1927_and_dates_written_as_eight_digit_numbers_are_dates():
    assert clean(spec("date"), 10000) == dt.date(1927, 5, 18)          # the first serial taken for a day
    assert clean(spec("date"), 46083) == dt.date(2026, 3, 2)
    assert clean(spec("date"), 19850302) == dt.date(1985, 3, 2)         # 19850302 typed in a General cell
    assert clean(spec("date"), 19850302.0) == dt.date(1985, 3, 2)
    assert clean(spec("datetime"), 45353.6041666667) == dt.datetime(2024, 3, 2, 14, 30)
    for typed in ("1985/3/2", "1985年3月2日", "1985.3.2"):               # the full forms are unchanged
        assert clean(spec("date"), typed) == dt.date(1985, 3, 2)


def test_the_year_and_month_messages_are_in_chinese_for_a_chinese_reader(app):
    from flask_babel import force_locale
    with app.test_request_context(), force_locale("zh_CN"):
        with pytest.raises(FieldInvalid) as err:
            clean(spec("date"), 1985.03)
        assert str(err.value.message) == "年月不完整：请写到日，如 1985/3/2。"
        with pytest.raises(FieldInvalid) as err:
            clean(spec("date"), 2026)
        assert str(err.value.message) == "这像是年份，不是日期：请写完整日期，如 1985/3/2。"


# --- invisible characters -------------------------------------------------------------------

@pytest.mark.parametrize("mark", ["\u200b", "\u200c", "\u200d", "\u2060", "\ufeff"])
def test_invisible_characters_pasted_from_the_web_are_stripped(mark):
    assert clean(spec("text"), f"甲公司{mark}") == "甲公司"
    assert clean(spec("text"), f"{mark}甲公司 {mark}") == "甲公司"
    assert clean(spec("text"), f"甲{mark}公司") == "甲公司"
    assert clean(spec("mobile"), f"13812345678{mark}") == "13812345678"
    assert clean(spec("mobile"), f"138{mark}12345678") == "13812345678"
    assert clean(spec("email"), f"a@example.com{mark}") == "a@example.com"
    assert clean(spec("text"), mark) is None
    with pytest.raises(FieldInvalid):
        clean(spec("text", required=True), f" {mark}\u3000")


# --- English reads as English ----------------------------------------------------------------

def test_english_messages_name_the_currency_in_english_and_list_choices_with_commas(app):
    from flask_babel import force_locale
    grade = spec("choice", choices=(("A", "A级", "Grade A"), ("B", "B级", "Grade B")))
    with app.test_request_context(), force_locale("en"):
        with pytest.raises(FieldInvalid) as err:
            clean(spec("money"), "50万美元")
        assert str(err.value.message) == "An amount in US dollars: give it in yuan (RMB)."
        with pytest.raises(FieldInvalid) as err:
            clean(spec("money"), "100 EUR")
        assert str(err.value.message) == "An amount in euros: give it in yuan (RMB)."
        with pytest.raises(FieldInvalid) as err:
            clean(grade, "C")
        assert str(err.value.message) == "Not one of the choices: Grade A, Grade B."
    with app.test_request_context(), force_locale("zh_CN"):
        with pytest.raises(FieldInvalid) as err:
            clean(spec("money"), "50万美元")
        assert str(err.value.message) == "这是以美元计的金额，请换算成人民币（元）后填写。"
        with pytest.raises(FieldInvalid) as err:
            clean(grade, "C")
        assert str(err.value.message) == "不在可选范围内，可选值：A级、B级。"
