"""Tax invoice and credit note PDFs (issue 13): their text through pypdf, page 1 as a PNG."""

import html
import os
import re
import subprocess
import sys
import unicodedata
from dataclasses import replace
from datetime import datetime
from decimal import Decimal
from pathlib import Path

import pytest
from django.utils import timezone

from cashdrawer.tests.factories import INR, drawer_with
from catalog.tests.factories import ProductFactory
from catalog.tests.stores import set_default_store
from purchases.documents import (
    CREDIT_NOTE,
    INVOICE,
    DocumentLine,
    TaxDocument,
    document_pdf,
    invoice_document,
    split_tax,
)
from purchases.models import Purchase
from purchases.selectors import purchase_get
from purchases.services import purchase_create
from purchases.tests.pdf import pdf_fonts_of, pdf_text_of, pdf_words_of, save_first_page_png

pytestmark = pytest.mark.django_db

D = Decimal
API = "/api/v1"


def amounts_in(text: str) -> set[str]:
    return set(re.findall(r"[0-9][0-9,]*\.[0-9]{2}", text))


@pytest.fixture
def bill(db, settings):
    settings.TAX_SPLIT = "cgst_sgst"
    set_default_store(
        legal_name="Corner Grocer Pvt Ltd", gstin="27AAACR4849R1ZL", state_code="27", address="12 Market Road, Pune"
    )
    drawer_with(dict.fromkeys(INR, 10))
    rice = ProductFactory(name="Basmati rice 5 kg", price=D("549.00"), tax_percent=D("5"), hsn_code="1006", stock=10)
    soap = ProductFactory(name="Neem soap", price=D("33.33"), tax_percent=D("18"), hsn_code="3401", stock=10)
    oil = ProductFactory(name="Mustard oil 1 l", price=D("181.10"), tax_percent=D("5"), stock=10)
    purchase = purchase_create(
        customer_email="ann@example.com",
        items=[
            {"product_id": rice.pk, "quantity": 2},
            {"product_id": soap.pk, "quantity": 3},
            {"product_id": oil.pk, "quantity": 1},
        ],
        paid_amount=D("2000"),
        send_invoice=False,
    )
    return purchase_get(purchase_id=purchase.pk)


@pytest.mark.parametrize(
    ("tax", "halves"),
    [(D("54.90"), (D("27.45"), D("27.45"))), (D("0.05"), (D("0.03"), D("0.02"))), (D("0"), (D("0"), D("0")))],
)
def test_split_tax_halves_add_up_exactly(tax, halves):
    assert split_tax(tax) == halves
    assert sum(split_tax(tax)) == tax


def test_invoice_pdf_holds_number_lines_tax_summary_and_halves(bill, settings):
    document = invoice_document(bill)
    pdf = document_pdf(document)
    text = pdf_text_of(pdf)
    png = save_first_page_png(pdf, "invoice-page-1")

    assert pdf.startswith(b"%PDF-")
    assert bill.number in text
    assert "Tax Invoice" in text and "DUPLICATE" not in text
    assert "27AAACR4849R1ZL" in text and "Corner Grocer Pvt Ltd" in text and "ann@example.com" in text
    for item in bill.items.all():
        assert item.product_name in text
    assert "1006" in text and "3401" in text
    figures = amounts_in(text)
    # The tax summary: per HSN code and rate, its taxable value and tax; together they are the bill's.
    summary = document.tax_summary()
    assert [(s.hsn_code, s.tax_percent) for s in summary] == [("1006", D("5")), ("3401", D("18")), ("", D("5"))]
    assert sum(s.taxable_value for s in summary) == bill.subtotal
    assert sum(s.tax for s in summary) == bill.tax_total
    for rate in summary:
        assert rate.cgst + rate.sgst == rate.tax
        for figure in (rate.taxable_value, rate.tax, rate.cgst, rate.sgst):
            assert f"{figure:,.2f}" in figures
    for figure in (bill.subtotal, bill.tax_total, bill.total, bill.payable):
        assert f"{figure:,.2f}" in figures
    # The soap line's tax, 3 × 33.33 × 18% = 18.00 → 9.00 + 9.00; rice 54.90 → 27.45 + 27.45.
    assert "27.45" in figures and "9.00" in figures
    assert "CGST" in text and "SGST" in text
    assert "₹" in text
    assert "Rupees" in text and "Only" in text
    if png is not None:
        assert png.stat().st_size > 10_000


