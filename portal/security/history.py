"""Change history: every create, update and delete of an archive record keeps who, when,
from where (form, API, import batch, bulk action) and each field's old → new value.

It is written from the ORM flush, so every path that changes data through the session —
forms, the REST API, imports, bulk actions, commands — is recorded the same way.
"""
from __future__ import annotations

import datetime as dt

import sqlalchemy as sa
from sqlalchemy.orm import Session, attributes

from portal.context import change_source, current_user_id
from portal.fields import FieldType, fields_of
from portal.fields.plain import plain as _plain
from portal.models import (
    AfterSales, ChangeLog, CompetitorPresence, Contact, Customer, Promotion, PromotionTarget, PurchaseProject, Transaction,
    TransactionLine, Visit,
)

# Promotions too: their costs are what campaign cost vs response is measured by, so a changed
# budget must say who changed it and when (their entries belong to no one customer).
TRACKED = (Customer, Contact, Transaction, TransactionLine, AfterSales, Visit, Promotion, PromotionTarget,
           PurchaseProject, CompetitorPresence)
IGNORED_SECTIONS = {"system"}


def _label(obj) -> str | None:
    return None if obj is None else str(obj)


def _tracked_specs(model):
    return [s for s in fields_of(model).values() if s.section not in IGNORED_SECTIONS]


def _customer_id(obj) -> int | None:
    if isinstance(obj, Customer):
        return obj.id
    if isinstance(obj, TransactionLine):
        txn = obj.transaction
        return txn.customer_id if txn is not None else None
    return getattr(obj, "customer_id", None)


def _value_change(obj, spec, session: Session, new: bool, deleted: bool) -> dict | None:
    if spec.type == FieldType.RELATION_MANY:
        history = attributes.get_history(obj, spec.name)
        if deleted:
            old, now = [_label(o) for o in getattr(obj, spec.name)], []
        elif new:
            old, now = [], [_label(o) for o in getattr(obj, spec.name)]
        elif not history.has_changes():
            return None
        else:
            current = [_label(o) for o in getattr(obj, spec.name)]
            added = {_label(o) for o in history.added}
            removed = [_label(o) for o in history.deleted]
            old, now = [c for c in current if c not in added] + removed, current
        return None if old == now else {"old": old, "new": now}
    history = attributes.get_history(obj, spec.name)
    if deleted:
        old, now = getattr(obj, spec.name), None
    elif new:
        old, now = None, getattr(obj, spec.name)
    elif not history.has_changes():
        return None
    else:
        old = history.deleted[0] if history.deleted else None
        now = history.added[0] if history.added else getattr(obj, spec.name)
    if _plain(old) == _plain(now) or (old in (None, "") and now in (None, "")):
        return None
    change = {"old": _plain(old), "new": _plain(now)}
    if spec.type == FieldType.RELATION:
        related = getattr(type(obj), spec.relation).property.mapper.class_
        with session.no_autoflush:
            change["old_text"] = _label(session.get(related, old)) if old is not None else None
            change["new_text"] = _label(session.get(related, now)) if now is not None else None
    return change


def _entry(obj, action: str, session: Session, user_id, username, source,
           gone_customers: frozenset = frozenset()) -> dict | None:
    new, deleted = action == "create", action == "delete"
    changes = {}
    for spec in _tracked_specs(type(obj)):
        change = _value_change(obj, spec, session, new, deleted)
        if change is not None:
            changes[spec.name] = change
    if not changes and action == "update":
        return None
    customer_id = _customer_id(obj)
    if customer_id in gone_customers:
        customer_id = None  # the card is deleted in this flush: the entry cannot point at it
    return {"at": dt.datetime.now().replace(microsecond=0), "user_id": user_id, "username": username,
            "customer_id": customer_id, "object_type": type(obj).__name__, "object_id": obj.id,
            "action": action, "source": source, "changes": changes}


def _username(session: Session, user_id) -> str | None:
    if user_id is None:
        return None
    from flask_appbuilder.security.sqla.models import User

    with session.no_autoflush:
        user = session.get(User, user_id)
    return user.username if user is not None else None


def record_flush(session: Session, flush_context) -> None:
    """after_flush hook: the flushed objects still carry their attribute history here."""
    batches = (("create", session.new), ("update", session.dirty), ("delete", session.deleted))
    touched = [(action, obj) for action, objects in batches for obj in objects if isinstance(obj, TRACKED)]
    if not touched:
        return
    user_id = current_user_id()
    username, source = _username(session, user_id), change_source()
    gone = frozenset(obj.id for obj in session.deleted if isinstance(obj, Customer))
    rows = [row for action, obj in touched
            if (row := _entry(obj, action, session, user_id, username, source, gone)) is not None]
    if rows:
        session.connection().execute(sa.insert(ChangeLog.__table__), rows)


def refuse_log_rewrites(session: Session) -> None:
    """before_flush hook: the logs are append-only for the application too."""
    from portal.models import AccessLog

    for obj in list(session.dirty) + list(session.deleted):
        if isinstance(obj, (AccessLog, ChangeLog)) and (obj in session.deleted or session.is_modified(obj)):
            raise PermissionError(f"{type(obj).__name__} is append-only")


_installed = False


def install() -> None:
    """Register the flush hooks once per process."""
    global _installed
    if not _installed:
        sa.event.listen(Session, "before_flush", lambda s, ctx, inst: refuse_log_rewrites(s))
        sa.event.listen(Session, "after_flush", record_flush)
        _installed = True


def _display(spec, value, text):
    from portal.views.base import formatter_for  # how the card shows a value

    if text is not None:
        return text
    if isinstance(value, list):
        return "、".join(str(v) for v in value)
    if spec is None or value is None:
        return "" if value is None else str(value)
    shown = formatter_for(spec)(value)
    return "" if shown is None else str(shown)


def render_changes(entry: ChangeLog):
    """The entry's changes as 'label: old → new' lines in the card's order, labels from the
    registry and sensitive values masked for users without the right."""
    from markupsafe import Markup, escape

    from portal.fields import registry

    from .masking import can_see_sensitive, mask

    try:
        specs = fields_of(registry.model_for(entry.object_type))
    except KeyError:
        specs = {}
    # The card's order, whatever order the entry was written in (an import writes the file's)
    # and however the database keeps its keys; names the registry no longer knows come last.
    position = {name: i for i, name in enumerate(specs)}
    lines = []
    for name, change in sorted((entry.changes or {}).items(), key=lambda item: position.get(item[0], len(position))):
        spec = specs.get(name)
        label = spec.label if spec is not None else name
        old = _display(spec, change.get("old"), change.get("old_text"))
        new = _display(spec, change.get("new"), change.get("new_text"))
        if spec is not None and spec.sensitive and not can_see_sensitive():
            old, new = mask(spec, old) or "", mask(spec, new) or ""
        lines.append(escape(f"{label}: {old} → {new}"))
    return Markup("<br>").join(lines)
