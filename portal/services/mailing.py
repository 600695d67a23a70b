"""Campaign lists (目标客户名单) for direct mail, SMS and e-mail, and the envelope address block.

A list starts from the customers a user may see (row scope, always), narrowed by a saved view
of the customer grid (its filters and quick search) and/or simple criteria — stage, grade,
region, province, tag. For the chosen channel each customer then gets one addressee or a
reason to be left out, counted per reason:

* ``opted_out``: the customer opted out of the channel, or every one of its contacts did;
* ``no_address``: nothing to send to — for mail no street with a postcode, province, city or
  district to go with it; for SMS no mobile; for e-mail no address;
* ``duplicate``: another customer of the list already gets the letter, the message (same
  mobile) or the e-mail. A letter goes once per household or company: persons at one address
  (the same normalised address, see :func:`address_key`) are one household; organisations are
  told apart by name (:func:`organisation_key`), so two companies in one building each get
  theirs, and a person living where a company has its office is not that company.

The addressee of a customer: its primary contact; for a person, then the person; then the
other contacts (by age of their record); an organisation without contacts is written to as
the company itself. Contacts who opted out are passed over; an organisation whose contacts
all opted out is left out rather than written to by name of the company — they said no.
For SMS and e-mail the addressee must have a mobile / e-mail; an organisation's own one is
used when no contact has one.

Among the cards of one household (or of one company) the letter goes to the best addressee: a
named person before the company itself, a primary contact before others, the better grade
(A … D), the older card.

No Flask here (the grid's query builder is reused for saved views); the caller passes the
user whose scope applies and decides how to show the result.
"""
from __future__ import annotations

import datetime as dt
import functools
import operator
import re
import unicodedata
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l
from sqlalchemy.orm import Session

from portal.context import changes_from, current_user_id
from portal.excel import bulk
from portal.fields import FieldInvalid, clean, fields_of
from portal.fields.validation import halfwidth
from portal.grid.query import GridRequest, GridRequestError, selection as grid_selection
from portal.models import Contact, Customer, GridView, Promotion, PromotionTarget, customer_tag
from portal.models.consent import CHANNELS
from portal.security import scope

OPTED_OUT, NO_ADDRESS, DUPLICATE = "opted_out", "no_address", "duplicate"
REASONS = (OPTED_OUT, NO_ADDRESS, DUPLICATE)
GRID_RESOURCE = "customer"   # saved views of the customer grid are the segments
PREVIEW_SIZE = 20
TARGET_CHUNK = 1000   # promotion targets written per flush
MAX_NAME = 200

# Provinces whose capital is the province: a city field repeating them adds nothing.
MUNICIPALITIES = ("北京", "天津", "上海", "重庆", "香港", "澳门")
# What old code lists put in the city or district of a municipality instead of a name.
PLACEHOLDERS = frozenset({"市辖区", "县", "省直辖县级行政区划", "自治区直辖县级行政区划", "直辖市"})
TITLES = {"M": "先生", "F": "女士"}
_GRADE_RANK = {"A": 0, "B": 1, "C": 2, "D": 3}

CUSTOMER_COLUMNS = (
    Customer.id, Customer.number, Customer.name, Customer.customer_type, Customer.gender, Customer.value_grade,
    Customer.postcode, Customer.province, Customer.city, Customer.district, Customer.street,
    Customer.mobile, Customer.email, Customer.mail_opt_out, Customer.sms_opt_out, Customer.email_opt_out,
)
CONTACT_COLUMNS = (
    Contact.id, Contact.customer_id, Contact.name, Contact.gender, Contact.position, Contact.is_primary,
    Contact.mobile, Contact.email, Contact.mail_opt_out, Contact.sms_opt_out, Contact.email_opt_out,
)


class CampaignError(ValueError):
    """A request for a list that cannot be met; ``message`` is in the user's language."""

    def __init__(self, message):
        super().__init__(str(message))
        self.message = message


# --- the envelope -------------------------------------------------------------------------

