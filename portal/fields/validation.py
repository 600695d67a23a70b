"""Turning what a person typed (or a spreadsheet held) into a field's value, or a message.

:func:`clean` is the one place a field's rules are applied: the forms call it through a
WTForms validator, and the grid and import call it directly, so a value is judged the
same way on every path.
"""
from __future__ import annotations

import datetime as dt
import functools
import re
import unicodedata
from decimal import Decimal, InvalidOperation
from typing import Any

import phonenumbers
from flask_babel import lazy_gettext as _l

from portal.i18n import pick

from .spec import FieldSpec, FieldType


class FieldInvalid(ValueError):
    """A value that breaks its field's rules; ``message`` is in the user's language."""

    def __init__(self, message: Any):
        super().__init__(str(message))
        self.message = message


EMPTY = (None, "")

# Characters that show nothing but come along when a name or a number is pasted from a web
# page or a chat app: zero-width space, non-joiner and joiner, word joiner, byte-order mark.
INVISIBLE = "\u200b\u200c\u200d\u2060\ufeff"
# What a value is trimmed of: white space (full-width too, as str.strip() knows it) and those.
BLANK = "".join(c for c in map(chr, range(0x3001)) if c.isspace()) + INVISIBLE
_INVISIBLE = re.compile(f"[{INVISIBLE}]")

_SPACES = re.compile(r"[\s\u3000]+")
_EMAIL = re.compile(r"^[A-Za-z0-9._%+'-]+@[A-Za-z0-9-]+(\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}$")
_URL = re.compile(r"^https?://[^\s/$.?#][^\s]*\.[^\s]{2,}$", re.IGNORECASE)
_MOBILE = re.compile(r"^1[3-9]\d{9}$")
# A date in the common Chinese forms (the day's 日 also written 号, and a visit report's
# weekday after it: 2026年3月2号 星期一, 2026/3/2（周一）), then an optional time of day as Excel
# shows it in a CSV (1985/3/2 0:00, 2024-3-2 14:30:05) or as it is written out (2024年3月2日14时30分).
_DATE_TEXT = re.compile(r"^(\d{4})\s*[-/.年]\s*(\d{1,2})\s*[-/.月]\s*(\d{1,2})\s*[日号]?"
                        r"(?:\s*[(（]?\s*(?:星期|礼拜|周)([一二三四五六日天])\s*[)）]?)?"
                        r"(?:(?:[\sT]+|(?<=[日号)）]))(\d{1,2})\s*[:时点]\s*(\d{1,2})(?:\s*分)?"
                        r"(?:\s*(?::|(?<=分))\s*(\d{1,2})(?:\.\d+)?\s*秒?)?)?$")
_TRUE = {"1", "true", "yes", "y", "是", "对", "√", "✓", "有"}
_FALSE = {"0", "false", "no", "n", "否", "不", "×", "无"}
_ID_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
_ID_CHECK = "10X98765432"
# Excel's day 0 is 1899-12-30 once its 1900 leap-year bug is accounted for.
_EXCEL_EPOCH = dt.date(1899, 12, 30)


def halfwidth(text: str) -> str:
    """Full-width digits, letters and punctuation (１３８, ＠) as their ASCII forms."""
    return unicodedata.normalize("NFKC", text)


def visible(text: str) -> str:
    """``text`` trimmed of white space and of the :data:`INVISIBLE` characters, and without
    those inside it either (``甲公司\u200b`` is 甲公司). Text of ASCII alone, most phones,
    e-mails and numbers, is only trimmed: it cannot hold them."""
    text = text.strip(BLANK)
    if not text.isascii() and _INVISIBLE.search(text):
        text = _INVISIBLE.sub("", text).strip(BLANK)
    return text


def _text(value: Any) -> str:
    return visible(halfwidth(str(value)))


def _digits_only(value: Any) -> str:
    return re.sub(r"[\s\-()（）]", "", _text(value))


def clean(spec: FieldSpec, value: Any, *, today: dt.date | None = None) -> Any:
    """The field's value for ``value``, normalised; raises :class:`FieldInvalid`.

    Empty text is ``None``. A required field that is empty is invalid. Relations are
    not resolved here (their value is an object or id the caller looked up).
    """
    if isinstance(value, str):
        value = visible(value)
    if value in EMPTY or (isinstance(value, (list, tuple, set)) and not value):
        if spec.required:
            raise FieldInvalid(_l("This field is required."))
        return [] if spec.type == FieldType.RELATION_MANY else None
    cleaner = _CLEANERS.get(spec.type)
    value = cleaner(spec, value, today or dt.date.today()) if cleaner else value
    # Any text, an e-mail or a phone with its extension as much as a name, fits its column.
    if isinstance(value, str) and spec.max_length and len(value) > spec.max_length:
        raise FieldInvalid(_l("At most %(n)d characters.", n=spec.max_length))
    return value


