"""Running a .tflite model where a microcontroller runs it: TensorFlow Lite for Microcontrollers
(TFLM), through its own Python interpreter (the `tflite-micro` package, the same C++ kernels and
arena allocator a firmware links, built for this machine). It reports the tensor arena a model
really needs, which operators a firmware must register, and why a file cannot run.

`tflite-micro` publishes wheels for Linux x86-64 only (Colab included); elsewhere `AVAILABLE` is
False and `MISSING` says why.

Taught in notebook 05, §2.
"""

from __future__ import annotations

import contextlib
import os
import re
import sys
import tempfile

import numpy as np

from helpers._validate import positive_int
from helpers.deploy import TFLiteModel, classify_each, read_tflite

try:
    from tflite_micro import runtime as _runtime
except ImportError as error:  # no wheel for this platform, or not installed
    _runtime = None
    MISSING = (f"tflite-micro is not installed ({error}); it has wheels for Linux x86-64 only: "
               "pip install tflite-micro there, or run this notebook on Colab")
else:
    MISSING = ""
AVAILABLE = _runtime is not None

# Room for any model of the course while measuring; a firmware then reserves exactly arena_bytes().
MEASURING_ARENA_BYTES = 16 * 2**20
_ARENA_LINE = re.compile(r"Arena allocation (total|head|tail) (\d+) bytes")
_PART_LINE = re.compile(r"'([^']+)' used (\d+) bytes")


class MicroError(RuntimeError):
    """TFLM refused a model; the message carries TFLM's own log lines (why it refused)."""


def _require() -> None:
    if not AVAILABLE:
        raise ModuleNotFoundError(MISSING)


@contextlib.contextmanager
def _native_log():
    """Collect what TFLM's C++ code writes to file descriptor 2 into the yielded list of lines."""
    lines: list[str] = []
    sys.stderr.flush()
    saved = os.dup(2)
    with tempfile.TemporaryFile(mode="w+b") as caught:
        os.dup2(caught.fileno(), 2)
        try:
            yield lines
        finally:
            os.dup2(saved, 2)
            os.close(saved)
            caught.seek(0)
            lines += [line.strip() for line in caught.read().decode("utf-8", "replace").splitlines()
                      if line.strip()]


def interpreter(model: TFLiteModel, arena_bytes: int = MEASURING_ARENA_BYTES):
    """Return a TFLM interpreter for `model` (bytes or path) with its tensors allocated in an arena of
    `arena_bytes`; raise MicroError with TFLM's reason when it cannot (unsupported operator or
    type, arena too small)."""
    _require()
    data = read_tflite(model)
    arena_bytes = positive_int("arena_bytes", arena_bytes)
    with _native_log() as log:
        try:
            return _runtime.Interpreter.from_bytes(data, arena_size=arena_bytes)
        except RuntimeError as error:
            failure = error
    raise MicroError(f"{failure}: {' | '.join(log)}" if log else str(failure)) from None


def _input_detail(micro_interpreter) -> dict:
    """TFLM's input details in LiteRT's form (dtype, shape, (scale, zero point)) for prepare_input."""
    detail = micro_interpreter.get_input_details(0)
    q = detail["quantization_parameters"]
    scale = float(q["scales"][0]) if len(q["scales"]) else 0.0
    zero_point = int(q["zero_points"][0]) if len(q["zero_points"]) else 0
    return {"dtype": detail["dtype"], "shape": detail["shape"], "quantization": (scale, zero_point)}


def arena_bytes(model: TFLiteModel) -> dict[str, int]:
    """The tensor arena TFLM uses for `model`, as its recording allocator reports after one
    inference: {"total", "planned", "persistent", and one entry per itemized persistent part}.

    "planned" (the arena's head) holds the non-persistent buffers that TFLM's memory planner
    overlaps by lifetime: activations and kernels' scratch buffers. "persistent" (the tail) lives
    as long as the interpreter: per-tensor and per-operator structures and the kernels' own data
    (for an int8 convolution, a multiplier and a shift per output channel)."""
    micro = interpreter(model)
    detail = _input_detail(micro)
    micro.set_input(np.zeros(detail["shape"], detail["dtype"]), 0)
    micro.invoke()
    with _native_log() as log:
        micro.print_allocations()
    sections = {name: int(n) for line in log for name, n in _ARENA_LINE.findall(line)}
    if set(sections) != {"total", "head", "tail"}:
        raise MicroError(f"TFLM did not report its arena: {' | '.join(log) or 'no output'}")
    parts = {name: int(n) for line in log for name, n in _PART_LINE.findall(line)}
    return {"total": sections["total"], "planned": sections["head"], "persistent": sections["tail"],
            **parts}


def predict(model: TFLiteModel, images: np.ndarray, arena: int = MEASURING_ARENA_BYTES) -> np.ndarray:
    """Return TFLM's predicted class for every image (N, H, W), one image at a time, quantizing the
    input like LiteRT's path does (deploy.prepare_input), in an arena of `arena` bytes."""
    micro = interpreter(model, arena)

    def run(x: np.ndarray) -> np.ndarray:
        micro.set_input(x, 0)
        micro.invoke()
        return micro.get_output(0)[0]

    return classify_each(images, _input_detail(micro), run)


def resolver_method(operator: str) -> str:
    """The MicroMutableOpResolver method that registers a builtin operator, e.g. CONV_2D ->
    AddConv2D (the rule of TFLM's generate_micro_mutable_op_resolver_from_model)."""
    if not isinstance(operator, str) or not re.fullmatch(r"[A-Z][A-Z0-9_]*", operator):
        raise ValueError(f"operator must be a builtin operator name like 'CONV_2D', got {operator!r}")
    return "Add" + "".join(part[0] + part[1:].lower() if part[0].isalpha() else part
                           for part in operator.split("_") if part)


def op_resolver(model: TFLiteModel) -> list[str]:
    """The MicroMutableOpResolver methods a firmware calls to register `model`'s operators: one per
    distinct operator of the file (read by LiteRT's flatbuffer reader), sorted."""
    from helpers.tflite_anatomy import operator_names

    return [resolver_method(op) for op in sorted(set(operator_names(model)))]
