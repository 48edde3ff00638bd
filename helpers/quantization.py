"""Quantization from scratch in NumPy: linear (affine, symmetric), k-means and power-of-two."""

from __future__ import annotations

import math

import numpy as np

from helpers._validate import integer, number, positive_int

SCHEMES = ("affine", "symmetric", "kmeans", "log2")


# --- validation ---------------------------------------------------------------------------------

def validate_bits(bits, low: int = 1, high: int = 16, name: str = "bits") -> int:
    """Return `bits` as an int, or raise if it is not an integer in [low, high]."""
    return integer(name, bits, low, high)


def as_float_array(x, name: str = "x") -> np.ndarray:
    """Return `x` as a non-empty, finite, floating-point NumPy array, or raise naming `name`."""
    array = np.asarray(x)
    if not np.issubdtype(array.dtype, np.floating):
        raise TypeError(f"{name} must be a floating-point array (float16/32/64), got dtype "
                        f"{array.dtype}; convert with .astype(np.float32) first")
    if array.size == 0:
        raise ValueError(f"{name} must not be empty, got shape {array.shape}")
    if not np.all(np.isfinite(array)):
        raise ValueError(f"{name} must be finite, got {int(np.sum(~np.isfinite(array)))} NaN or "
                         "infinite value(s)")
    return array


def validate_axis(axis, ndim: int) -> int | None:
    """Return `axis` normalized to [0, ndim), None for per-tensor, or raise if out of range."""
    if axis is None:
        return None
    hint = f"or None for per-tensor; the array has {ndim} dimension(s)"
    return integer("axis", axis, -ndim, ndim - 1, hint=hint) % ndim


# --- linear quantization ------------------------------------------------------------------------

def quant_range(bits: int, symmetric: bool = False) -> tuple[int, int]:
    """Signed integer range (qmin, qmax): [-2^(b-1), 2^(b-1)-1], or ±(2^(b-1)-1) if symmetric.

    Taught in notebook 03, §2.
    """
    bits = validate_bits(bits)
    qmax = 2 ** (bits - 1) - 1
    if symmetric:
        if bits < 2:
            raise ValueError("bits must be >= 2 for symmetric quantization (1 bit leaves only the "
                             "code 0), got 1")
        return -qmax, qmax
    return -(2 ** (bits - 1)), qmax


def _reduce_axes(ndim: int, axis: int | None) -> tuple[int, ...]:
    return tuple(i for i in range(ndim) if i != axis)


def _broadcast(values, ndim: int, axis: int | None) -> np.ndarray:
    """Reshape per-channel values so they broadcast along `axis` of an ndim-dimensional array."""
    values = np.asarray(values)
    if axis is None:
        return values
    shape = [1] * ndim
    shape[axis] = -1
    return values.reshape(shape)


def linear_quantize(x, bits: int, symmetric: bool = False, axis: int | None = None):
    """Quantize `x` to `bits`-bit integers; return (q, scale, zero_point).

    The range is [min(x, 0), max(x, 0)] (so 0.0 is exact), per tensor, or per channel along
    `axis` (then scale and zero_point are arrays of length x.shape[axis]). Affine:
    scale = (rmax - rmin) / (qmax - qmin), zero_point = round(qmin - rmin / scale). Symmetric:
    scale = max|x| / qmax, zero_point = 0. q = clip(round(x / scale) + zero_point, qmin, qmax)
    is int32; dequantize(q, scale, zero_point, axis) is within scale / 2 of x.

    Taught in notebook 03, §2.
    """
    x = as_float_array(x)
    if not isinstance(symmetric, bool | np.bool_):
        raise TypeError(f"symmetric must be True or False, got {symmetric!r}")
    qmin, qmax = quant_range(bits, symmetric)
    axis = validate_axis(axis, x.ndim)
    reduce = _reduce_axes(x.ndim, axis)
    x64 = x.astype(np.float64)
    rmin = np.minimum(x64.min(axis=reduce), 0.0)
    rmax = np.maximum(x64.max(axis=reduce), 0.0)
    if symmetric:
        scale = np.maximum(-rmin, rmax) / qmax
        zero_point = np.zeros_like(scale, dtype=np.int64)
    else:
        scale = (rmax - rmin) / (qmax - qmin)
    scale = np.where(scale > 0, scale, 1.0)  # an all-zero tensor: any scale represents it exactly
    if not symmetric:
        zero_point = np.clip(np.round(qmin - rmin / scale), qmin, qmax).astype(np.int64)
    q = np.round(x64 / _broadcast(scale, x.ndim, axis)) + _broadcast(zero_point, x.ndim, axis)
    q = np.clip(q, qmin, qmax).astype(np.int32)
    if axis is None:
        return q, float(scale), int(zero_point)
    return q, scale.astype(np.float64), zero_point


