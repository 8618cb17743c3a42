"""Inputs that break naive systems. Each gets a 4xx with its documented ``code`` and changes nothing.

Complements the per-app API tests, which already cover the obvious ones (``2**31`` stock, ``1e308``
prices, a 41-rupee note, malformed JSON); these go further: past 64 bits, into URLs, query strings
and headers, unusual encodings, and bodies of a real size.
"""

from decimal import Decimal

import pytest
from django.conf import settings

from cashdrawer.models import MAX_COUNT, Denomination
from cashdrawer.tests.factories import drawer_with
from catalog.models import MAX_STOCK, Product
from catalog.tests.factories import ProductFactory
from customers.models import Customer
from purchases.tests.helpers import db_state

pytestmark = pytest.mark.django_db

API = "/api/v1"
HUGE_INTS = [2**31, 2**63, 2**64, 2**100, -(2**63) - 1, 10**30]


def everything() -> dict:
    """All state a request could touch, catalogue fields included."""
    return db_state() | {
        "products": sorted(Product.objects.values_list("pk", "sku", "name", "price", "tax_percent", "stock")),
        "denominations": sorted(Denomination.objects.values_list("value", "count")),
    }


@pytest.fixture
def drawer_counts():
    return {"2000": 5, "500": 10, "200": 10, "100": 10, "50": 10, "10": 10, "5": 10, "2": 10, "1": 10}


@pytest.fixture
def soap():
    return ProductFactory(name="Soap", price=Decimal("40.00"), tax_percent=Decimal("0"), stock=10)


def bill(product, **overrides):
    return {
        "customer_email": "ann@example.com",
        "items": [{"product_id": product.pk, "quantity": 1}],
        "paid_amount": "40",
    } | overrides


def assert_refused(response, status, code):
    assert response.status_code == status, response.content
    assert response["Content-Type"].startswith("application/json")
    body = response.json()
    assert set(body) == {"code", "message", "details"}
    assert body["code"] == code, body
    assert isinstance(body["details"], dict)
    return body


# --- Integers past 32 and 64 bits ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("field", "value"),
    [("product_id", v) for v in HUGE_INTS if not 0 < v < 2**63] + [("quantity", v) for v in HUGE_INTS],
)
def test_huge_integers_in_bill_lines(admin_api, drawer, soap, field, value):
    line = {"product_id": soap.pk, "quantity": 1} | {field: value}
    before = everything()

    response = admin_api.post(f"{API}/purchases", bill(soap, items=[line]), format="json")

    body = assert_refused(response, 400, "validation_error")
    assert field in body["details"]["items"]["0"]
    assert everything() == before


def test_largest_64_bit_product_id_is_simply_not_found(admin_api, drawer, soap):
    before = everything()

    response = admin_api.post(
        f"{API}/purchases", bill(soap, items=[{"product_id": 2**63 - 1, "quantity": 1}]), format="json"
    )

    assert_refused(response, 400, "product_not_found")
    assert everything() == before


@pytest.mark.parametrize("value", [*HUGE_INTS, MAX_COUNT + 1])
def test_huge_tendered_counts(admin_api, drawer, soap, value):
    before = everything()

    response = admin_api.post(
        f"{API}/purchases", bill(soap, tendered=[{"value": "2000", "count": value}]), format="json"
    )

    body = assert_refused(response, 400, "validation_error")
    assert "tendered" in body["details"]
    assert everything() == before


def test_tendered_notes_that_would_overflow_the_drawer_count(admin_api, soap):
    """The drawer's counts are 32-bit: notes that would push one past 2**31 - 1 are refused by the
    service (and by a CHECK constraint behind it), not a 500 and not a silent overflow."""
    drawer_with({"1": MAX_COUNT - 10})
    before = everything()

    response = admin_api.post(
        f"{API}/purchases", bill(soap, paid_amount="40", tendered=[{"value": "1", "count": 40}]), format="json"
    )

    assert_refused(response, 400, "validation_error")
    assert everything() == before


@pytest.mark.parametrize("value", HUGE_INTS)
@pytest.mark.parametrize("method", ["post", "put", "patch"])
def test_huge_stock(admin_api, soap, method, value):
    body = {"name": "Soap", "price": "40.00", "stock": value}
    url = f"{API}/products" if method == "post" else f"{API}/products/{soap.pk}"
    before = everything()

    response = getattr(admin_api, method)(url, body, format="json")

    assert "stock" in assert_refused(response, 400, "validation_error")["details"]
    assert everything() == before


