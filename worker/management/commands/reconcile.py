"""``manage.py reconcile``: one reconciler pass now (Celery beat runs it periodically)."""

from dataclasses import asdict

from django.core.management.base import BaseCommand

from images import reconcile


class Command(BaseCommand):
    help = "Re-send lost jobs, expired leases, overdue retries and due webhooks (one pass)."

    def handle(self, *args, **options) -> None:
        repairs = reconcile.run()
        for name, value in asdict(repairs).items():
            self.stdout.write(f"{name}: {value}")