def dequantize(q, scale, zero_point, axis: int | None = None) -> np.ndarray:
    """Map integer codes back to real values: (q - zero_point) * scale, as float32.

    Taught in notebook 03, §2.
    """
    q = np.asarray(q)
    if not np.issubdtype(q.dtype, np.integer):
        raise TypeError(f"q must be an integer array (the codes), got dtype {q.dtype}")
    axis = validate_axis(axis, q.ndim)
    scale = np.asarray(scale, dtype=np.float64)
    zero_point = np.asarray(zero_point)
    if not np.issubdtype(zero_point.dtype, np.integer):
        raise TypeError(f"zero_point must be an integer (or integer array), got dtype "
                        f"{zero_point.dtype}")
    if not np.all(np.isfinite(scale)) or not np.all(scale > 0):
        raise ValueError(f"scale must be finite and > 0, got {scale}")
    want = () if axis is None else (q.shape[axis],)
    for name, value in (("scale", scale), ("zero_point", zero_point)):
        if value.shape != want:
            raise ValueError(f"{name} must have shape {want} for axis={axis} and q of shape "
                             f"{q.shape}, got shape {value.shape}")
    real = (q.astype(np.float64) - _broadcast(zero_point, q.ndim, axis)) \
        * _broadcast(scale, q.ndim, axis)
    return real.astype(np.float32)


# --- non-linear quantization: a codebook of levels ----------------------------------------------

def nearest_level(x, codebook) -> np.ndarray:
    """Index of the nearest entry of a sorted 1-D `codebook` for each value of `x` (ties: lower).

    Taught in notebook 03, §5.
    """
    codebook = np.asarray(codebook, dtype=np.float64)
    if codebook.ndim != 1 or codebook.size == 0 or np.any(np.diff(codebook) < 0):
        raise ValueError(f"codebook must be a non-empty, sorted 1-D array, got {codebook!r}")
    midpoints = (codebook[1:] + codebook[:-1]) / 2
    return np.searchsorted(midpoints, np.asarray(x, dtype=np.float64), side="left")


def kmeans_seed(values, k: int, seed: int = 0) -> np.ndarray:
    """k-means++ seeding of 1-D `values`: the first center uniformly, each next one with
    probability proportional to its squared distance to the nearest chosen center.

    Returns the sorted centers; fewer than k when `values` has fewer distinct values.

    Taught in notebook 03, §5.
    """
    values = as_float_array(values, "values").astype(np.float64).ravel()
    k = positive_int("k", k)
    rng = np.random.default_rng(seed)
    centers = [values[rng.integers(values.size)]]
    distance = (values - centers[0]) ** 2
    while len(centers) < k:
        cumulative = np.cumsum(distance)
        if cumulative[-1] <= 0:  # every value already coincides with a center
            break
        choice = min(int(np.searchsorted(cumulative, rng.random() * cumulative[-1], side="right")),
                     values.size - 1)
        centers.append(values[choice])
        distance = np.minimum(distance, (values - values[choice]) ** 2)
    return np.sort(np.asarray(centers))


def kmeans_quantize(x, k: int, seed: int = 0, max_iter: int = 100):
    """Cluster the values of `x` into k levels with Lloyd's algorithm from k-means++ seeds.

    Returns (codebook, indices, history): the sorted codebook (length min(k, distinct values)),
    an index into it for every value (shape of x), and the mean squared error after seeding and
    after each Lloyd iteration (assign to the nearest center, then move centers to their means;
    an empty cluster keeps its center), which never increases. Deterministic for a seed.

    Taught in notebook 03, §5.
    """
    x = as_float_array(x)
    max_iter = integer("max_iter", max_iter, low=0)
    values = x.astype(np.float64).ravel()
    codebook = kmeans_seed(values, k, seed)
    order = np.argsort(values, kind="stable")
    ordered = values[order]  # in 1-D every cluster is a contiguous run of the sorted values

    def assign(codebook: np.ndarray) -> tuple[np.ndarray, float]:
        """Cluster boundaries in `ordered` (nearest center, ties to the lower) and the MSE."""
        bounds = np.searchsorted(ordered, (codebook[1:] + codebook[:-1]) / 2, side="right")
        counts = np.diff(bounds, prepend=0, append=ordered.size)
        return counts, float(np.mean((ordered - np.repeat(codebook, counts)) ** 2))

    counts, mse = assign(codebook)
    history = [mse]
    for _ in range(max_iter):
        sums = np.add.reduceat(ordered, np.r_[0, np.cumsum(counts)[:-1]]) if ordered.size else 0
        means = np.where(counts > 0, sums / np.maximum(counts, 1), codebook)
        codebook = np.sort(means)  # 1-D means stay ordered; sorting only guards rounding
        new_counts, mse = assign(codebook)
        history.append(mse)
        if np.array_equal(new_counts, counts):
            break
        counts = new_counts
    indices = np.empty(values.size, dtype=np.int64)
    indices[order] = np.repeat(np.arange(codebook.size), counts)
    return codebook, indices.reshape(x.shape), history


