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

    username = factory.Sequence(lambda n: f"user{n}")
    email = factory.LazyAttribute(lambda u: f"{u.username}@example.com")
    password = factory.django.Password("pass-word-123")
