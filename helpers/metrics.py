"""What the course measures: parameters, sparsity, bytes on disk (raw and gzipped), accuracy, latency."""

from __future__ import annotations

import gzip
import json
import os
import time
import warnings
from pathlib import Path

import numpy as np

from helpers._validate import integer, path_with_suffix, positive_int
from helpers.deploy import TFLiteModel, make_interpreter, prepare_input, tflite_predict
from helpers.training import as_float


def _require_model(model) -> None:
    if not (hasattr(model, "weights") and hasattr(model, "count_params")):
        raise TypeError(f"model must be a Keras model, got {type(model).__name__}")


def count_params(model) -> int:
    """Total number of parameters (weights and biases) in a Keras model."""
    _require_model(model)
    return int(sum(np.prod(w.shape) for w in model.trainable_weights + _frozen(model)))


def layer_multiply_adds(layer, nonzero_only: bool = False) -> int:
    """Multiply-adds of one input (batch of 1) through a built Keras layer: Dense, Conv2D and
    DepthwiseConv2D multiply each kernel weight once per output position (a bias adds, it does
    not multiply); layers without weights and BatchNormalization (folded into the convolution
    before it when exported) count 0; a nested model counts its layers. Any other layer with
    weights raises a ValueError. With `nonzero_only`, only nonzero kernel weights count: the work
    left if every zero were skipped (notebook 02, §9).

    Taught in notebook 01, §4.
    """
    from helpers import keras

    layers = keras.layers
    if isinstance(layer, keras.Model):
        return multiply_adds(layer, nonzero_only)
    if isinstance(layer, layers.DepthwiseConv2D):
        kernel = layer.depthwise_kernel
    elif isinstance(layer, layers.Dense | layers.Conv2D) and not isinstance(layer, layers.Conv2DTranspose):
        kernel = layer.kernel
    elif not layer.weights or isinstance(layer, layers.BatchNormalization):
        return 0
    else:
        raise ValueError(f"layer {layer.name!r} is a {type(layer).__name__}; multiply-adds are counted for "
                         "Dense, Conv2D and DepthwiseConv2D layers (and layers without weights)")
    positions = int(np.prod(layer.output_shape[1:-1]))  # every axis but the batch and the channels
    weights = int(np.count_nonzero(kernel.numpy())) if nonzero_only else int(np.prod(kernel.shape))
    return positions * weights


def multiply_adds(model, nonzero_only: bool = False) -> int:
    """Multiply-adds of one input through a Keras model: `layer_multiply_adds` summed over its layers."""
    _require_model(model)
    return sum(layer_multiply_adds(layer, nonzero_only) for layer in model.layers)


def _frozen(model) -> list:
    """Non-trainable weights that are real parameters (BatchNorm statistics), not pruning masks."""
    skip = ("mask", "threshold", "pruning_step", "optimizer_step", "cluster", "_min", "_max")
    return [w for w in model.non_trainable_weights if not any(s in w.name for s in skip)]


def sparsity_table(model) -> list[dict]:
    """One row per parameter tensor: name, shape, size, nonzero count and sparsity (fraction of zeros)."""
    _require_model(model)
    rows = []
    for weight in model.trainable_weights + _frozen(model):
        values = np.asarray(weight.numpy())
        nonzero = int(np.count_nonzero(values))
        rows.append({
            "name": weight.name,
            "shape": tuple(values.shape),
            "size": int(values.size),
            "nonzero": nonzero,
            "sparsity": (values.size - nonzero) / values.size if values.size else 0.0,
        })
    return rows


def total_sparsity(model) -> float:
    """Fraction of all parameters of `model` that are exactly zero."""
    rows = sparsity_table(model)
    size = sum(r["size"] for r in rows)
    return (size - sum(r["nonzero"] for r in rows)) / size if size else 0.0


def save_keras_model(model, path: str | os.PathLike) -> Path:
    """Save a Keras model as HDF5 without optimizer state (as TFMOT's tutorials do); return path.

    Taught in notebook 01, §6.
    """
    _require_model(model)
    from helpers import keras

    path = path_with_suffix("path", path, ".h5")
    path.parent.mkdir(parents=True, exist_ok=True)
    with warnings.catch_warnings():  # HDF5 is "legacy" but is what TFMOT's tutorials measure
        warnings.simplefilter("ignore", UserWarning)
        keras.models.save_model(model, path, include_optimizer=False)
    return path


def _read_bytes(path: str | os.PathLike | bytes) -> bytes:
    if isinstance(path, bytes | bytearray):
        return bytes(path)
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"no such file: {path}")
    return path.read_bytes()


def file_size(path: str | os.PathLike | bytes) -> int:
    """Bytes on disk of the file at `path` (or the length of `bytes` given directly).

    Taught in notebook 01, §6.
    """
    return len(_read_bytes(path))


def gzipped_size(path: str | os.PathLike | bytes) -> int:
    """Bytes of the file at `path` (or of `bytes`) after `gzip.compress(data, 9)`: what a
    download would cost.

    Taught in notebook 01, §6.
    """
    return len(gzip.compress(_read_bytes(path), 9))


