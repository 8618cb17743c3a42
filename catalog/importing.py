"""Loading products from a CSV or JSON file: parse and validate every row, then upsert by SKU.

Used by ``manage.py seed_stock`` and the product import page of the admin. Parsing is pure
Python; ``product_import_rows`` is the service that writes, in batches, in one transaction.

File format: the fields ``sku,name,price,tax_percent,stock``, and optionally ``unit`` (``each``, the
default for a new product, or ``kg``, ``g``, ``l``, ``ml``, ``m``). Stock is a whole number, except
in a row whose unit is a measure: up to 3 decimal places. An existing product keeps its unit (a row
naming another is refused: change it in the admin). CSV has a header row; JSON is a list
of objects (or ``{"products": [...]}``). Errors name the CSV line (the header is line 1; a
record's first physical line) or the JSON record (1-based).
"""

import csv
import io
import json
import logging
import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import IO, Any, cast

from django.core.exceptions import ValidationError
from django.db import IntegrityError, connection, transaction
from django.utils import timezone

from billing_project.core.db import atomic_write
from billing_project.core.errors import DomainError, ErrorCode
from billing_project.core.money import CENT, format_money
from billing_project.core.quantities import MILLI, UNITS, Unit, quantity_problem, quantity_text
from billing_project.core.validators import validate_code_text, validate_plain_text

from .lock_objects import products_by_sku
from .models import MAX_PRICE, MAX_STOCK, Product, StockMovement, StoreStock
from .stock import stock_store

logger = logging.getLogger("billing.catalog")

FIELDS = ("sku", "name", "price", "tax_percent", "stock")
OPTIONAL_FIELDS = ("unit",)
SKU_MAX_LENGTH = cast(int, Product._meta.get_field("sku").max_length)
NAME_MAX_LENGTH = cast(int, Product._meta.get_field("name").max_length)
DEFAULT_BATCH_SIZE = 2000
_INTEGER = re.compile(r"[+-]?[0-9]+")
_DECIMAL = re.compile(r"[+-]?[0-9]{1,12}\.[0-9]+")


class ImportFileError(DomainError):
    """The file as a whole cannot be read: unknown format, bad encoding, bad header, bad JSON."""

    code = ErrorCode.IMPORT_FILE_INVALID
    default_message = "The file cannot be read."


class ImportRejected(DomainError):
    """Rows were refused while writing (without ``partial``): nothing was written."""

    code = ErrorCode.IMPORT_REJECTED
    default_message = "Some rows cannot be imported; nothing was written."

    def __init__(self, errors: list["RowError"]):
        self.errors = errors
        super().__init__(
            f"{len(errors)} bad row(s); nothing was written.", details={"errors": [str(e) for e in errors]}
        )


@dataclass(frozen=True)
class ProductRow:
    line: int
    sku: str
    name: str
    price: Decimal
    tax_percent: Decimal
    stock: Decimal
    measure: str | None = None  # the ``unit`` column: None when not given


@dataclass(frozen=True)
class RowError:
    line: int
    messages: tuple[str, ...]
    unit: str = "line"

    def __str__(self):
        return f"{self.unit} {self.line}: {'; '.join(self.messages)}"


@dataclass
class ParsedFile:
    rows: list[ProductRow] = field(default_factory=list)
    errors: list[RowError] = field(default_factory=list)
    unit: str = "line"
    ignored_columns: list[str] = field(default_factory=list)

    @property
    def total(self) -> int:
        return len(self.rows) + len(self.errors)


@dataclass
class ImportResult:
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    errors: list[RowError] = field(default_factory=list)
    dry_run: bool = False


# --- Parsing ----------------------------------------------------------------------------------


def file_format(name: str) -> str:
    suffix = Path(name).suffix.lower()
    if suffix not in (".csv", ".json"):
        raise ImportFileError(f"Unknown file type {suffix or '(none)'!r}: use a .csv or .json file.")
    return suffix[1:]


