"""The admin's bills list writes its rows with ``ListRows`` (``billing_project.core.admin_helpers``), as
the stock page does: each cell is the HTML Django's own ``items_for_result`` writes, and the page is the
one Django's list shows."""

import re
from datetime import date
from decimal import Decimal as D
from pathlib import Path

import django
import pytest
from django.contrib import admin
from django.contrib.admin.templatetags import admin_list
from django.core.exceptions import ObjectDoesNotExist
from django.test import RequestFactory

from billing_project.core.admin_helpers import ListRows, NotPlanned, result_list
from catalog.tests.factories import ProductFactory
from purchases.admin import PurchaseAdmin
from purchases.models import InvoiceStatus, Purchase
from purchases.tests.helpers import ring_up

pytestmark = pytest.mark.django_db

CHANGELIST = "/admin/purchases/purchase/"


@pytest.fixture
def bills(drawer, cashier_user):
    from cashdrawer.services import till_create
    from catalog.stores import default_store_id

    till = till_create(code="T-2", store=default_store_id())
    rice = ProductFactory(name="Rice & <b>dal</b>", price=D("1250.50"), tax_percent=D("5"), stock=1000)
    oil = ProductFactory(price=D("99.99"), stock=100)
    shown = [
        ring_up((rice, 1), email="ann&co@example.com", till=till.pk),
        ring_up((rice, 2), (oil, 1), email=None, till=till.pk),  # walk-in
        ring_up((oil, 3), email=None, till=till.pk),
        ring_up((rice, 1)),  # the main till's
    ]
    Purchase.objects.filter(pk=shown[0].pk).update(invoice_status=InvoiceStatus.FAILED)
    Purchase.objects.filter(pk=shown[1].pk).update(created_by=cashier_user)
    Purchase.objects.filter(pk=shown[2].pk).update(created_by=None)  # no cashier: the empty value
    return till, shown


def _without_csrf(response) -> str:
    assert response.status_code == 200
    return re.sub(r'name="csrfmiddlewaretoken" value="[^"]*"', "", response.content.decode())


def list_rows(cl) -> list:
    """The rows the list's template is given (``result_rows``): ``ListRows``' or, for a list it leaves
    to Django, Django's."""
    return list(result_list(cl)["results"])


class DjangosRows:
    def __init__(self, cl):
        raise NotPlanned("every column")


@pytest.mark.parametrize(
    "params",
    [
        {},
        {"till__id__exact": "till"},
        {"till__id__exact": "till", "o": "-4"},  # sorted by lines
        {"till__id__exact": "till", "o": "2.1"},
        {"q": "example.com"},
        {"q": "nothing like it"},  # no rows
    ],
)
def test_the_page_is_the_one_djangos_rows_make(admin_client, bills, monkeypatch, params):
    till, _ = bills
    params = {k: (str(till.pk) if v == "till" else v) for k, v in params.items()}
    ours = admin_client.get(CHANGELIST, params)
    cl = ours.context["cl"]
    monkeypatch.setattr("billing_project.core.admin_helpers.ListRows", DjangosRows)

    djangos = admin_client.get(CHANGELIST, params)

    assert _without_csrf(ours) == _without_csrf(djangos)
    assert (len(cl.result_list) > 0) == (params.get("q") != "nothing like it")
    assert [list(row) for row in list_rows(cl)] == [list(row) for row in admin_list.results(cl)]


def test_each_cell_is_djangos(admin_client, bills):
    till, _ = bills
    cl = admin_client.get(CHANGELIST, {"till__id__exact": till.pk}).context["cl"]

    ours, djangos = list_rows(cl), list(admin_list.results(cl))

    assert len(ours) == 3 and [list(row) for row in ours] == [list(row) for row in djangos]
    assert [list(row) for row in ListRows(cl)] == [list(row) for row in ours]  # ListRows' own rows
    assert all(row.form is None for row in ours)
    first = list(ours[-1])  # the oldest bill: Ann's
    assert first[0].startswith('<td class="action-checkbox"><input type="checkbox"')
    assert first[1].startswith('<th class="field-bill"><a href="/admin/purchases/purchase/')
    assert f"_changelist_filters=till__id__exact%3D{till.pk}" in first[1]
    assert '<td class="field-created_at nowrap">' in first[2]
    assert "ann&amp;co@example.com" in first[3]


# --- Columns of every kind, against Django's own cells -------------------------------------------------


def _is_walk_in(obj):
    return obj.customer_id is None


_is_walk_in.boolean = True  # type: ignore[attr-defined]


def _day(obj):
    return date(2026, 1, 2) if obj.customer_id else None


