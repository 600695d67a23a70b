"""A field's value as JSON: dates as ISO text, decimals as exact text (the change history
and the grid's record of a batch keep values this way)."""
from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any


def plain(value: Any) -> Any:
    if isinstance(value, (dt.date, dt.datetime)):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    return value
