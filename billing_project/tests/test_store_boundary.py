"""The store boundary, tested as a security boundary (docs/security.md).

Every URL of the URL conf (the API's endpoints, every admin page, the billing and till pages) must
declare its store rule (``catalog.stores``): a model whose lookup cuts it to the user's stores,
``CHAIN_WIDE``, or ``STORE_PENDING`` (listed in ``STORE_PENDING_VIEWS`` and reported here). A new
view without one fails ``test_every_url_declares_a_store_rule``.

Then a manager of store A walks every URL, with path ids of store B's rows and with store B's till,
session, bill and store in the query, and no page or answer may show a row of store B (its bill and
refund numbers, its till's code, the notes and reasons written on its rows, its staff) or change
one: a write naming a row of store B answers 404 and changes nothing."""

import re
from datetime import date
from decimal import Decimal

import pytest
from django.apps import apps
from django.conf import settings
from django.contrib import admin
from django.urls import URLPattern, URLResolver, get_resolver
from rest_framework.test import APIClient

from billing_project.core.roles import MANAGER, role_assign
from cashdrawer.models import CashMovement, DrawerMovement, Override, Till, TillSession
from cashdrawer.services import cash_movement_create, denomination_create, session_close, till_create
from catalog.models import StockMovement, Store
from catalog.stock import adjustment_create, receipt_create, stock_count_open, supplier_save
from catalog.stores import CHAIN_WIDE, STORE_LOOKUPS, STORE_PENDING, STORE_PENDING_VIEWS, VIEW_RULES
from catalog.tests.factories import ProductFactory
from customers.tests.factories import UserFactory
from purchases.models import HeldBill, Purchase, Refund
from purchases.services import held_bill_create, purchase_create, refund_create

pytestmark = pytest.mark.django_db

D = Decimal

# Framework pages that show no row of any store: logging in and out, the admin's own chrome.
NO_STORE_DATA = {
    "login",
    "logout",
    "favicon",
    "healthz",
    "metrics",
    "schema",
    "swagger-ui",
    "redoc",
    "api-root",
    "auth-token",
    "rest_framework:login",
    "rest_framework:logout",
    "admin:login",
    "admin:logout",
    "admin:password_change",
    "admin:password_change_done",
    "admin:jsi18n",
    "admin:view_on_site",
    "admin:autocomplete",  # answers from the related admin's get_queryset: scoped there
    "admin:app_list",
}


def _walk(patterns, prefix="", namespace=""):
    for entry in patterns:
        if isinstance(entry, URLResolver):
            ns = f"{namespace}:{entry.namespace}".strip(":") if entry.namespace else namespace
            yield from _walk(entry.url_patterns, prefix + str(entry.pattern), ns)
        elif isinstance(entry, URLPattern):
            name = f"{namespace}:{entry.name}".strip(":") if entry.name else ""
            yield prefix + str(entry.pattern), name, entry.callback


def _dotted(obj) -> str:
    cls = obj if isinstance(obj, type) else type(obj)
    return f"{cls.__module__}.{cls.__qualname__}"


def store_rule_of(name: str, callback) -> str | None:
    """The store rule a URL's view declares, or None."""
    if name in STORE_PENDING_VIEWS:
        return STORE_PENDING
    if name in VIEW_RULES:
        return VIEW_RULES[name]
    owner = getattr(callback, "cls", None) or getattr(callback, "view_class", None)
    model_admin = getattr(callback, "model_admin", None)
    for candidate in (owner, model_admin):
        if candidate is None:
            continue
        dotted = _dotted(candidate)
        if dotted in STORE_PENDING_VIEWS:
            return STORE_PENDING
        if dotted in VIEW_RULES:
            return VIEW_RULES[dotted]
        rule = getattr(candidate, "store_rule", None)
        if rule == "" and hasattr(candidate, "get_store_rule"):
            return candidate.get_store_rule()
        if rule:
            return rule
    view = callback
    while view is not None:
        rule = getattr(view, "store_rule", None)
        if rule:
            return rule
        owner = getattr(view, "__self__", None)  # an admin's own view, a bound method
        if isinstance(owner, admin.ModelAdmin):
            return store_rule_of("", type("View", (), {"model_admin": owner})())
        view = getattr(view, "__wrapped__", None)
    return None


