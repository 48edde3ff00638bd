"""helpers.quantization: linear, k-means and power-of-two quantization, and size accounting."""

from __future__ import annotations

import numpy as np
import pytest

from helpers import quantization as Q

RNG = np.random.default_rng(0)
WEIGHTS = (RNG.normal(size=(64, 16)) * 0.05).astype(np.float32)
WEIGHTS[:, 3] *= 20  # one channel with a much wider range, like real layers
BITS = [1, 2, 3, 4, 8, 16]


def linear_cases():
    for bits in BITS:
        for symmetric in (False, True):
            if symmetric and bits == 1:
                continue
            for axis in (None, 1, -1, 0):
                yield bits, symmetric, axis


@pytest.mark.parametrize("bits,symmetric,axis", list(linear_cases()))
def test_codes_are_integers_in_range_and_round_trip_within_half_a_step(bits, symmetric, axis):
    q, scale, zero_point = Q.linear_quantize(WEIGHTS, bits, symmetric, axis)
    qmin, qmax = Q.quant_range(bits, symmetric)
    assert np.issubdtype(q.dtype, np.integer) and q.shape == WEIGHTS.shape
    assert q.min() >= qmin and q.max() <= qmax
    assert (qmin, qmax) == ((-(2 ** (bits - 1)) + symmetric), 2 ** (bits - 1) - 1)
    restored = Q.dequantize(q, scale, zero_point, axis)
    assert restored.dtype == np.float32 and restored.shape == WEIGHTS.shape
    step = np.asarray(scale) if axis is None else np.expand_dims(scale, 1 - (axis % 2))
    error = np.abs(restored.astype(np.float64) - WEIGHTS)
    assert np.all(error <= step / 2 * (1 + 1e-6) + 1e-7)
    if bits >= 8:  # the error bound is attained-ish, not trivially loose
        assert error.max() > 0.3 * np.min(step)


def test_values_outside_the_calibrated_range_are_clipped_to_its_ends():
    calibration = np.array([-1.0, 0.0, 0.25, 2.0], dtype=np.float32)
    _, scale, zero_point = Q.linear_quantize(calibration, 4)
    outside = np.array([-10.0, 10.0])
    codes = np.clip(np.round(outside / scale) + zero_point, -8, 7).astype(np.int32)
    assert codes.tolist() == [-8, 7]
    restored = Q.dequantize(codes, scale, zero_point)
    assert np.allclose(restored, [-1.0, 2.0], atol=scale / 2)


def test_affine_uses_the_whole_code_range_and_represents_zero_exactly():
    x = np.array([-0.3, 0.0, 0.1, 0.9], dtype=np.float32)
    q, scale, zero_point = Q.linear_quantize(x, 8)
    assert q.min() == -128 and q.max() == 127
    assert np.isclose(scale, 1.2 / 255)
    assert q[1] == zero_point and Q.dequantize(q, scale, zero_point)[1] == 0.0


def test_symmetric_has_zero_point_zero_and_scale_from_the_largest_magnitude():
    x = np.array([-0.5, 0.1, 2.0], dtype=np.float32)
    q, scale, zero_point = Q.linear_quantize(x, 8, symmetric=True)
    assert zero_point == 0 and np.isclose(scale, 2.0 / 127)
    assert q.tolist() == [-32, 6, 127]
    _, scales, zero_points = Q.linear_quantize(WEIGHTS, 4, symmetric=True, axis=1)
    assert np.all(zero_points == 0)


@pytest.mark.parametrize("axis", [0, 1, -1, -2])
def test_per_channel_scales_have_the_channel_axis_length(axis):
    q, scale, zero_point = Q.linear_quantize(WEIGHTS, 8, axis=axis)
    length = WEIGHTS.shape[axis]
    assert np.shape(scale) == (length,) and np.shape(zero_point) == (length,)
    columns = WEIGHTS if axis % 2 == 0 else WEIGHTS.T
    manual = (np.maximum(columns.max(1), 0) - np.minimum(columns.min(1), 0)) / 255
    assert np.allclose(scale, manual)


