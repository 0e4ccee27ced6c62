"""``manage.py create_api_key NAME``: make an API key for application NAME (created if missing)."""

from django.core.management.base import BaseCommand

from tenants.keys import create_api_key
from tenants.models import Application


class Command(BaseCommand):
    help = (
        "Create an API key for an application (the application is created if missing). Prints the key once."
    )

    def add_arguments(self, parser) -> None:
        parser.add_argument("name", help="application name")
        parser.add_argument("--key-name", default="", help="a label for the key")

    def handle(self, *args, name: str, key_name: str, **options) -> None:
        application, created = Application.objects.get_or_create(name=name)
        key, raw_key = create_api_key(application, key_name)
        if created:
            self.stderr.write(f"Created application {application.name!r} ({application.id}).")
        self.stderr.write(f"API key {key.prefix}… for {application.name!r}; it is shown only once:")
        self.stdout.write(raw_key)