def _text(value) -> str:
    """``value`` as tidy text: half-width forms (NFKC: the ideographic space too), single
    spaces, no ends."""
    if not value:
        return ""
    text = str(value)
    if not text.isascii():
        text = halfwidth(text)
    return " ".join(text.split())


def _core(place: str) -> str:
    """北京市 → 北京, for comparing a municipality with what a city field says of it."""
    for suffix in ("特别行政区", "市"):
        if place.endswith(suffix) and len(place) > len(suffix):
            return place[: -len(suffix)]
    return place


@functools.lru_cache(maxsize=4096)   # a list repeats a few thousand places at most
def region_parts(province, city, district) -> tuple[str, ...]:
    """The province, city and district to write, without blanks, placeholders (市辖区) and
    repeats: a municipality is written once (北京市 北京市 海淀区 → 北京市, 海淀区), while
    吉林省 吉林市 — two places of one name — stays as it is."""
    parts: list[str] = []
    for part in (_text(province), _text(city), _text(district)):
        if not part or part in PLACEHOLDERS or part in parts:
            continue
        if parts and _core(part) == _core(parts[0]) and _core(parts[0]) in MUNICIPALITIES:
            continue
        parts.append(part)
    return tuple(parts)


# The endings of the names of provinces, cities and districts, longest first (自治区 before 区).
ADMIN_SUFFIXES = ("特别行政区", "自治区", "自治州", "自治县", "地区", "省", "市", "区", "县", "盟", "旗")
# What a bare name (杭州, 西湖) is when written in full, as a clerk types it before the street.
_BARE_ENDINGS = ("省", "市", "区", "县")
_AFTER_PLACE = " ,，、"


def _suffix(place: str) -> str:
    """The administrative ending of ``place`` (省, 市, 自治州 …) leaving a name of two characters
    or more; "" for a bare name (杭州) — and for 沙市, whose 市 is part of a one-character name."""
    for suffix in ADMIN_SUFFIXES:
        if place.endswith(suffix) and len(place) - len(suffix) >= 2:
            return suffix
    return ""


# Autonomous regions as everyone writes them: not their name less 自治区 (广西壮族 is nobody's).
SHORT_NAMES = {"新疆维吾尔自治区": "新疆", "广西壮族自治区": "广西", "宁夏回族自治区": "宁夏"}


@functools.lru_cache(maxsize=4096)
def _forms(place: str) -> tuple[tuple[str, bool], ...]:
    """How ``place`` may be typed before a street: (form, whether it is the full name).
    广州市 → (广州市, full), (广州, short); a bare 杭州 → 杭州省/市/区/县 (full), 杭州 (short);
    新疆维吾尔自治区 → also 新疆 (short)."""
    suffix = _suffix(place)
    if suffix:
        short = ((SHORT_NAMES[place], False),) if place in SHORT_NAMES else ()
        return (place, True), (place[: -len(suffix)], False), *short
    if any(place.endswith(s) for s in ADMIN_SUFFIXES) or len(place) < 2:
        return ((place, True),)
    return (*((place + s, True) for s in _BARE_ENDINGS), (place, False))


def _after_region(text: str, parts: tuple[str, ...], start: int = 0) -> str | None:
    """``text`` after the longest run of ``parts[start:]`` (in their order, any skipped) typed at
    its start that ends in a full name, or None when there is no such run. A short name only
    counts when a full one follows it (浙江杭州市…): on its own it is the start of a street
    named after the place (广州大道, 北京路, 吉林大街)."""
    best = None
    for index in range(start, len(parts)):
        for form, full in _forms(parts[index]):
            if not form or not text.startswith(form):
                continue
            rest = text[len(form):].lstrip(_AFTER_PLACE)
            if not rest:            # the street would be gone: it is the place's name, not a repeat
                continue
            deeper = _after_region(rest, parts, index + 1)
            found = deeper if deeper is not None else (rest if full else None)
            if found is not None and (best is None or len(found) < len(best)):
                best = found
    return best


