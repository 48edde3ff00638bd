"""Exercise checks of notebook 03_quantization (Quantization)."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from ._common import _as_int, call_answer, passed, require_answer


def _as_array(value, exercise: str, what: str) -> np.ndarray:
    require_answer(value, exercise)
    try:
        array = np.asarray(value, dtype=np.float64)
    except (TypeError, ValueError):
        raise AssertionError(f"{exercise}: {what} should be an array of numbers, got "
                             f"{type(value).__name__}. Hint: return a NumPy array.") from None
    return array


def _signed_range(bits: int) -> tuple[int, int]:
    return -(2 ** (bits - 1)), 2 ** (bits - 1) - 1


def check_scale_zero_point(scale_zero_point: Callable) -> None:
    """Exercise 3.1: affine scale and zero-point for a real range and a signed b-bit code range.

    At an exact half (q_min - r_min / s = n + 0.5) either neighbouring integer is accepted, as the
    lesson says: libraries differ in how they break that tie.
    """
    name = "Exercise 3.1 (scale_zero_point)"
    cases = [(-0.3, 0.9, 8), (-0.07, 0.11, 8), (-1.0, 3.0, 3), (0.2, 1.0, 4), (-2.0, -0.5, 4),
             (-1.0, 1.0, 3),  # q_min - r_min / s = -0.5 exactly: a tie (section 2's staircase)
             (-0.1, 0.5, 2), (-5.0, 1.0, 16)]
    for rmin, rmax, bits in cases:
        result = call_answer(scale_zero_point, name, rmin, rmax, bits)
        require_answer(result, name)
        if not isinstance(result, tuple | list) or len(result) != 2:
            raise AssertionError(f"{name}: return a pair (scale, zero_point), got "
                                 f"{type(result).__name__}. Hint: `return scale, zero_point`.")
        scale, zero_point = result
        if isinstance(scale, bool) or not isinstance(scale, int | float | np.integer | np.floating):
            raise AssertionError(f"{name}: the scale should be a number, got "
                                 f"{type(scale).__name__}. Hint: return a float.")
        qmin, qmax = _signed_range(bits)
        lo, hi = min(rmin, 0.0), max(rmax, 0.0)
        want_scale = (hi - lo) / (qmax - qmin)
        call = f"scale_zero_point({rmin}, {rmax}, {bits})"
        if np.isclose(scale, (hi - lo) / 2 ** bits, rtol=1e-9, atol=0):
            raise AssertionError(f"{name}: {call} gives scale = range / 2^bits. Hint: 2^bits codes "
                                 "are separated by one step fewer than that.")
        narrow = (rmax - rmin) / (qmax - qmin)
        if (lo != rmin or hi != rmax) and np.isclose(scale, narrow, rtol=1e-9, atol=0):
            raise AssertionError(f"{name}: {call}: the range does not include 0. Hint: widen "
                                 "[rmin, rmax] to contain 0 first, so that 0.0 is exactly "
                                 "representable.")
        if not np.isclose(scale, want_scale, rtol=1e-9, atol=0):
            raise AssertionError(f"{name}: {call} returned scale {scale!r}, which is wrong. Hint: "
                                 "the scale is the real width of one integer step.")
        if isinstance(zero_point, bool) or not isinstance(zero_point, int | np.integer) and not (
                isinstance(zero_point, float | np.floating) and float(zero_point).is_integer()):
            raise AssertionError(f"{name}: {call} returned a zero-point that is not a whole "
                                 "number. Hint: the zero-point is an integer code; round it.")
        real = qmin - lo / want_scale
        tie = abs(real % 1 - 0.5) < 1e-6
        allowed = {int(np.floor(real)), int(np.ceil(real))} if tie else {int(np.round(real))}
        zero_point = int(zero_point)
        if zero_point in allowed:
            continue
        if zero_point - 2 ** (bits - 1) in allowed:
            raise AssertionError(f"{name}: {call}: your zero-point is for the unsigned code range "
                                 f"[0, 2^bits - 1]. Hint: use the signed range [-2^(bits-1), "
                                 "2^(bits-1) - 1].")
        if zero_point == int(np.round(qmin + lo / want_scale)):
            raise AssertionError(f"{name}: {call} returned zero_point {zero_point}: a sign error. "
                                 "Hint: the code of rmin is qmin, so "
                                 "qmin = rmin / scale + zero_point.")
        if zero_point in (int(np.floor(real)), int(np.ceil(real)), int(real)):
            raise AssertionError(f"{name}: {call} returned zero_point {zero_point}, one code off. "
                                 "Hint: round to the nearest integer; do not cut the fraction off "
                                 "(int() and floor() do).")
        raise AssertionError(f"{name}: {call} returned zero_point {zero_point}, which is not "
                             "right. Hint: the zero-point is the integer code that represents "
                             "the real value 0, so rmin must map to qmin.")
    passed(name, "These are exactly the numbers a TFLite int8 tensor stores next to its codes.")


def check_quantize_dequantize(quantize_dequantize: Callable) -> None:
    """Exercise 3.2: round to the nearest code, clip to [qmin, qmax], map back to real values."""
    name = "Exercise 3.2 (quantize_dequantize)"
    rng = np.random.default_rng(32)
    cases = [(rng.normal(size=50) * 0.4, 0.01, 3, 8),
             (rng.uniform(-3, 3, size=(4, 5)), 0.25, -2, 4),
             (np.array([-10.0, -0.26, 0.0, 0.13, 0.74, 10.0]), 0.1, 1, 4),
             (rng.normal(size=30), 0.5, 0, 2)]
    for x, scale, zero_point, bits in cases:
        qmin, qmax = _signed_range(bits)
        given = x.copy()
        got = _as_array(call_answer(quantize_dequantize, name, given, scale, zero_point, bits),
                        name, "the result")
        call = f"quantize_dequantize(x, scale={scale}, zero_point={zero_point}, bits={bits})"
        codes = np.round(x / scale) + zero_point
        want = (np.clip(codes, qmin, qmax) - zero_point) * scale
        if got.shape != x.shape:
            raise AssertionError(f"{name}: {call} returned shape {got.shape}, expected {x.shape}. "
                                 "Hint: work element-wise, keep the shape.")
        if not np.array_equal(given, x):
            raise AssertionError(f"{name}: {call} changed the array it was given. Hint: compute "
                                 "new arrays instead of writing into x.")
        if np.allclose(got, want, rtol=1e-6, atol=1e-9):
            continue
        if np.allclose(got, np.clip(codes, qmin, qmax)):
            raise AssertionError(f"{name}: {call} returned the integer codes. Hint: after "
                                 "quantizing, dequantize: map the codes back to real values.")
        if np.allclose(got, (codes - zero_point) * scale):
            raise AssertionError(f"{name}: {call}: values outside the representable range were not "
                                 "clipped. Hint: codes must stay within [qmin, qmax] for the bit "
                                 "width.")
        floored = np.clip(np.floor(x / scale) + zero_point, qmin, qmax)
        if np.allclose(got, (floored - zero_point) * scale):
            raise AssertionError(f"{name}: {call} rounds down. Hint: round to the nearest code, so "
                                 "the error is at most half a step.")
        if np.allclose(got, (np.clip(codes, 0, 2 ** bits - 1) - zero_point) * scale):
            raise AssertionError(f"{name}: {call} clips to the unsigned range. Hint: the codes are "
                                 "signed: from -2^(bits-1) to 2^(bits-1) - 1.")
        raise AssertionError(f"{name}: {call} returned wrong values. Hint: code = round(x / "
                             "scale) + zero_point, clipped; real = (code - zero_point) * scale.")
    passed(name, "Inside the range the error is at most scale / 2; outside it, clipping error "
                 "grows.")


def _lloyd(values: np.ndarray, codebook: np.ndarray,
           upper_ties: bool = False) -> tuple[np.ndarray, np.ndarray]:
    """The reference step (ties to the lower level, or to the upper one) and the cluster sizes."""
    distance = np.abs(values[:, None] - codebook[None, :])
    nearest = np.argmin(distance[:, ::-1], axis=1) if upper_ties else np.argmin(distance, axis=1)
    if upper_ties:
        nearest = len(codebook) - 1 - nearest
    counts = np.bincount(nearest, minlength=len(codebook))
    sums = np.bincount(nearest, weights=values, minlength=len(codebook))
    return np.where(counts > 0, sums / np.maximum(counts, 1), codebook), counts


def check_lloyd_step(lloyd_step: Callable) -> None:
    """Exercise 3.3: one iteration of Lloyd's algorithm on 1-D values (ties to the lower level,
    an empty cluster keeps its level)."""
    name = "Exercise 3.3 (lloyd_step)"
    rng = np.random.default_rng(33)
    data = rng.normal(size=400)
    cases = [(data, np.array([-1.5, -0.2, 0.3, 2.0])),
             (rng.uniform(-1, 1, 50), np.linspace(-1, 1, 8)),
             # 0.5 and 1.5 lie exactly halfway between two levels
             (np.array([0.0, 0.25, 0.5, 0.5, 1.0, 1.5, 2.0]), np.array([0.0, 1.0, 2.0])),
             (data, np.array([-0.5, 0.5, 40.0])),  # the last level attracts nothing
             # nor does the first
             (np.array([0.0, 0.1, 0.9, 1.0, 1.2]), np.array([-3.0, 0.0, 1.0]))]
    for values, codebook in cases:
        given_values, given = values.copy(), codebook.copy()
        got = _as_array(call_answer(lloyd_step, name, given_values, given), name,
                        "the new codebook")
        want, counts = _lloyd(values, codebook)
        if got.shape == values.shape and got.shape != codebook.shape:
            raise AssertionError(f"{name}: returned one number per value. Hint: return the new "
                                 "codebook (one level per cluster), not the assignments.")
        if got.shape != codebook.shape:
            raise AssertionError(f"{name}: returned shape {got.shape} for a codebook of "
                                 f"{len(codebook)} levels. Hint: one new level per old level, "
                                 "even for a level that attracts no value.")
        if not np.array_equal(given, codebook) or not np.array_equal(given_values, values):
            raise AssertionError(f"{name}: your function changed an array it was given. Hint: "
                                 "build a new array for the new codebook.")
        if np.allclose(got, want, rtol=1e-9, atol=1e-12):
            continue
        empty = counts == 0
        if np.any(np.isnan(got)):
            raise AssertionError(f"{name}: a level became NaN. Hint: a level that no value is "
                                 "nearest to (an empty cluster) keeps its old value.")
        if empty.any() and np.allclose(got[~empty], want[~empty], rtol=1e-9, atol=1e-12):
            raise AssertionError(f"{name}: the levels that attract no value moved. Hint: a level "
                                 "that no value is nearest to (an empty cluster) keeps its old "
                                 "value.")
        if np.allclose(got, _lloyd(values, codebook, upper_ties=True)[0], rtol=1e-9, atol=1e-12):
            raise AssertionError(f"{name}: a value exactly halfway between two levels went to the "
                                 "upper one. Hint: on a tie the value belongs to the lower level "
                                 "(np.argmin returns the first of equal minima).")
        raise AssertionError(f"{name}: the new levels are wrong. Hint: first give each value to "
                             "its nearest level (smallest |value - level|), then move each level "
                             "to the mean of its values.")
    passed(name, "Repeat it until nothing changes and you have k-means.")


def check_kmeans_storage_bytes(kmeans_storage_bytes: Callable) -> None:
    """Exercise 3.4: bytes of a k-level codebook (float32) plus packed indices."""
    name = "Exercise 3.4 (kmeans_storage_bytes)"
    for n, k in [(100_352, 16), (1_280, 256), (7, 4), (100, 5), (10, 5), (1000, 2), (7, 3),
                 (100_352, 12), (33, 1024), (3, 2)]:
        call = f"kmeans_storage_bytes({n}, {k})"
        got = _as_int(call_answer(kmeans_storage_bytes, name, n, k), name, call)
        bits = int(np.ceil(np.log2(k)))
        index_bytes = -(-n * bits // 8)
        want = index_bytes + 4 * k
        if got == want:
            continue
        if got == index_bytes:
            raise AssertionError(f"{name}: {call} = {got} forgets the codebook. Hint: the k levels "
                                 "must be stored too, as float32.")
        if got == index_bytes + 8 * k:
            raise AssertionError(f"{name}: {call} = {got}: the codebook is counted at 8 bytes a "
                                 "level. Hint: it is stored as float32.")
        if got in (n * 4 + 4 * k, n * k // 8 + 4 * k, -(-n * k // 8) + 4 * k):
            raise AssertionError(f"{name}: {call} = {got}: wrong bits per index. Hint: an index "
                                 "that picks one of k levels needs the fewest whole bits b with "
                                 "2^b >= k.")
        if got == n * bits // 8 + 4 * k:
            raise AssertionError(f"{name}: {call} = {got}: the index bits were rounded down to "
                                 "bytes. Hint: a partly used last byte still takes a whole byte.")
        if got in (int(np.ceil(n * np.log2(k) / 8)) + 4 * k, int(n * np.log2(k) / 8) + 4 * k,
                   -(-n * int(np.log2(k)) // 8) + 4 * k):
            raise AssertionError(f"{name}: {call} = {got}: the bits per index are not whole, or "
                                 "rounded down. Hint: b bits name 2^b levels, so round log2(k) up.")
        if got == n * -(-bits // 8) + 4 * k:
            raise AssertionError(f"{name}: {call} = {got}: each index takes whole bytes. Hint: the "
                                 "indices are packed, several to a byte, and only the total is "
                                 "rounded up.")
        raise AssertionError(f"{name}: {call} returned {got}, which is wrong. Hint: bytes = packed "
                             "index bits rounded up to whole bytes + 4 bytes per level.")
    passed(name, "For a large layer the codebook is negligible; the indices set the size.")


def check_lowest_bits(lowest_bits: Callable) -> None:
    """Exercise 3.5: the smallest bit width whose accuracy is within a tolerance (in percentage
    points) of a baseline."""
    name = "Exercise 3.5 (lowest_bits)"
    cases = [({8: 0.975, 4: 0.974, 3: 0.968, 2: 0.60}, 0.9750, 0.5, 4),  # keys from large to small
             ({2: 0.50, 3: 0.9712, 4: 0.9741, 8: 0.9750}, 0.9750, 0.5, 3),
             ({3: 0.90, 8: 0.91, 5: 0.905}, 0.91, 0.8, 5),
             ({8: 0.975, 6: 0.95, 4: 0.974, 2: 0.5}, 0.975, 0.5, 4),  # 6 bits fails, 4 does not
             ({8: 0.90, 4: 0.915, 2: 0.85}, 0.90, 0.5, 4),  # above the baseline is within
             # percentage points, not percent of the baseline: 0.9701 >= 0.975 - 0.005
             ({8: 0.975, 4: 0.9731, 3: 0.9701, 2: 0.62}, 0.975, 0.5, 3),
             ({2: 0.48, 4: 0.49, 8: 0.50}, 0.50, 2.5, 2),
             ({2: 0.5, 3: 0.625, 8: 0.75}, 0.75, 25.0, 2),  # a drop of exactly the tolerance
             ({8: 0.968, 6: 0.965, 4: 0.95}, 0.975, 0.5, None),  # none is within
             ({}, 0.975, 0.5, None)]
    for accuracies, baseline, tolerance, want in cases:
        call = f"lowest_bits({accuracies}, baseline={baseline}, tolerance_pp={tolerance})"
        try:
            got = call_answer(lowest_bits, name, dict(accuracies), baseline, tolerance)
        except (ValueError, TypeError) as error:
            if want is not None:
                raise
            raise AssertionError(f"{name}: {call} raised {type(error).__name__}: {error}. Hint: "
                                 "when no bit width is within the tolerance, there is nothing to "
                                 "take the minimum of: return None.") from None
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
        if got == want:
            continue
        threshold = baseline - tolerance / 100
        if accuracies[got] < threshold - 1e-12:
            raise AssertionError(f"{name}: {call} returned {got} bits, whose accuracy drops more "
                                 "than the tolerance. Hint: tolerance_pp is in percentage points: "
                                 "0.5 pp = 0.005.")
        if accuracies[want] == threshold:
            raise AssertionError(f"{name}: {call} returned {got} bits, but a smaller bit width is "
                                 "within the tolerance. Hint: a drop of exactly tolerance_pp is "
                                 "still within it (at most, not less than).")
        if accuracies[want] < baseline * (1 - tolerance / 100):
            raise AssertionError(f"{name}: {call} returned {got} bits, but a smaller bit width is "
                                 "within the tolerance. Hint: tolerance_pp is in percentage "
                                 "points, an absolute drop (0.5 pp = 0.005 of accuracy), not a "
                                 "percentage of the baseline.")
        if accuracies[want] > baseline:
            raise AssertionError(f"{name}: {call} returned {got} bits, but a smaller bit width is "
                                 "within the tolerance. Hint: an accuracy above the baseline has "
                                 "not dropped at all; only a drop counts against the tolerance.")
        raise AssertionError(f"{name}: {call} returned {got} bits, but a smaller bit width is "
                             "also within the tolerance. Hint: check every key, not just the "
                             "first that fits in the dict's order or in a walk from the top.")
    passed(name)
