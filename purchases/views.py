"""The cashier's pages: ring up a bill, show and print it, find it again.

Thin on purpose: forms read the input, ``purchase_create`` rings the bill up, selectors read, and
``preview.bill_preview`` does the live preview with the service's own arithmetic."""

from django.conf import settings
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.http import Http404, JsonResponse
from django.shortcuts import redirect, render
from django.template.loader import render_to_string
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from billing_project.core.api.pagination import CountedPaginator
from billing_project.core.errors import DomainError, ErrorCode
from billing_project.core.quantities import quantity_json, quantity_number
from billing_project.core.roles import role_required
from cashdrawer.browser import current_till, till_status
from catalog.errors import UnknownCode
from catalog.selectors import product_for_code
from catalog.stores import CHAIN_WIDE, can_see, scope, store_rule, visible_store_ids

from .counter_views import counter_context, park_cart, recall_cart
from .display import display_done, display_from_preview, display_publish
from .documents import invoice_pdf_print, pdf_page_throttle, pdf_response
from .forms import MAX_CUSTOMER_LENGTH, BillEntry, HistoryFilterForm, clean_customer, customer_arguments
from .models import Purchase
from .preview import bill_preview
from .selectors import (
    bill_count,
    product_search,
    purchase_get,
    purchase_history,
    purchase_history_rows,
    tender_denominations,
)
from .services import UPI_METHOD, purchase_create

RING_UP = "purchases.add_purchase"
RUN_BACK_OFFICE = "catalog.change_product"  # managers (and superusers); cashiers only ring up
SEE_BILLS = "purchases.view_purchase"
HISTORY_PAGE_SIZE = 25
RECENT_BILLS = 5


FRESH_BILL = "fresh_bill"


@store_rule(CHAIN_WIDE)
def home(request):
    """Where ``/`` and a plain login land: a manager on the admin, anyone else on the billing page."""
    user = request.user
    if not user.is_authenticated:
        return redirect("login")
    if user.is_staff and user.has_perm(RUN_BACK_OFFICE):
        return redirect("admin:index")
    return redirect("billing:new")


@store_rule("cashdrawer.till")
@role_required(RING_UP)
@require_http_methods(["GET", "POST"])
def bill_new(request):
    till = current_till(request)  # the till this browser picked: its drawer takes the cash
    denominations = tender_denominations(till_id=till.pk)
    if request.method == "GET":
        return _bill_page(request, BillEntry(denominations=denominations))

    entry = BillEntry(request.POST, denominations=denominations)
    action = request.POST.get("action", "generate")
    if "recall" in request.POST:
        return recall_cart(request, entry, till, _index(request.POST["recall"]), render_page=_bill_page)
    if action == "park":
        return park_cart(request, entry, till, render_page=_bill_page)
    if "remove_row" in request.POST:
        return _bill_page(request, entry.with_row_removed(_index(request.POST["remove_row"])))
    if action == "add_row":
        return _bill_page(request, entry.with_row_added())
    if action != "generate":  # "refresh": recompute the preview and the customer's previous bills
        return _bill_page(request, entry.refreshed())

    if not entry.is_valid():
        entry.focus_problem()
        return _bill_page(request, entry, status=400)
    try:
        purchase = purchase_create(
            **entry.purchase_kwargs(),
            user=request.user,
            till=till.pk,
            override_token=(request.POST.get("override_token") or "").strip()[:100] or None,
        )
    except DomainError as exc:
        entry.add_refusal(exc)
        entry.focus_problem()
        # A discount above the cashier's limit: the manager's override dialog opens, and the bill
        # goes again with the manager's token and everything typed.
        needs_manager = exc.code in (ErrorCode.DISCOUNT_NEEDS_MANAGER, ErrorCode.OVERRIDE_INVALID)
        return _bill_page(request, entry, status=exc.status_code, override_action="discount" if needs_manager else "")
    messages.success(request, f"Bill {purchase.number} generated.")
    display_publish(
        till.pk, display_done(payable=purchase.payable, change_due=purchase.change_due, number=purchase.number or "")
    )
    # The receipt shown right after ringing up is the original; any later view of it is a reprint.
    request.session[FRESH_BILL] = purchase.pk
    return redirect("billing:bill", purchase_id=purchase.pk)


