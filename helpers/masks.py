"""Pruning masks from scratch in NumPy (no TensorFlow, no Keras): magnitude pruning per layer
and with one global threshold, and n:m patterns; the bytes of sparse storage formats, and per-layer
sparsities allocated from a sensitivity scan. `helpers.pruning` (tf_keras models) and
`helpers.keras3_pruning` (Keras 3) both build on them."""

from __future__ import annotations

import numpy as np

from helpers._validate import fraction, integer


def as_weights(weights, name: str = "weights", ndim: int | None = None,
               layout: str = "") -> np.ndarray:
    """Return `weights` as a non-empty real NumPy array (with `ndim` dimensions, laid out as
    `layout` says, when given), or raise an error naming `name`."""
    array = np.asarray(weights)
    if array.dtype == bool or not (np.issubdtype(array.dtype, np.integer)
                                   or np.issubdtype(array.dtype, np.floating)):
        raise TypeError(f"{name} must be a numeric (integer or float) array, "
                        f"got dtype {array.dtype}")
    if array.size == 0:
        raise ValueError(f"{name} must not be empty, got shape {array.shape}")
    if np.issubdtype(array.dtype, np.floating) and not np.all(np.isfinite(array)):
        raise ValueError(f"{name} must be finite, got NaN or infinity")
    if ndim is not None and array.ndim != ndim:
        raise ValueError(f"{name} must be {ndim}-D {layout}, got shape {array.shape}")
    return array


def validate_sparsity(sparsity) -> float:
    """Return `sparsity` as a float, or raise if it is not a number in [0, 1)."""
    return fraction("sparsity", sparsity, hint="the fraction of weights set to zero")


def prune_count(size: int, sparsity: float) -> int:
    """How many of `size` weights a target `sparsity` removes: round(sparsity * size).

    Taught in notebook 02, §1.
    """
    size = integer("size", size, low=0)
    return int(round(validate_sparsity(sparsity) * size))


def magnitude_threshold(weights, sparsity: float) -> float:
    """The threshold θ of |W|, an order statistic (not an interpolated quantile): `|w| >= θ`
    keeps all but the round(s·size) smallest.

    θ is the smallest surviving magnitude, found by selection (`np.partition`, O(m)); it is 0
    when nothing is pruned and infinity when everything is. With ties at θ, `|w| >= θ` may keep
    more weights than asked; `magnitude_mask` breaks such ties exactly.

    Taught in notebook 02, §1 (Exercise 2.1).
    """
    magnitudes = np.abs(as_weights(weights)).ravel().astype(np.float64)
    k = prune_count(magnitudes.size, sparsity)
    if k == 0:
        return 0.0
    if k >= magnitudes.size:
        return float("inf")
    return float(np.partition(magnitudes, k)[k])


def magnitude_mask(weights, sparsity: float) -> np.ndarray:
    """Boolean keep-mask that removes exactly round(s·size) smallest-magnitude weights.

    Weights below the threshold are removed; ties at the threshold are removed in flat (C) index
    order, so the result is deterministic and the count is exact even with repeated values.

    Taught in notebook 02, §1 "Ties" (Exercise 2.2).
    """
    array = as_weights(weights)
    magnitudes = np.abs(array).ravel().astype(np.float64)
    k = prune_count(magnitudes.size, sparsity)
    keep = np.ones(magnitudes.size, dtype=bool)
    if k >= magnitudes.size:
        keep[:] = False
    elif k > 0:
        theta = np.partition(magnitudes, k - 1)[k - 1]  # the largest magnitude that is removed
        below = magnitudes < theta
        keep[below] = False
        ties = np.flatnonzero(magnitudes == theta)
        keep[ties[: k - int(below.sum())]] = False
    return keep.reshape(array.shape)


def magnitude_prune(weights, sparsity: float) -> np.ndarray:
    """Return a copy of `weights` with the round(s·size) smallest magnitudes set to zero.

    Survivors keep their exact values; ties are broken deterministically (see `magnitude_mask`).

    Taught in notebook 02, §1 (Exercise 2.2).
    """
    array = as_weights(weights)
    return np.where(magnitude_mask(array, sparsity), array, np.zeros((), dtype=array.dtype))


def global_magnitude_masks(weights_list, sparsity: float) -> list[np.ndarray]:
    """Keep-masks for several arrays pruned with ONE threshold shared by all of them.

    Taught in notebook 02, §1 "Global vs per-layer thresholds".
    """
    if isinstance(weights_list, np.ndarray) or not isinstance(weights_list, list | tuple) \
            or len(weights_list) == 0:
        raise TypeError("weights_list must be a non-empty list or tuple of arrays, got "
                        f"{type(weights_list).__name__}")
    arrays = [as_weights(w, f"weights_list[{i}]") for i, w in enumerate(weights_list)]
    flat = np.concatenate([np.abs(a).ravel().astype(np.float64) for a in arrays])
    keep = magnitude_mask(flat, sparsity)
    splits = np.cumsum([a.size for a in arrays])[:-1]
    return [part.reshape(a.shape) for part, a in zip(np.split(keep, splits), arrays, strict=True)]


def _validate_nm(array: np.ndarray, n: int, m: int) -> None:
    """Raise unless 0 <= n <= m and the input axis (axis 0) of `array` splits into groups of m."""
    m = integer("m", m, low=1, hint="the group size")
    integer("n", n, 0, m, hint="nonzeros kept per group, at most m")
    if array.shape[0] % m:
        raise ValueError(f"the input axis (axis 0) of weights has length {array.shape[0]}, which "
                         f"is not divisible by m={m}; pad it or pick m dividing {array.shape[0]}")