def parse_path(path: str | Path) -> ParsedFile:
    """Read and validate a .csv or .json file."""
    fmt = file_format(str(path))
    try:
        with open(path, encoding="utf-8-sig", newline="") as stream:
            return parse_stream(stream, fmt)
    except FileNotFoundError:
        raise ImportFileError(f"No such file: {path}") from None
    except IsADirectoryError:
        raise ImportFileError(f"{path} is a directory, not a file.") from None
    except PermissionError:
        raise ImportFileError(f"Cannot read {path}: permission denied.") from None


def parse_upload(upload) -> ParsedFile:
    """Read and validate an uploaded file (admin), by its name's extension."""
    fmt = file_format(upload.name)
    stream = io.TextIOWrapper(upload.file, encoding="utf-8-sig", newline="")
    try:
        return parse_stream(stream, fmt)
    finally:
        stream.detach()


def parse_stream(stream: IO[str], fmt: str) -> ParsedFile:
    try:
        return _parse_csv(stream) if fmt == "csv" else _parse_json(stream)
    except UnicodeDecodeError:
        raise ImportFileError("The file is not UTF-8 text.") from None


def _parse_csv(stream: IO[str]) -> ParsedFile:
    result = ParsedFile(unit="line")
    reader = csv.reader(stream)
    header: list[str] | None = None
    seen: dict[str, int] = {}
    end = 0
    try:
        for raw in reader:
            # A record starts on the line after the previous one ended (quoted fields may span lines).
            start, end = end + 1, reader.line_num
            if not any(cell.strip() for cell in raw):
                continue
            if header is None:
                header = _check_header(raw, result)
                continue
            if len(raw) != len(header):
                result.errors.append(
                    RowError(start, (f"has {len(raw)} fields, but the header has {len(header)}",), "line")
                )
                continue
            _add(result, dict(zip(header, raw, strict=True)), start, seen)
    except csv.Error as exc:
        raise ImportFileError(f"line {reader.line_num}: {exc}") from None
    if header is None:
        raise ImportFileError(f"The file is empty: expected a header row {','.join(FIELDS)}.")
    return result


def _check_header(raw: list[str], result: ParsedFile) -> list[str]:
    header = [cell.strip().lower() for cell in raw]
    duplicated = sorted({name for name in header if header.count(name) > 1})
    if duplicated:
        raise ImportFileError(f"line 1: the header repeats {', '.join(duplicated)}.")
    missing = [name for name in FIELDS if name not in header]
    if missing:
        raise ImportFileError(
            f"The header lacks {', '.join(missing)}: expected the columns {','.join(FIELDS)}, got {','.join(header)}."
        )
    result.ignored_columns = [name for name in header if name not in FIELDS + OPTIONAL_FIELDS]
    return header


def _parse_json(stream: IO[str]) -> ParsedFile:
    result = ParsedFile(unit="record")
    try:
        data = json.load(stream, parse_float=Decimal, parse_constant=_reject_constant)
    except json.JSONDecodeError as exc:
        raise ImportFileError(f"Invalid JSON at line {exc.lineno} column {exc.colno}: {exc.msg}.") from None
    except ValueError as exc:
        raise ImportFileError(f"Invalid JSON: {exc}.") from None
    if isinstance(data, dict) and isinstance(data.get("products"), list):
        data = data["products"]
    if not isinstance(data, list):
        raise ImportFileError('Expected a JSON list of products, or an object {"products": [...]}.')
    seen: dict[str, int] = {}
    for index, record in enumerate(data, start=1):
        if not isinstance(record, dict):
            result.errors.append(RowError(index, ("is not an object",), "record"))
            continue
        _add(result, record, index, seen)
    return result


def _reject_constant(name):
    raise ValueError(f"{name} is not a number")


def _add(result: ParsedFile, record: Mapping[str, Any], line: int, seen: dict[str, int]) -> None:
    row = validate_record(record, line, unit=result.unit)
    sku = row.sku if isinstance(row, ProductRow) else _sku_of(record)
    if sku and sku in seen:
        messages = (row.messages if isinstance(row, RowError) else ()) + (
            f"sku {sku!r} is also on {result.unit} {seen[sku]}",
        )
        row = RowError(line, messages, result.unit)
    elif sku:
        seen[sku] = line
    if isinstance(row, RowError):
        result.errors.append(row)
    else:
        result.rows.append(row)


