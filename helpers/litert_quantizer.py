"""Keras 3 -> LiteRT export and LiteRT's own quantizer (ai-edge-quantizer), without the log noise.

`export_litert` writes a Keras 3 model with `model.export(..., format="litert")` at a fixed batch
size; `quantize` applies an ai-edge-quantizer recipe (`ai_edge_quantizer.recipe.*`) to the
exported `.tflite`, calibrating on images when the recipe quantizes activations; `weight_tensors`
and `io_types` read back what the file stores. The libraries print progress bars, reports and
native log lines; these functions keep them out of the notebook while errors still raise.
"""

from __future__ import annotations

import contextlib
import io
import logging
import math
import os
import sys
import warnings
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from helpers._validate import integer, path_with_suffix, positive_int
from helpers.deploy import TFLiteModel, make_interpreter, read_tflite
from helpers.quiet import native_stderr
from helpers.training import as_float

if TYPE_CHECKING:
    import keras


@contextlib.contextmanager
def quiet() -> Iterator[None]:
    """Hide what the export and quantizer libraries print (Python and native), keep exceptions."""
    loggers = [logging.getLogger(name) for name in ("", "absl", "tensorflow")]
    levels = [logger.level for logger in loggers]
    sink = io.StringIO()
    try:
        for logger in loggers:
            logger.setLevel(logging.ERROR)
        with native_stderr(), contextlib.redirect_stdout(sink), \
                contextlib.redirect_stderr(sink), warnings.catch_warnings():
            warnings.simplefilter("ignore")
            yield
    except BaseException:
        sys.stderr.write(sink.getvalue())  # what the libraries said helps explain the error
        raise
    finally:
        for logger, level in zip(loggers, levels, strict=True):
            logger.setLevel(level)


def export_litert(model: keras.Model, path: str | os.PathLike, batch_size: int = 1) -> Path:
    """Export a Keras 3 model to `path` (.tflite) with `model.export(format="litert")`.

    The input signature gets a fixed batch size (default 1, what a device runs), which also
    spares the file the shape-computing operators a dynamic batch axis needs.

    Taught in notebook 06, §4.
    """
    import keras

    if not isinstance(model, keras.Model):
        raise TypeError(f"model must be a Keras 3 model (`import keras`), got "
                        f"{type(model).__module__}.{type(model).__name__}")
    batch_size = positive_int("batch_size", batch_size)
    path = path_with_suffix("path", path, ".tflite")
    path.parent.mkdir(parents=True, exist_ok=True)
    spec = keras.InputSpec(shape=(batch_size, *model.inputs[0].shape[1:]),
                           dtype=model.inputs[0].dtype)
    with quiet():
        model.export(str(path), format="litert", verbose=False, input_signature=[spec])
    return path


def signature_input(model: TFLiteModel) -> tuple[str, str]:
    """(signature key, input name) of a single-input .tflite model: what calibration data needs."""
    with quiet():
        signatures = make_interpreter(model).get_signature_list()
    if not signatures:
        raise ValueError("model has no signature (tflite_anatomy.strip_names removes them with "
                         "the names): quantize or calibrate the file before stripping it")
    if len(signatures) != 1:
        raise ValueError(f"model must have exactly one signature, got {sorted(signatures)}")
    key, signature = next(iter(signatures.items()))
    if len(signature["inputs"]) != 1:
        raise ValueError(f"model must have exactly one input, got {signature['inputs']}")
    return key, signature["inputs"][0]


def calibration_data(model: TFLiteModel, images: np.ndarray) -> dict:
    """ai-edge-quantizer's calibration format: {signature: [{input name: one image batch}, ...]}."""
    images = as_float(images)
    if images.ndim < 2 or len(images) == 0:
        raise ValueError(f"images must be a non-empty batch of images, got shape {images.shape}")
    key, name = signature_input(model)
    return {key: [{name: images[i : i + 1]} for i in range(len(images))]}


