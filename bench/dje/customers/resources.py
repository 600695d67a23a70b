"""The import-export resource for the benchmark workbook, declared the way the
django-import-export 4 docs describe: one ``Field`` per column with its header as
``column_name`` and the widget of its type, keyed by the customer number.

``CustomerResource`` has the default options; ``fast_resource`` makes a subclass with the
options of the docs' "Performance tuning" section (bulk_import.rst). ``ArchiveCustomerResource``
is the same resource writing into the portal's own ``customer`` table (``ArchiveCustomer``),
blank cells as NULL."""
from import_export import fields, instance_loaders, resources, widgets

from .models import CUSTOMER_TYPES, VALUE_GRADES, ArchiveCustomer, Customer


class LabelChoiceWidget(widgets.CharWidget):
    """A choice written as its label (企业, A级) → its stored code."""

    def __init__(self, choices, **kwargs):
        super().__init__(**kwargs)
        self.codes = {label: code for code, label in choices}

    def clean(self, value, row=None, **kwargs):
        text = super().clean(value, row, **kwargs)
        return None if text is None else self.codes.get(text.strip(), text.strip())


class YesNoWidget(widgets.BooleanWidget):
    """是/否 as well as the defaults (the docs' "custom boolean handling")."""

    TRUE_VALUES = [*widgets.BooleanWidget.TRUE_VALUES, "是"]
    FALSE_VALUES = [*widgets.BooleanWidget.FALSE_VALUES, "否"]

    def clean(self, value, row=None, **kwargs):
        return bool(super().clean(value, row, **kwargs))


def _column(attribute, header, widget=None):
    return fields.Field(attribute=attribute, column_name=header, widget=widget or widgets.CharWidget())


class CustomerResource(resources.ModelResource):
    number = _column("number", "客户编号")
    name = _column("name", "客户名称")
    customer_type = _column("customer_type", "客户类型", LabelChoiceWidget(CUSTOMER_TYPES))
    province = _column("province", "省份")
    city = _column("city", "城市")
    district = _column("district", "区县")
    street = _column("street", "详细地址")
    postcode = _column("postcode", "邮编")
    phone = _column("phone", "电话")
    mobile = _column("mobile", "手机")
    email = _column("email", "电子邮箱")
    value_grade = _column("value_grade", "客户等级", LabelChoiceWidget(VALUE_GRADES))
    birth_date = _column("birth_date", "出生日期", widgets.DateWidget())
    employee_count = _column("employee_count", "员工人数", widgets.IntegerWidget())
    registered_capital = _column("registered_capital", "注册资本(元)", widgets.DecimalWidget())
    is_core = _column("is_core", "核心客户", YesNoWidget())

    class Meta:
        model = Customer
        fields = ("number", "name", "customer_type", "province", "city", "district", "street", "postcode", "phone",
                  "mobile", "email", "value_grade", "birth_date", "employee_count", "registered_capital", "is_core")
        import_id_fields = ["number"]


class ArchiveCustomerResource(CustomerResource):
    """The same columns into the portal's table, where an empty cell is NULL, not "" (as the portal keeps it)."""

    class Meta(CustomerResource.Meta):
        model = ArchiveCustomer

    def __init__(self, **kwargs):
        super().__init__(**kwargs)   # the fields are this instance's copies from here on
        for field in self.fields.values():
            if isinstance(field.widget, widgets.CharWidget):
                field.widget.allow_blank = False


def headers() -> list[str]:
    return [field.column_name for field in CustomerResource().get_import_fields()]


def fast_resource(creates_only: bool, base=CustomerResource):
    """The fastest documented settings: bulk mode (batch_size left at its default 1000 — the
    docs: None was always slower), no diff, and either no instance look-up at all (an import of
    new rows only: ``force_init_instance``) or the existing rows loaded in one query
    (``CachedInstanceLoader``) when rows may be updates."""

    class Meta(base.Meta):
        use_bulk = True
        batch_size = 1000
        skip_diff = True
        skip_html_diff = True
        force_init_instance = creates_only
        instance_loader_class = (instance_loaders.ModelInstanceLoader if creates_only
                                 else instance_loaders.CachedInstanceLoader)

    return type("Fast" + base.__name__, (base,), {"Meta": Meta})