def street_line(street, parts: tuple[str, ...]) -> str:
    """The street without the province / city / district a clerk also typed in front of it
    (浙江省杭州市西湖区文三路100号 with those in their fields → 文三路100号).

    Only a repeat of the region ending in a full name is removed (广州市…, 浙江杭州市…,
    天河区…): a street named after its city keeps its name — 广州市 + 广州大道中289号 stays
    广州大道中289号, 北京市 + 北京路1号 stays 北京路1号."""
    text = _text(street)
    rest = _after_region(text, parts) if parts else None
    return text if rest is None else rest


def title_for(gender=None, position=None) -> str:
    """称谓: the contact's position (经理) when known, else 先生 / 女士 from the gender."""
    position = _text(position)
    return position or TITLES.get(gender or "", "")


def envelope_lines(*, postcode=None, province=None, city=None, district=None, street=None, company=None,
                   name=None, title=None) -> list[str]:
    """The lines of a Chinese envelope's address block, top to bottom:

    postcode · province city district (written together, 浙江省杭州市西湖区) · street ·
    company · ``name title 收``. Empty lines are left out; without a person's name the
    company line ends in 收 (杭州明远科技有限公司 收).
    """
    parts = region_parts(province, city, district)
    return _block(_text(postcode), parts, street_line(street, parts), _text(company), _text(name), _text(title))


def _block(postcode: str, parts: tuple[str, ...], street: str, company: str, name: str, title: str) -> list[str]:
    lines = [postcode, "".join(parts), street]
    if name:
        lines += [company, " ".join(p for p in (name, title, "收") if p)]
    elif company:
        lines.append(f"{company} 收")
    return [line for line in lines if line]


# What separates two numbers of an address (10-1号, 3之2号, 1/201室, 3#201): significant, as
# 10-1号 is not 101号, however it is written. Full-width forms are half-width by then (NFKC).
_NUMBER_SEPARATORS = "-‐‑‒–—―−﹣~〜/\\_·・.#之"
_BETWEEN_NUMBERS = re.compile(r"(?<=\d)(?:\s*[%s])+\s*(?=\d)" % re.escape(_NUMBER_SEPARATORS))
_SEPARATOR_MARK = "\ue000"   # held through the punctuation filter, then written as "-"


def _normalised(text: str) -> str:
    """Text as compared for duplicates: half-width, lower case, no spaces or punctuation — except
    between two numbers, where any separator (-, －, —, 之, /, # …, spaces around it) is one "-":
    幸福小区1-201 and 幸福小区１－２０１ are one flat, 幸福小区12-01 and 幸福小区1201 others."""
    text = _BETWEEN_NUMBERS.sub(_SEPARATOR_MARK, halfwidth(text).lower())
    return "".join([ch for ch in text if _KEPT[ch]]).replace(_SEPARATOR_MARK, "-")


class _Kept(dict):
    """Character → whether a dedupe key keeps it, looked up once per character (lists of 100,000)."""

    def __missing__(self, ch: str) -> bool:
        kept = self[ch] = ch == _SEPARATOR_MARK or unicodedata.category(ch)[0] not in "PZSC"
        return kept


_KEPT = _Kept()


def _key_place(place: str, level: str) -> str:
    """``place`` as the dedupe key writes it, whether typed with its ending or without: a city
    杭州 / 杭州市 → 杭州市; a district 西湖 / 西湖区 / 西湖县 → 西湖区 (within one city a district
    and a county of one name do not exist side by side — a county made a district keeps its
    name, 余杭县 → 余杭区); a province 浙江 → 浙江省, 北京 → 北京市. Other endings (自治州,
    county-level 市) are kept as typed. For the key only: the envelope prints what was typed."""
    if not place or place in PLACEHOLDERS:
        return place
    suffix = _suffix(place)
    if level == "district":
        if suffix in ("区", "县") and not place.endswith(("自治区", "自治县")):
            return place[:-1] + "区"
        return place if suffix or len(place) < 2 else place + "区"
    if suffix or len(place) < 2 or any(place.endswith(s) for s in ADMIN_SUFFIXES):
        return place
    if level == "province":
        if place in ("香港", "澳门"):
            return place + "特别行政区"
        return place + ("市" if place in MUNICIPALITIES else "省")
    return place + "市"