def urls():
    """Every URL but the admin's catch-all (a redirect to the login or a 404)."""
    return [(p, n, cb) for p, n, cb in _walk(get_resolver().url_patterns) if not p.endswith("(?P<url>.*)$")]


def test_every_url_declares_a_store_rule():
    missing = sorted(
        {
            f"{name or '-'} {path}"
            for path, name, cb in urls()
            if name not in NO_STORE_DATA and not store_rule_of(name, cb)
        }
    )
    assert not missing, "views without a store rule (catalog.stores):\n" + "\n".join(missing)


def test_every_store_rule_names_a_known_rule():
    rules = {store_rule_of(name, cb) for _, name, cb in urls() if name not in NO_STORE_DATA}
    assert rules <= {*STORE_LOOKUPS, CHAIN_WIDE, STORE_PENDING}, rules


def test_the_pending_store_rules_are_reported():
    """Views of stock rows that name no store yet: they cross the boundary until they get a rule."""
    pending = sorted({f"{name} {path}" for path, name, cb in urls() if store_rule_of(name, cb) == STORE_PENDING})
    print("Views waiting for a store rule (STORE_PENDING_VIEWS):\n" + "\n".join(pending))
    names = {name for _, name, _ in urls()}
    dotted = {
        _dotted(getattr(cb, "cls", None) or getattr(cb, "model_admin", None) or cb)
        for _, _, cb in urls()
        if getattr(cb, "cls", None) or getattr(cb, "model_admin", None)
    }
    stale = STORE_PENDING_VIEWS - names - dotted
    assert not stale, f"STORE_PENDING_VIEWS names no view: {stale}"


# --- Two stores with trade in each ---------------------------------------------------------------

B_MARKERS = (
    "BRAVO-TILL",
    "Bravo counter",
    "B-SECRET-NOTE",
    "B-SECRET-REASON",
    "B-SECRET-REFUND",
    "B-SECRET-GRN",
    "B-SECRET-ADJUST",
    "B-SECRET-COUNT",
    "bravo_cashier",
)


def _trade(till: Till, product, root, *, tag: str) -> dict:
    for value, count in ((D("100"), 20), (D("50"), 20), (D("10"), 20)):
        if not till.denominations.filter(value=value).exists():
            denomination_create(value=value, count=count, user=root, reason="float", till=till)
    bill = purchase_create(
        items=[{"product_id": product.pk, "quantity": 2}],
        paid_amount=D("200"),
        customer_email="both@example.com",
        till=till.pk,
        user=root,
    )
    refund = refund_create(
        purchase_id=bill.pk,
        items=[{"product_id": product.pk, "quantity": 1}],
        reason=f"{tag}-SECRET-REFUND",
        till=till.pk,
        user=root,
    )
    assert bill.session_id is not None
    movement = cash_movement_create(
        session_id=bill.session_id,
        direction="in",
        pieces=[{"value": D("100"), "count": 1}],
        reason=f"{tag}-SECRET-REASON",
        user=root,
    )
    counted = [{"value": d.value, "count": d.count} for d in till.denominations.all()]
    closed = session_close(session_id=bill.session_id, counted=counted, user=root)
    # A bill after the close opens a session that stays open.
    open_bill = purchase_create(
        items=[{"product_id": product.pk, "quantity": 1}], paid_amount=D("100"), till=till.pk, user=root
    )
    held = held_bill_create(till=till.pk, items=[{"product_id": product.pk, "quantity": 1}], note=f"{tag}-SECRET-NOTE")
    override = Override.objects.create(action="discount", outcome="refused", username=f"{tag}-manager", till=till)
    # The store's stock documents: goods received, an adjustment and a count, and its stock ledger.
    supplier = supplier_save(name=f"Supplier {tag}")  # suppliers are the chain's
    receipt = receipt_create(
        supplier=supplier.pk,
        supplier_invoice=f"{tag}-SECRET-GRN",
        invoice_date=date(2026, 11, 1),
        lines=[{"product_id": product.pk, "quantity": 5, "unit_cost": D("50.00"), "tax_percent": D("0")}],
        store=till.store_id,
        user=root,
    )
    adjustment = adjustment_create(
        lines=[{"product_id": product.pk, "quantity": -1}],
        reason="other",
        note=f"{tag}-SECRET-ADJUST",
        store=till.store_id,
        user=root,
    )
    stock_count = stock_count_open(product_ids=[product.pk], note=f"{tag}-SECRET-COUNT", store=till.store_id, user=root)
    return {
        "catalog.receipt": receipt,
        "catalog.adjustment": adjustment,
        "catalog.stockcount": stock_count,
        "catalog.stockmovement": StockMovement.objects.filter(store=till.store).order_by("-id").first(),
        "purchases.purchase": bill,
        "purchases.refund": refund,
        "cashdrawer.tillsession": closed,
        "open_session": TillSession.objects.get(pk=open_bill.session_id or 0),
        "cashdrawer.cashmovement": movement,
        "cashdrawer.drawermovement": DrawerMovement.objects.filter(till=till).first(),
        "cashdrawer.override": override,
        "purchases.heldbill": held,
        "cashdrawer.denomination": till.denominations.first(),
        "cashdrawer.till": till,
        "numbers": [bill.number, refund.number, open_bill.number],
    }


