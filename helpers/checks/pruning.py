"""Exercise checks of notebook 02_pruning (Pruning)."""

from __future__ import annotations

import copy
from collections.abc import Callable

import numpy as np

from helpers import masks

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


def _dense_and_encoded(fmt: str, shape: tuple, value_bytes: int, index_bytes: int, nonzeros: int) -> tuple[int, int]:
    """Dense bytes, and the bytes of a real encoding of a matrix of `shape` with `nonzeros` nonzeros."""
    rng = np.random.default_rng(nonzeros)
    flat = np.zeros(int(np.prod(shape)))
    flat[rng.permutation(flat.size)[:nonzeros]] = rng.uniform(0.5, 1.0, nonzeros)
    encoded = masks.sparse_format_bytes(flat.reshape(shape), fmt, value_bytes, index_bytes)
    return flat.size * value_bytes, encoded


MAX_NONZEROS_CASES = [  # (format, shape, value bytes, index bytes)
    ("bitmask", (784, 128), 4, 4), ("csr", (784, 128), 4, 4), ("csr", (784, 128), 1, 2),
    ("bitmask", (3, 3), 1, 2), ("bitmask", (128, 10), 1, 1), ("bitmask", (300, 100), 2, 2),
    ("csr", (300, 100), 4, 2), ("csr", (10, 7), 4, 4), ("csr", (5, 64), 2, 1), ("csr", (64, 5), 2, 1),
]


def check_max_nonzeros(max_nonzeros: Callable) -> None:
    """Exercise 2.4: the largest number of nonzeros at which a sparse format is no bigger than dense.

    The expected count comes from real encodings (`helpers.masks.sparse_format_bytes`: `np.packbits`
    for the bitmask, offsets and column indices for CSR), not from a formula.
    """
    name = "Exercise 2.4 (max_nonzeros)"
    for fmt, shape, value_bytes, index_bytes in MAX_NONZEROS_CASES:
        got = _as_int(call_answer(max_nonzeros, name, fmt, shape, value_bytes, index_bytes), name,
                      f"max_nonzeros({fmt!r}, {shape}, {value_bytes}, {index_bytes})")
        size = shape[0] * shape[1]
        what = (f"for {fmt!r}, shape {shape}, {value_bytes}-byte values and {index_bytes}-byte indices "
                f"you returned {got}")
        hint = ("Hint: the bitmask costs one bit per position (whole bytes) whatever the count, and each "
                "nonzero adds its value." if fmt == "bitmask" else
                "Hint: CSR stores rows + 1 row offsets whatever the count, and each nonzero adds a column "
                "index and a value.")
        if not 0 <= got <= size:
            raise AssertionError(f"{name}: {what}, but a matrix of {size} entries holds 0 to {size} "
                                 f"nonzeros. Hint: return a count of nonzeros, not bytes or a fraction.")
        dense, encoded = _dense_and_encoded(fmt, shape, value_bytes, index_bytes, got)
        if encoded > dense:
            raise AssertionError(f"{name}: {what}, but encoded with that many nonzeros the format takes "
                                 f"{encoded:,} B, more than the {dense:,} B of dense storage. {hint}")
        if got < size and _dense_and_encoded(fmt, shape, value_bytes, index_bytes, got + 1)[1] <= dense:
            raise AssertionError(f"{name}: {what}: that many fit ({encoded:,} B against {dense:,} B dense), "
                                 f"but it is not the largest count that does. {hint} "
                                 "Solve the inequality for the count, and mind the rounding.")
    passed(name, "The break-even counts match real encodings (np.packbits and CSR arrays) byte for byte.")


def _sensitivity_cases() -> list[tuple[dict, dict, float, float]]:
    """(sensitivity, sizes, target, max_drop) cases with three or more layers (and one with two)."""
    grid = [0.0, 0.5, 0.7, 0.8, 0.9, 0.95, 0.98, 0.99]
    lenet = {"fc1": (grid, [0, .0005, .001, .002, .004, .01, .03, .08]),
             "fc2": (grid, [0, .001, .003, .006, .015, .03, .08, .2]),
             "fc3": (grid, [0, .004, .01, .02, .05, .1, .3, .5])}
    lenet_sizes = {"fc1": 784 * 300, "fc2": 300 * 100, "fc3": 100 * 10}
    coarse = [0.0, 0.25, 0.5, 0.75, 0.9, 0.99]
    two = {"big": (coarse, [0.05 * s for s in coarse]), "small": (coarse, [0.01 * s for s in coarse])}
    cnn_grid = [0.0, 0.3, 0.6, 0.8, 0.9, 0.95]
    cnn = {"conv1": (cnn_grid, [0, .01, .04, .09, .2, .4]), "conv2": (cnn_grid, [0, .002, .006, .015, .03, .07]),
           "conv3": (cnn_grid, [0, .001, .002, .004, .008, .02]), "dense": (cnn_grid, [0, .001, .003, .01, .05, .2])}
    cnn_sizes = {"conv1": 288, "conv2": 4608, "conv3": 18432, "dense": 5120}
    cliff_grid = [0.0, 0.5, 0.7, 0.9, 0.99]
    cliff = {"wide": (cliff_grid, [0, .001, .002, .004, .03]), "mid": (cliff_grid, [0, .01, .03, .06, .3]),
             "out": (cliff_grid, [0, .02, .05, .1, .4])}
    cliff_sizes = {"wide": 50_000, "mid": 20_000, "out": 2_000}
    rng = np.random.default_rng(25)
    random_curves = {f"layer{i}": (grid, [0.0, *np.cumsum(np.sort(rng.exponential(0.004, len(grid) - 1)))])
                     for i in range(5)}
    random_sizes = {layer: int(rng.integers(500, 60_000)) for layer in random_curves}
    return [(lenet, lenet_sizes, 0.9, 0.02), (two, {"big": 100_000, "small": 1_000}, 0.5, 0.05),
            (cnn, cnn_sizes, 0.8, 0.03), (cliff, cliff_sizes, 0.78, 0.01), (random_curves, random_sizes, 0.7, 0.01)]