def log2_levels(max_abs: float, bits: int) -> np.ndarray:
    """The sorted codebook of b-bit power-of-two quantization: 0 and ±2^e for 2^(b-1) - 1
    exponents e ending at round(log2(max_abs)) (one code for 0, one bit for the sign).

    Taught in notebook 03, §5.
    """
    bits = validate_bits(bits, low=2)
    if not np.isfinite(max_abs) or max_abs < 0:
        raise ValueError(f"max_abs must be finite and >= 0, got {max_abs!r}")
    if max_abs == 0:
        return np.zeros(1)
    top = int(np.round(np.log2(max_abs)))
    powers = 2.0 ** np.arange(top - (2 ** (bits - 1) - 1) + 1, top + 1)
    return np.concatenate([-powers[::-1], [0.0], powers])


def log2_quantize(x, bits: int):
    """Logarithmic quantization: each value becomes the nearest of 0 and ±2^e (see log2_levels).

    Returns (codebook, indices) like kmeans_quantize; codebook[indices] is the quantized x.

    Taught in notebook 03, §5.
    """
    x = as_float_array(x)
    codebook = log2_levels(float(np.max(np.abs(x))), bits)
    return codebook, nearest_level(x, codebook).reshape(x.shape)


def fake_quantize(x, bits: int, scheme: str = "affine", axis: int | None = None,
                  seed: int = 0) -> np.ndarray:
    """Quantize and immediately dequantize `x` (float32, same shape) with one of SCHEMES.

    axis (per-channel) applies to the linear schemes only; k-means and log2 use one codebook.

    Taught in notebook 03, §2.
    """
    x = as_float_array(x)
    if scheme not in SCHEMES:
        raise ValueError(f"scheme must be one of {SCHEMES}, got {scheme!r}")
    if scheme in ("affine", "symmetric"):
        q, scale, zero_point = linear_quantize(x, bits, scheme == "symmetric", axis)
        return dequantize(q, scale, zero_point, validate_axis(axis, x.ndim))
    if axis is not None:
        raise ValueError(f"axis must be None for scheme={scheme!r} (one codebook per tensor), "
                         f"got {axis!r}")
    if scheme == "kmeans":
        codebook, indices, _ = kmeans_quantize(x, 2 ** validate_bits(bits), seed)
    else:
        codebook, indices = log2_quantize(x, bits)
    return codebook[indices].astype(np.float32)


def fake_quantize_model(model, bits: int, scheme: str = "affine", per_channel: bool = False,
                        seed: int = 0):
    """A copy of a Keras model whose kernels are fake-quantized (biases stay float, as in TFLite).

    per_channel quantizes each output channel (the kernel's last axis) with its own scale.

    Taught in notebook 03, §6.
    """
    from helpers import keras
    from helpers.metrics import _require_model

    _require_model(model)
    clone = keras.models.clone_model(model)
    clone.set_weights(model.get_weights())
    for layer in clone.layers:
        kernel = getattr(layer, "kernel", None)
        if kernel is not None:
            axis = -1 if per_channel else None
            kernel.assign(fake_quantize(kernel.numpy(), bits, scheme, axis, seed))
    return clone


# --- honest size accounting ---------------------------------------------------------------------

def pack_indices(indices, bits: int) -> bytes:
    """Pack non-negative integer codes into a byte string, `bits` bits each (big-endian bits).

    Taught in notebook 03, §5.
    """
    bits = validate_bits(bits)
    indices = np.asarray(indices).ravel()
    if not np.issubdtype(indices.dtype, np.integer):
        raise TypeError(f"indices must be integers, got dtype {indices.dtype}")
    if indices.size and (indices.min() < 0 or indices.max() >= 2 ** bits):
        raise ValueError(f"indices must be in [0, {2 ** bits - 1}] to fit in {bits} bits, got "
                         f"values from {indices.min()} to {indices.max()}")
    shifts = np.arange(bits - 1, -1, -1)
    bit_planes = ((indices.astype(np.int64)[:, None] >> shifts) & 1).astype(np.uint8)
    return np.packbits(bit_planes.ravel()).tobytes()


