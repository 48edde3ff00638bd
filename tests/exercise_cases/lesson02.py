"""Known-wrong answers for notebook 02's exercise checks (the solutions come from the notebook)."""

from __future__ import annotations

import numpy as np

from exercise_cases import Case
from helpers import pruning


def namespace() -> dict:
    """The hidden tests need nothing from the notebook besides np and checks."""
    return {}


# --- 2.1 threshold_for_sparsity
def _signed_quantile(w, s):  # the article's signed rule
    return float(np.quantile(w, s))


def _keeps_s_instead_of_pruning_s(w, s):
    return float(np.quantile(np.abs(w), 1 - s))


def _percent_for_a_fraction(w, s):
    return float(np.percentile(np.abs(w), s))


def _interpolated_quantile(w, s):  # np.quantile's position is s·(m − 1), not round(s·m)
    return float(np.quantile(np.abs(w), s))


# --- 2.2 magnitude_prune
def _prunes_in_place(w, s):
    w[pruning.magnitude_mask(w, s) == 0] = 0.0
    return w


def _threshold_only(w, s):  # exact without ties, wrong with them
    return np.where(np.abs(w) >= pruning.magnitude_threshold(w, s), w, 0.0)


def _signed_rule(w, s):
    return np.where(w >= np.quantile(w, s), w, 0)


def _returns_the_mask(w, s):
    return np.where(np.abs(w) >= np.quantile(np.abs(w), s), 1.0, 0.0)


def _flattened(w, s):
    return pruning.magnitude_prune(w, s).ravel()


def _overshoots(w, s):
    return pruning.magnitude_prune(w, min(s + 0.05, 0.99))


# --- 2.3 nm_mask
def _keeps_the_smallest(w, n, m):
    return ~pruning.nm_mask(w, n, m)


def _global_not_per_group(w, n, m):
    return pruning.magnitude_mask(w, 1 - n / m)


