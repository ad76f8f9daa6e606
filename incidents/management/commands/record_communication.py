"""python manage.py record_communication --incident ID --channel sms|email|video|blog|press|in_app|phone|other
--at ISO8601 --text TEXT [--url URL] [--category apology|status_update|workaround|resolution|promotional|other]
[--user USERNAME]

Records a message the brand sent outside the platforms Hotline reads (METRICS.md §1 off-platform communication),
as the board's form does. ``--at`` is when it was really sent: an ISO 8601 date-time, read in the brand's time
zone when it has no offset. Without ``--category`` the category rules read the text. Anything wrong (unknown
incident or channel, a time in the future, a link that is not http(s)…) stops the command with a message naming
the argument, and nothing is stored.
"""
from __future__ import annotations

import datetime as dt

from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError
from django.utils.dateparse import parse_datetime

from incidents import date_inputs
from incidents.models import Incident, OffPlatformCommunication
from incidents.services import communication_record

# The model's field names, as the command's arguments.
_ARGUMENT = {"channel": "--channel", "sent_at": "--at", "text": "--text", "url": "--url", "category": "--category",
             "incident": "--incident", "brand": "--incident"}


class Command(BaseCommand):
    help = "Record an off-platform communication (SMS, e-mail, video…) of an incident's brand."

    def add_arguments(self, parser) -> None:
        parser.add_argument("--incident", required=True, help="incident number (its brand sent the message)")
        parser.add_argument("--channel", required=True,
                            help="one of " + ", ".join(OffPlatformCommunication.Channel.values))
        parser.add_argument("--at", required=True,
                            help="when it was really sent: ISO 8601, in the brand's time zone without an offset")
        parser.add_argument("--text", required=True, help="the message's text or a summary")
        parser.add_argument("--url", default="", help="a link (http or https) where it can be read or watched")
        parser.add_argument("--category", default="",
                            help="one of " + ", ".join(OffPlatformCommunication.Category.values)
                            + " (default: what the category rules read in the text)")
        parser.add_argument("--user", default="", help="who records it (a Hotline user name)")

    def handle(self, *args, incident: str, channel: str, at: str, text: str, url: str, category: str, user: str,
               **options) -> None:
        try:
            found = Incident.objects.select_related("brand").get(pk=int(incident))
        except (ValueError, Incident.DoesNotExist):
            raise CommandError(f"--incident: there is no incident {incident!r}.") from None
        if channel not in OffPlatformCommunication.Channel.values:
            raise CommandError(f"--channel: unknown channel {channel!r}; choose one of "
                               f"{', '.join(OffPlatformCommunication.Channel.values)}.")
        if category and category not in OffPlatformCommunication.Category.values:
            raise CommandError(f"--category: unknown category {category!r}; choose one of "
                               f"{', '.join(OffPlatformCommunication.Category.values)}.")
        try:
            sent_at = parse_datetime(at.strip())
        except ValueError:
            sent_at = None
        if sent_at is None:
            raise CommandError(f"--at: {at!r} is not an ISO 8601 date-time such as 2026-03-04T09:30 or "
                               "2026-03-04T09:30+01:00.")
        if not date_inputs.day_is_supported(sent_at.date()):  # before any zone is applied: year 1 would overflow
            raise CommandError(f"--at: {at!r} is outside the dates Hotline supports ({date_inputs.supported_range()}).")
        if sent_at.tzinfo is None:
            sent_at = sent_at.replace(tzinfo=found.brand.zone)
        sent_at = sent_at.astimezone(dt.UTC)
        author = None
        if user:
            author = get_user_model().objects.filter(username=user).first()
            if author is None:
                raise CommandError(f"--user: there is no user {user!r}.")
        try:
            communication = communication_record(incident=found, channel=channel, sent_at=sent_at, text=text,
                                                 url=url, category=category, author=author)
        except ValidationError as error:
            problems = [f"{_ARGUMENT.get(field, '--' + field)}: {' '.join(messages)}"
                        for field, messages in error.message_dict.items()]
            raise CommandError("; ".join(problems)) from None
        local = communication.sent_at.astimezone(found.brand.zone)
        self.stdout.write(f"Recorded {communication.get_channel_display()} of {found.brand.name} sent "
                          f"{local:%Y-%m-%d %H:%M} ({found.brand.time_zone}) on incident {found.pk}, category "
                          f"{communication.category}.")