def _clean_text(spec: FieldSpec, value: Any, today: dt.date) -> str:
    text = str(value).strip()
    return _SPACES.sub(" ", text) if spec.type == FieldType.TEXT else text


def _clean_mobile(spec: FieldSpec, value: Any, today: dt.date) -> str:
    digits = _digits_only(value)
    if digits.startswith("+86"):
        digits = digits[3:]
    elif digits.startswith("0086"):
        digits = digits[4:]
    elif len(digits) == 13 and digits.startswith("86"):
        digits = digits[2:]
    if not _MOBILE.match(digits) or not _is_cn_number(digits, mobile=True):
        raise FieldInvalid(_l("Not a valid mobile number: 11 digits starting with 1, e.g. 13812345678."))
    return digits


def _is_cn_number(digits: str, *, mobile: bool) -> bool:
    if mobile and len(digits) == 11:
        # A mobile's validity is decided by its first digits (the metadata's patterns end in
        # free digits: checked on 100,000 random numbers, the first five decide), so an import
        # of 100,000 mobiles asks phonenumbers a few hundred times.
        return _mobile_prefix_valid(digits[:5])
    return _parsed_cn_number(digits, mobile=mobile) is not None


@functools.lru_cache(maxsize=65536)
def _mobile_prefix_valid(prefix: str) -> bool:
    return _parsed_cn_number(prefix + "000000", mobile=True) is not None


_T = phonenumbers.PhoneNumberType
_MOBILE_KINDS = (_T.MOBILE, _T.FIXED_LINE_OR_MOBILE)
_FIXED_KINDS = (_T.FIXED_LINE, _T.FIXED_LINE_OR_MOBILE)


# A Chinese number's kind (fixed line, mobile, invalid) is decided by its length and its first
# six national digits: the metadata's patterns constrain the area code and the first local
# digits and end in free digits (checked on 300,000 random and city numbers: no difference, see
# tests/fields/test_phone_kinds.py). An import of 70,000 landlines then asks phonenumbers once
# per area code and exchange instead of once per number (a third of a dry run's time).
_KIND_DIGITS = 6
_TRUNK_NATIONAL = re.compile(r"0[1-9][0-9]{6,11}\Z")   # _parsed_cn_number's national numbers
_EXTENSION = re.compile(r"(?:转|ext\.?|x|#)\s*(\d{1,6})$", re.IGNORECASE)


@functools.lru_cache(maxsize=65536)
def _national_kind(length: int, prefix: str):
    probe = prefix + "0" * (length - 1 - len(prefix))
    return phonenumbers.number_type(phonenumbers.PhoneNumber(country_code=86, national_number=int(probe)))


def _parsed_cn_number(digits: str, *, mobile: bool):
    """(number, kind) when ``digits`` is a valid Chinese number (a mobile one if ``mobile``)."""
    if digits.isdigit() and digits.startswith("0") and not digits.startswith("00") and 8 <= len(digits) <= 13:
        # A national number with its trunk 0 (what spreadsheets hold): built directly, which
        # skips parse()'s normalising — a third of the cost of checking a landline.
        number = phonenumbers.PhoneNumber(country_code=86, national_number=int(digits[1:]))
        kind = _national_kind(len(digits), digits[1:1 + _KIND_DIGITS])
        if kind == _T.UNKNOWN or (mobile and kind not in _MOBILE_KINDS):
            return None
        return number, kind
    else:
        try:
            number = phonenumbers.parse(digits, "CN")
        except phonenumbers.NumberParseException:
            return None
        if number.country_code != 86:
            return None
    kind = phonenumbers.number_type(number)  # UNKNOWN for an invalid number
    if kind == _T.UNKNOWN or (mobile and kind not in _MOBILE_KINDS):
        return None
    return number, kind


