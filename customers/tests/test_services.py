import pytest
from django.db import IntegrityError, transaction

from billing_project.core.errors import ValidationFailed
from customers.models import Customer
from customers.services import customer_get_or_create

pytestmark = pytest.mark.django_db


def test_email_is_normalised_and_reused():
    first = customer_get_or_create(email=" Ann@Example.COM ")
    second = customer_get_or_create(email="ann@example.com")

    assert first.pk == second.pk
    assert Customer.objects.get().email == "ann@example.com"


@pytest.mark.parametrize("email", ["", "ann", "ann@", "@example.com", "a b@example.com"])
def test_invalid_email_is_refused(email):
    with pytest.raises(ValidationFailed):
        customer_get_or_create(email=email)
    assert Customer.objects.count() == 0


def test_database_rejects_case_variants_of_the_same_email():
    Customer.objects.create(email="ann@example.com")

    with pytest.raises(IntegrityError), transaction.atomic():
        Customer.objects.create(email="ANN@example.com")


def test_an_internationalised_domain_has_one_spelling():
    unicode = customer_get_or_create(email="ann@bücher.example")
    punycode = customer_get_or_create(email="Ann@XN--BCHER-KVA.example")

    assert unicode.pk == punycode.pk
    assert Customer.objects.get().email == "ann@bücher.example"


@pytest.mark.parametrize("email", ["ann\u200b@example.com", "ann@exa\u202emple.com", "a" * 65 + "@example.com"])
def test_look_alike_and_undeliverable_emails_are_refused(email):
    with pytest.raises(ValidationFailed):
        customer_get_or_create(email=email)
    assert Customer.objects.count() == 0


def test_a_known_customer_is_found_without_taking_a_new_id():
    ann = customer_get_or_create(email="ann@example.com")
    for _ in range(3):
        assert customer_get_or_create(email="ANN@example.com").pk == ann.pk

    bob = customer_get_or_create(email="bob@example.com")

    assert bob.pk == ann.pk + 1
    assert Customer.objects.get(pk=bob.pk).email == "bob@example.com"
    assert list(Customer.objects.values_list("email", flat=True)) == ["ann@example.com", "bob@example.com"]


def test_a_new_customer_is_returned_as_stored():
    ann = customer_get_or_create(email="ann@example.com")

    stored = Customer.objects.get()
    assert (ann.pk, ann.email, ann.created_at) == (stored.pk, stored.email, stored.created_at)
    assert ann._state.adding is False


@pytest.mark.parametrize(
    "email", ["ann\t@example.com", "ann\x7f@example.com", "ann@exam\x00ple.com", "ann\u200b@example.com"]
)
def test_control_and_invisible_characters_are_named_as_such(email):
    from django.core.exceptions import ValidationError

    from billing_project.core.validators import validate_customer_email

    with pytest.raises(ValidationError) as refused:
        validate_customer_email(email)
    assert refused.value.code == "invisible"


# --- Mobile numbers, and customers known by one or both -------------------------------------------


def test_a_phone_in_any_spelling_finds_one_customer_stored_in_e164():
    first = customer_get_or_create(phone="98765 43210")
    for spelling in ("+919876543210", "919876543210", "098765-43210", "+91-98765-43210"):
        assert customer_get_or_create(phone=spelling).pk == first.pk

    assert list(Customer.objects.values_list("email", "phone", "name")) == [(None, "+919876543210", None)]


def test_a_bad_phone_is_refused_on_customer_phone():
    with pytest.raises(ValidationFailed) as refused:
        customer_get_or_create(phone="5876543210")

    assert list(refused.value.details) == ["customer_phone"]
    assert Customer.objects.count() == 0


def test_one_customer_by_both_then_either_finds_them():
    both = customer_get_or_create(email="Ann@Example.com", phone="9876543210")

    assert customer_get_or_create(email="ann@example.com").pk == both.pk
    assert customer_get_or_create(phone="+91 98765 43210").pk == both.pk
    assert (both.email, both.phone) == ("ann@example.com", "+919876543210")


@pytest.mark.parametrize(
    ("first", "then"), [({"email": "ann@example.com"}, "phone"), ({"phone": "9876543210"}, "email")]
)
def test_the_new_one_is_added_to_the_customer_the_known_one_finds(first, then):
    known = customer_get_or_create(**first)

    both = customer_get_or_create(email="ann@example.com", phone="9876543210")

    assert both.pk == known.pk
    assert (both.email, both.phone) == ("ann@example.com", "+919876543210")
    assert list(Customer.objects.values_list("email", "phone")) == [("ann@example.com", "+919876543210")]


def test_an_email_and_a_phone_of_two_customers_conflict_and_nothing_changes():
    from customers.errors import CustomerConflict

    customer_get_or_create(email="ann@example.com")
    customer_get_or_create(phone="9876543210")

    with pytest.raises(CustomerConflict):
        customer_get_or_create(email="ann@example.com", phone="9876543210")

    assert sorted(Customer.objects.values_list("email", "phone"), key=str) == [
        ("ann@example.com", None),
        (None, "+919876543210"),
    ]


def test_neither_is_not_a_customer():
    with pytest.raises(ValueError):
        customer_get_or_create()


@pytest.mark.parametrize(
    "fields",
    [
        {"email": None, "phone": None},  # nobody: a walk-in sale has no customer row
        {"email": "", "phone": "+919876543210"},
        {"phone": "9876543210"},  # not E.164
        {"phone": "+915876543210"},
        {"phone": "+44770090012"},
    ],
)
def test_the_database_refuses_a_customer_without_an_identity_or_with_a_bad_phone(fields):
    with pytest.raises(IntegrityError), transaction.atomic():
        Customer.objects.create(**{"email": None, **fields})


def test_the_database_refuses_one_phone_for_two_customers():
    Customer.objects.create(email="ann@example.com", phone="+919876543210")

    with pytest.raises(IntegrityError), transaction.atomic():
        Customer.objects.create(email="bob@example.com", phone="+919876543210")
    Customer.objects.create(phone="+919123456789")  # phone-only customers: many without an email
    Customer.objects.create(phone="+919123456780")
    assert Customer.objects.filter(email__isnull=True).count() == 2
