"""Chinese first: the portal's zh_CN catalog covers every Flask-AppBuilder string, and
the main pages rendered in zh show no English text that gettext should have translated."""
from __future__ import annotations

import os
import re
from html.parser import HTMLParser
from pathlib import Path

import flask_appbuilder
import pytest
import sqlalchemy as sa
from babel.messages.extract import extract_from_dir
from babel.messages.pofile import read_po

from portal.extensions import db
from portal.models import Customer, Transaction
from tests.conftest import login

ROOT = Path(__file__).resolve().parent.parent
CATALOG = ROOT / "portal" / "translations" / "zh_Hans_CN" / "LC_MESSAGES" / "messages.po"
KEYWORDS = {"_": None, "gettext": None, "ngettext": (1, 2), "lazy_gettext": None, "_l": None, "__": None,
            "lazy_formatter_gettext": None}
METHODS = [("**.py", "python"), ("**/templates/**.html", "jinja2")]


def extracted_msgids(directory: Path) -> set[str]:
    ids = set()
    for _, _, message, _, _ in extract_from_dir(str(directory), METHODS, keywords=KEYWORDS):
        ids.add(message[0] if isinstance(message, tuple) else message)
    return {m for m in ids if m}


@pytest.fixture(scope="module")
def catalog():
    with CATALOG.open("rb") as fh:
        return read_po(fh, locale="zh_Hans_CN")


@pytest.fixture(scope="module")
def fab_msgids() -> set[str]:
    return extracted_msgids(Path(os.path.dirname(flask_appbuilder.__file__)))


def translated(catalog, msgid) -> bool:
    message = catalog.get(msgid)
    if message is None or message.fuzzy:
        return False
    strings = message.string if isinstance(message.string, tuple) else (message.string,)
    return all(s.strip() for s in strings)


def test_every_flask_appbuilder_string_has_a_chinese_translation(catalog, fab_msgids):
    missing = sorted(m for m in fab_msgids if not translated(catalog, m))
    assert not missing, f"{len(missing)} FAB strings untranslated, e.g. {missing[:10]}"


def test_every_portal_string_has_a_chinese_translation(catalog):
    ids = extracted_msgids(ROOT / "portal") | extracted_msgids(ROOT)  # templates/ at the root
    missing = sorted(m for m in ids if not translated(catalog, m))
    assert not missing, f"untranslated: {missing[:10]} — run `make i18n-extract` and translate"


class _Text(HTMLParser):
    """Visible text and the attributes a user reads (title, placeholder, button values)."""

    def __init__(self):
        super().__init__()
        self.texts: list[str] = []
        self._skip = 0

    def handle_starttag(self, tag, attrs):
        if tag in ("script", "style"):
            self._skip += 1
        for name, value in attrs:
            if name in ("title", "placeholder", "alt", "aria-label") or (name == "value" and tag == "input"
                                                                          and dict(attrs).get("type") in ("submit", "button")):
                if value:
                    self.texts.append(value.strip())

    def handle_endtag(self, tag):
        if tag in ("script", "style") and self._skip:
            self._skip -= 1

    def handle_data(self, data):
        if not self._skip and data.strip():
            self.texts.append(data.strip())


def english_left(html: str, msgids: set[str]) -> list[str]:
    parser = _Text()
    parser.feed(html)
    # The language menu names English in English; that one is meant.
    allowed = {"English"}
    return sorted({t for t in parser.texts if t in msgids and t not in allowed and re.search(r"[A-Za-z]{2}", t)})


def test_main_pages_in_chinese_show_no_untranslated_flask_appbuilder_text(client, fab_msgids, catalog):
    english = fab_msgids | {m.id for m in catalog if m.id and isinstance(m.id, str)}
    assert "Add" in english and "Edit" in english and "Search" in english

    anonymous = client.get("/login/").text
    assert not english_left(anonymous, english)

    login(client, "admin")
    db.session.add(Customer(name="杭州华信贸易有限公司", customer_type="org"))
    db.session.commit()
    customer = db.session.scalars(sa.select(Customer)).one()
    db.session.add(Transaction(customer=customer, trade_date=customer.created_on.date(), amount=100))
    db.session.commit()
    txn = db.session.scalars(sa.select(Transaction)).one()

    pages = ["/", "/customerview/list/", "/customerview/add", f"/customerview/show/{customer.id}",
             f"/customerview/edit/{customer.id}", f"/customerview/former/{customer.id}", "/contactview/list/",
             "/contactview/add", "/transactionview/list/", f"/transactionview/show/{txn.id}", "/visitview/add",
             "/promotionview/list/", "/productview/list/", "/regionview/list/", "/lifecycleeventview/list/",
             "/users/list/", "/users/add", "/roles/list/", "/users/userinfo/"]
    problems = {}
    for page in pages:
        response = client.get(page)
        assert response.status_code == 200, page
        assert '<html lang="zh' in response.text or "zh" in response.headers.get("Content-Language", "zh")
        left = english_left(response.text, english)
        if left:
            problems[page] = left
    assert not problems, problems


def test_english_is_one_click_away(client):
    login(client, "admin")
    assert "客户档案管理" in client.get("/customerview/list/").text
    client.get("/lang/en")
    html = client.get("/customerview/list/").text
    assert "Customers" in html and "Customer number" in html and "客户编号" not in html
    # The portal's name in the navbar and the title follows too (a company's own name would not).
    assert "<title>Customer archive management" in client.get("/").text and "客户档案管理" not in html
    assert "Customer archive management" in html


@pytest.mark.parametrize("language, expected", [
    ("zh", "邮政编码应为6位数字。手机号码无效；标签：列表中没有“金牌”；城市为空"),
    ("en", "The postcode has 6 digits. The mobile is invalid; Tag: not in the list; City is empty"),
])
def test_sentences_are_joined_without_a_semicolon_after_a_full_stop(app, language, expected):
    from flask_babel import force_locale

    from portal.i18n import joined

    items = {"zh": ["邮政编码应为6位数字。", "手机号码无效", "标签：列表中没有“金牌”", "城市为空"],
             "en": ["The postcode has 6 digits.", "The mobile is invalid", "Tag: not in the list", "City is empty"]}
    with app.test_request_context(), force_locale({"zh": "zh_CN", "en": "en"}[language]):
        assert joined(items[language], sentences=True) == expected
