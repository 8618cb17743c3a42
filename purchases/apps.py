from django.apps import AppConfig
from django.db.models.signals import post_migrate

# The payment methods every store has. A migration creates them; after every migrate (and every
# flush, which tests run) any that are missing are put back, as Django does for permissions.
DEFAULT_PAYMENT_METHODS = (("cash", "Cash", True), ("card", "Card", False), ("upi", "UPI", False))


def ensure_payment_methods(sender=None, using="default", **kwargs) -> None:
    from .models import PaymentMethod

    methods = PaymentMethod.objects.using(using)
    for code, name, is_cash in DEFAULT_PAYMENT_METHODS:
        # A store that already has another cash method keeps it: there is only ever one.
        if is_cash and methods.filter(is_cash=True).exists():
            continue
        methods.get_or_create(code=code, defaults={"name": name, "is_cash": is_cash})


class PurchasesConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "purchases"

    def ready(self):
        post_migrate.connect(ensure_payment_methods, sender=self, dispatch_uid="purchases.payment_methods")
        # A till session's X and Z report show what its bills sold; the drawer knows no bills.
        from cashdrawer.reports import register_sales_source

        from .figures import session_sales

        register_sales_source(session_sales)
