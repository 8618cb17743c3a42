"""Every API route, on one router. Paths work with and without a trailing slash."""

from django.urls import re_path
from rest_framework.routers import DefaultRouter

from billing_project.api.views import ObtainTokenView
from cashdrawer.api import DenominationViewSet, TillSessionViewSet, TillViewSet
from catalog.api import ProductViewSet
from customers.api import CustomerViewSet
from purchases.api import PurchaseViewSet


class OptionalSlashRouter(DefaultRouter):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.trailing_slash = "/?"


router = OptionalSlashRouter()
router.register("products", ProductViewSet, basename="product")
router.register("denominations", DenominationViewSet, basename="denomination")
router.register("purchases", PurchaseViewSet, basename="purchase")
router.register("customers", CustomerViewSet, basename="customer")
router.register("tills", TillViewSet, basename="till")
router.register("sessions", TillSessionViewSet, basename="session")

urlpatterns = [
    re_path(r"^auth/token/?$", ObtainTokenView.as_view(), name="auth-token"),
    *router.urls,
]
