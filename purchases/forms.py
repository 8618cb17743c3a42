"""Forms of the billing page. They read what the cashier typed and turn it into the arguments of
``purchase_create``; the service decides whether the bill can be rung up."""

import re
from decimal import Decimal
from typing import Any, cast

from django import forms
from django.core.exceptions import ValidationError
from django.forms import BoundField, formset_factory

from billing_project.core.errors import DomainError, ErrorCode
from billing_project.core.quantities import MILLI, QUANTITY_MAX_DIGITS, QUANTITY_PLACES, quantity_problem
from billing_project.core.types import BillLine
from billing_project.core.validators import (
    ASCII_INTEGER,
    MAX_EMAIL_LENGTH,
    MAX_PHONE_LENGTH,
    indian_mobile_e164,
    validate_customer_email,
)
from cashdrawer.models import MAX_COUNT, Denomination
from catalog.barcodes import looks_like_barcode
from catalog.errors import UnknownCode
from catalog.selectors import CodeMatch, product_for_code

from .models import AMOUNT_MAX_DIGITS, DISCOUNT_REASON_MAX_LENGTH, PAYMENT_REFERENCE_MAX_LENGTH
from .preview import RowInput, pieces_total
from .sales_report import FIRST_DAY, LAST_DAY
from .selectors import MAX_PRODUCT_ID, product_for_term
from .serializers import MAX_QUANTITY
from .services import MAX_LINES, UTR_PATTERN

LINES_PREFIX = "lines"
DEFAULT_ROWS = 3

# Where a refusal from purchase_create is shown: next to the product row it names, or next to
# the payment.
_ROW_CODES = {ErrorCode.PRODUCT_NOT_FOUND, ErrorCode.PRODUCT_INACTIVE, ErrorCode.INSUFFICIENT_STOCK}
_PAYMENT_CODES = {
    ErrorCode.INSUFFICIENT_PAYMENT,
    ErrorCode.OVERPAYMENT,
    ErrorCode.UNKNOWN_PAYMENT_METHOD,
    ErrorCode.TENDER_MISMATCH,
    ErrorCode.CHANGE_UNAVAILABLE,
    ErrorCode.CHANGE_TOO_COMPLEX,
}


def value_label(value: Decimal) -> str:
    """500.00 → "500", 0.50 → "0.50"."""
    return str(value.quantize(Decimal(1))) if value == value.to_integral_value() else f"{value:.2f}"


def note_field_name(value: Decimal) -> str:
    return "note_" + f"{value:.2f}".replace(".", "_")


_ASCII_DECIMAL = re.compile(r"-?[0-9]+(?:\.[0-9]*)?|-?\.[0-9]+")


class AsciiIntegerField(forms.IntegerField):
    """Digits 0-9 only: ``int()`` would also read "５" (full-width) or "٥" as a quantity."""

    def to_python(self, value):
        if isinstance(value, str) and value.strip() and not ASCII_INTEGER.fullmatch(value.strip()):
            raise ValidationError(self.error_messages["invalid"], code="invalid")
        return super().to_python(value)


class AsciiDecimalField(forms.DecimalField):
    """Digits 0-9 only: ``Decimal()`` would also read "５"."""

    def to_python(self, value):
        if isinstance(value, str) and value.strip() and not _ASCII_DECIMAL.fullmatch(value.strip()):
            raise ValidationError(self.error_messages["invalid"], code="invalid")
        return super().to_python(value)


def _percent_field(label: str, **kwargs) -> "AsciiDecimalField":
    return AsciiDecimalField(
        label=label,
        required=False,
        min_value=Decimal("0"),
        max_value=Decimal("100"),
        max_digits=5,
        decimal_places=2,
        widget=forms.NumberInput(attrs={"step": "0.01", "inputmode": "decimal", "placeholder": "0"}),
        **kwargs,
    )


