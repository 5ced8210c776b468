from django.urls import path

from . import views

app_name = "centers-api"
urlpatterns: list = [
    path("centers/", views.CenterListView.as_view(), name="center-list"),
    path("centers/verify/", views.CenterVerifyView.as_view(), name="center-verify"),
    path("centers/<str:code>/", views.CenterDetailView.as_view(), name="center-detail"),
    path("service-days/", views.ServiceDayListView.as_view(), name="service-day-list"),
    path("coverage/", views.CoverageView.as_view(), name="coverage"),
    path("store-reports/", views.StoreReportCreateView.as_view(), name="store-report-create"),
    path("official-stores/feed/", views.OfficialStoreFeedView.as_view(), name="official-store-feed"),
]
