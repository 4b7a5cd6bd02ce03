"""The default pipeline: stages an administrator can rename, reorder or extend."""

from django.db import migrations
from django.utils.translation import gettext_noop

STAGES = [
    # name, position, probability, won, lost
    (gettext_noop("Lead"), 10, 10, False, False),
    (gettext_noop("Qualified"), 20, 25, False, False),
    (gettext_noop("Proposal"), 30, 50, False, False),
    (gettext_noop("Negotiation"), 40, 75, False, False),
    (gettext_noop("Won"), 90, 100, True, False),
    (gettext_noop("Lost"), 99, 0, False, True),
]


def create_stages(apps, schema_editor):
    PipelineStage = apps.get_model("sales", "PipelineStage")
    for name, position, probability, won, lost in STAGES:
        PipelineStage.objects.get_or_create(
            position=position, defaults={"name": name, "probability": probability, "is_won": won, "is_lost": lost}
        )


class Migration(migrations.Migration):
    dependencies = [("sales", "0001_initial")]
    operations = [migrations.RunPython(create_stages, migrations.RunPython.noop)]