def test_per_channel_beats_per_tensor_when_channels_differ():
    per_tensor = Q.fake_quantize(WEIGHTS, 4, "affine")
    per_channel = Q.fake_quantize(WEIGHTS, 4, "affine", axis=1)
    mse = lambda r: np.mean((r - WEIGHTS) ** 2)  # noqa: E731
    assert mse(per_channel) < 0.5 * mse(per_tensor)


@pytest.mark.parametrize("value", [0.0, 3.5, -2.0])
@pytest.mark.parametrize("symmetric", [False, True])
def test_constant_tensor_does_not_divide_by_zero(value, symmetric):
    x = np.full((4, 3), value, dtype=np.float32)
    with np.errstate(all="raise"):
        for axis in (None, 1):
            q, scale, zero_point = Q.linear_quantize(x, 8, symmetric, axis)
            assert np.all(np.asarray(scale) > 0) and np.all(np.isfinite(scale))
            assert np.allclose(Q.dequantize(q, scale, zero_point, axis), value, atol=1e-6)


@pytest.mark.parametrize("bits", [0, 17, -3])
def test_bits_outside_1_to_16_raise_value_error(bits):
    with pytest.raises(ValueError, match=rf"bits must be an int from 1 to 16, got {bits}"):
        Q.linear_quantize(WEIGHTS, bits)


@pytest.mark.parametrize("bits", [4.0, "8", True, None])
def test_bits_of_the_wrong_type_raise_type_error(bits):
    with pytest.raises(TypeError, match="bits must be an int"):
        Q.linear_quantize(WEIGHTS, bits)


def test_symmetric_one_bit_is_rejected():
    with pytest.raises(ValueError, match="bits must be >= 2 for symmetric"):
        Q.linear_quantize(WEIGHTS, 1, symmetric=True)


@pytest.mark.parametrize("x", [np.arange(6), np.ones(3, dtype=bool), np.array(["a"]), [1, 2]])
def test_non_floating_input_raises_type_error(x):
    with pytest.raises(TypeError, match="x must be a floating-point array"):
        Q.linear_quantize(x, 8)


@pytest.mark.parametrize("bad", [np.nan, np.inf, -np.inf])
def test_nan_or_inf_raises_value_error(bad):
    x = WEIGHTS.copy()
    x[2, 2] = bad
    for call in (lambda: Q.linear_quantize(x, 8), lambda: Q.kmeans_quantize(x, 4),
                 lambda: Q.log2_quantize(x, 4)):
        with pytest.raises(ValueError, match="must be finite"):
            call()


def test_empty_input_raises_value_error():
    with pytest.raises(ValueError, match="must not be empty"):
        Q.linear_quantize(np.zeros((0, 3), dtype=np.float32), 8)


@pytest.mark.parametrize("axis", [2, -3, 10])
def test_axis_out_of_range_raises(axis):
    with pytest.raises(ValueError, match=r"axis must be an int from -2 to 1 \(or None"):
        Q.linear_quantize(WEIGHTS, 8, axis=axis)
    with pytest.raises(TypeError, match=r"axis must be an int from -2 to 1 \(or None"):
        Q.linear_quantize(WEIGHTS, 8, axis=1.0)


def test_dequantize_validates_its_inputs():
    q, scale, zero_point = Q.linear_quantize(WEIGHTS, 8, axis=1)
    with pytest.raises(TypeError, match="q must be an integer array"):
        Q.dequantize(q.astype(np.float32), scale, zero_point, 1)
    with pytest.raises(ValueError, match=r"scale must have shape \(64,\) for axis=0"):
        Q.dequantize(q, scale, zero_point, 0)
    with pytest.raises(ValueError, match=r"scale must have shape \(\)"):
        Q.dequantize(q, scale, zero_point)
    with pytest.raises(ValueError, match="scale must be finite and > 0"):
        Q.dequantize(q, -scale, zero_point, 1)
    with pytest.raises(TypeError, match="zero_point must be an integer"):
        Q.dequantize(q, scale, zero_point.astype(float), 1)


# --- k-means ------------------------------------------------------------------------------------

def test_kmeans_is_deterministic_for_a_seed_and_depends_on_it():
    a = Q.kmeans_quantize(WEIGHTS, 8, seed=3)
    b = Q.kmeans_quantize(WEIGHTS, 8, seed=3)
    assert np.array_equal(a[0], b[0]) and np.array_equal(a[1], b[1]) and a[2] == b[2]
    seeds = {tuple(Q.kmeans_seed(WEIGHTS, 8, seed=s)) for s in range(5)}
    assert len(seeds) > 1


