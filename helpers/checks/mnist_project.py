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
from collections.abc import Callable

import numpy as np

from ._common import _as_int, call_answer, in_own_thread, passed, require_answer

_SCHEDULES = [  # PolynomialDecay settings and the sparsity asked about
    dict(target=0.5, initial_sparsity=0.0, final_sparsity=0.7, begin_step=0, end_step=1055, power=3,
         frequency=100),
    dict(target=0.6, initial_sparsity=0.2, final_sparsity=0.8, begin_step=50, end_step=450, power=2,
         frequency=40),
    dict(target=0.45, initial_sparsity=0.1, final_sparsity=0.9, begin_step=33, end_step=233, power=1,
         frequency=25),
    dict(target=0.9, initial_sparsity=0.1, final_sparsity=0.9, begin_step=33, end_step=233, power=1,
         frequency=25),
    dict(target=0.7, initial_sparsity=0.0, final_sparsity=0.7, begin_step=0, end_step=1055, power=3,
         frequency=100),
    dict(target=0.05, initial_sparsity=0.3, final_sparsity=0.6, begin_step=7, end_step=307, power=3,
         frequency=10),
    dict(target=0.3, initial_sparsity=0.0, final_sparsity=0.5, begin_step=120, end_step=1320, power=4,
         frequency=60),
    dict(target=0.75, initial_sparsity=0.5, final_sparsity=0.8, begin_step=0, end_step=90, power=3,
         frequency=7),
]
"""The check's cases: none has its target within float32 rounding of a value the schedule takes,
except where the target is a schedule's own initial or final sparsity."""


def _tfmot_first_step(target: float, **schedule) -> int | None:
    """The first step at which TFMOT's own PolynomialDecay updates the mask to at least `target`
    sparsity (None if it never does): the schedule evaluated at every step, as the pruning
    wrapper evaluates it during training."""
    import tensorflow_model_optimization as tfmot

    from helpers import tf

    decay = tfmot.sparsity.keras.PolynomialDecay(**schedule)
    steps = np.arange(0, schedule["end_step"] + 2 * schedule["frequency"] + 1)
    update, sparsity = decay(tf.constant(steps, tf.int64))
    hits = steps[update.numpy() & (sparsity.numpy() >= np.float32(target))]
    return int(hits[0]) if len(hits) else None


def check_first_pruning_step(first_pruning_step: Callable[..., int | None]) -> None:
    """Exercise 4.1: the first optimizer step at which a PolynomialDecay schedule's mask reaches a
    given sparsity, checked against TFMOT's own schedule."""
    name = "Exercise 4.1 (first_pruning_step)"
    require_answer(first_pruning_step, name)
    answers = [call_answer(first_pruning_step, name, **case) for case in _SCHEDULES]
    if all(answer is None for answer in answers):  # a body that returns nothing, or "never" always
        require_answer(None, name)
    for case, got in zip(_SCHEDULES, answers, strict=True):
        schedule = {k: v for k, v in case.items() if k != "target"}
        call = "first_pruning_step(" + ", ".join(f"{k}={v}" for k, v in case.items()) + ")"
        want = _tfmot_first_step(case["target"], **schedule)
        if got is not None:
            got = _as_int(got, name, call)
        if got == want:
            continue
        begin, end, every = schedule["begin_step"], schedule["end_step"], schedule["frequency"]
        if want is None:
            hint = ("TFMOT never applies that sparsity with these settings. Hint: list the steps "
                    "on which the mask is recomputed, and the sparsity the schedule gives at the "
                    "last of them.")
        elif got is None:
            hint = "the schedule does reach it. Hint: list the steps on which the mask is recomputed."
        elif got < begin or got > end or (got - begin) % every:
            hint = ("TFMOT does not recompute the mask on that step. Hint: read in PolynomialDecay's "
                    "documentation (or its source) on which steps it prunes, counted from where.")
        else:
            hint = ("the mask is recomputed on that step, but it is not the first with at least that "
                    "sparsity. Hint: evaluate PolynomialDecay's formula, with its power, on each "
                    "update step.")
        raise AssertionError(f"{name}: {call} returned {got}, which is not what TFMOT's "
                             f"PolynomialDecay does: {hint}")
    passed(name, "Your steps match TFMOT's PolynomialDecay, update step by update step; the mask "
                 "changes only every `frequency` steps, so a schedule can end short of its "
                 "final sparsity.")


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
    reference = keras.models.clone_model(model)  # TFMOT's own pruning-preserving QAT, for comparison
    reference.set_weights(model.get_weights())
    from helpers.pipeline import prune_preserving_qat

    reference = prune_preserving_qat(reference)
    images, labels = rng.random((64, 6, 6)).astype(np.float32), rng.integers(0, 10, 64)
    before = [w.numpy().copy() for w in qat.trainable_weights]
    for trained in (qat, reference):
        trained.compile(keras.optimizers.SGD(0.5), keras.losses.SparseCategoricalCrossentropy(
            from_logits=True))
        trained.fit(images, labels, epochs=2, batch_size=16, shuffle=False, verbose=0)
    if not before or all(np.array_equal(b, w.numpy()) for b, w in zip(before, qat.trainable_weights,
                                                                       strict=True)):
        raise AssertionError(f"{name}: training did not change any weight of the returned model. "
                             "Hint: the model must still learn; only the pruned zeros stay put.")
    for layer in qat.layers:
        inner = getattr(layer, "layer", layer)
        if inner.name in zeros:
            kernel = next(w for w in layer.weights if w.name.endswith("kernel:0")).numpy()
            if np.any(kernel[zeros[inner.name]] != 0):
                raise AssertionError(f"{name}: after a few training steps, weights that were "
                                     f"zero in layer '{inner.name}' are nonzero again: the "
                                     "sparsity is lost. Hint: plain QAT updates every weight; "
                                     "TFMOT has a scheme that preserves pruning.")
    probe = rng.random((8, 6, 6)).astype(np.float32)
    if not np.allclose(qat.predict(probe, verbose=0), reference.predict(probe, verbose=0), atol=1e-4):
        raise AssertionError(f"{name}: trained the same way, the returned model keeps the zeros but "
                             "does not compute what TFMOT's pruning-preserving QAT computes. Hint: "
                             "quantize every layer the way TFMOT's default 8-bit scheme does, "
                             "with the variant of it that preserves sparsity.")


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