_day.empty_value_display = "no day"  # type: ignore[attr-defined]


def _missing(obj):
    raise ObjectDoesNotExist


class EveryKindAdmin(PurchaseAdmin):
    list_display = (  # type: ignore[assignment]
        "action_checkbox",
        "number",  # a field, the only link
        "created_at",
        _is_walk_in,  # a function, shown as a yes/no icon
        _day,  # a date: nowrap; its own empty value
        lambda obj: f"<{obj.pk}>",  # escaped
        "blank",  # a method giving blanks
        _missing,  # raises ObjectDoesNotExist: the empty value
        "payable",
    )
    list_display_links = ("number",)

    @admin.display(description="blank")
    def blank(self, obj):
        return "   "


def _changelist(model_admin, superuser, **params):
    request = RequestFactory().get(CHANGELIST, params)
    request.user = superuser
    cl = model_admin.get_changelist_instance(request)
    cl.formset = None
    return cl


@pytest.mark.parametrize("links", [("number",), (), None, ("created_at", "blank")])
def test_columns_of_every_kind_are_written_as_django_writes_them(bills, superuser, links):
    model_admin = EveryKindAdmin(Purchase, admin.site)
    model_admin.list_display_links = links
    cl = _changelist(model_admin, superuser, till__id__exact=bills[0].pk)
    if links is None:
        cl.list_display_links = None  # Django's "no links" (get_list_display_links gives the first column)

    ours, djangos = list_rows(cl), list(admin_list.results(cl))

    assert [list(row) for row in ours] == [list(row) for row in djangos]


def test_a_yes_no_columns_icon_is_made_once_for_each_value(bills, superuser, monkeypatch):
    # Django's icon (admin_list._boolean_icon) looks up its static file's URL for every cell.
    looked_up: list[str] = []
    static = admin_list.static  # type: ignore[attr-defined]

    def counted(path):
        looked_up.append(path)
        return static(path)

    monkeypatch.setattr(admin_list, "static", counted)
    model_admin = EveryKindAdmin(Purchase, admin.site)
    model_admin.list_display = ("action_checkbox", "number", _is_walk_in)  # type: ignore[assignment]
    cl = _changelist(model_admin, superuser)

    ours = [list(row) for row in list_rows(cl)]

    assert len(cl.result_list) == 4 and sorted(looked_up) == ["admin/img/icon-no.svg", "admin/img/icon-yes.svg"]
    looked_up.clear()
    assert ours == [list(row) for row in admin_list.results(cl)]
    assert len(looked_up) == 4  # Django's: one a cell


@pytest.mark.parametrize("column", ["customer", "id", "customer__email", "store_id"])
def test_a_relation_the_key_or_a_lookup_is_written_as_django_writes_it(bills, superuser, column):
    model_admin = EveryKindAdmin(Purchase, admin.site)
    model_admin.list_display = ("action_checkbox", "number", column)  # type: ignore[assignment]
    cl = _changelist(model_admin, superuser)

    # By ListRows, or by Django when ListRows leaves the column to it: the same cells either way.
    assert [list(row) for row in list_rows(cl)] == [list(row) for row in admin_list.results(cl)]


@pytest.mark.parametrize("template", ["purchases/purchase", "catalog/product"])
def test_the_templates_block_is_djangos_with_the_rows_tag(template):
    djangos = (Path(django.__file__).parent / "contrib/admin/templates/admin/change_list.html").read_text()
    found = re.search(r"{% block result_list %}(.*?){% endblock %}", djangos, re.S)
    assert found is not None
    block = found.group(1)
    ours = (Path(__file__).parents[2] / f"templates/admin/{template}/change_list.html").read_text()

    def words(text: str) -> str:
        return " ".join(text.split())

    assert "{% result_list cl %}" in block
    assert words(block.replace("{% result_list cl %}", "{% result_rows cl %}")) in words(ours)