def _clean_phone(spec: FieldSpec, value: Any, today: dt.date) -> str:
    """Landline as ``0571-88123456`` (extension ``转NNN``), or a mobile as 11 digits."""
    text = _text(value)
    extension = ""
    match = _EXTENSION.search(text)
    if match:
        extension, text = match.group(1), text[: match.start()]
    digits = _digits_only(text)
    if digits.startswith("+86"):
        digits = digits[3:]
    elif digits.startswith("0086"):
        digits = digits[4:]
    if _MOBILE.match(digits):
        return _clean_mobile(spec, digits, today)
    if _TRUNK_NATIONAL.match(digits) and _national_kind(len(digits), digits[1:1 + _KIND_DIGITS]) in _FIXED_KINDS:
        # A landline as spreadsheets hold it (trunk 0, area code, number): what the general
        # path below gives, without building phonenumbers' objects (an import's 70,000
        # landlines). Its national significant number is the digits after the 0.
        national = digits[1:]
        area = 2 if national[:1] in "12" else 3
        formatted = f"0{national[:area]}-{national[area:]}"
        return f"{formatted}转{extension}" if extension else formatted
    found = _parsed_cn_number(digits, mobile=False) if digits.isdigit() else None
    if found is None:
        raise FieldInvalid(_l("Not a valid phone number: area code and number, e.g. 010-12345678."))
    number, kind = found
    national = phonenumbers.national_significant_number(number)
    if kind in _FIXED_KINDS:
        area = 2 if national[:1] in "12" else 3  # 010, 02x; every other area code has four digits
    else:
        area = phonenumbers.length_of_geographical_area_code(number)
    formatted = f"0{national[:area]}-{national[area:]}" if area else national
    return f"{formatted}转{extension}" if extension else formatted


def _clean_email(spec: FieldSpec, value: Any, today: dt.date) -> str:
    text = _text(value)
    if not _EMAIL.match(text):
        raise FieldInvalid(_l("Not a valid e-mail address, e.g. name@example.com."))
    local, _, domain = text.rpartition("@")
    return f"{local}@{domain.lower()}"


def _clean_url(spec: FieldSpec, value: Any, today: dt.date) -> str:
    text = _text(value)
    if not re.match(r"^https?://", text, re.IGNORECASE):
        text = "http://" + text
    if not _URL.match(text):
        raise FieldInvalid(_l("Not a valid web address, e.g. www.example.com."))
    return text


def _clean_postcode(spec: FieldSpec, value: Any, today: dt.date) -> str:
    digits = _digits_only(value)
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        digits = str(int(value)).zfill(6)
    if not re.fullmatch(r"\d{6}", digits):
        raise FieldInvalid(_l("A postal code has 6 digits, e.g. 100010."))
    return digits


def id_number_is_valid(text: str) -> bool:
    """An 18-character resident ID: region, real birth date, ISO 7064 MOD 11-2 check."""
    if not re.fullmatch(r"\d{17}[\dX]", text):
        return False
    try:
        dt.date(int(text[6:10]), int(text[10:12]), int(text[12:14]))
    except ValueError:
        return False
    total = sum(int(d) * w for d, w in zip(text[:17], _ID_WEIGHTS))
    return _ID_CHECK[total % 11] == text[17]


def _clean_id_number(spec: FieldSpec, value: Any, today: dt.date) -> str:
    text = _digits_only(value).upper()
    if not id_number_is_valid(text):
        raise FieldInvalid(_l("Not a valid resident ID number (18 characters, check digit)."))
    return text


def _clean_card_number(spec: FieldSpec, value: Any, today: dt.date) -> str:
    digits = _digits_only(value)
    if not re.fullmatch(r"\d{8,32}", digits):
        raise FieldInvalid(_l("An account or card number has 8 to 32 digits."))
    return digits


class NotADay(ValueError):
    """A date column's value that names a year or a month, not a day (1985, 1985.03, 1985年3月):
    ``message`` says so, in the user's language. No day is made up for it."""

    def __init__(self, value: Any, message: Any):
        super().__init__(value)
        self.message = message


class WrongWeekday(NotADay):
    """A date written with a weekday that is not its own (2026年3月2日 星期日: a Monday): one
    of the two is mistyped, and which one is not guessed."""


_WEEKDAYS = "一二三四五六日"
_WEEKDAY_NAMES = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")


def _weekday_name(index: int) -> str:
    return pick("星期" + _WEEKDAYS[index], _WEEKDAY_NAMES[index])


