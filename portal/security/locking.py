"""Optimistic locking: an edit carries the version the user saw; a stale one is refused
with a message naming who changed the record and when. Nothing is silently overwritten."""
from __future__ import annotations

from flask_babel import format_datetime, lazy_gettext as _l
from sqlalchemy.orm import attributes


class StaleEdit(Exception):
    """The record changed since the user loaded it; ``message`` says by whom and when."""

    def __init__(self, item, seen_version):
        who = item.changed_by.get_full_name() if getattr(item, "changed_by", None) else str(_l("someone"))
        when = format_datetime(item.changed_on, "yyyy-MM-dd HH:mm") if getattr(item, "changed_on", None) else ""
        self.current_version = committed_version(item)
        self.who, self.when, self.seen_version = who, when, seen_version
        self.message = str(_l(
            "%(who)s changed this record at %(when)s after you opened it; your changes were not saved. "
            "Reload it to see their changes, then edit again.", who=who, when=when))
        super().__init__(self.message)


class VersionMissing(Exception):
    def __init__(self):
        self.message = str(_l("Say which version of the record you edited (field version)."))
        super().__init__(self.message)


def committed_version(item) -> int:
    history = attributes.get_history(item, "version")
    if history.deleted:
        return history.deleted[0]
    return item.version


def check(item, seen_version) -> None:
    """Raise :class:`StaleEdit` unless ``seen_version`` is the record's stored version. (The
    ORM's version counter then refuses any edit that races in between.)"""
    if seen_version in (None, ""):
        raise VersionMissing()
    current = committed_version(item)
    try:
        seen = int(seen_version)
    except (TypeError, ValueError):
        raise VersionMissing() from None
    if seen != current:
        raise StaleEdit(item, seen)
