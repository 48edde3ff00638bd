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
import os
import sys
import warnings
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

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
    """
    import keras

    if not isinstance(model, keras.Model):
        raise TypeError(f"model must be a Keras 3 model (`import keras`), got "
                        f"{type(model).__module__}.{type(model).__name__}")
    if isinstance(batch_size, bool) or not isinstance(batch_size, int) or batch_size < 1:
        raise ValueError(f"batch_size must be a positive int, got {batch_size!r}")
    path = Path(path)
    if path.suffix != ".tflite":
        raise ValueError(f"path must end in .tflite, got {str(path)!r}")
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


def _type_names() -> dict[int, str]:
    """LiteRT's tensor type codes -> lower-case names ("int8", "int4", "float32", ...)."""
    from tensorflow.lite.python import schema_py_generated as schema

    return {v: k.lower() for k, v in vars(schema.TensorType).items() if not k.startswith("_")}


def weight_tensors(model: TFLiteModel, min_elements: int = 16) -> list[dict]:
    """The constant tensors (weights, biases) of a .tflite: name, stored type, shape, bytes, and
    the fraction of stored values that are exactly zero (what gzip feeds on).

    Only tensors with at least `min_elements` values are listed (skips shape constants). The
    type is the one in the file, e.g. "int4" for two weights packed per byte.
    """
    from tensorflow.lite.tools import flatbuffer_utils

    names = _type_names()
    flat = flatbuffer_utils.convert_bytearray_to_object(bytearray(read_tflite(model)))
    rows = []
    for tensor in flat.subgraphs[0].tensors:
        data = flat.buffers[tensor.buffer].data
        shape = tuple(int(d) for d in (tensor.shape if tensor.shape is not None else ()))
        if data is None or int(np.prod(shape)) < min_elements:
            continue
        kind = names[tensor.type]
        values = _stored_values(bytes(bytearray(data)), kind, int(np.prod(shape)))
        rows.append({"name": tensor.name.decode(), "type": kind, "shape": shape,
                     "bytes": len(data),
                     "zeros": None if values is None else float(np.mean(values == 0))})
    return rows


def _stored_values(data: bytes, kind: str, size: int) -> np.ndarray | None:
    """The numbers a weight buffer stores (int4: two signed 4-bit codes per byte, low first)."""
    if kind == "int4":
        packed = np.frombuffer(data, dtype=np.uint8)
        nibbles = np.stack([packed & 0x0F, packed >> 4], axis=1).ravel()[:size].astype(np.int8)
        return np.where(nibbles > 7, nibbles - 16, nibbles)
    dtypes = {"int8": np.int8, "int16": np.int16, "int32": np.int32, "float32": np.float32,
              "float16": np.float16}
    return np.frombuffer(data, dtype=dtypes[kind]) if kind in dtypes else None


def io_types(model: TFLiteModel) -> tuple[str, str]:
    """NumPy dtype names of the model's (first) input and output, e.g. ("int8", "int8")."""
    with quiet():
        interpreter = make_interpreter(model)
    return (np.dtype(interpreter.get_input_details()[0]["dtype"]).name,
            np.dtype(interpreter.get_output_details()[0]["dtype"]).name)