def test_an_unregistered_store_issues_a_bill_of_supply_without_a_split(bill):
    set_default_store(gstin="", state_code="")
    dal = ProductFactory(name="Toor dal 1 kg", price=D("149.00"), tax_percent=D("5"), hsn_code="0713", stock=10)
    bill = purchase_get(
        purchase_id=purchase_create(
            items=[{"product_id": dal.pk, "quantity": 1}], paid_amount=D("200"), send_invoice=False
        ).pk
    )
    text = pdf_text_of(document_pdf(invoice_document(bill)))
    assert "Bill of Supply" in text and "Tax Invoice" not in text
    assert "CGST" not in text and "IGST" not in text and bill.number in text


# A product name in each script a shop in India may print, and the font that must draw it.
INDIAN_NAMES = {
    "Noto-Sans-Devanagari": "बासमती चावल ५ किलो",
    "Noto-Sans-Tamil": "பொன்னி அரிசி 5 கிலோ",
    "Noto-Sans-Telugu": "సోనా మసూరి బియ్యం",
    "Noto-Sans-Bengali": "গোবিন্দভোগ চাল ১ কেজি",
    "Noto-Sans-Gujarati": "તુવેર દાળ ૧ કિલો",
    "Noto-Sans-Kannada": "ರಾಗಿ ಹಿಟ್ಟು ೧ ಕಿಲೋ",
    "Noto-Sans-Malayalam": "മട്ട അരി ൫ കിലോ",
}


def letters(text: str) -> str:
    """``text`` without its vowel signs, viramas and other combining marks, joiners and spaces.

    A PDF's text layer maps each glyph back to characters. After shaping, one glyph of an Indic
    syllable may stand for several characters, or a vowel sign may be drawn before the consonant
    it follows, and the map then gives the marks back in another order or on another glyph
    ("কেজি" reads back as "কজি", "கிலோ" as "கிலொ"). The letters themselves (consonants,
    independent vowels, digits) come back in order, so those are what a search of the text finds."""
    return "".join(
        ch
        for ch in unicodedata.normalize("NFC", text)
        if not ch.isspace() and unicodedata.category(ch) not in ("Mn", "Mc", "Cf")
    )


def indian_document(**overrides) -> TaxDocument:
    lines = [
        DocumentLine(name, "1006", 1, D("99.00"), D("99.00"), D("5"), D("4.95"), D("103.95"))
        for name in INDIAN_NAMES.values()
    ]
    return TaxDocument(
        kind=INVOICE,
        number="M/2627/000042",
        issued_at=datetime(2026, 11, 30, 12, tzinfo=timezone.get_current_timezone()),
        billed_to="ann@example.com",
        lines=lines,
        rounding=D("-0.65"),
        **overrides,
    )


def test_names_in_each_indian_script_are_drawn_with_its_font_and_reach_the_text_layer():
    pdf = document_pdf(indian_document())
    text = pdf_text_of(pdf)
    fonts = pdf_fonts_of(pdf)
    save_first_page_png(pdf, "invoice-indian-scripts")

    for font, name in INDIAN_NAMES.items():
        assert font in fonts, f"{name!r} is not drawn with {font}: {sorted(fonts)}"
        assert letters(name) in letters(text), f"{name!r} is missing from the text layer"
    # Latin text and the rupee sign keep the Latin font.
    assert "DejaVu-Sans" in fonts and "₹" in text


def test_a_long_unbroken_name_wraps_and_leaves_every_column_on_the_page():
    # With a discount, and within the state (CGST and SGST columns): the widest layout is under test.
    line = DocumentLine(
        "W" * 200, "10061234", 7, D("4321.50"), D("30240.50"), D("18"), D("5443.29"), D("35683.79"), D("10.00")
    )
    document = TaxDocument(
        kind=INVOICE,
        number="M/2627/000043",
        issued_at=datetime(2026, 11, 30, 12, tzinfo=timezone.get_current_timezone()),
        billed_to="ann@example.com",
        lines=[line],
        rounding=D("0.21"),
    )
    pdf = document_pdf(document)
    save_first_page_png(pdf, "invoice-long-name")
    [page] = pdf_words_of(pdf)

    name_parts = [word for word in page.words if word.text.startswith("WWW")]
    # The name is broken over several lines of its cell, all of it on the page.
    assert len(name_parts) > 1 and "".join(word.text for word in name_parts) == "W" * 200
    first = name_parts[0]
    row = {word.text: word for word in page.words if abs(word.y_min - first.y_min) < 2 and word is not first}
    for value in ("10061234", "7", "4,321.50", "10.00", "30,240.50", "18%", "2,721.65", "2,721.64", "35,683.79"):
        assert value in row, f"{value} is not on the line's row: {sorted(row)}"
        assert first.x_max < row[value].x_min and row[value].x_max <= page.width
    assert all(word.x_max <= page.width for word in page.words)


