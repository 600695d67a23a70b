"""How much a user may take out of the archive in one export, and the log of every export.

Every export — the grid's current view, a generated list, the whole archive, a campaign list —
asks :func:`rules_for` for the user's :class:`ExportRules` before it writes, and records what it
wrote with :func:`log_export` (who, when, which records, the filter, the columns, the row count)
or what it refused with :func:`log_refusal`.

The rules are data: the section ``"export_limits"`` of seeds/roles.json, read again whenever
the file changes (no restart), one entry per role::

    "Salesperson": {"max_rows": 2000, "fields": {"exclude": ["sensitive", "section:credit"]}},
    "Marketing":   {"max_rows": 50000, "fields": {"only": {"Customer": ["number", "name", "section:contact"]}}}

* ``max_rows``: an export that would hold more rows is refused, with a message giving the cap
  and asking to narrow the filter. It is never cut short silently: a file that looks complete
  but is not is worse than none.
* ``fields.exclude``: fields left out of every export, as field names (``credit_limit``; the
  relation's name works too: ``owner``), ``section:<key>`` for a whole section of the card,
  ``sensitive`` for every field the registry marks sensitive; ``Customer.credit_limit`` or
  ``Customer.section:credit`` for one model only.
* ``fields.only``: per model, the only fields that may go out (same tokens); models not named
  keep all their fields (less any excluded).

A role without an entry has no limit. A user with several roles gets the most generous of
them — the highest cap (none beats any), and a field may go out if any of the roles lets it —
as Flask-AppBuilder does with permissions (a user has the union of the roles' rights): giving
someone a second role never takes a right away. Admin has no limit. Whatever the roles say, no
export holds more than ``EXPORT_MAX_ROWS`` (config, default 1,000,000) rows.
"""
from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterable, Iterator, Sequence

from flask import current_app, has_app_context
from flask_babel import lazy_gettext as _l

from portal.fields import FieldSpec
from portal.security import access_log
from portal.security.permissions import current_user
from portal.seeds.roles import ROLES_FILE

SECTION = "export_limits"
DEFAULT_MAX_ROWS = 1_000_000
SENSITIVE = "sensitive"


class ExportRefused(Exception):
    """An export the user may not take; ``message`` says why, in the user's language."""

    def __init__(self, message, *, reason: str, **detail):
        super().__init__(str(message))
        self.message = message
        self.reason = reason
        self.detail = detail


def system_max_rows() -> int:
    if has_app_context():
        return int(current_app.config.get("EXPORT_MAX_ROWS", DEFAULT_MAX_ROWS))
    return DEFAULT_MAX_ROWS


@dataclass(frozen=True)
class _FieldRule:
    """One role's fields: ``only`` per model name (None: every field) and ``exclude``."""

    only: dict[str, tuple[str, ...]] = field(default_factory=dict)
    exclude: tuple[str, ...] = ()

    def allows(self, model, spec: FieldSpec) -> bool:
        name = model.__name__
        if any(_matches(token, name, spec) for token in self.exclude):
            return False
        if name in self.only:
            return any(_matches(token, name, spec) for token in self.only[name])
        return True


def _matches(token: str, model_name: str, spec: FieldSpec) -> bool:
    if "." in token:
        owner, token = token.split(".", 1)
        if owner != model_name:
            return False
    if token == SENSITIVE:
        return spec.sensitive
    if token.startswith("section:"):
        return spec.section == token[len("section:"):]
    return token in (spec.name, spec.form_name)


@dataclass(frozen=True)
class ExportRules:
    """What one user may export. ``max_rows`` None: up to the system's maximum;
    ``field_rules`` empty: every field (the union of the rules of the user's roles)."""

    max_rows: int | None = None
    field_rules: tuple[_FieldRule, ...] = ()
    roles: tuple[str, ...] = ()

    @property
    def cap(self) -> int:
        """The most rows one export may hold."""
        system = system_max_rows()
        return system if self.max_rows is None else min(self.max_rows, system)

    @property
    def capped_by_role(self) -> bool:
        return self.max_rows is not None and self.max_rows < system_max_rows()

    def allows(self, model, spec: FieldSpec) -> bool:
        return not self.field_rules or any(rule.allows(model, spec) for rule in self.field_rules)

    def split(self, model, specs: Iterable[FieldSpec]) -> tuple[list[FieldSpec], list[FieldSpec]]:
        """(the fields that may go out, those withheld), each in the order given."""
        kept, withheld = [], []
        for spec in specs:
            (kept if self.allows(model, spec) else withheld).append(spec)
        return kept, withheld

    def fields(self, model, specs: Iterable[FieldSpec]) -> list[FieldSpec]:
        """The fields that may go out; refused when none of them may."""
        kept, withheld = self.split(model, specs)
        if not kept:
            raise ExportRefused(_l("Your role may not export any of these columns."), reason="no_columns",
                                withheld=[s.form_name for s in withheld])
        return kept

    def check_count(self, count: int) -> None:
        """Refuse an export of ``count`` rows if it is over the cap."""
        if count > self.cap:
            raise ExportRefused(over_cap_message(self.cap, count), reason="row_cap", rows=count, max_rows=self.cap)

    def capped(self, rows: Iterable[Sequence]) -> Iterator[Sequence]:
        """``rows`` passed on, refused (raising ExportRefused) as soon as one more than the cap
        comes — for sources that were not counted first, or that grew since."""
        cap = self.cap
        for number, row in enumerate(rows, 1):
            if number > cap:
                raise ExportRefused(over_cap_message(cap), reason="row_cap", rows=f">{cap}", max_rows=cap)
            yield row


