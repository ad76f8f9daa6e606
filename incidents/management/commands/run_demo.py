"""python manage.py run_demo [ADDRPORT]: serve Hotline and play the demo outage live, in one process.

On the embedded default there is no Celery worker or beat: a background thread does their job, polling due
sources (the demo replay) every few seconds through the same service functions the Celery tasks call.
"""
from __future__ import annotations

import logging
import threading
import time

from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError
from django.db import close_old_connections
from django.utils import timezone

logger = logging.getLogger(__name__)


def _poll_forever(stop: threading.Event, every: float) -> None:
    from socialfeed.polling import source_poll, sources_due

    while not stop.wait(every):
        try:
            for source_id in sources_due(now=timezone.now()):
                source_poll(source_id=source_id)
        except Exception:  # keep the demo alive; the error is on the source page and in the log
            logger.exception("demo poller: a poll failed")
        finally:
            close_old_connections()


class Command(BaseCommand):
    help = "Serve Hotline on 127.0.0.1:8000 and play the demo scenario live (embedded default, no Redis needed)."

    def add_arguments(self, parser):
        parser.add_argument("addrport", nargs="?", default="127.0.0.1:8000")
        parser.add_argument("--every", type=float, default=5.0, help="Seconds between polls of due sources.")

    def handle(self, *args, addrport, every, **options):
        from incidents.demo import DemoRefused, demo_serving_starts

        try:
            demo_serving_starts()  # the login page lists the demo logins from now on (never in production)
        except DemoRefused as refused:
            raise CommandError(str(refused)) from None
        stop = threading.Event()
        threading.Thread(target=_poll_forever, args=(stop, every), daemon=True, name="demo-poller").start()
        time.sleep(0.1)
        try:
            call_command("runserver", addrport, use_reloader=False)
        finally:
            stop.set()
