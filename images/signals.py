"""What the image pipeline announces. Other apps subscribe in their ``AppConfig.ready``."""

from django.dispatch import Signal

faces_stored = Signal()
"""``sender=Image``, ``image``, ``faces`` (the new Face rows, largest first): a job's faces were
just saved, inside the transaction that marks the image done, so a receiver's writes commit (or
roll back) with the image's own. Receivers may set ``image.result[<their key>]``; the pipeline
saves ``image`` after them."""

active_model_changed = Signal()
"""``sender=ModelMigration``, ``model``: a model migration switched to ``model`` or rolled back to
it; every face's embedding is now ``model``'s (images.migration). Sent by a worker task after
the switch committed; recognition recomputes matches and clusters."""

FINISHED_CHANNEL = "facecore_image_finished"
"""PostgreSQL NOTIFY channel: an image's id, when its job ended (``done`` or ``failed``), delivered
when that transaction commits (``infra.pg_listen``). Synchronous calls wait on it."""
