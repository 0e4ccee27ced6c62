"""A Django database backend: PostgreSQL from ``pgserver``, started on the first connection.

``DATABASES["default"] = {"ENGINE": "infra.embedded_postgres", "PGDATA": "<folder>"}``.
"""
