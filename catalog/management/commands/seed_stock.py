from django.core.management.base import BaseCommand, CommandError

from billing_project.core.errors import DomainError
from catalog.importing import DEFAULT_BATCH_SIZE, ImportRejected, parse_path, product_import_rows


class Command(BaseCommand):
    help = (
        "Import or update products from a CSV or JSON file with the fields sku,name,price,tax_percent,stock, "
        "upserting by SKU. Every row is validated first; with any bad row nothing is written, unless --partial. "
        "By default the file's stock is added to the current stock; --set replaces it."
    )

    def add_arguments(self, parser):
        parser.add_argument("path", help="A .csv file (with a header row) or a .json file (a list of objects).")
        parser.add_argument("--set", action="store_true", dest="set_stock", help="Set stock to the file's value.")
        parser.add_argument("--store", type=int, default=None, help="The store's id (default: the default store).")
        parser.add_argument("--partial", action="store_true", help="Write the good rows and report the bad ones.")
        parser.add_argument("--dry-run", action="store_true", help="Validate and count, but write nothing.")
        parser.add_argument("--batch-size", type=int, default=DEFAULT_BATCH_SIZE, help="Rows per write batch.")

    def handle(self, *args, path, set_stock, partial, dry_run, batch_size, store=None, **options):
        if batch_size < 1:
            raise CommandError("--batch-size must be at least 1.")
        verbosity = options["verbosity"]
        try:
            parsed = parse_path(path)
        except DomainError as exc:
            raise CommandError(exc.message) from None
        if parsed.ignored_columns:
            self.stderr.write(self.style.WARNING(f"Ignored columns: {', '.join(parsed.ignored_columns)}"))
        self.stdout.write(f"Read {parsed.total} rows from {path}: {len(parsed.rows)} valid, {len(parsed.errors)} bad.")
        self._report(parsed.errors)
        if parsed.errors and not partial:
            raise CommandError(
                f"{len(parsed.errors)} bad row(s); nothing was written. "
                "Fix them, or use --partial to load the good rows."
            )

        progress = _Progress(self.stdout, len(parsed.rows), enabled=verbosity > 0)
        try:
            result = product_import_rows(
                rows=parsed.rows,
                set_stock=set_stock,
                store=store,
                partial=partial,
                dry_run=dry_run,
                batch_size=batch_size,
                progress=progress.update,
                unit=parsed.unit,
            )
        except ImportRejected as exc:
            progress.close()
            self._report(exc.errors)
            raise CommandError(f"{len(exc.errors)} row(s) refused; nothing was written.") from None
        except DomainError as exc:
            progress.close()
            raise CommandError(exc.message) from None
        progress.close()
        self._report(result.errors)

        skipped = len(parsed.errors) + len(result.errors)
        verb = "Would create" if dry_run else "Created"
        summary = (
            f"{verb} {result.created}, {'update' if dry_run else 'updated'} {result.updated}, "
            f"unchanged {result.unchanged}, skipped {skipped} bad row(s). "
            f"Stock was {'set to' if set_stock else 'added from'} the file."
        )
        if dry_run:
            summary += " Dry run: nothing was written."
        self.stdout.write(self.style.WARNING(summary) if skipped or dry_run else self.style.SUCCESS(summary))

    def _report(self, errors):
        for error in errors:
            self.stderr.write(str(error))


class _Progress:
    """A progress bar on a terminal (tqdm); on anything else, a plain line every 10%."""

    def __init__(self, stdout, total: int, *, enabled: bool):
        self.total, self.done, self.next_report = total, 0, 0
        self.stdout = stdout
        self.bar = None
        self.enabled = enabled and total > 0
        if self.enabled and stdout.isatty():
            from tqdm import tqdm

            # tqdm draws with carriage returns: write to the raw stream, not Django's line wrapper.
            self.bar = tqdm(total=total, unit="rows", file=getattr(stdout, "_out", stdout), dynamic_ncols=True)

    def update(self, count: int) -> None:
        if not self.enabled:
            return
        self.done += count
        if self.bar is not None:
            self.bar.update(count)
        elif self.done >= self.next_report or self.done == self.total:
            self.stdout.write(f"progress: {self.done}/{self.total} rows ({self.done * 100 // self.total}%)")
            self.next_report = self.done + max(1, self.total // 10)

    def close(self) -> None:
        if self.bar is not None:
            self.bar.close()
            self.bar = None
