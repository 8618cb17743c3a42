"""``validate_input``: an input serializer's validated data from one shared instance, through the
compiled fast path (``fast_input``) when the body is plainly valid, else through DRF.

Its own module, so that the mixins (``serializers``) and the fast path, which knows the mixins, do
not import each other."""

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from rest_framework.exceptions import ErrorDetail, ValidationError
from rest_framework.settings import api_settings
from rest_framework.utils.serializer_helpers import ReturnDict

from billing_project.core.api.fast_input import compile_input

if TYPE_CHECKING:
    from rest_framework.serializers import Serializer

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
