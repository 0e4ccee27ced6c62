"""The Celery side: tasks (the per-image job on queue ``faces``, webhook delivery on queue
``webhooks``), model warm-up, and ``manage.py runall``. Thin: the work is in the apps' services."""
