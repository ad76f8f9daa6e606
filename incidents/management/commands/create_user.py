"""python manage.py create_user USERNAME --role comms|manager|analyst|admin [--team NAME] [--password-stdin]"""
from __future__ import annotations

import getpass
import sys

from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError

from incidents.roles import ROLES
from incidents.services import user_create


class Command(BaseCommand):
    help = "Create or update a Hotline user with one role and team memberships."

    def add_arguments(self, parser):
        parser.add_argument("username")
        parser.add_argument("--role", required=True, choices=[*ROLES, "admin"])
        parser.add_argument("--team", action="append", default=[], help="Team name (repeatable); must exist.")
        parser.add_argument("--email", default="")
        parser.add_argument("--password-stdin", action="store_true", help="Read the password from standard input.")

    def handle(self, *args, username, role, team, email, password_stdin, **options):
        if password_stdin:
            password = sys.stdin.readline().rstrip("\n")
        else:
            password = getpass.getpass(f"Password for {username}: ")
        try:
            validate_password(password)
        except ValidationError as exc:
            raise CommandError("Password refused: " + " ".join(exc.messages)) from None
        try:
            user = user_create(username=username, password=password, role=role, teams=team, email=email)
        except ValueError as exc:
            raise CommandError(str(exc)) from None
        self.stdout.write(f"User {user.username} is now {role}" + (f" in {', '.join(team)}." if team else "."))
