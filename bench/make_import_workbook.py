"""The customer workbook the import benchmark (issue 5) reads: N rows × 16 columns with the
portal's Chinese labels as headers, every value valid for the portal's rules.

    .venv/bin/python bench/make_import_workbook.py --rows 100000 --out /tmp/customers-100k.xlsx
    .venv/bin/python bench/make_import_workbook.py --rows 100000 --out /tmp/customers-100k-update.xlsx \
        --update-of /tmp/customers-100k.xlsx            # or: --variant update (same --rows/--seed)

Columns (headers are ``spec.zh`` from the field registry, so a renamed label follows):
客户编号 客户名称 客户类型 省份 城市 区县 详细地址 邮编 电话 手机 电子邮箱 客户等级 出生日期 员工人数
注册资本(元) 核心客户.

* numbers ``KH2026000001`` … are unique, so the same file imports again as updates;
* choices are written as their Chinese labels (企业/个人, A级 …), the flag as 是/否;
* postcodes, phones and mobiles are text cells (phones as ``0571-88123456``, the form the
  portal stores, mobiles from real CN prefixes), birth dates are real date cells, employee
  counts and registered capital real numbers; persons have a birth date and no company data,
  companies the reverse (about 60 % companies);
* ``--variant update`` writes the same customers (same seed, same numbers, names and
  everything else) with a new house number in 详细地址 and the next 客户等级 on every row, and
  员工人数 + 5 for companies — so every row of it is an update, none unchanged.

The file is a pure function of ``--rows``, ``--seed`` and ``--variant`` (the workbook's
creation time is fixed too), written with xlsxwriter ``constant_memory``. The parameters
are kept in the workbook's custom properties, which is how ``--update-of`` finds them.
``--check`` runs every value through ``portal.fields.validation.clean`` and fails on the
first one the portal would refuse.
"""
from __future__ import annotations

import argparse
import datetime as dt
import os
import random
import re
import sys
import tempfile
import time
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("PORTAL_INSTANCE_DIR", tempfile.mkdtemp(prefix="bench_"))

# The 16 customer fields of the workbook, in column order.
FIELDS = ("number", "name", "customer_type", "province", "city", "district", "street", "postcode", "phone",
          "mobile", "email", "value_grade", "birth_date", "employee_count", "registered_capital", "is_core")
NUMBER_PREFIX = "KH2026"
GRADES = ("A", "B", "C", "D")
TODAY = dt.date(2026, 12, 1)
CREATED = dt.datetime(2026, 12, 1, 9, 0, 0)
CAPITALS = (100_000, 300_000, 500_000, 1_000_000, 2_000_000, 5_000_000, 10_000_000, 50_000_000)
ORG_SUFFIXES = (("有限公司", 62), ("股份有限公司", 8), ("有限责任公司", 10), ("商行", 8), ("经营部", 6), ("厂", 6))
EMAIL_BOXES = ("info", "sales", "office", "purchase", "admin", "service")


def customers(n: int, seed: int, variant: str = "new"):
    """Row tuples in FIELDS order (codes, not labels; dates as dates), 1 … n.

    One generator per row (seeded with the row's number), so the update variant's row i is
    row i of the new one with its changes, whatever the variant draws."""
    from portal.seeds import demo

    cities = demo.CITIES
    city_weights = [c[5] for c in cities]
    surnames = demo.SURNAMES
    surname_weights = [s[2] for s in surnames]
    industries = [code for code in demo.INDUSTRIES if demo.INDUSTRIES[code][1]]
    industry_weights = [demo.INDUSTRIES[c][0] for c in industries]
    suffixes, suffix_weights = [s[0] for s in ORG_SUFFIXES], [s[1] for s in ORG_SUFFIXES]
    mobiles: set[str] = set()
    for i in range(1, n + 1):
        rng = random.Random(seed * 10_000_019 + i)
        city = rng.choices(cities, city_weights)[0]
        district = rng.choice(city[6])
        is_org = rng.random() < 0.6
        birth = employees = capital = None
        if is_org:
            _, words, _ = demo.INDUSTRIES[rng.choices(industries, industry_weights)[0]]
            word, word_py = rng.choice(words)
            brand, brand_py = rng.choice(demo.BRANDS)
            suffix = rng.choices(suffixes, suffix_weights)[0]
            city_short = city[1].removesuffix("市")
            name = f"{city_short}{brand}{word}{suffix}"
            phone = _landline(rng, city)
            mobile = _mobile(rng, mobiles) if rng.random() < 0.3 else None
            email = f"{rng.choice(EMAIL_BOXES)}@{city[2]}{brand_py}{word_py}.example.com" if rng.random() < 0.7 else None
            employees = rng.randint(3, 2000)
            capital = rng.choice(CAPITALS)
        else:
            male = rng.random() < 0.52
            surname, surname_py, _ = rng.choices(surnames, surname_weights)[0]
            given, given_py = rng.choice(demo.MALE_GIVEN if male else demo.FEMALE_GIVEN)
            name = surname + given
            birth = dt.date(1955, 1, 1) + dt.timedelta(days=rng.randint(0, 18_262))
            phone = _landline(rng, city) if rng.random() < 0.25 else None
            mobile = _mobile(rng, mobiles)
            email = (f"{surname_py}{given_py}{birth.year % 100:02d}@{rng.choice(('example.com', 'example.net'))}"
                     if rng.random() < 0.5 else None)
        grade = rng.choices(GRADES, (10, 25, 35, 30))[0]
        is_core = grade == "A" and rng.random() < 0.5
        house = rng.randint(1, 899)
        road = rng.choice(district[3])
        if variant == "update":
            house = house % 899 + 1
            grade = GRADES[(GRADES.index(grade) + 1) % len(GRADES)]
            if employees is not None:
                employees += 5
        yield (f"{NUMBER_PREFIX}{i:06d}", name, "org" if is_org else "person", city[0], city[1], district[0],
               f"{road}{house}号", district[1], phone, mobile, email, grade, birth, employees, capital, is_core)


