from django.core.management.base import BaseCommand, CommandError

from catalog.stock import stock_audit


class Command(BaseCommand):
    help = (
        "Check every product's stock against its stock ledger: the stock equals the sum of its movements, and "
        "every movement's balance_after is the balance before it plus its quantity. Exits non-zero on any "
        "mismatch."
    )

    def handle(self, *args, **options):
        audit = stock_audit()
        if not audit.ok:
            for problem in audit.problems[:100]:
                self.stderr.write(problem)
            raise CommandError(f"Stock audit failed: {len(audit.problems)} problem(s).")
        self.stdout.write(
            self.style.SUCCESS(
                f"Stock audit passed: {audit.products} product(s) match their ledger of {audit.movements} movement(s)."
            )
        )
