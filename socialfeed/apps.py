from django.apps import AppConfig


class SocialfeedConfig(AppConfig):
    name = "socialfeed"
    verbose_name = "Social feeds"
