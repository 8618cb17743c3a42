"""A customer by email in any case at a chain's scale (issue 30): ``email__iexact`` compares UPPER()
of both sides, which neither the email's plain index nor the unique index of LOWER(email) serves.
docs/performance.md lists each index with the query it serves."""

from django.db import migrations, models
from django.db.models.functions import Upper


def analyze(apps, schema_editor):
    # The statistics of the index's expression: without them the planner guesses that an email
    # matches 0.5 % of the customers, and reads a customer's bills by walking every bill by time.
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute("ANALYZE customers_customer")


class Migration(migrations.Migration):
    dependencies = [("customers", "0003_customer_gst_details")]

    operations = [
        migrations.AddIndex(model_name="customer", index=models.Index(Upper("email"), name="customer_email_upper")),
        migrations.RunPython(analyze, migrations.RunPython.noop),
    ]
