from django.apps import AppConfig
from django.db.models.signals import post_migrate


class IncidentsConfig(AppConfig):
    name = "incidents"
    verbose_name = "Incidents and brands"

    def ready(self) -> None:
        from .services import roles_ensure_groups

        post_migrate.connect(lambda **kwargs: roles_ensure_groups(), sender=self, weak=False)
