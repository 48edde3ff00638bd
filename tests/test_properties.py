"""Property-based tests (Hypothesis) of the course's from-scratch math.

Every property runs on generated inputs (thousands of cases in all) and, when it fails, Hypothesis
shrinks the input to a small counterexample and prints it. Each property was checked to fail on a
deliberately broken implementation. The whole file runs in well under a minute on two CPU cores.

No TensorFlow: the math lives in TF-free modules (helpers.quantization, helpers.masks, which
helpers.pruning re-exports, and helpers.tflite_anatomy's LiteRT reader).
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from ai_edge_quantizer import qtyping
from ai_edge_quantizer.algorithms.uniform_quantize import uniform_quantize_tensor
from ai_edge_quantizer.transformations.transformation_utils import pack_data
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from helpers import masks
from helpers import quantization as Q
from helpers.tflite_anatomy import stored_values

# deadline=None: the machine is shared (2 cores) and the first call of a property may pay an import,
# so a per-example time limit would only add flaky failures. database=None: the repository does not
# ignore `.hypothesis/`, and CI starts clean anyway; a failure prints the shrunk falsifying example
# (and print_blob a `@reproduce_failure` line), which is what reproduces it. Generation stays random
# (no derandomize): each run explores new cases, and a failure means a real counterexample, not
# flakiness, since none of these properties depends on timing.
PROPERTY = settings(deadline=None, database=None, print_blob=True,
                    suppress_health_check=[HealthCheck.too_slow])

# Float32 weights with an occasional tie or exact half: Hypothesis also draws 0.0, -0.0 and
# simple fractions on its own; mixing in a few fixed values makes ties common, not rare.
FLOAT32 = st.floats(-1e4, 1e4, width=32, allow_subnormal=False)
TIED_FLOAT32 = st.one_of(st.sampled_from([0.0, -0.0, 0.5, -0.5, 1.0, -1.0, 1.5, 2.0]), FLOAT32)
SHAPES = hnp.array_shapes(min_dims=1, max_dims=3, min_side=1, max_side=6)
TENSORS = hnp.arrays(np.float32, SHAPES, elements=FLOAT32)
TIED_TENSORS = hnp.arrays(np.float32, SHAPES, elements=TIED_FLOAT32)


@st.composite
def tensor_and_axis(draw, per_channel: bool | None = None):
    """A float32 tensor and an axis (None = per tensor) valid for it, negative axes included."""
    x = draw(TENSORS)
    if per_channel is None:
        per_channel = draw(st.booleans())
    axis = draw(st.integers(-x.ndim, x.ndim - 1)) if per_channel else None
    return x, axis


def channel_shaped(values, ndim: int, axis: int | None) -> np.ndarray:
    """Per-channel values reshaped to broadcast along `axis` (a scalar as is for per tensor)."""
    values = np.asarray(values, dtype=np.float64)
    return values if axis is None else np.expand_dims(values, tuple(i for i in range(ndim)
                                                                    if i != axis % ndim))


# --- linear quantization --------------------------------------------------------------------------

@settings(PROPERTY, max_examples=1500)
@given(tensor_and_axis(), st.integers(2, 8), st.booleans())
def test_round_trip_error_is_at_most_half_a_step_and_codes_stay_in_range(x_axis, bits, symmetric):
    x, axis = x_axis
    q, scale, zero_point = Q.linear_quantize(x, bits, symmetric, axis)
    qmin, qmax = Q.quant_range(bits, symmetric)
    assert q.dtype == np.int32 and q.shape == x.shape
    assert qmin <= q.min() and q.max() <= qmax
    restored = Q.dequantize(q, scale, zero_point, axis).astype(np.float64)
    step = channel_shaped(scale, x.ndim, axis)
    # Rounding moves a value by at most s/2. The rest is floating point: dequantize returns float32
    # (rounding the result by half an ulp, 2^-24 relative) and x/s, (q-z)·s are float64 (2^-53):
    # 2^-23·(|x| + s) bounds both with a margin, and is far below s/2 for every bit width tested.
    tolerance = 2.0 ** -23 * (np.abs(x.astype(np.float64)) + step)
    assert np.all(np.abs(restored - x) <= step / 2 + tolerance)


@settings(PROPERTY, max_examples=500)
@given(tensor_and_axis(), st.integers(2, 16))
def test_symmetric_zero_point_is_zero(x_axis, bits):
    x, axis = x_axis
    _, _, zero_point = Q.linear_quantize(x, bits, symmetric=True, axis=axis)
    assert np.all(np.asarray(zero_point) == 0)


@settings(PROPERTY, max_examples=800)
@given(tensor_and_axis(per_channel=True), st.integers(2, 8), st.booleans())
def test_per_channel_equals_per_tensor_applied_to_each_slice(x_axis, bits, symmetric):
    x, axis = x_axis
    q, scale, zero_point = Q.linear_quantize(x, bits, symmetric, axis)
    assert scale.shape == zero_point.shape == (x.shape[axis],)
    for c in range(x.shape[axis]):
        one_q, one_scale, one_zero_point = Q.linear_quantize(np.take(x, c, axis), bits, symmetric)
        assert np.array_equal(np.take(q, c, axis), one_q)
        assert scale[c] == one_scale and zero_point[c] == one_zero_point


def library_codes(x: np.ndarray, scale: float, zero_point: int, bits: int,
                  symmetric: bool) -> np.ndarray:
    """ai-edge-quantizer's own uniform_quantize with the given per-tensor scale and zero point."""
    ones = [1] * x.ndim  # the library wants parameters of the tensor's rank
    params = qtyping.UniformQuantParams(num_bits=bits, quantized_dimension=None,
                                        scale=np.full(ones, scale, dtype=np.float64),
                                        zero_point=np.full(ones, zero_point, dtype=np.int32),
                                        symmetric=symmetric)
    return uniform_quantize_tensor.uniform_quantize(x, params)


