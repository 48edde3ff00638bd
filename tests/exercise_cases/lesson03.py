"""Known-wrong answers for notebook 03's exercise checks (the solutions come from the notebook)."""

from __future__ import annotations

import math

import numpy as np

from exercise_cases import Case


def _signed(bits):
    return -(2 ** (bits - 1)), 2 ** (bits - 1) - 1


# --- 3.1 scale_zero_point
def _scale_over_2_to_the_bits(rmin, rmax, bits):  # 2^b codes, but only 2^b - 1 steps
    qmin, _ = _signed(bits)
    rmin, rmax = min(rmin, 0.0), max(rmax, 0.0)
    scale = (rmax - rmin) / 2 ** bits
    return scale, round(qmin - rmin / scale)


def _range_without_zero(rmin, rmax, bits):
    qmin, qmax = _signed(bits)
    scale = (rmax - rmin) / (qmax - qmin)
    return scale, round(qmin - rmin / scale)


def _unsigned_codes(rmin, rmax, bits):  # codes 0 … 2^b - 1
    rmin, rmax = min(rmin, 0.0), max(rmax, 0.0)
    scale = (rmax - rmin) / (2 ** bits - 1)
    return scale, round(-rmin / scale)


def _truncates_the_zero_point(rmin, rmax, bits):  # int() cuts toward zero instead of rounding
    qmin, qmax = _signed(bits)
    rmin, rmax = min(rmin, 0.0), max(rmax, 0.0)
    scale = (rmax - rmin) / (qmax - qmin)
    return scale, int(qmin - rmin / scale)


def _sign_error(rmin, rmax, bits):
    qmin, qmax = _signed(bits)
    rmin, rmax = min(rmin, 0.0), max(rmax, 0.0)
    scale = (rmax - rmin) / (qmax - qmin)
    return scale, round(qmin + rmin / scale)


def _zero_point_not_rounded(rmin, rmax, bits):
    qmin, qmax = _signed(bits)
    rmin, rmax = min(rmin, 0.0), max(rmax, 0.0)
    scale = (rmax - rmin) / (qmax - qmin)
    return scale, qmin - rmin / scale


def _scale_only(rmin, rmax, bits):  # not a pair
    return (max(rmax, 0.0) - min(rmin, 0.0)) / (2 ** bits - 1)


# --- 3.2 quantize_dequantize
def _returns_the_codes(x, scale, zero_point, bits):
    qmin, qmax = _signed(bits)
    return np.clip(np.round(x / scale) + zero_point, qmin, qmax)


def _no_clipping(x, scale, zero_point, bits):
    return np.round(x / scale) * scale


def _rounds_down(x, scale, zero_point, bits):
    qmin, qmax = _signed(bits)
    return (np.clip(np.floor(x / scale) + zero_point, qmin, qmax) - zero_point) * scale


def _forgets_the_zero_point(x, scale, zero_point, bits):
    qmin, qmax = _signed(bits)
    return np.clip(np.round(x / scale), qmin, qmax) * scale


def _unsigned_clip(x, scale, zero_point, bits):
    return (np.clip(np.round(x / scale) + zero_point, 0, 2 ** bits - 1) - zero_point) * scale


def _adds_the_zero_point_back(x, scale, zero_point, bits):
    qmin, qmax = _signed(bits)
    return (np.clip(np.round(x / scale) + zero_point, qmin, qmax) + zero_point) * scale


def _writes_into_x(x, scale, zero_point, bits):
    qmin, qmax = _signed(bits)
    x[...] = (np.clip(np.round(x / scale) + zero_point, qmin, qmax) - zero_point) * scale
    return x


# --- 3.3 lloyd_step
def _step(values, codebook, nearest, empty=lambda j, codebook: codebook[j], statistic=np.mean):
    return np.array([statistic(values[nearest == j]) if np.any(nearest == j) else empty(j, codebook)
                     for j in range(len(codebook))])


def _nearest(values, codebook):
    return np.argmin(np.abs(values[:, None] - codebook[None, :]), axis=1)


def _empty_cluster_is_nan(values, codebook):
    with np.errstate(all="ignore"):
        return _step(values, codebook, _nearest(values, codebook), empty=lambda j, c: np.nan)


def _ties_to_the_upper_level(values, codebook):  # searchsorted(..., side="right") on the midpoints
    nearest = np.searchsorted((codebook[1:] + codebook[:-1]) / 2, values, side="right")
    return _step(values, codebook, nearest)


def _updates_in_place(values, codebook):
    codebook[:] = _step(values, codebook, _nearest(values, codebook))
    return codebook


def _empty_cluster_goes_to_zero(values, codebook):
    return _step(values, codebook, _nearest(values, codebook), empty=lambda j, c: 0.0)