@pytest.mark.parametrize("k", [1, 2, 5, 16, 64])
def test_kmeans_mse_never_increases_and_matches_the_result(k):
    codebook, indices, history = Q.kmeans_quantize(WEIGHTS, k, seed=1)
    assert len(history) >= 2
    assert all(later <= earlier for earlier, later in zip(history, history[1:], strict=False))
    assert np.isclose(history[-1], np.mean((codebook[indices] - WEIGHTS.astype(np.float64)) ** 2))
    assert indices.shape == WEIGHTS.shape and codebook.shape == (k,)
    assert np.all(np.diff(codebook) > 0)
    # converged: every value sits at its nearest level, every level is the mean of its values
    assert np.array_equal(indices, Q.nearest_level(WEIGHTS, codebook))
    for j in range(k):
        assert np.isclose(codebook[j], WEIGHTS[indices == j].astype(np.float64).mean())


def test_kmeans_beats_linear_at_equal_bits_on_bell_shaped_weights():
    x = np.random.default_rng(1).normal(size=5000).astype(np.float32)
    codebook, indices, _ = Q.kmeans_quantize(x, 8)
    linear = Q.fake_quantize(x, 3, "affine")
    assert np.mean((codebook[indices] - x) ** 2) < np.mean((linear - x) ** 2)


def test_kmeans_with_more_clusters_than_distinct_values_is_exact():
    x = np.array([0.5, -1.0, 0.5, 2.0, -1.0], dtype=np.float32)
    codebook, indices, history = Q.kmeans_quantize(x, 16)
    assert codebook.tolist() == [-1.0, 0.5, 2.0]
    assert np.array_equal(codebook[indices], x) and history[-1] == 0.0
    constant = Q.kmeans_quantize(np.full(7, 0.25, dtype=np.float32), 4)
    assert constant[0].tolist() == [0.25] and np.all(constant[1] == 0)


def test_kmeans_seed_spreads_the_seeds_over_separate_groups():
    x = np.concatenate([np.full(100, -5.0), np.full(100, 0.0), np.full(100, 5.0)])
    for seed in range(10):
        assert Q.kmeans_seed(x, 3, seed).tolist() == [-5.0, 0.0, 5.0]


@pytest.mark.parametrize("k", [0, -1, 2.5, True])
def test_kmeans_rejects_a_bad_k(k):
    with pytest.raises(ValueError, match="k must be a positive int"):
        Q.kmeans_quantize(WEIGHTS, k)


def test_kmeans_rejects_a_bad_max_iter_and_non_float_input():
    with pytest.raises(ValueError, match="max_iter must be an int >= 0"):
        Q.kmeans_quantize(WEIGHTS, 4, max_iter=-1)
    with pytest.raises(TypeError, match="floating-point"):
        Q.kmeans_quantize(np.arange(10), 4)


def test_nearest_level_breaks_ties_to_the_lower_level_and_checks_the_codebook():
    assert Q.nearest_level([0.5, 0.49, 0.51, -3, 9], [0.0, 1.0]).tolist() == [0, 0, 1, 0, 1]
    with pytest.raises(ValueError, match="sorted 1-D"):
        Q.nearest_level([0.1], [1.0, 0.0])


# --- power-of-two (log) quantization --------------------------------------------------------------

@pytest.mark.parametrize("bits", [2, 3, 4, 6])
def test_log2_levels_are_zero_and_signed_powers_of_two(bits):
    codebook, indices = Q.log2_quantize(WEIGHTS, bits)
    nonzero = codebook[codebook != 0]
    exponents = np.log2(np.abs(nonzero))
    assert np.array_equal(exponents, np.round(exponents))
    assert codebook.size == 2 ** bits - 1 and np.count_nonzero(codebook == 0) == 1
    assert np.array_equal(codebook, -codebook[::-1])
    assert np.abs(nonzero).max() == 2.0 ** np.round(np.log2(np.abs(WEIGHTS).max()))
    assert indices.shape == WEIGHTS.shape
    # every value is mapped to its nearest level
    distances = np.abs(WEIGHTS[..., None] - codebook)
    chosen = np.abs(WEIGHTS - codebook[indices])
    assert np.allclose(chosen, distances.min(-1))