def _staff(side: dict, user) -> None:
    side["auth.user"] = user


@pytest.fixture
def stores(superuser, settings):
    settings.CASH_VARIANCE_LIMIT = D("1000000")
    root = superuser
    store_a = Store.objects.get(is_default=True)
    store_b = Store.objects.create(code="BSTORE", name="Bravo store")
    till_a = Till.objects.get(code=settings.DEFAULT_TILL)
    till_b = till_create(code="BRAVO-TILL", name="Bravo counter", invoice_series="BRV", credit_series="BRC")
    Till.objects.filter(pk=till_b.pk).update(store=store_b)
    till_b.refresh_from_db()
    product = ProductFactory(price=D("100.00"), tax_percent=D("0"), stock=1000)
    # Stock on store B's shelves too.
    adjustment_create(lines=[{"product_id": product.pk, "quantity": 100}], reason="found", store=store_b.pk, user=root)
    a = _trade(till_a, product, root, tag="A")
    b = _trade(till_b, product, root, tag="B")
    manager_a = UserFactory(username="alpha_manager", is_staff=True)
    role_assign(user=manager_a, role=MANAGER)
    manager_a.stores.set([store_a])
    cashier_b = UserFactory(username="bravo_cashier", is_staff=True, stores=[store_b])
    _staff(a, manager_a)
    _staff(b, cashier_b)
    return {
        "a": a,
        "b": b,
        "store_a": store_a,
        "store_b": store_b,
        "manager_a": manager_a,
        "cashier_b": cashier_b,
        "product": product,
        "customer_id": a["purchases.purchase"].customer_id,
    }


def _markers(stores) -> list[str]:
    numbers = [n for n in stores["b"]["numbers"] if n]
    return [*B_MARKERS, *numbers]


def _leaks(text: str, stores) -> list[str]:
    return [marker for marker in _markers(stores) if marker in text]


# Path parameters of the pages (by name) and, for ``pk`` / ``object_id``, of the view's store rule.
PAGE_PARAMS = {
    "purchase_id": "purchases.purchase",
    "refund_id": "purchases.refund",
    "session_id": "cashdrawer.tillsession",
}
GROUP = re.compile(r"\(\?P<(\w+)>[^)]*\)|<(?:\w+:)?(\w+)>")


def _fill(path: str, values: dict) -> str | None:
    """The regex or route ``path`` with its groups filled from ``values``; None if one is unknown."""
    missing = False

    def replace(match):
        nonlocal missing
        name = match.group(1) or match.group(2)
        if name not in values:
            missing = True
            return ""
        return str(values[name])

    filled = GROUP.sub(replace, path)
    if missing:
        return None
    filled = filled.replace("^", "").replace("$", "").replace("\\.", ".").replace("/?", "/").replace("\\Z", "")
    filled = re.sub(r"\(\?:[^)]*\)\??", "", filled)
    return "/" + filled.lstrip("/")


