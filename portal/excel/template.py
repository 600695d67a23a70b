"""Import templates (导入模板): an .xlsx per model whose columns are the fields an import
takes, said once in the field registry — so a clerk starts from a sheet the import reads
without any mapping.

* headers are the fields' labels; the header of a field the import needs for a new record
  (a required field without a column default: not 客户类型, which defaults to 企业) ends with
  ``*`` (客户名称*) and is red and bold — the import's mapper strips a trailing ``*`` / ``＊``
  before matching;
* each header carries a comment saying what goes in: the type's format (日期，如 2024-03-02;
  11位手机号; 是/否), the choices, the field's help text, its length and range limits;
* choice and yes/no columns get a drop-down (data validation) of their labels; relations to a
  short list (code tables, products, teams, users) get one of the active names, kept on a
  hidden sheet named in the user's language, 选项 / Options (Excel's inline lists hold only
  255 characters);
* row 2 is an example row (grey, italic; real dates, phones as text) to type over or delete;
* identifier columns (phones, postcodes, ID and card numbers) are formatted as text, so a
  typed 13812345678 stays text and a 19-digit card number is not rounded; date columns as
  dates; the header row is frozen.

With ``include_contact`` the customer template also holds its first contact's columns, each
header the contact field's label after "联系人" ("Contact " in English): 联系人姓名,
联系人手机 … (:func:`contact_header`), which the mapper reads as ``contact.<field>``.
"""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal

import sqlalchemy as sa
import xlsxwriter
from flask_babel import gettext as _
from sqlalchemy.orm import Session

from portal.fields import FieldSpec, FieldType, fields_of
from portal.fields.spec import IDENTIFIER_TYPES
from portal.i18n import pick
from portal.security import scope

from .export import ExportColumn, column_width, neutralise, sanitise_sheet_name
from .records import label_of, related_model

TEMPLATE_ROWS = 1000          # rows the drop-downs and checks cover below the header
MAX_LIST = 1000               # a relation with more choosable rows gets no drop-down
OPTIONS_SHEET = "选项"          # the hidden lists' sheet in Chinese; options_sheet() names it in the user's language
CONTACT_PREFIX_ZH, CONTACT_PREFIX_EN = "联系人", "Contact "
REQUIRED_MARK = "*"
_INLINE_LIST_CHARS = 255      # Excel's limit for a list typed into the validation itself

EXAMPLE_DATE = dt.date(2024, 3, 2)
EXAMPLES: dict[FieldType, object] = {
    FieldType.MOBILE: "13812345678", FieldType.PHONE: "0571-88886666", FieldType.EMAIL: "name@example.com",
    FieldType.URL: "https://www.example.com", FieldType.POSTCODE: "310000",
    FieldType.ID_NUMBER: "11010519491231002X", FieldType.CARD_NUMBER: "6222021234567890123",
    FieldType.DATE: EXAMPLE_DATE, FieldType.DATETIME: dt.datetime(2024, 3, 2, 14, 30),
    FieldType.DECIMAL: Decimal("1.5"), FieldType.MONEY: Decimal("12800.00"),
}
# Plausible text for a few common fields (data, not labels: the same in either language).
TEXT_EXAMPLES = {
    ("Customer", "name"): "杭州华信贸易有限公司", ("Customer", "city"): "杭州市", ("Customer", "district"): "西湖区",
    ("Customer", "street"): "文三路100号", ("Contact", "name"): "王建国", ("Contact", "position"): "采购经理",
    ("Contact", "department"): "采购部", ("Visit", "purpose"): "回访", ("Transaction", "number"): "",
}


@dataclass(frozen=True)
class TemplateColumn:
    """One column of a template: its header text and the field it stands for
    (``name`` on the model, ``contact.name`` for the first contact's)."""

    header: str
    key: str
    spec: FieldSpec
    required: bool


def contact_header(spec: FieldSpec) -> str:
    """The header of a contact field in the customer template: 联系人 + its label."""
    return pick(CONTACT_PREFIX_ZH, CONTACT_PREFIX_EN) + spec.label


def importable_specs(model, *, sees_sensitive: bool = True) -> list[FieldSpec]:
    """The fields an import may fill, as the import itself decides (portal/excel/mapping.py)."""
    from .mapping import importable

    return [s for s in fields_of(model).values() if importable(s, sees_sensitive)]


def options_sheet() -> str:
    """The name of the hidden sheet of the drop-downs' lists, in the user's language."""
    return sanitise_sheet_name(_("Options"))


