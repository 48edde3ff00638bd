"""Exercise checks of notebook 03_quantization (Quantization)."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from ._common import call_answer, passed, require_answer


def _as_array(value, exercise: str, what: str) -> np.ndarray:
    require_answer(value, exercise)
    try:
        array = np.asarray(value, dtype=np.float64)
    except (TypeError, ValueError):
        raise AssertionError(f"{exercise}: {what} should be an array of numbers, got "
                             f"{type(value).__name__}. Hint: return a NumPy array.") from None
    return array


def _clipped_symmetric(w: np.ndarray, top: float, bits: int) -> np.ndarray:
    """Section 4's quantizer: symmetric, narrow range ±(2^(b-1) - 1), step top / (2^(b-1) - 1)."""
    qmax = 2 ** (bits - 1) - 1
    step = top / qmax
    return np.clip(np.round(w / step), -qmax, qmax) * step


def _clip_mse(w: np.ndarray, top: float, bits: int) -> float:
    return float(np.mean((_clipped_symmetric(w, top, bits) - w) ** 2))


def _least_clip_mse(w: np.ndarray, bits: int) -> float:
    """The least MSE over a fine grid of clipping points (0, max|w|], refined around the best."""
    largest = float(np.abs(w).max())
    tops = largest * np.arange(1, 2001) / 2000
    errors = np.array([_clip_mse(w, top, bits) for top in tops])
    best = int(np.argmin(errors))
    fine = np.linspace(tops[max(best - 1, 0)], tops[min(best + 1, len(tops) - 1)], 201)
    return min(float(errors.min()), min(_clip_mse(w, top, bits) for top in fine))


CLIP_TOLERANCE = 0.02
"""An answer's MSE may exceed the least the check finds by this fraction (a grid of 200 points is enough)."""


def check_mse_clip(mse_clip: Callable) -> None:
    """Exercise 3.1: the symmetric clipping point with the least MSE (calibration by MSE).

    The answer is judged by what it achieves: its clipping point's MSE, computed with section 4's
    quantizer, must be within CLIP_TOLERANCE of the least MSE a fine search finds.
    """
    name = "Exercise 3.1 (mse_clip)"
    rng = np.random.default_rng(31)
    cases = [(rng.laplace(size=3000) * 0.05, 2), (rng.standard_t(3, size=3000), 3),
             (rng.normal(size=(40, 50)), 4),  # a 2-D kernel: every value counts
             (np.r_[rng.normal(size=2000) * 0.1, 5.0], 2),  # one far outlier: clipping it costs more
             (rng.uniform(-1, 1, 2000), 3), (rng.laplace(size=3000), 8)]
    for w, bits in cases:
        given = w.copy()
        result = call_answer(mse_clip, name, given, bits)
        require_answer(result, name)
        call = f"mse_clip(w of shape {w.shape}, bits={bits})"
        if np.ndim(result) != 0 and np.size(result) != 1:
            raise AssertionError(f"{name}: {call} returned an array of shape {np.shape(result)}. Hint: "
                                 "return the clipping point ±top itself, one positive number.")
        try:
            top = float(np.asarray(result).ravel()[0])
        except (TypeError, ValueError):
            raise AssertionError(f"{name}: {call} returned {type(result).__name__}. Hint: return the "
                                 "clipping point as a number.") from None
        if not np.array_equal(given, w):
            raise AssertionError(f"{name}: {call} changed the array it was given. Hint: compute new "
                                 "arrays instead of writing into w.")
        largest = float(np.abs(w).max())
        if not np.isfinite(top) or top <= 0:
            raise AssertionError(f"{name}: {call} returned {top}, not a positive clipping point. Hint: "
                                 "the range is ±top with 0 < top <= max|w|.")
        if top > largest * (1 + 1e-9):
            raise AssertionError(f"{name}: {call} returned a clipping point beyond max|w|. Hint: a range "
                                 "wider than the weights only makes every step larger.")
        got, least = _clip_mse(w, top, bits), _least_clip_mse(w, bits)
        if got <= least * (1 + CLIP_TOLERANCE):
            continue
        qmax = 2 ** (bits - 1) - 1
        if _clip_mse(w, top * qmax, bits) <= least * (1 + CLIP_TOLERANCE) and qmax > 1:
            raise AssertionError(f"{name}: {call}: your number works as a step, not as a clipping point. "
                                 "Hint: return top, the end of the range; the step is top / (2^(b-1) - 1).")
        if np.isclose(top, largest, rtol=1e-9):
            raise AssertionError(f"{name}: {call} returned max|w|, the range without clipping, whose MSE is "
                                 f"{got / least:.2f}× the least. Hint: try clipping points below max|w| and "
                                 "keep the one with the smallest MSE.")
        if got > 5 * least:
            raise AssertionError(f"{name}: {call}: the MSE of your clipping point is {got / least:.1f}× the "
                                 "least. Hint: count the error of every weight, the clipped ones included, "
                                 "and quantize as section 4's clipped_symmetric does.")
        raise AssertionError(f"{name}: {call}: another clipping point has a smaller MSE (yours is "
                             f"{got / least:.3f}× the least). Hint: search the whole interval (0, max|w|] "
                             "on a fine grid (the curve has several local minima), measuring each "
                             "candidate with section 4's clipped_symmetric.")
    passed(name, "This is the MSE calibration that toolkits offer beside min/max and percentiles.")


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
    """Exercise 3.2: one iteration of Lloyd's algorithm on 1-D values (ties to the lower level,
    an empty cluster keeps its level)."""
    name = "Exercise 3.2 (lloyd_step)"
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