# The one difference found, a rounding convention: helpers.quantization computes round(x/s) + z,
# ai-edge-quantizer rint(x/s + z); both round halves to even, so when x/s is exactly a half and z
# is odd they pick the two neighbouring codes. Shrunk counterexample: x = [-1, 0.5, 254], 8 bits,
# affine: s = 1, z = -127; 0.5 -> round(0.5) - 127 = -127 here, rint(-126.5) = -126 there. Both
# codes are 0.5 = s/2 away, so both are correct; the property allows exactly that and nothing else.
@settings(PROPERTY, max_examples=1500)
@given(TIED_TENSORS, st.sampled_from([4, 8]), st.booleans())
@example(np.array([-1.0, 0.5, 254.0], dtype=np.float32), 8, False)
def test_per_tensor_codes_equal_ai_edge_quantizers_uniform_quantize(x, bits, symmetric):
    q, scale, zero_point = Q.linear_quantize(x, bits, symmetric)
    # (symmetric 4-bit: the library clips to [-8, 7], the helper to ±7; |x/s| <= 7 makes it moot)
    theirs = library_codes(x, scale, zero_point, bits, symmetric).astype(np.int64)
    ratio = x.astype(np.float64) / scale
    tie = (ratio - np.floor(ratio) == 0.5) & (zero_point % 2 == 1)
    assert np.array_equal(q[~tie], theirs[~tie])
    assert np.all(np.abs(q[tie] - theirs[tie]) <= 1)


def test_the_rounding_convention_difference_with_ai_edge_quantizer():
    x = np.array([-1.0, 0.5, 254.0], dtype=np.float32)
    q, scale, zero_point = Q.linear_quantize(x, 8)
    assert (scale, zero_point) == (1.0, -127)
    assert q.tolist() == [-128, -127, 127]
    assert library_codes(x, scale, zero_point, 8, False).tolist() == [-128, -126, 127]


# --- pruning --------------------------------------------------------------------------------------

def tie_aware_reference_mask(weights: np.ndarray, count: int) -> np.ndarray:
    """Keep-mask removing the `count` smallest |w|, ties removed in flat (C) index order."""
    order = np.argsort(np.abs(weights.astype(np.float64)).ravel(), kind="stable")
    keep = np.ones(weights.size, dtype=bool)
    keep[order[:count]] = False
    return keep.reshape(weights.shape)


