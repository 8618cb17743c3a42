from django import forms
from django_filters import rest_framework as filters


class QueryBooleanField(forms.NullBooleanField):
    """A query parameter that is a boolean: ``true`` or ``false``, as OpenAPI writes one. Anything else,
    an empty value included, is refused rather than read as "no filter"."""

    widget = forms.TextInput  # the raw value, or None when the parameter is absent

    def to_python(self, value):
        if value is None:
            return None
        if value in ("true", "false"):
            return value == "true"
        raise forms.ValidationError("Must be true or false.", code="invalid")


class BooleanFilter(filters.BooleanFilter):
    """django-filter's boolean filter, taking only ``true`` and ``false``. Its own also reads ``1``, ``0``
    and any case, and reads ``yes`` or an empty value as no filter at all: a typo would list everything."""

    field_class = QueryBooleanField

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("widget", forms.TextInput)
        super().__init__(*args, **kwargs)