def _sku_of(record: Mapping[str, Any]) -> str:
    sku = record.get("sku")
    return sku.strip() if isinstance(sku, str) else ""


_ZERO = Decimal("0")
_HUNDRED = Decimal("100")
_MONEY_LIMIT = Decimal(MAX_PRICE)


def validate_record(record: Mapping[str, Any], line: int, *, unit: str = "line") -> ProductRow | RowError:
    """Check one record's fields; a record is a mapping of field name to text (CSV) or JSON value."""
    errors: list[str] = []
    sku = _text(record.get("sku"), "sku", SKU_MAX_LENGTH, errors, validate_code_text)
    name = _text(record.get("name"), "name", NAME_MAX_LENGTH, errors, validate_plain_text)
    price = _decimal(record.get("price"), "price", errors)
    if price is not None and not _ZERO < price < _MONEY_LIMIT:
        errors.append(f"price: must be greater than 0 and less than {MAX_PRICE}")
    tax_percent = _decimal(record.get("tax_percent"), "tax_percent", errors)
    if tax_percent is not None and not _ZERO <= tax_percent <= _HUNDRED:
        errors.append("tax_percent: must be between 0 and 100")
    measure = _measure(record.get("unit"), errors)
    if measure is None or measure == Unit.EACH:
        # Whole numbers, as before units: a weighed product's row names its unit to take decimals.
        whole = _integer(record.get("stock"), "stock", errors)
        stock = None if whole is None else Decimal(whole)
    else:
        stock = _quantity(record.get("stock"), "stock", errors)
    if stock is not None and not 0 <= stock <= MAX_STOCK:
        errors.append(f"stock: must be between 0 and {MAX_STOCK}")
    if errors:
        return RowError(line, tuple(errors), unit)
    assert price is not None and tax_percent is not None and stock is not None  # no errors: all parsed
    return ProductRow(line=line, sku=sku, name=name, price=price, tax_percent=tax_percent, stock=stock, measure=measure)


def _measure(value, errors: list[str]) -> str | None:
    """The optional ``unit`` column: ``None`` when absent or blank."""
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    text = value.strip().lower() if isinstance(value, str) else value
    if text not in UNITS:
        errors.append(f"unit: {value!r} is not one of {', '.join(Unit.values)}")
        return None
    return text


def _quantity(value, name: str, errors: list[str]) -> Decimal | None:
    """A whole number, or a decimal with up to 3 places (a weighed product's stock)."""
    if isinstance(value, str) and _DECIMAL.fullmatch(value.strip()):
        number = Decimal(value.strip())
    elif isinstance(value, Decimal) and value.is_finite():
        number = value
    else:
        whole = _integer(value, name, errors)
        return None if whole is None else Decimal(whole)
    if number.adjusted() < 12 and number != number.quantize(MILLI):  # larger: out of range, said below
        errors.append(f"{name}: {value!r} has more than 3 decimal places")
        return None
    return number


# Values are text from CSV, or str / int / Decimal (never float) / bool / None from JSON.


def _text(value, name: str, max_length: int, errors: list[str], validate: Callable[[str], None]) -> str:
    if isinstance(value, int) and not isinstance(value, bool):
        value = str(value)
    elif not isinstance(value, str):
        errors.append(f"{name}: is required" if value is None else f"{name}: must be text")
        return ""
    value = value.strip()
    if not value:
        errors.append(f"{name}: is required")
    elif len(value) > max_length:
        errors.append(f"{name}: is longer than {max_length} characters")
    else:
        try:
            validate(value)  # the API's and the admin's rule: no control or invisible characters
        except ValidationError as exc:
            errors.append(f"{name}: {exc.messages[0]}")
    return value


