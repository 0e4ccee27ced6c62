"""An image that kills its worker (crash, out of memory) is redelivered by acks_late; it must not
crash workers forever: after a few redeliveries it fails visibly with ``worker_lost``."""

from __future__ import annotations

import pytest

from images.models import Image, ImageStatus
from images.pipeline import max_deliveries
from tenants.models import Application
from worker.tasks import process_image


@pytest.fixture
def stuck_image(db) -> Image:
    """An image whose job every worker so far died in: started, never finished."""
    application = Application.objects.create(name="crashy")
    return Image.objects.create(
        application=application,
        status=ImageStatus.PROCESSING,
        deliveries=max_deliveries(),
        object_key="images/never-read/original",
    )


def test_a_job_that_keeps_killing_its_worker_fails_with_worker_lost(stuck_image: Image) -> None:
    process_image.apply(args=[str(stuck_image.id)])

    stuck_image.refresh_from_db()
    assert stuck_image.status == ImageStatus.FAILED
    assert stuck_image.error_code == "worker_lost"
    assert "without finishing" in stuck_image.error_message
    assert stuck_image.finished_at is not None


def test_a_redelivery_within_the_allowance_still_runs_the_job(stuck_image: Image) -> None:
    """One start fewer and the job runs again (here it then finds no stored original)."""
    Image.objects.filter(pk=stuck_image.pk).update(deliveries=max_deliveries() - 1)

    process_image.apply(args=[str(stuck_image.id)])

    stuck_image.refresh_from_db()
    assert stuck_image.error_code == "original_missing"
    assert stuck_image.deliveries == max_deliveries()