def _amount_field(label: str) -> "AsciiDecimalField":
    return AsciiDecimalField(
        label=label,
        required=False,
        min_value=Decimal("0.01"),
        max_digits=AMOUNT_MAX_DIGITS,
        decimal_places=2,
        widget=forms.NumberInput(attrs={"step": "0.01", "inputmode": "decimal", "placeholder": "0.00"}),
    )


def _reference_field(label: str) -> forms.CharField:
    return forms.CharField(
        label=label,
        required=False,
        max_length=PAYMENT_REFERENCE_MAX_LENGTH,
        widget=forms.TextInput(attrs={"autocomplete": "off"}),
    )


# The non-cash methods the billing page offers, each with an amount and a reference field.
SPLIT_METHODS = (("card", "Card"), ("upi", "UPI"))


class QuietBoundField(BoundField):
    """Renders without ``aria-invalid``: a re-display (row added, preview refreshed) does not
    announce errors the cashier has not asked to check yet."""

    def build_widget_attrs(self, attrs, widget=None):
        attrs = super().build_widget_attrs(attrs, widget)
        attrs.pop("aria-invalid", None)
        return attrs


MAX_CUSTOMER_LENGTH = max(MAX_EMAIL_LENGTH, MAX_PHONE_LENGTH)
CUSTOMER_HELP = "An email or a mobile number; leave it empty for a walk-in sale."
INVALID_CUSTOMER = (
    "Enter the customer's email, or an Indian mobile number: 10 digits starting with 6, 7, 8 or 9 "
    "(+91, 91 or 0 in front is fine)."
)


def clean_customer(value: str) -> str:
    """What a "Customer" box holds: ``""`` (nobody), an email (``@`` in it; the email rule of
    ``billing_project.core.validators``) or a mobile number, returned in E.164 form (the rule of
    ``billing_project.core.validators.indian_mobile_e164``)."""
    value = (value or "").strip()
    if not value:
        return ""
    if "@" in value:
        validate_customer_email(value)
        return value
    try:
        return indian_mobile_e164(value)
    except ValidationError:
        raise ValidationError(INVALID_CUSTOMER, code="invalid") from None


def customer_arguments(customer: str) -> dict[str, Any]:
    """A cleaned "Customer" box as ``purchase_create``'s or ``purchase_history``'s arguments."""
    if not customer:
        return {}
    return {"customer_email": customer} if "@" in customer else {"customer_phone": customer}


class BillForm(forms.Form):
    # One box for the customer: an email or a mobile number, each with its one rule and message
    # (EmailField would add Django's own check and repeat the message). Empty: a walk-in sale.
    customer = forms.CharField(
        label="Email or mobile number",
        required=False,
        max_length=MAX_CUSTOMER_LENGTH,
        help_text=CUSTOMER_HELP,
        widget=forms.TextInput(
            attrs={"autocomplete": "off", "placeholder": "name@example.com or 98765 43210", "autofocus": True}
        ),
    )
    paid_amount = AsciiDecimalField(
        label="Amount paid",
        required=False,
        min_value=Decimal("0"),
        max_digits=AMOUNT_MAX_DIGITS,
        decimal_places=2,
        help_text="In cash; only needed when the notes are not counted above.",
        widget=forms.NumberInput(attrs={"step": "0.01", "inputmode": "decimal", "placeholder": "0.00"}),
    )
    card_amount = _amount_field("Card amount")
    card_reference = _reference_field("Card slip no.")
    upi_amount = _amount_field("UPI amount")
    upi_reference = forms.CharField(
        label="UPI UTR (12 digits)",
        required=False,
        max_length=PAYMENT_REFERENCE_MAX_LENGTH,
        widget=forms.TextInput(attrs={"autocomplete": "off", "inputmode": "numeric", "placeholder": "12-digit UTR"}),
    )
    discount_percent = _percent_field("Bill discount %", help_text="Applied to every line, with each line's own.")
    discount_reason = forms.CharField(
        label="Discount reason",
        required=False,
        max_length=DISCOUNT_REASON_MAX_LENGTH,
        widget=forms.TextInput(attrs={"autocomplete": "off", "placeholder": "damaged box, loyal customer…"}),
    )
    send_invoice = forms.BooleanField(label="Email the invoice to the customer", required=False, initial=True)

    def clean_customer(self) -> str:
        return clean_customer(self.cleaned_data.get("customer", ""))

    def clean_upi_reference(self) -> str:
        # The service refuses it too (``purchase_create``); here it is shown beside the field.
        reference = self.cleaned_data.get("upi_reference", "").strip()
        if reference and not UTR_PATTERN.fullmatch(reference):
            raise ValidationError("The UPI reference is the 12-digit UTR from the customer's app.", code="bad_utr")
        return reference


