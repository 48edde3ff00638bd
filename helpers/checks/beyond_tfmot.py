"""Exercise checks of notebook 06_beyond_tfmot (Beyond TFMOT)."""

from __future__ import annotations

import functools
from collections.abc import Callable

import numpy as np

from ._common import _as_int, call_answer, in_own_thread, passed, require_answer


def _cubic_sparsity(step, final, begin_step, end_step) -> float:
    """Reference polynomial (cubic) schedule from 0 to `final`, clamped outside [begin, end]."""
    if end_step == begin_step:
        return final if step >= end_step else 0.0
    progress = min(max((step - begin_step) / (end_step - begin_step), 0.0), 1.0)
    return final * (1.0 - (1.0 - progress) ** 3)


def _update_steps(begin_step, end_step, frequency) -> list[int]:
    """The steps at which GradualMagnitudePruning recomputes its masks: begin, every
    `frequency` steps after it, and end."""
    return [t for t in range(begin_step, end_step + 1)
            if (t - begin_step) % frequency == 0 or t == end_step]


def _removed_per_update(size, final, begin_step, end_step, frequency) -> list[int]:
    """Reference: the weights each mask update zeroes (round(s·size) zeros in all after it)."""
    zeros = [int(round(_cubic_sparsity(t, final, begin_step, end_step) * size))
             for t in _update_steps(begin_step, end_step, frequency)]
    return [zeros[0]] + [b - a for a, b in zip(zeros, zeros[1:], strict=False)]


def check_removed_per_update(removed_per_update: Callable) -> None:
    """Exercise 6.1: how many weights each of the callback's mask updates removes."""
    name = "Exercise 6.1 (removed_per_update)"
    cases = [(4608, 0.7, 422, 2363, 50), (1152, 0.7, 0, 100, 10), (2880, 0.5, 10, 95, 20),
             (300, 0.8, 5, 5, 3), (7, 0.5, 0, 3, 1), (1000, 0.9, 0, 40, 7)]
    for args in cases:
        call = ("removed_per_update(size={}, final_sparsity={}, begin_step={}, end_step={}, "
                "frequency={})".format(*args))
        got = call_answer(removed_per_update, name, *args)
        require_answer(got, name)
        if isinstance(got, np.ndarray):
            got = got.tolist()
        if not isinstance(got, list | tuple):
            raise AssertionError(f"{name}: {call} should return a list (one count per mask "
                                 f"update), got {type(got).__name__}. Hint: build a list.")
        if any(isinstance(n, bool) or not isinstance(n, int | np.integer) for n in got):
            raise AssertionError(f"{name}: {call} returned {[type(n).__name__ for n in got][:4]}"
                                 "...: weights come whole. Hint: the callback zeroes an exact "
                                 "number of weights (notebook 02's prune_count), so work with "
                                 "whole counts and return ints.")
        size, final, begin, end, frequency = args
        want = _removed_per_update(*args)
        if len(got) != len(want):
            raise AssertionError(f"{name}: {call} has {len(got)} entries, but the callback "
                                 f"updates the masks {len(want)} times. Hint: read the update "
                                 "rule in section 2 (is_update_step): which steps from "
                                 "begin_step to end_step, both included?")
        if list(got) == want:
            continue
        if sum(got) != sum(want):
            raise AssertionError(f"{name}: {call} removes {sum(got)} weights in all, but after "
                                 "the last update the kernel holds round(final_sparsity·size) "
                                 "zeros. Hint: if you rounded each update's share on its own, "
                                 "the rounding errors add up; if you truncated, round instead.")
        if all(b >= a for a, b in zip(got, got[1:], strict=False)) and got[-1] == sum(want):
            raise AssertionError(f"{name}: {call} looks like running totals (the zeros after "
                                 "each update). Hint: the question is how many *more* weights "
                                 "each update removes.")
        raise AssertionError(f"{name}: {call} returned {list(got)[:6]}..., which is wrong. Hint: "
                             "the sparsity at each update step follows the cubic schedule of "
                             "section 2, which rises fast at first; the zeros after an update "
                             "are round(s·size), and the update removes the difference.")
    passed(name, "The first updates remove the most: the schedule front-loads the damage while "
                 "there are plenty of small weights, and leaves the network time to recover.")


