from django.core.management.base import BaseCommand, CommandError

from cashdrawer.selectors import drawer_audit


class Command(BaseCommand):
    help = (
        "Check every till's cash drawer against its movement ledger: every count equals the sum of its movements, "
        "no count is negative, and every movement's count_after matches the running sum; and each closed "
        "session's frozen Z report against the ledger. Prints the drawers with their totals; exits non-zero on "
        "any mismatch."
    )

    def handle(self, *args, **options):
        audit = drawer_audit()
        self.stdout.write(
            f"{'till':<8} {'value':>12} {'count':>8} {'ledger':>8} {'movements':>10} {'value x count':>16}"
        )
        for row in audit.rows:
            d = row.denomination
            flag = "" if d.count == row.ledger_count and d.count >= 0 else "  <-- MISMATCH"
            self.stdout.write(
                f"{d.till.code:<8} {d.value:>12} {d.count:>8} {row.ledger_count:>8} {row.movements:>10} "
                f"{row.total:>16}{flag}"
            )
        pieces = sum(row.denomination.count for row in audit.rows)
        self.stdout.write(f"{'total':<8} {'':>12} {pieces:>8} {'':>8} {'':>10} {audit.total:>16}")
        if not audit.ok:
            for problem in audit.problems:
                self.stderr.write(problem)
            raise CommandError(f"Drawer audit failed: {len(audit.problems)} problem(s).")
        self.stdout.write(
            self.style.SUCCESS(
                f"Drawer audit passed: {len(audit.rows)} denomination(s) in {audit.tills} till(s) match their "
                f"ledger, and {audit.closed_sessions} closed session(s) their Z report."
            )
        )
