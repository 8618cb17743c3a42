from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_view
from rest_framework import viewsets
from rest_framework.decorators import action

from billing_project.core.api.permissions import RolePermissions
from billing_project.core.api.schema import PHONE_QUERY, TEXT_QUERY
from purchases.api import bill_page
from purchases.selectors import purchase_list
from purchases.serializers import PurchaseSerializer

from .selectors import customer_list
from .serializers import CustomerSerializer
from .services import customer_normalize_phone


@extend_schema_view(
    list=extend_schema(
        parameters=[
            OpenApiParameter("email", TEXT_QUERY, description="Exact email, any case."),
            OpenApiParameter(
                "phone",
                PHONE_QUERY,
                description="Mobile number, in any spelling a bill takes (`9876543210`, `+91 98765 43210`…; a `+` in "
                "a query string is sent as `%2B`).",
            ),
        ],
        description="Customers, with their bill count and what they have spent and been refunded. A customer is "
        "created by their first bill and known by email, mobile number or both.",
    ),
    retrieve=extend_schema(
        description="One customer, with their bill count and what they have spent and been refunded."
    ),
)
@extend_schema(tags=["customers"])
class CustomerViewSet(viewsets.ReadOnlyModelViewSet):
    """Customers are created by their first bill; they are identified by email, mobile number or both."""

    serializer_class = CustomerSerializer
    permission_classes = [RolePermissions]
    lookup_value_regex = r"[0-9]{1,18}"

    def get_queryset(self):
        params = self.request.query_params
        phone = params.get("phone")
        return customer_list(
            email=params.get("email"), phone=customer_normalize_phone(phone, field="phone") if phone else None
        )

    @extend_schema(responses=PurchaseSerializer(many=True), description="The customer's bills, newest first.")
    @action(detail=True, methods=["get"], serializer_class=PurchaseSerializer)
    def purchases(self, request, pk=None):
        customer = self.get_object()
        page = bill_page(self, purchase_list(customer_id=customer.pk))
        return self.get_paginated_response(PurchaseSerializer(page, many=True).data)
