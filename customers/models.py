from django.db import models
from django.db.models.functions import Lower


class Customer(models.Model):
    # Stored lower-cased by customer_get_or_create; the constraint makes the rule hold even for
    # rows written some other way.
    email = models.EmailField(max_length=254, db_index=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["email"]
        constraints = [models.UniqueConstraint(Lower("email"), name="customer_email_unique_ci")]

    def __str__(self):
        return self.email
