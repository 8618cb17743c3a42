import logging
from collections.abc import Iterator
from contextlib import contextmanager
from decimal import Decimal

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction

from billing_project.core.money import format_money
from billing_project.core.roles import CASHIER, HEAD_OFFICE, MANAGER, role_assign, roles_setup
from cashdrawer.models import Denomination
from cashdrawer.selectors import drawer_total
from cashdrawer.services import denomination_create
from catalog.models import Product
from catalog.services import product_create, product_update
from catalog.stores import default_store
from customers.services import customer_get_or_create, customer_set_gst_details
from purchases.demo_sales import demo_clock, demo_month_start, demo_restock, demo_sales
from purchases.models import Purchase

# sku, name, price (INR), tax %, HSN code, stock. The stock is also the shelf level that the demo
# month's deliveries, every Monday and after its last day, bring a product back up to
# (``demo_restock``); the cola's is under LOW_STOCK_THRESHOLD (5) on purpose, so the back office
# has a low-stock warning to show.
PRODUCTS = [
    ("RICE-5KG", "Basmati rice 5 kg", "549.00", "5", "10063020", 40),
    ("ATTA-10KG", "Whole wheat atta 10 kg", "465.00", "0", "11010000", 30),
    ("DAL-1KG", "Toor dal 1 kg", "168.00", "0", "07136000", 50),
    ("MILK-1L", "Toned milk 1 L", "56.00", "0", "04012000", 60),
    ("OIL-1L", "Sunflower oil 1 L", "155.00", "5", "151219", 45),
    ("SUGAR-1KG", "Sugar 1 kg", "48.00", "5", "170199", 80),
    ("TEA-500G", "Assam tea 500 g", "285.00", "5", "090230", 25),
    ("BISC-200G", "Butter biscuits 200 g", "40.00", "18", "19053100", 120),
    ("SOAP-100G", "Bath soap 100 g", "45.50", "18", "340111", 90),
    ("PASTE-150G", "Toothpaste 150 g", "99.00", "18", "33061020", 70),
    ("GHEE-1L", "Cow ghee 1 L", "650.00", "12", "04059020", 20),
    ("COLA-750ML", "Cola 750 ml", "40.00", "28", "220210", 3),
]
KEPT_LOW = "COLA-750ML"

# value (INR) -> count
FLOAT = {"2000": 2, "500": 10, "200": 10, "100": 20, "50": 20, "20": 30, "10": 30, "5": 20, "2": 30, "1": 30}

# Each works at the default store; head office sees every store.
USERS = [
    ("headoffice", "headoffice-demo-pass", HEAD_OFFICE),
    ("manager", "manager-demo-pass", MANAGER),
    ("cashier", "cashier-demo-pass", CASHIER),
]

# Two of the demo month's customers are businesses that give their GSTIN (made up, with valid check
# characters): their bills are B2B, one within Karnataka (CGST + SGST), one to Maharashtra (IGST).
BUSINESSES = [
    ("imran@example.com", "29AAACR4849R1ZH", "Imran Stores LLP", "22, Jayanagar 4th Block\nBengaluru 560011"),
    ("vikram@example.com", "27AAACR4849R1ZL", "Vikram Traders Private Limited", "5, FC Road\nPune 411004"),
]


