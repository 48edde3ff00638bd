"""Known-wrong answers for notebook 03's exercise checks (the solutions come from the notebook)."""

from __future__ import annotations

import numpy as np

from exercise_cases import Case


def _clipped_symmetric(w, top, bits):  # section 4's quantizer, which the 3.1 solution uses
    qmax = 2 ** (bits - 1) - 1
    step = top / qmax
    with np.errstate(divide="ignore", invalid="ignore"):  # a wrong answer may hand it a zero
        return np.clip(np.round(w / step), -qmax, qmax) * step


def _mse(a, b):
    return float(np.mean((np.asarray(a, dtype=np.float64) - b) ** 2))


def namespace() -> dict:
    """The notebook's functions that Exercise 3.1's solution calls (defined on the page above it)."""
    return {"clipped_symmetric": _clipped_symmetric, "mse": _mse}


# --- 3.1 mse_clip
def _grid_search(w, bits, candidates=200, quantizer=_clipped_symmetric):
    tops = np.abs(w).max() * np.arange(1, candidates + 1) / candidates
    return float(tops[int(np.argmin([_mse(quantizer(w, top, bits), w) for top in tops]))])


def _no_clipping(w, bits):  # the min/max range
    return float(np.abs(w).max())


def _a_fixed_percentile(w, bits):  # percentile calibration, not MSE
    return float(np.percentile(np.abs(w), 99.9))


def _clipped_weights_ignored(w, bits):  # measures the rounding error inside the range only
    def rounding_only(w, top, bits):
        qmax = 2 ** (bits - 1) - 1
        inside = np.abs(w) <= top
        return np.where(inside, np.round(w / (top / qmax)) * (top / qmax), w)
    return _grid_search(w, bits, quantizer=rounding_only)


def _returns_the_step(w, bits):
    return _grid_search(w, bits) / (2 ** (bits - 1) - 1)


def _full_range_quantizer(w, bits):  # searches with ±2^(b-1) levels, not the narrow range
    def full(w, top, bits):
        step = top / 2 ** (bits - 1)
        return np.clip(np.round(w / step), -(2 ** (bits - 1)), 2 ** (bits - 1) - 1) * step
    return _grid_search(w, bits, quantizer=full)


def _coarse_grid(w, bits):  # ten candidates miss the minimum
    return _grid_search(w, bits, candidates=10)


def _returns_the_quantized_weights(w, bits):
    return _clipped_symmetric(w, _grid_search(w, bits), bits)


# --- 3.2 lloyd_step
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


# --- 3.3 int8_weights
def _scales(kernel):
    return np.abs(kernel).max(axis=0) / 127


def _safe(scales):
    return np.where(scales > 0, scales, 1.0)


def _keras_layout(kernel):
    s = _safe(_scales(kernel))
    return np.clip(np.round(kernel / s), -127, 127).astype(np.int8), s


def _per_tensor(kernel):
    s = np.abs(kernel).max() / 127
    return np.clip(np.round(kernel / s), -127, 127).astype(np.int8).T, np.array([s])


def _scale_over_128(kernel):
    s = _safe(np.abs(kernel).max(axis=0) / 128)
    return np.clip(np.round(kernel / s), -128, 127).astype(np.int8).T, s


def _affine_scales(kernel):
    s = _safe(np.ptp(kernel, axis=0) / 255)
    return np.clip(np.round(kernel / s), -127, 127).astype(np.int8).T, s


def _zero_channel_scale_zero(kernel):
    s = _scales(kernel)
    with np.errstate(all="ignore"):
        codes = np.nan_to_num(np.clip(np.round(kernel / s), -127, 127))
    return codes.astype(np.int8).T, s


def _truncated_codes(kernel):  # astype cuts toward zero
    s = _safe(_scales(kernel))
    return (kernel / s).astype(np.int8).T, s


def _float_codes(kernel):
    s = _safe(_scales(kernel))
    return np.clip(np.round(kernel / s), -127, 127).T, s


def _scales_per_input(kernel):
    s = _safe(np.abs(kernel).max(axis=1) / 127)
    return np.clip(np.round(kernel / s[:, None]), -127, 127).astype(np.int8).T, s


# --- 3.4 fold_batch_norm
def _no_epsilon(kernel, bias, gamma, beta, mean, variance, epsilon=1e-3):
    factor = gamma / np.sqrt(variance)
    return kernel * factor, beta + (bias - mean) * factor