def test_largest_stock_is_accepted(admin_api, soap):
    # Stock is set when a product is created; after that it changes only through the stock ledger.
    response = admin_api.post(f"{API}/products", {"name": "Bulk", "price": "1.00", "stock": MAX_STOCK}, format="json")

    assert response.status_code == 201
    assert Product.objects.get(pk=response.json()["id"]).stock == MAX_STOCK


@pytest.mark.parametrize("value", HUGE_INTS)
@pytest.mark.parametrize("method", ["post", "put"])
def test_huge_denomination_counts(admin_api, drawer, method, value):
    url, body = (
        (f"{API}/denominations", {"value": "7", "available_count": value})
        if method == "post"
        else (f"{API}/denominations/500", {"available_count": value})
    )
    before = everything()

    response = getattr(admin_api, method)(url, body, format="json")

    assert "available_count" in assert_refused(response, 400, "validation_error")["details"]
    assert everything() == before


@pytest.mark.parametrize(
    "path",
    [
        "products/9223372036854775807",
        "products/18446744073709551616",
        "products/" + "9" * 100,
        "products/999999999999999999",
        "products/0",
        "products/-1",
        "products/1.5",
        "products/1e3",
        "products/%00",
        "purchases/9223372036854775808",
        "purchases/999999999999999999",
        "customers/18446744073709551616",
        "customers/999999999999999999/purchases",
        "denominations/99999999999",
        "denominations/9999999999.99",
        "denominations/500.001",
        "denominations/1e3",
        "denominations/-500",
        "denominations/NaN",
        "denominations/Infinity",
    ],
)
@pytest.mark.parametrize("method", ["get", "put", "patch", "delete"])
def test_huge_and_malformed_ids_in_urls_are_not_found(admin_api, drawer, soap, path, method):
    before = everything()

    response = getattr(admin_api, method)(f"{API}/{path}", {"available_count": 1}, format="json")

    if response.status_code == 405:  # e.g. DELETE on a bill: refused before the id is looked at
        assert_refused(response, 405, "method_not_allowed")
    else:
        assert_refused(response, 404, "not_found")
    assert everything() == before


@pytest.mark.parametrize("page", ["0", "-1", str(2**64), "9" * 50, "abc", "1.5"])
@pytest.mark.parametrize("resource", ["products", "purchases", "customers"])
def test_bad_page_numbers_are_not_found(admin_api, resource, page):
    ProductFactory()

    response = admin_api.get(f"{API}/{resource}?page={page}")

    assert_refused(response, 404, "not_found")


@pytest.mark.parametrize("page_size", ["0", "-1", "abc", "", " 5", "+5", "5.0", "５", "1e2"])
@pytest.mark.parametrize("resource", ["products", "purchases", "customers"])
def test_garbage_page_sizes_are_validation_errors(admin_api, resource, page_size):
    ProductFactory()

    response = admin_api.get(f"{API}/{resource}", {"page_size": page_size})

    assert "page_size" in assert_refused(response, 400, "validation_error")["details"]


@pytest.mark.parametrize(("page_size", "shown"), [("1", 1), ("2", 2), ("100", 3), (str(2**64), 3)])
def test_page_sizes_are_taken_and_capped(admin_api, settings, page_size, shown):
    ProductFactory.create_batch(3)

    response = admin_api.get(f"{API}/products", {"page_size": page_size})

    assert response.status_code == 200
    assert len(response.json()["results"]) == shown


@pytest.mark.parametrize("page", ["", "last", "５", " 1", "+1"])
def test_pages_that_are_not_plain_numbers_are_not_found(admin_api, page):
    ProductFactory()

    response = admin_api.get(f"{API}/products", {"page": page})

    assert_refused(response, 404, "not_found")