def _median(values, codebook):
    return _step(values, codebook, _nearest(values, codebook), statistic=np.median)


def _the_level_below(values, codebook):  # assigns to the level below, not the nearest
    nearest = np.clip(np.searchsorted(codebook, values) - 1, 0, len(codebook) - 1)
    return _step(values, codebook, nearest)


def _returns_the_assignments(values, codebook):
    return _nearest(values, codebook)


def _drops_empty_clusters(values, codebook):
    nearest = _nearest(values, codebook)
    return np.array([values[nearest == j].mean() for j in range(len(codebook))
                     if np.any(nearest == j)])


# --- 3.4 kmeans_storage_bytes
def _forgets_the_codebook(n_weights, k):
    return math.ceil(n_weights * math.ceil(math.log2(k)) / 8)


def _fractional_bits(n_weights, k):
    return math.ceil(n_weights * math.log2(k) / 8) + 4 * k


def _floor_of_log2(n_weights, k):  # 12 levels in 3 bits?
    return math.ceil(n_weights * int(math.log2(k)) / 8) + 4 * k


def _k_bits_per_index(n_weights, k):
    return math.ceil(n_weights * k / 8) + 4 * k


def _bytes_rounded_down(n_weights, k):
    return n_weights * math.ceil(math.log2(k)) // 8 + 4 * k


def _one_byte_per_index(n_weights, k):  # indices not packed
    return n_weights * math.ceil(math.ceil(math.log2(k)) / 8) + 4 * k


def _float64_codebook(n_weights, k):
    return math.ceil(n_weights * math.ceil(math.log2(k)) / 8) + 8 * k


# --- 3.5 lowest_bits
def _relative_percent(accuracies, baseline, tolerance_pp=0.5):  # 0.5 % *of* the baseline
    good = [b for b, a in accuracies.items() if a >= baseline * (1 - tolerance_pp / 100)]
    return min(good) if good else None


def _first_in_dict_order(accuracies, baseline, tolerance_pp=0.5):
    for bits, accuracy in accuracies.items():
        if accuracy >= baseline - tolerance_pp / 100:
            return bits
    return None


def _pp_read_as_a_fraction(accuracies, baseline, tolerance_pp=0.5):
    good = [b for b, a in accuracies.items() if a >= baseline - tolerance_pp]
    return min(good) if good else None


def _strictly_less_than(accuracies, baseline, tolerance_pp=0.5):
    good = [b for b, a in accuracies.items() if baseline - a < tolerance_pp / 100]
    return min(good) if good else None


def _absolute_difference(accuracies, baseline, tolerance_pp=0.5):  # punishes a gain too
    good = [b for b, a in accuracies.items() if abs(baseline - a) <= tolerance_pp / 100]
    return min(good) if good else None


def _walks_down_until_the_first_failure(accuracies, baseline, tolerance_pp=0.5):
    best = None
    for bits in sorted(accuracies, reverse=True):
        if accuracies[bits] < baseline - tolerance_pp / 100:
            break
        best = bits
    return best


def _min_without_a_default(accuracies, baseline, tolerance_pp=0.5):  # min() of nothing raises
    return min(b for b, a in accuracies.items() if a >= baseline - tolerance_pp / 100)


def _returns_the_accuracy(accuracies, baseline, tolerance_pp=0.5):
    good = [b for b, a in accuracies.items() if a >= baseline - tolerance_pp / 100]
    return accuracies[min(good)] if good else None


CASES = {
    "check_scale_zero_point": Case(wrong=[
        _scale_over_2_to_the_bits, _range_without_zero, _unsigned_codes, _truncates_the_zero_point,
        _sign_error, _zero_point_not_rounded, _scale_only]),
    "check_quantize_dequantize": Case(wrong=[
        _returns_the_codes, _no_clipping, _rounds_down, _forgets_the_zero_point, _unsigned_clip,
        _adds_the_zero_point_back, _writes_into_x]),
    "check_lloyd_step": Case(wrong=[
        _empty_cluster_is_nan, _ties_to_the_upper_level, _updates_in_place,
        _empty_cluster_goes_to_zero, _median, _the_level_below, _returns_the_assignments,
        _drops_empty_clusters]),
    "check_kmeans_storage_bytes": Case(wrong=[
        _forgets_the_codebook, _fractional_bits, _floor_of_log2, _k_bits_per_index,
        _bytes_rounded_down, _one_byte_per_index, _float64_codebook]),
    "check_lowest_bits": Case(wrong=[
        _relative_percent, _first_in_dict_order, _strictly_less_than, _pp_read_as_a_fraction,
        _absolute_difference, _walks_down_until_the_first_failure, _min_without_a_default,
        _returns_the_accuracy]),
}