def _values_for(rule: str, side: dict, stores) -> dict:
    row = side.get(rule)
    values = {
        "purchase_id": side["purchases.purchase"].pk,
        "refund_id": side["purchases.refund"].pk,
        "session_id": side["cashdrawer.tillsession"].pk,
        "decision": "approve",
        "value": "100",
        "product_id": stores["product"].pk,
        "format": "json",
        "username": stores["cashier_b"].username,
        "app_label": "purchases",
    }
    if row is not None:
        values["pk"] = values["object_id"] = row.pk
    elif rule == CHAIN_WIDE:
        values["pk"] = values["object_id"] = stores["product"].pk
    return values


@pytest.fixture
def walker(client, stores):
    client.force_login(stores["manager_a"])
    api = APIClient()
    api.force_authenticate(stores["manager_a"])
    return client, api


def _client_for(path: str, walker):
    page, api = walker
    return api if path.startswith("/" + settings.API_V1_PREFIX.strip("/")) else page


def _detail_routes():
    for path, name, callback in urls():
        if name in NO_STORE_DATA or "(?P<format>" in path:
            continue  # a format suffix (``.json``) is the same view as the plain path
        rule = store_rule_of(name, callback)
        if rule in (None, STORE_PENDING):
            continue
        yield path, name, callback, rule


def test_store_a_sees_its_own_rows(walker, stores):
    """The control: the walk below would pass on pages that show nothing at all."""
    page, api = walker
    a_number = stores["a"]["purchases.purchase"].number
    assert a_number in api.get("/api/v1/purchases").content.decode()
    assert a_number in page.get("/admin/purchases/purchase/").content.decode()
    assert "A-SECRET-REASON" in page.get("/admin/cashdrawer/cashmovement/").content.decode()


def test_no_page_or_answer_shows_a_row_of_another_store(walker, stores):
    leaks = []
    b = stores["b"]
    queries = [
        "",
        f"?till={b['cashdrawer.till'].pk}",
        f"?store={stores['store_b'].pk}",
        f"?session={b['cashdrawer.tillsession'].pk}",
        f"?purchase={b['purchases.purchase'].pk}",
        f"?till__id__exact={b['cashdrawer.till'].pk}",
        f"?q={b['purchases.purchase'].pk}",  # the admin's search: a bill by its id
        f"?customer={'both@example.com'}",
        f"?customer__id__exact={stores['customer_id']}",
        "?period=" + b["purchases.purchase"].created_at.strftime("%Y-%m"),
    ]
    for path, name, _callback, rule in _detail_routes():
        for side in ("a", "b"):
            filled = _fill(path, _values_for(rule, stores[side], stores))
            if filled is None:
                continue
            client = _client_for(filled, walker)
            for query in queries if side == "a" else [""]:
                response = client.get(filled + query)
                if response.status_code >= 500:
                    leaks.append(f"{name} {filled}{query}: {response.status_code}")
                    continue
                if side == "b" and "{" not in path and not GROUP.search(path):
                    continue
                if side == "b" and response.status_code == 200 and _names_a_row(path) and rule != CHAIN_WIDE:
                    leaks.append(f"{name} {filled}: 200 for a row of store B")
                body = response.content.decode(errors="replace") if response.status_code < 300 else ""
                found = _leaks(body, stores)
                if found:
                    leaks.append(f"{name} {filled}{query}: shows {found}")
    assert not leaks, "\n".join(leaks)


def _names_a_row(path: str) -> bool:
    names = {m.group(1) or m.group(2) for m in GROUP.finditer(path)}
    return bool(names & {"pk", "object_id", *PAGE_PARAMS})


WRITE_METHODS = ("post", "put", "patch", "delete")


