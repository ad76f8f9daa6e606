from django.urls import path

from . import report_views

app_name = "reports"

urlpatterns = [
    path("", report_views.week, name="week"),
    path("brand/<slug:slug>/", report_views.brand, name="brand"),
    path("export/counts.json", report_views.export_counts, name="export_counts"),
    path("export/<str:kind>.csv", report_views.export, name="export"),
    path("digests/", report_views.digests, name="digests"),
    path("digests/send-now/", report_views.digest_send_now, name="digest_send_now"),
    path("digests/preview/<slug:slug>/", report_views.digest_preview, name="digest_preview"),
]
