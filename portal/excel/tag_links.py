"""Many-to-many fields as an import writes them: a customer's tags are rows of ``customer_tag``
(the relationship's secondary table), read, inserted and deleted in bulk — a statement per
chunk of records, never an ORM collection per record.

Everything here reads the relationship (its secondary table, its two columns, its order), so
it serves any many-to-many field the registry describes (``FieldType.RELATION_MANY``).

A staged value is the list of the related ids, then ``new:<name>`` for a name the clerk chose
to add to the code table (created by ``commit.Codes.id_for``, which records it in the batch's
``added_codes`` for the undo). The change history holds such a field as the ORM hook writes it
(security/history.py): ``{"old": [labels…], "new": [labels…]}``.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Iterable

import sqlalchemy as sa
from sqlalchemy.orm import Session

from portal.fields import FieldSpec, FieldType, fields_of, registry
from portal.grid.lookups import label_of

from . import bulk
from .cells import NEW_CODE
from .mapping import CONTACT

CHUNK = 500


@dataclass(frozen=True)
class Links:
    """The link table of one many-to-many field."""

    spec: FieldSpec
    table: sa.Table
    owner: sa.Column      # the record's id (customer_tag.customer_id)
    other: sa.Column      # the related row's id (customer_tag.tag_id)
    related: type         # Tag
    order: tuple          # the related columns the card lists them by (Tag.sort_order)


_links: dict[tuple[type, str], Links] = {}


def many_specs(model) -> list[FieldSpec]:
    return [s for s in fields_of(model).values() if s.type == FieldType.RELATION_MANY]


def links_of(model, spec: FieldSpec) -> Links:
    found = _links.get((model, spec.name))
    if found is None:
        prop = getattr(model, spec.name).property
        found = _links[(model, spec.name)] = Links(
            spec, prop.secondary, prop.synchronize_pairs[0][1], prop.secondary_synchronize_pairs[0][1],
            prop.mapper.class_, tuple(prop.order_by or ()))
    return found


def current(session: Session, model, spec: FieldSpec, ids: Iterable[int]) -> dict[int, list[int]]:
    """Record id → the ids of its related rows, sorted (records without any are left out)."""
    links = links_of(model, spec)
    ids = sorted(set(ids))
    found: dict[int, list[int]] = {}
    for start in range(0, len(ids), CHUNK):
        query = (sa.select(links.owner, links.other).where(bulk.among(session, links.owner, ids[start:start + CHUNK]))
                 .order_by(links.owner, links.other))
        for owner, other in session.execute(query):
            found.setdefault(owner, []).append(other)
    return found


def labels(session: Session, model, spec: FieldSpec, ids: Iterable[int]) -> dict[int, tuple[tuple, str]]:
    """Related id → (its place in the card's order, its label), for the rows that exist."""
    links = links_of(model, spec)
    related, ids = links.related, sorted(set(ids))
    found = {}
    with session.no_autoflush:
        for start in range(0, len(ids), CHUNK):
            for row in session.scalars(sa.select(related).where(related.id.in_(ids[start:start + CHUNK]))):
                found[row.id] = (tuple(getattr(row, c.key, None) or 0 for c in links.order) + (row.id,),
                                 label_of(row))
    return found


def _ordered(known: dict, ids: Iterable[int]) -> list[str]:
    return [known[pk][1] for pk in sorted((pk for pk in ids if pk in known), key=lambda pk: known[pk][0])]


def _resolve(writer, spec: FieldSpec, value) -> list[int]:
    """A staged value as related ids: the names to add created (once each) in the code table."""
    ids = [writer.codes.id_for(writer.model, spec, v[len(NEW_CODE):]) if isinstance(v, str) else v
           for v in value or ()]
    return list(dict.fromkeys(pk for pk in ids if pk is not None))


def _insert(session: Session, links: Links, pairs: list[tuple[int, int]]) -> None:
    for start in range(0, len(pairs), bulk.CHUNK):
        bulk.executemany(session, links.table, [{links.owner.name: owner, links.other.name: other}
                                                for owner, other in pairs[start:start + bulk.CHUNK]])


def _delete(session: Session, links: Links, pairs: list[tuple[int, int]]) -> None:
    if not pairs:
        return
    statement = sa.delete(links.table).where(links.owner == sa.bindparam("owner_id"),
                                             links.other == sa.bindparam("other_id"))
    session.connection().execute(statement, [{"owner_id": owner, "other_id": other} for owner, other in pairs])


def replace(session: Session, model, spec: FieldSpec, wanted: dict[int, list[int]]) -> None:
    """Make each record's links exactly ``wanted`` (record id → related ids): the missing
    ones inserted, the others deleted. Ids of related rows that no longer exist are ignored
    (a tag removed from the list since)."""
    if not wanted:
        return
    links = links_of(model, spec)
    existing = set(labels(session, model, spec, {pk for ids in wanted.values() for pk in ids}))
    now = current(session, model, spec, wanted)
    removed, added = [], []
    for owner, ids in wanted.items():
        keep = {pk for pk in ids if pk in existing}
        before = set(now.get(owner, ()))
        removed.extend((owner, pk) for pk in sorted(before - keep))
        added.extend((owner, pk) for pk in sorted(keep - before))
    _delete(session, links, removed)
    _insert(session, links, added)


def create(writer, rows, ids: list[int], changes: list[dict]) -> None:
    """The links of the records an import just created (``rows``: their staged rows, ``ids``:
    the new records' ids, in the same order), and each one's tags in its creation entry
    (``changes``, one dict per record, filled in)."""
    model, session = writer.model, writer.session
    for spec in many_specs(model):
        given = [(i, pk, _resolve(writer, spec, r["values"].get(spec.name)))
                 for i, (r, pk) in enumerate(zip(rows, ids)) if r["values"].get(spec.name)]
        if not given:
            continue
        _insert(session, links_of(model, spec), [(pk, other) for _, pk, others in given for other in others])
        known = labels(session, model, spec, {other for _, _, others in given for other in others})
        for i, _, others in given:
            changes[i][spec.name] = {"old": [], "new": _ordered(known, others)}


def update(writer, rows) -> None:
    """The links of the records an import updates (``rows``: their staged rows). A record
    whose row changes nothing but links has its version bumped here (checked against the one
    the preview saw, as every update is), so that the undo and stale edits see the change;
    its history entry is the commit's, from the row's diff."""
    model, session = writer.model, writer.session
    keys = {spec.name: spec for spec in many_specs(model)}
    touched = [r for r in rows if keys.keys() & (r["values"] or {}).keys()]
    if not touched:
        return
    for name, spec in keys.items():
        replace(session, model, spec, {r["target_id"]: _resolve(writer, spec, r["values"][name])
                                       for r in touched if name in r["values"]})
    only_links = [(r["target_id"], r["target_version"], {}) for r in touched
                  if not any(k not in keys and not k.startswith(("_", CONTACT)) for k in r["values"])]
    if only_links:
        bulk.update(session, model, only_links, writer.who.user_id)


def removal_changes(session: Session, model, ids: list[int]) -> dict[int, dict]:
    """Record id → the history's changes of deleting it, for its many-to-many fields
    (``{"tags": {"old": [labels…], "new": []}}``)."""
    found: dict[int, dict] = {}
    for spec in many_specs(model):
        now = current(session, model, spec, ids)
        known = labels(session, model, spec, {pk for linked in now.values() for pk in linked})
        for owner, linked in now.items():
            found.setdefault(owner, {})[spec.name] = {"old": _ordered(known, linked), "new": []}
    return found


def still_linked(session: Session, related, ids: list[int]) -> set[int]:
    """Those of ``ids`` (rows of ``related``) some many-to-many link points at. Their links
    would go with them (ON DELETE CASCADE), so a code-table row an undo would remove stays."""
    used: set[int] = set()
    for model in registry.registered_models():
        for spec in many_specs(model):
            links = links_of(model, spec)
            if links.related is not related:
                continue
            for start in range(0, len(ids), CHUNK):
                query = sa.select(links.other).where(links.other.in_(ids[start:start + CHUNK])).distinct()
                used.update(session.scalars(query))
    return used
