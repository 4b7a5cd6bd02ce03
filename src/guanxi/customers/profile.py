"""Profile sections from the seed (DOMAIN.md §1), kept as validated JSON.

Fields that lists filter or sort by are real columns on Customer; these sections hold the
rest. Each field has a type: text (≤500 chars), int, decimal (string), date (ISO), list (of
short texts). Completeness counts the filled columns and profile fields a kind expects.
"""

import datetime
from decimal import Decimal, InvalidOperation

from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

PERSON_SECTIONS = {
    "basic": (_("Basic information"), {"nickname": "text", "native_place": "text", "ethnicity": "text", "marital_status": "text", "wechat": "text"}),
    "consumption": (_("Consumption"), {"preferred_products": "list", "monthly_budget": "decimal", "purchase_channels": "list", "brand_preferences": "list", "price_sensitivity": "text"}),
    "education": (_("Education"), {"highest_degree": "text", "school": "text", "major": "text", "graduation_year": "int"}),
    "career": (_("Career"), {"employer": "text", "position": "text", "industry": "text", "income_range": "text", "years_in_position": "int"}),
    "family": (_("Family"), {"spouse_name": "text", "children": "int", "family_size": "int", "wedding_anniversary": "date"}),
    "life": (_("Life"), {"hobbies": "list", "sports": "list", "diet": "text", "residence_type": "text", "car": "text"}),
    "personality": (_("Personality"), {"traits": "list", "communication_style": "text", "values": "text"}),
    "social": (_("Social ties"), {"associations": "list", "key_relations": "list", "social_media": "list"}),
}
ORGANISATION_SECTIONS = {
    "basic": (_("Basic information"), {"legal_name": "text", "legal_representative": "text", "registered_capital": "decimal", "founded_on": "date", "website": "text", "ownership": "text"}),
    "characteristics": (_("Characteristics"), {"scale": "text", "market_position": "text", "development_potential": "text", "reputation": "text"}),
    "business_status": (_("Business status"), {"main_products": "list", "annual_revenue": "decimal", "market_share": "text", "growth": "text", "competitors": "list"}),
    "transaction_status": (_("Transaction status"), {"first_deal_on": "date", "main_suppliers": "list", "credit_history": "text", "payment_record": "text", "purchase_volume": "text"}),
    "decision_maker": (_("Decision-maker"), {"name": "text", "title": "text", "age": "int", "hobbies": "list", "decision_style": "text", "phone": "text"}),
}
FIELD_LABELS = {
    "nickname": _("Nickname"), "native_place": _("Native place"), "ethnicity": _("Ethnicity"),
    "marital_status": _("Marital status"), "wechat": _("WeChat"), "preferred_products": _("Preferred products"),
    "monthly_budget": _("Monthly budget"), "purchase_channels": _("Purchase channels"),
    "brand_preferences": _("Brand preferences"), "price_sensitivity": _("Price sensitivity"),
    "highest_degree": _("Highest degree"), "school": _("School"), "major": _("Major"),
    "graduation_year": _("Graduation year"), "employer": _("Employer"), "position": _("Position"),
    "industry": _("Industry"), "income_range": _("Income range"), "years_in_position": _("Years in position"),
    "spouse_name": _("Spouse"), "children": _("Children"), "family_size": _("Family size"),
    "wedding_anniversary": _("Wedding anniversary"), "hobbies": _("Hobbies"), "sports": _("Sports"),
    "diet": _("Diet"), "residence_type": _("Residence"), "car": _("Car"), "traits": _("Traits"),
    "communication_style": _("Communication style"), "values": _("Values"), "associations": _("Associations"),
    "key_relations": _("Key relations"), "social_media": _("Social media"), "legal_name": _("Legal name"),
    "legal_representative": _("Legal representative"), "registered_capital": _("Registered capital"),
    "founded_on": _("Founded on"), "website": _("Website"), "ownership": _("Ownership"), "scale": _("Scale"),
    "market_position": _("Market position"), "development_potential": _("Development potential"),
    "reputation": _("Reputation"), "main_products": _("Main products"), "annual_revenue": _("Annual revenue"),
    "market_share": _("Market share"), "growth": _("Growth"), "competitors": _("Competitors"),
    "first_deal_on": _("First deal on"), "main_suppliers": _("Main suppliers"),
    "credit_history": _("Credit history"), "payment_record": _("Payment record"),
    "purchase_volume": _("Purchase volume"), "name": _("Name"), "title": _("Title"), "age": _("Age"),
    "decision_style": _("Decision style"), "phone": _("Phone"),
}
MAX_TEXT = 500
MAX_LIST = 50