@functools.lru_cache(maxsize=4096)
def _key_parts(province, city, district) -> tuple[str, ...]:
    return region_parts(_key_place(_text(province), "province"), _key_place(_text(city), "city"),
                        _key_place(_text(district), "district"))


def address_key(province, city, district, street) -> str:
    """The key two cards at one address share however it was typed (full- or half-width,
    spaces, punctuation, the district repeated in the street, a city or district with or
    without its 市 / 区). Separators between numbers count (10-1号 is not 101号). The postcode
    is not part of it: it follows from the address, and a card that lacks it must not earn a
    second letter."""
    parts = _key_parts(province, city, district)
    # One string: a district typed in its field or at the start of the street is the same.
    return _normalised("".join(parts) + street_line(street, parts))


# The legal form and trade of a company's name (杭州明远科技有限公司: 杭州 · 明远 · 科技 · 有限公司),
# taken off its end to leave the trade name (字号) that tells one company from another.
_LEGAL_FORMS = ("股份有限公司", "有限责任公司", "集团有限公司", "有限公司", "集团公司", "集团", "公司")
_TRADES = ("信息技术", "网络科技", "电子商务", "房地产开发", "房地产", "科技", "技术", "信息", "网络", "电子",
           "贸易", "商贸", "工贸", "实业", "投资", "咨询", "管理", "发展", "建设", "工程", "建筑", "物业",
           "物流", "文化", "传媒", "广告", "餐饮", "服务", "制造", "机械", "设备", "医药", "生物", "食品",
           "能源", "环保", "置业", "控股")


@functools.lru_cache(maxsize=4096)
def _name_patterns(parts: tuple[str, ...]) -> tuple[re.Pattern | None, re.Pattern]:
    """(the places of ``parts`` at the start of a name, the places, legal forms and trades at its end)."""
    def alternatives(words):
        return "|".join(re.escape(w) for w in sorted({w for w in words if w}, key=len, reverse=True))

    places = {_normalised(form) for part in parts for form, _ in _forms(part)}
    lead = re.compile(f"^(?:{alternatives(places)})+") if places else None
    return lead, re.compile(f"(?:{alternatives((*places, *_LEGAL_FORMS, *_TRADES))})+$")


_LEGAL_TAIL = re.compile("(?:%s)$" % "|".join(re.escape(w) for w in _LEGAL_FORMS))


def organisation_key(name, parts: tuple[str, ...] = ()) -> str:
    """Who a company is, for one letter per company at an address: its normalised name without
    the place it is registered in (any form of ``parts``, at either end), its legal form and its
    trade — 杭州明远 and 杭州明远科技有限公司 are one company, 丁公司A and 戊公司B two. When that
    would leave less than two characters, the name without its legal form, else the whole name."""
    full = _normalised(_text(name))
    lead, tail = _name_patterns(parts)
    text = lead.sub("", full, count=1) if lead is not None else full
    found = tail.search(text)
    if found is not None:
        text = text[:found.start()]
    if len(text) >= 2:
        return text
    short = _LEGAL_TAIL.sub("", full)
    return short if len(short) >= 2 else full


def has_postal_address(postcode, province, city, district, street) -> bool:
    """A street, and a postcode or a province, city or district to find it by."""
    return bool((street or "").strip()) and any((v or "").strip() for v in (postcode, province, city, district))


# --- one addressee ------------------------------------------------------------------------