@store_rule("cashdrawer.till")
@role_required(RING_UP)
@require_POST
def bill_preview_view(request):
    """The live preview for the page's script: the same form post, answered with HTML fragments
    rendered by the page's own templates, plus the amounts as strings."""
    till = current_till(request)
    entry = BillEntry(request.POST, denominations=tender_denominations(till_id=till.pk), quiet=True)
    preview = bill_preview(**entry.preview_arguments(), user=request.user, store_id=till.store_id)
    _show_on_display(till, entry, preview)
    bill = preview.quote
    return JsonResponse(
        {
            "rows": [
                {"index": row.index, "html": render_to_string("billing/_row_info.html", {"row": row}, request)}
                for row in preview.rows
            ],
            "summary_html": render_to_string("billing/_summary.html", {"preview": preview}, request),
            "amounts": {
                "subtotal": _str(bill and bill.subtotal),
                "tax_total": _str(bill and bill.tax_total),
                "total": _str(bill and bill.total),
                "rounding": _str(preview.rounding),
                "payable": _str(preview.payable),
                "discount_total": _str(bill and bill.discount_total),
                "cash_due": _str(preview.cash_due),
                "paid": _str(preview.paid),
                "change_due": _str(preview.change_due),
            },
            "change": [{"value": str(piece["value"]), "count": piece["count"]} for piece in preview.change],
            "payment_problem": preview.payment_problem,
            "discount_problem": preview.discount_problem,
        }
    )


@store_rule(CHAIN_WIDE)
@role_required(RING_UP)
@require_GET
def product_lookup(request):
    """Suggestions for a product row: sellable products whose SKU or name contains ``q``."""
    products = product_search(term=request.GET.get("q", "")[:200], store=current_till(request).store_id)
    return JsonResponse(
        {
            "results": [
                {
                    "value": product.sku or str(product.pk),
                    "label": f"{product.name} · {product.price} {product.price_unit} · {product.stock_text} in stock",
                    "id": product.pk,
                    "sku": product.sku,
                    "name": product.name,
                    "price": str(product.price),
                    "tax_percent": str(product.tax_percent),
                    "unit": product.unit,
                    "stock": quantity_json(product.stock, product.unit),
                }
                for product in products
            ]
        }
    )


@store_rule(CHAIN_WIDE)
@role_required(RING_UP)
@require_GET
def product_scan(request):
    """What the page's item box was given, when it looks like a barcode or a scale label
    (``catalog.selectors.product_for_code``): the row's product (``value``: its SKU or id) and
    quantity, or the refusal's ``message`` (404 for a code no product has, 400 for a bad one)."""
    try:
        match = product_for_code(code=request.GET.get("code", "")[:64])
    except UnknownCode as exc:
        return JsonResponse({"message": exc.message}, status=UnknownCode.lookup_status)
    except DomainError as exc:
        return JsonResponse({"message": exc.message}, status=exc.status_code)
    product = match.product
    return JsonResponse(
        {
            "id": product.pk,
            "value": product.sku or str(product.pk),
            "name": product.name,
            "unit": product.unit,
            "quantity": quantity_number(match.quantity, product.unit),
            "found_by": match.found_by,
        }
    )


@store_rule("purchases.purchase")
@role_required(SEE_BILLS)
@require_GET
def customer_bills(request):
    """The "previous bills" box next to the customer box, as an HTML fragment: ``?customer=`` an
    email or a mobile number (any spelling)."""
    try:
        customer = clean_customer(request.GET.get("customer", "")[:MAX_CUSTOMER_LENGTH])
    except ValidationError:
        customer = ""
    recent = _recent_bills(customer, request.user)
    return render(request, "billing/_previous_bills.html", {"customer": customer, "recent": recent})