_YEAR_ONLY = _l("This looks like a year, not a date: write the whole date, e.g. 1985/3/2.")
_YEAR_MONTH = _l("This looks like a year and a month, not a date: write it down to the day, e.g. 1985/3/2.")
# A year and a month as text: 1985.03, 1985年3月, 1985-03, 1985/3, 198503.
_YEAR_MONTH_TEXT = re.compile(r"^(?:(1[89]|20)\d{2}\s*[-/.年]\s*(0?[1-9]|1[0-2])\s*月?"
                              r"|(?:19|20)\d{2}(?:0[1-9]|1[0-2]))$")
_YEAR_TEXT = re.compile(r"^(?:1[89]|20)\d{2}\s*年?$")
# Excel serials below this (1927-05-18) are not taken for dates: a date cell reaches us as a
# date, so a bare number in a date column is one typed into a General cell — 2026, 1985.03 and
# 85 are a year, a year and month, an age, never days of 1900-1927.
_FIRST_SERIAL = 10000


def _number_moment(value: float) -> dt.datetime:
    """A number in a date column: an Excel serial (its fraction the time of day) from
    :data:`_FIRST_SERIAL` on, a yyyymmdd written as a number (19850302); a year or a year and a
    month written as one (1985, 1985.03, 198503) is :class:`NotADay`, any other ValueError."""
    if _FIRST_SERIAL <= value < 2958466:  # Excel's largest date is 9999-12-31
        if 100000 <= value < 1000000 and value == int(value) and _YEAR_MONTH_TEXT.match(str(int(value))):
            raise NotADay(value, _YEAR_MONTH)   # 198503: a serial of the year 2443
        seconds = round((value - int(value)) * 86400)
        return dt.datetime.combine(_EXCEL_EPOCH, dt.time()) + dt.timedelta(days=int(value), seconds=seconds)
    if 1000 <= value < 10000:
        raise NotADay(value, _YEAR_ONLY if value == int(value) else _YEAR_MONTH)
    if 10000000 <= value < 100000000 and value == int(value):
        text = str(int(value))
        return dt.datetime(int(text[:4]), int(text[4:6]), int(text[6:]))
    raise ValueError(value)


def parse_date(value: Any) -> dt.date:
    """A date from a date, an Excel serial, ISO text or the common Chinese forms
    (1985/3/2, 1985年3月2日, 1985.3.2), a time of day after it ignored. Raises ValueError."""
    return parse_moment(value).date()


def parse_moment(value: Any) -> dt.datetime:
    """A date and time from a datetime, a date (at midnight), an Excel serial (its fraction the
    time of day; see :func:`_number_moment` for the numbers that are not taken for one), ISO
    text or the common Chinese forms with or without a time (1985/3/2, 2024/3/2 14:30,
    2024年3月2日 14:30:05). Raises ValueError: :class:`NotADay` for a year or a year and month
    alone (1985, 1985.03, 1985年3月, 1985-03, 198503), which no day is made up for."""
    if isinstance(value, dt.datetime):
        return value
    if isinstance(value, dt.date):
        return dt.datetime.combine(value, dt.time())
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return _number_moment(value)
    text = _text(value)
    match = _DATE_TEXT.match(text)
    if match:
        year, month, day, weekday, *time = match.groups()
        moment = dt.datetime(int(year), int(month), int(day), *(int(g or 0) for g in time))
        if weekday is not None and _WEEKDAYS.index(weekday.replace("天", "日")) != moment.weekday():
            raise WrongWeekday(text, _l("%(date)s was a %(weekday)s, not a %(written)s: check the date.",
                                        date=moment.date().isoformat(), weekday=_weekday_name(moment.weekday()),
                                        written=_weekday_name(_WEEKDAYS.index(weekday.replace("天", "日")))))
        return moment
    if re.fullmatch(r"\d{8}", text):
        return dt.datetime(int(text[:4]), int(text[4:6]), int(text[6:]))
    try:
        if len(text) > 10:
            return dt.datetime.fromisoformat(text)
        return dt.datetime.combine(dt.date.fromisoformat(text), dt.time())
    except ValueError:
        if _YEAR_MONTH_TEXT.match(text):
            raise NotADay(text, _YEAR_MONTH) from None
        if _YEAR_TEXT.match(text):
            raise NotADay(text, _YEAR_ONLY) from None
        raise


