"""ONNX files of our networks, converted from the pinned weights and cached beside them.

``python -m facecore models fetch`` (``make models``) converts each model after fetching it; the
engine converts on first use when the files are missing. Layout, in ``models_dir``::

    onnx/mtcnn-pnet.onnx  onnx/mtcnn-rnet.onnx  onnx/mtcnn-onet.onnx  onnx/mtcnn.json
    onnx/facenet.onnx     onnx/facenet.json
    onnx/facenet512.onnx  onnx/facenet512.json

Each ``.json`` manifest records the converter version, the sha256 of the source weights (checked
against the pins in ``facecore.fetch`` / ``MTCNN_WEIGHTS_SHA256`` before converting) and the
sha256 of every ``.onnx`` file written. Loading checks the manifest: a stale converter version,
a source other than the pinned one, or an ``.onnx`` whose hash differs (a partial or edited file)
means "not converted" and the files are made again. Files are written to temporary names and
renamed into place, the manifest last, so a crash never leaves a manifest over a bad file.

Conversion needs ``onnx`` (and, for facenet512 only, TensorFlow to read the frozen graph); running
the converted files needs only ``onnxruntime`` (``facecore.runtime``).
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import tempfile
from dataclasses import dataclass
from pathlib import Path

from facecore.errors import ModelUnavailableError
from facecore.fetch import SOURCES, require_weights, sha256_of

log = logging.getLogger(__name__)

CONVERTER_VERSION = 2
"""Bump when a graph builder changes: every cached file is then converted again."""

SUBDIR = "onnx"

MTCNN_WEIGHTS_SHA256 = {
    "pnet": "ea6b0c3e685ebee3165326ad6484acc95f2ef78f1c94fbf40a55704fa989f7b5",
    "rnet": "cb00e6460f3c98b0bfafaba3c0a0ded4bdf6e62cee7174d969e8670d7e757fee",
    "onet": "94f6ea2f4cf985275ee958cdd762d17b6009348a4fb9d8c6be39ba73ffd22ca3",
}
"""The weights shipped in ``mtcnn==1.0.0`` (requirements.txt pins that version)."""


class ConversionError(RuntimeError):
    """A model could not be converted (source weights missing, wrong hash, converter missing)."""

    code = "conversion_failed"


@dataclass(frozen=True)
class OnnxModel:
    name: str
    files: tuple[str, ...]
    """Output ``.onnx`` names, in the order ``build`` returns the models."""


ONNX_MODELS: dict[str, OnnxModel] = {
    "mtcnn": OnnxModel("mtcnn", ("mtcnn-pnet.onnx", "mtcnn-rnet.onnx", "mtcnn-onet.onnx")),
    "facenet": OnnxModel("facenet", ("facenet.onnx",)),
    "facenet512": OnnxModel("facenet512", ("facenet512.onnx",)),
}
"""Models with an ONNX form; dlib stays on dlib."""


def onnx_dir(models_dir: Path | str) -> Path:
    return Path(models_dir) / SUBDIR


def manifest_path(name: str, models_dir: Path | str) -> Path:
    return onnx_dir(models_dir) / f"{name}.json"


def onnx_paths(name: str, models_dir: Path | str) -> list[Path]:
    return [onnx_dir(models_dir) / f for f in ONNX_MODELS[name].files]


# --- sources -----------------------------------------------------------------------------------


def _pinned_sources(name: str, models_dir: Path | str) -> dict[str, str]:
    """File label -> pinned sha256 of the weights ``name`` is converted from."""
    if name == "mtcnn":
        return {f"mtcnn/{net}.lz4": digest for net, digest in MTCNN_WEIGHTS_SHA256.items()}
    return {SOURCES[name].filename: SOURCES[name].sha256}


def _verify_sources(name: str, models_dir: Path | str) -> dict[str, str]:
    """Hash the source weights now; ``ConversionError`` unless each is the pinned file."""
    from facecore.onnx_graphs import MTCNN_WEIGHT_FILES, mtcnn_weights_dir

    pinned = _pinned_sources(name, models_dir)
    if name == "mtcnn":
        folder = mtcnn_weights_dir()
        paths = {f"mtcnn/{net}.lz4": folder / MTCNN_WEIGHT_FILES[net] for net in MTCNN_WEIGHTS_SHA256}
    else:
        paths = {SOURCES[name].filename: require_weights(name, models_dir)}
    for label, path in paths.items():
        actual = sha256_of(path)
        if actual != pinned[label]:
            raise ConversionError(f"{name}: {path} has sha256 {actual}, not the pinned {pinned[label]}")
    return pinned


def _build(name: str, models_dir: Path | str) -> list:
    from facecore import onnx_graphs as og

    if name == "mtcnn":
        return [
            og.build_pnet(og.mtcnn_weights("pnet")),
            og.build_rnet(og.mtcnn_weights("rnet")),
            og.build_onet(og.mtcnn_weights("onet")),
        ]
    if name == "facenet":
        weights = og.facenet_keras_weights(require_weights(name, models_dir))
        return [og.build_inception_resnet_v1(weights, 128, "facenet")]
    if name == "facenet512":
        from facecore.onnx_tf_weights import facenet512_weights

        weights = facenet512_weights(require_weights(name, models_dir))
        return [og.build_inception_resnet_v1(weights, 512, "facenet512")]
    raise KeyError(name)


# --- cache -------------------------------------------------------------------------------------


def _write_atomic(dest: Path, data: bytes) -> None:
    fd, tmp_name = tempfile.mkstemp(dir=dest.parent, prefix=f".{dest.name}.", suffix=".part")
    tmp = Path(tmp_name)
    try:
        with os.fdopen(fd, "wb") as out:
            out.write(data)
            out.flush()
            os.fsync(out.fileno())
        os.chmod(tmp, 0o644)
        os.replace(tmp, dest)
    finally:
        tmp.unlink(missing_ok=True)


def read_manifest(name: str, models_dir: Path | str) -> dict | None:
    try:
        return json.loads(manifest_path(name, models_dir).read_text())
    except (OSError, ValueError):
        return None


def converted(name: str, models_dir: Path | str, check_hashes: bool = True) -> bool:
    """Are ``name``'s ONNX files present, current and (with ``check_hashes``) intact?"""
    manifest = read_manifest(name, models_dir)
    if not manifest or manifest.get("converter") != CONVERTER_VERSION:
        return False
    if manifest.get("sources") != _pinned_sources(name, models_dir):
        return False
    outputs = manifest.get("outputs", {})
    for path in onnx_paths(name, models_dir):
        expected = outputs.get(path.name)
        if not expected or not path.is_file():
            return False
        if check_hashes and sha256_of(path) != expected:
            log.warning("%s: %s does not match its manifest's sha256", name, path)
            return False
    return True


