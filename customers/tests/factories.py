import factory
from django.contrib.auth import get_user_model
from django.contrib.auth.models import User

from billing_project.core.testing.factories import ModelFactory
from customers.models import Customer


class CustomerFactory(ModelFactory[Customer]):
    class Meta:
        model = Customer

    email = factory.Sequence(lambda n: f"customer{n}@example.com")


class UserFactory(ModelFactory[User]):
    class Meta:
        model = get_user_model()
        django_get_or_create = ("username",)
        skip_postgeneration_save = True

    username = factory.Sequence(lambda n: f"user{n}")
    email = factory.LazyAttribute(lambda u: f"{u.username}@example.com")
    password = factory.django.Password("pass-word-123")

    @factory.post_generation
    def stores(self: User, create, extracted, **kwargs):  # called with the user
        """The user works at the default store (``stores=[...]`` names others, ``[]`` none), as
        migration catalog 0011 puts every existing staff user, so the suite's users see its tills."""
        if not create or self.is_superuser:
            return
        if extracted is None:
            extracted = self.stores.model.objects.filter(is_default=True)
        self.stores.set(extracted)
