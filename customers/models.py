from django.db import models
from django.db.models import Q
from django.db.models.functions import Left, Lower, Upper

from billing_project.core.gst import STATE_CHOICES, STATE_CODE_PATTERN
from billing_project.core.validators import GSTIN_LENGTH, GSTIN_PATTERN, INDIAN_MOBILE_E164_PATTERN

# +91 and 10 digits: an Indian mobile number in E.164 form.
PHONE_MAX_LENGTH = 13
NAME_MAX_LENGTH = 100
LEGAL_NAME_MAX_LENGTH = 200


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
    # A business buyer's GST registration (docs/gst.md): its GSTIN makes its bills B2B. A bill copies
    # the GSTIN, legal name and address when it is rung up; editing them later changes no bill.
    gstin = models.CharField("GSTIN", max_length=GSTIN_LENGTH, null=True, blank=True)
    legal_name = models.CharField(max_length=LEGAL_NAME_MAX_LENGTH, blank=True, default="", db_default="")
    billing_address = models.TextField(blank=True, default="", db_default="")
    # The buyer's GST state: its GSTIN's first two digits when it has one (CHECK).
    state_code = models.CharField(max_length=2, choices=STATE_CHOICES, null=True, blank=True)

    class Meta:
        ordering = ["email", "phone"]
        indexes = [
            # An email in any case (``email__iexact`` compares UPPER() of both sides; the unique index is
            # on LOWER()): the bill list's ?customer_email= and the customer list's ?email=. A bill
            # finds its customer by the stored, lower-cased email and does not use it.
            models.Index(Upper("email"), name="customer_email_upper"),
        ]
        constraints = [
            models.UniqueConstraint(Lower("email"), name="customer_email_unique_ci"),
            models.CheckConstraint(
                condition=Q(email__isnull=False) | Q(phone__isnull=False), name="customer_has_email_or_phone"
            ),
            models.CheckConstraint(condition=~Q(email=""), name="customer_email_not_blank"),
            models.CheckConstraint(
                condition=Q(phone__regex=INDIAN_MOBILE_E164_PATTERN), name="customer_phone_e164_indian_mobile"
            ),
            models.CheckConstraint(
                condition=Q(gstin__isnull=True) | Q(gstin__regex=GSTIN_PATTERN), name="customer_gstin_form"
            ),
            models.CheckConstraint(
                condition=Q(state_code__isnull=True) | Q(state_code__regex=STATE_CODE_PATTERN),
                name="customer_state_code_form",
            ),
            models.CheckConstraint(
                condition=Q(gstin__isnull=True) | Q(state_code=Left("gstin", 2)), name="customer_state_of_gstin"
            ),
        ]

    def __str__(self):
        return self.email or self.phone or f"customer #{self.pk}"
