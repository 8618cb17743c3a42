"""Invoice numbers (issue 13): series per till, financial years, no gaps on refusal."""

from datetime import date, datetime
from decimal import Decimal

import pytest
from django.db import IntegrityError, transaction
from django.utils import timezone

from billing_project.core.errors import DomainError, ValidationFailed
from cashdrawer.errors import SeriesTaken
from cashdrawer.models import Till
from cashdrawer.services import till_create, till_update
from catalog.tests.factories import ProductFactory
from purchases.models import DocumentCounter, Purchase
from purchases.numbering import SeriesExhausted, credit_note_number_take, financial_year, number_take
from purchases.services import purchase_create
from purchases.tests.factories import purchase_for

pytestmark = pytest.mark.django_db

D = Decimal


def number_of(bill: Purchase) -> str:
    number = Purchase.objects.get(pk=bill.pk).number
    assert number is not None
    return number


@pytest.mark.parametrize(
    ("day", "start_month", "year"),
    [
        (date(2026, 4, 1), 4, "2627"),
        (date(2027, 3, 31), 4, "2627"),
        (date(2026, 3, 31), 4, "2526"),
        (date(2099, 12, 31), 4, "9900"),
        (date(2026, 1, 1), 1, "2626"),
        (date(2026, 6, 30), 7, "2526"),
    ],
)
def test_financial_year(settings, day, start_month, year):
    settings.FINANCIAL_YEAR_START_MONTH = start_month
    assert financial_year(day) == year


def test_main_till_numbers_bills_in_series_m(soap):
    first = purchase_for(soap)
    second = purchase_for(soap)

    year = financial_year(timezone.now())
    assert Purchase.objects.get(pk=first.pk).number == f"M/{year}/000001"
    assert Purchase.objects.get(pk=second.pk).number == f"M/{year}/000002"
    assert DocumentCounter.objects.get(series="M", financial_year=year).last_number == 2


def test_new_till_numbers_in_its_id_by_default(soap):
    till = till_create(code="T9")
    bill = purchase_create(
        customer_email="a@example.com",
        items=[{"product_id": soap.pk, "quantity": 1}],
        paid_amount=D("40"),
        till=till.pk,
    )
    assert number_of(bill).startswith(f"{till.pk}/")
    assert len(number_of(bill)) <= 16


def test_a_refused_bill_takes_no_number(soap):
    purchase_for(soap)
    with pytest.raises(DomainError):
        purchase_create(
            customer_email="a@example.com", items=[{"product_id": soap.pk, "quantity": 1}], paid_amount=D("0.01")
        )
    third = purchase_for(soap)
    assert number_of(third).endswith("/000002")


def test_a_new_financial_year_starts_again_at_one():
    assert number_take(series="X", when=date(2026, 3, 31)) == "X/2526/000001"
    assert number_take(series="X", when=date(2026, 4, 1)) == "X/2627/000001"
    assert number_take(series="X", when=date(2026, 4, 2)) == "X/2627/000002"


def test_credit_notes_use_the_credit_series():
    till = Till.objects.get(code="MAIN")
    when = datetime(2026, 11, 30, 12, tzinfo=timezone.get_current_timezone())
    assert credit_note_number_take(till=till, when=when) == "CM/2627/000001"
    other = till_create(code="T2")
    assert credit_note_number_take(till=other, when=when) == f"C{other.pk}/2627/000001"


def test_the_sequence_stops_at_999999():
    DocumentCounter.objects.create(series="Z", financial_year="2627", last_number=999_999)
    with pytest.raises(SeriesExhausted), transaction.atomic():
        number_take(series="Z", when=date(2026, 5, 1))
    assert DocumentCounter.objects.get(series="Z").last_number == 999_999


def test_a_bill_in_a_full_series_is_refused_and_writes_nothing(soap):
    year = financial_year(timezone.now())
    DocumentCounter.objects.create(series="M", financial_year=year, last_number=999_999)
    stock = soap.stock
    with pytest.raises(SeriesExhausted) as refused:
        purchase_for(soap)
    assert refused.value.details == {"series": "M", "financial_year": year, "last": 999_999}
    assert not Purchase.objects.exists()
    assert DocumentCounter.objects.get(series="M", financial_year=year).last_number == 999_999
    soap.refresh_from_db()
    assert soap.stock == stock