def sections_for(kind: str) -> dict:
    return ORGANISATION_SECTIONS if kind == "organisation" else PERSON_SECTIONS


def _clean_value(kind: str, value, where: str):
    if value in (None, "", []):
        return None
    if kind == "text":
        if not isinstance(value, (str, int, float)) or len(str(value)) > MAX_TEXT or "\x00" in str(value):
            raise ValidationError({where: _("Must be text of at most %(n)d characters.") % {"n": MAX_TEXT}})
        return str(value).strip()
    if kind == "int":
        if isinstance(value, bool):
            raise ValidationError({where: _("Must be a whole number.")})
        try:
            number = int(str(value).strip())
        except ValueError:
            raise ValidationError({where: _("Must be a whole number.")}) from None
        if not 0 <= number <= 10**9:
            raise ValidationError({where: _("Out of range.")})
        return number
    if kind == "decimal":
        try:
            number = Decimal(str(value).strip())
        except InvalidOperation:
            raise ValidationError({where: _("Must be a number.")}) from None
        if not number.is_finite() or abs(number) >= Decimal(10) ** 14:
            raise ValidationError({where: _("Out of range.")})
        return str(number)
    if kind == "date":
        try:
            return datetime.date.fromisoformat(str(value)).isoformat()
        except ValueError:
            raise ValidationError({where: _("Must be a date (YYYY-MM-DD).")}) from None
    if kind == "list":
        items = [s.strip() for s in value.split(",")] if isinstance(value, str) else value
        if not isinstance(items, list) or len(items) > MAX_LIST:
            raise ValidationError({where: _("Must be a list of at most %(n)d items.") % {"n": MAX_LIST}})
        return [_clean_value("text", item, where) for item in items if item not in (None, "")] or None
    raise AssertionError(kind)


def validate_profile(kind: str, profile) -> dict:
    """Return the cleaned profile for `kind`, or raise ValidationError naming the bad field."""
    if profile in (None, ""):
        return {}
    if not isinstance(profile, dict):
        raise ValidationError({"profile": _("Must be an object of sections.")})
    sections = sections_for(kind)
    cleaned = {}
    for section, fields in profile.items():
        if section not in sections:
            raise ValidationError({"profile": _("Unknown section “%(s)s”.") % {"s": section}})
        if not isinstance(fields, dict):
            raise ValidationError({f"profile.{section}": _("Must be an object.")})
        schema = sections[section][1]
        out = {}
        for key, value in fields.items():
            if key not in schema:
                raise ValidationError({f"profile.{section}": _("Unknown field “%(f)s”.") % {"f": key}})
            value = _clean_value(schema[key], value, f"profile.{section}.{key}")
            if value is not None:
                out[key] = value
        if out:
            cleaned[section] = out
    return cleaned


PERSON_COLUMNS = ("phone", "email", "city", "gender", "birthday", "source")
ORGANISATION_COLUMNS = ("phone", "email", "city", "uscc", "industry", "employees", "source")


def completeness(customer) -> int:
    """Percentage of expected columns and profile fields that are filled."""
    columns = ORGANISATION_COLUMNS if customer.kind == "organisation" else PERSON_COLUMNS
    sections = sections_for(customer.kind)
    total = len(columns) + sum(len(fields) for _, fields in sections.values())
    filled = sum(1 for c in columns if getattr(customer, c) not in (None, ""))
    filled += sum(len(v) for k, v in (customer.profile or {}).items() if k in sections)
    return round(100 * filled / total)
