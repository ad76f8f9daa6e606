"""Poll one source now, for operators: ``manage.py poll_source 12 [--reset]``.

Runs in this process, with the same lock and rules as the workers (it waits for nobody: if a worker is polling
the source right now, it says so and stops). ``--reset`` first clears a permanent-error stop, a rate-limit wait
and the failure count, for when the cause has been fixed (new token, corrected query).
"""
from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError

from socialfeed.models import Source
from socialfeed.polling import PollStatus, source_poll, source_reset

_FAILURES = {PollStatus.FAILED, PollStatus.FAILED_PERMANENTLY, PollStatus.NOT_CONFIGURED, PollStatus.PAUSED,
             PollStatus.STOPPED, PollStatus.GONE}


class Command(BaseCommand):
    help = "Poll one source now and print what came in."

    def add_arguments(self, parser):
        parser.add_argument("source_id", type=int, help="The source's id (shown on /feed/sources/ and in the admin).")
        parser.add_argument("--reset", action="store_true",
                            help="Clear a permanent-error stop, a rate-limit wait and the failure count first.")

    def handle(self, *args, source_id: int, reset: bool, **options):
        source = Source.objects.filter(pk=source_id).first()
        if source is None:
            raise CommandError(f"There is no source {source_id}.")
        if reset:
            source_reset(source_id=source_id)
        outcome = source_poll(source_id=source_id)
        if outcome.status == PollStatus.POLLED:
            extra = f", {outcome.rejected} set aside (see the admin's rejected posts)" if outcome.rejected else ""
            gap = "; a gap is still open: the next poll reads it back" if outcome.gap_open else ""
            self.stdout.write(f"{source.name}: {outcome.fetched} fetched, {outcome.stored} new, "
                              f"{outcome.updated} updated{extra}; cursor {outcome.cursor or '(none)'}{gap}")
            return
        if outcome.status == PollStatus.RATE_LIMITED:
            self.stdout.write(f"{source.name}: rate-limited until {outcome.retry_at:%Y-%m-%d %H:%M:%S} UTC; "
                              "nothing fetched.")
            return
        detail = f": {outcome.error}" if outcome.error else ""
        message = f"{source.name}: {outcome.status.replace('_', ' ')}{detail}"
        if outcome.status in _FAILURES:
            hint = " (run again with --reset once the cause is fixed)" if outcome.status == PollStatus.STOPPED else ""
            raise CommandError(message + hint)
        self.stdout.write(message)