def unpack_indices(data: bytes, bits: int, count: int) -> np.ndarray:
    """Inverse of pack_indices: the first `count` codes of `bits` bits each, as int64.

    Taught in notebook 03, §5.
    """
    bits = validate_bits(bits)
    count = integer("count", count, low=0)
    if len(data) * 8 < count * bits:
        raise ValueError(f"data holds {len(data) * 8} bits, fewer than count * bits = "
                         f"{count * bits}")
    planes = np.unpackbits(np.frombuffer(data, dtype=np.uint8))[: count * bits]
    return planes.reshape(count, bits).astype(np.int64) @ (1 << np.arange(bits - 1, -1, -1))


def storage_bytes(n_values: int, bits: int, n_floats: int = 0, float_bytes: int = 4) -> int:
    """Bytes to store n_values codes of `bits` bits, packed, plus n_floats side numbers (the
    codebook, or scales and zero-points) of float_bytes each:
    ceil(n·b/8) + n_floats·float_bytes.

    Taught in notebook 03, §5.
    """
    bits = validate_bits(bits)
    n_values, n_floats, float_bytes = (integer(name, value, low=0) for name, value in (
        ("n_values", n_values), ("n_floats", n_floats), ("float_bytes", float_bytes)))
    return math.ceil(n_values * bits / 8) + n_floats * float_bytes


# --- integer-only inference (TFLite's fixed-point requantization) ---------------------------

INT32_MIN, INT32_MAX = -(2 ** 31), 2 ** 31 - 1
ROUNDINGS = ("double", "single", "float")


def quantize_multiplier(real: float) -> tuple[int, int]:
    """TFLite's QuantizeMultiplier: real ≈ m0 · 2^(shift − 31), m0 an int in [2^30, 2^31).

    `real` must be finite and >= 0; 0 gives (0, 0). m0 is the 32-bit fixed-point significand
    (round half away from zero, as `std::round`), shift the power-of-two exponent; multipliers
    below 2^-32 (shift < -31) underflow to (0, 0) as in TFLite.

    Taught in notebook 03, §10.
    """
    value = number("real", real, low=0, hint="the real multiplier, a ratio of scales")
    if value == 0.0:
        return 0, 0
    fraction, shift = math.frexp(value)  # value = fraction · 2^shift, fraction in [0.5, 1)
    m0 = int(math.floor(fraction * 2.0 ** 31 + 0.5))  # std::round on a positive value
    if m0 == 2 ** 31:
        m0 //= 2
        shift += 1
    if shift < -31:  # TFLite flushes multipliers this small to zero
        return 0, 0
    return m0, shift


def _as_int64(x, name: str) -> np.ndarray:
    array = np.asarray(x)
    if not np.issubdtype(array.dtype, np.integer):
        raise TypeError(f"{name} must be an integer array, got dtype {array.dtype}")
    return array.astype(np.int64)


def saturating_rounding_doubling_high_mul(a, b) -> np.ndarray:
    """gemmlowp's SaturatingRoundingDoublingHighMul: the high 32 bits of 2·a·b, rounded.

    Rounds half away from zero (a nudge of ±2^30 before dividing by 2^31 with truncation);
    a = b = −2^31 saturates to 2^31 − 1. Inputs are int32 values; the result is int64.

    Taught in notebook 03, §10.
    """
    a, b = _as_int64(a, "a"), _as_int64(b, "b")
    product = a * b
    nudged = product + np.where(product >= 0, 1 << 30, 1 - (1 << 30))
    high = np.where(nudged >= 0, nudged >> 31, -((-nudged) >> 31))  # C division truncates
    return np.where((a == INT32_MIN) & (b == INT32_MIN), INT32_MAX, high)


def rounding_divide_by_pot(x, exponent) -> np.ndarray:
    """gemmlowp's RoundingDivideByPOT: x / 2^exponent rounded to nearest, ties away from zero.

    Taught in notebook 03, §10.
    """
    x, exponent = _as_int64(x, "x"), _as_int64(exponent, "exponent")
    if np.any((exponent < 0) | (exponent > 31)):
        raise ValueError(f"exponent must be in [0, 31], got {exponent.min()}..{exponent.max()}")
    mask = (np.int64(1) << exponent) - 1
    remainder = x & mask
    threshold = (mask >> 1) + (x < 0)
    return (x >> exponent) + (remainder > threshold)


