"""The cashier's till pages, under /billing/till/."""

from django.urls import path, re_path

from . import views

app_name = "tills"

urlpatterns = [
    path("", views.till_pick, name="pick"),
    path("open/", views.till_open, name="open"),
    path("cash/", views.till_cash, name="cash"),
    path("close/", views.till_close, name="close"),
    path("override/", views.till_override, name="override"),
    re_path(
        r"^sessions/(?P<session_id>[0-9]{1,18})/(?P<decision>approve|recount)/$", views.session_decide, name="decide"
    ),
    re_path(r"^sessions/(?P<session_id>[0-9]{1,18})/report/$", views.session_report_page, name="report"),
]