def convert(name: str, models_dir: Path | str) -> list[Path]:
    """Convert ``name`` from its (verified) source weights into ``models_dir/onnx``; return the files."""
    if name not in ONNX_MODELS:
        raise KeyError(f"{name} has no ONNX form; known: {', '.join(ONNX_MODELS)}")
    try:
        import onnx  # noqa: F401
    except ImportError as exc:
        raise ConversionError(f"converting {name} needs the onnx package: {exc}") from exc
    sources = _verify_sources(name, models_dir)
    models = _build(name, models_dir)
    folder = onnx_dir(models_dir)
    folder.mkdir(parents=True, exist_ok=True)
    outputs = {}
    for path, model in zip(onnx_paths(name, models_dir), models, strict=True):
        data = model.SerializeToString(deterministic=True)
        _write_atomic(path, data)
        outputs[path.name] = hashlib.sha256(data).hexdigest()
    manifest = {"converter": CONVERTER_VERSION, "sources": sources, "outputs": outputs}
    _write_atomic(manifest_path(name, models_dir), (json.dumps(manifest, indent=2) + "\n").encode())
    log.info("%s: converted to ONNX in %s", name, folder)
    return onnx_paths(name, models_dir)


def ensure_converted(name: str, models_dir: Path | str) -> list[Path]:
    """``name``'s verified ONNX files, converting them first when missing or stale."""
    if converted(name, models_dir):
        return onnx_paths(name, models_dir)
    return convert(name, models_dir)


def use_onnx(runtime: str, name: str, models_dir: Path | str) -> tuple[str, list[Path]] | None:
    """(executor, ONNX files) to run ``name`` (``mtcnn``, ``facenet``, ``facenet512``) with, or
    None for TensorFlow.

    Converts on first use when the files are missing. With ``auto`` a failure is logged and
    TensorFlow is used; with any other ONNX runtime it raises.
    """
    from facecore.runtime import RUNTIME_CHOICES, executor_for

    if runtime not in RUNTIME_CHOICES:
        raise ValueError(f"runtime {runtime!r}; expected one of {', '.join(RUNTIME_CHOICES)}")
    if runtime == "tensorflow" or name not in ONNX_MODELS:
        return None
    try:
        executor = executor_for(runtime)
        return executor, ensure_converted(name, models_dir)
    except ModelUnavailableError:
        raise  # the weights themselves are missing: TensorFlow could not load them either
    except Exception as exc:
        if runtime != "auto":
            raise
        log.warning("%s: ONNX runtimes unavailable (%s); using TensorFlow", name, exc)
        return None
