"""Infrastructure shared by every app: the object store, outbound HTTP with the private-address
refusal, webhook signing, task dispatch, the embedded PostgreSQL and the table of error codes.

A leaf: it imports no facecore app (checked by import-linter, see .importlinter).
"""