def _clean_date(spec: FieldSpec, value: Any, today: dt.date) -> dt.date:
    try:
        day = parse_date(value)
    except NotADay as exc:
        raise FieldInvalid(exc.message)
    except (ValueError, TypeError):
        raise FieldInvalid(_l("Not a valid date; write it as 2024-03-02."))
    if day.year < 1900:
        raise FieldInvalid(_l("Dates before 1900 are not accepted."))
    if spec.not_future and day > today:
        raise FieldInvalid(_l("This date cannot be in the future."))
    return day


def _clean_datetime(spec: FieldSpec, value: Any, today: dt.date) -> dt.datetime:
    try:
        moment = parse_moment(value)
    except NotADay as exc:
        raise FieldInvalid(exc.message)
    except (ValueError, TypeError):
        raise FieldInvalid(_l("Not a valid date and time; write it as 2024-03-02 14:30."))
    if spec.not_future and moment.date() > today:
        raise FieldInvalid(_l("This date cannot be in the future."))
    return moment


class ForeignCurrency(ValueError):
    """An amount in a currency other than the yuan: no rate turns it into one."""

    def __init__(self, currency: str):
        super().__init__(currency)
        self.currency = currency


# Company lists give registered capital as 500万元人民币 or 1.2亿: the yuan's names and signs
# around the number are dropped, a magnitude after it multiplies it.
_YUAN = re.compile(r"^(?:¥|RMB|CNY|人民币)|(?:元整|元|人民币|RMB|CNY)+$", re.IGNORECASE)
_FOREIGN = re.compile(r"美元|美金|港元|港币|欧元|日元|英镑|澳元|加元|新台币|台币|韩元|澳门元|卢布|"
                      r"US\$|HK\$|USD|HKD|EUR|JPY|GBP|AUD|CAD|\$|€|£", re.IGNORECASE)
# The currencies _FOREIGN finds and their names (the cell may say USD or $).
_CURRENCY_NAMES = (
    (("美元", "美金", "US$", "USD", "$"), "美元", "US dollars"),
    (("港元", "港币", "HK$", "HKD"), "港元", "Hong Kong dollars"),
    (("欧元", "EUR", "€"), "欧元", "euros"),
    (("日元", "JPY"), "日元", "Japanese yen"),
    (("英镑", "GBP", "£"), "英镑", "pounds sterling"),
    (("澳元", "AUD"), "澳元", "Australian dollars"),
    (("加元", "CAD"), "加元", "Canadian dollars"),
    (("新台币", "台币"), "新台币", "New Taiwan dollars"),
    (("韩元",), "韩元", "South Korean won"),
    (("澳门元",), "澳门元", "Macau patacas"),
    (("卢布",), "卢布", "roubles"),
)
_CURRENCIES = {found.casefold(): (zh, en) for names, zh, en in _CURRENCY_NAMES for found in names}


def currency_name(found: str) -> str:
    """The currency ``found`` in a cell (美元, USD, $) as the user reads it: in Chinese as the
    cell wrote it, in English by its English name (US dollars)."""
    names = _CURRENCIES.get(found.casefold())
    return pick(found, names[1]) if names else found


_PLAIN_NUMBER = re.compile(r"[+-]?(?:\d+\.?\d*|\.\d+)")
_MAGNITUDES = (("万亿", Decimal(10) ** 12), ("亿", Decimal(10) ** 8), ("万", Decimal(10) ** 4),
               ("千", Decimal(10) ** 3))


def _number_text(value: Any) -> str:
    return _SPACES.sub("", _text(value)).replace(",", "").replace("，", "")


def in_unit(value: Any, unit: Decimal) -> Any:
    """``value`` counted in ``unit`` (a column headed 注册资本(万元): 500 is 5,000,000); text
    naming its own magnitude or currency (500万元, 800元, $5) is left to say what it says."""
    if isinstance(value, (int, float, Decimal)) and not isinstance(value, bool):
        return parse_number(value) * unit
    if isinstance(value, str) and _PLAIN_NUMBER.fullmatch(text := _number_text(value)):
        return Decimal(text) * unit
    return value


