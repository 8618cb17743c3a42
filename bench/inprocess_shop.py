"""The shop that ``profile_bill.py`` and ``prepared_cost.py`` ring bills up in, in-process: 50 products
with stock to spare, a drawer float of every note and coin, a token client, and a bill's body.
Django must be set up by the caller (on its own fresh database)."""

from __future__ import annotations

import random
import secrets
from decimal import Decimal


def seed_products(rng: random.Random) -> list:
    """50 products (prices in whole rupees, tax 0/5/12/18 %) and 50,000 of each note and coin."""
    from cashdrawer.services import denomination_create
    from catalog.services import product_create

    products = [
        product_create(
            name=f"Item {n}",
            sku=f"P-{n}",
            price=Decimal(rng.randint(5, 1500)),
            tax_percent=Decimal(rng.choice([0, 5, 12, 18])),
            stock=10_000_000,
        )
        for n in range(50)
    ]
    for value in ("2000", "500", "200", "100", "50", "20", "10", "5", "2", "1"):
        denomination_create(value=Decimal(value), count=50_000)
    return products


def superuser():
    from django.contrib.auth import get_user_model

    return get_user_model().objects.create_superuser("bench", "bench@example.com", secrets.token_urlsafe(20))


def token_client(user):
    """Django's test client, authenticated as ``user`` with a knox token, as a till is."""
    from django.test import Client
    from knox.models import AuthToken

    _, token = AuthToken.objects.create(user=user)
    return Client(HTTP_HOST="127.0.0.1", HTTP_AUTHORIZATION=f"Token {token}")


def bill_body(rng: random.Random, products: list) -> dict:
    """1 to 5 lines, paid in ₹100 notes over the amount (the server works out the change)."""
    picked = rng.sample(products, rng.randint(1, 5))
    lines = [(p, rng.randint(1, 3)) for p in picked]
    bound = sum((p.price * q * (100 + p.tax_percent) / 100 for p, q in lines), Decimal(1))
    paid = (int(bound) // 100 + 1) * 100
    return {
        "customer_email": f"c{rng.randrange(300)}@example.com",
        "items": [{"product_id": p.pk, "quantity": q} for p, q in lines],
        "paid_amount": f"{paid}.00",
        "tendered": [{"value": "100", "count": paid // 100}],
    }