def test_no_write_reaches_a_row_of_another_store(walker, stores):
    """Every write on a path naming a row of store B: 404 (or refused before it looks), and the row
    is as it was."""
    b = stores["b"]
    before = _state(b)
    wrong = []
    for path, name, _callback, rule in _detail_routes():
        if not _names_a_row(path) or rule == CHAIN_WIDE:
            continue
        filled = _fill(path, _values_for(rule, b, stores))
        if filled is None:
            continue
        client = _client_for(filled, walker)
        for method in WRITE_METHODS:
            response = getattr(client, method)(filled, {}, **_json(client))
            if response.status_code in (404, 405, 403):
                continue
            if response.status_code == 302 and response["Location"].rstrip("/").endswith("/admin"):
                continue  # the admin's "no such object": back to the index
            if response.status_code == 302 and response["Location"] == filled + "change/":
                continue  # the admin's short object URL, a plain redirect to the change page (walked too)
            if response.status_code == 302 and filled.startswith(
                response["Location"] + str(_values_for(rule, b, stores)["pk"])
            ):
                continue  # the drawer's change page: always back to the drawer screen, which is walked
            if response.status_code == 400 and filled.startswith("/admin/") is False and _refused_input(response):
                continue
            wrong.append(f"{method.upper()} {name} {filled}: {response.status_code} {response.content[:200]!r}")
    assert not wrong, "\n".join(wrong)
    assert _state(b) == before


def _json(client) -> dict:
    return {"format": "json"} if isinstance(client, APIClient) else {}


def _refused_input(response) -> bool:
    """A 400 for the empty body, before any row is read (an action that checks its input first)."""
    try:
        return response.json()["code"] in ("validation_error", "parse_error")
    except ValueError:
        return False


def _state(side) -> tuple:
    session = TillSession.objects.get(pk=side["open_session"].pk)
    till = Till.objects.get(pk=side["cashdrawer.till"].pk)
    return (
        session.status,
        till.code,
        till.is_active,
        HeldBill.objects.filter(pk=side["purchases.heldbill"].pk).exists(),
        Refund.objects.filter(purchase=side["purchases.purchase"]).count(),
        CashMovement.objects.filter(till=till).count(),
        list(till.denominations.values_list("value", "count")),
    )


def test_a_write_at_another_stores_till_is_till_not_found(walker, stores):
    _, api = walker
    b, product = stores["b"], stores["product"]
    till = b["cashdrawer.till"].pk
    line = [{"product_id": product.pk, "quantity": 1}]
    bills = Purchase.objects.count()
    answers = {
        "bill": api.post("/api/v1/purchases", {"items": line, "paid_amount": "100", "till": till}, format="json"),
        "refund": api.post(
            f"/api/v1/purchases/{stores['a']['purchases.purchase'].pk}/refunds",
            {"items": line, "till": till, "reason": "wrong size"},
            format="json",
        ),
        "held bill": api.post("/api/v1/held-bills", {"items": line, "till": till}, format="json"),
        "override": api.post(
            "/api/v1/overrides", {"username": "x", "pin": "1234", "action": "discount", "till": till}, format="json"
        ),
        "report": api.get(f"/api/v1/reports/sales?till={till}"),
    }
    assert {k: (r.status_code, r.json()["code"]) for k, r in answers.items()} == dict.fromkeys(
        answers, (404, "till_not_found")
    )
    assert Purchase.objects.count() == bills


def test_a_report_of_another_store_is_empty(walker, stores):
    _, api = walker
    mine = api.get("/api/v1/reports/sales").json()["totals"]
    other = api.get(f"/api/v1/reports/sales?store={stores['store_b'].pk}").json()["totals"]
    assert mine["bills"] == 2
    assert other["bills"] == 0


def test_head_office_sees_both_stores(client, stores):
    head = UserFactory(username="hq", is_staff=True, stores=[])
    role_assign(user=head, role="Head office")
    api = APIClient()
    api.force_authenticate(head)
    numbers = {row["number"] for row in api.get("/api/v1/purchases").json()["results"]}
    assert {stores["a"]["purchases.purchase"].number, stores["b"]["purchases.purchase"].number} <= numbers


def test_every_admin_model_is_walked():
    """Every registered admin has a rule, so the walk above covers it."""
    admins = [admin.site.get_model_admin(model) for model in apps.get_models() if admin.site.is_registered(model)]
    missing = [
        _dotted(model_admin)
        for model_admin in admins
        if not store_rule_of("", type("View", (), {"model_admin": model_admin})())
    ]
    assert not missing, missing