@store_rule("purchases.purchase")
@role_required(SEE_BILLS)
@require_GET
def bill_detail(request, purchase_id: int):
    if not can_see(request.user, Purchase, purchase_id):
        raise Http404("No such bill.")
    try:
        purchase = purchase_get(purchase_id=purchase_id)
    except Purchase.DoesNotExist:
        raise Http404("No such bill.") from None
    duplicate = request.session.pop(FRESH_BILL, None) != purchase.pk
    return render(request, "billing/bill.html", {"purchase": purchase, "duplicate": duplicate})


@store_rule("purchases.purchase")
@role_required(SEE_BILLS)
@require_GET
@pdf_page_throttle
def bill_invoice_pdf(request, purchase_id: int):
    """The bill's tax invoice PDF (``documents.invoice_pdf_print``): the first print is the
    original for the recipient, later ones are marked DUPLICATE."""
    if not can_see(request.user, Purchase, purchase_id):
        raise Http404("No such bill.")
    try:
        return pdf_response(invoice_pdf_print(purchase_id=purchase_id))
    except Purchase.DoesNotExist:
        raise Http404("No such bill.") from None


@store_rule("purchases.purchase")
@role_required(SEE_BILLS)
@require_GET
def history(request):
    form = HistoryFilterForm(request.GET)
    filters = form.filters()
    # The user's stores read first, so scope() cuts the bills by their ids (the time index's order).
    stores = visible_store_ids(request.user)
    ids = scope(purchase_history(**filters), request.user).values_list("id", flat=True)
    # Unfiltered, the page counts the user's stores' bills from BillCount, not row by row; a page's
    # ids are read from the time index, then only its rows (a deep page reads no skipped bill).
    count = None if any(filters.values()) else bill_count(store_ids=stores)
    paginator = (
        Paginator(ids, HISTORY_PAGE_SIZE) if count is None else CountedPaginator(ids, HISTORY_PAGE_SIZE, count=count)
    )
    page = paginator.get_page(request.GET.get("page"))
    page.object_list = purchase_history_rows(ids=list(page.object_list))
    query = request.GET.copy()
    query.pop("page", None)
    return render(request, "billing/history.html", {"form": form, "page": page, "query": query.urlencode()})


def _bill_page(request, entry: BillEntry, *, status: int = 200, override_action: str = ""):
    till = current_till(request)
    preview = bill_preview(**entry.preview_arguments(), user=request.user, store_id=till.store_id)
    _show_on_display(till, entry, preview)
    customer = entry.customer()
    context = {
        "entry": entry,
        "preview": preview,
        "rows": list(zip(entry.lines.forms, preview.rows, strict=False)),
        "customer": customer,
        "recent": _recent_bills(customer, request.user),
        "split_fields": [entry.bill[name] for name in ("card_amount", "card_reference", "upi_amount", "upi_reference")],
        "discount_fields": [entry.bill[name] for name in ("discount_percent", "discount_reason")],
        "max_discount": f"{settings.CASHIER_MAX_DISCOUNT_PERCENT.normalize():f}",
        **till_status(till),
        **counter_context(till),
        "override_action": override_action,
        "override_form": "bill-form",
        "override_submitter": "#generate",
    }
    return render(request, "billing/new.html", context, status=status)


def _show_on_display(till, entry: BillEntry, preview) -> None:
    payments = entry.non_cash_payments() if entry.data is not None else []
    upi = next((p["amount"] for p in payments if p["method"] == UPI_METHOD), None)
    display_publish(till.pk, display_from_preview(preview, upi_amount=upi, till_code=till.code))


def _recent_bills(customer: str, user):
    """The latest bills of a cleaned "Customer" box (``forms.clean_customer``) at ``user``'s stores;
    None when empty."""
    if not customer:
        return None
    return list(scope(purchase_history(**customer_arguments(customer)), user)[:RECENT_BILLS])


def _index(value: str) -> int:
    return int(value) if value.isdigit() else -1


def _str(value) -> str | None:
    return None if value is None else str(value)
