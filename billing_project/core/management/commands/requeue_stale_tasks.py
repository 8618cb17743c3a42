from datetime import timedelta

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from billing_project.core.outbox import tasks_requeue_stale


class Command(BaseCommand):
    help = (
        "Put task-queue jobs left RUNNING by a worker that died (longer than --seconds) back in the queue. "
        "Run it every few minutes, e.g. from cron."
    )

    def add_arguments(self, parser):
        parser.add_argument("--seconds", type=int, default=600, help="how long a job may run (default 600)")

    def handle(self, *args, seconds, **options):
        # An invoice attempt talks to the mail server a few times, each bounded by EMAIL_TIMEOUT.
        shortest = 3 * settings.EMAIL_TIMEOUT
        if seconds < shortest:
            raise CommandError(
                f"--seconds must be at least {shortest} (3 x EMAIL_TIMEOUT): a live job may take that long."
            )
        requeued = tasks_requeue_stale(older_than=timedelta(seconds=seconds))
        self.stdout.write(f"Requeued {requeued} job(s) running for more than {seconds} s.")