def _divides_by_the_variance(kernel, bias, gamma, beta, mean, variance, epsilon=1e-3):
    factor = gamma / (variance + epsilon)
    return kernel * factor, beta + (bias - mean) * factor


def _forgets_the_layer_bias(kernel, bias, gamma, beta, mean, variance, epsilon=1e-3):
    factor = gamma / np.sqrt(variance + epsilon)
    return kernel * factor, beta - mean * factor


def _forgets_the_mean(kernel, bias, gamma, beta, mean, variance, epsilon=1e-3):
    factor = gamma / np.sqrt(variance + epsilon)
    return kernel * factor, beta + bias * factor


def _bias_not_scaled(kernel, bias, gamma, beta, mean, variance, epsilon=1e-3):
    factor = gamma / np.sqrt(variance + epsilon)
    return kernel * factor, beta + bias - mean


def _beta_scaled_too(kernel, bias, gamma, beta, mean, variance, epsilon=1e-3):
    factor = gamma / np.sqrt(variance + epsilon)
    return kernel * factor, (beta + bias - mean) * factor


def _multiplies_by_the_std(kernel, bias, gamma, beta, mean, variance, epsilon=1e-3):
    factor = gamma * np.sqrt(variance + epsilon)
    return kernel * factor, beta + (bias - mean) * factor


def _folds_in_place(kernel, bias, gamma, beta, mean, variance, epsilon=1e-3):
    factor = gamma / np.sqrt(variance + epsilon)
    kernel *= factor
    bias -= mean
    bias *= factor
    bias += beta
    return kernel, bias


# --- 3.5 folded_bias
def _plus_z_x(w_q, b_q, z_x, z_w):
    w = w_q.astype(np.int64)
    return b_q + z_x * w.sum(axis=1) + w.shape[1] * z_x * z_w


def _no_z_x_z_w_term(w_q, b_q, z_x, z_w):
    return b_q - z_x * w_q.astype(np.int64).sum(axis=1)


def _z_x_z_w_term_negative(w_q, b_q, z_x, z_w):
    w = w_q.astype(np.int64)
    return b_q - z_x * w.sum(axis=1) - w.shape[1] * z_x * z_w


def _forgets_the_bias(w_q, b_q, z_x, z_w):
    w = w_q.astype(np.int64)
    return -z_x * w.sum(axis=1) + w.shape[1] * z_x * z_w


def _int8_overflow(w_q, b_q, z_x, z_w):  # z_x * w_q stays int8 and wraps
    products = np.int8(z_x) * w_q
    return b_q.astype(np.int64) - products.sum(axis=1, dtype=np.int64) + w_q.shape[1] * z_x * z_w


def _sums_over_the_units(w_q, b_q, z_x, z_w):
    w = w_q.astype(np.int64)
    column = w.sum(axis=0)
    return b_q - z_x * column[: len(b_q)].sum() + w.shape[1] * z_x * z_w


def _float_mean(w_q, b_q, z_x, z_w):  # mean instead of sum
    w = w_q.astype(np.int64)
    return b_q - z_x * w.mean(axis=1) + z_x * z_w


CASES = {
    "check_mse_clip": Case(wrong=[
        _no_clipping, _a_fixed_percentile, _clipped_weights_ignored, _returns_the_step,
        _full_range_quantizer, _coarse_grid, _returns_the_quantized_weights]),
    "check_lloyd_step": Case(wrong=[
        _empty_cluster_is_nan, _ties_to_the_upper_level, _updates_in_place,
        _empty_cluster_goes_to_zero, _median, _the_level_below, _returns_the_assignments,
        _drops_empty_clusters]),
    "check_int8_weights": Case(wrong=[
        _keras_layout, _per_tensor, _scale_over_128, _affine_scales, _zero_channel_scale_zero,
        _truncated_codes, _float_codes, _scales_per_input]),
    "check_fold_batch_norm": Case(wrong=[
        _no_epsilon, _divides_by_the_variance, _forgets_the_layer_bias, _forgets_the_mean,
        _bias_not_scaled, _beta_scaled_too, _multiplies_by_the_std, _folds_in_place]),
    "check_folded_bias": Case(wrong=[
        _plus_z_x, _no_z_x_z_w_term, _z_x_z_w_term_negative, _forgets_the_bias, _int8_overflow,
        _sums_over_the_units, _float_mean]),
}
