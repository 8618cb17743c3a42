"""The billing page's parked bills (Park, and the Parked list that recalls one) and the
customer-facing display (``/billing/display/``).

Parking is a plain form post of the billing page (``action=park``; a Parked entry is a
``recall=<id>`` button), so it works without JavaScript. A recall never loses a cart: when the
screen holds one, it is parked first, and a cart that cannot be parked stops the recall."""

from django.contrib import messages
from django.http import JsonResponse, QueryDict
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET

from billing_project.core.errors import DomainError
from billing_project.core.roles import role_required
from cashdrawer.browser import current_till, user_tills
from cashdrawer.models import Till
from catalog.models import Product
from catalog.stores import can_see, store_rule

from .display import display_state, upi_ref
from .errors import HeldBillNotFound
from .forms import LINES_PREFIX, BillEntry, customer_arguments
from .models import HeldBill
from .services import held_bill_create, held_bill_list, held_bill_recall
from .upi import upi_configured

RING_UP = "purchases.add_purchase"
PARK_KEY = "F8"


def counter_context(till: Till) -> dict:
    """What the billing page needs for parking and UPI: the till's parked bills, oldest first, and
    where the QR code and the display are."""
    return {
        "held_bills": list(held_bill_list(till_id=till.pk)),
        "park_key": PARK_KEY,
        "upi_qr_url": reverse("upi-qr") if upi_configured() else "",
        "upi_ref": upi_ref(till.code),
        "display_url": f"{reverse('billing:display')}?till={till.pk}",
    }


def _cart_on_screen(entry: BillEntry) -> bool:
    data = entry.data or {}
    return any(
        str(value).strip()
        for key, value in data.items()
        if key.startswith(f"{LINES_PREFIX}-") and key.endswith("-product")
    )


def _park_entry(request, entry: BillEntry, till: Till) -> HeldBill | None:
    """Park the cart on screen; ``None`` with its problems shown on ``entry``."""
    lines_valid = entry.lines.is_valid()
    entry.bill.is_valid()
    if not lines_valid or "customer" in entry.bill.errors:
        entry.focus_problem()
        return None
    items = entry.lines.items()
    if not items:
        entry.lines_errors.append("There is nothing to park: enter a product first.")
        return None
    try:
        return held_bill_create(
            till=till.pk, items=items, **customer_arguments(entry.bill.cleaned_data["customer"]), user=request.user
        )
    except DomainError as exc:
        entry.add_refusal(exc)
        entry.focus_problem()
        return None


def park_cart(request, entry: BillEntry, till: Till, *, render_page):
    """Park button: the cart goes to the till's Parked list and the page starts a new bill."""
    held = _park_entry(request, entry, till)
    if held is None:
        return render_page(request, entry, status=400)
    messages.success(request, f"Bill parked as #{held.pk}. Recall it from Parked.")
    return redirect("billing:new")


def recall_cart(request, entry: BillEntry, till: Till, held_id: int, *, render_page):
    """A Parked entry: the cart on screen, if any, is parked first; then the chosen one is put back
    on the screen (and is no longer parked)."""
    if _cart_on_screen(entry):
        parked = _park_entry(request, entry, till)
        if parked is None:
            entry.lines_errors.insert(
                0, "The bill on screen could not be parked, so no parked bill was recalled: correct it or clear it."
            )
            return render_page(request, entry, status=400)
        messages.info(request, f"The bill that was on screen is parked as #{parked.pk}.")
    try:
        if not can_see(request.user, HeldBill, held_id):
            raise HeldBillNotFound()
        held = held_bill_recall(held_bill_id=held_id)
    except HeldBillNotFound:
        messages.warning(request, "That parked bill is gone: it was recalled or discarded already.")
        return redirect("billing:new")
    messages.success(request, f"Parked bill #{held.pk} is back on screen.")
    return render_page(request, recalled_entry(held, entry.tender.denominations))


def recalled_entry(held: HeldBill, denominations) -> BillEntry:
    """The billing page holding a recalled cart: its customer, its lines (by SKU, or id), and an
    empty row for the next product."""
    skus = {p.pk: p.sku for p in Product.objects.filter(pk__in=[line["product_id"] for line in held.items])}
    data = QueryDict(mutable=True)
    data["customer"] = held.customer_email or held.customer_phone
    data["send_invoice"] = "on"
    rows = [
        (skus.get(line["product_id"]) or str(line["product_id"]), str(line["quantity"]), line["discount_percent"] or "")
        for line in held.items
    ]
    rows.append(("", "1", ""))
    for index, (product, quantity, discount) in enumerate(rows):
        data[f"{LINES_PREFIX}-{index}-product"] = product
        data[f"{LINES_PREFIX}-{index}-quantity"] = quantity
        data[f"{LINES_PREFIX}-{index}-discount_percent"] = discount
    data[f"{LINES_PREFIX}-TOTAL_FORMS"] = str(len(rows))
    data[f"{LINES_PREFIX}-INITIAL_FORMS"] = "0"
    return BillEntry(data, denominations=denominations, quiet=True)


def _display_till(request) -> Till:
    value = request.GET.get("till", "")
    if value.isdigit() and len(value) <= 18:
        till = user_tills(request.user).filter(pk=int(value)).first()
        if till is not None:
            return till
    return current_till(request)


@store_rule("cashdrawer.till")
@role_required(RING_UP)
@require_GET
def display(request):
    """The customer-facing display of a till (``?till=<id>``, default this browser's till)."""
    till = _display_till(request)
    return render(
        request,
        "billing/display.html",
        {"till": till, "state_url": f"{reverse('billing:display-state')}?till={till.pk}"},
    )


@store_rule("cashdrawer.till")
@role_required(RING_UP)
@require_GET
def display_state_view(request):
    """What the display shows now, as JSON (``display.display_state``); polled every half second."""
    response = JsonResponse(display_state(_display_till(request).pk))
    response["Cache-Control"] = "no-store"
    return response