class LineForm(forms.Form):
    product = forms.CharField(
        label="Product",
        max_length=200,
        widget=forms.TextInput(
            attrs={"list": "product-options", "autocomplete": "off", "placeholder": "Scan, or SKU, name or ID"}
        ),
    )
    quantity = AsciiDecimalField(
        label="Quantity",
        min_value=MILLI,
        max_value=MAX_QUANTITY,
        max_digits=QUANTITY_MAX_DIGITS,
        decimal_places=QUANTITY_PLACES,
        initial=1,
        # Whole numbers for goods sold each, up to 3 places (1.250 kg) for weighed ones.
        widget=forms.NumberInput(attrs={"inputmode": "decimal", "step": "any"}),
    )
    discount_percent = _percent_field("Discount %")

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.match = None  # the Product the text resolved to
        self.product_id: int | None = None  # what purchase_create gets; may name no product
        self.problem = ""
        self.scanned: CodeMatch | None = None  # a scanned barcode or scale label

    def clean_product(self):
        term = self.cleaned_data["product"].strip()
        if looks_like_barcode(term):
            # A barcode or a scale label (whose weight or price is the row's quantity); an unknown
            # one may still be a SKU or an id, as below.
            try:
                self.scanned = product_for_code(code=term)
            except UnknownCode:
                pass
            except DomainError as exc:
                self.problem = exc.message
                raise ValidationError(self.problem, code="bad_code") from None
            if self.scanned is not None:
                self.match, self.product_id = self.scanned.product, self.scanned.product.pk
                return term
        product, candidates = product_for_term(term=term)
        if product is not None:
            self.match, self.product_id = product, product.pk
        elif term.isdigit() and 0 < int(term) <= MAX_PRODUCT_ID:
            # An ID that names no product: purchase_create refuses it with product_not_found.
            self.product_id = int(term)
            self.problem = f"There is no product with ID {term}."
        elif candidates:
            names = ", ".join(f"{p.name} ({p.sku or p.pk})" for p in candidates[:5])
            self.problem = f"“{term}” matches {len(candidates)} products: {names}. Enter the SKU or ID."
            raise ValidationError(self.problem, code="ambiguous")
        else:
            self.problem = f"No product matches “{term}”."
            raise ValidationError(self.problem, code="no_match")
        return term

    def clean(self):
        cleaned = super().clean()
        assert cleaned is not None
        if self.scanned is not None and self.scanned.found_by == "scale_label":
            # The label's weight (or price) is the quantity, whatever the box says.
            cleaned["quantity"] = self.scanned.quantity
            self.errors.pop("quantity", None)
        quantity = cleaned.get("quantity")
        if self.match is not None and quantity is not None:
            problem = quantity_problem(quantity, self.match.unit)
            if problem:
                self.add_error("quantity", f"{self.match.name}: {problem}")
        return cleaned

    def scanned_row(self) -> dict[str, str] | None:
        """The row as it reads once a scale label is taken apart: the product's SKU (or id) and the
        label's quantity; ``None`` for any other row."""
        self.errors  # noqa: B018
        if self.scanned is None or self.scanned.found_by != "scale_label":
            return None
        product = self.scanned.product
        return {"product": product.sku or str(product.pk), "quantity": f"{self.scanned.quantity:.3f}"}

    def row_input(self, index: int) -> RowInput:
        """This row for the preview; forgiving, so a half-typed row previews what it can."""
        self.errors  # noqa: B018  (runs the validation that resolves the product)
        term = str(self["product"].value() or "").strip()
        quantity = self.cleaned_data.get("quantity") if "quantity" not in self.errors else None
        discount = self.cleaned_data.get("discount_percent") if "discount_percent" not in self.errors else None
        return RowInput(
            index=index,
            term=term,
            product=self.match,
            quantity=quantity,
            problem=self.problem,
            discount=discount or Decimal("0"),
        )


