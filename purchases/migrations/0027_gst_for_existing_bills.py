# Existing bills under the GST rules (issue 27), once, in a few set-based statements whatever the
# number of bills:
# - each line keeps its product's HSN code as it stands now (from now on a bill never reads it
#   from the product again);
# - every bill is B2C (the column's default), its place of supply the store's state
#   (STORE_STATE_CODE, else the GSTIN's first two digits), or null when the store has none;
# - each line's tax is split into CGST = tax / 2 rounded half up to the paisa and SGST = tax − CGST
#   (IGST 0), and the bill's heads are the sums of its lines'.
# A store whose state is unknown has every old bill treated as intra-state (CGST + SGST), which
# is what its documents printed before.

from django.db import migrations

POSTGRESQL = [
    "UPDATE purchases_purchaseitem AS i SET hsn_code = p.hsn_code FROM catalog_product AS p "
    "WHERE p.id = i.product_id AND p.hsn_code <> ''",
    "UPDATE purchases_purchaseitem SET cgst = round(tax_amount / 2, 2), "
    "sgst = tax_amount - round(tax_amount / 2, 2), igst = 0",
]
# SQLite keeps decimals as floats: the half is taken in whole paise, where it is exact.
SQLITE = [
    "UPDATE purchases_purchaseitem SET hsn_code = (SELECT p.hsn_code FROM catalog_product AS p "
    "WHERE p.id = purchases_purchaseitem.product_id) WHERE product_id IN "
    "(SELECT id FROM catalog_product WHERE hsn_code <> '')",
    "UPDATE purchases_purchaseitem SET cgst = ((CAST(round(tax_amount * 100) AS INTEGER) + 1) / 2) / 100.0, "
    "sgst = (CAST(round(tax_amount * 100) AS INTEGER) - (CAST(round(tax_amount * 100) AS INTEGER) + 1) / 2) / 100.0, "
    "igst = 0",
]
TOTALS = (
    "UPDATE purchases_purchase SET cgst_total = coalesce((SELECT sum(i.cgst) FROM purchases_purchaseitem AS i "
    "WHERE i.purchase_id = purchases_purchase.id), 0), sgst_total = coalesce((SELECT sum(i.sgst) FROM "
    "purchases_purchaseitem AS i WHERE i.purchase_id = purchases_purchase.id), 0), igst_total = 0, "
    "place_of_supply = %s"
)


def split_existing(apps, schema_editor):
    from billing_project.core.gst import store_state_code

    connection = schema_editor.connection
    with connection.cursor() as cursor:
        for sql in POSTGRESQL if connection.vendor == "postgresql" else SQLITE:
            cursor.execute(sql)
        cursor.execute(TOTALS, [store_state_code()])


class Migration(migrations.Migration):

    dependencies = [
        ('purchases', '0026_gst_split_and_hsn_snapshot'),
    ]

    operations = [
        migrations.RunPython(split_existing, migrations.RunPython.noop, elidable=False),
    ]
