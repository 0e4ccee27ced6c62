"""Which inference runtime runs the networks: ONNX files on OpenVINO or ONNX Runtime, or TensorFlow.

``EngineSettings.runtime`` (``FACECORE_RUNTIME``):

* ``auto`` (default): the ONNX files (MTCNN, facenet, facenet512; made from the pinned weights by
  ``facecore.onnx_models``) on the best executor available, as ``onnx`` below, when they are
  present or can be made; TensorFlow otherwise, with a warning;
* ``onnx``: the ONNX files on ONNX Runtime's CUDA provider when the installed onnxruntime has it
  and a GPU answers, else on OpenVINO (the fastest on CPUs: it fuses MTCNN's small convolutions
  and PReLUs, 2-4x ONNX Runtime's CPU provider on PNet), else on ONNX Runtime's CPU provider;
  an error when none can run them;
* ``openvino`` / ``onnxruntime``: the ONNX files on that executor only;
* ``tensorflow``: the TensorFlow models (the reference), as before.

On the ONNX runtimes nothing imports TensorFlow. ``FACECORE_INFERENCE_THREADS`` (> 0) caps the
threads each network uses (default: the executor's own, one per core).
"""

from __future__ import annotations

import importlib.util
import logging
import os
import threading
from pathlib import Path

import numpy as np

log = logging.getLogger(__name__)

RUNTIME_CHOICES = ("auto", "onnx", "openvino", "onnxruntime", "tensorflow")
OPENVINO_SHAPE_CACHE = 64
EXECUTORS = ("openvino", "onnxruntime")


def installed(module: str) -> bool:
    return importlib.util.find_spec(module) is not None


def inference_threads() -> int:
    value = os.environ.get("FACECORE_INFERENCE_THREADS", "").strip()
    return int(value) if value else 0


def cuda_available() -> bool:
    """ONNX Runtime has the CUDA provider and a GPU answers (checked once per process)."""
    global _cuda
    if _cuda is None:
        _cuda = gpu_answers() and installed("onnxruntime") and _onnxruntime_has_cuda()
    return _cuda


def gpu_answers() -> bool:
    """The CUDA driver loads and sees a GPU. Asked before importing onnxruntime, so a worker on a
    CPU-only machine never loads it (~30 MB resident it would not use)."""
    try:
        import ctypes

        cuda = ctypes.CDLL("libcuda.so.1")
        count = ctypes.c_int(0)
        return cuda.cuInit(0) == 0 and cuda.cuDeviceGetCount(ctypes.byref(count)) == 0 and count.value > 0
    except (OSError, AttributeError):
        return False


def _onnxruntime_has_cuda() -> bool:
    import onnxruntime as ort

    return "CUDAExecutionProvider" in ort.get_available_providers()


_cuda: bool | None = None


def executor_for(runtime: str) -> str:
    """The executor (``openvino`` or ``onnxruntime``) that runs the ONNX files for ``runtime``."""
    if runtime in EXECUTORS:
        if not installed(runtime):
            raise ModuleNotFoundError(f"FACECORE_RUNTIME={runtime} but {runtime} is not installed")
        return runtime
    if cuda_available():
        return "onnxruntime"
    if installed("openvino"):
        return "openvino"
    if installed("onnxruntime"):
        return "onnxruntime"
    raise ModuleNotFoundError("neither openvino nor onnxruntime is installed")


class Net:
    """One ONNX network on an executor: ``run({input: array}) -> [outputs]`` (fresh arrays)."""

    def __init__(self, path: Path | str, executor: str, threads: int | None = None) -> None:
        self.path = Path(path)
        self.executor = executor
        threads = inference_threads() if threads is None else threads
        self._lock = threading.Lock()
        if executor == "openvino":
            import openvino as ov

            config: dict = {
                "INFERENCE_PRECISION_HINT": "f32",
                "PERFORMANCE_HINT": "LATENCY",
                # Kernels and buffers cached per input shape (LRU). Without it each call pays its
                # set-up (+30% CPU on a camera's repeated image size); with the default (5000) a
                # worker grew by ~350 MB over 64 photos of different sizes (a shape per pyramid
                # level per size). 64 holds PNet's padded level shapes (pnet_padding: 40 over
                # the 64 shared photos) and the four RNet/ONet batch sizes (onnx_mtcnn).
                "CPU_RUNTIME_CACHE_CAPACITY": OPENVINO_SHAPE_CACHE,
            }
            if threads > 0:
                config["INFERENCE_NUM_THREADS"] = threads
            core = ov.Core()
            self._compiled = core.compile_model(core.read_model(str(self.path)), "CPU", config)
            self._request = self._compiled.create_infer_request()
            self._outputs = list(self._compiled.outputs)
            self.device = "CPU (OpenVINO)"
        elif executor == "onnxruntime":
            import onnxruntime as ort

            options = ort.SessionOptions()
            options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
            options.log_severity_level = 3  # no shape-merge chatter on dynamic inputs
            if threads > 0:
                options.intra_op_num_threads = threads
            providers = ["CPUExecutionProvider"]
            if cuda_available():
                providers.insert(0, "CUDAExecutionProvider")
            self._session = ort.InferenceSession(str(self.path), sess_options=options, providers=providers)
            used = self._session.get_providers()[0]
            self.device = (
                "GPU (ONNX Runtime CUDA)" if used == "CUDAExecutionProvider" else "CPU (ONNX Runtime)"
            )
        else:
            raise ValueError(f"executor {executor!r}; expected one of {', '.join(EXECUTORS)}")

    def run(self, feeds: dict[str, np.ndarray]) -> list[np.ndarray]:
        if self.executor == "onnxruntime":
            return self._session.run(None, feeds)
        with self._lock:  # an infer request is not thread-safe, and its output buffers are reused
            # Inputs are read in place (no copy into the request's tensors: 2 ms an image for
            # PNet's levels); outputs are copied once, out of buffers the next call reuses.
            result = self._request.infer(feeds, share_inputs=True, share_outputs=True)
            return [np.array(result[output]) for output in self._outputs]


def release_memory() -> None:
    """Hand freed heap memory back to the OS (glibc's ``malloc_trim``; a no-op elsewhere).

    Each image leaves buffers of its own sizes (decode, pyramid, crops) in the allocator's free
    lists; without this a worker's resident size creeps up by the largest of them (measured:
    +130 MB over 64 photos). Costs about 2 ms; workers call it after each job.
    """
    global _trim
    if _trim is None:
        try:
            import ctypes

            _trim = ctypes.CDLL("libc.so.6").malloc_trim
        except (OSError, AttributeError):
            _trim = False
    if _trim:
        _trim(0)


_trim = None