def parse_number(value: Any) -> Decimal:
    """A number from a number or text with thousands separators, full-width digits, the yuan's
    sign or name (¥1,000, 1000元, RMB 1000, 500万元人民币, -¥300, (¥300.00)) and a magnitude
    (1.2万, 3亿). Raises
    ValueError, :class:`ForeignCurrency` for an amount in another currency (50万美元, $1,000)."""
    if isinstance(value, bool):
        raise ValueError(value)
    if isinstance(value, (int, Decimal)):
        return Decimal(value)
    if isinstance(value, float):
        return Decimal(repr(value))
    text = _number_text(value)
    foreign = _FOREIGN.search(text)
    if foreign:
        raise ForeignCurrency(foreign.group())
    # Excel writes a negative amount of its currency and accounting formats as -¥300.00 and
    # (¥300.00), and so does a CSV saved from it: the sign (or the brackets) around the yuan's.
    sign = ""
    if len(text) > 2 and text[0] == "(" and text[-1] == ")":
        sign, text = "-", text[1:-1]
    elif text[:1] in ("-", "+") and _YUAN.match(text[1:]):
        sign, text = text[0], text[1:]
    text = sign + _YUAN.sub("", text)
    unit = Decimal(1)
    for name, size in _MAGNITUDES:
        if text.endswith(name):
            text, unit = text[:-len(name)], size
            break
    try:
        number = Decimal(text)
    except InvalidOperation:
        raise ValueError(value)
    if not number.is_finite():
        raise ValueError(value)
    return number * unit


def _clean_number(spec: FieldSpec, value: Any, today: dt.date) -> Any:
    try:
        number = parse_number(value)
    except ForeignCurrency as exc:
        raise FieldInvalid(_l("An amount in %(currency)s: give it in yuan (RMB).",
                              currency=currency_name(exc.currency)))
    except ValueError:
        raise FieldInvalid(_l("Not a number."))
    if spec.type == FieldType.INT:
        if number != number.to_integral_value():
            raise FieldInvalid(_l("A whole number is expected."))
        number = int(number)
    elif spec.type == FieldType.MONEY:
        try:
            number = number.quantize(Decimal("0.01"))
        except InvalidOperation:   # more digits than a Decimal holds (1e30): far past any column
            raise _past_column(spec, number)
    if spec.min_value is not None and number < spec.min_value:
        if spec.min_value == 0:
            raise FieldInvalid(_l("Cannot be negative."))
        raise FieldInvalid(_l("Must be at least %(n)s.", n=_fmt(spec.min_value)))
    if spec.max_value is not None and number > spec.max_value:
        raise FieldInvalid(_l("Must be at most %(n)s.", n=_fmt(spec.max_value)))
    if spec.column_limit is not None and abs(number) > spec.column_limit:
        raise _past_column(spec, number)
    return number


def _past_column(spec: FieldSpec, number) -> FieldInvalid:
    if spec.column_limit is None:
        return FieldInvalid(_l("Not a number."))
    if number < 0:
        return FieldInvalid(_l("Must be at least %(n)s.", n=_fmt(-spec.column_limit)))
    return FieldInvalid(_l("Must be at most %(n)s.", n=_fmt(spec.column_limit)))


def _fmt(number: float) -> str:
    return str(int(number)) if float(number).is_integer() else str(number)


def _clean_bool(spec: FieldSpec, value: Any, today: dt.date) -> bool:
    if isinstance(value, bool):
        return value
    text = _text(value).lower()
    if text in _TRUE:
        return True
    if text in _FALSE:
        return False
    raise FieldInvalid(_l("Answer yes or no."))


def _clean_choice(spec: FieldSpec, value: Any, today: dt.date) -> str:
    text = _text(value)
    folded = text.casefold()
    for choice in spec.choices:
        if folded in (name.casefold() for name in choice.names):
            return choice.code
    allowed = pick("、", ", ").join(c.label for c in spec.choices)
    raise FieldInvalid(_l("Not one of the choices: %(allowed)s.", allowed=allowed))


_CLEANERS = {
    FieldType.TEXT: _clean_text,
    FieldType.LONGTEXT: _clean_text,
    FieldType.MOBILE: _clean_mobile,
    FieldType.PHONE: _clean_phone,
    FieldType.EMAIL: _clean_email,
    FieldType.URL: _clean_url,
    FieldType.POSTCODE: _clean_postcode,
    FieldType.ID_NUMBER: _clean_id_number,
    FieldType.CARD_NUMBER: _clean_card_number,
    FieldType.DATE: _clean_date,
    FieldType.DATETIME: _clean_datetime,
    FieldType.INT: _clean_number,
    FieldType.DECIMAL: _clean_number,
    FieldType.MONEY: _clean_number,
    FieldType.BOOL: _clean_bool,
    FieldType.CHOICE: _clean_choice,
}