@settings(PROPERTY, max_examples=1500)
@given(TIED_TENSORS, st.floats(0.0, 1.0, exclude_max=True))
def test_magnitude_pruning_removes_exactly_the_asked_count_of_the_smallest(weights, sparsity):
    original = weights.copy()
    count = round(sparsity * weights.size)  # the helpers' count: round(s·size)
    mask = masks.magnitude_mask(weights, sparsity)
    pruned = masks.magnitude_prune(weights, sparsity)
    assert mask.dtype == bool and mask.shape == weights.shape
    assert int((~mask).sum()) == count
    magnitudes = np.abs(weights)
    if 0 < count < weights.size:  # every survivor is at least as large as every removed weight
        assert magnitudes[mask].min() >= magnitudes[~mask].max()
    assert np.array_equal(mask, tie_aware_reference_mask(weights, count))
    assert pruned.dtype == weights.dtype
    assert np.array_equal(pruned, np.where(mask, weights, 0))
    assert weights.tobytes() == original.tobytes()  # the input is left untouched, bit for bit


@st.composite
def nm_problems(draw):
    """(weights, n, m): axis 0 holds whole groups of m; 0-2 more axes."""
    m = draw(st.integers(1, 8))
    n = draw(st.integers(0, m))
    groups = draw(st.integers(1, 4))
    rest = draw(hnp.array_shapes(min_dims=0, max_dims=2, min_side=1, max_side=4))
    weights = draw(hnp.arrays(np.float32, (groups * m, *rest), elements=TIED_FLOAT32))
    return weights, n, m


