"""Exercise checks: each prints a pass message, or raises AssertionError saying what is wrong
and giving a hint (never the answer). An exercise not attempted yet raises NotImplementedError."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np


class NotAttemptedError(NotImplementedError):
    """Raised by a check when the exercise still holds its placeholder."""


def _not_attempted(exercise: str) -> NotAttemptedError:
    return NotAttemptedError(
        f"{exercise} is not attempted yet: replace `raise NotImplementedError()` (or the `None`) "
        "with your code, run that cell, then run this check again."
    )


def require_answer(value, exercise: str):
    """Return `value`, or raise NotAttemptedError if it is still a placeholder (None or ...)."""
    if value is None or value is Ellipsis:
        raise _not_attempted(exercise)
    return value


def call_answer(function: Callable, exercise: str, *args, **kwargs):
    """Call the learner's function, turning NotImplementedError into a plain 'not attempted' error."""
    require_answer(function, exercise)
    if not callable(function):
        raise AssertionError(f"{exercise}: expected a function, got {type(function).__name__}.")
    try:
        return function(*args, **kwargs)
    except NotImplementedError:
        raise _not_attempted(exercise) from None


def passed(exercise: str, detail: str = "") -> None:
    """Print the pass message of an exercise."""
    print(f"✅ {exercise} passed. {detail}".rstrip())


def _as_int(value, exercise: str, what: str) -> int:
    require_answer(value, exercise)
    if isinstance(value, bool) or not isinstance(value, int | np.integer | float | np.floating):
        raise AssertionError(f"{exercise}: {what} should be a number, got {type(value).__name__}. "
                             "Hint: return the result of arithmetic, not a string or a list.")
    if float(value) != int(value):
        raise AssertionError(f"{exercise}: {what} should be a whole number, got {value}. "
                             "Hint: counts of parameters and bytes are integers.")
    return int(value)


# --- 01_background ----------------------------------------------------------------------------

def check_dense_param_count(dense_param_count: Callable[[int, int], int]) -> None:
    """Exercise 1.1: parameters of a Dense layer with n_inputs inputs and n_units units."""
    name = "Exercise 1.1 (dense_param_count)"
    for n_in, n_out in [(784, 128), (128, 10), (3, 2), (1, 1), (50, 7)]:
        got = _as_int(call_answer(dense_param_count, name, n_in, n_out), name,
                      f"dense_param_count({n_in}, {n_out})")
        want = n_in * n_out + n_out
        if got == n_in * n_out:
            raise AssertionError(f"{name}: dense_param_count({n_in}, {n_out}) = {got} counts the "
                                 "kernel only. Hint: each unit also learns one more number.")
        if got != want:
            raise AssertionError(f"{name}: dense_param_count({n_in}, {n_out}) returned {got}, which "
                                 "is not right. Hint: a Dense layer computes y = xW + b; count the "
                                 "entries of W and of b.")
    passed(name, "A Dense layer holds n_inputs × n_units weights plus n_units biases.")


def check_float32_bytes(float32_bytes: Callable[[int], int]) -> None:
    """Exercise 1.2: bytes needed to store n float32 parameters, without any file overhead."""
    name = "Exercise 1.2 (float32_bytes)"
    for n in [1, 10, 101_770, 0]:
        got = _as_int(call_answer(float32_bytes, name, n), name, f"float32_bytes({n})")
        if got == 32 * n and n:
            raise AssertionError(f"{name}: float32_bytes({n}) = {got} looks like bits, not bytes. "
                                 "Hint: there are 8 bits in a byte.")
        if got != 4 * n:
            raise AssertionError(f"{name}: float32_bytes({n}) returned {got}. Hint: float32 "
                                 "means 32 bits per number.")
    passed(name, "Every float32 parameter costs 4 bytes; the .h5 file adds a little metadata.")


