from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from rest_framework.fields import empty

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
                for f in self._readable_fields
            ]
        mapping = _MAPPING_TYPES.get(instance.__class__)
        if mapping is None:
            mapping = _is_mapping(instance.__class__)
        # A relation's prefetched rows are what its related manager's .all() would give (and what a
        # list field would read from it): taken from the prefetch cache, no manager is made.
        prefetched = None if mapping else instance.__dict__.get("_prefetched_objects_cache")
        out = {}
        for name, source, represent in plan:
            if type(source) is str:  # one attribute or key, as most sources are
                if prefetched and source in prefetched:
                    value = prefetched[source]
                else:
                    value = instance[source] if mapping else getattr(instance, source)
            else:  # a dotted source, or "*" (no attribute: the instance itself)
                value = instance
                for attr in source:
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


class FastInputMixin(_Serializer):
    """Validation through the serializer's fields, without re-listing them for every object.

    DRF finds the writable fields, and the read-only ones with a default, by walking its field
    mapping on every ``run_validation`` of every (nested) serializer; a serializer's fields never
    change once built, so both lists are made once per instance. Put it on an input serializer and
    on the serializers nested in it (their children validate every item of a list)."""

    @property
    def _writable_fields(self):
        fields = self.__dict__.get("_writable_fields_list")
        if fields is None:
            fields = self._writable_fields_list = [f for f in self.fields.values() if not f.read_only]
        return fields

    def _read_only_defaults(self):
        has_any = self.__dict__.get("_has_read_only_defaults")
        if has_any is None:
            # DRF's own test for the fields it would look at.
            has_any = self._has_read_only_defaults = any(
                f.read_only and f.default != empty and f.source != "*" and "." not in (f.source or "")
                for f in self.fields.values()
            )
        return super()._read_only_defaults() if has_any else {}
