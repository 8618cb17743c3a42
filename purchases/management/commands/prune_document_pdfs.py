from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from purchases.documents import document_pdfs_prune


class Command(BaseCommand):
    help = (
        "Delete the tax invoice and credit note PDFs kept for reprints longer than --days (default "
        "DOCUMENT_PDF_KEEP_DAYS); a later print renders them again. Run it daily, e.g. from cron."
    )

    def add_arguments(self, parser):
        parser.add_argument("--days", type=int, default=None)

    def handle(self, *args, days, **options):
        days = settings.DOCUMENT_PDF_KEEP_DAYS if days is None else days
        if days < 0:
            raise CommandError("--days must be 0 or more.")
        deleted = document_pdfs_prune(older_than_days=days)
        self.stdout.write(f"Deleted {deleted} stored PDF(s) older than {days} days.")