def check_bytes_at_bits(bytes_at_bits: Callable[[int, int], float]) -> None:
    """Exercise 1.3: bytes for n parameters stored with `bits` bits each (ignoring metadata)."""
    name = "Exercise 1.3 (bytes_at_bits)"
    for n, bits in [(101_770, 32), (101_770, 8), (8, 1), (3, 4), (1000, 2)]:
        got = call_answer(bytes_at_bits, name, n, bits)
        require_answer(got, name)
        if not isinstance(got, int | float | np.integer | np.floating) or isinstance(got, bool):
            raise AssertionError(f"{name}: bytes_at_bits({n}, {bits}) should return a number, "
                                 f"got {type(got).__name__}. Hint: return the arithmetic result.")
        want = n * bits / 8
        if np.isclose(got, n * bits):
            raise AssertionError(f"{name}: bytes_at_bits({n}, {bits}) = {got} is in bits. Hint: "
                                 "divide by the number of bits in a byte.")
        if not np.isclose(got, want):
            raise AssertionError(f"{name}: bytes_at_bits({n}, {bits}) returned {got}. Hint: total "
                                 "bits = parameters × bits per parameter.")
    passed(name, "8-bit storage is 4× smaller than float32, 4-bit 8× smaller: the promise of "
                 "quantization (notebook 03).")


# --- 05_applications ---------------------------------------------------------------------------

def _pareto_reference(points):
    """Brute-force Pareto front used to check the learner's answer."""
    unique = set(points)
    front = [p for p in unique
             if not any(q[0] >= p[0] and q[1] <= p[1] and q != p for q in unique)]
    return sorted(front, key=lambda p: (p[1], -p[0]))


def check_non_dominated(pareto_front: Callable) -> None:
    """Exercise 5.3: the non-dominated (accuracy, size) pairs, sorted by size."""
    name = "Exercise 5.3 (pareto_front)"
    rng = np.random.default_rng(5)
    cases = [
        [(0.9, 100), (0.95, 200), (0.92, 300), (0.97, 400)],
        [(0.9, 100), (0.9, 100), (0.8, 100), (0.9, 50)],
        [(0.5, 10)],
        [tuple(p) for p in np.round(rng.random((40, 2)) * [1, 1000], 2).tolist()],
    ]
    for points in cases:
        got = call_answer(pareto_front, name, list(points))
        require_answer(got, name)
        want = _pareto_reference(points)
        got = [tuple(p) for p in got]
        if sorted(got) == sorted(want) and got != want:
            raise AssertionError(f"{name}: the right points, but not sorted by size (smallest first). "
                                 "Hint: sort by the second element.")
        if any(p not in points for p in got):
            raise AssertionError(f"{name}: your front contains points that were not in the input. "
                                 "Hint: return (accuracy, size) pairs from the input, unchanged.")
        if len(set(got)) != len(got):
            raise AssertionError(f"{name}: a point appears twice. Hint: keep duplicates only once.")
        dominated = [p for p in got if p not in want]
        if dominated:
            raise AssertionError(f"{name}: {dominated[0]} is dominated by another point. Hint: a "
                                 "point is dominated when another is at least as accurate AND at "
                                 "most as large, and strictly better in one.")
        if len(got) < len(want):
            raise AssertionError(f"{name}: your front misses {len(want) - len(got)} non-dominated "
                                 f"point(s) for the input {points[:4]}... Hint: a point with the "
                                 "best accuracy so far, scanning from the smallest size, is on the front.")
    passed(name, "Optuna's study.best_trials is exactly this set for the study's trials.")


def check_fits_in_flash(fits_in_flash: Callable) -> None:
    """Exercise 5.2: does a model plus runtime fit in the flash budget?"""
    name = "Exercise 5.2 (fits_in_flash)"
    cases = [((10_000, 65_536, 40_000), True), ((30_000, 65_536, 40_000), False),
             ((65_536, 65_536, 0), True), ((65_537, 65_536, 0), False), ((25_536, 65_536, 40_000), True)]
    for args, want in cases:
        got = call_answer(fits_in_flash, name, *args)
        require_answer(got, name)
        if not isinstance(got, bool | np.bool_):
            raise AssertionError(f"{name}: fits_in_flash{args} should return True or False, got "
                                 f"{type(got).__name__}. Hint: return a comparison.")
        if bool(got) != want:
            raise AssertionError(f"{name}: fits_in_flash{args} returned {got}, which is wrong. "
                                 "Hint: both the model and the runtime must fit; a model that uses "
                                 "the flash exactly still fits.")
    try:
        call_answer(fits_in_flash, name, -1, 65_536, 0)
    except ValueError:
        pass
    else:
        raise AssertionError(f"{name}: a negative size was accepted. Hint: raise ValueError for "
                             "sizes below zero.")
    passed(name)


