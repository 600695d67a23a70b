"""A Chinese number's kind is remembered by its length and first six national digits
(validation._national_kind): that must give what phonenumbers says of the whole number."""
from __future__ import annotations

import random

import phonenumbers
import pytest

from portal.fields import validation

AREAS = ("10", "20", "21", "22", "23", "24", "25", "27", "28", "29", "311", "351", "371", "411", "431", "451", "471",
         "510", "512", "531", "551", "571", "574", "591", "731", "755", "769", "851", "871", "898", "931", "991",
         "7391", "5951", "4412", "8335")


def _kind(national: str):
    return phonenumbers.number_type(phonenumbers.PhoneNumber(country_code=86, national_number=int(national)))


@pytest.mark.parametrize("seed", [1, 2])
def test_the_remembered_kind_is_the_numbers_own(seed):
    rng = random.Random(seed)
    for i in range(10_000):
        head = rng.choice(AREAS) if i % 2 else rng.choice("123456789")
        national = (head + "".join(rng.choice("0123456789") for _ in range(12)))[:rng.choice((9, 10, 11, 12))]
        digits = "0" + national
        assert validation._national_kind(len(digits), national[:validation._KIND_DIGITS]) == _kind(national), national


@pytest.mark.parametrize("typed, stored", [
    ("0571-88123456", "0571-88123456"), ("(010) 6552 9988", "010-65529988"), ("+86 755 8888 1234", "0755-88881234"),
])
def test_landlines_are_still_formatted_by_their_area_code(typed, stored):
    from portal.fields import fields_of
    from portal.models import Customer

    assert validation.clean(fields_of(Customer)["phone"], typed) == stored