def over_cap_message(cap: int, count: int | None = None):
    if count is None:
        return _l("This export would hold more than %(cap)s rows, the most your role may export at once. "
                  "Narrow the filter and export again.", cap=f"{cap:,}")
    return _l("This export would hold %(count)s rows; your role may export at most %(cap)s at once. "
              "Narrow the filter and export again.", count=f"{count:,}", cap=f"{cap:,}")


# --- the rules as data ---------------------------------------------------------------------

_cache: dict[Path, tuple[float, dict]] = {}


def limits_data(path: Path = ROLES_FILE) -> dict:
    """The ``export_limits`` section of roles.json (re-read when the file changes)."""
    try:
        mtime = path.stat().st_mtime
    except OSError:
        return {}
    cached = _cache.get(path)
    if cached is None or cached[0] != mtime:
        data = json.loads(path.read_text(encoding="utf-8")).get(SECTION, {})
        _cache[path] = cached = (mtime, {k: v for k, v in data.items() if not k.startswith("_")})
    return cached[1]


def role_rules(entry: dict) -> tuple[int | None, _FieldRule | None]:
    """(max_rows, field rule or None for every field) of one role's entry."""
    max_rows = entry.get("max_rows")
    if max_rows is not None and (not isinstance(max_rows, int) or isinstance(max_rows, bool) or max_rows < 0):
        raise ValueError(f"roles.json {SECTION}: max_rows must be a whole number, not {max_rows!r}")
    fields = entry.get("fields") or {}
    only = fields.get("only") or {}
    exclude = fields.get("exclude") or []
    if not isinstance(only, dict) or not isinstance(exclude, list):
        raise ValueError(f"roles.json {SECTION}: fields.only maps models to lists; fields.exclude is a list")
    if not only and not exclude:
        return max_rows, None
    return max_rows, _FieldRule(only={m: tuple(v) for m, v in only.items()}, exclude=tuple(exclude))


def rules_for(user=None, data: dict | None = None) -> ExportRules:
    """The export rules of ``user`` (default: the request's user; outside a request, none)."""
    user = user if user is not None else current_user()
    if user is None:
        return ExportRules()
    names = tuple(sorted(role.name for role in user.roles))
    if "Admin" in names:
        return ExportRules(roles=names)
    if not names:
        return ExportRules(max_rows=0, roles=names)
    data = limits_data() if data is None else data
    caps, rules = [], []
    for name in names:
        if name not in data:
            return ExportRules(roles=names)   # a role with no limit: the most generous wins
        max_rows, rule = role_rules(data[name])
        caps.append(max_rows)
        if rule is None:
            rules = None
        elif rules is not None:
            rules.append(rule)
    max_rows = None if any(c is None for c in caps) else max(caps)
    return ExportRules(max_rows=max_rows, field_rules=tuple(rules or ()), roles=names)


# --- the log -------------------------------------------------------------------------------

def log_export(kind: str, object_type: str | None, row_count: int, *, filters=None, columns=None,
               withheld=None, **detail) -> None:
    """One export in the access log: ``kind`` (grid, list, archive, campaign …), the records'
    type, the rows written, the filter that chose them and the columns written (and withheld)."""
    entry = {"kind": kind, "via": kind, "filters": filters or {}, **detail}
    if columns is not None:
        entry["columns"] = list(columns)
    if withheld:
        entry["withheld"] = list(withheld)
    access_log.record("export", object_type, row_count=row_count, detail=entry)


def log_refusal(kind: str, object_type: str | None, refused: ExportRefused, *, filters=None, **detail) -> None:
    """A refused export in the access log (action ``denied``), with the reason and the figures."""
    access_log.record("denied", object_type, detail={
        "kind": kind, "via": kind, "export": refused.reason, "filters": filters or {}, **refused.detail, **detail})