def quantize(model: TFLiteModel, recipe, calibration_images: np.ndarray | None = None) -> bytes:
    """Apply an ai-edge-quantizer `recipe` to a float .tflite (bytes or path); return the bytes.

    Recipes that quantize activations (static a8w8, a16w8) need `calibration_images`: a few
    hundred *training* images; the others ignore them.

    Taught in notebook 06, §5 (5.1).
    """
    from ai_edge_quantizer import quantizer

    data = read_tflite(model)
    if not isinstance(recipe, list) or not recipe or not all(isinstance(r, dict) for r in recipe):
        raise TypeError("recipe must be an ai-edge-quantizer recipe (a non-empty list of dicts, "
                        f"e.g. ai_edge_quantizer.recipe.static_wi8_ai8()), got {recipe!r:.80}")
    with quiet():
        engine = quantizer.Quantizer(bytearray(data), recipe)
        calibration = None
        if engine.need_calibration:
            if calibration_images is None or len(calibration_images) == 0:
                raise ValueError("this recipe quantizes activations, so it needs "
                                 "calibration_images (a few hundred training images)")
            calibration = engine.calibrate(calibration_data(data, calibration_images))
        result = engine.quantize(calibration, enable_progress_report=False)
    return bytes(result.quantized_model)


def weight_tensors(model: TFLiteModel, min_elements: int = 16) -> list[dict]:
    """The constant tensors (weights, biases, ...) of a .tflite: "name" ("" once names are
    stripped), "part" (see `tflite_anatomy.constant_tensors`), stored "type", "shape", "bytes",
    and "zeros", the fraction of stored values that are exactly zero (what gzip feeds on).

    Only tensors with at least `min_elements` values are listed (skips shape constants). The
    type is the one in the file, in lower case, e.g. "int4" for two weights packed per byte.

    Taught in notebook 06, §5 (5.1).
    """
    from helpers.tflite_anatomy import tensor_values

    min_elements = integer("min_elements", min_elements, low=0)
    return [{"name": row["name"], "part": row["part"], "type": row["type"].lower(),
             "shape": row["shape"], "bytes": row["bytes"],
             "zeros": None if row["values"] is None else float(np.mean(row["values"] == 0))}
            for row in tensor_values(model) if math.prod(row["shape"]) >= min_elements]


def io_types(model: TFLiteModel) -> tuple[str, str]:
    """NumPy dtype names of the model's (first) input and output, e.g. ("int8", "int8")."""
    with quiet():
        interpreter = make_interpreter(model)
    return (np.dtype(interpreter.get_input_details()[0]["dtype"]).name,
            np.dtype(interpreter.get_output_details()[0]["dtype"]).name)


def cpu_name() -> str:
    """The machine that times a latency, in a line: the CPU's model name (from /proc/cpuinfo on
    Linux, else `platform`) and how many logical CPUs it has. Print it with every latency table:
    microseconds from two machines are not comparable.

    Taught in notebook 06, §6.
    """
    import platform

    name = ""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            key, _, value = line.partition(":")
            if key.strip() in ("model name", "Model", "Hardware") and value.strip():
                name = value.strip()
                break
    except OSError:
        pass
    return f"{name or platform.processor() or platform.machine() or 'unknown CPU'}, " \
           f"{os.cpu_count()} logical CPUs"


def matching_model(path: str | os.PathLike, row: dict) -> Path | None:
    """`path` if it is the very file a stage-table `row` describes (its "bytes" and
    "gzipped_bytes" match), else None: a missing file, or one rebuilt by another run, must not be
    timed and paired with that row's accuracy.

    Taught in notebook 06, §6.
    """
    from helpers.metrics import file_size, gzipped_size

    if not isinstance(row, dict) or not {"bytes", "gzipped_bytes"} <= set(row):
        raise ValueError(f"row must be a stage-table dict with 'bytes' and 'gzipped_bytes', got {row!r:.80}")
    path = Path(path)
    if not path.is_file():
        return None
    return path if (file_size(path), gzipped_size(path)) == (row["bytes"], row["gzipped_bytes"]) else None
