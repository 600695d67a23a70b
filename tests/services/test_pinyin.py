"""Pinyin keys: 张伟 is found by zhangwei and zw."""
import sqlalchemy as sa

from portal.extensions import db
from portal.models import Contact, Customer
from portal.services.pinyin import keys, looks_like_pinyin


def test_keys_of_chinese_latin_and_mixed_names():
    assert keys("张伟") == ("zhangwei", "zw")
    assert keys("杭州华信贸易有限公司") == ("hangzhouhuaxinmaoyiyouxiangongsi", "hzhxmyyxgs")
    assert keys("华腾软件（厦门）有限公司") == ("huatengruanjianxiamenyouxiangongsi", "htrjxmyxgs")
    assert keys("Li Na 李娜") == ("linalina", "lnln")
    assert keys("3M 中国") == ("3mzhongguo", "3zg")
    assert keys("  ") == (None, None) and keys(None) == (None, None)


def test_only_latin_text_is_matched_against_pinyin():
    assert looks_like_pinyin("zw") and looks_like_pinyin("zhangwei")
    assert not looks_like_pinyin("张") and not looks_like_pinyin("138") and not looks_like_pinyin("")


def test_keys_follow_the_name_on_every_write(app):
    customer = Customer(name="张伟", customer_type="person")
    customer.contacts.append(Contact(name="李娜"))
    db.session.add(customer)
    db.session.flush()
    assert (customer.name_pinyin, customer.name_initials) == ("zhangwei", "zw")
    assert customer.contacts[0].name_initials == "ln"
    customer.name = "王芳"
    db.session.flush()
    found = db.session.scalars(sa.select(Customer).where(Customer.name_initials.startswith("wf"))).all()
    assert found == [customer]


def test_the_migration_fills_the_keys_of_existing_rows(demo_app):
    missing = db.session.scalar(sa.select(sa.func.count()).select_from(Customer).where(Customer.name_pinyin.is_(None)))
    assert missing == 0