def _landline(rng: random.Random, city) -> str:
    """A number of the city's area code that phonenumbers knows as allocated (drawn again
    until it is: the portal refuses the others)."""
    area, length = city[3], city[4]
    while True:
        local = f"{rng.choice('5678')}{rng.randint(0, 10 ** (length - 1) - 1):0{length - 1}d}"
        if _valid(f"0{area}{local}"):
            return f"0{area}-{local}"


def _mobile(rng: random.Random, taken: set[str]) -> str:
    from portal.seeds.demo import MOBILE_PREFIXES

    while True:
        number = f"{rng.choice(MOBILE_PREFIXES)}{rng.randint(0, 99_999_999):08d}"
        if number not in taken and _valid(number):
            taken.add(number)
            return number


def _valid(digits: str) -> bool:
    import phonenumbers

    return phonenumbers.is_valid_number(phonenumbers.parse(digits, "CN"))


def specs():
    from portal.fields import fields_of
    from portal.models import Customer

    described = fields_of(Customer)
    return [described[name] for name in FIELDS]


def write(path: Path, n: int, seed: int, variant: str, check: bool = False) -> dict:
    import xlsxwriter

    from portal.fields.spec import FieldType

    columns = specs()
    labels = [{c.code: c.zh for c in spec.choices} if spec.type == FieldType.CHOICE else None for spec in columns]
    headers = [spec.zh for spec in columns]
    if check:
        from portal.fields.validation import clean
    started = time.perf_counter()
    path.parent.mkdir(parents=True, exist_ok=True)
    workbook = xlsxwriter.Workbook(str(path), {"constant_memory": True, "strings_to_numbers": False,
                                               "strings_to_formulas": False, "strings_to_urls": False})
    workbook.set_properties({"title": "客户档案导入", "created": CREATED})
    workbook.set_custom_property("bench_rows", str(n))
    workbook.set_custom_property("bench_seed", str(seed))
    workbook.set_custom_property("bench_variant", variant)
    sheet = workbook.add_worksheet("客户档案")
    header = workbook.add_format({"bold": True, "bg_color": "#DDEBF7", "border": 1})
    date = workbook.add_format({"num_format": "yyyy-mm-dd"})
    money = workbook.add_format({"num_format": "#,##0.00"})
    widths = (14, 28, 8, 10, 10, 10, 20, 8, 15, 13, 34, 8, 11, 8, 14, 8)
    for col, width in enumerate(widths):
        sheet.set_column(col, col, width)
    sheet.freeze_panes(1, 0)
    for col, text in enumerate(headers):
        sheet.write_string(0, col, text, header)
    for r, row in enumerate(customers(n, seed, variant), start=1):
        for col, value in enumerate(row):
            if value is None:
                continue
            if check:
                _check(clean, columns[col], value, r)
            if labels[col] is not None:
                sheet.write_string(r, col, labels[col][value])
            elif isinstance(value, bool):
                sheet.write_string(r, col, "是" if value else "否")
            elif isinstance(value, dt.date):
                sheet.write_datetime(r, col, value, date)
            elif isinstance(value, int):
                sheet.write_number(r, col, value, money if col == 14 else None)
            else:
                sheet.write_string(r, col, value)
    workbook.close()
    return {"path": str(path), "rows": n, "seed": seed, "variant": variant, "columns": len(headers),
            "headers": headers, "bytes": path.stat().st_size, "seconds": round(time.perf_counter() - started, 2)}


def _check(clean, spec, value, row: int) -> None:
    from portal.fields.validation import FieldInvalid

    if isinstance(value, bool):
        value = "是" if value else "否"
    elif spec.choices:
        value = next(c.zh for c in spec.choices if c.code == value)
    try:
        cleaned = clean(spec, value, today=TODAY)
    except FieldInvalid as error:
        raise SystemExit(f"row {row + 1}, {spec.zh}: {value!r} is refused by the portal: {error}")
    if isinstance(value, str) and spec.type.value in ("phone", "mobile", "postcode") and cleaned != value:
        raise SystemExit(f"row {row + 1}, {spec.zh}: {value!r} is stored as {cleaned!r} (would never be unchanged)")


def parameters_of(path: Path) -> dict:
    """rows, seed and variant that wrote ``path`` (its custom properties)."""
    with zipfile.ZipFile(path) as archive:
        xml = archive.read("docProps/custom.xml").decode("utf-8")
    found = dict(re.findall(r'name="(bench_\w+)"[^>]*>\s*<vt:lpwstr>([^<]*)</vt:lpwstr>', xml))
    return {"rows": int(found["bench_rows"]), "seed": int(found["bench_seed"]), "variant": found["bench_variant"]}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--seed", type=int, default=5)
    parser.add_argument("--variant", choices=("new", "update"), default="new")
    parser.add_argument("--update-of", type=Path, help="write the update variant of this workbook (its rows and seed)")
    parser.add_argument("--check", action="store_true", help="validate every value with the portal's rules")
    args = parser.parse_args()
    rows, seed, variant = args.rows, args.seed, args.variant
    if args.update_of:
        base = parameters_of(args.update_of)
        rows, seed, variant = base["rows"], base["seed"], "update"
    result = write(args.out, rows, seed, variant, check=args.check)
    print(f"{result['path']}: {result['rows']:,} rows × {result['columns']} columns ({result['variant']}, "
          f"seed {result['seed']}), {result['bytes']:,} bytes in {result['seconds']:.1f} s")


if __name__ == "__main__":
    main()
