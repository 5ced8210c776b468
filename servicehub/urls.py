from django.contrib import admin
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView

from servicehub import views

handler400 = "servicehub.api.errors.api_or_page_400"
handler403 = "servicehub.admin_site.permission_denied"
handler404 = "servicehub.api.errors.api_or_page_404"
handler500 = "servicehub.api.errors.api_or_page_500"

api_v1 = [
    path("", include("centers.api.urls")),
    path("", include("warranty.api.urls")),
    path("", include("repairs.api.urls")),
    path("", include("loaners.api.urls")),
    path("", include("partners.api.urls")),
    path("", include("booking.api.urls")),
    path("", include("logistics.api.urls")),
    path("", include("returns.api.urls")),
    path("", include("payments.api.urls")),
    path("", include("parts.api.urls")),
    path("", include("accounting.api.urls")),
    path("", include("outreach.api.urls")),
]

urlpatterns = [
    path("", include("web.urls")),
    path("", include("repairs.urls")),
    path("", include("payments.urls")),
    path("", include("accounting.urls")),
    path("", include("outreach.urls")),
    path("healthz", views.healthz, name="healthz"),
    path("i18n/", include("django.conf.urls.i18n")),
    path("admin/", admin.site.urls),
    path("api/v1/", include(api_v1)),
    path("api/schema/", SpectacularAPIView.as_view(), name="schema"),
    # The split view serves Swagger's setup script as its own request (?script): no inline script (CSP).
    path("api/docs/", SpectacularSwaggerSplitView.as_view(url_name="schema"), name="api-docs"),
    path("", include("ops.urls")),
]
