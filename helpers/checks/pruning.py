"""Exercise checks of notebook 02_pruning (Pruning)."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from ._common import _as_int, call_answer, passed, require_answer


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
    rng = np.random.default_rng(22)
    tied = [rng.choice([-0.75, -0.5, -0.25, 0.25, 0.5, 0.75], size=(8, 5)),  # quantized-like weights
            np.array([0.3, -0.1, 0.1, 0.5, -0.1, 0.2])]
    for weights in _check_arrays(3) + tied:
        for sparsity in (0.0, 0.5, 0.8, 0.37, 0.99, 1 / 3):
            given = weights.copy()
            pruned = require_answer(call_answer(magnitude_prune, name, given, sparsity), name)
            if not np.array_equal(given, weights):
                raise AssertionError(f"{name}: your function changed the array it was given. Hint: "
                                     "work on a copy (`w.copy()`) and return it; the caller may still "
                                     "need the original weights.")
            pruned = np.asarray(pruned)
            if pruned.shape != weights.shape:
                raise AssertionError(f"{name}: the result has shape {pruned.shape}, the input "
                                     f"{weights.shape}. Hint: return an array shaped like the input.")
            want = round(sparsity * weights.size)
            zeros = int(np.count_nonzero(pruned == 0))
            if zeros != want:
                raise AssertionError(f"{name}: sparsity={sparsity} on {weights.size} weights left "
                                     f"{zeros} zeros; it should leave exactly round(s·size) of them. "
                                     "Hint: count how many to remove first, then pick that many"
                                     + (" — with ties at θ, a threshold alone cannot hit the count."
                                        if len(np.unique(np.abs(weights))) < weights.size else "."))
            kept = pruned != 0
            if not np.array_equal(pruned[kept], weights[kept]):
                raise AssertionError(f"{name}: some surviving weights changed value. Hint: pruning "
                                     "multiplies by a 0/1 mask; it must not rescale, sort or "
                                     "binarize the weights that stay.")
            if 0 < want < weights.size and np.abs(weights[kept]).min() < np.abs(weights[~kept]).max():
                raise AssertionError(f"{name}: a weight with a larger magnitude was pruned while a "
                                     "smaller one stayed. Hint: rank by |w|, not by w.")
    passed(name, "Exact sparsity (ties included), survivors untouched, smallest magnitudes gone.")


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
