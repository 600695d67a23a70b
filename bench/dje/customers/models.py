"""The 16 customer fields of the benchmark workbook, as a Django model: the same types,
lengths and uniqueness (the number) as the portal's columns of the same names."""
from django.db import models

CUSTOMER_TYPES = (("person", "个人"), ("org", "企业"))
VALUE_GRADES = (("A", "A级"), ("B", "B级"), ("C", "C级"), ("D", "D级"))


class Customer(models.Model):
    number = models.CharField("客户编号", max_length=32, unique=True)
    name = models.CharField("客户名称", max_length=200)
    customer_type = models.CharField("客户类型", max_length=16, choices=CUSTOMER_TYPES, default="org")
    province = models.CharField("省份", max_length=16, blank=True, default="")
    city = models.CharField("城市", max_length=50, blank=True, default="")
    district = models.CharField("区县", max_length=50, blank=True, default="")
    street = models.CharField("详细地址", max_length=200, blank=True, default="")
    postcode = models.CharField("邮编", max_length=6, blank=True, default="")
    phone = models.CharField("电话", max_length=32, blank=True, default="")
    mobile = models.CharField("手机", max_length=11, blank=True, default="")
    email = models.EmailField("电子邮箱", max_length=200, blank=True, default="")
    value_grade = models.CharField("客户等级", max_length=1, choices=VALUE_GRADES, blank=True, default="")
    birth_date = models.DateField("出生日期", null=True, blank=True)
    employee_count = models.IntegerField("员工人数", null=True, blank=True)
    registered_capital = models.DecimalField("注册资本(元)", max_digits=16, decimal_places=2, null=True, blank=True)
    is_core = models.BooleanField("核心客户", default=False)

    def __str__(self):
        return f"{self.number} {self.name}"


class ArchiveCustomer(models.Model):
    """The same 16 fields written into the portal's own ``customer`` table, in a database the
    portal migrated (run_dje.py ``--table archive``): its 23 indexes and 14 foreign keys, as
    the portal's import writes them. Unmanaged: the portal's migrations own the table. Blank
    texts are NULL, as the portal keeps them; the two timestamps are the table's required
    columns that have no default (Django's auto_now_add / auto_now)."""

    id = models.AutoField(primary_key=True)
    number = models.CharField(max_length=32, unique=True)
    name = models.CharField(max_length=200)
    customer_type = models.CharField(max_length=16, choices=CUSTOMER_TYPES, default="org")
    province = models.CharField(max_length=16, null=True, blank=True)
    city = models.CharField(max_length=50, null=True, blank=True)
    district = models.CharField(max_length=50, null=True, blank=True)
    street = models.CharField(max_length=200, null=True, blank=True)
    postcode = models.CharField(max_length=6, null=True, blank=True)
    phone = models.CharField(max_length=32, null=True, blank=True)
    mobile = models.CharField(max_length=11, null=True, blank=True)
    email = models.EmailField(max_length=200, null=True, blank=True)
    value_grade = models.CharField(max_length=1, choices=VALUE_GRADES, null=True, blank=True)
    birth_date = models.DateField(null=True, blank=True)
    employee_count = models.IntegerField(null=True, blank=True)
    registered_capital = models.DecimalField(max_digits=16, decimal_places=2, null=True, blank=True)
    is_core = models.BooleanField(default=False)
    created_on = models.DateTimeField(auto_now_add=True)
    changed_on = models.DateTimeField(auto_now=True)

    class Meta:
        managed = False
        db_table = "customer"

    def __str__(self):
        return f"{self.number} {self.name}"