def check_choose_sparsities(choose_sparsities: Callable) -> None:
    """Exercise 2.5: per-layer sparsities from a sensitivity scan that prune exactly the target share
    of all weights, keep every layer within its drop limit, and predict a smaller loss than uniform."""
    name = "Exercise 2.5 (choose_sparsities)"
    for sensitivity, sizes, target, max_drop in _sensitivity_cases():
        given = copy.deepcopy(sensitivity)
        choice = require_answer(call_answer(choose_sparsities, name, given, dict(sizes), target, max_drop), name)
        case = f"for layers {sorted(sizes)} (target {target:.0%}, max_drop {max_drop})"
        if not isinstance(choice, dict) or set(choice) != set(sizes):
            raise AssertionError(f"{name}: {case} return a dict with one sparsity per layer. "
                                 "Hint: {layer: sparsity, ...} with the keys of `sizes`.")
        for layer, value in choice.items():
            if isinstance(value, bool) or not isinstance(value, int | float | np.integer | np.floating) \
                    or not 0.0 <= float(value) <= 1.0:
                raise AssertionError(f"{name}: {case} the sparsity of {layer!r} is {value!r}. "
                                     "Hint: each sparsity is a fraction in [0, 1].")
        pruned = sum(float(choice[layer]) * sizes[layer] for layer in sizes)
        wanted = target * sum(sizes.values())
        if abs(pruned - wanted) > 1:
            raise AssertionError(f"{name}: {case} your sparsities prune {pruned:,.1f} weights in all, "
                                 f"{'more' if pruned > wanted else 'fewer'} than the target share of "
                                 f"{sum(sizes.values()):,} weights (one weight of slack). Hint: the overall "
                                 "sparsity weighs each layer by its size, and a layer may stop between two "
                                 "grid points.")
        for layer, (grid, drops) in sensitivity.items():
            drop = float(np.interp(float(choice[layer]), grid, drops))
            if drop > max_drop + 1e-9:
                raise AssertionError(f"{name}: {case} layer {layer!r} at sparsity {float(choice[layer]):.4f} "
                                     f"has a predicted drop of {drop:.4f}, above max_drop. Hint: each layer "
                                     "has a largest sparsity its scan allows; never go past it.")
        mine = masks.predicted_drop(sensitivity, choice)
        uniform = masks.predicted_drop(sensitivity, dict.fromkeys(sizes, target))
        best = masks.predicted_drop(sensitivity, masks.allocate_sparsities(sensitivity, sizes, target, max_drop))
        if mine > max(best, (best + uniform) / 2) + 1e-9:
            raise AssertionError(f"{name}: {case} your choice predicts a total drop of {mine:.4f}; the same "
                                 f"sparsity everywhere predicts {uniform:.4f}, and the check asks for at least "
                                 "half of the gain the best allocation achieves over that. Hint: compare the "
                                 "layers by the drop one more pruned *weight* costs (a slope divided by the "
                                 "layer's size), and prune where it is cheapest first.")
        if given != sensitivity:
            raise AssertionError(f"{name}: your function changed the scan it was given. Hint: read it, do not "
                                 "modify it.")
    sensitivity, sizes, _target, _max = _sensitivity_cases()[0]
    try:
        choice = call_answer(choose_sparsities, name, copy.deepcopy(sensitivity), dict(sizes), 0.95, 0.002)
    except ValueError:
        choice = None
    if choice is not None:
        raise AssertionError(f"{name}: for layers {sorted(sizes)} at target 95% with max_drop 0.002 no "
                             "allocation exists, but your function returned one. Hint: when even every "
                             "layer at its limit prunes too few weights, raise ValueError.")
    passed(name, "Exact overall sparsity, every layer within its limit, a smaller predicted drop than "
                 "uniform sparsity.")
