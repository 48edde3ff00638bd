"""Known-wrong answers for notebook 02's exercise checks (the solutions come from the notebook)."""

from __future__ import annotations

import numpy as np

from exercise_cases import Case
from helpers import pruning

LAYER_SIZES = {"hidden": 784 * 128, "logits": 128 * 10}
BASELINE = 0.975


def namespace() -> dict:
    """Stand-ins for the notebook's kernels (the hidden tests use only their sizes)."""
    return {"W1": np.zeros((784, 128), np.float32), "W2": np.zeros((128, 10), np.float32)}


def _fine_tuned_accuracy(sparsities: dict) -> float:
    """A stand-in for fine-tuning: the small output layer is the sensitive one."""
    return BASELINE - (0.03 if sparsities["logits"] > 0.6 else 0.002)


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


# --- 2.4 bitmask_bytes
def _forgets_the_mask(w):
    return 4 * int(np.count_nonzero(w))


def _a_byte_per_position(w):
    return np.size(w) + 4 * int(np.count_nonzero(w))


def _fractional_bytes(w):
    return np.size(w) / 8 + 4 * int(np.count_nonzero(w))


def _counts_the_zeros(w):
    return int(np.ceil(np.size(w) / 8)) + 4 * (np.size(w) - int(np.count_nonzero(w)))


CASES = {
    "check_threshold_for_sparsity": Case(wrong=[
        _signed_quantile, _keeps_s_instead_of_pruning_s, _percent_for_a_fraction,
        _interpolated_quantile, lambda w, s: "0.5"]),
    "check_magnitude_prune": Case(wrong=[
        _prunes_in_place, _threshold_only, _signed_rule, _returns_the_mask, _flattened,
        _overshoots]),
    "check_nm_mask": Case(wrong=[
        _keeps_the_smallest, _global_not_per_group, _signed_values, _groups_along_the_last_axis]),
    "check_bitmask_bytes": Case(wrong=[
        _forgets_the_mask, _a_byte_per_position, _fractional_bytes, _counts_the_zeros,
        lambda w: 4 * np.size(w)]),
    "check_per_layer_sparsities": Case(
        wrong=[lambda: {"hidden": 0.5, "logits": 0.5},      # not sparse enough
               lambda: {"hidden": 0.74, "logits": 0.99},    # the unweighted mean is > 75%
               lambda: {"hidden": 0.99, "logits": 0.99},    # prunes the sensitive layer
               lambda: {"hidden": 0.8},                     # a layer missing
               lambda: {"hidden": 1.0, "logits": 0.0}],     # removes a whole layer
        extra_args=lambda: (LAYER_SIZES, BASELINE, _fine_tuned_accuracy)),
}