def nm_mask(weights, n: int = 2, m: int = 4) -> np.ndarray:
    """Boolean keep-mask with at most `n` nonzeros in every group of `m` consecutive weights.

    Groups run along the input axis (axis 0: rows of a Dense kernel, as TFMOT's `sparsity_m_by_n`
    does); each keeps its n largest magnitudes, ties going to the lower index. 2:4 is the pattern
    NVIDIA's sparse tensor cores accelerate.

    Taught in notebook 02, §3 (Exercise 2.3).
    """
    array = as_weights(weights)
    _validate_nm(array, n, m)
    groups = np.abs(array).reshape(array.shape[0] // m, m, -1)  # (groups, m, everything else)
    order = np.argsort(-groups, axis=1, kind="stable")  # largest first, ties to the lower index
    ranks = np.argsort(order, axis=1, kind="stable")
    return (ranks < n).reshape(array.shape)


def satisfies_nm(weights, n: int = 2, m: int = 4) -> bool:
    """True if every group of `m` consecutive weights along axis 0 holds at most `n` nonzeros.

    Taught in notebook 02, §3.
    """
    array = as_weights(weights)
    _validate_nm(array, n, m)
    return bool(((array.reshape(array.shape[0] // m, m, -1) != 0).sum(axis=1) <= n).all())


# --- sparse storage formats -------------------------------------------------------------------

SPARSE_FORMATS = ("bitmask", "csr")


def sparse_format_bytes(weights, fmt: str, value_bytes: int = 4, index_bytes: int = 4) -> int:
    """Bytes of a 2-D `weights` array stored in a sparse format, counted from a real encoding.

    - "bitmask": `np.packbits` of the nonzero pattern (one bit per position, whole bytes), then the
      nonzero values, `value_bytes` each;
    - "csr" (compressed sparse row): rows + 1 row offsets and one column index per nonzero,
      `index_bytes` each, then the nonzero values, `value_bytes` each.

    Taught in notebook 02, §5 (Exercise 2.4 asks for the break-even point).
    """
    array = as_weights(weights, "weights", 2, "(rows, cols)")
    if fmt not in SPARSE_FORMATS:
        raise ValueError(f"fmt must be one of {SPARSE_FORMATS}, got {fmt!r}")
    value_bytes = integer("value_bytes", value_bytes, 1, 8)
    index_bytes = integer("index_bytes", index_bytes, 1, 8)
    nonzero = array != 0
    values = array[nonzero]
    if fmt == "bitmask":
        return len(np.packbits(nonzero.ravel()).tobytes()) + values.size * value_bytes
    rows, cols = np.nonzero(nonzero)
    offsets = np.concatenate([[0], np.cumsum(np.bincount(rows, minlength=array.shape[0]))])
    return (offsets.size + cols.size) * index_bytes + values.size * value_bytes


# --- per-layer sparsity allocation ------------------------------------------------------------

def _layer_segments(grid, drops, size: int, max_drop: float) -> list[tuple[float, float, float]]:
    """(cost per pruned weight, from, to) of each piece of one layer's interpolated drop curve that
    stays within `max_drop`; the costs are made non-decreasing so pieces are taken in order."""
    grid, drops = np.asarray(grid, float), np.asarray(drops, float)
    pieces, worst = [], 0.0
    for lo, hi, d_lo, d_hi in zip(grid[:-1], grid[1:], drops[:-1], drops[1:], strict=True):
        if d_lo > max_drop:
            break
        end = hi if d_hi <= max_drop else lo + (max_drop - d_lo) / (d_hi - d_lo) * (hi - lo)
        worst = max(worst, (d_hi - d_lo) / ((hi - lo) * size))
        pieces.append((worst, float(lo), float(end)))
        if end < hi:
            break
    return pieces


def allocate_sparsities(sensitivity: dict, sizes: dict, target: float, max_drop: float) -> dict:
    """Per-layer sparsities that prune exactly `target` of all weights at the least predicted loss.

    `sensitivity[layer] = (grid, drops)`: a one-layer-at-a-time scan (sparsities from 0 upwards, and
    the accuracy drop measured at each). The predicted drop of a layer is the scan interpolated
    linearly (`np.interp`), and the layers' drops add up. No layer may exceed `max_drop`; the weights
    are taken where one more pruned weight costs the least (greedy on the pieces of the curves, which
    is optimal for convex curves). Raises ValueError when the limits cannot reach the target.

    Taught in notebook 02, §6 (Exercise 2.5).
    """
    if set(sensitivity) != set(sizes):
        raise ValueError(f"sensitivity and sizes must name the same layers, got {sorted(sensitivity)} "
                         f"and {sorted(sizes)}")
    target = validate_sparsity(target)
    pieces = sorted((cost, layer, lo, hi) for layer, (grid, drops) in sensitivity.items()
                    for cost, lo, hi in _layer_segments(grid, drops, sizes[layer], max_drop))
    chosen = dict.fromkeys(sizes, 0.0)
    needed = target * sum(sizes.values())
    for _cost, layer, lo, hi in pieces:
        if needed <= 0:
            break
        take = min((hi - lo) * sizes[layer], needed)
        chosen[layer] = lo + take / sizes[layer]
        needed -= take
    if needed > 1e-6:
        raise ValueError(f"no allocation prunes {target:.1%} of the weights with every layer's predicted "
                         f"drop at most {max_drop}: {needed:,.0f} weights short")
    return chosen


def predicted_drop(sensitivity: dict, sparsities: dict) -> float:
    """Sum over layers of the scan's drop, interpolated at each layer's sparsity (notebook 02, §6)."""
    return float(sum(np.interp(sparsities[layer], *map(np.asarray, sensitivity[layer]))
                     for layer in sensitivity))