@pytest.mark.parametrize("last", [0, 9, 99_998])
def test_a_bill_number_has_six_digits_and_is_recorded_with_its_till_and_session(soap, last):
    year = financial_year(timezone.now())
    if last:
        DocumentCounter.objects.create(series="M", financial_year=year, last_number=last)
    bill = purchase_for(soap)
    stored = Purchase.objects.get(pk=bill.pk)
    assert stored.number == bill.number == f"M/{year}/{last + 1:06d}"
    assert bill.till is not None
    assert stored.till_id == bill.till.pk
    assert stored.session_id == bill.session_id is not None


def test_bill_numbers_are_unique_in_the_database(soap):
    bill = purchase_for(soap)
    other = purchase_for(soap)
    with pytest.raises(IntegrityError), transaction.atomic():
        Purchase.objects.filter(pk=other.pk).update(number=bill.number)


def test_a_bill_at_a_till_cannot_lose_its_number(soap):
    bill = purchase_for(soap)
    with pytest.raises(IntegrityError), transaction.atomic():
        Purchase.objects.filter(pk=bill.pk).update(number=None)


# --- Series -----------------------------------------------------------------------------------


def test_till_series_can_be_set_and_are_upper_cased():
    till = till_create(code="T1", invoice_series="t1", credit_series="ct1")
    till = Till.objects.get(pk=till.pk)
    assert (till.invoice_series_code, till.credit_series_code) == ("T1", "CT1")


@pytest.mark.parametrize("series", ["7", "123", "C7", "c12", "TOOLONG", "A/B", "A B"])
def test_a_series_with_a_default_form_or_bad_characters_is_refused(series):
    with pytest.raises(ValidationFailed):
        till_create(code="T1", invoice_series=series)
    assert not Till.objects.filter(code="T1").exists()


@pytest.mark.parametrize(
    ("first", "second"),
    [
        ({"invoice_series": "A"}, {"invoice_series": "A"}),
        ({"invoice_series": "A"}, {"credit_series": "A"}),
        ({"credit_series": "A"}, {"invoice_series": "A"}),
        ({}, {"invoice_series": "M"}),  # MAIN's
        ({}, {"credit_series": "CM"}),
    ],
)
def test_a_series_is_unique_across_every_series_of_every_till(first, second):
    till_create(code="T1", **first)
    with pytest.raises(SeriesTaken):
        till_create(code="T2", **second)
    assert not Till.objects.filter(code="T2").exists()


def test_a_tills_two_series_must_differ():
    till = till_create(code="T1", invoice_series="A")
    with pytest.raises(SeriesTaken):
        till_update(till_id=till.pk, credit_series="A")
    assert Till.objects.get(pk=till.pk).credit_series is None


def test_a_till_keeps_its_own_series_on_update_and_can_go_back_to_the_default():
    till = till_create(code="T1", invoice_series="A", credit_series="CA")
    till_update(till_id=till.pk, invoice_series="A", name="Front")
    till_update(till_id=till.pk, credit_series="")
    till = Till.objects.get(pk=till.pk)
    assert (till.invoice_series, till.credit_series, till.credit_series_code) == ("A", None, f"C{till.pk}")


@pytest.mark.parametrize("series", ["9", "C9", "a", "A B"])
def test_the_database_refuses_a_malformed_series(series):
    with pytest.raises(IntegrityError), transaction.atomic():
        Till.objects.create(code="T1", invoice_series=series)


def test_the_database_refuses_equal_series_on_one_till():
    with pytest.raises(IntegrityError), transaction.atomic():
        Till.objects.create(code="T1", invoice_series="A", credit_series="A")


def test_a_new_series_applies_to_the_next_bill(soap):
    main = Till.objects.get(code="MAIN")
    purchase_for(soap)
    till_update(till_id=main.pk, invoice_series="MX")
    bill = purchase_for(soap)
    assert number_of(bill).startswith("MX/")
    assert number_of(bill).endswith("/000001")


@pytest.fixture
def soap(db):
    from cashdrawer.tests.factories import drawer_with

    drawer_with({"100": 10, "10": 10, "1": 10})
    return ProductFactory(name="Soap", price=D("40"), tax_percent=D("0"), stock=1000)
