"""The admin lists' rows written without a template per input (``core.admin_helpers``): the same
HTML as Django's templates write."""

import string
from datetime import datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from django import forms
from django.forms.renderers import DjangoTemplates
from django.utils import dateformat, translation
from django.utils.html import conditional_escape
from django.utils.safestring import mark_safe
from django.utils.translation import gettext_lazy
from hypothesis import given, settings
from hypothesis import strategies as st

from billing_project.core.admin_helpers import _FORMAT_CHARACTERS, DIRECT_INPUTS, datetime_writer, escaped
from billing_project.core.testing.properties import examples

TEMPLATES = DjangoTemplates()


@pytest.mark.parametrize(
    "widget",
    [
        forms.TextInput(),
        forms.TextInput(attrs={"placeholder": 'a "quoted" <b>', "disabled": True, "readonly": False}),
        forms.TextInput(attrs={"data-a&b": "1", "data-<c>": True}),
        forms.NumberInput(attrs={"step": "0.01", "min": Decimal("0.01"), "required": True}),
        forms.HiddenInput(),
        forms.CheckboxInput(attrs={"class": "action-select", "aria-label": mark_safe("Select <i>x</i>")}),
        forms.CheckboxInput(check_test=lambda value: True),
    ],
    ids=lambda widget: type(widget).__name__,
)
@pytest.mark.parametrize("value", [None, "", "12.50", 'a & "b" <c>', mark_safe("<safe>"), Decimal("7.000"), 42])
def test_an_input_is_written_as_djangos_templates_write_it(widget, value):
    name = 'form-0-price"<'

    assert widget.render(name, value, renderer=DIRECT_INPUTS) == widget.render(name, value, renderer=TEMPLATES)


def test_other_templates_are_djangos():
    widget = forms.Select(choices=[("a", "A & B"), ("b", "B")])

    assert widget.render("kind", "a", renderer=DIRECT_INPUTS) == widget.render("kind", "a", renderer=TEMPLATES)


# --- A list's rows (ListRows): the cells Django's items_for_result writes ----------------------------


def _cells(result_list_context) -> list[list[str]]:
    return [[str(cell) for cell in row] for row in result_list_context["results"]]


@pytest.mark.django_db
@pytest.mark.parametrize("popup", [False, True])
def test_a_lists_rows_are_the_cells_django_writes(superuser, monkeypatch, popup):
    # The stock ledger's list: dates, foreign keys, choices, a method of the admin, an empty user.
    from django.contrib.admin.sites import site
    from django.contrib.admin.templatetags import admin_list
    from django.contrib.admin.views.main import ChangeList
    from django.test import RequestFactory

    from billing_project.core.admin_helpers import ListRows, RowLinksChangeList, result_list
    from catalog.models import StockMovement
    from catalog.tests.factories import ProductFactory

    ProductFactory(name='Tea & "biscuits"', stock=3)
    ProductFactory(name="Rice <1 kg>", stock=0)
    model_admin = site.get_model_admin(StockMovement)
    request = RequestFactory().get("/", {"_popup": 1} if popup else {})
    request.user = superuser

    def changelist(cls):
        monkeypatch.setattr(type(model_admin), "get_changelist", lambda self, request, **kwargs: cls)
        cl = model_admin.get_changelist_instance(request)
        cl.formset = None
        return cl

    ours = changelist(RowLinksChangeList)
    assert len(list(ListRows(ours))) == StockMovement.objects.count() > 0  # its rows are ListRows'
    assert _cells(result_list(ours)) == _cells(admin_list.result_list(changelist(ChangeList)))


@pytest.mark.parametrize(
    "value",
    [
        "a & \"b\" <c> 'd'",
        mark_safe("<b>safe</b>"),
        Decimal("7.50"),
        42,
        None,
        gettext_lazy("Select <all>"),
        mark_safe(gettext_lazy("<i>lazy, safe</i>")),  # noqa: S308 (a lazy safe string, as the admin has)
    ],
    ids=repr,
)
def test_escaped_is_conditional_escape(value):
    assert escaped(value) == conditional_escape(value)


# --- A datetime column's cells (datetime_writer): what Django's date formatting writes -----------------

WRITTEN = "djmnMyYGHi"
ZONES = [ZoneInfo("Asia/Kolkata"), ZoneInfo("UTC"), ZoneInfo("America/St_Johns")]
# Django's format characters, read from its own formatter, so that a character a new Django adds
# fails here rather than being written as text.
DJANGOS_CHARACTERS = {char for char in string.ascii_letters if dateformat.re_formatchars.fullmatch(char)}


@pytest.mark.property
@settings(max_examples=examples(200), deadline=None)
@given(
    moment=st.datetimes(
        min_value=datetime(1, 1, 1), max_value=datetime(9999, 12, 30), timezones=st.sampled_from(ZONES)
    ),
    format_string=st.text(alphabet=WRITTEN + " ,:/-.{}#年", min_size=0, max_size=12),
    language=st.sampled_from(["en", "hi", "fr"]),
)
def test_a_datetime_is_written_as_djangos_date_formatting_writes_it(moment, format_string, language):
    with translation.override(language):
        write = datetime_writer(format_string)
        assert write is not None
        assert write(moment) == dateformat.format(moment, format_string)


def test_the_writer_knows_djangos_format_characters():
    assert _FORMAT_CHARACTERS == DJANGOS_CHARACTERS and set(WRITTEN) <= DJANGOS_CHARACTERS


@pytest.mark.parametrize("character", [*sorted(DJANGOS_CHARACTERS - set(WRITTEN)), "\\\\"])
def test_any_other_format_is_left_to_django(character):
    assert datetime_writer(f"j M Y, {character}") is None


def test_the_tills_own_format_is_written():
    moment = datetime(2026, 11, 30, 12, 37, tzinfo=ZoneInfo("Asia/Kolkata"))
    assert datetime_writer("j M Y, H:i")(moment) == "30 Nov 2026, 12:37"  # type: ignore[misc]
