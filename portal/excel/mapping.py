"""Which field a column of an uploaded sheet goes to: the fields an import may fill (from the
registry: what the user may write, the first contact's fields for a customer sheet, custom
fields), headers matched by the registry's labels and aliases, and the match keys.

A header matches when it equals a field's Chinese or English label, its name or one of its
aliases once case, spacing, punctuation, a trailing "required" star and a bracketed
(必填) / （选填） / (required) / (optional) are ignored: ``客户 名称*``, ``客户名称：``,
``客户名称（必填）`` and ``Customer name`` all find 客户名称. On a customer sheet the
first contact's fields are the contact's labels prefixed with 联系人 (``联系人手机``), as the
import template writes them. A grouped column of a two-row header (``基本信息 / 客户名称``,
:mod:`.headers`) matches as its two names read together, else, outside the contact's group,
as its lower name.
"""
from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

from flask_babel import lazy_gettext as _l

from portal.fields import FieldSpec, fields_of
from portal.models import Contact, Customer, Transaction, Visit

from .headers import grouped_name, header_unit

CONTACT = "contact."
CUSTOM = "custom:"
CONTACT_PREFIXES = ("联系人", "contact")
# Customers keep custom field values in a JSON column; a column "kept into a custom field"
# lands there under its header.
CUSTOM_FIELD_COLUMN = "custom_fields"

_NOT_WORD = re.compile(r"[^0-9a-z\u3400-\u9fff]+")
# What a form's header adds to say whether the column must be filled: 客户名称（必填）,
# 手机号码(选填), Name (required). (After NFKC: full-width brackets are half-width.)
_FILL_MARK = re.compile(r"[(\[【]\s*(?:必填|必填项|选填|非必填|可选|required|optional)\s*[)\]】]")


def normalise(header) -> str:
    """A header reduced to what identifies it: full-width as half-width, lower case, without
    spaces, punctuation, the star that marks a required column or a bracketed (必填) / (选填) /
    (required) / (optional)."""
    text = unicodedata.normalize("NFKC", str(header or "")).casefold()
    if "(" in text or "[" in text or "【" in text:
        text = _FILL_MARK.sub("", text)
    return _NOT_WORD.sub("", text)


_CONTACT_GROUPS = {normalise(prefix) for prefix in CONTACT_PREFIXES}


@dataclass(frozen=True)
class Target:
    """Something a column can be mapped to: a field of the sheet's model, a field of a
    customer's first contact (``contact.<name>``) or a custom field (``custom:<header>``)."""

    key: str
    label: str
    model: type
    spec: FieldSpec | None = None

    @property
    def is_contact(self) -> bool:
        return self.key.startswith(CONTACT)

    @property
    def is_custom(self) -> bool:
        return self.key.startswith(CUSTOM)

    @property
    def name(self) -> str:
        """The attribute on the model (the column for a relation)."""
        return self.spec.name if self.spec is not None else self.key


@dataclass(frozen=True)
class MatchKey:
    key: str            # "number", "name+mobile"
    fields: tuple[str, ...]
    label: str


def importable(spec: FieldSpec, sees_sensitive: bool) -> bool:
    """Fields an import may fill: not set by the system, not masked for this user. A
    many-to-many field (a customer's tags) is one too: its cell lists names (``VIP、待核实``)
    and the commit writes its links (portal/excel/tag_links.py)."""
    if spec.readonly or spec.section == "system":
        return False
    return sees_sensitive or not spec.sensitive


def targets(model, *, sees_sensitive: bool) -> dict[str, Target]:
    """Key → target of every field a sheet of ``model`` may fill, in the card's order."""
    found = {spec.name: Target(spec.name, spec.label, model, spec)
             for spec in fields_of(model).values() if importable(spec, sees_sensitive)}
    if model is Customer:
        for spec in fields_of(Contact).values():
            if importable(spec, sees_sensitive) and spec.name != "customer_id":
                key = CONTACT + spec.name
                # One msgid, so that Chinese gets its own colon (联系人：姓名), not "联系人: 姓名".
                found[key] = Target(key, str(_l("Contact: %(field)s", field=spec.label)), Contact, spec)
    return found


def custom_target(model, header: str) -> Target | None:
    """The target keeping a column into a custom field named after its header."""
    if CUSTOM_FIELD_COLUMN not in model.__table__.c or not str(header or "").strip():
        return None
    name = str(header).strip()[:100]
    return Target(CUSTOM + name, name, model)