class BaseLineFormSet(forms.BaseFormSet):
    def items(self) -> list[BillLine]:
        """The filled-in rows as ``purchase_create`` items; blank rows are skipped."""
        items: list[BillLine] = []
        for form in self.forms:
            if form.product_id is None:
                continue
            item: BillLine = {"product_id": form.product_id, "quantity": form.cleaned_data["quantity"]}
            if form.cleaned_data.get("discount_percent"):
                item["discount_percent"] = form.cleaned_data["discount_percent"]
            items.append(item)
        return items


# The stub types the result as a plain BaseFormSet; it is a BaseLineFormSet.
LineFormSet = cast(
    type[BaseLineFormSet],
    formset_factory(
        LineForm,
        formset=BaseLineFormSet,
        extra=DEFAULT_ROWS,
        max_num=MAX_LINES,
        absolute_max=MAX_LINES,
        validate_max=True,
    ),
)


class TenderForm(forms.Form):
    """One count per drawer denomination, highest first."""

    def __init__(self, *args, denominations: list[Denomination], **kwargs):
        super().__init__(*args, **kwargs)
        self.denominations = denominations
        for denomination in denominations:
            self.fields[note_field_name(denomination.value)] = AsciiIntegerField(
                label=value_label(denomination.value),
                required=False,
                min_value=0,
                max_value=MAX_COUNT,
                widget=forms.NumberInput(attrs={"inputmode": "numeric", "placeholder": "0", "class": "note-count"}),
            )

    def notes(self):
        """``(denomination, bound field)`` pairs for the template."""
        return [(d, self[note_field_name(d.value)]) for d in self.denominations]

    def pieces(self) -> dict[Decimal, int]:
        """The notes and coins counted, ``{value: count}``; fields with an error are left out."""
        self.errors  # noqa: B018
        pieces = {}
        for denomination in self.denominations:
            count = self.cleaned_data.get(note_field_name(denomination.value))
            if count:
                pieces[denomination.value] = count
        return pieces