def test_log2_quantize_examples_and_errors():
    codebook, indices = Q.log2_quantize(np.array([0.3, -0.9, 0.01, 1.0]), 3)
    assert codebook.tolist() == [-1.0, -0.5, -0.25, 0.0, 0.25, 0.5, 1.0]
    assert codebook[indices].tolist() == [0.25, -1.0, 0.0, 1.0]
    assert Q.log2_quantize(np.zeros(3), 4)[0].tolist() == [0.0]
    with pytest.raises(ValueError, match="bits must be an int from 2 to 16"):
        Q.log2_quantize(WEIGHTS, 1)


# --- fake quantization and model ------------------------------------------------------------------

@pytest.mark.parametrize("scheme", Q.SCHEMES)
def test_fake_quantize_uses_at_most_2_to_the_bits_levels(scheme):
    for bits in (2, 3, 4):
        restored = Q.fake_quantize(WEIGHTS, bits, scheme)
        assert restored.shape == WEIGHTS.shape and restored.dtype == np.float32
        assert np.unique(restored).size <= 2 ** bits
    assert np.mean((Q.fake_quantize(WEIGHTS, 8, scheme) - WEIGHTS) ** 2) < \
        np.mean((Q.fake_quantize(WEIGHTS, 2, scheme) - WEIGHTS) ** 2)


def test_fake_quantize_rejects_unknown_scheme_and_axis_for_codebooks():
    with pytest.raises(ValueError, match="scheme must be one of"):
        Q.fake_quantize(WEIGHTS, 4, "uniform")
    with pytest.raises(ValueError, match="axis must be None for scheme='kmeans'"):
        Q.fake_quantize(WEIGHTS, 4, "kmeans", axis=1)


def test_fake_quantize_model_quantizes_kernels_only_and_leaves_the_original():
    from helpers import models

    model = models.build_mlp(hidden_units=8)
    original = [w.copy() for w in model.get_weights()]
    quantized = Q.fake_quantize_model(model, 2, "symmetric", per_channel=True)
    for before, after in zip(model.get_weights(), original, strict=True):
        assert np.array_equal(before, after)
    kernel, bias, kernel2, bias2 = quantized.get_weights()
    assert np.array_equal(bias, original[1]) and np.array_equal(bias2, original[3])
    for column in kernel.T:
        assert np.unique(column).size <= 3
    assert np.allclose(kernel, Q.fake_quantize(original[0], 2, "symmetric", axis=-1))
    with pytest.raises(TypeError, match="model must be a Keras model"):
        Q.fake_quantize_model(original[0], 8)


# --- size accounting ------------------------------------------------------------------------------