@settings(PROPERTY, max_examples=1500)
@given(nm_problems())
def test_nm_mask_keeps_exactly_the_n_largest_of_every_m_along_axis_0(problem):
    weights, n, m = problem
    original = weights.copy()
    mask = masks.nm_mask(weights, n, m)
    assert mask.dtype == bool and mask.shape == weights.shape
    grouped_mask = mask.reshape(weights.shape[0] // m, m, -1)
    assert np.all(grouped_mask.sum(axis=1) == n)
    grouped = np.abs(weights.astype(np.float64)).reshape(grouped_mask.shape)
    for g, column in np.ndindex(grouped.shape[0], grouped.shape[2]):
        magnitudes, keep = grouped[g, :, column], grouped_mask[g, :, column]
        ranked = sorted(range(m), key=lambda i: (-magnitudes[i], i))  # ties to the lower index
        assert set(np.flatnonzero(keep)) == set(ranked[:n])
    assert masks.satisfies_nm(np.where(mask, weights, 0), n, m)
    assert weights.tobytes() == original.tobytes()


# --- k-means (Lloyd) ------------------------------------------------------------------------------

@settings(PROPERTY, max_examples=600)
@given(hnp.arrays(np.float64, st.integers(1, 60), elements=st.floats(-1e3, 1e3)),
       st.integers(1, 8), st.integers(0, 2 ** 32 - 1), st.integers(0, 20))
def test_a_lloyd_step_never_raises_the_squared_error(values, k, seed, max_iter):
    codebook, indices, history = Q.kmeans_quantize(values, k, seed, max_iter)
    assert 1 <= len(history) <= max_iter + 1
    # In exact arithmetic neither half of a step (nearest center, then the mean) can raise the
    # error. In float64 a mean of n values is off by up to ~n·2^-53·max|v| and a nearest-center
    # choice between rounded midpoints can go the other way, each worth a few ulps of max v², so
    # the error may rise by that much: shrunk counterexample, 29 copies of 141.47567435, k=1,
    # max_iter=1: the seed is the value itself (error 0.0), the computed mean is not (error
    # ~1e-27). 2^-44·max v² allows this rounding and nothing a wrong step would do.
    rounding = 2.0 ** -44 * float(np.max(values ** 2))
    steps = zip(history, history[1:], strict=False)
    assert all(later <= earlier + rounding for earlier, later in steps)
    error = float(np.mean((codebook[indices] - values) ** 2))
    assert math.isclose(history[-1], error, rel_tol=1e-9, abs_tol=1e-12)


# --- fixed-point multipliers ----------------------------------------------------------------------

@settings(PROPERTY, max_examples=2000)
@given(st.floats(2.0 ** -32, 1e300))  # TFLite flushes only a shift below -31: real < ~2^-32
@example(2.0 ** -32)
@example(1 - 2.0 ** -40)  # the significand rounds up to 2^31
def test_quantize_multiplier_m0_is_31_bits_and_reconstructs_within_2_to_the_minus_31(real):
    m0, shift = Q.quantize_multiplier(real)
    assert isinstance(m0, int) and isinstance(shift, int)
    assert 2 ** 30 <= m0 < 2 ** 31
    # exact in double precision: m0 has 31 bits, and the difference of two doubles within a
    # factor of 2 of each other is exact (Sterbenz), so the comparison has no rounding of its own
    restored = math.ldexp(m0, shift - 31)
    assert abs(restored - real) <= 2.0 ** -31 * real


@settings(PROPERTY, max_examples=300)
@given(st.floats(0.0, 2.0 ** -33))
def test_quantize_multiplier_flushes_tiny_multipliers_to_zero(real):
    assert Q.quantize_multiplier(real) == (0, 0)


# --- int4 packing ---------------------------------------------------------------------------------

def pack_int4_low_first(codes: np.ndarray) -> bytes:
    """TFLite's int4 layout in NumPy: element 2i in the low nibble of byte i, 2i+1 in the high."""
    nibbles = np.concatenate([codes.astype(np.int64) & 0x0F, np.zeros(codes.size % 2, np.int64)])
    return (nibbles[0::2] | nibbles[1::2] << 4).astype(np.uint8).tobytes()


@settings(PROPERTY, max_examples=1000)
@given(hnp.arrays(np.int8, st.integers(1, 99), elements=st.integers(-8, 7)))
def test_int4_pack_unpack_round_trips(codes):
    ours = pack_int4_low_first(codes)
    assert len(ours) == math.ceil(codes.size / 2)
    # ai-edge-quantizer's own packer (the one that writes int4 .tflite files) uses the same layout
    assert bytes(pack_data(4, codes)) == ours
    unpacked = stored_values(ours, "INT4", codes.size)  # the course's .tflite reader
    assert unpacked.dtype == np.int8 and np.array_equal(unpacked, codes)


@settings(PROPERTY, max_examples=600)
@given(st.integers(1, 16).flatmap(
    lambda bits: st.tuples(st.just(bits), hnp.arrays(np.int64, st.integers(0, 70),
                                                     elements=st.integers(0, 2 ** bits - 1)))))
def test_pack_indices_round_trips_in_the_fewest_bytes(bits_codes):
    bits, codes = bits_codes
    data = Q.pack_indices(codes, bits)
    assert len(data) == Q.storage_bytes(codes.size, bits) == math.ceil(codes.size * bits / 8)
    assert np.array_equal(Q.unpack_indices(data, bits, codes.size), codes)


# --- the integer fully-connected layer ------------------------------------------------------------

LOG2_SCALES = st.floats(-12.0, 0.0)


@st.composite
def fully_connected_problems(draw):
    """An int8 Dense layer: codes, int32 bias, scales and zero points, ReLU and a rounding rule."""
    batch, inputs = draw(st.integers(1, 3)), draw(st.integers(1, 12))
    units = draw(st.integers(1, 6))
    int8 = st.integers(-128, 127)
    problem = {
        "x_q": draw(hnp.arrays(np.int8, (batch, inputs), elements=int8)),
        "w_q": draw(hnp.arrays(np.int8, (units, inputs), elements=st.integers(-127, 127))),
        "bias_q": draw(hnp.arrays(np.int32, (units,), elements=st.integers(-(2 ** 20), 2 ** 20))),
        "input_scale": 2.0 ** draw(LOG2_SCALES),
        "input_zero_point": draw(int8),
        "weight_scales": 2.0 ** draw(hnp.arrays(np.float64, (units,), elements=LOG2_SCALES)),
        "output_scale": 2.0 ** draw(st.floats(-3.0, 16.0)),  # relative to the largest s_x·s_w
        "output_zero_point": draw(int8),
        "relu": draw(st.booleans()),
        "rounding": draw(st.sampled_from(Q.ROUNDINGS)),
    }
    # M = s_x·s_w / s_y <= 2^3: TFLite's double rounding shifts acc left by log2(M) in int32
    problem["output_scale"] *= problem["input_scale"] * float(problem["weight_scales"].max())
    return problem


def requantization_error_bound(p: dict, multiplier: np.ndarray, target: np.ndarray) -> np.ndarray:
    """Largest |integer result − M·acc| in output codes that each rounding rule allows.

    single: one rounding (1/2) of acc·M̂, where M̂ = m0·2^(shift−31) is within 2^-31 of M;
    double: also rounds acc·M̂ to 2^-r first (r = −shift when shift < 0), adding 2^-(r+1);
    float: float32 M (three scales cast, a product and a quotient) and acc·M in float32, each
    within 2^-24 relative: 2^-20 relative covers them with a margin.
    """
    scaled = np.abs(target)
    if p["rounding"] == "float":
        return 0.5 + 2.0 ** -20 * scaled
    bound = 0.5 + 2.0 ** -31 * scaled
    if p["rounding"] == "double":
        right = np.array([max(-Q.quantize_multiplier(float(m))[1], 0) for m in multiplier])
        bound = bound + np.where(right > 0, 2.0 ** -(right + 1.0), 0.0)
    return bound


@settings(PROPERTY, max_examples=1500)
@given(fully_connected_problems())
def test_integer_fully_connected_stays_within_its_rounding_bound_of_the_float_layer(p):
    got = Q.int8_fully_connected(**p).astype(np.int64)
    # The float reference: a float64 Dense layer on the dequantized input, weights and bias.
    x = p["input_scale"] * (p["x_q"].astype(np.float64) - p["input_zero_point"])
    w = p["weight_scales"][:, None] * p["w_q"].astype(np.float64)
    b = p["input_scale"] * p["weight_scales"] * p["bias_q"]
    y = x @ w.T + b
    target = y / p["output_scale"]  # = M·acc in output codes, M = s_x·s_w / s_y, before ReLU
    activated = np.maximum(target, 0.0) if p["relu"] else target
    # Clamping is 1-Lipschitz, and ReLU folded into the clamp (lower bound z_y) is clamping too,
    # so the clamped result is as close to the clamped reference as the unclamped ones are.
    expected = np.clip(p["output_zero_point"] + activated, -128, 127)
    multiplier = p["input_scale"] * p["weight_scales"] / p["output_scale"]
    # float64 rounding in the reference: at most ~2^-53 per term, relative to the sum of |terms|
    terms = np.abs(x) @ np.abs(w).T + np.abs(b)
    slack = 2.0 ** -40 * terms / p["output_scale"]
    bound = requantization_error_bound(p, multiplier, target) + slack
    assert np.all(np.abs(got - expected) <= bound)


def test_double_rounding_refuses_a_left_shift_beyond_int32():
    # Shrunk by Hypothesis when M could exceed 2^3: acc = -2^19, M = 2^13 (shift 14). acc · 2^14
    # leaves int32 (TFLite shifts in int32), and the int64 product wrapped: +127 instead of -128.
    with pytest.raises(OverflowError, match="must fit in int32"):
        Q.int8_fully_connected(np.zeros((1, 1), np.int8), np.zeros((1, 1), np.int8),
                               np.array([-(2 ** 19)], np.int32), 1.0, 0, 1.0, 2.0 ** -13, 0)
    single = Q.int8_fully_connected(np.zeros((1, 1), np.int8), np.zeros((1, 1), np.int8),
                                    np.array([-(2 ** 19)], np.int32), 1.0, 0, 1.0, 2.0 ** -13, 0,
                                    rounding="single")
    assert single.tolist() == [[-128]]