def template_columns(model, *, sees_sensitive: bool = True, include_contact: bool = False) -> list[TemplateColumn]:
    """The columns of ``model``'s template, in the registry's order (then the contact's).
    ``required``: the import needs the field for a new record (importer.required_fields: a
    required field whose column has a default, such as 客户类型, is not)."""
    from .importer import required_fields

    needed = {s.name for s in required_fields(model)}
    columns = [TemplateColumn(_header(s.label, s.name in needed), s.name, s, s.name in needed)
               for s in importable_specs(model, sees_sensitive=sees_sensitive)]
    if include_contact:
        from portal.models import Contact, Customer

        if model is not Customer:
            raise ValueError("only the customer template holds a contact")
        for spec in importable_specs(Contact, sees_sensitive=sees_sensitive):
            if spec.relation == "customer":
                continue   # the customer is the row itself
            columns.append(TemplateColumn(contact_header(spec), f"contact.{spec.name}", spec, False))
    return columns


def sheet_name(model) -> str:
    """The model's plural label, as the grid (or else the model's list) calls it."""
    from portal.grid.resources import RESOURCES

    for resource in RESOURCES.values():
        if resource.model is model:
            return str(resource.plural)
    from .archive import model_labels

    return model_labels().get(model, model.__name__)


def write_template(stream, model, *, sees_sensitive: bool = True, include_contact: bool = False,
                   session: Session | None = None) -> list[TemplateColumn]:
    """Writes ``model``'s import template (.xlsx) to the binary ``stream``; its columns.

    ``sees_sensitive``: whether the user may fill sensitive fields (else they are left out).
    ``include_contact``: customers only — the first contact's columns too. ``session`` reads
    the active names of the code tables for the drop-downs (default: the app's).
    """
    if session is None:
        from portal.extensions import db

        session = db.session
    columns = template_columns(model, sees_sensitive=sees_sensitive, include_contact=include_contact)
    workbook = xlsxwriter.Workbook(stream, {"in_memory": True, "strings_to_formulas": False,
                                            "strings_to_urls": False, "strings_to_numbers": False})
    book = _Book(workbook)
    sheet = workbook.add_worksheet(sanitise_sheet_name(sheet_name(model)))
    options = _Options(workbook)
    for index, column in enumerate(columns):
        book.column(sheet, index, column, _owner(model, column), options, session)
    sheet.freeze_panes(1, 0)
    sheet.activate()
    options.finish()
    workbook.close()
    return columns


def example_row(model, *, sees_sensitive: bool = True, include_contact: bool = False,
                session: Session | None = None) -> dict[str, object]:
    """{column key: the example value} of the template's row 2 (blank cells left out), so an
    import can recognise an example row left in the file."""
    if session is None:
        from portal.extensions import db

        session = db.session
    values = {}
    for column in template_columns(model, sees_sensitive=sees_sensitive, include_contact=include_contact):
        owner = _owner(model, column)
        value = _example(column.spec, owner.__name__, _choice_names(column.spec, owner, session) or [])
        if value not in (None, ""):
            values[column.key] = value
    return values


def _owner(model, column: TemplateColumn):
    """The model a template column's field belongs to."""
    if column.key.startswith("contact."):
        from portal.models import Contact

        return Contact
    return model


def _header(label: str, required: bool) -> str:
    return label + REQUIRED_MARK if required else label


class _Book:
    """The formats of a template, and how one column is written."""

    def __init__(self, workbook):
        self.header = workbook.add_format({"bold": True, "bg_color": "#DDEBF7", "border": 1, "valign": "vcenter"})
        self.required = workbook.add_format({"bold": True, "font_color": "#C00000", "bg_color": "#DDEBF7",
                                             "border": 1, "valign": "vcenter"})
        example = {"italic": True, "font_color": "#808080"}
        self.example = workbook.add_format(example)
        self.example_text = workbook.add_format({**example, "num_format": "@"})
        self.example_date = workbook.add_format({**example, "num_format": "yyyy-mm-dd"})
        self.example_datetime = workbook.add_format({**example, "num_format": "yyyy-mm-dd hh:mm"})
        self.example_money = workbook.add_format({**example, "num_format": "#,##0.00"})
        self.text = workbook.add_format({"num_format": "@"})
        self.date = workbook.add_format({"num_format": "yyyy-mm-dd"})
        self.datetime = workbook.add_format({"num_format": "yyyy-mm-dd hh:mm"})
        self.money = workbook.add_format({"num_format": "#,##0.00"})

    def column(self, sheet, index: int, column: TemplateColumn, owner, options: "_Options", session) -> None:
        spec = column.spec
        column_format = (self.text if spec.type in IDENTIFIER_TYPES else self.date if spec.type == FieldType.DATE
                         else self.datetime if spec.type == FieldType.DATETIME
                         else self.money if spec.type == FieldType.MONEY else None)
        sheet.set_column(index, index, column_width(ExportColumn(column.header, spec.type)) + 2, column_format)
        sheet.write_string(0, index, neutralise(column.header), self.required if column.required else self.header)
        names = _choice_names(spec, owner, session)
        sheet.write_comment(0, index, _comment(spec, column, names), {"x_scale": 2.2, "y_scale": 1.6})
        if names is not None:
            _list_validation(sheet, index, spec, names, options)
        else:
            _value_validation(sheet, index, spec)
        self._example(sheet, index, spec, owner.__name__, names or [])
        if index == 0:
            sheet.write_comment(1, 0, _("Example row: type over it or delete it before importing."),
                                {"x_scale": 2, "y_scale": 0.6})

    def _example(self, sheet, index: int, spec: FieldSpec, owner: str, names: list[str]) -> None:
        value = _example(spec, owner, names)
        if value in (None, ""):
            return
        if spec.type == FieldType.DATE:
            sheet.write_datetime(1, index, dt.datetime.combine(value, dt.time()), self.example_date)
        elif spec.type == FieldType.DATETIME:
            sheet.write_datetime(1, index, value, self.example_datetime)
        elif isinstance(value, (int, Decimal)) and spec.type != FieldType.BOOL:
            sheet.write_number(1, index, float(value), self.example_money if spec.type == FieldType.MONEY
                               else self.example)
        else:
            fmt = self.example_text if spec.type in IDENTIFIER_TYPES else self.example
            sheet.write_string(1, index, neutralise(str(value)), fmt)