class BillEntry:
    """The whole billing page: customer and payment, product rows and the notes tendered.

    ``quiet`` entries are re-displays (a row added or removed, the preview refreshed): they keep
    what was typed but do not show validation errors yet."""

    def __init__(self, data=None, *, denominations: list[Denomination], quiet: bool = False):
        self.data = data
        self.quiet = quiet
        display: dict[str, Any] = {"bound_field_class": QuietBoundField} if quiet else {}
        self.bill = BillForm(data, **display)
        self.lines = LineFormSet(data, prefix=LINES_PREFIX, form_kwargs=display)
        self.tender = TenderForm(data, denominations=denominations, **display)
        self.refusal: DomainError | None = None
        self.refusal_target = ""
        self.lines_errors: list[str] = []
        self.payment_errors: list[str] = []
        self.discount_errors: list[str] = []

    @property
    def show_errors(self) -> bool:
        return self.data is not None and not self.quiet

    def is_valid(self) -> bool:
        results = [self.bill.is_valid(), self.lines.is_valid(), self.tender.is_valid()]
        return all(results)

    def purchase_kwargs(self) -> dict:
        """``purchase_create``'s arguments. Call after ``is_valid()``. Without card or UPI amounts the
        bill is paid in cash with the ``paid_amount`` shorthand, exactly as before split tender."""
        data = self.bill.cleaned_data
        pieces = self.tender.pieces()
        paid_amount = data["paid_amount"]
        if paid_amount is None:
            # The notes are the payment; with neither, purchase_create refuses the bill as unpaid.
            paid_amount = pieces_total(pieces)
        tendered = [{"value": value, "count": count} for value, count in pieces.items()] or None
        kwargs: dict[str, Any] = {
            **customer_arguments(data["customer"]),
            "items": self.lines.items(),
            "send_invoice": data["send_invoice"],  # the "email the invoice" opt-out
        }
        non_cash = self.non_cash_payments()
        if non_cash:
            cash = [{"method": "cash", "amount": paid_amount, "tendered": tendered or []}] if paid_amount else []
            kwargs["payments"] = non_cash + cash
        else:
            kwargs |= {"paid_amount": paid_amount, "tendered": tendered}
        if data.get("discount_percent"):
            kwargs["discount_percent"] = data["discount_percent"]
        if data.get("discount_reason"):
            kwargs["discount_reason"] = data["discount_reason"]
        return kwargs

    def non_cash_payments(self) -> list[dict]:
        """The card and UPI payments entered (valid fields only), with their references."""
        self.bill.errors  # noqa: B018
        data = self.bill.cleaned_data
        payments = []
        for code, _name in SPLIT_METHODS:
            amount = data.get(f"{code}_amount") if f"{code}_amount" not in self.bill.errors else None
            if amount:
                payments.append({"method": code, "amount": amount, "reference": data.get(f"{code}_reference") or ""})
        return payments

    def preview_arguments(self) -> dict:
        """``bill_preview``'s arguments, from whatever part of the page is valid so far."""
        if self.data is None:
            rows = [RowInput(index=index) for index in range(self.lines.total_form_count())]
            return {"rows": rows, "tendered": {}, "paid_amount": None, "denominations": self.tender.denominations}
        self.bill.errors  # noqa: B018
        paid_amount = self.bill.cleaned_data.get("paid_amount") if "paid_amount" not in self.bill.errors else None
        bill_discount = (
            self.bill.cleaned_data.get("discount_percent") if "discount_percent" not in self.bill.errors else None
        )
        forms_ = self.lines.forms if self.lines.management_form.is_valid() else []
        return {
            "rows": [form.row_input(index) for index, form in enumerate(forms_)],
            "tendered": self.tender.pieces(),
            "paid_amount": paid_amount,
            "denominations": self.tender.denominations,
            "non_cash": [p["amount"] for p in self.non_cash_payments()],
            "bill_discount": bill_discount or Decimal("0"),
            "discount_reason": self.bill.cleaned_data.get("discount_reason", ""),
        }

    def customer(self) -> str:
        """The customer typed, when it is a valid email or mobile number (E.164); else ''."""
        if self.data is None:
            return ""
        self.bill.errors  # noqa: B018
        return self.bill.cleaned_data.get("customer", "") if "customer" not in self.bill.errors else ""

    def add_refusal(self, exc: DomainError) -> None:
        """Show a refusal from ``purchase_create`` next to its cause."""
        self.refusal = exc
        product_id = exc.details.get("product_id")
        rows = [form for form in self.lines.forms if product_id is not None and form.product_id == product_id]
        if exc.code in _ROW_CODES and rows:
            for form in rows:
                form.add_error("product", exc.message)
            self.refusal_target = rows[0]["product"].auto_id
        elif (
            exc.code == ErrorCode.DISCOUNT_NEEDS_MANAGER or {"discount_reason", "discount_percent"} & exc.details.keys()
        ):
            self.discount_errors.append(exc.message)
            self.refusal_target = "discounts"
        elif exc.code in _PAYMENT_CODES or {"paid_amount", "tendered", "payments"} & exc.details.keys():
            self.payment_errors.append(exc.message)
            self.refusal_target = "payment"
        elif exc.code == ErrorCode.CUSTOMER_CONFLICT or {"customer_email", "customer_phone"} & exc.details.keys():
            self.bill.add_error("customer", exc.message)
            self.refusal_target = self.bill["customer"].auto_id
        else:
            # "items" (no lines, too many, too large) and anything without a more precise place.
            self.lines_errors.append(exc.message)
            self.refusal_target = "lines"

    def focus_problem(self) -> None:
        """Move the page's autofocus from the customer to the first field that needs attention."""
        fields = [self.bill[name] for name in ("customer",) if name in self.bill.errors]
        fields += [form[name] for form in self.lines.forms for name in ("product", "quantity") if name in form.errors]
        if self.lines_errors and self.lines.forms:
            fields.append(self.lines.forms[0]["product"])
        if self.payment_errors or self.tender.errors or "paid_amount" in self.bill.errors:
            fields.append(next(iter(self.tender), None) or self.bill["paid_amount"])
        target = next((field for field in fields if field is not None), None)
        if target is not None:
            self.bill.fields["customer"].widget.attrs.pop("autofocus", None)
            target.field.widget.attrs["autofocus"] = True

    def with_row_added(self) -> "BillEntry":
        return self._edited(add=True)

    def with_row_removed(self, index: int) -> "BillEntry":
        return self._edited(remove=index)

    def refreshed(self) -> "BillEntry":
        return self._edited()

    def _edited(self, *, add: bool = False, remove: int | None = None) -> "BillEntry":
        data = self.data.copy()
        keys = ("product", "quantity", "discount_percent")
        total = self.lines.total_form_count()
        rows = [{key: data.get(f"{LINES_PREFIX}-{i}-{key}", "") for key in keys} for i in range(total)]
        if self.lines.management_form.is_valid():
            for i, form in enumerate(self.lines.forms[:total]):
                rows[i].update(form.scanned_row() or {})
        if remove is not None and 0 <= remove < len(rows):
            rows.pop(remove)
        if (add and len(rows) < MAX_LINES) or not rows:
            rows.append({"product": "", "quantity": "1", "discount_percent": ""})
        for i in range(total):
            for key in keys:
                data.pop(f"{LINES_PREFIX}-{i}-{key}", None)
        for i, row in enumerate(rows):
            for key in keys:
                data[f"{LINES_PREFIX}-{i}-{key}"] = row[key]
        data[f"{LINES_PREFIX}-TOTAL_FORMS"] = str(len(rows))
        data[f"{LINES_PREFIX}-INITIAL_FORMS"] = "0"
        return BillEntry(data, denominations=self.tender.denominations, quiet=True)


