"""Field masking: sensitive fields (the registry's ``sensitive=True``: ID and card numbers,
credit limit and rating, income, whereabouts …) are shown masked to users without the
``see_sensitive`` right, on every path, and those users cannot change them."""
from __future__ import annotations

import datetime as dt
from typing import Any

from flask import has_request_context

from portal.fields import FieldSpec, FieldType

from .permissions import SENSITIVE_VIEW, current_user, has

MASK = "****"


def can_see_sensitive(user=None) -> bool:
    """Outside a request (commands, seeds) everything is visible."""
    if user is None:
        if not has_request_context():
            return True
        user = current_user()
    return has(user, "see_sensitive", SENSITIVE_VIEW)


def mask(spec: FieldSpec, value: Any) -> str | None:
    """What a user without the right sees instead of ``value`` (None stays empty)."""
    if value is None or value == "":
        return None
    text = str(value)
    if spec.type == FieldType.CARD_NUMBER and len(text) > 8:
        return f"{text[:4]} **** **** {text[-4:]}"
    if spec.type == FieldType.ID_NUMBER and len(text) > 10:
        return f"{text[:6]}********{text[-4:]}"
    if spec.type in (FieldType.MOBILE, FieldType.PHONE) and len(text) > 7:
        return f"{text[:3]}****{text[-4:]}"
    if isinstance(value, (dt.date, dt.datetime)):
        return "****-**-**"
    return MASK


def shown(spec: FieldSpec, value: Any, user=None) -> Any:
    """``value`` as this user may see it."""
    if not spec.sensitive or can_see_sensitive(user):
        return value
    return mask(spec, value)
