from datetime import timedelta

from django.core.management.base import BaseCommand, CommandError

from billing_project.core.idempotency import KEEP_FOR, idempotency_keys_prune


class Command(BaseCommand):
    help = "Delete Idempotency-Keys older than --hours (at least 24). Run it daily, e.g. from cron."

    def add_arguments(self, parser):
        parser.add_argument("--hours", type=int, default=int(KEEP_FOR.total_seconds() // 3600))

    def handle(self, *args, hours, **options):
        if hours < KEEP_FOR.total_seconds() // 3600:
            raise CommandError(f"Keys are kept at least {KEEP_FOR}; --hours must be 24 or more.")
        deleted = idempotency_keys_prune(older_than=timedelta(hours=hours))
        self.stdout.write(f"Deleted {deleted} idempotency key(s) older than {hours} hours.")
