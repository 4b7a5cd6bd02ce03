"""Seed the default spend tiers, service policies and warning rules (administrators edit them)."""

from decimal import Decimal

from django.db import migrations

from guanxi.insights.defaults import DEFAULT_RULE_PARAMETERS, SERVICE_POLICIES, SPEND_TIERS


def seed(apps, schema_editor):
    SpendTier = apps.get_model("insights", "SpendTier")
    ServicePolicy = apps.get_model("insights", "ServicePolicy")
    WarningRule = apps.get_model("insights", "WarningRule")
    for key, name, minimum in SPEND_TIERS:
        SpendTier.objects.get_or_create(key=key, defaults={"name": name, "min_annual_spend": Decimal(minimum)})
    for policy in SERVICE_POLICIES:
        fields = dict(policy)
        ServicePolicy.objects.get_or_create(grade=fields.pop("grade"), with_potential=fields.pop("with_potential"), defaults=fields)
    for kind, parameters in DEFAULT_RULE_PARAMETERS.items():
        WarningRule.objects.get_or_create(kind=kind, defaults={"parameters": parameters})


class Migration(migrations.Migration):
    dependencies = [("insights", "0001_initial")]
    operations = [migrations.RunPython(seed, migrations.RunPython.noop)]