def _decimal(value, name: str, errors: list[str]) -> Decimal | None:
    if isinstance(value, str):
        text = value.strip()
        if not text:
            errors.append(f"{name}: is required")
            return None
        if not text.isascii():  # Decimal() would read "５" (full-width) as 5
            errors.append(f"{name}: {value!r} is not a number")
            return None
        try:
            number = Decimal(text)
        except InvalidOperation:
            errors.append(f"{name}: {value!r} is not a number")
            return None
    elif value is None:
        errors.append(f"{name}: is required")
        return None
    elif isinstance(value, Decimal | int) and not isinstance(value, bool):
        number = Decimal(value)
    else:
        errors.append(f"{name}: {value!r} is not a number")
        return None
    if not number.is_finite():
        errors.append(f"{name}: {value!r} is not a number")
        return None
    exponent = number.as_tuple().exponent  # an int: the number is finite
    if isinstance(exponent, int) and exponent < -2:
        try:
            rounded = number.quantize(CENT)
        except InvalidOperation:  # more digits than the decimal context holds
            rounded = None
        if rounded != number:
            errors.append(f"{name}: {value!r} has more than 2 decimal places")
            return None
        return rounded
    if number.adjusted() >= 15:  # far out of any range; quantize could overflow the context
        return number
    return number.quantize(CENT)


def _integer(value, name: str, errors: list[str]) -> int | None:
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    if isinstance(value, str):
        text = value.strip()
        if not text:
            errors.append(f"{name}: is required")
            return None
        if _INTEGER.fullmatch(text):
            return int(text)
    elif value is None:
        errors.append(f"{name}: is required")
        return None
    errors.append(f"{name}: {value!r} is not a whole number")
    return None


# --- Writing ----------------------------------------------------------------------------------


def _batches(rows: Sequence[ProductRow], size: int) -> Iterable[Sequence[ProductRow]]:
    for start in range(0, len(rows), size):
        yield rows[start : start + size]


def product_import_rows(
    *,
    rows: Sequence[ProductRow],
    set_stock: bool = False,
    partial: bool = False,
    dry_run: bool = False,
    batch_size: int = DEFAULT_BATCH_SIZE,
    progress: Callable[[int], None] | None = None,
    unit: str = "line",
    store: Any = None,
) -> ImportResult:
    """Upsert validated rows by SKU, in batches, all in one transaction. The stock is at ``store``
    (an id; default: the default store): a new product's stock is put there, and an existing one's
    stock there is set or added to.

    A new SKU creates an active product. An existing SKU gets the row's name, price and tax; its
    stock becomes the row's stock with ``set_stock``, or current stock + the row's stock by default.
    Archived products stay archived, and an MRP stays as it is: a row whose price is above its
    product's MRP is refused (``price_above_mrp``'s rule). Rows whose values already match are left
    untouched.

    First, one query reads (and, unless ``dry_run``, locks with ``SELECT ... FOR NO KEY UPDATE``)
    every existing product the file names, in primary-key order, then their stock rows at the store
    (``FOR UPDATE``, by product id): the global lock order, so an import and a bill can wait for
    each other but not deadlock, and a bill selling one of these products at that store waits
    instead of losing its stock decrement. Then the rows are written in batches.

    A row whose added stock would overflow, or whose price is above the MRP, is refused: without ``partial`` this raises
    ``ImportRejected`` and nothing is written; with it, the row is reported and skipped. A SKU
    inserted concurrently by someone else raises ``ImportRejected`` too. ``dry_run`` reads and
    counts but writes nothing.
    """
    result = ImportResult(dry_run=dry_run)
    with atomic_write():
        store_id = stock_store(store)
        existing = cast(
            dict[str, _Existing], products_by_sku([row.sku for row in rows], lock=not dry_run, store_id=store_id)
        )
        writer = None if dry_run else _writer(store_id)
        for batch in _batches(rows, batch_size):
            _import_batch(batch, existing, result, writer=writer, set_stock=set_stock, unit=unit)
            if progress:
                progress(len(batch))
        if writer is not None:
            writer.finish()
            writer.store_stock()
            _ledger(writer)
        if result.errors and not partial:
            raise ImportRejected(result.errors)
    logger.info(
        "products imported: created=%s updated=%s unchanged=%s refused=%s dry_run=%s set_stock=%s",
        result.created,
        result.updated,
        result.unchanged,
        len(result.errors),
        dry_run,
        set_stock,
    )
    return result


_Existing = tuple[int, str, Decimal, Decimal, Decimal, Decimal | None, str]  # pk, name, price, tax, stock, MRP, unit
_Change = tuple[int, str, Decimal, Decimal, Decimal]  # pk, name, price, tax_percent, stock


