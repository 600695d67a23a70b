"""Customer and transaction numbers from the configured pattern."""
import datetime as dt

import pytest

from portal.extensions import db
from portal.models import Customer
from portal.services import numbering


def test_pattern_parts():
    assert numbering.split_pattern("KH{yyyy}{seq:05d}", dt.date(2026, 3, 9)) == ("KH2026", 5, "")
    assert numbering.split_pattern("C{yy}{mm}-{seq:4d}-X", dt.date(2026, 3, 9)) == ("C2603-", 4, "-X")
    with pytest.raises(numbering.PatternError):
        numbering.split_pattern("KH{yyyy}", dt.date(2026, 3, 9))
    with pytest.raises(numbering.PatternError):
        numbering.split_pattern("KH{year}{seq}", dt.date(2026, 3, 9))


def test_new_customers_get_consecutive_numbers(app):
    year = dt.date.today().year
    first, second = Customer(name="甲", customer_type="org"), Customer(name="乙", customer_type="person")
    db.session.add_all([first, second])
    db.session.flush()
    assert first.number == f"KH{year}00001" and second.number == f"KH{year}00002"


def test_the_counter_restarts_when_the_prefix_changes(app):
    assert numbering.next_number(db.session, Customer, dt.date(2025, 12, 31)) == "KH202500001"
    assert numbering.next_number(db.session, Customer, dt.date(2025, 12, 31)) == "KH202500002"
    assert numbering.next_number(db.session, Customer, dt.date(2026, 1, 1)) == "KH202600001"


def test_a_number_typed_by_hand_is_kept_and_skipped_by_the_counter(app):
    year = dt.date.today().year
    db.session.add(Customer(name="手工", customer_type="org", number=f"KH{year}00001"))
    db.session.flush()
    auto = Customer(name="自动", customer_type="org")
    db.session.add(auto)
    db.session.flush()
    assert auto.number == f"KH{year}00002"


@pytest.mark.parametrize("spelling", ["kh", "Kh"])
def test_a_number_typed_by_hand_in_another_case_is_skipped_by_the_counter_too(app, spelling):
    year = dt.date.today().year
    db.session.add(Customer(name="手工", customer_type="org", number=f"{spelling}{year}00001"))
    db.session.flush()
    assert numbering.next_number(db.session, Customer) == f"KH{year}00002"


def test_the_pattern_is_configurable(app):
    app.config["CUSTOMER_NUMBER_PATTERN"] = "C-{seq:03d}"
    customer = Customer(name="丙", customer_type="org")
    db.session.add(customer)
    db.session.flush()
    assert customer.number == "C-001"
