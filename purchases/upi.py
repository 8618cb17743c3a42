"""The UPI QR code a customer scans at the counter to pay the store (``UPI_VPA``, ``UPI_PAYEE_NAME``).

The code holds a UPI deep link (NPCI's ``upi://pay``): the store's VPA (``pa``), its name (``pn``),
the amount with 2 places (``am``), the currency (``cu=INR``) and the bill's reference as the
transaction note (``tn``), each URL-encoded (``%20`` for a space; the ``@`` of the VPA is kept, as
every UPI app writes it). The QR code is an SVG drawn by segno; it has a white quiet zone of 4
modules, so it scans on any background.
"""

import re
from dataclasses import dataclass
from decimal import Decimal
from io import BytesIO
from urllib.parse import quote

import segno
from django.conf import settings

from billing_project.core.errors import DomainError, ErrorCode, ValidationFailed
from billing_project.core.money import CENT

from .models import AMOUNT_MAX_DIGITS

UPI_REF_MAX_LENGTH = 50
AMOUNT_QUERY_PATTERN = r"^[0-9]{1,16}(\.[0-9]{1,2})?$"
AMOUNT_LIMIT = Decimal(10) ** (AMOUNT_MAX_DIGITS - 2)


class UpiNotConfigured(DomainError):
    code = ErrorCode.UPI_NOT_CONFIGURED
    default_message = "This store takes no UPI by QR code: UPI_VPA is not set."


@dataclass(frozen=True)
class UpiQr:
    uri: str
    svg: str


def upi_amount(value: object) -> Decimal:
    """``value`` (a string as a query gives it) as a UPI amount: digits with at most 2 decimal places,
    above 0 (``AMOUNT_QUERY_PATTERN``), or ``ValidationFailed`` on ``amount``."""
    text = str(value) if value is not None else ""
    amount = Decimal(text) if re.fullmatch(AMOUNT_QUERY_PATTERN, text) else None
    if amount is None or amount <= 0 or amount >= AMOUNT_LIMIT:
        raise ValidationFailed(
            "A UPI amount is above 0 with at most 2 decimal places.",
            details={"amount": ["Enter an amount above 0 with at most 2 decimal places."]},
        )
    return amount.quantize(CENT)


def upi_reference(value: object) -> str:
    """The transaction note (the bill's reference): printable text up to 50 characters."""
    ref = str(value or "").strip()
    if len(ref) > UPI_REF_MAX_LENGTH or not ref.isprintable():
        raise ValidationFailed(
            f"A UPI reference is printable text of at most {UPI_REF_MAX_LENGTH} characters.",
            details={"ref": ["Invalid reference."]},
        )
    return ref


def upi_configured() -> bool:
    return bool(settings.UPI_VPA)


def upi_uri(*, amount: Decimal, ref: str = "") -> str:
    """The ``upi://pay`` link for ``amount`` (2 places) with ``ref`` as its note (left out when empty)."""
    if not upi_configured():
        raise UpiNotConfigured()
    params = [
        ("pa", quote(settings.UPI_VPA, safe="@")),
        ("pn", quote(settings.UPI_PAYEE_NAME or settings.STORE_NAME, safe="")),
        ("am", f"{amount:.2f}"),
        ("cu", "INR"),
    ]
    if ref:
        params.append(("tn", quote(ref, safe="")))
    return "upi://pay?" + "&".join(f"{key}={value}" for key, value in params)


def upi_qr(*, amount: object, ref: object = "") -> UpiQr:
    """The link and its QR code as SVG (a ``viewBox``, no fixed size: the page sizes it).
    ``ValidationFailed`` for a bad reference or amount (checked first, so a bad request is the same
    400 in every store); then ``UpiNotConfigured`` without ``UPI_VPA``."""
    ref = upi_reference(ref)
    checked = upi_amount(amount)
    if not upi_configured():
        raise UpiNotConfigured()
    uri = upi_uri(amount=checked, ref=ref)
    out = BytesIO()
    segno.make(uri, error="m").save(
        out, kind="svg", scale=1, border=4, dark="#000", light="#fff", xmldecl=False, omitsize=True, nl=False
    )
    return UpiQr(uri=uri, svg=out.getvalue().decode())