@pytest.mark.parametrize("zone", ["Asia/Kolkata", "UTC"])
def test_the_date_hierarchy_probes_the_years_django_reads_from_every_row(bills, admin_client, settings, zone, request):
    """The bills list's years (``ProbedDatesChangeList``) are those Django's ``DISTINCT DATE_TRUNC``
    finds: a year without bills between two with bills is left out, and a bill at a year's local edge
    counts in its local year."""
    from datetime import datetime, timedelta

    from django.test.utils import CaptureQueriesContext
    from django.utils import timezone

    from billing_project.core.admin_helpers import periods_with_rows

    settings.TIME_ZONE = zone
    timezone.activate(zone)
    request.addfinalizer(timezone.deactivate)  # this test's zone only: later tests read the settings' again
    till, shown = bills
    local = timezone.get_current_timezone()
    moments = [
        datetime(2023, 6, 1, 12, tzinfo=local),
        datetime(2025, 1, 1, 0, 10, tzinfo=local),  # a local year's first minutes (2024 still, by UTC, in Kolkata)
        datetime(2025, 12, 31, 23, 50, tzinfo=local),  # its last
        datetime(2026, 3, 1, 9, tzinfo=local) - timedelta(microseconds=1),
    ]
    for bill, moment in zip(shown, moments, strict=True):
        Purchase.objects.filter(pk=bill.pk).update(created_at=moment)
    everything = Purchase.objects.all()
    djangos = list(everything.datetimes("created_at", "year"))
    assert [moment.year for moment in djangos] == [2023, 2025, 2026]  # 2024 has none
    assert periods_with_rows(everything, "created_at", "year") == djangos
    of_till = Purchase.objects.filter(till=till)
    assert periods_with_rows(of_till, "created_at", "year") == list(of_till.datetimes("created_at", "year"))
    assert periods_with_rows(Purchase.objects.none(), "created_at", "year") == []

    with CaptureQueriesContext(django.db.connection) as queries:
        page = admin_client.get(CHANGELIST)
    assert page.status_code == 200
    assert not [q["sql"] for q in queries.captured_queries if "DISTINCT" in q["sql"]]
    # The first and last bills' dates are read once, by Django's hierarchy; the probe takes them.
    assert len([q for q in queries.captured_queries if 'MIN("purchases_purchase"."created_at")' in q["sql"]]) == 1
    years = re.findall(r'href="\?created_at__year=(\d+)"', page.content.decode())
    assert years == ["2023", "2025", "2026"]
    months = admin_client.get(CHANGELIST, {"created_at__year": "2025"}).content.decode()
    assert re.findall(r"created_at__month=(\d+)", months) == ["1", "12"]


@pytest.mark.parametrize("zone", ["Asia/Kolkata", "UTC"])
def test_the_date_hierarchy_probes_a_years_months_and_a_months_days(bills, admin_client, settings, zone, request):
    """A year's months and a month's days (``periods_with_rows``) are those Django's ``DISTINCT
    DATE_TRUNC`` finds over the year's or the month's rows, local edges included; the list asks the
    database for neither by reading every row."""
    from datetime import datetime, timedelta

    from django.test.utils import CaptureQueriesContext
    from django.utils import timezone

    from billing_project.core.admin_helpers import periods_with_rows

    settings.TIME_ZONE = zone
    timezone.activate(zone)
    request.addfinalizer(timezone.deactivate)
    till, shown = bills
    local = timezone.get_current_timezone()
    moments = [
        datetime(2025, 1, 1, 0, 10, tzinfo=local),  # a year's first minutes
        datetime(2025, 4, 1, 0, 10, tzinfo=local),  # a month's first minutes (still March by UTC, in Kolkata)
        datetime(2025, 4, 10, 12, tzinfo=local),
        datetime(2025, 4, 30, 23, 50, tzinfo=local),  # a month's last minutes
        datetime(2025, 8, 1, tzinfo=local) - timedelta(microseconds=1),  # July's last moment
    ]
    bills_then = [*shown, ring_up((ProductFactory(stock=5), 1))]
    for bill, moment in zip(bills_then, moments, strict=True):
        Purchase.objects.filter(pk=bill.pk).update(created_at=moment)

    year = Purchase.objects.filter(created_at__year=2025)
    april = year.filter(created_at__month=4)
    months, days = list(year.datetimes("created_at", "month")), list(april.datetimes("created_at", "day"))
    assert ([m.month for m in months], [d.day for d in days]) == ([1, 4, 7], [1, 10, 30])
    assert periods_with_rows(year, "created_at", "month") == months
    assert periods_with_rows(april, "created_at", "day") == days
    of_till = year.filter(till=till)  # the first three
    assert [m.month for m in periods_with_rows(of_till, "created_at", "month")] == [1, 4]

    for params, links, choices in (
        ({"created_at__year": "2025"}, r"created_at__month=(\d+)", ["1", "4", "7"]),
        ({"created_at__year": "2025", "created_at__month": "4"}, r"created_at__day=(\d+)", ["1", "10", "30"]),
    ):
        with CaptureQueriesContext(django.db.connection) as queries:
            page = admin_client.get(CHANGELIST, params)
        assert page.status_code == 200
        assert not [q["sql"] for q in queries.captured_queries if "DISTINCT" in q["sql"]]
        assert re.findall(links, page.content.decode()) == choices
