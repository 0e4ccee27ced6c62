"""Celery tasks: the per-image job (queue ``faces``) and webhook delivery (queue ``webhooks``)."""
