"""python manage.py alert_channel add --team TEAM --kind email|slack|webhook --target ADDRESS_OR_URL [--secret S]
                                   [--language en|fr]
python manage.py alert_channel list [--team TEAM]
python manage.py alert_channel remove ID"""
from __future__ import annotations

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError

from incidents.alert_channels import alert_channel_add, alert_channel_remove, masked_secret
from incidents.models import AlertChannel, Team


def _team(name: str) -> Team:
    team = Team.objects.filter(name=name).first()
    if team is None:
        known = ", ".join(Team.objects.values_list("name", flat=True)) or "none yet"
        raise CommandError(f"--team: there is no team {name!r} (teams: {known}).")
    return team


class Command(BaseCommand):
    help = "Add, list or remove a team's alert channels (e-mail, Slack incoming webhook, signed webhook)."

    def add_arguments(self, parser):
        actions = parser.add_subparsers(dest="action", required=True, metavar="add|list|remove")
        add = actions.add_parser("add", help="Add a channel to a team.")
        add.add_argument("--team", required=True, help="The team's name.")
        add.add_argument("--kind", required=True, choices=AlertChannel.Kind.values)
        add.add_argument("--target", required=True, help="E-mail address, or the Slack / webhook URL.")
        add.add_argument("--secret", default="", help="Webhooks: the signing secret (made for you when omitted).")
        add.add_argument("--language", default=settings.LANGUAGE_CODE,
                         choices=[code for code, _name in settings.LANGUAGES])
        listing = actions.add_parser("list", help="List channels and whether they are failing.")
        listing.add_argument("--team", default="", help="Only this team's channels.")
        remove = actions.add_parser("remove", help="Remove a channel by its id (see list).")
        remove.add_argument("id", type=int)

    def handle(self, *args, action, **options):
        getattr(self, f"_{action}")(**options)

    def _add(self, *, team, kind, target, secret, language, **options):
        try:
            channel = alert_channel_add(team=_team(team), kind=kind, target=target, secret=secret, language=language)
        except ValidationError as error:
            problems = [f"--{field}: {message}" for field, messages in error.message_dict.items()
                        for message in messages] if hasattr(error, "error_dict") else error.messages
            raise CommandError("Nothing stored. " + " ".join(problems)) from None
        self.stdout.write(f"Added channel {channel.pk}: {channel.get_kind_display()} {channel.target} "
                          f"for team {channel.team.name}.")
        if channel.kind == AlertChannel.Kind.WEBHOOK and not secret:
            self.stdout.write(f"Signing secret (put it in your receiver; it is not shown in full again): "
                              f"{channel.secret}")

    def _list(self, *, team, **options):
        channels = AlertChannel.objects.select_related("team").order_by("team__name", "id")
        if team:
            channels = channels.filter(team=_team(team))
        if not channels.exists():
            self.stdout.write("No alert channel.")
            return
        for c in channels:
            state = (f"FAILING ({c.consecutive_failures} in a row: {c.last_error[:120]})" if c.is_failing else
                     f"ok, last delivery {c.last_success_at:%Y-%m-%d %H:%M} UTC" if c.last_success_at else
                     "nothing sent yet")
            secret = f" secret {masked_secret(c.secret)}" if c.secret else ""
            self.stdout.write(f"{c.pk}\t{c.team.name}\t{c.kind}\t{c.target}{secret}\t{c.language}\t{state}")

    def _remove(self, *, id, **options):  # noqa: A002 - the argument's name on the command line
        channel = AlertChannel.objects.filter(pk=id).first()
        if channel is None:
            raise CommandError(f"ID: there is no alert channel {id} (see alert_channel list).")
        alert_channel_remove(channel=channel)
        self.stdout.write(f"Removed channel {id}: {channel.get_kind_display()} {channel.target}.")
