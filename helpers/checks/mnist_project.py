"""Exercise checks of notebook 04_mnist_project (The MNIST project).

The checks of Exercises 4.2 and 4.3 build and train (or convert) small models of their own, and
leave the lesson's next models exactly as they would have been without the check (the lesson
does not reseed between a check cell and its next training step), with public means only:

- every layer they build has an explicit name and initializers that draw no random numbers (the
  checks set the weights from their own NumPy generator), so Python's, NumPy's, TensorFlow's and
  Keras' random streams do not move;
- they run in a worker thread of their own (`_common.in_own_thread`), which has its own Keras
  name counters, so the layers TFMOT names for itself inside the learner's function
  (QuantizeLayer, QuantizeAnnotate) do not shift the names of the lesson's layers.

tests/test_exercise_checks.py proves it: the lesson's next models and random draws are the same
with and without a check run first.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Callable

import numpy as np

from ._common import _as_int, call_answer, in_own_thread, passed, require_answer


def check_pruning_end_step(pruning_end_step: Callable[[int, int, int, float], int]) -> None:
    """Exercise 4.1: the optimizer step at which a pruning schedule should reach its final
    sparsity."""
    name = "Exercise 4.1 (pruning_end_step)"
    cases = [(54_000, 128, 4, 0.6), (60_000, 32, 1, 1.0), (1000, 300, 2, 0.5), (10, 3, 3, 0.34),
             (54_000, 256, 5, 0.8)]
    for n, batch, epochs, fraction in cases:
        call = f"pruning_end_step({n}, {batch}, {epochs}, {fraction})"
        got = _as_int(call_answer(pruning_end_step, name, n, batch, epochs, fraction), name, call)
        want = int(math.ceil(n / batch) * epochs * fraction)
        if got == want:
            continue
        if got == int(n * epochs * fraction):
            raise AssertionError(f"{name}: {call} = {got} counts images. Hint: the schedule counts "
                                 "optimizer steps, one per batch.")
        if got == int(n // batch * epochs * fraction):
            raise AssertionError(f"{name}: {call} = {got} forgets the last, smaller batch of each "
                                 "epoch. Hint: Keras runs a final partial batch; round the batches "
                                 "per epoch up.")
        raise AssertionError(f"{name}: {call} returned {got}, which is not right. Hint: steps per "
                             "epoch × epochs gives the total; the schedule should end after the "
                             "given fraction of it (round down to a whole step).")
    passed(name, "The schedule counts optimizer steps, so its end_step depends on the data size "
                 "and the batch size; the article's fixed end_step=1000 ignores both.")


def check_pqat_model(make_pqat_model: Callable) -> None:
    """Exercise 4.2: wrap a pruned, stripped model for QAT that keeps its zeros."""
    name = "Exercise 4.2 (make_pqat_model)"
    require_answer(make_pqat_model, name)
    in_own_thread(_check_pqat_model, make_pqat_model, name)
    passed(name, "Training with the prune-preserving scheme keeps every pruned weight at zero.")


def _check_pqat_model(make_pqat_model: Callable, name: str) -> None:
    """Exercise 4.2's check proper: wrap a small pruned model with the answer and train it."""
    from helpers import keras

    rng = np.random.default_rng(0)
    dense = functools.partial(keras.layers.Dense, kernel_initializer="zeros")  # set below
    model = keras.Sequential([keras.layers.Flatten(input_shape=(6, 6), name="check_flatten"),
                              dense(16, activation="relu", name="check_hidden"),
                              dense(10, name="check_logits")], name="check_pruned")
    for layer in model.layers[1:]:
        kernel, bias = (rng.normal(0.0, 0.3, w.shape).astype(np.float32)
                        for w in layer.get_weights())
        kernel[rng.random(kernel.shape) < 0.6] = 0.0  # a pruned, stripped model: 60% zeros
        layer.set_weights([kernel, bias])
    zeros = {layer.name: layer.get_weights()[0] == 0 for layer in model.layers[1:]}
    qat = call_answer(make_pqat_model, name, model)
    require_answer(qat, name)
    if not isinstance(qat, keras.Model):
        raise AssertionError(f"{name}: expected a tf_keras Model, got {type(qat).__name__}. "
                             "Hint: return the model that TFMOT's quantize_apply builds.")
    kinds = {type(layer).__name__ for layer in qat.layers}
    if "QuantizeAnnotate" in kinds:
        raise AssertionError(f"{name}: the returned model's layers are only annotated for "
                             "quantization: nothing simulates int8 yet. Hint: annotating marks "
                             "the layers; a second TFMOT call applies the quantization.")
    if not any(kind.startswith("QuantizeWrapper") for kind in kinds):
        raise AssertionError(f"{name}: the returned model has no quantization wrappers, so it "
                             "does not simulate int8 during training. Hint: annotate the model "
                             "for quantization, then apply a quantization scheme.")
    qat.compile(keras.optimizers.SGD(0.5), keras.losses.SparseCategoricalCrossentropy(
        from_logits=True))
    qat.fit(rng.random((64, 6, 6)).astype(np.float32), rng.integers(0, 10, 64), epochs=2,
            batch_size=16, shuffle=False, verbose=0)
    for layer in qat.layers:
        inner = getattr(layer, "layer", layer)
        if inner.name in zeros:
            kernel = next(w for w in layer.weights if w.name.endswith("kernel:0")).numpy()
            if np.any(kernel[zeros[inner.name]] != 0):
                raise AssertionError(f"{name}: after a few training steps, weights that were "
                                     f"zero in layer '{inner.name}' are nonzero again: the "
                                     "sparsity is lost. Hint: plain QAT updates every weight; "
                                     "TFMOT has a scheme that preserves pruning.")


