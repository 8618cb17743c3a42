from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_view
from rest_framework import viewsets
from rest_framework.decorators import action

from billing_project.core.api.permissions import RolePermissions
from billing_project.core.api.schema import TEXT_QUERY
from purchases.api import bill_page
from purchases.selectors import purchase_list
from purchases.serializers import PurchaseSerializer

from .selectors import customer_list
from .serializers import CustomerSerializer


@extend_schema_view(
    list=extend_schema(
        parameters=[OpenApiParameter("email", TEXT_QUERY, description="Exact email, any case.")],
        description="Customers, with their bill count and what they have spent and been refunded. A customer is "
        "created by their first bill and known by email.",
    ),
    retrieve=extend_schema(
        description="One customer, with their bill count and what they have spent and been refunded."
    ),
)
@extend_schema(tags=["customers"])
class CustomerViewSet(viewsets.ReadOnlyModelViewSet):
    """Customers are created by their first bill; they are identified by email."""

    serializer_class = CustomerSerializer
    permission_classes = [RolePermissions]
    lookup_value_regex = r"[0-9]{1,18}"

    def get_queryset(self):
        return customer_list(email=self.request.query_params.get("email"))

    @extend_schema(responses=PurchaseSerializer(many=True), description="The customer's bills, newest first.")
    @action(detail=True, methods=["get"], serializer_class=PurchaseSerializer)
    def purchases(self, request, pk=None):
        customer = self.get_object()
        page = bill_page(self, purchase_list(customer_id=customer.pk))
        return self.get_paginated_response(PurchaseSerializer(page, many=True).data)