@dataclass
class Addressee:
    """Who one letter, message or e-mail of the list goes to, and where."""

    customer_id: int
    customer_number: str
    customer_name: str
    contact_id: int | None
    company: str          # the organisation; "" for a person
    name: str             # the person written to; "" when the company itself is
    title: str            # 经理 / 先生 / 女士 / ""
    postcode: str
    province: str
    city: str
    district: str
    street: str
    mobile: str
    email: str
    primary: bool = False
    grade: str | None = None

    # The fields hold tidy text already (see _addressee); what is derived from them is
    # computed once, as a list of 100,000 is sorted, deduplicated and written out.
    @functools.cached_property
    def parts(self) -> tuple[str, ...]:
        return region_parts(self.province, self.city, self.district)

    @functools.cached_property
    def street_only(self) -> str:
        """The street without the province, city or district typed in front of it."""
        return street_line(self.street, self.parts)

    @functools.cached_property
    def lines(self) -> list[str]:
        """The envelope's address block (see :func:`envelope_lines`)."""
        return _block(self.postcode, self.parts, self.street_only, self.company, self.name, self.title)

    @property
    def address_block(self) -> str:
        return "\n".join(self.lines)

    def key(self, channel: str) -> str:
        """What two addressees of one list share when only one of them gets it: the mobile, the
        e-mail, or for mail the household (the address, for persons) or the company at the
        address (address and :func:`organisation_key`)."""
        if channel == "sms":
            return self.mobile
        if channel == "email":
            return self.email.lower()
        address = address_key(self.province, self.city, self.district, self.street)
        if not self.company:
            return address
        return f"{address}\x1forg:{organisation_key(self.company, self.parts)}"

    def rank(self) -> tuple:
        """Lower is better, among addressees sharing one key (one household, one company)."""
        return (not self.name, not self.primary, _GRADE_RANK.get(self.grade or "", 9), self.customer_id)


_OPT_OUT = {channel: operator.attrgetter(f"{channel}_opt_out") for channel in CHANNELS}


def _opted_out(row, channel: str) -> bool:
    return bool(_OPT_OUT[channel](row))


def _reach(row, channel: str) -> str:
    """What ``row`` (customer or contact) is reached by on ``channel``: its mobile, e-mail, or
    for mail "yes" (letters go to the customer's address)."""
    if channel == "sms":
        return _text(row.mobile)
    if channel == "email":
        return _text(row.email)
    return "yes"


def choose(customer, contacts, channel: str) -> Addressee | str:
    """The addressee of ``customer`` on ``channel`` among its ``contacts``, or the reason
    it is left out (OPTED_OUT, NO_ADDRESS). Rows need the CUSTOMER_/CONTACT_COLUMNS."""
    if _opted_out(customer, channel):
        return OPTED_OUT
    if channel == "mail" and not has_postal_address(customer.postcode, customer.province, customer.city,
                                                    customer.district, customer.street):
        return NO_ADDRESS
    person = customer.customer_type == "person"
    willing = sorted((c for c in contacts if not _opted_out(c, channel)), key=lambda c: (not c.is_primary, c.id))
    if contacts and not willing and not person:
        return OPTED_OUT
    primary = [c for c in willing if c.is_primary]
    others = [c for c in willing if not c.is_primary]
    candidates = [*primary, *([customer] if person else []), *others, *([] if person else [customer])]
    for candidate in candidates:
        if _reach(candidate, channel):
            return _addressee(customer, None if candidate is customer else candidate)
    return NO_ADDRESS


def _addressee(customer, contact) -> Addressee:
    person = customer.customer_type == "person"
    if contact is not None:
        name, title = _text(contact.name), title_for(contact.gender, contact.position)
        mobile, email = _text(contact.mobile), _text(contact.email)
    elif person:
        name, title = _text(customer.name), title_for(customer.gender)
        mobile, email = _text(customer.mobile), _text(customer.email)
    else:
        name, title = "", ""
        mobile, email = _text(customer.mobile), _text(customer.email)
    return Addressee(
        customer_id=customer.id, customer_number=customer.number or "", customer_name=_text(customer.name),
        contact_id=contact.id if contact is not None else None, company="" if person else _text(customer.name),
        name=name, title=title, postcode=_text(customer.postcode), province=_text(customer.province),
        city=_text(customer.city), district=_text(customer.district), street=_text(customer.street),
        mobile=mobile, email=email,
        primary=bool(contact is not None and contact.is_primary), grade=customer.value_grade,
    )