def _signed_values(w, n, m):
    groups = np.asarray(w).reshape(np.shape(w)[0] // m, m, -1)
    ranks = np.argsort(np.argsort(-groups, axis=1, kind="stable"), axis=1, kind="stable")
    return (ranks < n).reshape(np.shape(w))


def _groups_along_the_last_axis(w, n, m):
    w = np.asarray(w)
    if w.ndim == 2 and w.shape[1] % m == 0:
        return pruning.nm_mask(w.T, n, m).T
    return np.zeros(w.shape, bool)


# --- 2.4 max_nonzeros

def _no_row_offsets(fmt, shape, value_bytes, index_bytes):  # CSR without its rows + 1 offsets
    rows, cols = shape
    per = value_bytes + (index_bytes if fmt == "csr" else 0)
    fixed = 0 if fmt == "csr" else -(-rows * cols // 8)
    return min(rows * cols, (rows * cols * value_bytes - fixed) // per)


def _rows_not_rows_plus_one(fmt, shape, value_bytes, index_bytes):
    rows, cols = shape
    per = value_bytes + (index_bytes if fmt == "csr" else 0)
    fixed = rows * index_bytes if fmt == "csr" else -(-rows * cols // 8)
    return min(rows * cols, (rows * cols * value_bytes - fixed) // per)


def _no_column_indices(fmt, shape, value_bytes, index_bytes):
    rows, cols = shape
    fixed = (rows + 1) * index_bytes if fmt == "csr" else -(-rows * cols // 8)
    return min(rows * cols, (rows * cols * value_bytes - fixed) // value_bytes)


def _a_byte_per_mask_position(fmt, shape, value_bytes, index_bytes):
    rows, cols = shape
    fixed, per = ((rows + 1) * index_bytes, value_bytes + index_bytes) if fmt == "csr" else (rows * cols, value_bytes)
    return max(0, min(rows * cols, (rows * cols * value_bytes - fixed) // per))


def _strictly_smaller(fmt, shape, value_bytes, index_bytes):  # < instead of <=: one short at equality
    rows, cols = shape
    fixed, per = ((rows + 1) * index_bytes, value_bytes + index_bytes) if fmt == "csr" \
        else (-(-rows * cols // 8), value_bytes)
    return min(rows * cols, (rows * cols * value_bytes - fixed - 1) // per)


def _float32_always(fmt, shape, value_bytes, index_bytes):  # ignores value_bytes
    rows, cols = shape
    fixed, per = ((rows + 1) * index_bytes, 4 + index_bytes) if fmt == "csr" else (-(-rows * cols // 8), 4)
    return min(rows * cols, (rows * cols * 4 - fixed) // per)


def _break_even_sparsity(fmt, shape, value_bytes, index_bytes):  # a fraction, not a count
    rows, cols = shape
    fixed, per = ((rows + 1) * index_bytes, value_bytes + index_bytes) if fmt == "csr" \
        else (-(-rows * cols // 8), value_bytes)
    return 1 - ((rows * cols * value_bytes - fixed) // per) / (rows * cols)


# --- 2.5 choose_sparsities
def _uniform(sensitivity, sizes, target, max_drop):
    return dict.fromkeys(sizes, target)


def _every_layer_at_its_limit(sensitivity, sizes, target, max_drop):
    return {layer: max(s for s, d in zip(*sensitivity[layer], strict=True) if d <= max_drop) for layer in sizes}


def _greedy_per_unit_sparsity(sensitivity, sizes, target, max_drop):
    """Cheapest pieces first, but the cost is per unit of sparsity: it forgets the layers' sizes."""
    return _greedy(sensitivity, sizes, target, max_drop, per_weight=False)


def _greedy(sensitivity, sizes, target, max_drop, per_weight=True, limits=True, grid_only=False):
    pieces = []
    for layer, (grid, drops) in sensitivity.items():
        worst = 0.0
        for lo, hi, d_lo, d_hi in zip(grid[:-1], grid[1:], drops[:-1], drops[1:], strict=True):
            if limits and d_hi > max_drop:
                break
            worst = max(worst, (d_hi - d_lo) / ((hi - lo) * (sizes[layer] if per_weight else 1)))
            pieces.append((worst, layer, lo, hi))
    chosen, needed = dict.fromkeys(sizes, 0.0), target * sum(sizes.values())
    for _, layer, lo, hi in sorted(pieces):
        if needed <= 0:
            break
        take = (hi - lo) * sizes[layer] if grid_only else min((hi - lo) * sizes[layer], needed)
        chosen[layer] = lo + take / sizes[layer]
        needed -= take
    return chosen


def _ignores_max_drop(sensitivity, sizes, target, max_drop):
    return _greedy(sensitivity, sizes, target, max_drop, limits=False)


def _grid_points_only(sensitivity, sizes, target, max_drop):
    return _greedy(sensitivity, sizes, target, max_drop, grid_only=True)


def _never_raises(sensitivity, sizes, target, max_drop):
    try:
        return pruning.allocate_sparsities(sensitivity, sizes, target, max_drop)
    except ValueError:
        return _every_layer_at_its_limit(sensitivity, sizes, target, max_drop)


CASES = {
    "check_threshold_for_sparsity": Case(wrong=[
        _signed_quantile, _keeps_s_instead_of_pruning_s, _percent_for_a_fraction,
        _interpolated_quantile, lambda w, s: "0.5"]),
    "check_magnitude_prune": Case(wrong=[
        _prunes_in_place, _threshold_only, _signed_rule, _returns_the_mask, _flattened,
        _overshoots]),
    "check_nm_mask": Case(wrong=[
        _keeps_the_smallest, _global_not_per_group, _signed_values, _groups_along_the_last_axis]),
    "check_max_nonzeros": Case(wrong=[
        _no_row_offsets, _rows_not_rows_plus_one, _no_column_indices, _a_byte_per_mask_position,
        _strictly_smaller, _float32_always, _break_even_sparsity]),
    "check_choose_sparsities": Case(wrong=[
        _uniform, _every_layer_at_its_limit, _greedy_per_unit_sparsity, _ignores_max_drop, _grid_points_only,
        _never_raises]),
}