def check_throughput(throughput: Callable) -> None:
    """Exercise 5.1: images per second from a call's median latency and its batch size."""
    name = "Exercise 5.1 (throughput)"
    for median_us, batch in [(1_000_000.0, 1), (10.0, 1), (500.0, 32), (2.5, 4)]:
        got = call_answer(throughput, name, median_us, batch)
        require_answer(got, name)
        want = batch / (median_us * 1e-6)
        if np.isclose(got, 1 / (median_us * 1e-6)) and batch > 1:
            raise AssertionError(f"{name}: throughput({median_us}, {batch}) ignores the batch size. "
                                 "Hint: one call handles batch_size images.")
        if np.isclose(got, batch / median_us):
            raise AssertionError(f"{name}: throughput({median_us}, {batch}) is per microsecond. "
                                 "Hint: a second has 1,000,000 µs.")
        if not np.isclose(got, want, rtol=1e-9):
            raise AssertionError(f"{name}: throughput({median_us}, {batch}) returned {got}. "
                                 "Hint: images per call divided by seconds per call.")
    passed(name)


# --- 02_pruning -------------------------------------------------------------------------------

def _check_arrays(seed: int = 2):
    """Random test weights with distinct values (so exact counts are well defined)."""
    rng = np.random.default_rng(seed)
    return [rng.normal(size=(1000,)), rng.normal(0, 0.05, size=(40, 25)), rng.normal(size=(8, 4, 3))]


def check_threshold_for_sparsity(threshold_for_sparsity: Callable) -> None:
    """Exercise 2.1: the magnitude threshold θ so that `|w| >= θ` removes a fraction s of weights."""
    name = "Exercise 2.1 (threshold_for_sparsity)"
    for weights in _check_arrays():
        for sparsity in (0.5, 0.8, 0.25, 0.9):
            theta = require_answer(call_answer(threshold_for_sparsity, name, weights.copy(), sparsity), name)
            if isinstance(theta, bool) or not isinstance(theta, int | float | np.integer | np.floating) \
                    and not (isinstance(theta, np.ndarray) and theta.size == 1):
                raise AssertionError(f"{name}: expected one number, got {type(theta).__name__}. "
                                     "Hint: return a single float, the threshold θ.")
            theta = float(theta)
            want = round(sparsity * weights.size)
            removed = int(np.count_nonzero(np.abs(weights) < theta))
            if removed == want:
                continue
            if int(np.count_nonzero(weights < theta)) == want:
                raise AssertionError(f"{name}: your θ removes the right count of *signed* values, but "
                                     "the rule is |w| >= θ. Hint: large negative weights matter as much "
                                     "as large positive ones; work with magnitudes.")
            raise AssertionError(
                f"{name}: with sparsity={sparsity} on {weights.size} weights, `np.abs(w) < θ` marks "
                f"{removed} weights for removal, but {want} should go. Hint: exactly round(sparsity * size) "
                "magnitudes must lie below θ (a fraction, not a percent); np.quantile interpolates "
                "between values and can miss by one.")
    passed(name, "θ is the magnitude at position round(s·m) of the sorted |W|: everything below it is pruned.")


