from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any

from rest_framework.exceptions import ErrorDetail, ValidationError
from rest_framework.fields import empty
from rest_framework.settings import api_settings
from rest_framework.utils.serializer_helpers import ReturnDict

from billing_project.core.api.fast_input import compile_input

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


# Per input serializer class: its shared instance and its compiled fast path (None: DRF only).
_SHARED_INPUT: dict[type, tuple[Any, Callable[[Any], Any] | None]] = {}


def validate_input(serializer_class: type["Serializer[Any]"], data) -> dict:
    """``serializer_class(data=data)`` made valid (else ``ValidationError``, the same body as
    ``is_valid(raise_exception=True)``), returning its ``validated_data``, from one shared instance
    of the serializer, as ``FastOutputMixin.represent`` does for output: a new serializer would
    deep-copy every declared field, nested ones included, on each request. Safe because
    ``run_validation`` keeps nothing on the serializer (``is_valid`` is what stores the data and the
    errors); don't use it for serializers whose validation reads ``self.initial_data``,
    ``self.instance`` or the context.

    A plainly valid body takes ``fast_input``'s path (the same data, without DRF's per-field calls);
    anything else, and any serializer it cannot compile, goes through DRF."""
    shared = _SHARED_INPUT.get(serializer_class)
    if shared is None:
        serializer = serializer_class()
        shared = _SHARED_INPUT[serializer_class] = (serializer, compile_input(serializer))
    serializer, fast = shared
    if fast is not None:
        validated = fast(data)
        if validated is not None:
            return validated
    try:
        return serializer.run_validation(data)
    except ValidationError as exc:
        detail: Any = exc.detail
        if isinstance(detail, list) and len(detail) == 1 and getattr(detail[0], "code", None) == "null":
            # As Serializer.errors words a null body.
            detail = {api_settings.NON_FIELD_ERRORS_KEY: [ErrorDetail("No data provided", code="null")]}
        raise ValidationError(ReturnDict(detail, serializer=serializer)) from None