# --- Money --------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "price", ["1e308", "1E+2", "1e2", "-0", "0", "0.001", "1.005", "10.000", "NaN", "-Infinity", "", " ", "١٢", "1_000"]
)
def test_hostile_prices_are_validation_errors(admin_api, soap, price):
    before = everything()

    created = admin_api.post(f"{API}/products", {"name": "Rice", "price": price}, format="json")
    patched = admin_api.patch(f"{API}/products/{soap.pk}", {"price": price}, format="json")

    assert "price" in assert_refused(created, 400, "validation_error")["details"]
    assert "price" in assert_refused(patched, 400, "validation_error")["details"]
    assert everything() == before


@pytest.mark.parametrize("raw", ["1e308", "-0.001", "12.345", "1" * 5000])
def test_json_number_prices_are_exact_or_refused(admin_api, raw):
    """A JSON number is read as a Decimal, never a float: too many places, or too many digits, are refused."""
    response = admin_api.post(f"{API}/products", f'{{"name": "Rice", "price": {raw}}}', content_type="application/json")

    assert response.status_code == 400
    assert response.json()["code"] in ("validation_error", "parse_error")
    assert Product.objects.count() == 0


def test_negative_zero_is_zero(admin_api, soap):
    response = admin_api.patch(f"{API}/products/{soap.pk}", {"tax_percent": "-0"}, format="json")

    assert response.status_code == 200
    assert response.json()["tax_percent"] == "0.00"
    assert Product.objects.get(pk=soap.pk).tax_percent == Decimal("0")


@pytest.mark.parametrize("paid", ["1E+2", "40.001", "-0.00", "-40", "1e308", "99999999999999999.99"])
def test_hostile_paid_amounts(admin_api, drawer, soap, paid):
    before = everything()

    response = admin_api.post(f"{API}/purchases", bill(soap, paid_amount=paid), format="json")

    assert response.status_code == 400
    assert response.json()["code"] in ("validation_error", "insufficient_payment")
    assert everything() == before


@pytest.mark.parametrize("value", ["1E+3", "500.001", "-500", "0", "NaN"])
def test_hostile_tendered_values(admin_api, drawer, soap, value):
    before = everything()

    response = admin_api.post(
        f"{API}/purchases", bill(soap, paid_amount="500", tendered=[{"value": value, "count": 1}]), format="json"
    )

    assert "tendered" in assert_refused(response, 400, "validation_error")["details"]
    assert everything() == before


@pytest.mark.parametrize(
    ("value", "count", "paid"),
    [("499", 1, "499"), ("0.50", 80, "40"), ("2500", 1, "2500"), ("9999999999.99", 1, "9999999999.99")],
)
def test_a_note_the_drawer_does_not_know_is_a_tender_mismatch(admin_api, drawer, soap, value, count, paid):
    before = everything()

    response = admin_api.post(
        f"{API}/purchases",
        bill(soap, paid_amount=paid, tendered=[{"value": value, "count": count}]),
        format="json",
    )

    assert_refused(response, 400, "tender_mismatch")
    assert everything() == before


def test_a_known_note_in_another_notation_is_accepted(admin_api, drawer, soap):
    response = admin_api.post(
        f"{API}/purchases", bill(soap, paid_amount="50", tendered=[{"value": "50.0", "count": 1}]), format="json"
    )

    assert response.status_code == 201, response.json()
    assert response.json()["tendered"] == [{"value": "50.00", "count": 1}]


def test_a_bill_too_large_to_store_is_refused(admin_api, drawer):
    gold = ProductFactory(price=Decimal("9999999999.99"), tax_percent=Decimal("100"), stock=MAX_STOCK)
    lines = [{"product_id": gold.pk, "quantity": 1_000_000}] * 200
    before = everything()

    response = admin_api.post(
        f"{API}/purchases", bill(gold, items=lines, paid_amount="9999999999999999.99"), format="json"
    )

    assert_refused(response, 400, "validation_error")
    assert everything() == before


# --- The same product twice ----------------------------------------------------------------------


def test_duplicate_lines_are_combined_before_the_stock_check(admin_api, drawer, soap):
    before = everything()

    response = admin_api.post(
        f"{API}/purchases",
        bill(soap, items=[{"product_id": soap.pk, "quantity": 6}, {"product_id": soap.pk, "quantity": 5}]),
        format="json",
    )

    body = assert_refused(response, 409, "insufficient_stock")
    assert body["details"] == {"product_id": soap.pk, "available": 10, "requested": 11}
    assert everything() == before