# --- Exercise 4.3: predict the tensor bytes of an int8 .tflite ----------------------------------

PARTS = ("weights", "biases", "quantization")
"""The keys of predict_int8_bytes' answer."""


def _describe(model) -> str:
    """A model's layers in a line, e.g. 'Conv2D 3×3, 1→4 channels, no bias → BatchNormalization'."""
    from helpers import keras

    words = []
    for layer in model.layers:
        kind = type(layer).__name__
        if isinstance(layer, keras.layers.Conv2D):
            h, w, c_in, c_out = layer.kernel.shape
            bias = "" if layer.use_bias else ", no bias"
            words.append(f"{kind} {h}×{w}, {c_in}→{c_out} channels{bias}")
        elif isinstance(layer, keras.layers.Dense):
            words.append(f"{kind} {layer.kernel.shape[0]}→{layer.kernel.shape[1]}")
        elif kind not in ("InputLayer", "Reshape"):
            words.append(kind)
    return " → ".join(words)


@functools.cache
def _converted_models() -> tuple:
    """Small models built like notebook 04's, each with what the real converter stores for it
    (full-integer int8, batch of one, names stripped: helpers.pipeline.export_int8). Built once,
    in a worker thread (see the module's docstring)."""
    from helpers import keras, pipeline, tflite_anatomy

    layers = keras.layers
    conv = functools.partial(layers.Conv2D, kernel_initializer="zeros")  # weights set below
    dense = functools.partial(layers.Dense, kernel_initializer="zeros")
    rng = np.random.default_rng(43)
    specs = {
        "conv_bn": [layers.Reshape((8, 8, 1), input_shape=(8, 8), name="c_reshape"),
                    conv(4, 3, padding="same", use_bias=False, name="c_conv"),
                    layers.BatchNormalization(name="c_bn"), layers.ReLU(name="c_relu"),
                    layers.MaxPooling2D(name="c_pool"), layers.Flatten(name="c_flatten"),
                    dense(3, name="c_logits")],
        "two_convs": [layers.Reshape((8, 8, 1), input_shape=(8, 8), name="t_reshape"),
                      conv(5, (3, 2), activation="relu", name="t_conv1"),
                      conv(6, 3, use_bias=False, name="t_conv2"),
                      layers.BatchNormalization(name="t_bn"), layers.ReLU(name="t_relu"),
                      layers.Flatten(name="t_flatten"),
                      dense(7, activation="relu", name="t_hidden"),
                      dense(4, name="t_logits")],
        "mlp": [layers.Flatten(input_shape=(6, 6), name="m_flatten"),
                dense(9, activation="relu", name="m_hidden"),
                dense(5, name="m_logits")],
    }
    found = []
    for label, stack in specs.items():
        model = keras.Sequential(stack, name=f"check_{label}")
        for layer in model.layers:
            weights = [rng.normal(0.0, 0.5, w.shape).astype(np.float32)
                       for w in layer.get_weights()]
            if isinstance(layer, layers.BatchNormalization):
                weights[3] = np.abs(weights[3]) + 0.5  # a positive moving variance
            layer.set_weights(weights)  # no zero bias: the converter would drop it
        images = rng.random((40, *model.input_shape[1:])).astype(np.float32)
        stored = tflite_anatomy.tensor_bytes(pipeline.export_int8(model, images))
        found.append((model, {part: stored[part] for part in PARTS}))
    return tuple(found)


