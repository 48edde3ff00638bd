"""Exercise checks of notebook 04_mnist_project (The MNIST project)."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from ._common import _as_int, call_answer, passed, require_answer


def check_pruning_end_step(pruning_end_step: Callable[[int, int, int, float], int]) -> None:
    """Exercise 4.1: the optimizer step at which a pruning schedule should reach its final sparsity."""
    name = "Exercise 4.1 (pruning_end_step)"
    import math

    for n, batch, epochs, fraction in [(54_000, 128, 4, 0.6), (60_000, 32, 1, 1.0),
                                       (1000, 300, 2, 0.5), (10, 3, 3, 0.34), (54_000, 256, 5, 0.8)]:
        got = _as_int(call_answer(pruning_end_step, name, n, batch, epochs, fraction), name,
                      f"pruning_end_step({n}, {batch}, {epochs}, {fraction})")
        steps = math.ceil(n / batch)
        want = int(steps * epochs * fraction)
        if got == int(n * epochs * fraction):
            raise AssertionError(f"{name}: pruning_end_step({n}, {batch}, {epochs}, {fraction}) = "
                                 f"{got} counts images. Hint: the schedule counts optimizer steps, "
                                 "one per batch.")
        if got == int(n // batch * epochs * fraction) and got != want:
            raise AssertionError(f"{name}: pruning_end_step({n}, {batch}, {epochs}, {fraction}) = "
                                 f"{got} forgets the last, smaller batch of each epoch. Hint: "
                                 "Keras runs a final partial batch; round the batches per epoch up.")
        if got != want:
            raise AssertionError(f"{name}: pruning_end_step({n}, {batch}, {epochs}, {fraction}) "
                                 f"returned {got}, which is not right. Hint: steps per epoch × "
                                 "epochs gives the total; the schedule should end after the given "
                                 "fraction of it (round down to a whole step).")
    passed(name, "The schedule counts optimizer steps, so its end_step depends on the data size "
                 "and the batch size; the article's fixed end_step=1000 ignores both.")


def check_pqat_model(make_pqat_model: Callable) -> None:
    """Exercise 4.2: wrap a pruned, stripped model for QAT that keeps its zeros."""
    name = "Exercise 4.2 (make_pqat_model)"
    from helpers import keras

    rng = np.random.default_rng(0)
    keras.utils.set_random_seed(0)
    model = keras.Sequential([keras.layers.Flatten(input_shape=(6, 6)),
                              keras.layers.Dense(16, activation="relu", name="hidden"),
                              keras.layers.Dense(10, name="logits")])
    for layer in model.layers[1:]:
        kernel, bias = layer.get_weights()
        kernel[rng.random(kernel.shape) < 0.6] = 0.0  # a pruned, stripped model: 60% zeros
        layer.set_weights([kernel, bias])
    zeros = {layer.name: layer.get_weights()[0] == 0 for layer in model.layers[1:]}
    qat = call_answer(make_pqat_model, name, model)
    require_answer(qat, name)
    if not isinstance(qat, keras.Model):
        raise AssertionError(f"{name}: expected a tf_keras Model, got {type(qat).__name__}. "
                             "Hint: return the model that TFMOT's quantize_apply builds.")
    wrappers = [layer for layer in qat.layers if "Quantize" in type(layer).__name__]
    if not wrappers:
        raise AssertionError(f"{name}: the returned model has no quantization wrappers, so it "
                             "does not simulate int8 during training. Hint: annotate the model "
                             "for quantization, then apply a quantization scheme.")
    qat.compile(keras.optimizers.SGD(0.5), keras.losses.SparseCategoricalCrossentropy(
        from_logits=True))
    qat.fit(rng.random((64, 6, 6)).astype(np.float32), rng.integers(0, 10, 64), epochs=2,
            batch_size=16, verbose=0)
    for layer in qat.layers:
        inner = getattr(layer, "layer", layer)
        if inner.name in zeros:
            kernel = next(w for w in layer.weights if w.name.endswith("kernel:0")).numpy()
            if np.any(kernel[zeros[inner.name]] != 0):
                raise AssertionError(f"{name}: after a few training steps, weights that were "
                                     f"zero in layer '{inner.name}' are nonzero again: the "
                                     "sparsity is lost. Hint: plain QAT updates every weight; "
                                     "TFMOT has a scheme that preserves pruning.")
    passed(name, "Training with the prune-preserving scheme keeps every pruned weight at zero.")


def check_pareto_front(pareto_front: Callable[[list[dict]], list[str]]) -> None:
    """Exercise 4.3: the names of the points no other point beats on both size and accuracy."""
    name = "Exercise 4.3 (pareto_front)"
    cases = [
        ([("a", 100, 0.90), ("b", 200, 0.95), ("c", 300, 0.94), ("d", 50, 0.80)], {"a", "b", "d"}),
        ([("a", 100, 0.90), ("b", 100, 0.95)], {"b"}),
        ([("a", 100, 0.95), ("b", 200, 0.95)], {"a"}),
        ([("x", 10, 0.5)], {"x"}),
        ([("a", 100, 0.90), ("b", 100, 0.90), ("c", 200, 0.80)], {"a", "b"}),
        ([("a", 300, 0.99), ("b", 200, 0.98), ("c", 100, 0.97), ("d", 250, 0.97)], {"a", "b", "c"}),
    ]
    for raw, want in cases:
        points = [{"name": n, "gzipped_bytes": s, "accuracy": a} for n, s, a in raw]
        got = call_answer(pareto_front, name, [dict(p) for p in points])
        require_answer(got, name)
        if isinstance(got, str) or not hasattr(got, "__iter__"):
            raise AssertionError(f"{name}: expected a list of names, got {type(got).__name__}. "
                                 "Hint: return the 'name' of every point on the front.")
        got = list(got)
        if got and isinstance(got[0], dict):
            got = [p.get("name") for p in got]
        if len(set(got)) != len(got):
            raise AssertionError(f"{name}: the result lists a name twice: {got}. Hint: each point "
                                 "appears at most once.")
        extra, missing = set(got) - want, want - set(got)
        table = ", ".join(f"{n}: {s} B, {a:.0%}" for n, s, a in raw)
        if extra:
            raise AssertionError(f"{name}: for points [{table}] your front includes a point that "
                                 "another point beats. Hint: a point is dominated when another is "
                                 "no larger and no less accurate, and strictly better in one of "
                                 "the two.")
        if missing:
            raise AssertionError(f"{name}: for points [{table}] your front misses a point that "
                                 "nothing beats. Hint: equal size or equal accuracy alone does "
                                 "not dominate (nor do two identical points dominate each other); "
                                 "the other point must also be strictly better in one measure.")
    passed(name, "Only the points on the front are worth shipping: every other model is both "
                 "bigger and no more accurate than one of them.")