def test_duplicate_tendered_notes_are_combined(admin_api, drawer, soap):
    response = admin_api.post(
        f"{API}/purchases",
        bill(soap, paid_amount="40", tendered=[{"value": "10", "count": 2}, {"value": "10.00", "count": 2}]),
        format="json",
    )

    assert response.status_code == 201, response.json()
    assert response.json()["tendered"] == [{"value": "10.00", "count": 4}]
    assert response.json()["change"] == []
    assert Denomination.objects.get(value=10).count == 10 + 4


# --- Emails and strings --------------------------------------------------------------------------


@pytest.mark.parametrize(
    "email",
    [
        "a" * 250 + "@example.com",  # 262 characters
        "ann@" + "a" * 250 + ".com",
        "a" * 65 + "@example.com",  # local part over 64
        "ann\u202e@example.com",  # right-to-left override
        "ann@example\u202e.com",
        "ann\u200b@example.com",  # zero-width space
        "ann@exa\u200bmple.com",
        "ann\x00@example.com",
        "ann@example.com\x00",
        "ann@example.com\nBcc: eve@example.com",
        "ann@@example.com",
        "ann@",
        "@example.com",
        "ann@example..com",
        "ann@[999.1.1.1]",
        "ü" * 300 + "@bücher.example",
        "\ufeffann@example.com",
    ],
)
def test_hostile_emails_are_validation_errors(admin_api, drawer, soap, email):
    before = everything()

    response = admin_api.post(f"{API}/purchases", bill(soap, customer_email=email), format="json")

    assert "customer_email" in assert_refused(response, 400, "validation_error")["details"]
    assert everything() == before


def test_an_idn_email_round_trips(admin_api, drawer, soap):
    response = admin_api.post(f"{API}/purchases", bill(soap, customer_email="Ann@Bücher.Example"), format="json")

    assert response.status_code == 201, response.json()
    assert response.json()["customer_email"] == "ann@bücher.example"
    assert Customer.objects.get().email == "ann@bücher.example"


FILTERS = [("customers", "email"), ("purchases", "customer_email"), ("products", "search")]


@pytest.mark.parametrize(("resource", "query"), FILTERS)
@pytest.mark.parametrize("value", ["%FF%FE", "' OR 1=1 --", "%25", "_", "x" * 5000, "\u202eann@example.com"])
def test_hostile_filters_find_nothing(admin_api, drawer, soap, resource, query, value):
    assert admin_api.post(f"{API}/purchases", bill(soap), format="json").status_code == 201

    response = admin_api.get(f"{API}/{resource}?{query}={value}")

    assert response.status_code == 200, response.content
    assert response.json()["count"] == 0


@pytest.mark.parametrize(
    ("resource", "query"),
    [*FILTERS, ("products", "is_active"), ("products", "page"), ("purchases", "page_size"), ("products", "a%00")],
)
@pytest.mark.parametrize("value", ["%00", "a%00b"])
def test_nul_bytes_in_query_strings_are_refused(admin_api, drawer, soap, resource, query, value):
    """PostgreSQL cannot compare text with a NUL in it: refused up front, the same on every database."""
    response = admin_api.get(f"{API}/{resource}?{query}={value}")

    assert_refused(response, 400, "validation_error")


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("name", "Soap\x00"),
        ("name", "\x00"),
        ("name", "x" * 201),
        ("name", " \t\n "),
        ("sku", "A\x00B"),
        ("sku", "s" * 65),
        ("name", ["Soap"]),
        ("name", {"en": "Soap"}),
        ("is_active", "maybe"),
        ("is_active", None),
    ],
)
def test_hostile_product_strings(admin_api, soap, field, value):
    before = everything()

    created = admin_api.post(f"{API}/products", {"name": "Rice", "price": "1.00"} | {field: value}, format="json")
    patched = admin_api.patch(f"{API}/products/{soap.pk}", {field: value}, format="json")

    assert field in assert_refused(created, 400, "validation_error")["details"]
    assert field in assert_refused(patched, 400, "validation_error")["details"]
    assert everything() == before


def test_unicode_names_round_trip(admin_api):
    name = "चावल 🍚 \u05d0\u05d1 Ünïcödé"

    response = admin_api.post(f"{API}/products", {"name": name, "price": "1.00"}, format="json")

    assert response.status_code == 201
    assert response.json()["name"] == name
    assert Product.objects.get().name == name