def test_credit_note_from_a_constructed_document_names_the_original_invoice():
    note = TaxDocument(
        kind=CREDIT_NOTE,
        number="CM/2627/000007",
        issued_at=datetime(2026, 11, 30, 12, tzinfo=timezone.get_current_timezone()),
        billed_to="ann@example.com",
        lines=[DocumentLine("Neem soap", "3401", 1, D("33.33"), D("33.33"), D("18"), D("6.00"), D("39.33"))],
        rounding=D("-0.33"),
        payments=[("Cash", D("39.00"))],
        original_number="M/2627/000123",
    )
    pdf = document_pdf(note)
    text = pdf_text_of(pdf)
    save_first_page_png(pdf, "credit-note-page-1")

    assert "Credit Note" in text
    assert "CM/2627/000007" in text and "M/2627/000123" in text
    assert "Neem soap" in text and "39.00" in text and "Amount credited" in text


def test_api_invoice_pdf_first_print_is_the_original_then_duplicates(bill, admin_api):
    first = admin_api.get(f"{API}/purchases/{bill.pk}/invoice.pdf")
    second = admin_api.get(f"{API}/purchases/{bill.pk}/invoice.pdf")

    assert first.status_code == 200 and first["Content-Type"] == "application/pdf"
    assert "ORIGINAL FOR RECIPIENT" in pdf_text_of(first.content)
    assert "DUPLICATE" not in pdf_text_of(first.content)
    assert "DUPLICATE" in pdf_text_of(second.content)
    assert "ORIGINAL FOR RECIPIENT" not in pdf_text_of(second.content)
    assert bill.number in pdf_text_of(second.content)
    assert (first["X-Duplicate"], second["X-Duplicate"]) == ("0", "1")
    assert Purchase.objects.get(pk=bill.pk).invoice_printed_at is not None


def test_api_invoice_pdf_of_an_unknown_bill_is_404(admin_api, db):
    response = admin_api.get(f"{API}/purchases/999999/invoice.pdf")
    assert response.status_code == 404
    assert response.json()["code"] == "not_found"


def test_api_finds_a_bill_by_number(bill, admin_api):
    response = admin_api.get(f"{API}/purchases", {"number": bill.number.lower()})
    assert response.status_code == 200
    assert [row["id"] for row in response.json()["results"]] == [bill.pk]
    assert response.json()["results"][0]["number"] == bill.number
    assert admin_api.get(f"{API}/purchases", {"number": "M/2627/999999"}).json()["results"] == []


def test_the_pdf_the_pages_and_the_emails_use_the_one_font_stack(bill, settings, client, superuser):
    from django.contrib.staticfiles import finders

    from billing_project.core.fonts import font_stack
    from purchases.documents.render import DOCUMENT_CSS
    from purchases.invoices import invoice_render

    stack = font_stack()
    client.force_login(superuser)
    page = client.get("/billing/history/").content.decode()
    fonts_css = Path(str(finders.find("core/fonts.css"))).read_text()
    [(email_html, _)] = invoice_render(bill).alternatives

    for script in ("Devanagari", "Bengali", "Gujarati", "Tamil", "Telugu", "Kannada", "Malayalam"):
        assert f'"Noto Sans {script}"' in stack
    assert stack.startswith('"DejaVu Sans"')  # the Latin text and ₹
    assert f"--font-text: {stack};" in " ".join(fonts_css.split())
    assert "/static/core/fonts.css" in page
    for stylesheet in ("purchases/billing.css", "purchases/admin.css"):
        assert "var(--font-text)" in Path(str(finders.find(stylesheet))).read_text()
    assert "font-family: var(--font-text)" in DOCUMENT_CSS.read_text()
    assert html.unescape(str(email_html)).count(stack) == 1


