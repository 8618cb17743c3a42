from django.core.management.base import BaseCommand

from purchases.sales_rollups import sales_rollup_seal


class Command(BaseCommand):
    help = (
        "Add the bills and refunds committed since the last seal to the sales report's rollups "
        '(docs/reports.md, "Rollups"). Run it every few minutes, e.g. from cron; --rebuild starts over.'
    )

    def add_arguments(self, parser):
        parser.add_argument("--rebuild", action="store_true", help="empty the rollups and add every bill again")

    def handle(self, *args, rebuild, **options):
        seal = sales_rollup_seal(rebuild=rebuild)
        self.stdout.write(
            f"Sales rollups hold every bill up to id {seal.bills_through} and every refund up to id "
            f"{seal.refunds_through}."
        )
