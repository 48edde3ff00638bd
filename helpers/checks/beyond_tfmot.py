"""Exercise checks of notebook 06_beyond_tfmot (Beyond TFMOT)."""

from __future__ import annotations

import functools
from collections.abc import Callable

import numpy as np

from ._common import _as_int, call_answer, in_own_thread, passed, require_answer


def _cubic_sparsity(step, initial, final, begin_step, end_step) -> float:
    """Reference polynomial (cubic) schedule, clamped outside [begin_step, end_step]."""
    progress = min(max((step - begin_step) / (end_step - begin_step), 0.0), 1.0)
    return final + (initial - final) * (1.0 - progress) ** 3


def check_sparsity_at(sparsity_at: Callable) -> None:
    """Exercise 6.1: the cubic (polynomial, power 3) schedule's sparsity at optimizer step t."""
    name = "Exercise 6.1 (sparsity_at)"
    cases = [(0, 0.0, 0.8, 100, 1000), (100, 0.0, 0.8, 100, 1000), (550, 0.0, 0.8, 100, 1000),
             (1000, 0.0, 0.8, 100, 1000), (5000, 0.0, 0.8, 100, 1000), (30, 0.2, 0.9, 50, 300),
             (175, 0.2, 0.9, 50, 300), (299, 0.5, 0.75, 0, 300), (1, 0.0, 0.5, 0, 4)]
    for args in cases:
        call = "sparsity_at({}, initial={}, final={}, begin_step={}, end_step={})".format(*args)
        got = call_answer(sparsity_at, name, *args)
        require_answer(got, name)
        if isinstance(got, bool) or not isinstance(got, int | float | np.integer | np.floating):
            raise AssertionError(f"{name}: {call} should return a number, got "
                                 f"{type(got).__name__}. Hint: return one float.")
        want = _cubic_sparsity(*args)
        if np.isclose(got, 100 * want) and want:
            raise AssertionError(f"{name}: {call} = {got} looks like a percentage. Hint: sparsity "
                                 "is a fraction in [0, 1).")
        if not 0.0 <= float(got) < 1.0:
            raise AssertionError(f"{name}: {call} = {got} is not a sparsity. Hint: the schedule "
                                 "must stay between initial and final, also before begin_step and "
                                 "after end_step.")
        if not np.isclose(got, want, rtol=1e-9, atol=1e-12):
            step, initial, final, begin, end = args
            where = ("before begin_step" if step < begin else "after end_step" if step > end
                     else "inside the pruning window")
            raise AssertionError(f"{name}: {call} returned {got}, which is wrong ({where}). Hint: "
                                 "clamp the progress p = (step - begin_step) / (end_step - "
                                 "begin_step) to [0, 1], and remember that the sparsity rises "
                                 "fast at first and slowly at the end (a cube of 1 - p).")
    passed(name, "This is the curve of TFMOT's PolynomialDecay and of "
                 "keras3_pruning.polynomial_sparsity.")


