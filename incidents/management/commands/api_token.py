"""python manage.py api_token create|revoke|list --user NAME [--name LABEL] [--prefix hl_XXXXXXXX]"""
from __future__ import annotations

from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError

from incidents.models import ApiToken
from incidents.tokens import api_token_create, api_tokens_revoke


class Command(BaseCommand):
    help = ("Personal API tokens: create one for a user (printed once), revoke a user's tokens (all, or those with "
            "a name or prefix), or list them.")

    def add_arguments(self, parser):
        parser.add_argument("action", choices=["create", "revoke", "list"])
        parser.add_argument("--user", required=True, help="The user name the token acts as.")
        parser.add_argument("--name", default="", help="create: what the token is for (default 'command line'); "
                                                       "revoke: only the tokens with this name.")
        parser.add_argument("--prefix", default="", help="revoke: only the token starting with this (hl_…).")

    def handle(self, *args, action, user, name, prefix, **options):
        try:
            account = get_user_model().objects.get(username=user)
        except get_user_model().DoesNotExist:
            raise CommandError(f"--user: there is no user {user!r}.") from None
        if action == "create":
            try:
                token, raw = api_token_create(user=account, name=name or "command line")
            except ValidationError as error:
                raise CommandError("--name: " + " ".join(error.messages)) from None
            self.stderr.write(f"Token {token.name!r} created for {account.username}. It is shown once; Hotline keeps "
                              "only its fingerprint:")
            self.stdout.write(raw)
        elif action == "revoke":
            count = api_tokens_revoke(user=account, name=name, prefix=prefix)
            if not count:
                raise CommandError(f"{account.username} has no active token"
                                   f"{' named ' + repr(name) if name else ''}"
                                   f"{' starting with ' + repr(prefix) if prefix else ''}.")
            self.stdout.write(f"{count} token(s) of {account.username} revoked.")
        else:
            for token in ApiToken.objects.filter(user=account):
                state = f"revoked {token.revoked_at:%Y-%m-%d %H:%M} UTC" if token.revoked_at else "active"
                used = f"{token.last_used_at:%Y-%m-%d %H:%M} UTC" if token.last_used_at else "never"
                self.stdout.write(f"{token.prefix}…  {token.name}  created {token.created_at:%Y-%m-%d %H:%M} UTC  "
                                  f"last used {used}  {state}")
