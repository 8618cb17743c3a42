from django.core.management.base import BaseCommand, CommandError

from catalog.stock import stock_audit


class Command(BaseCommand):
    help = (
        "Check each store's stock against its stock ledger: every (store, product) stock equals the sum of its "
        "movements at that store, and every movement's balance_after is the balance before it at that store "
        "plus its quantity. Reports per store; exits non-zero on any mismatch."
    )

    def handle(self, *args, **options):
        audit = stock_audit()
        for store in audit.stores:
            self.stdout.write(
                f"store {store.code}: {store.products} product(s), {store.movements} movement(s), "
                f"{store.problems} problem(s)"
            )
        if not audit.ok:
            for problem in audit.problems[:100]:
                self.stderr.write(problem)
            raise CommandError(f"Stock audit failed: {len(audit.problems)} problem(s).")
        self.stdout.write(
            self.style.SUCCESS(
                f"Stock audit passed: {audit.products} product(s) match their ledger of {audit.movements} movement(s)."
            )
        )
