from django.db import models
from django.db.models import Q
from django.db.models.functions import Lower

from billing_project.core.validators import INDIAN_MOBILE_E164_PATTERN

# +91 and 10 digits: an Indian mobile number in E.164 form.
PHONE_MAX_LENGTH = 13
NAME_MAX_LENGTH = 100


class Customer(models.Model):
    """Someone who bills have been rung up for, known by an email, a mobile number, or both: either
    one finds them. Created by their first bill (``customer_get_or_create``)."""

    # Stored lower-cased by customer_get_or_create; the constraint makes the rule hold even for
    # rows written some other way. Null when the customer is known by phone only.
    email = models.EmailField(max_length=254, db_index=True, null=True, blank=True)
    # An Indian mobile number in E.164 form (billing_project.core.validators.indian_mobile_e164).
    phone = models.CharField(max_length=PHONE_MAX_LENGTH, null=True, blank=True, unique=True)
    name = models.CharField(max_length=NAME_MAX_LENGTH, null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["email", "phone"]
        constraints = [
            models.UniqueConstraint(Lower("email"), name="customer_email_unique_ci"),
            models.CheckConstraint(
                condition=Q(email__isnull=False) | Q(phone__isnull=False), name="customer_has_email_or_phone"
            ),
            models.CheckConstraint(condition=~Q(email=""), name="customer_email_not_blank"),
            models.CheckConstraint(
                condition=Q(phone__regex=INDIAN_MOBILE_E164_PATTERN), name="customer_phone_e164_indian_mobile"
            ),
        ]

    def __str__(self):
        return self.email or self.phone or f"customer #{self.pk}"