def test_nul_in_a_denomination_reason(admin_api, drawer):
    before = everything()

    response = admin_api.put(f"{API}/denominations/500", {"available_count": 3, "reason": "a\x00b"}, format="json")

    assert "reason" in assert_refused(response, 400, "validation_error")["details"]
    assert everything() == before


# --- Bodies: empty, the wrong shape, the wrong type, too big --------------------------------------

WRITES = [
    ("post", "purchases"),
    ("post", "products"),
    ("put", "products/{soap}"),
    ("patch", "products/{soap}"),
    ("post", "denominations"),
    ("put", "denominations/500"),
]


def _url(path, soap):
    return f"{API}/" + path.format(soap=soap.pk)


@pytest.mark.parametrize("raw", ["null", "[]", "[{}]", '"soap"', "42", "true", "{}"])
@pytest.mark.parametrize(("method", "path"), WRITES)
def test_bodies_of_the_wrong_shape(admin_api, drawer, soap, method, path, raw):
    before = everything()

    response = getattr(admin_api, method)(_url(path, soap), raw, content_type="application/json")

    if raw == "{}" and method == "patch":  # an empty PATCH changes nothing and is fine
        assert response.status_code == 200
    else:
        assert_refused(response, 400, "validation_error")
    assert everything() == before


@pytest.mark.parametrize(("method", "path"), [*WRITES, ("post", "auth/token")])
def test_empty_bodies(admin_api, drawer, soap, method, path):
    before = everything()

    response = getattr(admin_api, method)(_url(path, soap), b"", content_type="application/json")

    if method == "patch":
        assert response.status_code == 200
    else:
        assert_refused(response, 400, "validation_error")
    assert everything() == before


@pytest.mark.parametrize(
    "raw",
    [
        b"[" * 100_000,  # deeper than the interpreter's stack
        b'{"a": ' * 50_000 + b"1" + b"}" * 50_000,
        b"9" * 5000,  # past Python's int-parsing limit
        b'{"customer_email": "\xff\xfe"}',  # not UTF-8
        b'\xef\xbb\xbf{"customer_email": "a@example.com"}',  # a byte-order mark
        b'{"paid_amount": NaN}',
        b'{"paid_amount": Infinity}',
        b'{"paid_amount": 1e999999999}',
        b"{'single': 'quotes'}",
        b'{"a": 1} trailing',
    ],
)
def test_malformed_json_bodies_are_parse_errors(admin_api, drawer, soap, raw):
    before = everything()

    response = admin_api.post(f"{API}/purchases", raw, content_type="application/json")

    assert response.status_code == 400, response.content
    assert response.json()["code"] in ("parse_error", "validation_error")
    assert everything() == before


@pytest.mark.parametrize(
    ("content_type", "payload"),
    [
        ("application/x-www-form-urlencoded", "customer_email=ann%40example.com&paid_amount=40"),
        ("multipart/form-data; boundary=xyz", '--xyz\r\nContent-Disposition: form-data; name="a"\r\n\r\n1\r\n--xyz--'),
        ("text/plain", '{"customer_email": "ann@example.com"}'),
        ("application/xml", "<bill/>"),
        ("", '{"customer_email": "ann@example.com"}'),
    ],
)
@pytest.mark.parametrize(("method", "path"), [*WRITES, ("post", "auth/token")])
def test_bodies_that_are_not_json_are_unsupported_media_types(
    admin_api, drawer, soap, method, path, content_type, payload
):
    before = everything()

    response = admin_api.generic(method.upper(), _url(path, soap), payload.encode(), content_type=content_type)

    assert_refused(response, 415, "unsupported_media_type")
    assert everything() == before


def test_json_in_another_declared_charset(admin_api, drawer, soap):
    body = '{"customer_email": "ann@example.com", "items": [{"product_id": %d, "quantity": 1}], "paid_amount": "40"}'

    response = admin_api.post(
        f"{API}/purchases", (body % soap.pk).encode("utf-16"), content_type="application/json; charset=utf-16"
    )

    assert response.status_code == 201, response.content


