import io
import re
from decimal import Decimal

import pytest
from django.contrib.auth import get_user_model
from django.core.management import CommandError, call_command
from django.http import HttpRequest
from django.test import Client
from stdnum.in_ import gstin

from billing_project.core.roles import CASHIER, MANAGER
from cashdrawer.models import Denomination, DrawerMovement
from cashdrawer.selectors import drawer_audit
from catalog.models import Product, StoreStock
from catalog.stock import stock_audit
from purchases.management.commands.seed_demo import FLOAT, PRODUCTS
from purchases.tests.demo_store import local_settings

pytestmark = pytest.mark.django_db


def seed(*args):
    out = io.StringIO()
    call_command("seed_demo", "--force", *args, stdout=out)
    return out.getvalue()


def snapshot():
    return (
        sorted(Product.objects.values_list("sku", "name", "price", "tax_percent", "stock")),
        sorted(Denomination.objects.values_list("value", "count")),
        DrawerMovement.objects.count(),
        sorted(get_user_model().objects.values_list("username", "is_staff")),
    )


def test_seed_demo_loads_catalogue_float_and_users():
    out = seed()

    assert Product.objects.count() == len(PRODUCTS) == 12
    assert {p.tax_percent for p in Product.objects.all()} == {Decimal(t) for t in ("0", "5", "12", "18", "28")}
    assert {str(d.value): d.count for d in Denomination.objects.all()} == {f"{v}.00": c for v, c in FLOAT.items()}
    assert DrawerMovement.objects.filter(kind="manual_set", reason="demo float").count() == len(FLOAT)
    assert drawer_audit().ok
    assert stock_audit().problems == []
    users = get_user_model().objects
    assert [g.name for g in users.get(username="manager").groups.all()] == [MANAGER]
    assert [g.name for g in users.get(username="cashier").groups.all()] == [CASHIER]
    assert "manager-demo-pass" in out and "cashier-demo-pass" in out
    assert "/admin/" in out


def test_demo_users_can_log_in_to_the_admin():
    seed()
    client = Client()

    assert client.login(request=HttpRequest(), username="manager", password="manager-demo-pass")
    assert client.get("/admin/catalog/product/").status_code == 200
    assert client.login(request=HttpRequest(), username="cashier", password="cashier-demo-pass")
    assert client.get("/admin/catalog/product/add/").status_code == 403


def test_running_it_again_creates_no_duplicates_and_keeps_changes():
    seed()
    StoreStock.objects.filter(product__sku="RICE-5KG").update(stock=7)  # a manager's change since
    before = snapshot()

    out = seed()

    assert snapshot() == before
    assert "already existed, password unchanged" in out


def test_reset_passwords():
    seed()
    user = get_user_model().objects.get(username="manager")
    user.set_password("changed-by-someone")
    user.save()

    seed("--reset-passwords")

    assert Client().login(request=HttpRequest(), username="manager", password="manager-demo-pass")


def test_refuses_with_debug_off_unless_forced(settings):
    settings.DEBUG = False

    with pytest.raises(CommandError, match="--force"):
        call_command("seed_demo", stdout=io.StringIO())

    assert not Product.objects.exists()
    assert not get_user_model().objects.exists()


@pytest.mark.parametrize(
    ("time_zone", "line"),
    [
        ("Asia/Kolkata", "Times show in Asia/Kolkata."),
        ("UTC", "an Indian store wants TIME_ZONE=Asia/Kolkata"),
    ],
)
def test_seed_demo_says_which_time_zone_the_demo_shows(settings, time_zone, line):
    settings.TIME_ZONE = time_zone
    settings.CURRENCY = "INR"

    out = seed()

    assert line in out
    assert "total cash ₹" in out


def test_the_local_settings_put_the_demo_store_in_india():
    """`make run` uses the local settings: an INR store on Indian time unless TIME_ZONE says otherwise."""
    import os
    import subprocess
    import sys

    code = "from django.conf import settings; print(settings.CURRENCY, settings.TIME_ZONE)"
    env = {k: v for k, v in os.environ.items() if k not in ("TIME_ZONE", "CURRENCY", "DATABASE_URL")}
    env["DJANGO_SETTINGS_MODULE"] = "billing_project.settings.local"
    result = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True)  # noqa: S603
    assert result.stdout.split() == ["INR", "Asia/Kolkata"]

    env["TIME_ZONE"] = "Europe/London"
    result = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True)  # noqa: S603
    assert result.stdout.split() == ["INR", "Europe/London"]


def test_every_demo_product_has_an_hsn_code():
    seed()

    products = list(Product.objects.all())
    assert len(products) == len(PRODUCTS)
    for product in products:
        assert product.hsn_code, product.sku
        product.full_clean()  # 4, 6 or 8 digits, as the model's validator and CHECK want


def test_running_it_again_gives_demo_products_loaded_without_hsn_codes_theirs():
    """A demo database loaded before the demo had HSN codes gets them; a code set since is kept."""
    seed()
    Product.objects.filter(sku="RICE-5KG").update(hsn_code="")
    Product.objects.filter(sku="DAL-1KG").update(hsn_code="0713")

    out = seed()

    codes = dict(Product.objects.values_list("sku", "hsn_code"))
    assert codes["RICE-5KG"] == next(hsn for sku, _, _, _, hsn, _ in PRODUCTS if sku == "RICE-5KG")
    assert codes["DAL-1KG"] == "0713"
    assert "(1 given their HSN code)" in out


def test_the_local_settings_configure_a_complete_demo_store():
    """`make run` prints tax invoices of a real-looking Indian store: legal name, address with its
    state and a phone, a well-formed GSTIN of that state, and CGST and SGST."""
    store = local_settings()

    assert store["STORE_LEGAL_NAME"] and store["STORE_LEGAL_NAME"] != store["STORE_NAME"] != "Store Billing"
    lines = store["STORE_ADDRESS"].splitlines()
    assert len(lines) >= 3
    assert any(re.search(r"\b[1-9][0-9]{5}\b", line) for line in lines)  # a PIN code
    assert any(line.startswith("Phone: +91 ") for line in lines)
    gstin_ = store["STORE_TAX_ID"]
    assert gstin.is_valid(gstin_), gstin_  # format, state code, PAN and check character
    state = gstin.info(gstin_)["state"]
    assert f"State: {state} (code {gstin_[:2]})" in lines
    assert gstin.to_pan(gstin_)[4] == store["STORE_LEGAL_NAME"][0]  # a PAN's fifth letter: the name's initial
    assert store["TAX_SPLIT"] == "cgst_sgst"


def test_a_store_named_in_the_environment_replaces_the_demo_store():
    store = local_settings(STORE_NAME="Corner Grocer", TAX_SPLIT="none")

    assert store["STORE_NAME"] == store["STORE_LEGAL_NAME"] == "Corner Grocer"
    assert store["STORE_ADDRESS"] == store["STORE_TAX_ID"] == ""
    assert store["TAX_SPLIT"] == "none"


def test_a_store_address_in_the_environment_keeps_its_lines():
    """An address set in .env or the environment can have several lines: written with \\n."""
    store = local_settings(STORE_ADDRESS=r"12 Market Road\nPune 411001")

    assert store["STORE_ADDRESS"] == "12 Market Road\nPune 411001"
