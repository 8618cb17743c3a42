"""Test helpers: a snapshot of everything a bill can write, to prove a refusal wrote nothing, and
the billing page's form data."""

import re
from decimal import Decimal

from cashdrawer.models import Denomination, DrawerMovement
from catalog.models import Product
from customers.models import Customer
from purchases.forms import note_field_name
from purchases.models import Payment, Purchase, PurchaseItem, Refund
from purchases.pricing import quote
from purchases.services import purchase_create, refund_create


def db_state() -> dict:
    return {
        "stock": dict(Product.objects.values_list("pk", "stock")),
        "active": dict(Product.objects.values_list("pk", "is_active")),
        "drawer": dict(Denomination.objects.values_list("value", "count")),
        "movements": DrawerMovement.objects.count(),
        "customers": sorted((e or "", p or "") for e, p in Customer.objects.values_list("email", "phone")),
        "purchases": Purchase.objects.count(),
        "items": PurchaseItem.objects.count(),
        "payments": Payment.objects.count(),
    }


def pieces(rows) -> dict:
    """[{value, count}] (API strings or Decimals) → {Decimal value: count}."""
    from decimal import Decimal

    return {Decimal(str(r["value"])): r["count"] for r in rows}


def form_data(*, email="ann@example.com", rows=(("RICE-5", 2),), notes=None, paid="", send_invoice=True, **extra):
    data = {
        "customer": email,  # the one "Customer" box: an email, a mobile number, or empty (walk-in)
        "paid_amount": paid,
        "lines-TOTAL_FORMS": str(len(rows)),
        "lines-INITIAL_FORMS": "0",
        "lines-MIN_NUM_FORMS": "0",
        "lines-MAX_NUM_FORMS": "200",
    }
    for index, (term, quantity) in enumerate(rows):
        data[f"lines-{index}-product"] = term
        data[f"lines-{index}-quantity"] = str(quantity)
    for value, count in (notes or {}).items():
        data[note_field_name(Decimal(value))] = str(count)
    if send_invoice:
        data["send_invoice"] = "on"
    return data | extra


NEW = "/billing/"


PREVIEW = "/billing/preview/"


def html(response) -> str:
    return response.content.decode()


def rows_html(response) -> list[str]:
    """The product rows of the billing page, in order (not the <template> row)."""
    found = re.findall(r'<tr class="line" data-line>.*?</tr>', html(response), flags=re.S)
    return [row for row in found if "__prefix__" not in row]


def input_value(fragment: str, name: str) -> str | None:
    match = re.search(rf'<input[^>]*name="{re.escape(name)}"[^>]*>', fragment)
    assert match, f"no input {name}"
    value = re.search(r'value="([^"]*)"', match.group(0))
    return value.group(1) if value else None


def ring_up(*lines, email="ann@example.com", till=None) -> Purchase:
    products = {p.pk: p for p, _ in lines}
    payable = quote(products, {p.pk: q for p, q in lines}).payable
    return purchase_create(
        customer_email=email,
        items=[{"product_id": p.pk, "quantity": q} for p, q in lines],
        paid_amount=payable,
        till=till,
    )


def refund(purchase, *lines, **kwargs) -> Refund:
    kwargs.setdefault("reason", "changed mind")
    return refund_create(
        purchase_id=purchase.pk, items=[{"product_id": p.pk, "quantity": q} for p, q in lines], **kwargs
    )


def decode_qr_image(image) -> str:
    """The text of the one QR code in ``image`` (a PIL image), decoded by zxing-cpp."""
    import zxingcpp

    found = [result for result in zxingcpp.read_barcodes(image) if result.format == zxingcpp.BarcodeFormat.QRCode]
    assert len(found) == 1, f"expected one QR code, found {len(found)}"
    return found[0].text


def decode_qr_svg(svg: str, *, scale: int = 8) -> str:
    """The text of a QR code drawn as segno draws it (an SVG of one path of unit modules, with a viewBox):
    drawn again as pixels, ``scale`` to a module, and decoded. Reads the modules off the SVG's path,
    so it checks the picture the SVG shows, not the data it was made from."""
    import re

    from PIL import Image, ImageDraw

    box = re.search(r'viewBox="0 0 (\d+) (\d+)"', svg)
    assert box is not None, "no viewBox in the SVG"
    size = int(box.group(1))
    image = Image.new("L", (size * scale, size * scale), 255)
    draw = ImageDraw.Draw(image)
    path = re.search(r'<path[^>]*class="qrline"[^>]*d="([^"]+)"', svg) or re.search(
        r'<path[^>]*stroke="#000"[^>]*d="([^"]+)"', svg
    )
    assert path is not None, "no dark path in the SVG"
    x = y = 0.0
    for command, number in re.findall(r"([Mmhv])\s*(-?[\d.]+(?:\s*-?[\d.]+)?)", path.group(1)):
        values = [float(v) for v in number.split()]
        if command == "M":
            x, y = values
        elif command == "m":
            x, y = x + values[0], y + values[1]
        elif command == "h":
            length = values[0]
            left, right = sorted((x, x + length))
            top = y - 0.5
            draw.rectangle([left * scale, top * scale, right * scale - 1, (top + 1) * scale - 1], fill=0)
            x += length
    return decode_qr_image(image)