def _per_layer(model) -> list[tuple[int, int, bool]]:
    """(kernel entries, output channels, has a bias of its own) for each Conv2D and Dense."""
    from helpers import keras

    return [(int(np.prod(layer.kernel.shape)), int(layer.kernel.shape[-1]), layer.use_bias)
            for layer in model.layers
            if isinstance(layer, keras.layers.Conv2D | keras.layers.Dense)]


def _hint(part: str, got: int, model) -> str:
    """Why `got` is a typical wrong value for `part` of `model`'s int8 tensors."""
    kernels = _per_layer(model)
    weights = sum(n for n, _, _ in kernels)
    channels = sum(c for _, c, _ in kernels)
    if part == "weights":
        if got == 4 * weights:
            return "int8 stores one byte per weight, not four."
        if got == model.count_params():
            return ("count the kernels only: biases are stored as tensors of their own, and "
                    "batch normalization has none (the converter folds it away).")
        return ("every Conv2D and Dense kernel is stored whole, one byte per entry (zeros "
                "included); no other layer has a kernel.")
    if part == "biases":
        if got == 4 * sum(c for _, c, own in kernels if own):
            return ("a convolution followed by batch normalization gets a bias in the file even "
                    "without one of its own: the converter folds batch normalization into it.")
        if got == channels:
            return "biases are int32: four bytes each."
        return ("each Conv2D and Dense layer has one int32 bias per output channel in the file "
                "(batch normalization is folded into the convolution's).")
    if got == 0:
        return ("int8 values mean nothing without their scale and zero point: count those of "
                "the kernels and of the biases.")
    if got == 2 * 12 * len(kernels) or got == 12 * len(kernels):
        return ("kernels and biases are quantized per output channel: one scale and one zero "
                "point for every channel, not one per tensor.")
    if got == 12 * channels:
        return "the biases carry quantization parameters too, one per output channel."
    if got == 2 * 8 * channels:
        return ("the file stores each zero point as an int64 (8 bytes), next to a float32 "
                "scale (4 bytes).")
    return ("each kernel and each bias stores, per output channel, a float32 scale and an "
            "int64 zero point.")


def check_int8_bytes(predict_int8_bytes: Callable) -> None:
    """Exercise 4.3: the bytes an int8 .tflite stores for the kernels, biases and their
    quantization parameters, predicted from a Keras model's layers."""
    name = "Exercise 4.3 (predict_int8_bytes)"
    require_answer(predict_int8_bytes, name)
    in_own_thread(_check_int8_bytes, predict_int8_bytes, name)
    passed(name, "Your prediction matches, byte for byte, what the converter stores for the "
                 "kernels, biases and their quantization parameters.")


def _check_int8_bytes(predict_int8_bytes: Callable, name: str) -> None:
    """Exercise 4.3's check proper: the answer against the converter, model by model."""
    for model, stored in _converted_models():
        answer = require_answer(call_answer(predict_int8_bytes, name, model), name)
        if not isinstance(answer, dict) or set(answer) != set(PARTS):
            keys = f" with keys {sorted(answer)}" if isinstance(answer, dict) else ""
            raise AssertionError(
                f"{name}: expected a dict with the keys {list(PARTS)}, got "
                f"{type(answer).__name__}{keys}. Hint: one number of bytes per part.")
        for part in PARTS:
            got = _as_int(answer[part], name, f"the '{part}' bytes")
            if got != stored[part]:
                raise AssertionError(
                    f"{name}: for the model [{_describe(model)}] you predict {got:,} B of "
                    f"{part}, but the converted file stores a different number. "
                    f"Hint: {_hint(part, got, model)}")