def resolve(model, key: str, *, sees_sensitive: bool, header: str = "") -> Target | None:
    """The target named ``key`` (as a mapping stores it), or None when there is none the user may fill."""
    if key.startswith(CUSTOM):
        return custom_target(model, key[len(CUSTOM):] or header)
    return targets(model, sees_sensitive=sees_sensitive).get(key)


def _header_index(model, sees_sensitive: bool) -> dict[str, str]:
    """Normalised header text → target key. The sheet's own fields win over the contact's."""
    index: dict[str, str] = {}
    found = targets(model, sees_sensitive=sees_sensitive)
    for target in found.values():
        if target.is_contact:
            continue
        for header in target.spec.headers:
            index.setdefault(normalise(header), target.key)
    for target in found.values():
        if not target.is_contact:
            continue
        for header in target.spec.headers:
            for prefix in CONTACT_PREFIXES:
                index.setdefault(normalise(prefix + header), target.key)
    if model is Customer and CONTACT + "name" in found:
        for header in ("联系人", "联系人姓名", "contact", "contact name"):
            index.setdefault(normalise(header), CONTACT + "name")
    return index


def suggest(model, headers: list, *, sees_sensitive: bool, saved: dict | None = None) -> dict[str, str | None]:
    """Column index (as text) → target key for each header recognised; ``saved`` (header →
    key, from a saved mapping) is tried first. A field is suggested for one column only."""
    index = _header_index(model, sees_sensitive)
    saved = {normalise(h): k for h, k in (saved or {}).items()}
    mapping, used = {}, set()
    for column, header in enumerate(headers):
        norm = normalise(header)
        key = saved.get(norm) if norm in saved else _suggested(index, header)
        if key and key in used:
            key = None
        if key and not key.startswith(CUSTOM) and resolve(model, key, sees_sensitive=sees_sensitive) is None:
            key = None
        mapping[str(column)] = key
        if key:
            used.add(key)
    return mapping


def _suggested(index: dict[str, str], header) -> str | None:
    """The key a header names: whole, by its lower name, or without its unit (注册资本(万元))."""
    key = index.get(normalise(header)) or index.get(_lower_name(header))
    if key is None and (unit := header_unit(header)) is not None:
        key = index.get(normalise(unit[0])) or index.get(_lower_name(unit[0]))
    return key


def _lower_name(header) -> str | None:
    """A grouped header's lower name, normalised, where the pair names no field (基本信息 /
    客户名称); not under 联系人, whose names are the contact's and not the customer's."""
    grouped = grouped_name(header)
    if grouped is None or normalise(grouped[0]) in _CONTACT_GROUPS:
        return None
    return normalise(grouped[1])


def recognises(model, *, sees_sensitive: bool = True):
    """A predicate telling whether a header text names a field (for finding the header row)."""
    index = _header_index(model, sees_sensitive)
    return lambda text: normalise(text) in index


MATCH_KEYS: dict[type, tuple[MatchKey, ...]] = {
    Customer: (
        MatchKey("number", ("number",), _l("Customer number")),
        MatchKey("name+mobile", ("name", "mobile"), _l("Name and mobile")),
        MatchKey("email", ("email",), _l("E-mail")),
        MatchKey("credit_code", ("credit_code",), _l("Unified social credit code")),
        MatchKey("id_number", ("id_number",), _l("ID card number")),
    ),
    Contact: (
        MatchKey("customer_id+name", ("customer_id", "name"), _l("Customer and name")),
        MatchKey("mobile", ("mobile",), _l("Mobile")),
        MatchKey("email", ("email",), _l("E-mail")),
    ),
    Transaction: (MatchKey("number", ("number",), _l("Transaction number")),),
    Visit: (),
}


def match_keys(model, *, sees_sensitive: bool) -> tuple[MatchKey, ...]:
    specs = fields_of(model)
    return tuple(k for k in MATCH_KEYS.get(model, ())
                 if all(importable(specs[f], sees_sensitive) for f in k.fields))


def match_key(model, fields, *, sees_sensitive: bool) -> MatchKey | None:
    wanted = tuple(fields or ())
    for key in match_keys(model, sees_sensitive=sees_sensitive):
        if key.fields == wanted or key.key == "+".join(wanted):
            return key
    return None