def test_the_discount_column_is_there_only_when_a_line_has_a_discount(bill):
    plain = invoice_document(bill)
    discounted = replace(plain, lines=[replace(plain.lines[0], discount=D("5.00")), *plain.lines[1:]])

    assert "Discount" not in pdf_text_of(document_pdf(plain)).split("Tax summary")[0]
    assert "Discount" in pdf_text_of(document_pdf(discounted)).split("Tax summary")[0]


def test_a_client_that_asks_for_a_pdf_gets_it_and_a_refusal_in_json(bill, admin_api):
    pdf = admin_api.get(f"{API}/purchases/{bill.pk}/invoice.pdf", HTTP_ACCEPT="application/pdf")
    missing = admin_api.get(f"{API}/purchases/999999/invoice.pdf", HTTP_ACCEPT="application/pdf")

    assert pdf.status_code == 200 and pdf["Content-Type"] == "application/pdf"
    assert pdf.content.startswith(b"%PDF-")
    assert missing.status_code == 404 and missing["Content-Type"] == "application/json"
    assert missing.json()["code"] == "not_found"


def _without_dates(pdf: bytes) -> bytes:
    return re.sub(rb"/(CreationDate|ModDate) \([^)]*\)", b"", pdf)


@pytest.mark.parametrize(
    "kind",
    ["bill", "b2b inter-state with an address, MRP and discount", "indian scripts", "credit note", "60 lines"],
)
def test_the_pdf_is_the_same_byte_for_byte_without_the_templates_indentation(kind, bill):
    """``_write_pdf`` drops the whitespace between tags that the templates' indentation leaves; the
    document drawn from the template's HTML as written is the same, byte for byte (but its dates)."""
    from weasyprint import HTML  # type: ignore[import-untyped]

    from purchases.documents import document_html
    from purchases.documents.render import _font_config, _stylesheets

    line = DocumentLine("Ghee 1 l", "0405", 2, D("610.00"), D("1200.00"), D("12"), D("144.00"), D("1344.00"))
    documents = {
        "bill": lambda: invoice_document(purchase_get(purchase_id=bill.pk)),
        "b2b inter-state with an address, MRP and discount": lambda: replace(
            indian_document(),
            lines=[replace(line, mrp=D("650.00"), discount=D("20.00"), cgst=D("0"), sgst=D("0"), igst=D("144.00"))],
            mode="inter",
            place_of_supply="29",
            buyer_gstin="29AAACR4849R1ZK",
            buyer_name="Hotel Udupi Pvt Ltd",
            buyer_address="4 Temple Street\nBengaluru",
            you_saved=D("100.00"),
        ),
        "indian scripts": indian_document,
        "credit note": lambda: replace(indian_document(), kind=CREDIT_NOTE, original_number="M/2627/000001"),
        "60 lines": lambda: replace(indian_document(), lines=[line] * 60),
    }
    document = documents[kind]()
    as_written = document_html(document)
    assert re.search(r">\s*\n\s*<", as_written)  # the template's HTML has indentation to drop

    drawn = HTML(string=as_written).write_pdf(stylesheets=_stylesheets(), font_config=_font_config())

    assert _without_dates(document_pdf(document)) == _without_dates(drawn)


def test_a_process_that_has_printed_with_the_collector_off_exits_without_a_crash(settings):
    """A process that runs as a web worker does, with the cycle collector off
    (``core.collector.worker_started``), renders in its main thread and exits before a collection:
    its font configuration used to be freed at the very end of the interpreter's exit, after Pango's
    libraries, and the process died of a segmentation fault (``bench/scale.py`` did, after its
    table)."""
    script = (
        "import django\n"
        "django.setup()\n"
        "from billing_project.core import collector\n"
        "from purchases.documents.render import ORIGINAL, copy_mark_pdf\n"
        "collector.worker_started()\n"
        "assert copy_mark_pdf(ORIGINAL).startswith(b'%PDF')\n"
    )
    root = str(settings.BASE_DIR)
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "billing_project.settings.test", "PYTHONPATH": root}
    done = subprocess.run([sys.executable, "-c", script], cwd=root, env=env, capture_output=True, timeout=120)  # noqa: S603

    assert done.returncode == 0, (done.returncode, done.stderr.decode()[-2000:])
