from django.urls import path

from . import views

app_name = "socialfeed"

urlpatterns = [
    path("sources/", views.sources, name="sources"),
]
