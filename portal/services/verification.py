"""档案审查: a card is verified by a person on a date (third-party data starts unverified)."""
from __future__ import annotations

import datetime as dt

from portal.context import current_user_id
from portal.models import Customer


def verify(customer: Customer, note: str | None = None, on: dt.date | None = None) -> None:
    """Stamp the card as checked by the acting user today."""
    customer.verified_by_id = current_user_id()
    customer.verified_on = on or dt.date.today()
    if note:
        customer.verification_note = note
