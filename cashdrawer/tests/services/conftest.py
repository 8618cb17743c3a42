"""Fixtures of the drawer's service tests: tills and their drawers made through the services."""

from decimal import Decimal

import pytest

from cashdrawer.models import Till
from cashdrawer.services import denomination_create, till_create


@pytest.fixture
def till(db) -> Till:
    """Till T2 holding 2 × 500, 5 × 100, 4 × 10 and 10 × 1 (1,550.00), no session open."""
    till = till_create(code="T2", name="Counter two")
    for value, count in (("500", 2), ("100", 5), ("10", 4), ("1", 10)):
        denomination_create(value=Decimal(value), count=count, till=till)
    return till
