"""A token for each of the last steps of the sales rollups' seal (``SalesRollupSeal.steps``): a
worker's cached report by product read under one of them goes on being used after later seals, with
the bills and refunds past its own seal read raw (``purchases.report_cache``). An existing seal gets
a token of its own for what it holds now."""

import secrets

from django.db import migrations, models


def token_for_the_seal(apps, schema_editor):
    SalesRollupSeal = apps.get_model("purchases", "SalesRollupSeal")
    SalesRollupSeal.objects.filter(steps=[]).update(steps=[secrets.randbits(63)])


class Migration(migrations.Migration):
    dependencies = [("purchases", "0040_till_bills_cover")]

    operations = [
        migrations.AddField(
            model_name="salesrollupseal",
            name="steps",
            field=models.JSONField(blank=True, db_default=[], default=list),
        ),
        migrations.RunPython(token_for_the_seal, migrations.RunPython.noop),
    ]
