"""The cashier's "Return items" page: take lines of a bill back, and the refund receipt.

Thin, as the bill pages are: ``RefundForm`` reads the input, ``refund_create`` does the rest, and a
refusal is shown on the form with the service's own message."""

from decimal import Decimal

from django import forms
from django.contrib import messages
from django.http import Http404
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET, require_http_methods

from billing_project.core.errors import DomainError, ErrorCode
from billing_project.core.idempotency import page_once, page_submission_key
from billing_project.core.quantities import MILLI, QUANTITY_MAX_DIGITS, QUANTITY_PLACES, Unit
from billing_project.core.roles import role_required
from billing_project.core.types import BillLine
from cashdrawer.browser import current_till
from cashdrawer.errors import NotPermitted
from catalog.stores import can_see, store_rule

from .documents import credit_note_pdf_print, pdf_page_throttle, pdf_response
from .models import Purchase, PurchaseItem, Refund
from .selectors import purchase_get, refund_get
from .services import refund_create
from .views import SEE_BILLS

MAKE_REFUNDS = "purchases.add_refund"
# Who may open the return page: anyone who rings up bills; refund_create then wants add_refund or
# a manager's override.
RETURN_PAGE = "purchases.add_purchase"


def _left(item: PurchaseItem) -> int | Decimal:
    """What is left of a line to take back: a whole number for ``each``, 3 places for a measure."""
    left = item.quantity - item.refunded_quantity
    return int(left) if item.unit == Unit.EACH else left.quantize(MILLI)


class RefundForm(forms.Form):
    """One quantity per bill line, capped at what is left of it, a reason and restock."""

    reason = forms.CharField(max_length=255, help_text="Why the goods come back.")
    # One key per rendering of the form: a second submit of the same page (a double click, a
    # reload that re-posts) replays the first refund instead of making another.
    submission = forms.CharField(widget=forms.HiddenInput, max_length=64, required=False)
    restock = forms.BooleanField(required=False, initial=True, label="Put the goods back in stock")

    def __init__(self, *args, lines: list[PurchaseItem], **kwargs):
        super().__init__(*args, **kwargs)
        self.lines = lines
        for item in lines:
            left = _left(item)
            if isinstance(left, int):  # sold each
                field: forms.Field = forms.IntegerField(
                    min_value=0, max_value=left, initial=0, required=False, label=item.product_name, disabled=not left
                )
            else:  # a weighed line: to the gram
                field = forms.DecimalField(
                    min_value=0,
                    max_value=left,
                    max_digits=QUANTITY_MAX_DIGITS,
                    decimal_places=QUANTITY_PLACES,
                    initial=0,
                    required=False,
                    label=item.product_name,
                    disabled=not left,
                )
            self.fields[f"qty_{item.pk}"] = field

    def rows(self):
        """``(line, field, what is left, the input's step)`` per bill line."""
        return [
            (item, self[f"qty_{item.pk}"], _left(item), "1" if item.unit == Unit.EACH else "0.001")
            for item in self.lines
        ]

    def clean(self):
        cleaned = super().clean()
        if not self.items():
            raise forms.ValidationError("Choose at least one item to take back.")
        return cleaned

    def items(self) -> list[BillLine]:
        data = getattr(self, "cleaned_data", {})
        return [
            BillLine(product_id=item.product_id, quantity=data[f"qty_{item.pk}"])
            for item in self.lines
            if data.get(f"qty_{item.pk}")
        ]


@store_rule("purchases.purchase")
@role_required(RETURN_PAGE)
@require_http_methods(["GET", "POST"])
def refund_new(request, purchase_id: int):
    """A user with ``purchases.add_refund`` refunds; a cashier without it is asked for a manager's
    approval (the override dialog), and the refund goes again with the manager's token."""
    if not can_see(request.user, Purchase, purchase_id):
        raise Http404("No such bill.")
    try:
        purchase = purchase_get(purchase_id=purchase_id)
    except Purchase.DoesNotExist:
        raise Http404("No such bill.") from None
    lines = list(purchase.items.all())
    if request.method == "GET":
        form = RefundForm(lines=lines, initial={"restock": True, "submission": page_submission_key()})
        return render(request, "billing/refund_new.html", {"purchase": purchase, "form": form})

    form = RefundForm(request.POST, lines=lines)
    status = 400
    override_action = ""
    if form.is_valid():
        till = current_till(request)  # the cash comes out of this browser's till
        request_body = {
            "purchase": purchase.pk,
            "items": form.items(),
            "reason": form.cleaned_data["reason"],
            "restock": form.cleaned_data["restock"],
            "till": till.pk,
        }

        token = (request.POST.get("override_token") or "").strip()[:100] or None

        def make_refund() -> tuple[int, dict]:
            if token is None and not request.user.has_perm(MAKE_REFUNDS):
                raise NotPermitted("A return needs a manager's approval.")
            refund = refund_create(
                purchase_id=purchase.pk,
                items=request_body["items"],
                reason=request_body["reason"],
                restock=request_body["restock"],
                till=till.pk,
                user=request.user,
                override_token=token,
            )
            return 201, {"refund": refund.pk}

        try:
            status, answer = page_once(
                request, key=form.cleaned_data["submission"], scope="refund", body=request_body, call=make_refund
            )
        except DomainError as exc:
            status, answer = exc.status_code, exc.as_dict()
        if status == 201:
            messages.success(request, f"Refund #{answer['refund']} made.")
            return redirect("billing:refund", refund_id=answer["refund"])
        form.add_error(None, answer["message"])
        if answer["code"] in (ErrorCode.PERMISSION_DENIED, ErrorCode.OVERRIDE_INVALID):
            override_action = "refund"
        # A fresh key for the corrected form: the refused one stays refused.
        data = request.POST.copy()
        data["submission"] = page_submission_key()
        form.data = data
    context = {
        "purchase": purchase,
        "form": form,
        "override_action": override_action,
        "override_form": "refund-form",
        "override_submitter": "#make-refund",
    }
    return render(request, "billing/refund_new.html", context, status=status)


@store_rule("purchases.refund")
@role_required(SEE_BILLS)
@require_GET
@pdf_page_throttle
def refund_credit_note_pdf(request, refund_id: int):
    """The refund's credit note PDF: the first print is the original for the recipient, later
    ones are marked DUPLICATE."""
    if not can_see(request.user, Refund, refund_id):
        raise Http404("No such refund.")
    try:
        return pdf_response(credit_note_pdf_print(refund_id=refund_id))
    except Refund.DoesNotExist:
        raise Http404("No such refund.") from None


@store_rule("purchases.refund")
@role_required(SEE_BILLS)
@require_GET
def refund_detail(request, refund_id: int):
    if not can_see(request.user, Refund, refund_id):
        raise Http404("No such refund.")
    try:
        refund = refund_get(refund_id=refund_id)
    except Refund.DoesNotExist:
        raise Http404("No such refund.") from None
    cash_back = sum((piece["value"] * piece["count"] for piece in refund.cash_out), Decimal("0.00"))
    return render(
        request, "billing/refund.html", {"refund": refund, "purchase": refund.purchase, "cash_back": cash_back}
    )