def multiply_by_quantized_multiplier(acc, m0, shift, rounding: str = "double") -> np.ndarray:
    """acc · m0 · 2^(shift − 31) in integers, rounded as TFLite's MultiplyByQuantizedMultiplier.

    rounding="double" (TFLite's default build): SaturatingRoundingDoublingHighMul, then
    RoundingDivideByPOT; "single" (built with TFLITE_SINGLE_ROUNDING): one rounding,
    (acc·m0 + 2^(30 − shift)) >> (31 − shift). m0 and shift may be per-channel arrays.

    Taught in notebook 03, §10.
    """
    if rounding not in ("double", "single"):
        raise ValueError(f"rounding must be 'double' or 'single', got {rounding!r}")
    acc, m0, shift = _as_int64(acc, "acc"), _as_int64(m0, "m0"), _as_int64(shift, "shift")
    if np.any((shift < -31) | (shift > 30)):
        raise ValueError(f"shift must be in [-31, 30], got {shift.min()}..{shift.max()}")
    if rounding == "single":
        total = 31 - shift
        return (acc * m0 + (np.int64(1) << (total - 1))) >> total
    left, right = np.maximum(shift, 0), np.maximum(-shift, 0)
    shifted = acc << left  # TFLite computes this in int32; beyond it, int64 products would wrap
    if np.any((shifted < INT32_MIN) | (shifted > INT32_MAX)):
        raise OverflowError(f"acc · 2^shift must fit in int32 for rounding='double' (TFLite shifts "
                            f"acc left in int32 first), got values from {shifted.min()} to "
                            f"{shifted.max()}")
    return rounding_divide_by_pot(saturating_rounding_doubling_high_mul(shifted, m0), right)


def int8_fully_connected(x_q, w_q, bias_q, input_scale: float, input_zero_point: int,
                         weight_scales, output_scale: float, output_zero_point: int,
                         relu: bool = False, rounding: str = "double") -> np.ndarray:
    """An int8 Dense layer computed only with integers, as an integer-only device runs it.

    x_q (batch, in) int8, w_q (units, in) int8 (TFLite's layout, symmetric: zero-point 0),
    bias_q (units,) int32 with scale input_scale·weight_scale. Accumulates in int32, requantizes
    with M = s_w·s_x/s_y as (m0, shift) per channel, adds the output zero-point and clamps to
    int8 (with relu, the lower bound is the code of 0.0). rounding: "double" or "single" (TFLite's
    integer rules), or "float" (XNNPACK's: float32 acc·M rounded half to even).

    Taught in notebook 03, §10.
    """
    if rounding not in ROUNDINGS:
        raise ValueError(f"rounding must be one of {ROUNDINGS}, got {rounding!r}")
    x, w, bias = _as_int64(x_q, "x_q"), _as_int64(w_q, "w_q"), _as_int64(bias_q, "bias_q")
    if x.ndim != 2 or w.ndim != 2 or x.shape[1] != w.shape[1] or bias.shape != (w.shape[0],):
        raise ValueError(f"shapes must be x_q (batch, in), w_q (units, in), bias_q (units,); got "
                         f"{x.shape}, {w.shape}, {bias.shape}")
    scales = np.broadcast_to(np.asarray(weight_scales, dtype=np.float64), (w.shape[0],))
    # int8 x int8 products summed in int32. Computed with a float64 matrix product for speed: every
    # product is at most 255 * 128 in magnitude and every partial sum stays far below 2^53, so the
    # float64 result is the exact integer (for up to ~2.7e11 inputs per unit).
    products = (x - int(input_zero_point)).astype(np.float64) @ w.T.astype(np.float64)
    acc = np.rint(products).astype(np.int64) + bias
    if np.any((acc < INT32_MIN) | (acc > INT32_MAX)):
        raise OverflowError("the int32 accumulator overflowed")
    if rounding == "float":
        multiplier = np.float32(input_scale) * scales.astype(np.float32) / np.float32(output_scale)
        scaled = np.rint(acc.astype(np.float32) * multiplier.astype(np.float32)).astype(np.int64)
    else:
        pairs = [quantize_multiplier(float(input_scale) * s / float(output_scale)) for s in scales]
        m0 = np.array([p[0] for p in pairs], dtype=np.int64)
        shift = np.array([p[1] for p in pairs], dtype=np.int64)
        scaled = multiply_by_quantized_multiplier(acc, m0, shift, rounding)
    low = int(output_zero_point) if relu else -128  # ReLU folded into the clamp: code of 0.0
    return np.clip(scaled + int(output_zero_point), max(low, -128), 127).astype(np.int8)