# --- which customers ----------------------------------------------------------------------

@dataclass(frozen=True)
class Criteria:
    """The segment: a saved view of the customer grid and/or simple conditions (all of them
    must hold; within one, any of the values)."""

    view_id: int | None = None
    stages: tuple[str, ...] = ()
    grades: tuple[str, ...] = ()
    region_ids: tuple[int, ...] = ()
    provinces: tuple[str, ...] = ()
    tag_ids: tuple[int, ...] = ()

    def as_json(self) -> dict:
        return {k: (list(v) if isinstance(v, tuple) else v) for k, v in self.__dict__.items() if v not in (None, ())}


@dataclass
class CampaignList:
    """A channel's list: the addressees in sending order and the customers left out."""

    channel: str
    targets: list[Addressee]
    selected: int                                    # customers the segment yielded
    excluded: dict[str, int]                         # reason → customers
    contacts_passed_over: int = 0                    # opted-out contacts another addressee replaced
    duplicates: list[tuple[str, str]] = field(default_factory=list)  # (customer left out, customer kept)
    criteria: Criteria = field(default_factory=Criteria)
    view_name: str | None = None

    @property
    def preview(self) -> list[Addressee]:
        return self.targets[:PREVIEW_SIZE]

    def audience(self) -> dict:
        """What the list was made of, as a promotion keeps it."""
        return {"channel": self.channel, "criteria": self.criteria.as_json(), "view": self.view_name,
                "selected": self.selected, "targets": len(self.targets), "excluded": dict(self.excluded),
                "contacts_passed_over": self.contacts_passed_over}


def saved_views(session: Session, user_id) -> list[GridView]:
    """The named customer-grid views ``user_id`` may build a list from: theirs and shared ones."""
    return list(session.scalars(sa.select(GridView).where(
        GridView.resource == GRID_RESOURCE, GridView.name.is_not(None),
        sa.or_(GridView.owner_id == user_id, GridView.shared.is_(True))).order_by(GridView.name, GridView.id)))


def _view(session: Session, view_id, user) -> GridView:
    view = session.get(GridView, view_id)
    user_id = getattr(user, "id", None)
    if (view is None or view.resource != GRID_RESOURCE or view.name is None
            or not (view.shared or view.owner_id == user_id)):
        raise CampaignError(_l("This saved view does not exist or is not shared with you."))
    return view


def _checked(name: str, values) -> tuple:
    spec = fields_of(Customer)[name]
    known = {c.code for c in spec.choices}
    unknown = [v for v in values if v not in known]
    if unknown:
        raise CampaignError(_l("%(field)s: %(value)s is not one of the choices.", field=spec.label, value=unknown[0]))
    return tuple(values)


def customers_matching(session: Session, user, criteria: Criteria):
    """SELECT Customer in ``user``'s scope matching the saved view and criteria; (query, view name)."""
    view_name = None
    request = GridRequest()
    if criteria.view_id is not None:
        view = _view(session, criteria.view_id, user)
        view_name = view.name
        layout = view.layout or {}
        request = GridRequest(filters=dict(layout.get("filters") or {}), q=str(layout.get("q") or ""))
    try:
        query = grid_selection(Customer, request, user)
    except GridRequestError as exc:
        raise CampaignError(exc.message)
    if criteria.stages:
        query = query.where(Customer.stage.in_(_checked("stage", criteria.stages)))
    if criteria.grades:
        query = query.where(Customer.value_grade.in_(_checked("value_grade", criteria.grades)))
    if criteria.provinces:
        query = query.where(Customer.province.in_(_checked("province", criteria.provinces)))
    if criteria.region_ids:
        query = query.where(Customer.region_id.in_(criteria.region_ids))
    if criteria.tag_ids:
        query = query.where(Customer.id.in_(
            sa.select(customer_tag.c.customer_id).where(customer_tag.c.tag_id.in_(criteria.tag_ids))))
    return query, view_name