def check_int4_tensor_bytes(int4_tensor_bytes: Callable) -> None:
    """Exercise 6.2: bytes of a packed int4 tensor plus one float32 scale per output channel."""
    name = "Exercise 6.2 (int4_tensor_bytes)"
    for shape in [(32, 3, 3, 16), (16, 3, 3, 1), (10, 800), (3, 3), (1, 7), (5,), (64, 3, 3, 3)]:
        call = f"int4_tensor_bytes({shape})"
        got = _as_int(call_answer(int4_tensor_bytes, name, shape), name, call)
        size = int(np.prod(shape))
        want = -(-size // 2) + 4 * shape[0]
        if got == want:
            continue
        if got == -(-size // 2):
            raise AssertionError(f"{name}: {call} = {got} counts the codes only. Hint: each output "
                                 "channel also stores its scale.")
        if got in (size + 4 * shape[0], size):
            raise AssertionError(f"{name}: {call} = {got} spends a whole byte per weight. Hint: "
                                 "how many 4-bit codes fit in one byte?")
        if got == size // 2 + 4 * shape[0]:
            raise AssertionError(f"{name}: {call} = {got}: an odd number of codes needs one more, "
                                 "half-filled byte. Hint: round up, not down.")
        raise AssertionError(f"{name}: {call} returned {got}. Hint: packed codes (rounded up to "
                             "whole bytes) + one float32 scale per output channel (axis 0).")
    passed(name, "int4 halves int8's weight bytes; the per-channel scales are a small fixed cost.")


@functools.cache
def _int4_check_model() -> bytes:
    """A float .tflite of notebook 06's CNN, untrained (conv1 small; conv2, conv3, logits large).
    Built once, in a worker thread, with explicit names and its own random generator, so that the
    lesson's names and random streams stay as they were (see `_common.in_own_thread`)."""
    import tempfile
    from pathlib import Path

    import keras

    from helpers import litert_quantizer

    layers = keras.layers
    stack = [layers.Input((28, 28), name="check_image"),
             layers.Reshape((28, 28, 1), name="reshape")]
    for i, channels in enumerate((8, 16, 32), start=1):
        stack += [layers.Conv2D(channels, 3, padding="same", use_bias=False, name=f"conv{i}",
                                kernel_initializer="zeros"),  # the weights are set below
                  layers.BatchNormalization(name=f"bn{i}"), layers.ReLU(name=f"relu{i}"),
                  layers.MaxPooling2D(2, name=f"pool{i}")]
    model = keras.Sequential(stack + [layers.Flatten(name="flatten"),
                                      layers.Dense(10, kernel_initializer="zeros", name="logits")],
                             name="check_cnn")
    rng = np.random.default_rng(6)
    for layer in model.layers:
        if isinstance(layer, layers.Conv2D | layers.Dense):
            layer.set_weights([rng.normal(0.0, 0.3, w.shape).astype(np.float32)
                               for w in layer.get_weights()])
    with tempfile.TemporaryDirectory() as folder:
        return litert_quantizer.export_litert(model, Path(folder) / "check.tflite").read_bytes()


def check_large_layers_int4(large_layers_int4: Callable) -> None:
    """Exercise 6.3: a dynamic recipe with int4 kernels where they are large, int8 elsewhere."""
    from helpers import litert_quantizer

    name = "Exercise 6.3 (large_layers_int4)"
    recipe = call_answer(large_layers_int4, name)
    require_answer(recipe, name)
    if not isinstance(recipe, list) or not recipe or not all(isinstance(r, dict) for r in recipe):
        raise AssertionError(f"{name}: expected an ai-edge-quantizer recipe (a list of dicts), got "
                             f"{type(recipe).__name__}. Hint: the functions in "
                             "ai_edge_quantizer.recipe return lists; lists add up with +.")
    model = in_own_thread(_int4_check_model)
    try:
        quantized = litert_quantizer.quantize(model, recipe)
    except ValueError as error:
        if "calibration" in str(error):
            raise AssertionError(f"{name}: your recipe quantizes activations, so it needs "
                                 "calibration. Hint: use dynamic recipes (weights only).") from None
        raise
    stored = {row["shape"]: row["type"] for row in litert_quantizer.weight_tensors(quantized, 16)}
    layers = {(8, 3, 3, 1): ("int8", "the small first convolution conv1 (72 weights)"),
              (16, 3, 3, 8): ("int4", "the second convolution conv2 (1,152 weights)"),
              (32, 3, 3, 16): ("int4", "the third convolution conv3 (4,608 weights)"),
              (10, 288): ("int4", "the last Dense layer, logits (2,880 weights)")}
    for shape, (kind, layer) in layers.items():
        got = stored.get(shape, "float32")
        if got == kind:
            continue
        if got == "float32":
            raise AssertionError(f"{name}: {layer} stays float32. Hint: every kernel should be "
                                 "quantized; a config that skips small layers leaves them float.")
        if kind == "int8":
            raise AssertionError(f"{name}: {layer} is stored as {got}; small layers should keep "
                                 "int8. Hint: start from an int8 recipe for every layer, then "
                                 "override the large ones.")
        raise AssertionError(f"{name}: {layer} is stored as {got}, not int4. Hint: a recipe's "
                             "`regex` is matched against each operator's *output tensor* name, "
                             "and the last layer's output is renamed after the model's output; "
                             "`operation_name` selects operators by type.")
    passed(name, "Mixed precision by layer: the recipe format LiteRT uses for its LLM recipes.")