@pytest.mark.parametrize("bits", [1, 2, 3, 5, 8, 12, 16])
def test_pack_and_unpack_round_trip_with_the_exact_byte_count(bits):
    codes = np.random.default_rng(bits).integers(0, 2 ** bits, size=1001)
    data = Q.pack_indices(codes, bits)
    assert len(data) == -(-1001 * bits // 8) == Q.storage_bytes(1001, bits)
    assert np.array_equal(Q.unpack_indices(data, bits, 1001), codes)


def test_pack_rejects_codes_that_do_not_fit():
    with pytest.raises(ValueError, match=r"indices must be in \[0, 7\]"):
        Q.pack_indices(np.array([0, 8]), 3)
    with pytest.raises(TypeError, match="indices must be integers"):
        Q.pack_indices(np.array([0.5]), 3)
    with pytest.raises(ValueError, match="fewer than count"):
        Q.unpack_indices(b"\x00", 3, 3)


def test_storage_bytes_counts_codes_and_side_numbers():
    assert Q.storage_bytes(100_352, 4, n_floats=16) == 50_176 + 64
    assert Q.storage_bytes(10, 3) == 4
    assert Q.storage_bytes(8, 1, n_floats=2, float_bytes=2) == 1 + 4
    with pytest.raises(ValueError, match="n_values must be an int >= 0"):
        Q.storage_bytes(-1, 4)


# --- integer-only inference -------------------------------------------------------------------

def test_quantize_multiplier_round_trips_within_2_to_the_minus_31_over_a_sweep():
    reals = np.concatenate([np.geomspace(1e-9, 1e3, 4001), [0.5, 1.0, 0.25, 0.999999999, 2 ** -31 * 1.5]])
    for real in reals:
        m0, shift = Q.quantize_multiplier(float(real))
        assert isinstance(m0, int) and isinstance(shift, int)
        assert 2 ** 30 <= m0 < 2 ** 31, (real, m0)
        restored = m0 * 2.0 ** (shift - 31)
        assert abs(restored - real) / real <= 2.0 ** -31, (real, m0, shift)


def test_quantize_multiplier_zero_powers_of_two_and_rounding_up_to_the_next_power():
    assert Q.quantize_multiplier(0.0) == (0, 0)
    assert Q.quantize_multiplier(0.5) == (2 ** 30, 0)
    assert Q.quantize_multiplier(1.0) == (2 ** 30, 1)
    assert Q.quantize_multiplier(0.75) == (3 * 2 ** 29, 0)
    assert Q.quantize_multiplier(1 - 2.0 ** -40) == (2 ** 30, 1)  # the significand rounds to 2^31
    assert Q.quantize_multiplier(2.0 ** -40) == (0, 0)  # below TFLite's range: flushed to zero


@pytest.mark.parametrize("bad", [-0.1, float("nan"), float("inf"), -float("inf")])
def test_quantize_multiplier_rejects_negative_nan_and_infinite_values(bad):
    with pytest.raises(ValueError, match="real must be a finite number >= 0"):
        Q.quantize_multiplier(bad)


@pytest.mark.parametrize("bad", ["0.5", None, True, [0.5]])
def test_quantize_multiplier_rejects_non_numbers(bad):
    with pytest.raises(TypeError, match="real must be a number"):
        Q.quantize_multiplier(bad)


def test_fixed_point_rounding_primitives_match_their_definitions():
    # RoundingDivideByPOT rounds to nearest with ties away from zero
    x = np.array([5, 6, 7, -5, -6, -7, 12, -12])
    assert Q.rounding_divide_by_pot(x, 2).tolist() == [1, 2, 2, -1, -2, -2, 3, -3]
    # SaturatingRoundingDoublingHighMul: round(2ab / 2^32), and the one saturating case
    a = np.array([2 ** 30, -(2 ** 30), 3, Q.INT32_MIN])
    b = np.array([2 ** 30, 2 ** 30, 2 ** 30, Q.INT32_MIN])
    assert Q.saturating_rounding_doubling_high_mul(a, b).tolist() == [2 ** 29, -(2 ** 29), 2, Q.INT32_MAX]
    with pytest.raises(ValueError, match="exponent"):
        Q.rounding_divide_by_pot(x, 32)


@pytest.mark.parametrize("rounding", ["double", "single"])
def test_multiply_by_quantized_multiplier_error_bound_for_each_rounding_rule(rounding):
    rng = np.random.default_rng(0)
    acc = rng.integers(-(2 ** 20), 2 ** 20, size=2000)
    for real in (0.0001234, 0.0421, 0.37, 0.999, 3.5):
        m0, shift = Q.quantize_multiplier(real)
        got = Q.multiply_by_quantized_multiplier(acc, m0, shift, rounding)
        error = np.abs(got - acc * real)
        if rounding == "single":  # one rounding: within half a unit (plus the multiplier's 2^-31)
            assert np.all(error <= 0.5 + 2.0 ** -30 * np.abs(acc * real))
        else:  # rounding first to 32 bits (error 2^shift / 2 after the shift), then by the shift
            assert np.all(error <= 0.5 + 2.0 ** (min(shift, 0) - 1) + 2.0 ** -30 * np.abs(acc * real))
    with pytest.raises(ValueError, match="rounding"):
        Q.multiply_by_quantized_multiplier(acc, m0, shift, "nearest")


def test_single_and_double_rounding_differ_only_near_ties():
    # acc · M = 41.4999...: single rounding gives 41, double rounding rounds 41.49999 up to 41.5, then to 42
    m0, shift = Q.quantize_multiplier(41.49994629 / 228936)
    assert Q.multiply_by_quantized_multiplier(228936, m0, shift, "single") == 41
    assert Q.multiply_by_quantized_multiplier(228936, m0, shift, "double") == 42


def test_int8_fully_connected_validates_shapes_and_rounding():
    x = np.zeros((2, 3), np.int8)
    w = np.zeros((4, 3), np.int8)
    with pytest.raises(ValueError, match="shapes"):
        Q.int8_fully_connected(x, w, np.zeros(5, np.int32), 0.1, 0, 0.1, 0.1, 0)
    with pytest.raises(ValueError, match="rounding"):
        Q.int8_fully_connected(x, w, np.zeros(4, np.int32), 0.1, 0, 0.1, 0.1, 0, rounding="up")
    with pytest.raises(TypeError, match="x_q"):
        Q.int8_fully_connected(x.astype(float), w, np.zeros(4, np.int32), 0.1, 0, 0.1, 0.1, 0)


def _fully_connected_layers(interpreter) -> list[dict]:
    """Quantization parameters and constants of every FULLY_CONNECTED op, in graph order."""
    details = {d["index"]: d for d in interpreter.get_tensor_details()}

    def qp(index):
        p = details[index]["quantization_parameters"]
        return p["scales"], p["zero_points"]

    layers = []
    for op in interpreter._get_ops_details():
        if op["op_name"] != "FULLY_CONNECTED":
            continue
        x, w, b = op["inputs"]
        (y,) = op["outputs"]
        layers.append({"w": interpreter.get_tensor(w), "b": interpreter.get_tensor(b),
                       "s_x": qp(x)[0][0], "z_x": qp(x)[1][0], "s_w": qp(w)[0],
                       "s_y": qp(y)[0][0], "z_y": qp(y)[1][0]})
    return layers


def test_integer_only_numpy_inference_equals_litert_bit_for_bit_on_the_test_set():
    from ai_edge_litert.interpreter import Interpreter, OpResolverType

    from helpers import data, deploy, models, training

    (x_train, y_train), (x_test, _) = data.load_mnist()
    training.set_seed(3)
    model = models.build_mlp(hidden_units=32)
    training.fit(model, x_train[:6000], y_train[:6000], epochs=1, validation_split=0.0, verbose=0)
    tflite = deploy.to_tflite(model, "int8", representative_images=x_train[:200])

    def litert(resolver):
        interpreter = Interpreter(model_content=tflite, experimental_op_resolver_type=resolver)
        detail = interpreter.get_input_details()[0]
        interpreter.resize_tensor_input(detail["index"], (len(x_test), 28, 28))
        interpreter.allocate_tensors()
        x_q = deploy.prepare_input(x_test, detail)
        interpreter.set_tensor(detail["index"], x_q)
        interpreter.invoke()
        return interpreter, x_q, interpreter.get_tensor(interpreter.get_output_details()[0]["index"])

    interpreter, x_q, default_out = litert(OpResolverType.AUTO)  # XNNPACK: float requantization
    _, _, reference_out = litert(OpResolverType.BUILTIN_REF)  # TFLite's reference integer kernels
    hidden, logits = _fully_connected_layers(interpreter)
    assert hidden["s_w"].shape == (32,) and logits["s_w"].shape == (10,)  # per-channel weights

    def numpy_int8(rounding):
        h = Q.int8_fully_connected(x_q.reshape(len(x_q), -1), hidden["w"], hidden["b"], hidden["s_x"],
                                   hidden["z_x"], hidden["s_w"], hidden["s_y"], hidden["z_y"],
                                   relu=True, rounding=rounding)
        return Q.int8_fully_connected(h, logits["w"], logits["b"], logits["s_x"], logits["z_x"],
                                      logits["s_w"], logits["s_y"], logits["z_y"], rounding=rounding)

    assert np.array_equal(numpy_int8("single"), reference_out)  # 0 mismatches on 100,000 logits
    assert np.array_equal(numpy_int8("float"), default_out)
    double = numpy_int8("double")
    assert np.abs(double.astype(int) - reference_out).max() <= 1  # double rounding: at most ±1 at near-ties