def _check_channel(channel: str) -> None:
    if channel not in CHANNELS:
        raise CampaignError(_l("Choose mail, SMS or e-mail."))


def _contacts_by_customer(session: Session, customer_ids) -> dict[int, list]:
    found: dict[int, list] = {}
    for row in session.execute(sa.select(*CONTACT_COLUMNS).where(Contact.customer_id.in_(customer_ids))):
        found.setdefault(row.customer_id, []).append(row)
    return found


def _sending_order(channel: str):
    if channel == "mail":   # by postcode, as the post office sorts letters
        return lambda a: (a.postcode or "999999", a.province, a.city, a.district, a.customer_number)
    return lambda a: a.customer_number


def _assemble(channel: str, customers, contacts: dict[int, list]) -> CampaignList:
    excluded = {reason: 0 for reason in REASONS}
    best: dict[str, Addressee] = {}
    passed_over, selected, duplicates = 0, 0, []
    for customer in customers:
        selected += 1
        own = contacts.get(customer.id, [])
        result = choose(customer, own, channel)
        if isinstance(result, str):
            excluded[result] += 1
            continue
        passed_over += sum(1 for c in own if _opted_out(c, channel))
        key = result.key(channel)
        kept = best.get(key)
        if kept is None:
            best[key] = result
            continue
        excluded[DUPLICATE] += 1
        if result.rank() < kept.rank():
            best[key], result, kept = result, kept, result
        duplicates.append((result.customer_number, kept.customer_number))
    targets = sorted(best.values(), key=_sending_order(channel))
    return CampaignList(channel=channel, targets=targets, selected=selected, excluded=excluded,
                        contacts_passed_over=passed_over, duplicates=duplicates)


def build_list(session: Session, user, channel: str, criteria: Criteria = Criteria()) -> CampaignList:
    """The list for ``channel`` of the customers ``user`` may see that match ``criteria``.

    ``user`` is whose row scope applies (``scope.ALL`` outside a request: everyone).
    Raises :class:`CampaignError` for an unknown channel, view or choice."""
    _check_channel(channel)
    query, view_name = customers_matching(session, user, criteria)
    ids = query.with_only_columns(Customer.id)
    customers = session.execute(query.with_only_columns(*CUSTOMER_COLUMNS).order_by(Customer.id)).all()
    result = _assemble(channel, customers, _contacts_by_customer(session, ids))
    result.criteria, result.view_name = criteria, view_name
    return result


# --- the campaign as a promotion ------------------------------------------------------------

def _money(value, label) -> Decimal | None:
    if value in (None, ""):
        return None
    try:
        amount = Decimal(str(halfwidth(str(value))).replace(",", "").strip())
    except InvalidOperation:
        raise CampaignError(_l("%(field)s: not an amount.", field=label))
    if not amount.is_finite() or amount < 0:
        raise CampaignError(_l("%(field)s: not an amount.", field=label))
    return amount.quantize(Decimal("0.01"))


def create_promotion(session: Session, campaign: CampaignList, *, name: str, starts_at: dt.datetime | dt.date,
                     cost_per_target=None, fixed_cost=None, owner_id=None, intent: str | None = None) -> Promotion:
    """Record ``campaign`` as a promotion of its channel with one target per addressee
    (customer + contact), each costing ``cost_per_target``; flushed, not committed. The
    targets go through the ORM, so every customer's change history shows the campaign."""
    specs = fields_of(Promotion)
    try:
        name = clean(specs["name"], name)
        intent = clean(specs["intent"], intent)
    except FieldInvalid as exc:
        raise CampaignError(f"{specs['name'].label}: {exc.message}")
    if not campaign.targets:
        raise CampaignError(_l("No customer is left on this list: nothing to record."))
    if isinstance(starts_at, dt.date) and not isinstance(starts_at, dt.datetime):
        starts_at = dt.datetime.combine(starts_at, dt.time())
    per_target = _money(cost_per_target, specs["variable_cost_per_target"].label)
    promotion = Promotion(name=name, promotion_type=campaign.channel, starts_at=starts_at, intent=intent,
                          variable_cost_per_target=per_target,
                          fixed_cost=_money(fixed_cost, specs["fixed_cost"].label), owner_id=owner_id,
                          audience=campaign.audience())
    with changes_from("campaign"):
        session.add(promotion)
        session.flush()
    user_id = current_user_id()
    history = bulk.History(session, user_id, _username(session, user_id), "campaign")
    for start in range(0, len(campaign.targets), TARGET_CHUNK):
        _add_targets(session, promotion, campaign.targets[start:start + TARGET_CHUNK], per_target, history)
    history.flush()
    return promotion


