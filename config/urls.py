from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path

from config.health import healthz
from incidents.views import LoginView

urlpatterns = [
    path("healthz", healthz, name="healthz"),
    path("login/", LoginView.as_view(), name="login"),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("i18n/", include("django.conf.urls.i18n")),
    path("admin/", admin.site.urls),
    path("api/v1/", include("incidents.api.urls")),
    path("feed/", include("socialfeed.urls")),
    path("reports/", include("incidents.report_urls")),
    path("", include("incidents.urls")),
]
