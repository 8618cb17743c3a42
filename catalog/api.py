from django_filters.rest_framework import DjangoFilterBackend
from drf_spectacular.utils import extend_schema, extend_schema_view
from rest_framework import filters, viewsets

from billing_project.api.permissions import RolePermissions

from .selectors import product_list
from .serializers import ProductSerializer
from .services import product_create, product_delete, product_update


@extend_schema_view(
    destroy=extend_schema(
        description="Deletes the product, or archives it (`is_active=false`) when a bill references it."
    ),
)
@extend_schema(tags=["products"])
class ProductViewSet(viewsets.ModelViewSet):
    """The product catalogue. Writes need the manager role (``catalog`` model permissions)."""

    serializer_class = ProductSerializer
    permission_classes = [RolePermissions]
    filter_backends = [DjangoFilterBackend, filters.SearchFilter]
    filterset_fields = ["is_active"]
    search_fields = ["name", "sku"]
    lookup_value_regex = r"[0-9]{1,18}"

    def get_queryset(self):
        return product_list()

    def perform_create(self, serializer):
        serializer.instance = product_create(**serializer.validated_data)

    def perform_update(self, serializer):
        serializer.instance = product_update(product=serializer.instance, **serializer.validated_data)

    def perform_destroy(self, instance):
        product_delete(product=instance)
