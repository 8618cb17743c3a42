import re
from decimal import Decimal, InvalidOperation

from django.core.management.base import BaseCommand, CommandError

from billing_project.core.errors import DomainError
from cashdrawer.models import MAX_COUNT
from cashdrawer.selectors import drawer_list, drawer_total
from cashdrawer.services import drawer_set_counts

REASON = "float set by command"
_PAIR = re.compile(r"^\s*([^=\s]+)\s*=\s*([^=\s]+)\s*$")


def parse_pairs(pairs: list[str]) -> dict[Decimal, int]:
    """``["500=10", "0.50=4"]`` → ``{Decimal("500.00"): 10, Decimal("0.50"): 4}``; CommandError on bad input."""
    counts: dict[Decimal, int] = {}
    problems = []
    for position, pair in enumerate(pairs, start=1):
        match = _PAIR.match(pair)
        if not match:
            problems.append(f"argument {position} {pair!r}: expected VALUE=COUNT, e.g. 500=10")
            continue
        raw_value, raw_count = match.groups()
        try:
            value = Decimal(raw_value)
        except InvalidOperation:
            value = None
        if value is None or not value.is_finite() or value <= 0 or value != value.quantize(Decimal("0.01")):
            problems.append(
                f"argument {position} {pair!r}: {raw_value!r} is not a positive amount with at most 2 decimals"
            )
            continue
        if value >= Decimal(10) ** 10:
            problems.append(f"argument {position} {pair!r}: {raw_value!r} is too large")
            continue
        if not raw_count.isdigit() or int(raw_count) > MAX_COUNT:
            problems.append(f"argument {position} {pair!r}: {raw_count!r} is not a count between 0 and {MAX_COUNT}")
            continue
        value = value.quantize(Decimal("0.01"))
        if value in counts:
            problems.append(f"argument {position} {pair!r}: {value} is given twice")
            continue
        counts[value] = int(raw_count)
    if problems:
        raise CommandError("\n".join(problems))
    return counts


def write_drawer(stdout) -> None:
    denominations = list(drawer_list())
    stdout.write(f"{'value':>12} {'count':>8} {'value x count':>16}")
    for d in denominations:
        stdout.write(f"{d.value:>12} {d.count:>8} {d.total:>16}")
    stdout.write(f"{'total':>12} {sum(d.count for d in denominations):>8} {drawer_total(denominations):>16}")


class Command(BaseCommand):
    help = (
        "Set drawer counts: set_float 500=10 200=20 100=30. Each change is recorded in the drawer ledger "
        f'with the reason "{REASON}". A value the drawer does not have yet is added. All or nothing.'
    )

    def add_arguments(self, parser):
        parser.add_argument("pairs", nargs="+", metavar="VALUE=COUNT", help="e.g. 500=10")
        parser.add_argument("--reason", default=REASON, help=f'Ledger reason (default "{REASON}").')

    def handle(self, *args, pairs, reason, **options):
        counts = parse_pairs(pairs)
        reason = reason.strip()
        if not reason or len(reason) > 255:
            raise CommandError("--reason must be 1 to 255 characters.")
        try:
            result = drawer_set_counts(counts=counts, user=None, reason=reason, create_missing=True)
        except DomainError as exc:
            raise CommandError(exc.message) from None
        write_drawer(self.stdout)
        summary = (
            f"Added {len(result['created'])}, changed {len(result['changed'])}, "
            f"unchanged {len(result['unchanged'])} denomination(s)."
        )
        self.stdout.write(self.style.SUCCESS(summary))
