from django.urls import path, re_path

from . import docs, views

app_name = "api"

urlpatterns = [
    path("", views.index, name="index"),
    path("schema/", docs.SchemaView.as_view(), name="schema"),
    path("docs/", docs.api_docs, name="docs"),
    path("brands/", views.brand_list, name="brands"),
    path("brands/<slug:slug>/", views.brand_detail, name="brand"),
    path("incidents/", views.incident_list, name="incidents"),
    path("incidents/<int:pk>/", views.incident_detail, name="incident"),
    path("incidents/<int:pk>/timeline/", views.incident_timeline, name="incident_timeline"),
    path("incidents/<int:pk>/communications/", views.incident_communications, name="incident_communications"),
    path("incidents/<int:pk>/unanswered/", views.incident_unanswered, name="incident_unanswered"),
    path("mentions/", views.mention_list, name="mentions"),
    path("official-posts/", views.official_post_list, name="official_posts"),
    path("brand-weeks/", views.brand_week_list, name="brand_weeks"),
    path("league/", views.league, name="league"),
    re_path(r"^.*$", views.not_found, name="not_found"),
]
