from decimal import Decimal

from billing_project.core.types import PieceRow
from cashdrawer.models import Denomination
from cashdrawer.services import denomination_create

INR = ("2000", "500", "200", "100", "50", "20", "10", "5", "2", "1")


def drawer_with(counts: dict) -> list[Denomination]:
    """A drawer holding ``{value: count}``, created through the service so the ledger matches."""
    return [denomination_create(value=Decimal(str(value)), count=count) for value, count in counts.items()]


def pieces(counts: dict) -> list[PieceRow]:
    """``{value: count}`` as the services take pieces: ``[{"value": Decimal("500"), "count": 2}, …]``."""
    return [{"value": Decimal(str(value)), "count": count} for value, count in counts.items()]
