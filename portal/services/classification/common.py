"""What the classifications share: the period, parameter checking, money in cents."""
from __future__ import annotations

import calendar
import datetime as dt
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation

from flask_babel import lazy_gettext as _l

CENT = Decimal("0.01")


class ClassificationError(ValueError):
    """A parameter the rules cannot use; the message is in the user's language."""

    def __init__(self, message):
        super().__init__(str(message))
        self.message = message


def months_before(day: dt.date, months: int) -> dt.date:
    """The same day ``months`` calendar months earlier (the 31st becomes the month's last day)."""
    month0 = day.year * 12 + day.month - 1 - months
    year, month = divmod(month0, 12)
    month += 1
    return dt.date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


def window_start(end: dt.date, months: int = 12) -> dt.date:
    """First day of the ``months`` months ending on ``end`` (inclusive): 2024-12-31 → 2024-01-01,
    2025-03-15 → 2024-03-16."""
    return months_before(end, months) + dt.timedelta(days=1)


@dataclass(frozen=True)
class Period:
    """Transactions dated ``start`` … ``end``, both included."""

    start: dt.date
    end: dt.date

    @classmethod
    def of(cls, start: dt.date | None = None, end: dt.date | None = None, today: dt.date | None = None) -> "Period":
        """A period from optional bounds: the end defaults to today, the start to the 12 months
        ending on the end."""
        end = end or today or dt.date.today()
        start = start or window_start(end, 12)
        if start > end:
            raise ClassificationError(_l("The period starts after it ends."))
        return cls(start, end)

    def as_dict(self) -> dict:
        return {"from": self.start.isoformat(), "to": self.end.isoformat()}


def parse_date(value, label="date") -> dt.date | None:
    """A date from ``YYYY-MM-DD`` (None or '' → None); anything else is refused."""
    if value is None or value == "":
        return None
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    try:
        return dt.date.fromisoformat(str(value).strip())
    except ValueError:
        raise ClassificationError(_l("%(value)s is not a date (YYYY-MM-DD).", value=str(value)[:40])) from None


def parse_share(value, default: Decimal) -> Decimal:
    """A share between 0 and 1 from 0.7, '0.7' or '70%'."""
    if value is None or value == "":
        return default
    text = str(value).strip()
    try:
        share = Decimal(text[:-1]) / 100 if text.endswith("%") else Decimal(text)
    except InvalidOperation:
        raise ClassificationError(_l("%(value)s is not a share (for example 0.7 or 70%%).", value=text[:40])) from None
    if not (0 <= share <= 1):
        raise ClassificationError(_l("A share must be between 0 and 1 (0%% and 100%%)."))
    return share


def parse_threshold(value):
    """'median' (the default) or a number."""
    if value is None or value == "" or str(value).strip().lower() == "median":
        return "median"
    try:
        return Decimal(str(value).strip())
    except InvalidOperation:
        raise ClassificationError(_l("%(value)s is neither a number nor \"median\".", value=str(value)[:40])) from None


def parse_int(value, default: int, low: int, high: int) -> int:
    if value is None or value == "":
        return default
    try:
        number = int(str(value).strip())
    except ValueError:
        raise ClassificationError(_l("%(value)s is not a whole number.", value=str(value)[:40])) from None
    if not (low <= number <= high):
        raise ClassificationError(_l("%(value)s is outside %(low)s–%(high)s.", value=number, low=low, high=high))
    return number


def money(value) -> Decimal:
    """A sum from the database as exact cents (SQLite sums NUMERIC as floating point)."""
    if value is None:
        return Decimal("0.00")
    if isinstance(value, float):
        value = Decimal(repr(value))
    return Decimal(value).quantize(CENT)


def median(values: list[Decimal]) -> Decimal | None:
    """The middle value (the mean of the two middle ones for an even count); None when empty."""
    if not values:
        return None
    ordered = sorted(values)
    n = len(ordered)
    if n % 2:
        return ordered[n // 2]
    return (ordered[n // 2 - 1] + ordered[n // 2]) / 2