class Command(BaseCommand):
    help = (
        "Load demo data: the roles, a demo catalogue, an INR drawer float and three demo users (head office, "
        "manager, cashier) whose passwords are printed. Safe to run again: what exists is left as it is. "
        "Refuses to run with DEBUG off unless --force, since the demo passwords are public."
    )

    def add_arguments(self, parser):
        parser.add_argument("--force", action="store_true", help="Run even with DEBUG off.")
        parser.add_argument(
            "--sales",
            action="store_true",
            help=(
                "Also trade a month of demo days if there is no bill yet: bills and refunds (for the sales "
                "dashboard), each day a till session closed with its drawer counted; then restock."
            ),
        )
        parser.add_argument(
            "--reset-passwords", action="store_true", help="Set the demo users' passwords even if they exist."
        )

    @transaction.atomic
    def handle(self, *args, force, reset_passwords, sales=False, **options):
        if not settings.DEBUG and not force:
            raise CommandError("seed_demo creates users with published passwords; with DEBUG off it needs --force.")
        add_sales = sales and not Purchase.objects.exists()
        # A fresh demo store is stocked before its month of trading starts, so its ledger reads in order.
        with demo_clock(demo_month_start() if add_sales else None):
            cashier = self._store(reset_passwords=reset_passwords)

        if sales and not add_sales:
            self.stdout.write("Sales: the store has bills already; no demo sales added.")
        elif add_sales:
            # One summary line instead of a log line per demo bill, refund and session.
            with _quiet("billing.purchases", "billing.refunds", "billing.drawer", "billing.catalog"):
                shelf = {sku: stock for sku, *_, stock in PRODUCTS}
                made = demo_sales(user=cashier, shelf=shelf)
                restocked = demo_restock(levels=shelf)
            self.stdout.write(
                f"Sales: {made['bills']} demo bills and {made['refunds']} refunds over the last 30 days, in "
                f"{made['sessions']} till sessions, each closed with its drawer counted (see Sales in the back office)."
            )
            self.stdout.write(
                f"Stock: {len(restocked)} product(s) restocked to their shelf level after the month; {KEPT_LOW} is "
                "kept low to show the low-stock warning."
            )
            self.stdout.write("Till: closed. The cashier's first step is Open till, counting the float it suggests.")

        self.stdout.write(
            self.style.SUCCESS(
                "Demo data ready. Cashiers ring up bills at / (the billing page); managers run the back "
                "office at /admin/; the API takes a token from POST /api/v1/auth/token (docs at /api/docs/)."
            )
        )

    def _store(self, *, reset_passwords: bool):
        """The roles, the catalogue, the float and the users; returns the demo cashier."""
        roles_setup()
        self.stdout.write("Roles: Head office, Manager and Cashier groups are set up.")

        existing = {p.sku: p for p in Product.objects.filter(sku__in=[p[0] for p in PRODUCTS])}
        created = coded = 0
        for sku, name, price, tax, hsn, stock in PRODUCTS:
            product = existing.get(sku)
            if product is None:
                product_create(
                    sku=sku, name=name, price=Decimal(price), tax_percent=Decimal(tax), hsn_code=hsn, stock=stock
                )
                created += 1
            elif not product.hsn_code:  # loaded before the demo had HSN codes: a tax invoice needs one
                product_update(product=product, hsn_code=hsn)
                coded += 1
        self.stdout.write(
            f"Products: {created} added, {len(PRODUCTS) - created} already there"
            + (f" ({coded} given their HSN code)." if coded else ".")
        )

        if default_store().gstin:  # the settings seeded it (catalog 0008)
            for email, gstin, legal_name, address in BUSINESSES:
                customer = customer_get_or_create(email=email)
                if not customer.gstin:
                    customer_set_gst_details(
                        customer_id=customer.pk, gstin=gstin, legal_name=legal_name, billing_address=address
                    )
            self.stdout.write(f"Customers: {len(BUSINESSES)} business buyers with a GSTIN (their bills are B2B).")

        values = set(Denomination.objects.values_list("value", flat=True))
        added = 0
        for value, count in FLOAT.items():
            if Decimal(value) not in values:
                denomination_create(value=Decimal(value), count=count, reason="demo float")
                added += 1
        self.stdout.write(
            f"Drawer: {added} denomination(s) added, {len(FLOAT) - added} already there; "
            f"total cash {format_money(drawer_total())}."
        )
        if settings.CURRENCY == "INR" and settings.TIME_ZONE != "Asia/Kolkata":
            self.stdout.write(
                self.style.WARNING(
                    f"Times show in {settings.TIME_ZONE}; an Indian store wants TIME_ZONE=Asia/Kolkata "
                    "(the local settings use it unless TIME_ZONE is set)."
                )
            )
        else:
            self.stdout.write(f"Times show in {settings.TIME_ZONE}.")

        self.stdout.write("Users:")
        users = get_user_model().objects
        cashier = None
        for username, password, role in USERS:
            user = users.filter(username=username).first()
            if user is None:
                user = users.create_user(username=username, password=password, is_staff=True)
                note = f"password: {password}"
            elif reset_passwords:
                user.set_password(password)
                user.save(update_fields=["password"])
                note = f"password reset to: {password}"
            else:
                note = "already existed, password unchanged (--reset-passwords sets it again)"
            role_assign(user=user, role=role)
            user.stores.add(default_store())
            self.stdout.write(f"  {role.lower():8} username: {username:8} {note}")
            if role == CASHIER:
                cashier = user
        return cashier


@contextmanager
def _quiet(*names: str) -> Iterator[None]:
    loggers = [logging.getLogger(name) for name in names]
    levels = [logger.level for logger in loggers]
    for logger in loggers:
        logger.setLevel(logging.WARNING)
    try:
        yield
    finally:
        for logger, level in zip(loggers, levels, strict=True):
            logger.setLevel(level)
