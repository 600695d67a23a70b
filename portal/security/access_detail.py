"""An access-log entry's details as the auditor reads them.

Exports and refusals keep their details as JSON (portal/excel/limits.py: the filter, sort,
columns, withheld fields, format, row cap …), with the fields' internal names. Shown raw, an
auditor read ``{"filters": {"value_grade": "A|B"}, "withheld": ["bank_account"] …}``; here each
known key gets its label and each field its label from the registry (客户等级: A|B; 未导出: 银行账号).
Keys not known here are shown as they are, so nothing recorded is hidden from the auditor.
"""
from __future__ import annotations

import json

from flask_babel import lazy_gettext as _l
from markupsafe import Markup, escape

from portal.fields import registered_models
from portal.fields.registry import field_by_form_name

KEYS = {
    "kind": _l("Exported from"), "format": _l("Format"), "filters": _l("Filter"), "q": _l("Quick search"),
    "drill": _l("Drill-down"), "sort": _l("Sort"), "order": _l("Sort"), "columns": _l("Columns"),
    "withheld": _l("Withheld (the role may not export them)"), "export": _l("Refused because"),
    "rows": _l("Rows asked for"), "max_rows": _l("Row cap of the role"), "sheets": _l("Sheets"),
}
KINDS = {"grid": _l("Grid"), "list": _l("List"), "archive": _l("Whole archive"), "campaign": _l("Campaign list"),
         "analysis": _l("Analysis")}
REASONS = {"row_cap": _l("over the row cap"), "no_columns": _l("no column the role may export")}


def _model(name) -> type | None:
    return next((m for m in registered_models() if m.__name__ == name), None)


def _label(model, name) -> str:
    spec = field_by_form_name(model, str(name)) if model is not None else None
    return str(spec.label) if spec is not None else str(name)


def _choices(model, name, values) -> str:
    """Filter values as the user chose them: a choice's labels (B → B级), else as typed."""
    spec = field_by_form_name(model, str(name)) if model is not None else None
    if spec is not None and spec.choices:
        values = [spec.choice_label(v) or v for v in values]
    return "、".join(map(str, values))


def _sort(model, value) -> str:
    if isinstance(value, list):   # a list's [column, direction]
        value = ("-" if value[1:] == ["desc"] else "") + str(value[0]) if value else ""
    keys = [k.strip() for k in str(value or "").split(",") if k.strip()]
    return "，".join(f"{_label(model, k.lstrip('-'))} {'↓' if k.startswith('-') else '↑'}" for k in keys)


def _filters(model, value) -> str:
    if isinstance(value, dict):   # the grid's {field: "text" | "a..b" | "x|y"}
        return "；".join(f"{_label(model, k)}: {_choices(model, k, str(v).split('|'))}" for k, v in value.items())
    if isinstance(value, list):   # a list's [column, operator, values]
        return "；".join(f"{_label(model, f[0])} {f[1]} {_choices(model, f[0], f[2])}"
                        if isinstance(f, list) and len(f) == 3 and isinstance(f[2], list) else str(f) for f in value)
    return str(value)


def _value(model, key: str, value) -> str:
    if key == "kind":
        return str(KINDS.get(value, value))
    if key == "export":
        return str(REASONS.get(value, value))
    if key in ("sort", "order"):
        return _sort(model, value)
    if key == "filters":
        return _filters(model, value)
    if key in ("columns", "withheld") and isinstance(value, list):
        return "、".join(_label(model, v) for v in value)
    if key == "sheets" and isinstance(value, dict):
        return "、".join(f"{name} {count:,}" if isinstance(count, int) else f"{name} {count}"
                        for name, count in value.items())
    if isinstance(value, (dict, list)):
        return json.dumps(value, ensure_ascii=False, default=str)
    return str(value)


def lines(detail, object_type=None) -> list[tuple[str, str]]:
    """(label, text) of each recorded key with a value, known keys first; None when
    ``detail`` is not a JSON object (then it is shown as it is)."""
    try:
        data = json.loads(detail) if isinstance(detail, str) else None
    except ValueError:
        data = None
    if not isinstance(data, dict):
        return None
    model = _model(object_type)
    known = [k for k in KEYS if k in data]
    # "via" repeats "kind" but for the command line's archive (via "cli")
    rest = sorted(k for k in data if k not in KEYS and not (k == "via" and data[k] == data.get("kind")))
    shown = []
    for key in (*known, *rest):
        value = data[key]
        if value in (None, "", [], {}):
            continue
        shown.append((str(KEYS.get(key, key)), _value(model, key, value)))
    return shown


def render(entry) -> Markup:
    """The entry's details as lines of "label: text" (escaped), or its text as it is."""
    found = lines(entry.detail, entry.object_type)
    if found is None:
        return Markup(escape(entry.detail or ""))
    return Markup("<br>").join(Markup("<b>{}</b>: {}").format(label, text) for label, text in found)