def _example(spec: FieldSpec, owner: str, names: list[str]):
    """A plausible value for the example row (None: left blank)."""
    if (owner, spec.name) in TEXT_EXAMPLES:
        return TEXT_EXAMPLES[(owner, spec.name)]
    if spec.type in EXAMPLES:
        return EXAMPLES[spec.type]
    if spec.type == FieldType.BOOL:
        return _("No")
    if spec.type == FieldType.CHOICE:
        return spec.choices[0].label if spec.choices else None
    if spec.type == FieldType.RELATION:
        return names[0] if names else None
    if spec.type == FieldType.RELATION_MANY:
        return ",".join(names[:2]) if names else None
    if spec.type == FieldType.INT:
        low = int(spec.min_value) if spec.min_value is not None else None
        high = int(spec.max_value) if spec.max_value is not None else None
        if low is not None and high is not None:
            return (low + high) // 2
        return max(low or 0, 10)
    return None


def _choice_names(spec: FieldSpec, owner, session) -> list[str] | None:
    """The labels a drop-down offers, or None when the column has none."""
    if spec.type == FieldType.CHOICE:
        return [c.label for c in spec.choices]
    if spec.type == FieldType.BOOL:
        return [_("Yes"), _("No")]
    if spec.type not in (FieldType.RELATION, FieldType.RELATION_MANY):
        return None
    related = related_model(owner, spec)
    from portal.models import Customer

    if related is Customer or hasattr(related, "customer_id"):
        return None   # records of the archive itself: too many and in scope — typed by name or number
    query = scope.scoped(sa.select(related), related)
    if hasattr(related, "active"):
        query = query.where(related.active.is_(True))
    order = [c for c in (getattr(related, "sort_order", None), getattr(related, "code", None)) if c is not None]
    rows = session.scalars(query.order_by(*order, related.id).limit(MAX_LIST + 1)).all()
    if not rows or len(rows) > MAX_LIST:
        return None
    names = []
    for row in rows:
        label = label_of(row)
        if label and label not in names:
            names.append(label)
    return names


class _Options:
    """The hidden sheet 选项 / Options: one column per long list, referred to by the validations."""

    def __init__(self, workbook):
        self.workbook = workbook
        self.sheet = None
        self.name = options_sheet()
        self.used = 0

    def range_for(self, title: str, names: list[str]) -> str:
        if self.sheet is None:
            self.sheet = self.workbook.add_worksheet(self.name)
        col = self.used
        self.used += 1
        self.sheet.write_string(0, col, neutralise(title))
        for row, name in enumerate(names, 1):
            self.sheet.write_string(row, col, neutralise(name))
        letter = xlsxwriter.utility.xl_col_to_name(col)
        return f"='{self.name}'!${letter}$2:${letter}${len(names) + 1}"

    def finish(self) -> None:
        if self.sheet is not None:
            self.sheet.hide()


def _list_validation(sheet, index: int, spec: FieldSpec, names: list[str], options: _Options) -> None:
    inline = ",".join(names)
    relation = spec.type in (FieldType.RELATION, FieldType.RELATION_MANY)
    fits = len(inline) <= _INLINE_LIST_CHARS and not any("," in n for n in names)
    source = names if fits and not relation else options.range_for(spec.label, names)
    sheet.data_validation(1, index, TEMPLATE_ROWS, index, {
        "validate": "list", "source": source,
        # A relation may name a record the list does not hold yet (the import says so);
        # a choice or yes/no must be one of its values. Many-to-many cells hold several.
        "error_type": "stop" if spec.type in (FieldType.CHOICE, FieldType.BOOL) else "warning",
        "error_title": spec.label[:32], "error_message": _("Choose a value from the list.")[:255],
        "dropdown": True,
    } if spec.type != FieldType.RELATION_MANY else {
        "validate": "list", "source": source, "error_type": "information", "dropdown": True,
        "error_title": spec.label[:32], "error_message": _("Several values: separate them with commas.")[:255],
    })