def _import_batch(
    batch: Sequence[ProductRow],
    existing: dict[str, _Existing],
    result: ImportResult,
    *,
    writer: "_Writer | None",
    set_stock: bool,
    unit: str,
) -> None:
    new: list[ProductRow] = []
    changed: list[_Change] = []
    for row in batch:
        current = existing.get(row.sku)
        if current is None:
            problem = quantity_problem(row.stock, row.measure or Unit.EACH, allow_zero=True)
            if problem:  # no unit given: a new product is sold each
                result.errors.append(RowError(row.line, (f"stock: {problem}",), unit))
                continue
            new.append(row)
            continue
        pk, name, price, tax_percent, current_stock, mrp, measure = current
        if row.measure is not None and row.measure != measure:
            result.errors.append(
                RowError(row.line, (f"unit: {row.sku} is sold by {measure}; change its unit in the admin",), unit)
            )
            continue
        problem = quantity_problem(row.stock, measure, allow_zero=True)
        if problem:
            result.errors.append(RowError(row.line, (f"stock: {problem} ({row.sku} is sold by {measure})",), unit))
            continue
        stock = row.stock if set_stock else current_stock + row.stock
        if stock > MAX_STOCK:
            result.errors.append(
                RowError(
                    row.line,
                    (
                        f"stock: {quantity_text(current_stock, measure)} in stock + "
                        f"{quantity_text(row.stock, measure)} is more than {MAX_STOCK}",
                    ),
                    unit,
                )
            )
            continue
        if mrp is not None and row.price > mrp:
            message = f"price: {format_money(row.price)} is above the product's MRP {format_money(mrp)}"
            result.errors.append(RowError(row.line, (message,), unit))
            continue
        if (name, price, tax_percent, current_stock) == (row.name, row.price, row.tax_percent, stock):
            result.unchanged += 1
            continue
        changed.append((pk, row.name, row.price, row.tax_percent, stock))
        if stock != current_stock and writer is not None:
            writer.moved.append((pk, stock - current_stock, stock))
    if writer is not None:
        try:
            with transaction.atomic(), connection.wrap_database_errors:
                if new:
                    writer.insert(new)
                if changed:
                    writer.update(changed)
        except IntegrityError:
            raise ImportRejected(
                [RowError(batch[0].line, ("a SKU in this batch was added by someone else meanwhile; try again",), unit)]
            ) from None
    result.created += len(new)
    result.updated += len(changed)


# The writes are the hot path of a 100,000-row import. On PostgreSQL new products go in with COPY,
# and changes are COPYed into a temporary table and applied by one UPDATE ... FROM at the end: the
# ORM's bulk_create and bulk_update (a CASE per field and row) are several times slower, and
# batch-wise UPDATEs would each scan the table. Elsewhere (SQLite) the ORM and executemany suffice.

_TABLE = Product._meta.db_table


class _Writer:
    """Portable writes: bulk_create, and an executemany UPDATE per batch."""

    def __init__(self, store_id: int):
        self.now = timezone.now()
        self.store_id = store_id
        self.table = connection.ops.quote_name(_TABLE)
        self.moved: list[tuple[int, Decimal, Decimal]] = []  # (pk, stock added, stock after)
        self.created: dict[str, Decimal] = {}  # a new product's SKU: its stock

    def insert(self, rows: Sequence[ProductRow]) -> None:
        Product.objects.bulk_create(
            Product(
                sku=r.sku,
                name=r.name,
                price=r.price,
                tax_percent=r.tax_percent,
                unit=r.measure or Unit.EACH,
                is_active=True,
            )
            for r in rows
        )
        self.created.update((r.sku, r.stock) for r in rows)

    def update(self, rows: Sequence[_Change]) -> None:
        stamp = connection.ops.adapt_datetimefield_value(self.now)
        with connection.cursor() as cursor:
            cursor.executemany(
                f"UPDATE {self.table} SET name = %s, price = %s, tax_percent = %s, "  # noqa: S608
                "updated_at = %s WHERE id = %s",
                [(name, price, tax, stamp, pk) for pk, name, price, tax, _ in rows],
            )

    def finish(self) -> None:
        pass

    def store_stock(self) -> None:
        """The stock at the store: a row for each new product (also of 0), and the changed stock of
        the existing ones (inserted or updated: ``ON CONFLICT``)."""
        ids = {sku: row[0] for sku, row in products_by_sku(list(self.created), lock=False).items()}
        rows = [
            StoreStock(store_id=self.store_id, product_id=ids[sku], stock=stock, updated_at=self.now)
            for sku, stock in self.created.items()
        ]
        rows += [
            StoreStock(store_id=self.store_id, product_id=pk, stock=after, updated_at=self.now)
            for pk, _, after in self.moved
        ]
        StoreStock.objects.bulk_create(
            rows,
            batch_size=2000,
            update_conflicts=True,
            unique_fields=["store", "product"],
            update_fields=["stock", "updated_at"],
        )