def test_an_unknown_charset_is_read_as_utf8(admin_api, drawer, soap):
    response = admin_api.post(f"{API}/purchases", b"{}", content_type="application/json; charset=no-such-codec")

    assert_refused(response, 400, "validation_error")


def test_too_many_lines_or_notes(admin_api, drawer, soap):
    before = everything()

    lines = admin_api.post(
        f"{API}/purchases", bill(soap, items=[{"product_id": soap.pk, "quantity": 1}] * 201), format="json"
    )
    notes = admin_api.post(
        f"{API}/purchases", bill(soap, paid_amount="101", tendered=[{"value": "1", "count": 1}] * 101), format="json"
    )

    assert "items" in assert_refused(lines, 400, "validation_error")["details"]
    assert "tendered" in assert_refused(notes, 400, "validation_error")["details"]
    assert everything() == before


def _over_the_limit() -> bytes:
    """A real, well-formed JSON bill one byte over the configured limit."""
    limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE
    head, tail = b'{"customer_email": "ann@example.com", "note": "', b'"}'
    return head + b"x" * (limit + 1 - len(head) - len(tail)) + tail


def test_the_default_body_limit_is_a_mebibyte():
    assert settings.DATA_UPLOAD_MAX_MEMORY_SIZE == 1024 * 1024


@pytest.mark.parametrize(("method", "path"), [*WRITES, ("post", "auth/token")])
def test_a_body_over_the_limit_is_413(admin_api, drawer, soap, method, path):
    body = _over_the_limit()
    before = everything()

    response = getattr(admin_api, method)(_url(path, soap), body, content_type="application/json")

    payload = assert_refused(response, 413, "request_too_large")
    assert payload["details"] == {"limit": settings.DATA_UPLOAD_MAX_MEMORY_SIZE}
    assert everything() == before


def test_a_body_at_the_limit_is_read(admin_api, drawer, soap):
    body = _over_the_limit()[:-1].replace(b'x"}', b'"}')[: settings.DATA_UPLOAD_MAX_MEMORY_SIZE]
    assert len(body) <= settings.DATA_UPLOAD_MAX_MEMORY_SIZE

    response = admin_api.post(f"{API}/purchases", body, content_type="application/json")

    assert response.status_code == 400
    assert response.json()["code"] in ("validation_error", "parse_error")


def test_a_big_body_is_refused_before_authentication(api_client):
    response = api_client.post(f"{API}/purchases", _over_the_limit(), content_type="application/json")

    assert_refused(response, 413, "request_too_large")


def test_a_big_body_without_content_length_is_never_read(admin_api, drawer, soap):
    """Without a Content-Length (e.g. a chunked upload) Django reads no body at all, so a huge body
    cannot get past the limit: the request is refused as empty."""
    before = everything()

    response = admin_api.generic(
        "POST", f"{API}/purchases", _over_the_limit(), content_type="application/json", CONTENT_LENGTH=""
    )

    assert_refused(response, 400, "validation_error")
    assert everything() == before


@pytest.mark.parametrize("length", ["-1", "abc", "1e9", str(2**64)])
def test_a_lying_content_length(admin_api, drawer, soap, length):
    before = everything()

    response = admin_api.generic(
        "POST",
        f"{API}/purchases",
        b'{"customer_email": "a@example.com"}',
        content_type="application/json",
        CONTENT_LENGTH=length,
    )

    assert 400 <= response.status_code < 500, response.content
    assert response.json()["code"] in ("validation_error", "parse_error", "request_too_large")
    assert everything() == before


# --- Headers -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "authorization",
    [
        "Token ",
        "Token a b",
        "Token " + "x" * 10_000,
        "Token \x00",
        "Token abc\x00def",
        "Token \x01",
        "Bearer abc",
        "Token\u00a0abc",
        "Basic Og==",
    ],
)
def test_hostile_authorization_headers_are_401(api_client, authorization):
    response = api_client.get(f"{API}/products", HTTP_AUTHORIZATION=authorization)

    assert_refused(response, 401, "not_authenticated")


@pytest.mark.parametrize("accept", ["text/html", "application/xml", "image/png"])
def test_an_unacceptable_accept_header_is_406(admin_api, accept):
    response = admin_api.get(f"{API}/products", HTTP_ACCEPT=accept)

    if accept == "text/html":  # the browsable API
        assert response.status_code == 200
    else:
        assert_refused(response, 406, "not_acceptable")


