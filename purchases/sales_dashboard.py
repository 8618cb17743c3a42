"""The admin's "Sales" page: the sales report (``purchases.sales_report``) drawn as charts, each
with its figures in a table beside it and a CSV download of the same rows.

The page only reads the report service: the rules (the store's local days, refunds counted when
they happen, the 366-day limit) are the service's, and a refusal from it is shown as an error
message on the page. The charts are drawn by ``purchases/sales_dashboard.js`` from data passed
with ``json_script``, so the page runs under the CSP without inline scripts."""

from decimal import Decimal
from typing import Any

from django import forms
from django.conf import settings
from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.db import DatabaseError
from django.http import HttpRequest, HttpResponse
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils.http import urlencode

from billing_project.core.errors import DomainError, ErrorCode, is_busy
from cashdrawer.models import Till
from catalog.models import Store
from catalog.stores import visible_store_ids, visible_stores

from .sales_report import MAX_DAYS, sales_report

PERMISSION = "purchases.view_sales_report"
TEMPLATE = "admin/sales_report.html"
TOP_PRODUCTS = 10


class TillChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj: Till) -> str:
        return f"{obj.code} · {obj.name}" if obj.name else obj.code


class SalesReportForm(forms.Form):
    """The date range, the till and the store. Left empty, the dates are the report's default (the last 30
    days); the service checks the range."""

    date_from = forms.DateField(required=False, label="From", widget=forms.DateInput(attrs={"type": "date"}))
    date_to = forms.DateField(required=False, label="To", widget=forms.DateInput(attrs={"type": "date"}))
    till = TillChoiceField(
        queryset=Till.objects.order_by("code"), required=False, empty_label="All tills", label="Till"
    )
    store = forms.ModelChoiceField(
        queryset=Store.objects.order_by("code"), required=False, empty_label="All my stores", label="Store"
    )

    def __init__(self, *args, user=None, **kwargs):
        super().__init__(*args, **kwargs)
        # Only the user's stores and their tills to choose from (``catalog.stores``).
        stores = visible_stores(user)
        till_field = self.fields["till"]
        store_field = self.fields["store"]
        assert isinstance(till_field, forms.ModelChoiceField) and isinstance(store_field, forms.ModelChoiceField)
        till_field.queryset = Till.objects.filter(store__in=stores).order_by("code")
        store_field.queryset = stores.order_by("code")
        if stores.count() < 2:
            del self.fields["store"]  # one store: nothing to choose


def _chart(kind: str, labels: list[str], datasets: list[tuple[str, list[Decimal]]], **options: Any) -> dict:
    """One chart's data for the page's script. Amounts stay Decimal here and reach JSON as strings
    (DjangoJSONEncoder); the script reads them as numbers only to draw."""
    return {
        "type": kind,
        "labels": labels,
        "datasets": [{"label": label, "data": data} for label, data in datasets],
        **options,
    }


def _csv_url(query: dict[str, str], group_by: str) -> str:
    """The report API's CSV of the same rows (``GET /api/v1/reports/sales?format=csv``): one CSV
    writer, with its spreadsheet-formula defusing, for the API and this page. The browser's admin
    session authenticates it, and it needs the same permission."""
    return reverse("report-sales") + "?" + urlencode({**query, "group_by": group_by, "format": "csv"})


GSTR1_CSV_SECTIONS = ("b2b", "b2cl", "b2cs", "cdnr", "cdnur", "hsn", "docs")


def gstr1_links(month, *, gstin: str | None = None) -> dict[str, Any]:
    """Links to a month's GSTR-1 (``GET /api/v1/reports/gstr1``) of ``gstin`` (``None``: the
    default store's): the portal's JSON and each section as the offline tool's CSV. The admin
    session authenticates them, with the same permission."""
    period = f"{month:%Y-%m}"
    url = reverse("report-gstr1")
    base = {"period": period, **({"gstin": gstin} if gstin else {})}
    return {
        "month": month,
        "gstin": gstin,
        "json_url": f"{url}?{urlencode(base)}",
        "csv": [
            (section, f"{url}?{urlencode({**base, 'format': 'csv', 'section': section})}")
            for section in GSTR1_CSV_SECTIONS
        ],
    }


