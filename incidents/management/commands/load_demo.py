"""python manage.py load_demo [--fresh]"""
from __future__ import annotations

import sys

from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone
from tqdm import tqdm

from incidents.demo import DemoRefused, demo_allowed, demo_load


class Command(BaseCommand):
    help = "Load the demo scenario (two operators, one messaging outage). Rerunnable; --fresh restarts it at now."

    def add_arguments(self, parser):
        parser.add_argument("--fresh", action="store_true", help="Delete the demo brands' data and start again now.")

    def handle(self, *args, fresh, **options):
        try:
            demo_allowed()
        except DemoRefused as refused:
            raise CommandError(str(refused)) from None
        bar = tqdm(unit=" posts", desc="Loading the demo outage", disable=not sys.stderr.isatty(), file=sys.stderr)
        result = demo_load(now=timezone.now(), fresh=fresh, progress=bar.update)
        bar.close()
        self.stdout.write(f"Demo scenario anchored at {result['anchor']:%Y-%m-%d %H:%M} UTC; "
                          f"{result['stored']} new post(s) stored.")
        self.stdout.write("Log in at http://127.0.0.1:8000 with one of these demo logins "
                          f"(password: {result['password']}): {', '.join(result['users'])}")
