"""The prune -> pruning-preserving QAT pipeline with TFMOT, one small step per function."""

from __future__ import annotations

import math
import os
from pathlib import Path

from helpers import keras
from helpers.metrics import file_size, gzipped_size

PRUNABLE_LAYERS = (keras.layers.Conv2D, keras.layers.Dense)


def _tfmot():
    import tensorflow_model_optimization as tfmot

    return tfmot


def _check_model(model) -> None:
    if not isinstance(model, keras.Model):
        raise TypeError(f"model must be a tf_keras Model (build it with helpers.keras), "
                        f"got {type(model).__name__}")


def steps_per_epoch(n_examples: int, batch_size: int, validation_split: float = 0.0) -> int:
    """Optimizer steps in one epoch of `model.fit` (Keras keeps the first 1 - split of the data)."""
    for name, value in (("n_examples", n_examples), ("batch_size", batch_size)):
        if isinstance(value, bool) or not isinstance(value, int) or value <= 0:
            raise ValueError(f"{name} must be a positive int, got {value!r}")
    if not 0.0 <= validation_split < 1.0:
        raise ValueError(f"validation_split must be in [0, 1), got {validation_split!r}")
    return math.ceil(int(n_examples * (1.0 - validation_split)) / batch_size)


def polynomial_schedule(final_sparsity: float, end_step: int, initial_sparsity: float = 0.0,
                        begin_step: int = 0, frequency: int = 100):
    """TFMOT's PolynomialDecay: sparsity grows from initial to final between begin and end step."""
    if not 0.0 < final_sparsity < 1.0:
        raise ValueError(f"final_sparsity must be in (0, 1), got {final_sparsity!r}")
    if not 0.0 <= initial_sparsity <= final_sparsity:
        raise ValueError(f"initial_sparsity must be in [0, final_sparsity={final_sparsity}], "
                         f"got {initial_sparsity!r}")
    for name, value in (("begin_step", begin_step), ("frequency", frequency)):
        if isinstance(value, bool) or not isinstance(value, int) or value < (name == "frequency"):
            raise ValueError(f"{name} must be an int >= {int(name == 'frequency')}, got {value!r}")
    if isinstance(end_step, bool) or not isinstance(end_step, int) or end_step <= begin_step:
        raise ValueError(f"end_step must be an int > begin_step={begin_step}, got {end_step!r}")
    return _tfmot().sparsity.keras.PolynomialDecay(
        initial_sparsity=initial_sparsity, final_sparsity=final_sparsity,
        begin_step=begin_step, end_step=end_step, frequency=frequency)


def prune_model(model, schedule, skip: tuple[str, ...] | list[str] = (),
                per_layer: dict | None = None):
    """Return a copy of `model` with every Conv2D and Dense layer, except those named in `skip`,
    wrapped for magnitude pruning with `schedule` (or `per_layer[name]` where given).
    Train it with the `UpdatePruningStep` callback."""
    _check_model(model)
    per_layer = dict(per_layer or {})
    names = {layer.name for layer in model.layers}
    for argument, given in (("skip", set(skip)), ("per_layer", set(per_layer))):
        unknown = sorted(given - names)
        if unknown:
            raise ValueError(f"{argument} names layers the model lacks: {unknown}; its layers "
                             f"are {sorted(names)}")
    sparsity = _tfmot().sparsity.keras

    def wrap(layer):
        fresh = layer.__class__.from_config(layer.get_config())  # leave `model` untouched
        if isinstance(layer, PRUNABLE_LAYERS) and layer.name not in skip:
            chosen = per_layer.get(layer.name, schedule)
            return sparsity.prune_low_magnitude(fresh, pruning_schedule=chosen)
        return fresh

    pruned = keras.models.clone_model(model, clone_function=wrap)
    _copy_weights(model, pruned)
    return pruned


def _copy_weights(source, target) -> None:
    """Copy each layer's weights into the matching (possibly wrapped) layer of `target`."""
    for old, new in zip(source.layers, target.layers, strict=True):
        inner = getattr(new, "layer", new)
        inner.set_weights(old.get_weights())


def is_pruning_wrapped(model) -> bool:
    """True if any layer of `model` is still a TFMOT pruning wrapper (strip_pruning not applied)."""
    _check_model(model)
    return any(type(layer).__name__ == "PruneLowMagnitude" for layer in model.layers)


def prune_preserving_qat(model):
    """Wrap a pruned and *stripped* model for quantization-aware training that keeps its zeros
    (quantize_annotate_model + quantize_apply with Default8BitPrunePreserveQuantizeScheme)."""
    _check_model(model)
    if is_pruning_wrapped(model):
        raise ValueError("model still has pruning wrappers: call "
                         "tfmot.sparsity.keras.strip_pruning(model) before quantization")
    tfmot = _tfmot()
    annotated = tfmot.quantization.keras.quantize_annotate_model(model)
    return tfmot.quantization.keras.quantize_apply(
        annotated, tfmot.experimental.combine.Default8BitPrunePreserveQuantizeScheme())


def stage_record(name: str, path: str | os.PathLike, accuracy: float, nonzero_params: int,
                 latency_us: float, root: str | os.PathLike | None = None) -> dict:
    """One row of a stage table: the file (relative to `root`), its raw and gzipped bytes,
    accuracy (fraction), nonzero parameters and LiteRT latency (µs per image)."""
    path = Path(path)
    if not 0.0 <= accuracy <= 1.0:
        raise ValueError(f"accuracy must be a fraction in [0, 1], got {accuracy!r}")
    if isinstance(nonzero_params, bool) or not isinstance(nonzero_params, int) \
            or nonzero_params < 0:
        raise ValueError(f"nonzero_params must be an int >= 0, got {nonzero_params!r}")
    if not latency_us > 0:
        raise ValueError(f"latency_us must be > 0, got {latency_us!r}")
    file = path.relative_to(root).as_posix() if root is not None else path.name
    return {
        "stage": name,
        "file": file,
        "accuracy": float(accuracy),
        "nonzero_params": nonzero_params,
        "bytes": file_size(path),
        "gzipped_bytes": gzipped_size(path),
        "latency_us": float(latency_us),
    }


def tflite_weight_sparsity(model) -> float:
    """Fraction of zeros in the int8 weight tensors of a .tflite model (bytes or path).

    Weight tensors are told apart from activations by shape: int8, at least 2-D, and a first
    dimension other than the batch size 1 (activations of a batch-1 model start with 1).
    """
    import numpy as np

    from helpers.deploy import make_interpreter

    interpreter = make_interpreter(model)
    zeros = total = 0
    for detail in interpreter.get_tensor_details():
        shape = detail["shape"]
        if detail["dtype"] != np.int8 or len(shape) < 2 or shape[0] == 1:
            continue
        values = interpreter.get_tensor(detail["index"])
        zeros += int(np.count_nonzero(values == 0))
        total += values.size
    if total == 0:
        raise ValueError("model has no int8 weight tensors: convert it with optimization='int8'")
    return zeros / total