def sales_dashboard(request: HttpRequest, *, site) -> HttpResponse:
    """GET ``/admin/sales/``: needs ``purchases.view_sales_report``."""
    if not request.user.has_perm(PERMISSION):
        raise PermissionDenied
    form = SalesReportForm(request.GET or None, user=request.user)
    context: dict[str, Any] = {
        **site.each_context(request),
        "title": "Sales",
        "form": form,
        "time_zone": settings.TIME_ZONE,
        "max_days": MAX_DAYS,
        "blocks": None,
    }
    if request.GET and not form.is_valid():
        messages.error(request, "The report was not run: " + _form_errors(form))
    else:
        data = form.cleaned_data if form.is_bound else {}
        till, store = data.get("till"), data.get("store")
        params = {
            "date_from": data.get("date_from"),
            "date_to": data.get("date_to"),
            "till": till.pk if till else None,
            "store": store.pk if store else None,
            "store_ids": visible_store_ids(request.user),
        }
        try:
            blocks = _blocks(params)
        except DomainError as exc:
            messages.error(request, f"The report was not run: {_refusal(exc)}")
        except DatabaseError as exc:
            if not is_busy(exc):  # a report past REPORT_STATEMENT_TIMEOUT_MS; anything else is a 500
                raise
            messages.error(
                request, "The report was not run: it took longer than a report may. Try a shorter period or one till."
            )
        else:
            # The form shows the range the report really covered (a missing date filled in).
            context["blocks"] = blocks
            context["form"] = SalesReportForm(
                initial={"date_from": blocks["date_from"], "date_to": blocks["date_to"], "till": till, "store": store},
                user=request.user,
            )
    request.current_app = site.name
    return TemplateResponse(request, TEMPLATE, context)


def _refusal(exc: DomainError) -> str:
    """The service's refusal in the form's words (From, To); its own message otherwise."""
    if exc.code == ErrorCode.REPORT_RANGE_INVALID:
        if "first_day" in exc.details:
            return f"a report covers days from {exc.details['first_day']} to {exc.details['last_day']}."
        if "max_days" in exc.details:
            days, most = exc.details["days"], exc.details["max_days"]
            return f"the period is {days} days long, and a report covers at most {most} days."
        return "“From” is after “To”."
    return exc.message


def _form_errors(form: forms.Form) -> str:
    parts = []
    for name, errors in form.errors.items():
        label = form.fields[name].label if name in form.fields else ""
        text = " ".join(str(error) for error in errors)
        parts.append(f"{label}: {text}" if label else text)
    return "; ".join(parts)


def _blocks(params: dict[str, Any]) -> dict[str, Any]:
    """Run the report once per grouping the page shows and shape each block: its rows for the
    table, its chart and its CSV link. Raises the service's ``DomainError`` for a bad range."""
    by_day = sales_report(group_by="day", **params)
    by_hour = sales_report(group_by="hour", **params)
    by_product = sales_report(group_by="product", best=TOP_PRODUCTS, **params)
    by_method = sales_report(group_by="payment_method", **params)
    by_tax = sales_report(group_by="tax_rate", **params)

    # The CSV links carry the range the report really used (the default filled in).
    query = {"date_from": by_day["date_from"].isoformat(), "date_to": by_day["date_to"].isoformat()}
    if by_day.get("till") is not None:
        query["till"] = str(by_day["till"])
    store = Store.objects.get(pk=by_day["store"]) if by_day.get("store") is not None else None
    if store is not None:
        query["store"] = str(store.pk)

    # The best sellers by what they really brought in (net of discounts and refunds); a stable
    # sort keeps the report's order between equals.
    top = sorted(by_product["rows"], key=lambda row: row["net_after_refunds"], reverse=True)[:TOP_PRODUCTS]
    return {
        "date_from": by_day["date_from"],
        "date_to": by_day["date_to"],
        "totals": by_day["totals"],
        "day": {
            "report": by_day,
            "csv_url": _csv_url(query, "day"),
            "chart": _chart(
                "line",
                [f"{row['day'].day} {row['day']:%b}" for row in by_day["rows"]],
                [
                    ("Net sales", [row["net_sales"] for row in by_day["rows"]]),
                    ("Refunds", [row["refunds"] for row in by_day["rows"]]),
                    ("Margin", [row["margin"] for row in by_day["rows"]]),
                ],
            ),
        },
        "hour": {
            "report": by_hour,
            "csv_url": _csv_url(query, "hour"),
            "chart": _chart(
                "bar",
                [f"{row['hour']:02d}:00" for row in by_hour["rows"]],
                [("Net after refunds", [row["net_after_refunds"] for row in by_hour["rows"]])],
            ),
        },
        "product": {
            "report": by_product,
            "top": top,
            "more": max(by_product["rows_in_all"] - len(top), 0),
            "csv_url": _csv_url(query, "product"),
            "chart": _chart(
                "bar",
                [row["product_name"] for row in top],
                [
                    ("Net after refunds", [row["net_after_refunds"] for row in top]),
                    ("Margin", [row["margin"] for row in top]),
                ],
                horizontal=True,
            ),
        },
        "payment_method": {
            "report": by_method,
            "csv_url": _csv_url(query, "payment_method"),
            "chart": _chart(
                "doughnut",
                [row["payment_method_name"] for row in by_method["rows"]],
                [("Net after refunds", [row["net_after_refunds"] for row in by_method["rows"]])],
            ),
        },
        "tax_rate": {
            "report": by_tax,
            "taxable": sum((row["taxable"] for row in by_tax["rows"]), Decimal("0.00")),
            "csv_url": _csv_url(query, "tax_rate"),
        },
        # The return of the month the period ends in.
        # The return of the month the period ends in; of one store: the return of its GSTIN, which
        # holds every store that shares it.
        "gstr1": gstr1_links(by_day["date_to"], gstin=store.gstin if store is not None and store.gstin else None),
    }
