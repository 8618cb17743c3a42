"""The till services, called directly: adding and changing tills, their series, the default till."""

import logging

import pytest

from billing_project.core.errors import ValidationFailed
from cashdrawer.errors import DefaultTillRename, SeriesTaken, TillExists
from cashdrawer.models import Denomination, Till
from cashdrawer.services import till_create, till_default, till_update

pytestmark = pytest.mark.django_db


def test_a_new_till_has_an_empty_drawer_and_the_default_series():
    till = till_create(code=" T9 ", name="Back counter")

    assert (till.code, till.name, till.is_active, till.requires_open_session) == ("T9", "Back counter", True, False)
    assert (till.invoice_series, till.credit_series) == (None, None)
    assert not Denomination.objects.filter(till=till).exists()


def test_a_till_code_is_required_and_unique():
    till_create(code="T9")

    with pytest.raises(ValidationFailed):
        till_create(code="   ")
    with pytest.raises(TillExists) as taken:
        till_create(code="T9")

    assert taken.value.details == {"code": "T9"}
    assert Till.objects.filter(code="T9").count() == 1


def test_series_are_upper_cased_and_unique_across_both_columns_of_every_till():
    first = till_create(code="T1", invoice_series="a", credit_series="ca")

    assert (first.invoice_series, first.credit_series) == ("A", "CA")
    with pytest.raises(SeriesTaken):
        till_create(code="T2", invoice_series="CA")  # another till's credit series
    with pytest.raises(SeriesTaken):
        till_create(code="T3", invoice_series="B", credit_series="b")  # one till's two series
    assert not Till.objects.filter(code__in=["T2", "T3"]).exists()


@pytest.mark.parametrize("series", ["12", "C12", "TOO-LONG", "a b"])
def test_a_series_shaped_like_a_default_or_malformed_is_refused(series):
    with pytest.raises(ValidationFailed):
        till_create(code="T1", invoice_series=series)


def test_a_till_changes_and_keeps_its_own_series():
    till = till_create(code="T1", invoice_series="A")

    changed = till_update(till_id=till.pk, name="Front", requires_open_session=True, invoice_series="A")

    assert (changed.name, changed.requires_open_session, changed.invoice_series) == ("Front", True, "A")
    assert till_update(till_id=till.pk, invoice_series="").invoice_series is None


def test_a_till_cannot_take_another_tills_code_and_unknown_fields_are_refused():
    till_create(code="T1")
    second = till_create(code="T2")

    with pytest.raises(TillExists):
        till_update(till_id=second.pk, code="T1")
    with pytest.raises(ValueError, match="cannot change"):
        till_update(till_id=second.pk, opened_at=None)
    assert Till.objects.get(pk=second.pk).code == "T2"


def test_the_default_till_keeps_its_code():
    main = till_default()

    with pytest.raises(DefaultTillRename):
        till_update(till_id=main.pk, code="MAIN2")

    assert till_update(till_id=main.pk, name="The main till").code == "MAIN"


def test_a_missing_default_till_is_created_with_a_warning(settings, caplog):
    settings.DEFAULT_TILL = "NEW"

    with caplog.at_level(logging.WARNING, logger="billing.drawer"):
        till = till_default()

    assert till.code == "NEW"
    assert till_default() == till
    assert "DEFAULT_TILL NEW did not exist" in caplog.text
