from django.conf import settings
from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path, re_path
from drf_spectacular.views import SpectacularAPIView, SpectacularRedocView, SpectacularSwaggerSplitView
from rest_framework.permissions import AllowAny, IsAuthenticated

from billing_project.core.api.views import HealthView
from billing_project.views import favicon, metrics_view
from purchases.views import home

api_prefix = settings.API_V1_PREFIX.strip("/")
docs_permission = [AllowAny] if settings.API_DOCS_PUBLIC else [IsAuthenticated]

urlpatterns = [
    re_path(r"^healthz/?$", HealthView.as_view(), name="healthz"),
    path("favicon.ico", favicon, name="favicon"),
    re_path(r"^metrics/?$", metrics_view, name="metrics"),
    path("admin/", admin.site.urls),
    path(f"{api_prefix}/", include("billing_project.api_router")),
    path("api/schema/", SpectacularAPIView.as_view(permission_classes=docs_permission), name="schema"),
    path(
        "api/docs/",
        SpectacularSwaggerSplitView.as_view(url_name="schema", permission_classes=docs_permission),
        name="swagger-ui",
    ),
    path(
        "api/redoc/",
        SpectacularRedocView.as_view(url_name="schema", permission_classes=docs_permission),
        name="redoc",
    ),
    path("api-auth/", include("rest_framework.urls")),
    # The cashier's pages (session login).
    path("", home, name="home"),
    path(
        "accounts/login/",
        auth_views.LoginView.as_view(redirect_authenticated_user=True),
        name="login",
    ),
    path("accounts/logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("billing/till/", include("cashdrawer.urls")),
    path("billing/", include("purchases.urls")),
]

handler404 = "billing_project.views.not_found"
handler500 = "billing_project.views.server_error"