def _value_validation(sheet, index: int, spec: FieldSpec) -> None:
    """Warnings (not refusals: the import judges) for whole numbers in range and for dates."""
    if spec.type == FieldType.INT:
        options = {"validate": "integer", "error_type": "warning", "error_title": spec.label[:32],
                   "error_message": _("A whole number.")}
        if spec.min_value is not None and spec.max_value is not None:
            options.update(criteria="between", minimum=int(spec.min_value), maximum=int(spec.max_value))
        elif spec.min_value is not None:
            options.update(criteria=">=", value=int(spec.min_value))
        else:
            return
        sheet.data_validation(1, index, TEMPLATE_ROWS, index, options)
    elif spec.type == FieldType.DATE:
        sheet.data_validation(1, index, TEMPLATE_ROWS, index, {
            "validate": "date", "criteria": ">=", "value": dt.date(1900, 1, 1), "error_type": "warning",
            "error_title": spec.label[:32],
            "error_message": _("A date, e.g. %(example)s.", example=EXAMPLE_DATE.isoformat())})


def _comment(spec: FieldSpec, column: TemplateColumn, names: list[str] | None) -> str:
    """What goes into the column, for the header's comment."""
    lines = [column.header.rstrip(REQUIRED_MARK)]
    lines.append(_type_text(spec, names))
    if column.required:
        lines.append(_("Required."))
    elif column.key.startswith("contact.") and spec.required:
        lines.append(_("Needed when any contact column of the row is filled."))
    if spec.max_length and spec.type in (FieldType.TEXT, FieldType.LONGTEXT):
        lines.append(_("At most %(n)d characters.", n=spec.max_length))
    if spec.type in (FieldType.INT, FieldType.DECIMAL, FieldType.MONEY):
        if spec.min_value is not None and spec.max_value is not None:
            lines.append(_("From %(low)s to %(high)s.", low=_number(spec.min_value), high=_number(spec.max_value)))
        elif spec.min_value is not None:
            lines.append(_("At least %(low)s.", low=_number(spec.min_value)))
    if spec.not_future:
        lines.append(_("Not later than today."))
    if spec.help and spec.help not in lines:
        lines.append(spec.help)
    return "\n".join(line for line in lines if line)


def _number(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else str(value)


def _type_text(spec: FieldSpec, names: list[str] | None) -> str:
    t = spec.type
    if t == FieldType.DATE:
        return _("Date, e.g. %(example)s (also 2024/3/2 or 2024年3月2日).", example=EXAMPLE_DATE.isoformat())
    if t == FieldType.DATETIME:
        return _("Date and time, e.g. %(example)s.", example="2024-03-02 14:30")
    if t == FieldType.MOBILE:
        return _("11-digit mobile number, e.g. %(example)s.", example=EXAMPLES[t])
    if t == FieldType.PHONE:
        return _("Phone number with area code, e.g. %(example)s.", example=EXAMPLES[t])
    if t == FieldType.EMAIL:
        return _("E-mail address, e.g. %(example)s.", example=EXAMPLES[t])
    if t == FieldType.URL:
        return _("Web address, e.g. %(example)s.", example=EXAMPLES[t])
    if t == FieldType.POSTCODE:
        return _("6-digit postal code.")
    if t == FieldType.ID_NUMBER:
        return _("18-character resident ID number.")
    if t == FieldType.CARD_NUMBER:
        return _("Bank card or account number, 12 to 19 digits.")
    if t == FieldType.BOOL:
        return "%s/%s" % (_("Yes"), _("No"))
    if t == FieldType.INT:
        return _("Whole number.")
    if t == FieldType.DECIMAL:
        return _("Number.")
    if t == FieldType.MONEY:
        return _("Amount in yuan, e.g. %(example)s.", example="12800.00")
    if t == FieldType.CHOICE:
        shown = "、".join(c.label for c in spec.choices[:12]) + ("…" if len(spec.choices) > 12 else "")
        return _("One of: %(choices)s (drop-down list).", choices=shown)
    if t == FieldType.RELATION:
        if names is not None:
            return _("A name from the drop-down list.")
        return _("The name or number of the record.")
    if t == FieldType.RELATION_MANY:
        return _("Names from the list, several separated by commas.")
    if t == FieldType.LONGTEXT:
        return _("Text; line breaks allowed.")
    return _("Text.")
