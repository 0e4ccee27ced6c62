"""The v1 endpoints: images (jobs) and recognition. Every error answer is ``{"code", "message"}``."""
