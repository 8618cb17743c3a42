"""FastOutputMixin reads a source from a mapping by key and from anything else by attribute, as
DRF does, whatever classes it has seen before."""

from types import SimpleNamespace

from django.utils.functional import SimpleLazyObject
from rest_framework import serializers

from billing_project.core.api.serializers import FastOutputMixin


class _Out(FastOutputMixin, serializers.Serializer):
    name = serializers.CharField()
    city = serializers.CharField(source="address.city")


def test_sources_are_read_by_key_from_mappings_and_by_attribute_from_objects():
    as_dicts = {"name": "A", "address": {"city": "Pune"}}
    as_objects = SimpleNamespace(name="B", address=SimpleNamespace(city="Goa"))
    mixed = SimpleNamespace(name="C", address={"city": "Agra"})

    for _ in range(2):  # the second round with every class already seen
        assert _Out.represent(as_dicts) == {"name": "A", "city": "Pune"}
        assert _Out.represent(as_objects) == {"name": "B", "city": "Goa"}
        assert _Out.represent(mixed) == {"name": "C", "city": "Agra"}


def test_a_lazily_built_mapping_is_read_as_a_mapping():
    lazy = SimpleLazyObject(lambda: {"name": "D", "address": {"city": "Kochi"}})

    assert _Out.represent(lazy) == {"name": "D", "city": "Kochi"}