class _PostgresWriter(_Writer):
    STAGING = "catalog_product_import_changes"

    def __init__(self, store_id: int):
        super().__init__(store_id)
        with connection.cursor() as cursor:
            cursor.execute(
                f"CREATE TEMPORARY TABLE {self.STAGING} (id bigint, name varchar(200), price numeric(12, 2), "
                "tax_percent numeric(5, 2)) ON COMMIT DROP"
            )
        self.staged = 0

    def insert(self, rows: Sequence[ProductRow]) -> None:
        columns = "sku, name, price, tax_percent, unit, is_active, created_at, updated_at"
        now = self.now
        with connection.cursor() as cursor, cursor.copy(f"COPY {self.table} ({columns}) FROM STDIN") as copy:
            for r in rows:
                copy.write_row((r.sku, r.name, r.price, r.tax_percent, r.measure or Unit.EACH, True, now, now))
        self.created.update((r.sku, r.stock) for r in rows)

    def update(self, rows: Sequence[_Change]) -> None:
        columns = "id, name, price, tax_percent"
        with connection.cursor() as cursor, cursor.copy(f"COPY {self.STAGING} ({columns}) FROM STDIN") as copy:
            for row in rows:
                copy.write_row(row[:4])
        self.staged += len(rows)

    def finish(self) -> None:
        with connection.cursor() as cursor, connection.wrap_database_errors:
            if self.staged:
                cursor.execute(f"ANALYZE {self.STAGING}")
                cursor.execute(
                    f"UPDATE {self.table} AS p SET name = v.name, price = v.price, "  # noqa: S608
                    "tax_percent = v.tax_percent, updated_at = %s "
                    f"FROM {self.STAGING} AS v WHERE p.id = v.id",
                    [self.now],
                )
            # Dropped now, not only at commit, so a second import in the same transaction works.
            cursor.execute(f"DROP TABLE {self.STAGING}")


def _ledger(writer: _Writer) -> None:
    """The import's stock ledger rows, in the import's transaction: an ``import`` movement of each
    changed stock, and of each new product's stock (every product without a movement yet), at the
    import's store."""
    StockMovement.objects.bulk_create(
        (
            StockMovement(
                store_id=writer.store_id,
                product_id=pk,
                kind=StockMovement.Kind.IMPORT,
                quantity=added,
                balance_after=after,
                created_at=writer.now,
            )
            for pk, added, after in writer.moved
        ),
        batch_size=2000,
    )
    quote = connection.ops.quote_name
    ledger, rows = quote(StockMovement._meta.db_table), quote(StoreStock._meta.db_table)
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {ledger} "  # noqa: S608
            "(store_id, product_id, kind, quantity, balance_after, unit_cost, reason, created_at) "
            f"SELECT s.store_id, p.id, 'import', s.stock, s.stock, p.cost_price, '', %s FROM {writer.table} AS p "
            f"JOIN {rows} AS s ON s.product_id = p.id AND s.store_id = %s "
            f"WHERE NOT EXISTS (SELECT 1 FROM {ledger} AS m WHERE m.product_id = p.id) ORDER BY p.id",
            [writer.now, writer.store_id],
        )


def _writer(store_id: int) -> _Writer:
    return _PostgresWriter(store_id) if connection.vendor == "postgresql" else _Writer(store_id)
