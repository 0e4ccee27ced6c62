"""gunicorn's settings for the API, the same under ``make run`` (runall) and docker-compose:
``gunicorn -c python:config.gunicorn --bind HOST:PORT``. Variables: docs/configuration.md.

Threads, not processes, carry concurrent requests: a synchronous call (recognize, verify) spends
its time waiting for a worker and holds a database connection only while it reads or writes
(recognition.probes), so a few processes of many threads serve many waiting clients on a small
pool of connections (FACECORE_DB_POOL_SIZE per process).
"""

from environs import Env
from marshmallow.validate import Range

env = Env()

wsgi_app = "config.wsgi:application"
worker_class = "gthread"
workers = env.int("FACECORE_WEB_WORKERS", 2, validate=Range(min=1, max=64))
threads = env.int("FACECORE_WEB_THREADS", 8, validate=Range(min=1, max=256))
timeout = 120  # a gthread worker's main loop must answer the arbiter within this; requests may run longer
graceful_timeout = 30
keepalive = 5
# A worker process is replaced after this many requests (at a random point within the jitter, so
# the processes do not all restart at once): months of uptime without slow growth.
max_requests = env.int("FACECORE_WEB_MAX_REQUESTS", 20000, validate=Range(min=0))
max_requests_jitter = max_requests // 10
errorlog = "-"
loglevel = env.str("FACECORE_LOG_LEVEL", "INFO").lower()
# gunicorn's control socket (a file in the home folder) would be shared by every runall of the user.
control_socket_disable = True