def check_int4_file_bytes(int4_file_bytes: Callable) -> None:
    """Exercise 6.2: the bytes a LiteRT file spends on a per-channel int4 kernel: the packed
    codes plus its quantization parameters as stored (a float32 scale and an int64 zero point per
    output channel), compared with what ai-edge-quantizer really writes."""
    from ai_edge_quantizer import recipe

    from helpers import litert_quantizer, tflite_anatomy

    name = "Exercise 6.2 (int4_file_bytes)"
    stored = litert_quantizer.quantize(in_own_thread(_int4_check_model), recipe.dynamic_wi4_afp32())
    in_file = {row["shape"]: row["bytes"] + row["quantization_bytes"]
               for row in tflite_anatomy.constant_tensors(stored) if row["type"] == "INT4"}
    shapes = [*in_file, (32, 3, 3, 16), (16, 3, 3, 1), (10, 801), (3, 3), (1, 7), (64, 3, 3, 3)]
    for shape in shapes:
        call = f"int4_file_bytes({shape})"
        got = _as_int(call_answer(int4_file_bytes, name, shape), name, call)
        size, channels = int(np.prod(shape)), shape[0]
        codes = -(-size // 2)
        want = in_file.get(shape, codes + 12 * channels)
        if got == want:
            continue
        source = "what ai-edge-quantizer writes" if shape in in_file else "the file's layout"
        if got in (size + 12 * channels, size, size + 4 * channels):
            raise AssertionError(f"{name}: {call} = {got} spends a whole byte per weight. Hint: "
                                 "how many 4-bit codes fit in one byte?")
        if got == size // 2 + 12 * channels:
            raise AssertionError(f"{name}: {call} = {got}: an odd number of codes needs one more, "
                                 "half-filled byte. Hint: round up, not down.")
        if got == codes:
            raise AssertionError(f"{name}: {call} = {got} counts the codes only. Hint: the file "
                                 "also stores each output channel's quantization parameters.")
        if got == codes + 4 * channels:
            raise AssertionError(f"{name}: {call} = {got} counts what the maths needs (codes and "
                                 "scales), not what the file stores. Hint: symmetric quantization "
                                 "needs no zero point, but the schema stores one per channel "
                                 "anyway; notebook 04 measured its width.")
        if got in (codes + 5 * channels, codes + 8 * channels, codes + 6 * channels):
            raise AssertionError(f"{name}: {call} = {got}: the zero points are stored wider than "
                                 "that. Hint: look up the type of `zero_point` in LiteRT's "
                                 "schema (QuantizationParameters), or notebook 04's byte count.")
        raise AssertionError(f"{name}: {call} returned {got}, which is not {source}. Hint: packed "
                             "codes rounded up to whole bytes, plus, for every output channel "
                             "(axis 0), its scale and its zero point at the widths the file "
                             "stores them.")
    passed(name, "The int64 zero points are two thirds of the per-channel cost, all zeros: gzip squeezes "
                 "them to almost nothing, but the flash of a device holds them raw.")


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


CHECK_LAYERS = {(8, 3, 3, 1): "conv1", (16, 3, 3, 8): "conv2", (32, 3, 3, 16): "conv3",
                (10, 288): "logits"}


def check_int4_except(int4_except: Callable) -> None:
    """Exercise 6.3: a dynamic recipe with int4 kernels everywhere except the named layers,
    which keep int8; read back from the files it produces on a model with the lesson's names."""
    from helpers import litert_quantizer

    name = "Exercise 6.3 (int4_except)"
    model = in_own_thread(_int4_check_model)
    for keep in (["conv1"], ["logits"], ["conv2", "conv3"], []):
        call = f"int4_except({keep})"
        rules = call_answer(int4_except, name, list(keep))
        require_answer(rules, name)
        if not isinstance(rules, list) or not rules or not all(isinstance(r, dict) for r in rules):
            raise AssertionError(f"{name}: {call} should return an ai-edge-quantizer recipe (a "
                                 f"list of dicts), got {type(rules).__name__}. Hint: the "
                                 "functions in ai_edge_quantizer.recipe return lists; lists add "
                                 "up with +.")
        try:
            quantized = litert_quantizer.quantize(model, rules)
        except ValueError as error:
            if "calibration" in str(error):
                raise AssertionError(f"{name}: {call} quantizes activations, so it needs "
                                     "calibration. Hint: use dynamic recipes (weights only)."
                                     ) from None
            raise
        stored = {row["shape"]: row["type"]
                  for row in litert_quantizer.weight_tensors(quantized, 16)}
        for shape, layer in CHECK_LAYERS.items():
            want = "int8" if layer in keep else "int4"
            got = stored.get(shape, "float32")
            if got == want:
                continue
            if got == "float32":
                raise AssertionError(f"{name}: with {call}, {layer} stays float32. Hint: every "
                                     "kernel should be quantized; a config that skips small "
                                     "layers leaves them float.")
            if want == "int8":
                raise AssertionError(f"{name}: with {call}, {layer} is stored as {got}, not "
                                     "int8. Hint: later rules override earlier ones, and a "
                                     "rule's `regex` is matched against each operator's *output "
                                     "tensor* name: print the file's tensor names; the last "
                                     "layer's output is renamed after the model's output, and "
                                     "`operation_name` selects operators by type.")
            raise AssertionError(f"{name}: with {call}, {layer} is stored as {got}, not int4. "
                                 "Hint: start from int4 for every layer, then override only "
                                 "the kept ones; an empty regex matches every name.")
    passed(name, "Mixed precision by layer: the recipe format LiteRT uses for its LLM recipes.")
