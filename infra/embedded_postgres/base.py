"""Django's postgresql backend, with the connection settings of the embedded server filled in
when the first connection is made (which starts the server if no process runs it yet)."""

from __future__ import annotations

from django.db.backends.postgresql import base

from infra.embedded import embedded_connection


class DatabaseWrapper(base.DatabaseWrapper):
    def get_connection_params(self) -> dict:
        server = embedded_connection(self.settings_dict["PGDATA"])
        # NAME stays ours: test runs connect to test_<NAME> and to "postgres" on the same server.
        self.settings_dict.update({k: v for k, v in server.items() if k != "NAME"})
        self.settings_dict["NAME"] = self.settings_dict.get("NAME") or server["NAME"]
        return super().get_connection_params()
