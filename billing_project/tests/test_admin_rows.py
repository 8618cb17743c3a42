"""The admin lists' rows written without a template per input (``core.admin_helpers``): the same
HTML as Django's templates write."""

from decimal import Decimal

import pytest
from django import forms
from django.forms.renderers import DjangoTemplates
from django.utils.safestring import mark_safe

from billing_project.core.admin_helpers import DIRECT_INPUTS

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