def _int8_reference(kernel: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Codes (outputs, inputs), scales (outputs,), and where a code sits within 1e-6 of a tie."""
    largest = np.abs(kernel).max(axis=0)
    scales = largest / 127
    ratio = kernel / np.where(scales > 0, scales, 1.0)
    codes = np.clip(np.round(ratio), -127, 127).astype(np.int8).T
    near_tie = (np.abs(np.abs(ratio) % 1 - 0.5) < 1e-6).T
    return codes, scales, near_tie


def check_int8_weights(int8_weights: Callable) -> None:
    """Exercise 3.3: a Keras Dense kernel as the full-integer converter stores it: int8 codes in
    TFLite's (outputs, inputs) layout, one symmetric scale per output channel (narrow range ±127).
    An all-zero channel may have any positive scale (its codes are 0)."""
    name = "Exercise 3.3 (int8_weights)"
    rng = np.random.default_rng(33)
    pruned = rng.normal(size=(20, 6)) * 0.1
    pruned[:, 2] = 0.0  # a pruned neuron
    pruned[:, 4] *= 1e-3  # a channel far narrower than the others
    cases = [rng.normal(size=(7, 3)), pruned, rng.laplace(size=(50, 11)) * 0.03,
             rng.normal(size=(8, 8)) * np.linspace(0.1, 2, 8),  # square: the layout shows in the values
             rng.uniform(-0.2, 0.6, size=(12, 5))]  # lopsided channels: still symmetric
    for kernel in cases:
        kernel = kernel.astype(np.float32)
        given = kernel.copy()
        result = call_answer(int8_weights, name, given)
        require_answer(result, name)
        call = f"int8_weights(kernel of shape {kernel.shape})"
        if not isinstance(result, tuple | list) or len(result) != 2:
            raise AssertionError(f"{name}: {call}: return a pair (codes, scales), got "
                                 f"{type(result).__name__}. Hint: `return codes, scales`.")
        if not np.array_equal(given, kernel):
            raise AssertionError(f"{name}: {call} changed the kernel it was given. Hint: compute new arrays.")
        codes, scales = np.asarray(result[0]), _as_array(result[1], name, "the scales").ravel()
        want_codes, want_scales, near_tie = _int8_reference(kernel.astype(np.float64))
        outputs, inputs = want_codes.shape
        if codes.shape == kernel.shape and (inputs != outputs or np.array_equal(codes.T, want_codes)):
            raise AssertionError(f"{name}: {call} returned codes in Keras' layout (inputs, outputs). Hint: "
                                 "look at the shape of the weight tensor in the file's table above.")
        if codes.shape != (outputs, inputs):
            raise AssertionError(f"{name}: {call} returned codes of shape {codes.shape}. Hint: one row per "
                                 "output unit, as the file's table shows.")
        if scales.size == 1:
            raise AssertionError(f"{name}: {call} returned one scale for the whole tensor. Hint: the file "
                                 "has as many distinct scales as output units.")
        if scales.shape != (outputs,):
            raise AssertionError(f"{name}: {call} returned {scales.size} scales for {outputs} output "
                                 "channels. Hint: one scale per output channel: a column of the Keras kernel.")
        live = want_scales > 0
        if not np.all(np.isfinite(scales)) or np.any(scales[~live] <= 0):
            raise AssertionError(f"{name}: {call}: an all-zero channel (a pruned neuron) got a scale that is "
                                 "0, negative or not finite. Hint: any positive scale represents it; its "
                                 "codes are all 0.")
        if not np.allclose(scales[live], want_scales[live], rtol=1e-6, atol=0):
            largest = np.abs(kernel.astype(np.float64)).max(axis=0)[live]
            spans = np.ptp(kernel.astype(np.float64), axis=0)[live]
            if np.allclose(scales[live], largest / 128, rtol=1e-6, atol=0):
                raise AssertionError(f"{name}: {call}: your scales map max|w| to 128. Hint: int8 weights use "
                                     "the narrow symmetric range, and +128 is not an int8 code.")
            if np.allclose(scales[live], spans / 255, rtol=1e-6, atol=0):
                raise AssertionError(f"{name}: {call}: your scales are affine (max - min over 255 steps). "
                                     "Hint: the file's weight zero-points are all 0: symmetric.")
            raise AssertionError(f"{name}: {call}: wrong scales. Hint: per output channel, the scale maps that "
                                 "channel's largest |w| to the largest code the file uses.")
        if not np.issubdtype(codes.dtype, np.integer) or codes.dtype != np.int8:
            raise AssertionError(f"{name}: {call} returned codes of dtype {codes.dtype}. Hint: the file "
                                 "stores int8; convert with .astype(np.int8) after rounding and clipping.")
        wrong = (codes.astype(np.int64) != want_codes) & ~(near_tie & (np.abs(codes.astype(np.int64)
                                                                             - want_codes) <= 1))
        if not wrong.any():
            continue
        ratio = (kernel.astype(np.float64) / np.where(want_scales > 0, want_scales, 1.0)).T
        if np.array_equal(codes, np.trunc(ratio).astype(np.int8)):
            raise AssertionError(f"{name}: {call}: your codes cut the fraction off (astype truncates toward "
                                 "zero). Hint: round to the nearest code first.")
        raise AssertionError(f"{name}: {call}: {int(wrong.sum())} of {codes.size} codes differ from the "
                             "converter's. Hint: code = round(w / scale), clipped to the narrow range, in "
                             "the file's layout.")
    passed(name, "Section 7's file holds exactly these bytes.")


def _fold_reference(kernel, bias, gamma, beta, mean, variance, epsilon):
    factor = gamma / np.sqrt(variance + epsilon)
    return kernel * factor, beta + (bias - mean) * factor


def check_fold_batch_norm(fold_batch_norm: Callable) -> None:
    """Exercise 3.4: fold an inference-mode batch normalization into the layer before it (kernel with
    output channels last, Dense (in, out) or Conv2D (h, w, in, out))."""
    name = "Exercise 3.4 (fold_batch_norm)"
    rng = np.random.default_rng(34)
    cases = []
    for shape, epsilon in (((5, 4), 1e-3), ((3, 3, 2, 6), 1e-3), ((7, 3), 1e-5), ((1, 1, 3, 3), 0.1)):
        channels = shape[-1]
        cases.append((rng.normal(size=shape), rng.normal(size=channels),
                      rng.normal(size=channels) * 1.5,  # gamma: some negative
                      rng.normal(size=channels), rng.normal(size=channels),
                      np.r_[1e-4, rng.uniform(0.01, 4.0, size=channels - 1)],  # a tiny variance: epsilon matters
                      epsilon))
    for kernel, bias, gamma, beta, mean, variance, epsilon in cases:
        arrays = (kernel, bias, gamma, beta, mean, variance)
        given = [a.copy() for a in arrays]
        result = call_answer(fold_batch_norm, name, *given, epsilon)
        require_answer(result, name)
        call = f"fold_batch_norm(kernel of shape {kernel.shape}, ..., epsilon={epsilon})"
        if not isinstance(result, tuple | list) or len(result) != 2:
            raise AssertionError(f"{name}: {call}: return a pair (kernel, bias), got {type(result).__name__}. "
                                 "Hint: `return new_kernel, new_bias`.")
        if not all(np.array_equal(g, a) for g, a in zip(given, arrays, strict=True)):
            raise AssertionError(f"{name}: {call} changed an array it was given. Hint: compute new arrays; the "
                                 "layer's own weights must stay as they are.")
        new_kernel = _as_array(result[0], name, "the folded kernel")
        new_bias = _as_array(result[1], name, "the folded bias")
        want_kernel, want_bias = _fold_reference(*arrays, epsilon)
        if new_kernel.shape != kernel.shape or new_bias.shape != bias.shape:
            raise AssertionError(f"{name}: {call} returned shapes {new_kernel.shape} and {new_bias.shape}. "
                                 "Hint: the folded layer has the same shapes as the original.")

        def same(a, b):
            return np.allclose(a, b, rtol=1e-6, atol=1e-9)

        if same(new_kernel, want_kernel) and same(new_bias, want_bias):
            continue
        if same(new_kernel, kernel * gamma / np.sqrt(variance)):
            raise AssertionError(f"{name}: {call}: the kernel ignores epsilon. Hint: batch normalization "
                                 "divides by sqrt(variance + epsilon); a tiny variance shows the difference.")
        if same(new_kernel, kernel * gamma / (variance + epsilon)):
            raise AssertionError(f"{name}: {call}: the kernel is divided by the variance. Hint: normalization "
                                 "divides by the standard deviation.")
        if same(new_kernel, kernel * gamma * np.sqrt(variance + epsilon)):
            raise AssertionError(f"{name}: {call}: the kernel is multiplied by the standard deviation. Hint: "
                                 "normalization divides by it.")
        if not same(new_kernel, want_kernel):
            raise AssertionError(f"{name}: {call}: the folded kernel is wrong. Hint: write y = gamma · (x·W + b "
                                 "- mean) / sqrt(variance + epsilon) + beta and collect what multiplies x, per "
                                 "output channel.")
        factor = gamma / np.sqrt(variance + epsilon)
        if same(new_bias, beta - mean * factor):
            raise AssertionError(f"{name}: {call}: the folded bias forgets the layer's own bias. Hint: the "
                                 "layer's bias is normalized too.")
        if same(new_bias, beta + bias * factor):
            raise AssertionError(f"{name}: {call}: the folded bias forgets the moving mean. Hint: batch "
                                 "normalization subtracts the mean before it scales.")
        if same(new_bias, beta + bias - mean) or same(new_bias, (beta + bias - mean) * factor):
            raise AssertionError(f"{name}: {call}: the folded bias is scaled wrongly. Hint: only the part "
                                 "that is normalized, (bias - mean), is multiplied by gamma / sqrt(variance "
                                 "+ epsilon); beta is added after.")
        raise AssertionError(f"{name}: {call}: the folded bias is wrong. Hint: collect everything in the "
                             "normalized output that does not depend on x.")
    passed(name, "One layer instead of two, the same outputs: what the converter does before it quantizes.")


def check_folded_bias(folded_bias: Callable) -> None:
    """Exercise 3.5: the per-channel int32 constant of an integer Dense layer, folded offline:
    sum_i (q_x[i] - z_x)(q_w[c,i] - z_w) + b[c] = sum_i q_x[i] q_w[c,i] - z_w sum_i q_x[i] + folded[c]."""
    name = "Exercise 3.5 (folded_bias)"
    rng = np.random.default_rng(35)
    cases = [(rng.integers(-127, 128, size=(4, 9)), rng.integers(-500, 500, size=4), 3, 0),
             (rng.integers(-127, 128, size=(6, 784)), rng.integers(-5000, 5000, size=6), -128, 0),  # MNIST
             (np.full((3, 300), 127), np.zeros(3, dtype=np.int64), -128, 0),  # int8 products overflow int8
             (rng.integers(-128, 128, size=(5, 20)), rng.integers(-900, 900, size=5), 17, -7),  # weight zp
             (rng.integers(0, 128, size=(2, 40)), rng.integers(-50, 50, size=2), -100, 12)]
    for w, bias, z_x, z_w in cases:
        w_q, b_q = w.astype(np.int8), bias.astype(np.int32)
        given_w, given_b = w_q.copy(), b_q.copy()
        result = call_answer(folded_bias, name, given_w, given_b, z_x, z_w)
        require_answer(result, name)
        call = f"folded_bias(w_q of shape {w_q.shape}, b_q, z_x={z_x}, z_w={z_w})"
        if not (np.array_equal(given_w, w_q) and np.array_equal(given_b, b_q)):
            raise AssertionError(f"{name}: {call} changed an array it was given. Hint: compute a new array.")
        got = _as_array(result, name, "the folded bias")
        units, inputs = w_q.shape
        if got.shape != (units,):
            raise AssertionError(f"{name}: {call} returned shape {got.shape}. Hint: one constant per output "
                                 "unit (a row of w_q).")
        if not np.all(got == np.round(got)):
            raise AssertionError(f"{name}: {call} returned fractions. Hint: every term is a product of "
                                 "integers; keep integer dtypes.")
        w64, b64 = w_q.astype(np.int64), b_q.astype(np.int64)
        row_sums = w64.sum(axis=1)
        want = b64 - z_x * row_sums + inputs * z_x * z_w
        if np.array_equal(got, want):
            continue
        if np.array_equal(got, b64 + z_x * row_sums + inputs * z_x * z_w) or np.array_equal(
                got, b64 + z_x * row_sums):
            raise AssertionError(f"{name}: {call}: a sign error in the z_x term. Hint: expand (q_x - z_x)·q_w "
                                 "term by term.")
        if np.array_equal(got, b64 - z_x * row_sums) and z_w != 0:
            raise AssertionError(f"{name}: {call}: a term is missing when z_w is not 0. Hint: (q_x - z_x)(q_w "
                                 "- z_w) has four products; one of them is a constant for every input.")
        if np.array_equal(got, b64 - z_x * row_sums - inputs * z_x * z_w) and z_w != 0:
            raise AssertionError(f"{name}: {call}: the sign of the z_x·z_w term is wrong. Hint: (-z_x)(-z_w) "
                                 "is positive.")
        if np.array_equal(got, -z_x * row_sums + inputs * z_x * z_w):
            raise AssertionError(f"{name}: {call}: the layer's bias is missing. Hint: b_q is a constant too.")
        difference = got.astype(np.int64) - want
        if np.all(difference % 256 == 0):
            raise AssertionError(f"{name}: {call}: your sums wrapped around (int8 arithmetic overflows past "
                                 "127). Hint: convert w_q to a wider integer type (np.int32 or np.int64) "
                                 "before multiplying and summing.")
        raise AssertionError(f"{name}: {call}: wrong constants. Hint: expand (q_x - z_x)(q_w - z_w), sum over "
                             "the inputs, and keep every term that does not depend on q_x, with b_q.")
    passed(name, "The run-time loop is then sum(q_x·q_w) (minus z_w·sum(q_x) if z_w is not 0) plus one "
                 "stored constant per unit.")
