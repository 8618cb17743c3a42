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