@pytest.mark.parametrize("wanted", ["AAA", "xml", ""])
def test_an_unknown_format_is_406(admin_api, wanted):
    response = admin_api.get(f"{API}/products", {"format": wanted})

    body = assert_refused(response, 406, "not_acceptable")
    assert body["message"] == "Unknown `format`; this endpoint produces: json, api."


def test_the_known_formats_still_answer(admin_api):
    assert admin_api.get(f"{API}/products", {"format": "json"}).status_code == 200
    assert admin_api.get(f"{API}/products", {"format": "api"}).status_code == 200  # the browsable API


def test_an_unknown_format_suffix_is_still_a_missing_path(admin_api, soap):
    assert_refused(admin_api.get(f"{API}/products/{soap.pk}.xml"), 404, "not_found")


@pytest.mark.parametrize("query", ["page=1&page=2", "page_size=5&page_size=500", "search=a&search=b&is_active=true"])
def test_a_query_parameter_given_twice_is_refused(admin_api, soap, query):
    response = admin_api.get(f"{API}/products?{query}")

    body = assert_refused(response, 400, "validation_error")
    assert body["details"] == {query.split("=")[0]: ["Give this parameter once."]}


@pytest.mark.parametrize("value", ["1", "0", "True", "yes", ""])
def test_a_boolean_filter_takes_true_or_false_only(admin_api, soap, value):
    response = admin_api.get(f"{API}/products", {"is_active": value})

    assert assert_refused(response, 400, "validation_error")["details"] == {"is_active": ["Must be true or false."]}


def test_a_boolean_filter_filters(admin_api, soap):
    archived = ProductFactory(is_active=False)

    on_sale = admin_api.get(f"{API}/products", {"is_active": "true"}).json()["results"]
    gone = admin_api.get(f"{API}/products", {"is_active": "false"}).json()["results"]

    assert [p["id"] for p in on_sale] == [soap.pk]
    assert [p["id"] for p in gone] == [archived.pk]


@pytest.mark.parametrize("value", [0, 1, "true", "yes", None])
def test_a_boolean_in_a_body_is_json_true_or_false(admin_api, soap, value):
    before = everything()

    response = admin_api.patch(f"{API}/products/{soap.pk}", {"is_active": value}, format="json")

    assert "is_active" in assert_refused(response, 400, "validation_error")["details"]
    assert everything() == before


@pytest.mark.parametrize("value", [0, 12.5, True, ["Soap"]])
def test_text_in_a_body_is_a_json_string(admin_api, soap, value):
    before = everything()

    response = admin_api.patch(f"{API}/products/{soap.pk}", {"name": value}, format="json")

    assert assert_refused(response, 400, "validation_error")["details"] == {"name": ["Not a valid string."]}
    assert everything() == before


# --- One rule on every path: digits, invisible characters, emails ---------------------------------

FULL_WIDTH_FIVE = "\uff15"  # "５": int() reads it as 5
NOT_ASCII_NUMBERS = [FULL_WIDTH_FIVE, "\u0665", " 5", "+5", "5_0"]


@pytest.mark.parametrize("quantity", NOT_ASCII_NUMBERS)
def test_quantities_in_other_digits_are_refused(admin_api, drawer, soap, quantity):
    before = everything()

    response = admin_api.post(
        f"{API}/purchases", bill(soap, items=[{"product_id": soap.pk, "quantity": quantity}]), format="json"
    )

    assert "quantity" in assert_refused(response, 400, "validation_error")["details"]["items"]["0"]
    assert everything() == before


def test_a_quantity_as_an_ascii_string_is_still_taken(admin_api, drawer, soap):
    response = admin_api.post(
        f"{API}/purchases", bill(soap, items=[{"product_id": soap.pk, "quantity": "1"}]), format="json"
    )

    assert response.status_code == 201, response.json()


