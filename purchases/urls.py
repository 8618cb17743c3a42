"""The cashier's pages, under /billing/."""

from django.urls import path, re_path

from . import counter_views, refund_views, views

app_name = "billing"

urlpatterns = [
    path("", views.bill_new, name="new"),
    re_path(r"^bills/(?P<purchase_id>[0-9]{1,18})/$", views.bill_detail, name="bill"),
    re_path(r"^bills/(?P<purchase_id>[0-9]{1,18})/return/$", refund_views.refund_new, name="refund-new"),
    re_path(r"^refunds/(?P<refund_id>[0-9]{1,18})/$", refund_views.refund_detail, name="refund"),
    re_path(
        r"^refunds/(?P<refund_id>[0-9]{1,18})/credit-note\.pdf$",
        refund_views.refund_credit_note_pdf,
        name="credit-note-pdf",
    ),
    re_path(r"^bills/(?P<purchase_id>[0-9]{1,18})/invoice\.pdf$", views.bill_invoice_pdf, name="invoice-pdf"),
    path("history/", views.history, name="history"),
    path("preview/", views.bill_preview_view, name="preview"),
    path("products/", views.product_lookup, name="products"),
    path("scan/", views.product_scan, name="scan"),
    path("customer-bills/", views.customer_bills, name="customer-bills"),
    path("display/", counter_views.display, name="display"),
    path("display/state/", counter_views.display_state_view, name="display-state"),
]
