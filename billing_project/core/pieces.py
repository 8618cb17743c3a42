"""Notes and coins: how many of each value.

One shape recurs across the till's day: the notes a customer tenders, the change handed back, the
drawer counted at an open and a close, the cash paid in or out, a refund's cash. Callers write it as
``[{value, count}]``; ``Pieces`` is that set, parsed and checked once (``Pieces.parse``), with its
total and its API form.
"""

from collections.abc import Callable, Collection, Iterable, Iterator, Mapping
from decimal import Decimal, InvalidOperation

from billing_project.core.errors import DomainError, ValidationFailed

ZERO = Decimal("0.00")


class Pieces(Mapping[Decimal, int]):
    """``{value: count}``, in the order the values were first given (a bill's ledger rows follow the
    notes as tendered); ``highest_first()`` for what people read."""

    __slots__ = ("_counts",)

    def __init__(self, counts: Mapping[Decimal, int] | Iterable[tuple[Decimal, int]] = ()) -> None:
        self._counts: dict[Decimal, int] = dict(counts)

    @classmethod
    def parse(
        cls,
        rows: Iterable[Mapping],
        *,
        field: str,
        known: Collection[Decimal],
        repeats: str = "combine",
        counts: range = range(1, 2**63),
        count_error: tuple[str, str] = ("A count must be positive.", "Count must be > 0."),
        unknown: Callable[[Decimal], DomainError] | None = None,
    ) -> "Pieces":
        """``[{value, count}]`` as ``Pieces``, checked in the order given. ``known`` are the values
        the drawer has: any other is ``unknown(value)`` (by default a ``validation_error`` on
        ``field``). ``repeats`` says what a value given twice does: ``"combine"`` adds the counts,
        ``"refuse"`` is a ``validation_error``. A count outside ``counts`` is a ``validation_error``
        with ``count_error``'s message and detail."""
        parsed: dict[Decimal, int] = {}
        for row in rows:
            try:
                value, count = Decimal(row["value"]), int(row["count"])
            except (InvalidOperation, TypeError, ValueError):
                raise ValidationFailed("A piece is a value and a count.", details={field: ["Invalid piece."]}) from None
            if value not in known:
                if unknown is not None:
                    raise unknown(value)
                raise ValidationFailed(
                    f"{value:.2f} is not a denomination of this till.", details={field: [f"Unknown value {value:.2f}."]}
                )
            if value in parsed and repeats == "refuse":
                raise ValidationFailed(
                    f"{value:.2f} is counted twice.", details={field: [f"Value {value:.2f} is listed more than once."]}
                )
            if count not in counts:
                message, detail = count_error
                raise ValidationFailed(message, details={field: [detail]})
            parsed[value] = parsed.get(value, 0) + count
        return cls(parsed)

    def __getitem__(self, value: Decimal) -> int:
        return self._counts[value]

    def __iter__(self) -> Iterator[Decimal]:
        return iter(self._counts)

    def __len__(self) -> int:
        return len(self._counts)

    def __repr__(self) -> str:
        return f"Pieces({self._counts!r})"

    @property
    def total(self) -> Decimal:
        """What they are worth."""
        return sum((value * count for value, count in self._counts.items()), ZERO)

    def highest_first(self) -> list[tuple[Decimal, int]]:
        return sorted(self._counts.items(), reverse=True)

    def as_api(self, *, skip_zero: bool = False) -> list[dict]:
        """``[{value, count}]`` as the API writes it (JSON-safe, 2 places), highest value first."""
        return [
            {"value": f"{value:.2f}", "count": count} for value, count in self.highest_first() if count or not skip_zero
        ]
