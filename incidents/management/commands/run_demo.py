"""python manage.py run_demo [ADDRPORT]: serve Hotline and play the demo outage live, in one process.

On the embedded default there is no Celery worker or beat: background threads do their job. One polls due sources
(the demo replay) every few seconds through the same service functions the Celery tasks call; the other runs the
rest of ``CELERY_BEAT_SCHEDULE`` in-process, on the schedule's own timing, so alerts are checked every minute and
digests go out on Monday mornings; with the console e-mail backend they are printed in this terminal.
"""
from __future__ import annotations

import datetime as dt
import logging
import threading
import time

from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError
from django.db import close_old_connections
from django.utils import timezone

logger = logging.getLogger(__name__)

POLLED_BY_THE_POLLER = {"poll-due-sources"}  # the poller thread already does this entry's job, more often


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


class InProcessBeat:
    """The beat schedule of settings.CELERY_BEAT_SCHEDULE, run in this process: each entry's task runs at once
    on start, then whenever its schedule (an interval in seconds or a crontab) says it is due."""

    def __init__(self, *, schedule: dict, skip: set[str] = frozenset(), now: dt.datetime | None = None) -> None:
        from celery.schedules import schedule as interval

        from config.celery import app

        self.app = app
        app.loader.import_default_modules()  # the apps' tasks modules, as a worker imports them on start
        self.entries: dict[str, dict] = {}
        for name, entry in schedule.items():
            if name in skip:
                continue
            when = entry["schedule"]
            if isinstance(when, int | float):
                when = interval(run_every=dt.timedelta(seconds=when), app=app)
            self.entries[name] = {"task": entry["task"], "schedule": when, "last_run": None}

    def due(self, now: dt.datetime) -> list[str]:
        """The entries to run at ``now`` (never run yet, or due by their schedule since their last run)."""
        names = []
        for name, entry in self.entries.items():
            if entry["last_run"] is None:
                names.append(name)
                continue
            when = entry["schedule"]
            if hasattr(when, "remaining_estimate"):
                if when.remaining_estimate(entry["last_run"]).total_seconds() <= 0:
                    names.append(name)
        return names

    def run_due(self, now: dt.datetime | None = None) -> list[str]:
        now = now or timezone.now()
        ran = []
        for name in self.due(now):
            entry = self.entries[name]
            entry["last_run"] = now
            try:
                self.app.tasks[entry["task"]].apply()
                ran.append(name)
            except Exception:  # keep the demo alive; the task logs its own failure
                logger.exception("demo beat: %s failed", name)
        return ran


def _beat_forever(stop: threading.Event, beat: InProcessBeat) -> None:
    while True:
        try:
            beat.run_due()
        finally:
            close_old_connections()  # this thread's connection, as a worker closes its own between tasks
        if stop.wait(1.0):
            return


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
        beat = InProcessBeat(schedule=settings.CELERY_BEAT_SCHEDULE, skip=POLLED_BY_THE_POLLER)
        threading.Thread(target=_beat_forever, args=(stop, beat), daemon=True, name="demo-beat").start()
        time.sleep(0.1)
        try:
            call_command("runserver", addrport, use_reloader=False)
        finally:
            stop.set()