@pytest.mark.parametrize(
    ("url", "field", "body"),
    [
        ("products", "stock", {"name": "Rice", "price": "1.00", "stock": FULL_WIDTH_FIVE}),
        ("denominations", "available_count", {"value": "7", "available_count": FULL_WIDTH_FIVE}),
    ],
)
def test_counts_in_full_width_digits_are_refused(admin_api, drawer, url, field, body):
    before = everything()

    response = admin_api.post(f"{API}/{url}", body, format="json")

    assert field in assert_refused(response, 400, "validation_error")["details"]
    assert everything() == before


INVISIBLE = ["\u202e", "\u202a", "\u2066", "\u200b", "\u200e", "\ufeff", "\x07", "\u2028", "\U000e0041"]


@pytest.mark.parametrize("char", INVISIBLE)
@pytest.mark.parametrize("field", ["name", "sku"])
def test_bidi_and_invisible_characters_in_product_text_are_refused(admin_api, soap, field, char):
    before = everything()

    created = admin_api.post(
        f"{API}/products", {"name": "Rice", "price": "1.00"} | {field: f"Ri{char}ce"}, format="json"
    )
    patched = admin_api.patch(f"{API}/products/{soap.pk}", {field: f"So{char}ap"}, format="json")

    details = assert_refused(created, 400, "validation_error")["details"]
    assert len(details[field]) == 1  # one message, not one per rule
    assert field in assert_refused(patched, 400, "validation_error")["details"]
    assert everything() == before


def test_a_zero_width_joiner_is_part_of_a_name_not_of_a_sku(admin_api):
    name = "\u0915\u094d\u200d\u0937"  # Devanagari: the joiner shapes the conjunct

    named = admin_api.post(f"{API}/products", {"name": name, "price": "1.00"}, format="json")
    coded = admin_api.post(f"{API}/products", {"name": "Rice", "sku": "A\u200dB", "price": "1.00"}, format="json")

    assert named.status_code == 201
    assert Product.objects.get().name == name
    assert "sku" in assert_refused(coded, 400, "validation_error")["details"]


def test_bidi_characters_in_a_drawer_reason_are_refused(admin_api, drawer):
    before = everything()

    response = admin_api.put(
        f"{API}/denominations/500", {"available_count": 3, "reason": "recount \u202eevil"}, format="json"
    )

    assert "reason" in assert_refused(response, 400, "validation_error")["details"]
    assert everything() == before


@pytest.mark.parametrize(
    "email",
    [
        "root@localhost",
        "a@[127.0.0.1]",
        "a@[IPv6:::1]",
        "a@127.0.0.1",
        "a@1.2.3.45",
        '"ann smith"@example.com',
        "a..b@example.com",
        "ann@example.c",
        "ann@bücher",
        " ann@example.com",
    ],
)
def test_emails_a_shop_cannot_deliver_to_are_refused_with_one_message(admin_api, drawer, soap, email):
    before = everything()

    response = admin_api.post(f"{API}/purchases", bill(soap, customer_email=email), format="json")

    messages = assert_refused(response, 400, "validation_error")["details"]["customer_email"]
    assert len(messages) == 1, messages
    assert everything() == before


@pytest.mark.parametrize("email", ["o'neil+till@shop.co.in", "ann@пример.рф", "ANN@XN--BCHER-KVA.EXAMPLE"])
def test_ordinary_and_internationalised_emails_are_taken(admin_api, drawer, soap, email):
    response = admin_api.post(f"{API}/purchases", bill(soap, customer_email=email), format="json")

    assert response.status_code == 201, response.json()
    assert response.json()["customer_email"] == Customer.objects.get().email


@pytest.mark.parametrize(
    ("field", "value"), [("price", "0"), ("price", "0.00"), ("tax_percent", "999.99"), ("tax_percent", "100.01")]
)
def test_values_the_schema_refuses_are_refused(admin_api, soap, field, value):
    before = everything()

    response = admin_api.patch(f"{API}/products/{soap.pk}", {field: value}, format="json")

    assert field in assert_refused(response, 400, "validation_error")["details"]
    assert everything() == before


@pytest.mark.parametrize("value", ["\x1f", "\u2028", " \x1c "])
def test_text_of_refused_characters_that_strip_would_remove_is_refused_not_blank(admin_api, value):
    response = admin_api.post(f"{API}/products", {"name": "Rice", "price": "1.00", "sku": value}, format="json")

    assert "sku" in assert_refused(response, 400, "validation_error")["details"]
    assert Product.objects.count() == 0