def validate_report_day(day) -> None:
    """A filter's day within the days a report may name: a far-off one is a typing mistake, and the
    day after it must still be a date."""
    if not FIRST_DAY <= day <= LAST_DAY:
        raise ValidationError(f"Enter a day from {FIRST_DAY} to {LAST_DAY}.", code="day_out_of_range")


class HistoryFilterForm(forms.Form):
    customer = forms.CharField(
        label="Email or mobile number",
        required=False,
        max_length=MAX_CUSTOMER_LENGTH,
        widget=forms.TextInput(attrs={"placeholder": "email or mobile number"}),
    )
    date_from = forms.DateField(
        label="From", required=False, validators=[validate_report_day], widget=forms.DateInput(attrs={"type": "date"})
    )
    date_to = forms.DateField(
        label="To", required=False, validators=[validate_report_day], widget=forms.DateInput(attrs={"type": "date"})
    )

    def clean_customer(self) -> str:
        return clean_customer(self.cleaned_data.get("customer", ""))

    def clean(self):
        cleaned = super().clean()
        assert cleaned is not None  # Form.clean returns cleaned_data
        date_from, date_to = cleaned.get("date_from"), cleaned.get("date_to")
        if date_from and date_to and date_from > date_to:
            self.add_error("date_to", "The end date is before the start date.")
        return cleaned

    def filters(self) -> dict:
        """``purchase_history`` keyword arguments from the valid fields; invalid ones are ignored."""
        if not self.is_bound:
            return {}
        self.errors  # noqa: B018
        cleaned = self.cleaned_data
        return {
            **customer_arguments(cleaned.get("customer", "")),
            "date_from": cleaned.get("date_from"),
            "date_to": cleaned.get("date_to"),
        }
