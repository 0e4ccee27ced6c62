"""docker-compose.yml cannot run here (no Docker engine), so these tests read it and hold it,
the Dockerfile and docs/configuration.md to what the code actually reads."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parent.parent
COMPOSE = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
SERVICES = COMPOSE["services"]
FACECORE_SERVICES = ["migrate", "api", "worker", "worker-gpu", "beat", "flower"]
CONFIG_DOC = (ROOT / "docs" / "configuration.md").read_text()


def documented_variables() -> set[str]:
    return set(re.findall(r"^\|\s*`([A-Z][A-Z0-9_]+)`", CONFIG_DOC, flags=re.MULTILINE))


SETTING_NAME = re.compile(r"""["']((?:FACECORE|DJANGO|S3)_[A-Z0-9_]+|DATABASE_URL|CELERY_BROKER_URL)["']""")
PACKAGES = [
    "config",
    "api",
    "adapters",
    "worker",
    "facecore",
    "recognition",
    "metrics",
    "images",
    "tenants",
    "infra",
]


def variables_read_by_code() -> set[str]:
    """Every setting name quoted in the service's code (settings modules read them by name)."""
    found: set[str] = set()
    for package in PACKAGES:
        for source in (ROOT / package).rglob("*.py"):
            found |= set(SETTING_NAME.findall(source.read_text()))
    return found - {"DJANGO_SETTINGS_MODULE"}


def settings_default(name: str) -> str:
    text = (ROOT / "config" / "settings.py").read_text()
    match = re.search(rf'{name}\s*=\s*env\.str\("{name}",\s*"([^"]*)"\)', text)
    assert match, f"{name} is not read from the environment in config/settings.py"
    return match.group(1)


def test_stack_has_every_part_of_the_architecture() -> None:
    for name in [
        "postgres",
        "redis",
        "rabbitmq",
        "minio",
        "minio-init",
        "api",
        "worker",
        "worker-gpu",
        "flower",
    ]:
        assert name in SERVICES, f"docker-compose.yml lacks service {name}"
    assert "pgvector" in SERVICES["postgres"]["image"], "Postgres must come with pgvector"
    assert SERVICES["rabbitmq"]["profiles"] == ["rabbitmq"]
    assert SERVICES["worker-gpu"]["profiles"] == ["gpu"]
    devices = SERVICES["worker-gpu"]["deploy"]["resources"]["reservations"]["devices"]
    assert devices[0]["capabilities"] == ["gpu"]


@pytest.mark.parametrize("service", FACECORE_SERVICES)
def test_facecore_services_share_one_configuration(service: str) -> None:
    env = SERVICES[service]["environment"]
    assert env == SERVICES["api"]["environment"], f"{service} must see the same settings as the API"
    assert env["DATABASE_URL"].startswith("postgres://") and "@postgres:" in env["DATABASE_URL"]
    assert env["S3_ENDPOINT"].startswith("minio:")


def test_every_compose_variable_is_documented_and_read_by_the_code() -> None:
    env = set(SERVICES["api"]["environment"])
    undocumented = env - documented_variables()
    assert not undocumented, f"not in docs/configuration.md: {sorted(undocumented)}"
    unread = env - variables_read_by_code()
    assert not unread, f"compose sets variables the code never reads: {sorted(unread)}"


def test_every_setting_the_code_reads_is_documented() -> None:
    missing = variables_read_by_code() - documented_variables()
    assert not missing, f"settings missing from docs/configuration.md: {sorted(missing)}"


def test_minio_bucket_is_created_before_the_services_start() -> None:
    bucket = SERVICES["api"]["environment"]["S3_BUCKET"]
    init_command = " ".join(SERVICES["minio-init"]["command"])
    assert f"mc mb --ignore-existing local/{bucket}" in init_command
    for service in ["api", "worker"]:
        assert SERVICES[service]["depends_on"]["minio-init"]["condition"] == "service_completed_successfully"
        assert SERVICES[service]["depends_on"]["migrate"]["condition"] == "service_completed_successfully"


def test_workers_consume_the_queues_the_code_routes_to() -> None:
    faces, webhooks = settings_default("FACECORE_FACES_QUEUE"), settings_default("FACECORE_WEBHOOKS_QUEUE")

    def queues(service: str) -> set[str]:
        command = SERVICES[service]["command"]
        return set(command[command.index("-Q") + 1].split(","))

    assert queues("worker") == {faces, webhooks}
    assert queues("worker-gpu") == {faces}, "the GPU worker should only take model work"


def test_celery_commands_name_the_real_celery_app() -> None:
    from config.celery import app

    assert app.main == "facecore"
    for service in ["worker", "worker-gpu", "flower"]:
        command = SERVICES[service]["command"]
        assert command[:3] == ["celery", "-A", "config"], service


def test_gunicorn_serves_the_real_wsgi_module_with_the_settings_runall_uses() -> None:
    """compose's api, the image's default command and ``make run`` all serve through
    config/gunicorn.py (threads, connection pool, worker recycling), not a copy of its flags."""
    import json

    from config import gunicorn as gunicorn_settings

    dockerfile = (ROOT / "Dockerfile").read_text()
    image_command = json.loads(dockerfile.split("\nCMD ", 1)[1].splitlines()[0])
    from worker.management.commands.runall import GUNICORN

    for command in (SERVICES["api"]["command"], image_command):
        assert command[:3] == GUNICORN == ["gunicorn", "-c", "python:config.gunicorn"], command
    module, _, attribute = gunicorn_settings.wsgi_app.partition(":")
    assert (ROOT / (module.replace(".", "/") + ".py")).is_file()
    assert attribute == "application"
    assert gunicorn_settings.worker_class == "gthread" and gunicorn_settings.threads > 1
    assert "requirements.txt" in dockerfile and "models fetch" in dockerfile


def test_the_image_runs_as_a_non_root_user() -> None:
    lines = [line.strip() for line in (ROOT / "Dockerfile").read_text().splitlines()]
    users = [line.split()[1] for line in lines if line.startswith("USER ")]
    assert users and users[-1] not in ("root", "0"), "the service must not run as root"
    assert lines.index(f"USER {users[-1]}") > max(
        i for i, line in enumerate(lines) if line.startswith("RUN ")
    )


def test_secrets_are_required_and_consoles_are_not_published() -> None:
    env = SERVICES["api"]["environment"]
    assert env["DJANGO_SECRET_KEY"].startswith("${DJANGO_SECRET_KEY:?"), (
        "compose must refuse to start without it"
    )
    assert env["DJANGO_DEBUG"] == "false"
    flower = " ".join(SERVICES["flower"]["command"])
    assert "--basic-auth=${FLOWER_USER:?" in flower and "${FLOWER_PASSWORD:?" in flower
    assert "ports" not in SERVICES["minio"], "the MinIO console must not be published by default"
    assert SERVICES["minio-console"]["profiles"] == ["console"]
    assert all(p.startswith("127.0.0.1:") for p in SERVICES["minio-console"]["ports"])


def test_one_beat_runs_the_reconciler_and_services_have_healthchecks() -> None:
    from django.conf import settings

    assert SERVICES["beat"]["command"][:4] == ["celery", "-A", "config", "beat"]
    schedule = settings.CELERY_BEAT_SCHEDULE["reconcile"]
    assert schedule["task"] == "worker.tasks.reconcile"
    assert schedule["options"]["queue"] in set(
        SERVICES["worker"]["command"][SERVICES["worker"]["command"].index("-Q") + 1].split(",")
    )
    assert "/healthz" in " ".join(SERVICES["api"]["healthcheck"]["test"])
    assert "inspect ping" in " ".join(SERVICES["worker"]["healthcheck"]["test"])


def test_prometheus_scrapes_the_api_metrics_and_every_worker() -> None:
    from django.urls import resolve

    from api.views.metrics import metrics

    prometheus = SERVICES["prometheus"]
    assert prometheus["profiles"] == ["metrics"]
    assert all(p.startswith("127.0.0.1:") for p in prometheus["ports"]), "Prometheus is not published"
    config_arg = next(a for a in prometheus["command"] if a.startswith("--config.file="))
    mounted = {
        target.removesuffix(":ro"): source
        for source, _, target in (volume.partition(":") for volume in prometheus["volumes"])
    }
    config_file = ROOT / mounted[config_arg.partition("=")[2]]
    assert config_file.is_file(), f"{config_file} is mounted but not in the repo"
    jobs = {job["job_name"]: job for job in yaml.safe_load(config_file.read_text())["scrape_configs"]}

    api_port = SERVICES["api"]["command"][SERVICES["api"]["command"].index("--bind") + 1].rpartition(":")[2]
    api_job = jobs["facecore-api"]
    assert api_job["static_configs"][0]["targets"] == [f"api:{api_port}"]
    assert resolve(api_job["metrics_path"]).func is metrics

    workers = jobs["facecore-workers"]["dns_sd_configs"][0]
    assert "worker" in workers["names"]
    assert str(workers["port"]) == SERVICES["worker"]["environment"]["FACECORE_WORKER_METRICS_PORT"]
