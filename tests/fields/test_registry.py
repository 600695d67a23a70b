"""The field registry: one description per field, read by every consumer."""
import sqlalchemy as sa
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from portal.fields import FieldType, Section, describe, fields_of, model_for, register_model, registered_models, sections_of
from portal.fields.spec import IDENTIFIER_TYPES
from portal.models import Contact, Customer


def test_every_described_field_has_both_labels_and_a_known_section():
    for model in registered_models():
        sections = {s.key for s in sections_of(model)}
        for name, spec in fields_of(model).items():
            assert spec.zh.strip() and spec.en.strip(), f"{model.__name__}.{name} lacks a label"
            assert spec.section in sections, f"{model.__name__}.{name}"


def test_import_headers_point_to_one_field_only():
    """An import maps a header to a field; two fields answering to one header would be a guess."""
    def norm(text):
        return "".join(ch for ch in text.casefold() if ch.isalnum())

    for model in registered_models():
        owner = {}
        for name, spec in fields_of(model).items():
            for header in spec.headers:
                key = norm(header)
                assert owner.setdefault(key, name) == name, (
                    f"{model.__name__}: header {header!r} names both {owner[key]} and {name}")


def test_the_customer_card_holds_every_part_of_the_domain():
    names = set(fields_of(Customer))
    expected = {
        # basic
        "number", "name", "customer_type", "category", "gender", "birth_date", "id_number", "occupation",
        "income_level", "family_status", "education",
        # address and contact
        "province", "city", "district", "street", "postcode", "phone", "mobile", "fax", "email", "website",
        # credit
        "credit_limit", "credit_rating", "loyalty_index", "potential_spend_index", "credit_report_date",
        "credit_report_valid_months", "payment_terms", "bank_account",
        # behaviour and preferences
        "lifestyle", "hobbies", "product_preferences", "service_preferences", "questionnaire_response",
        "promotion_response", "new_product_appetite",
        # organisation
        "ownership_type_id", "channel_type_id", "location_type", "industry_id", "company_size", "founded_on",
        "legal_representative", "org_structure",
        # business, source, owner
        "region_id", "route_id", "route_order", "price_list_id", "value_grade", "owner_id", "team_id", "tags",
        "source_id", "referred_by_id",
        # lifecycle and verification
        "stage", "stage_since", "stop_reason", "verified_by_id", "verified_on",
    }
    assert expected <= names, expected - names


def test_sections_follow_the_domain_order():
    keys = [s.key for s in sections_of(Customer)]
    assert keys[:8] == ["basic", "contact", "credit", "preferences", "organisation", "business", "source", "lifecycle"]


def test_sensitive_fields_are_marked():
    customer = fields_of(Customer)
    for name in ("id_number", "bank_account", "credit_limit", "credit_rating", "income_level"):
        assert customer[name].sensitive, name
    assert fields_of(Contact)["itinerary"].sensitive
    assert not customer["name"].sensitive


def test_identifier_fields_are_typed_so_imports_keep_them_as_text():
    customer = fields_of(Customer)
    for name in ("mobile", "phone", "fax", "postcode", "id_number", "bank_account"):
        assert customer[name].type in IDENTIFIER_TYPES, name


def test_foreign_keys_are_shown_through_their_relationship():
    spec = fields_of(Customer)["owner_id"]
    assert spec.type == FieldType.RELATION and spec.form_name == "owner"
    assert fields_of(Customer)["tags"].type == FieldType.RELATION_MANY


def test_models_are_found_by_class_or_table_name():
    assert model_for("Customer") is Customer
    assert model_for("customer") is Customer


class _Base(DeclarativeBase):
    pass


def test_a_new_field_appears_in_labels_lists_forms_and_filters_without_other_edits():
    """Adding a field is one line next to its column: the generated view picks it up."""
    from portal.views.base import ArchiveModelView

    @register_model(Section("basic", "基本", "Basic"))
    class Pet(_Base):
        __tablename__ = "pet_for_test"
        id: Mapped[int] = mapped_column(primary_key=True)
        name: Mapped[str] = mapped_column(sa.String(20), info=describe(
            "名字", "Name", "text", "basic", required=True, listed=True, searchable=True))
        chip: Mapped[str] = mapped_column(sa.String(20), info=describe(
            "芯片号", "Chip", "text", "basic", listed=True, aliases=("Chip number",)))

    class PetView(ArchiveModelView):
        model = Pet

    assert "chip" in PetView.list_columns
    assert str(PetView.label_columns["chip"]) == "芯片号"
    assert "chip" in PetView.add_form_extra_fields
    assert ("chip" in PetView.add_fieldsets[0][1]["fields"])
    assert "name" in PetView.search_columns
    assert "Chip number" in fields_of(Pet)["chip"].headers



def test_each_field_knows_what_its_column_holds():
    """PostgreSQL refuses a number or a text too big for its column at the commit (SQLite keeps
    it): the description says the column's bounds, so the field's message comes first."""
    from decimal import Decimal

    from portal.fields import FieldInvalid, clean
    from portal.models import Transaction

    customer = fields_of(Customer)
    assert customer["registered_capital"].column_limit == Decimal("99999999999999.99")   # Numeric(16, 2)
    assert customer["employee_count"].column_limit == Decimal(2 ** 31 - 1)
    assert fields_of(Transaction)["amount"].column_limit == Decimal("999999999999.99")
    assert customer["email"].max_length == 200 and customer["website"].max_length == 200
    for spec, value in ((customer["registered_capital"], "100000000000000"), (customer["employee_count"], 2 ** 31),
                        (fields_of(Transaction)["amount"], "-1000000000000"),
                        (customer["email"], "a" * 190 + "@example.com"),
                        # more digits than a Decimal holds: refused, not an InvalidOperation
                        (customer["registered_capital"], "1e30"), (customer["registered_capital"], 1e300),
                        (customer["registered_capital"], "9" * 40), (customer["employee_count"], "1e400")):
        try:
            clean(spec, value)
        except FieldInvalid:
            continue
        raise AssertionError(f"{spec.name}: {value!r} taken")
    assert clean(customer["registered_capital"], "99999999999999.99") == Decimal("99999999999999.99")