def check_magnitude_prune(magnitude_prune: Callable) -> None:
    """Exercise 2.2: prune exactly round(s·size) smallest-magnitude weights, keeping the others."""
    name = "Exercise 2.2 (magnitude_prune)"
    for weights in _check_arrays(3):
        for sparsity in (0.0, 0.5, 0.8, 0.37, 0.99):
            pruned = require_answer(call_answer(magnitude_prune, name, weights.copy(), sparsity), name)
            pruned = np.asarray(pruned)
            if pruned.shape != weights.shape:
                raise AssertionError(f"{name}: the result has shape {pruned.shape}, the input "
                                     f"{weights.shape}. Hint: return an array shaped like the input.")
            want = round(sparsity * weights.size)
            zeros = int(np.count_nonzero(pruned == 0))
            if zeros != want:
                raise AssertionError(f"{name}: sparsity={sparsity} on {weights.size} weights left "
                                     f"{zeros} zeros; it should leave exactly round(s·size) of them. "
                                     "Hint: count how many to remove first, then pick that many.")
            kept = pruned != 0
            if not np.array_equal(pruned[kept], weights[kept]):
                raise AssertionError(f"{name}: some surviving weights changed value. Hint: pruning "
                                     "multiplies by a 0/1 mask; it must not rescale, sort or "
                                     "binarize the weights that stay.")
            if 0 < want < weights.size and np.abs(weights[kept]).min() < np.abs(weights[~kept]).max():
                raise AssertionError(f"{name}: a weight with a larger magnitude was pruned while a "
                                     "smaller one stayed. Hint: rank by |w|, not by w.")
    passed(name, "Exact sparsity, survivors untouched, smallest magnitudes gone.")


