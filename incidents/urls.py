from django.urls import path

from . import settings_views, token_views, views

app_name = "incidents"

urlpatterns = [
    path("", views.home, name="home"),
    path("incidents/new/", views.incident_new, name="new"),
    path("incidents/suggested/<slug:brand_slug>/", settings_views.suggestion, name="suggestion"),
    path("incidents/suggested/<slug:brand_slug>/confirm/", views.suggestion_confirm, name="suggestion_confirm"),
    path("incidents/<int:pk>/", views.board, name="board"),
    path("incidents/<int:pk>/edit/", views.incident_edit, name="edit"),
    path("incidents/<int:pk>/events/", views.board_event, name="event"),
    path("incidents/<int:pk>/communications/", views.board_communication, name="communication"),
    path("incidents/<int:pk>/live.json", views.board_live, name="board_live"),
    path("incidents/<int:pk>/charts/<slug:chart>.json", views.board_chart, name="board_chart"),
    path("incidents/<int:pk>/queue.json", views.board_queue, name="board_queue"),
    path("incidents/<int:pk>/bucket.json", views.board_bucket, name="board_bucket"),
    path("incidents/<int:pk>/queue/", views.queue_action, name="queue_action"),
    path("brands/<slug:slug>/settings/", settings_views.brand_settings, name="brand_settings"),
    path("brands/<slug:slug>/alerts/", settings_views.alert_log, name="alert_log"),
    path("teams/", settings_views.teams, name="teams"),
    path("teams/<int:team_id>/", settings_views.team_settings, name="team_settings"),
    path("teams/<int:team_id>/channels/<int:channel_id>/remove/", settings_views.channel_remove,
         name="channel_remove"),
    path("account/api-tokens/", token_views.api_tokens, name="api_tokens"),
]
