from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from billing_project.core.db.orm_internals import FieldListsOnce, prefetched, readable_fields

if TYPE_CHECKING:
    from rest_framework.serializers import Serializer

    _Serializer = Serializer[Any]
else:
    _Serializer = object

_SHARED: dict[type, "FastOutputMixin"] = {}
_MAPPING_TYPES: dict[type, bool] = {}


def _is_mapping(cls: type) -> bool:
    """``isinstance(value, Mapping)`` as ``_is_mapping(value.__class__)``, remembered per class: the
    ABC check costs a few calls for every field of every object put out, and the classes seen are a
    handful (models, dicts)."""
    known = _MAPPING_TYPES.get(cls)
    if known is None:
        known = _MAPPING_TYPES[cls] = issubclass(cls, Mapping)
    return known


class FastOutputMixin(_Serializer):
    """Output through the serializer's declared fields, without DRF's per-field bookkeeping.

    Same fields, same sources, same ``to_representation`` per field, so the schema and the
    output stay defined in one place; it only skips what a read-only output never needs
    (``SkipField`` for write-only fields, ``PKOnlyObject``, calling methods named as sources: use
    it only where every source is a field, a property or a dict key). Listing 100 bills with their lines
    is the API's hottest read, and this is a sixth of its time.
    """

    def to_representation(self, instance):
        plan = self.__dict__.get("_output_plan")
        if plan is None:
            plan = self._output_plan = [
                (f.field_name, f.source_attrs[0] if len(f.source_attrs) == 1 else f.source_attrs, f.to_representation)
                for f in readable_fields(self)
            ]
        mapping = _MAPPING_TYPES.get(instance.__class__)
        if mapping is None:
            mapping = _is_mapping(instance.__class__)
        # A relation's prefetched rows are what its related manager's .all() would give (and what a
        # list field would read from it): taken from the prefetch cache, no manager is made.
        cached = None if mapping else prefetched(instance)
        out = {}
        for name, source, represent in plan:
            if type(source) is str:  # one attribute or key, as most sources are
                if cached and source in cached:
                    value = cached[source]
                else:
                    value = instance[source] if mapping else getattr(instance, source)
            else:  # a dotted source, or "*" (no attribute: the instance itself)
                value = instance
                for attr in source:
                    if value is None:  # a null relation on the way (DRF gives its nullable field None)
                        break
                    value = value[attr] if _is_mapping(value.__class__) else getattr(value, attr)
            out[name] = None if value is None else represent(value)
        return out

    @classmethod
    def represent(cls, instance) -> dict:
        """``cls(instance).data`` for one object, from one shared instance of the serializer: DRF
        deep-copies every declared field for each new serializer, which costs more CPU than the
        output itself. Safe because output never changes the serializer's state."""
        serializer = _SHARED.get(cls)
        if serializer is None:
            serializer = _SHARED[cls] = cls()
        return serializer.to_representation(instance)


class FastInputMixin(FieldListsOnce, _Serializer):
    """Validation through the serializer's fields, without re-listing them for every object
    (``FieldListsOnce``). Put it on an input serializer and on the serializers nested in it (their
    children validate every item of a list)."""
