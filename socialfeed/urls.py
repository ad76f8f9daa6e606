from django.urls import path

app_name = "socialfeed"

urlpatterns: list = []