def keras_accuracy(model, images: np.ndarray, labels: np.ndarray) -> float:
    """Fraction of `images` a Keras model classifies correctly (argmax of its outputs)."""
    _require_model(model)
    _validate_labels(images, labels)
    predictions = np.argmax(model.predict(as_float(images), batch_size=1024, verbose=0), axis=1)
    return float(np.mean(predictions == np.asarray(labels)))


def tflite_accuracy(model: TFLiteModel, images: np.ndarray, labels: np.ndarray) -> float:
    """Fraction of `images` a .tflite model (bytes or path) classifies correctly, run with LiteRT."""
    _validate_labels(images, labels)
    return float(np.mean(tflite_predict(model, images) == np.asarray(labels)))


def _validate_labels(images: np.ndarray, labels: np.ndarray) -> None:
    if len(images) == 0 or len(images) != len(labels):
        raise ValueError(f"need as many labels as images (and at least one), got {len(images)} "
                         f"images and {len(labels)} labels")


def supports_batch(model: TFLiteModel) -> bool:
    """Whether a .tflite model accepts any batch size (its input's batch axis is not fixed)."""
    detail = make_interpreter(model).get_input_details()[0]
    return int(detail["shape_signature"][0]) == -1


def litert_latency(
    model: TFLiteModel,
    sample: np.ndarray | None = None,
    runs: int = 200,
    warmup: int = 20,
    num_threads: int = 1,
) -> dict:
    """Time `interpreter.invoke()` with LiteRT: `warmup` untimed runs, then `runs` timed ones.

    `sample` is one input batch of the model's input shape without the batch axis, or with a
    batch axis of any size (batch size = its length); by default one zero image. Returns
    median, p90 and mean in microseconds per invoke, with the batch size and thread count.

    Taught in notebook 05, §1.
    """
    runs = positive_int("runs", runs)
    warmup = integer("warmup", warmup, low=0)
    interpreter = make_interpreter(model, num_threads)
    detail = interpreter.get_input_details()[0]
    item_shape = tuple(detail["shape"][1:])
    if sample is None:
        sample = np.zeros((1, *item_shape), dtype=np.float32)
    sample = np.asarray(sample)
    if sample.shape == item_shape:
        sample = sample[None, ...]
    if sample.shape[1:] != item_shape:
        raise ValueError(f"sample must have shape {item_shape} or (batch, {', '.join(map(str, item_shape))}), "
                         f"got {sample.shape}")
    if sample.shape[0] != detail["shape"][0]:
        if detail["shape_signature"][0] != -1:
            raise ValueError(f"this model's batch size is fixed at {detail['shape'][0]} (exported for "
                             f"a device), so it cannot time a batch of {sample.shape[0]}; use "
                             f"supports_batch(model) to check first")
        interpreter.resize_tensor_input(detail["index"], sample.shape)
        interpreter.allocate_tensors()
    x = prepare_input(sample, detail)
    interpreter.set_tensor(detail["index"], x)
    for _ in range(warmup):
        interpreter.invoke()
    times = np.empty(runs)
    for i in range(runs):
        start = time.perf_counter_ns()
        interpreter.invoke()
        times[i] = (time.perf_counter_ns() - start) / 1000.0
    return {
        "median_us": float(np.median(times)),
        "p90_us": float(np.percentile(times, 90)),
        "mean_us": float(times.mean()),
        "runs": runs,
        "batch_size": int(sample.shape[0]),
        "num_threads": num_threads,
    }


def read_summary(notebook: str = "04_mnist_project", *, outputs: str | os.PathLike | None = None,
                 results: str | os.PathLike | None = None) -> tuple[dict, Path]:
    """A notebook's stage table (its summary.json) and the file it came from: the notebook's own
    run in `outputs` (default helpers.OUTPUT_DIR/<notebook>/summary.json) unless that was a
    COURSE_QUICK run, else the committed copy in `results` (default
    benchmarks/results/NN_summary.json), else the quick run. So a notebook that quotes another's
    results runs alone in a fresh clone, as on Colab. FileNotFoundError names both places.

    Taught in notebook 01, §6.
    """
    import helpers

    if not isinstance(notebook, str) or len(notebook) < 3 or not notebook[:2].isdigit() or "/" in notebook:
        raise ValueError(f"notebook must be a notebook folder name like '04_mnist_project', got {notebook!r}")
    sources = [Path(outputs or helpers.OUTPUT_DIR) / notebook / "summary.json",
               Path(results or helpers.ROOT / "benchmarks" / "results") / f"{notebook[:2]}_summary.json"]
    found = [(path, json.loads(path.read_text())) for path in sources if path.is_file()]
    if not found:
        raise FileNotFoundError(f"no summary of {notebook}: neither {sources[0]} nor {sources[1]} exists "
                                f"(run notebooks/{notebook}.ipynb to write the first)")
    path, summary = next(((p, s) for p, s in found if not s.get("quick_run")), found[0])
    return summary, path