def _username(session: Session, user_id) -> str | None:
    from flask_appbuilder.security.sqla.models import User

    return session.scalar(sa.select(User.username).where(User.id == user_id)) if user_id is not None else None


def _add_targets(session: Session, promotion: Promotion, chunk: list[Addressee], cost, history: bulk.History) -> None:
    """One chunk of targets, written in bulk (a campaign of 80,000 letters took a minute
    through the ORM's flush and its per-object history), with the same change-history entry
    per target the ORM writes: each new target labelled by its promotion, customer and
    contact, whose labels are read once per chunk."""
    customer_ids = [a.customer_id for a in chunk]
    contact_ids = [a.contact_id for a in chunk if a.contact_id is not None]
    labels = {("promotion_id", promotion.id): str(promotion)}
    labels.update((("customer_id", pk), f"{number} {name}" if number else name) for pk, number, name in session.execute(
        sa.select(Customer.id, Customer.number, Customer.name).where(Customer.id.in_(customer_ids))))
    if contact_ids:
        labels.update((("contact_id", pk), name) for pk, name in session.execute(
            sa.select(Contact.id, Contact.name).where(Contact.id.in_(contact_ids))))
    rows = [{"promotion_id": promotion.id, "customer_id": a.customer_id, "contact_id": a.contact_id,
             "variable_cost": cost, "response": "none"} for a in chunk]
    ids = bulk.insert(session, PromotionTarget, rows)
    text = lambda spec, pk: labels.get((spec.name, pk))  # noqa: E731
    for pk, values in zip(ids, rows):
        history.add(PromotionTarget, pk, "create", bulk.creation_changes(PromotionTarget, values, text),
                    values["customer_id"])


def addressees_of(session: Session, promotion: Promotion, user) -> CampaignList:
    """The addressees of an existing promotion's targets, from the cards as they are now,
    within ``user``'s scope. Whoever opted out since (customer or the target's contact) is
    left out and counted; a target whose contact was deleted goes to the customer."""
    channel = promotion.promotion_type if promotion.promotion_type in CHANNELS else "mail"
    targets = session.execute(sa.select(PromotionTarget.customer_id, PromotionTarget.contact_id)
                              .where(PromotionTarget.promotion_id == promotion.id)).all()
    customer_ids = sa.select(PromotionTarget.customer_id).where(PromotionTarget.promotion_id == promotion.id)
    query = scope.scoped(sa.select(*CUSTOMER_COLUMNS).where(Customer.id.in_(customer_ids)), Customer, user)
    customers = {row.id: row for row in session.execute(query)}
    contacts = {row.id: row for row in session.execute(sa.select(*CONTACT_COLUMNS).where(
        Contact.id.in_(sa.select(PromotionTarget.contact_id).where(PromotionTarget.promotion_id == promotion.id))))}
    excluded = {reason: 0 for reason in REASONS}
    chosen = []
    for target in targets:
        customer = customers.get(target.customer_id)
        if customer is None:
            continue
        contact = contacts.get(target.contact_id)
        if _opted_out(customer, channel) or (contact is not None and _opted_out(contact, channel)):
            excluded[OPTED_OUT] += 1
            continue
        chosen.append(_addressee(customer, contact))
    return CampaignList(channel=channel, targets=sorted(chosen, key=_sending_order(channel)),
                        selected=len(customers), excluded=excluded)
