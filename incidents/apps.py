from django.apps import AppConfig
from django.db.models.signals import post_migrate


class IncidentsConfig(AppConfig):
    name = "incidents"
    verbose_name = "Incidents and brands"

    def ready(self) -> None:
        from socialfeed.signals import posts_ingested

        from .alerts import alerts_check_after_ingest
        from .services import roles_ensure_groups

        post_migrate.connect(lambda **kwargs: roles_ensure_groups(), sender=self, weak=False)
        # METRICS.md §8: a stored batch can raise or clear its brands' alerts; check them at once.
        posts_ingested.connect(alerts_check_after_ingest, dispatch_uid="hotline-alerts-after-ingest")
