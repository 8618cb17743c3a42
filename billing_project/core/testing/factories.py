from typing import TYPE_CHECKING, Any, TypeVar

from factory.django import DjangoModelFactory

ModelT = TypeVar("ModelT")


class ModelFactory(DjangoModelFactory[ModelT]):
    """A DjangoModelFactory whose call is typed: to mypy, ``ProductFactory(...)`` is a ``Product``."""

    class Meta:
        abstract = True

    if TYPE_CHECKING:
        # factory-boy leaves the call untyped; calling a factory creates and returns a model instance.
        def __new__(cls, *args: Any, **kwargs: Any) -> ModelT:  # type: ignore[misc]  # not a factory instance
            ...