def check_nm_mask(nm_mask: Callable) -> None:
    """Exercise 2.3: an n:m keep-mask along axis 0 (the n largest |w| of every m consecutive rows)."""
    name = "Exercise 2.3 (nm_mask)"
    rng = np.random.default_rng(4)
    for shape, n, m in [((8, 4), 2, 4), ((16, 5), 2, 4), ((12, 3), 1, 4), ((16, 8), 4, 8), ((4,), 2, 4)]:
        weights = rng.normal(size=shape)
        mask = require_answer(call_answer(nm_mask, name, weights.copy(), n, m), name)
        mask = np.asarray(mask)
        if mask.shape != weights.shape:
            raise AssertionError(f"{name}: for weights of shape {shape} the mask has shape "
                                 f"{mask.shape}. Hint: one True/False per weight, same shape.")
        if not (mask.dtype == bool or np.isin(mask, [0, 1]).all()):
            raise AssertionError(f"{name}: the mask should hold only True/False (or 1/0). "
                                 "Hint: return where to keep, not the pruned weights.")
        groups = mask.astype(bool).reshape(shape[0] // m, m, -1)
        counts = groups.sum(axis=1)
        if not (counts == n).all():
            raise AssertionError(f"{name}: with n={n}, m={m} and shape {shape}, some groups keep "
                                 f"{sorted(set(counts.ravel().tolist()))} weights instead of {n}. "
                                 "Hint: groups are m consecutive entries along axis 0 (the input "
                                 "axis), separately for every column.")
        magnitudes = np.abs(weights).reshape(groups.shape)
        kept = np.where(groups, magnitudes, np.inf).min(axis=1)
        dropped = np.where(groups, -np.inf, magnitudes).max(axis=1)
        if (kept < dropped).any():
            raise AssertionError(f"{name}: in some group a smaller |w| is kept while a larger one is "
                                 "dropped. Hint: inside each group keep the n largest magnitudes.")
    passed(name, "Every group of m keeps its n largest magnitudes: the pattern TFMOT's "
                 "sparsity_m_by_n produces.")


def check_bitmask_bytes(bitmask_bytes: Callable) -> None:
    """Exercise 2.4: bytes of a float32 layer stored as a bitmask plus its nonzero values."""
    name = "Exercise 2.4 (bitmask_bytes)"
    rng = np.random.default_rng(5)
    cases = [np.zeros(16), np.ones(10), rng.normal(size=(784, 128)), rng.normal(size=(3, 3))]
    cases[2][rng.random(cases[2].shape) < 0.8] = 0.0
    cases[3][0] = 0.0
    for weights in cases:
        got = _as_int(call_answer(bitmask_bytes, name, weights.copy()), name,
                      f"bitmask_bytes of a {weights.shape} array")
        nonzero = int(np.count_nonzero(weights))
        want = -(-weights.size // 8) + 4 * nonzero
        if got != want:
            raise AssertionError(
                f"{name}: for {weights.size} weights with {nonzero} nonzeros you returned {got} bytes, "
                "which is not right. Hint: one *bit* per position (rounded up to whole bytes) says "
                "which entries are nonzero, then 4 bytes for each nonzero float32 value.")
    passed(name, "At 80% sparsity the bitmask format takes about a quarter of the dense bytes.")


def check_per_layer_sparsities(choose_sparsities: Callable, layer_sizes: dict,
                               baseline_accuracy: float, evaluate: Callable) -> None:
    """Exercise 2.5: per-layer sparsities with >= 75% overall sparsity and <= 1 pp accuracy loss.

    `layer_sizes` maps layer name to kernel size; `evaluate(sparsities)` prunes, fine-tunes and
    returns the accuracy on held-out validation data, compared with `baseline_accuracy` on the same
    data (it is called only once the cheap conditions hold).
    """
    name = "Exercise 2.5 (choose_sparsities)"
    choice = require_answer(call_answer(choose_sparsities, name), name)
    if not isinstance(choice, dict) or set(choice) != set(layer_sizes):
        raise AssertionError(f"{name}: return a dict with one sparsity per layer, keys "
                             f"{sorted(layer_sizes)}. Hint: e.g. {{'{next(iter(layer_sizes))}': 0.5, ...}}.")
    for layer, value in choice.items():
        if isinstance(value, bool) or not isinstance(value, int | float | np.integer | np.floating):
            raise AssertionError(f"{name}: the sparsity of {layer!r} should be a number, got "
                                 f"{type(value).__name__}. Hint: a fraction such as 0.5.")
        if not 0.0 <= float(value) < 1.0:
            raise AssertionError(f"{name}: the sparsity of {layer!r} must be in [0, 1), got {value}. "
                                 "Hint: 1.0 would remove the whole layer.")
    total = sum(layer_sizes.values())
    overall = sum(float(choice[k]) * layer_sizes[k] for k in layer_sizes) / total
    if overall < 0.75:
        raise AssertionError(f"{name}: your choice gives an overall sparsity of {overall:.1%}, below "
                             "the 75% asked. Hint: overall sparsity weights each layer by its number "
                             "of weights; look at which layer holds most of them.")
    accuracy = float(evaluate(dict(choice)))
    loss_pp = 100 * (baseline_accuracy - accuracy)
    if loss_pp > 1.0:
        raise AssertionError(f"{name}: after fine-tuning the accuracy is {accuracy:.2%}, {loss_pp:.2f} "
                             "percentage points below the baseline (at most 1 allowed). Hint: the "
                             "sensitivity scan shows which layer tolerates pruning; spare the "
                             "sensitive one and push the tolerant one.")
    passed(name, f"overall sparsity {overall:.1%}, accuracy {accuracy:.2%} "
                 f"({-loss_pp:+.2f} percentage points vs the baseline).")


# --- 04_mnist_project -------------------------------------------------------------------------

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


# --- 03_quantization ---------------------------------------------------------------------------

def _as_array(value, exercise: str, what: str) -> np.ndarray:
    require_answer(value, exercise)
    try:
        array = np.asarray(value, dtype=np.float64)
    except (TypeError, ValueError):
        raise AssertionError(f"{exercise}: {what} should be an array of numbers, got "
                             f"{type(value).__name__}. Hint: return a NumPy array.") from None
    return array


def check_scale_zero_point(scale_zero_point: Callable) -> None:
    """Exercise 3.1: affine scale and zero-point for a real range and a signed b-bit code range."""
    name = "Exercise 3.1 (scale_zero_point)"
    cases = [(-0.3, 0.9, 8), (-1.0, 3.0, 3), (0.2, 1.0, 4), (-2.0, -0.5, 4), (-0.1, 0.5, 2),
             (-0.07, 0.11, 8), (-5.0, 1.0, 16)]
    for rmin, rmax, bits in cases:
        result = call_answer(scale_zero_point, name, rmin, rmax, bits)
        require_answer(result, name)
        if not isinstance(result, tuple | list) or len(result) != 2:
            raise AssertionError(f"{name}: return a pair (scale, zero_point), got "
                                 f"{type(result).__name__}. Hint: `return scale, zero_point`.")
        scale, zero_point = result
        qmin, qmax = -(2 ** (bits - 1)), 2 ** (bits - 1) - 1
        lo, hi = min(rmin, 0.0), max(rmax, 0.0)
        want_scale = (hi - lo) / (qmax - qmin)
        call = f"scale_zero_point({rmin}, {rmax}, {bits})"
        if np.isclose(scale, (hi - lo) / 2 ** bits, rtol=1e-9, atol=0):
            raise AssertionError(f"{name}: {call} gives scale = range / 2^bits. Hint: 2^bits codes "
                                 "are separated by one step fewer than that.")
        if (lo != rmin or hi != rmax) and np.isclose(scale, (rmax - rmin) / (qmax - qmin), rtol=1e-9, atol=0):
            raise AssertionError(f"{name}: {call}: the range does not include 0. Hint: widen "
                                 "[rmin, rmax] to contain 0 first, so that 0.0 is exactly representable.")
        if not np.isclose(scale, want_scale, rtol=1e-9, atol=0):
            raise AssertionError(f"{name}: {call} returned scale {scale!r}, which is wrong. Hint: "
                                 "the scale is the real width of one integer step.")
        if isinstance(zero_point, bool) or not isinstance(zero_point, int | np.integer) and not (
                isinstance(zero_point, float | np.floating) and float(zero_point).is_integer()):
            raise AssertionError(f"{name}: {call} returned zero_point {zero_point!r}, which is not "
                                 "a whole number. Hint: the zero-point is an integer code; round it.")
        real = qmin - lo / want_scale
        allowed = {int(np.floor(real)), int(np.ceil(real))} if abs(real % 1 - 0.5) < 1e-6 \
            else {int(np.round(real))}
        if int(zero_point) - 2 ** (bits - 1) in allowed:
            raise AssertionError(f"{name}: {call}: your zero-point is for the unsigned code range "
                                 f"[0, 2^bits - 1]. Hint: use the signed range [{qmin}, {qmax}].")
        if int(zero_point) not in allowed:
            raise AssertionError(f"{name}: {call} returned zero_point {zero_point}, which is not "
                                 "right. Hint: the zero-point is the integer code that represents "
                                 "the real value 0, so rmin must map to qmin.")
    passed(name, "These are exactly the numbers a TFLite int8 tensor stores next to its codes.")


def check_quantize_dequantize(quantize_dequantize: Callable) -> None:
    """Exercise 3.2: round to the nearest code, clip to [qmin, qmax], map back to real values."""
    name = "Exercise 3.2 (quantize_dequantize)"
    rng = np.random.default_rng(32)
    cases = [(rng.normal(size=50) * 0.4, 0.01, 3, 8), (rng.uniform(-3, 3, size=(4, 5)), 0.25, -2, 4),
             (np.array([-10.0, -0.26, 0.0, 0.13, 0.74, 10.0]), 0.1, 1, 4),
             (rng.normal(size=30), 0.5, 0, 2)]
    for x, scale, zero_point, bits in cases:
        qmin, qmax = -(2 ** (bits - 1)), 2 ** (bits - 1) - 1
        got = _as_array(call_answer(quantize_dequantize, name, x.copy(), scale, zero_point, bits),
                        name, "the result")
        call = f"quantize_dequantize(x, scale={scale}, zero_point={zero_point}, bits={bits})"
        codes = np.round(x / scale) + zero_point
        want = (np.clip(codes, qmin, qmax) - zero_point) * scale
        if got.shape != x.shape:
            raise AssertionError(f"{name}: {call} returned shape {got.shape}, expected {x.shape}. "
                                 "Hint: work element-wise, keep the shape.")
        if np.allclose(got, np.clip(codes, qmin, qmax)) and not np.allclose(got, want):
            raise AssertionError(f"{name}: {call} returned the integer codes. Hint: after "
                                 "quantizing, dequantize: map the codes back to real values.")
        if np.allclose(got, (codes - zero_point) * scale) and not np.allclose(got, want):
            raise AssertionError(f"{name}: {call}: values outside the representable range were not "
                                 "clipped. Hint: codes must stay within [qmin, qmax] for the bit width.")
        if np.allclose(got, (np.clip(np.floor(x / scale) + zero_point, qmin, qmax) - zero_point)
                       * scale) and not np.allclose(got, want):
            raise AssertionError(f"{name}: {call} rounds down. Hint: round to the nearest code, so "
                                 "the error is at most half a step.")
        if not np.allclose(got, want, rtol=1e-6, atol=1e-9):
            raise AssertionError(f"{name}: {call} returned wrong values. Hint: code = round(x / "
                                 "scale) + zero_point, clipped; real = (code - zero_point) * scale.")
    passed(name, "Inside the range the error is at most scale / 2; outside it, clipping error grows.")


def check_lloyd_step(lloyd_step: Callable) -> None:
    """Exercise 3.3: one iteration of Lloyd's algorithm on 1-D values."""
    name = "Exercise 3.3 (lloyd_step)"
    rng = np.random.default_rng(33)
    data = rng.normal(size=400)
    cases = [(data, np.array([-1.5, -0.2, 0.3, 2.0])),
             (np.array([0.0, 0.1, 0.9, 1.0, 1.2]), np.array([0.0, 1.0])),
             (data, np.array([-0.5, 0.5, 40.0])),  # the last level attracts nothing
             (rng.uniform(-1, 1, 50), np.linspace(-1, 1, 8))]
    for values, codebook in cases:
        given = codebook.copy()
        got = _as_array(call_answer(lloyd_step, name, values.copy(), given), name,
                        "the new codebook")
        nearest = np.argmin(np.abs(values[:, None] - codebook[None, :]), axis=1)
        counts = np.bincount(nearest, minlength=len(codebook))
        sums = np.bincount(nearest, weights=values, minlength=len(codebook))
        want = np.where(counts > 0, sums / np.maximum(counts, 1), codebook)
        if got.shape == values.shape and got.shape != codebook.shape:
            raise AssertionError(f"{name}: returned one number per value. Hint: return the new "
                                 "codebook (one level per cluster), not the assignments.")
        if got.shape != codebook.shape:
            raise AssertionError(f"{name}: returned shape {got.shape} for a codebook of "
                                 f"{len(codebook)} levels. Hint: one new level per old level.")
        if np.any(np.isnan(got)):
            raise AssertionError(f"{name}: a level became NaN. Hint: a level that no value is "
                                 "nearest to (an empty cluster) keeps its old value.")
        if not np.array_equal(given, codebook):
            raise AssertionError(f"{name}: your function changed the codebook it was given. Hint: "
                                 "build a new array.")
        if not np.allclose(got, want, rtol=1e-9, atol=1e-12):
            raise AssertionError(f"{name}: the new levels are wrong. Hint: first give each value to "
                                 "its nearest level (smallest |value - level|), then move each level "
                                 "to the mean of its values.")
    passed(name, "Repeat it until nothing changes and you have k-means.")


def check_kmeans_storage_bytes(kmeans_storage_bytes: Callable) -> None:
    """Exercise 3.4: bytes of a k-level codebook (float32) plus packed indices."""
    name = "Exercise 3.4 (kmeans_storage_bytes)"
    for n, k in [(100_352, 16), (100_352, 256), (1_280, 4), (10, 5), (1000, 2), (7, 3), (33, 1024)]:
        got = _as_int(call_answer(kmeans_storage_bytes, name, n, k), name,
                      f"kmeans_storage_bytes({n}, {k})")
        bits = int(np.ceil(np.log2(k)))
        want = int(np.ceil(n * bits / 8)) + 4 * k
        call = f"kmeans_storage_bytes({n}, {k})"
        if got == want:
            continue
        if got == int(np.ceil(n * bits / 8)):
            raise AssertionError(f"{name}: {call} = {got} forgets the codebook. Hint: the k levels "
                                 "must be stored too, as float32.")
        if got == n * 4 + 4 * k or got == n * k // 8 + 4 * k or got == int(np.ceil(n * k / 8)) + 4 * k:
            raise AssertionError(f"{name}: {call} = {got}: wrong bits per index. Hint: an index "
                                 "that picks one of k levels needs ceil(log2(k)) bits.")
        if got == int(np.ceil(n * np.log2(k) / 8)) + 4 * k:
            raise AssertionError(f"{name}: {call} = {got}: a fractional number of bits per index. "
                                 "Hint: bits are whole; round log2(k) up.")
        raise AssertionError(f"{name}: {call} returned {got}. Hint: bytes = packed index bits "
                             "rounded up to whole bytes + 4 bytes per level.")
    passed(name, "For a large layer the codebook is negligible; the indices set the size.")


def check_lowest_bits(lowest_bits: Callable) -> None:
    """Exercise 3.5: the smallest bit width whose accuracy is within a tolerance (pp) of a baseline."""
    name = "Exercise 3.5 (lowest_bits)"
    cases = [({8: 0.975, 4: 0.974, 3: 0.968, 2: 0.60}, 0.9750, 0.5, 4),
             ({2: 0.50, 3: 0.9712, 4: 0.9741, 8: 0.9750}, 0.9750, 0.5, 3),
             ({8: 0.968, 6: 0.965, 4: 0.95}, 0.975, 0.5, None),
             ({3: 0.90, 8: 0.91, 5: 0.905}, 0.91, 0.8, 5),
             ({4: 0.974, 2: 0.973}, 0.9735, 0.5, 2),
             ({8: 0.80, 2: 0.79}, 0.80, 2.0, 2)]
    for accuracies, baseline, tolerance, want in cases:
        got = call_answer(lowest_bits, name, dict(accuracies), baseline, tolerance)
        call = f"lowest_bits({accuracies}, baseline={baseline}, tolerance_pp={tolerance})"
        if want is None:
            if got is not None:
                raise AssertionError(f"{name}: {call} returned {got!r}, but no bit width is within "
                                     "the tolerance. Hint: return None then. Remember that 1 pp "
                                     "(percentage point) is 0.01 in accuracy.")
            continue
        require_answer(got, name)
        if isinstance(got, float | np.floating) and not float(got).is_integer():
            raise AssertionError(f"{name}: {call} returned {got}, an accuracy. Hint: return the "
                                 "bit width (a key of the dict).")
        if got not in accuracies:
            raise AssertionError(f"{name}: {call} returned {got!r}, not one of the bit widths "
                                 f"{sorted(accuracies)}. Hint: return a key of `accuracies`.")
        if accuracies[got] < baseline - tolerance / 100 - 1e-12:
            raise AssertionError(f"{name}: {call} returned {got} bits, whose accuracy drops more "
                                 "than the tolerance. Hint: tolerance_pp is in percentage points: "
                                 "0.5 pp = 0.005.")
        if got != want:
            raise AssertionError(f"{name}: {call} returned {got} bits, but a smaller bit width is "
                                 "also within the tolerance. Hint: check every key, not just the "
                                 "first that fits in the dict's order.")
    passed(name)


# --- Notebook 06 (06_beyond_tfmot) -------------------------------------------------------------

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


_INT4_CHECK_MODEL: dict = {}


def _int4_check_model() -> bytes:
    """A float .tflite of notebook 06's CNN, untrained (conv1 small; conv2, conv3, logits large)."""
    if "model" not in _INT4_CHECK_MODEL:
        import tempfile
        from pathlib import Path

        import keras

        from helpers import litert_quantizer

        layers = keras.layers
        keras.utils.set_random_seed(6)
        stack = [layers.Input((28, 28)), layers.Reshape((28, 28, 1), name="reshape")]
        for i, channels in enumerate((8, 16, 32), start=1):
            stack += [layers.Conv2D(channels, 3, padding="same", use_bias=False, name=f"conv{i}"),
                      layers.BatchNormalization(name=f"bn{i}"), layers.ReLU(name=f"relu{i}"),
                      layers.MaxPooling2D(2, name=f"pool{i}")]
        model = keras.Sequential(stack + [layers.Flatten(name="flatten"),
                                          layers.Dense(10, name="logits")])
        with tempfile.TemporaryDirectory() as folder:
            path = litert_quantizer.export_litert(model, Path(folder) / "check.tflite")
            _INT4_CHECK_MODEL["model"] = path.read_bytes()
    return _INT4_CHECK_MODEL["model"]


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
    model = _int4_check_model()
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
