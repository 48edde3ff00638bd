"""The checks of notebook 03 accept the solutions and reject plausible wrong answers."""

from __future__ import annotations

import math

import numpy as np
import pytest

from helpers import checks


# --- solutions ------------------------------------------------------------------------------------

def scale_zero_point(rmin, rmax, bits):
    qmin, qmax = -(2 ** (bits - 1)), 2 ** (bits - 1) - 1
    rmin, rmax = min(rmin, 0.0), max(rmax, 0.0)
    scale = (rmax - rmin) / (qmax - qmin)
    return scale, int(round(qmin - rmin / scale))


def quantize_dequantize(x, scale, zero_point, bits):
    qmin, qmax = -(2 ** (bits - 1)), 2 ** (bits - 1) - 1
    q = np.clip(np.round(x / scale) + zero_point, qmin, qmax)
    return (q - zero_point) * scale


def lloyd_step(values, codebook):
    nearest = np.argmin(np.abs(values[:, None] - codebook[None, :]), axis=1)
    new = codebook.astype(float)
    for j in range(len(codebook)):
        if np.any(nearest == j):
            new[j] = values[nearest == j].mean()
    return new


def kmeans_storage_bytes(n_weights, k):
    return math.ceil(n_weights * math.ceil(math.log2(k)) / 8) + 4 * k


def lowest_bits(accuracies, baseline, tolerance_pp=0.5):
    ok = [b for b, a in accuracies.items() if a >= baseline - tolerance_pp / 100]
    return min(ok) if ok else None


# --- plausible wrong answers ----------------------------------------------------------------------

def _szp(scale_of, zp_of):
    def answer(rmin, rmax, bits):
        qmin, qmax = -(2 ** (bits - 1)), 2 ** (bits - 1) - 1
        scale = scale_of(min(rmin, 0.0), max(rmax, 0.0), rmin, rmax, bits, qmin, qmax)
        return scale, zp_of(scale, min(rmin, 0.0), rmin, qmin, bits)
    return answer


def _lloyd_empty_nan(values, codebook):
    nearest = np.argmin(np.abs(values[:, None] - codebook[None, :]), axis=1)
    with np.errstate(all="ignore"):
        return np.array([values[nearest == j].mean() if np.any(nearest == j) else np.nan
                         for j in range(len(codebook))])


def _lloyd_in_place(values, codebook):
    new = lloyd_step(values, codebook)
    codebook[:] = new
    return codebook


def _lloyd_median(values, codebook):
    nearest = np.argmin(np.abs(values[:, None] - codebook[None, :]), axis=1)
    return np.array([np.median(values[nearest == j]) if np.any(nearest == j) else codebook[j]
                     for j in range(len(codebook))])


def _lloyd_index_of_floor(values, codebook):  # assigns by "the level below", not the nearest
    nearest = np.clip(np.searchsorted(codebook, values) - 1, 0, len(codebook) - 1)
    return np.array([values[nearest == j].mean() if np.any(nearest == j) else codebook[j]
                     for j in range(len(codebook))])


def _first_in_dict_order(accuracies, baseline, tolerance_pp=0.5):
    for bits, accuracy in accuracies.items():
        if accuracy >= baseline - tolerance_pp / 100:
            return bits
    return None


CASES = {
    checks.check_scale_zero_point: (scale_zero_point, [
        _szp(lambda lo, hi, r0, r1, b, qn, qx: (hi - lo) / 2 ** b,                  # 2^b steps
             lambda s, lo, r0, qn, b: int(round(qn - lo / s))),
        _szp(lambda lo, hi, r0, r1, b, qn, qx: (r1 - r0) / (qx - qn),  # no zero in range
             lambda s, lo, r0, qn, b: int(round(qn - r0 / s))),
        _szp(lambda lo, hi, r0, r1, b, qn, qx: (hi - lo) / (qx - qn),               # unsigned codes
             lambda s, lo, r0, qn, b: int(round(-lo / s))),
        _szp(lambda lo, hi, r0, r1, b, qn, qx: (hi - lo) / (qx - qn),               # not rounded
             lambda s, lo, r0, qn, b: qn - lo / s),
        _szp(lambda lo, hi, r0, r1, b, qn, qx: (hi - lo) / (qx - qn),               # sign error
             lambda s, lo, r0, qn, b: int(round(qn + lo / s))),
        _szp(lambda lo, hi, r0, r1, b, qn, qx: (hi - lo) / (qx - qn),               # floor
             lambda s, lo, r0, qn, b: math.floor(qn - lo / s)),
        lambda rmin, rmax, bits: (rmax - rmin) / 255,                               # not a pair
    ]),
    checks.check_quantize_dequantize: (quantize_dequantize, [
        lambda x, s, z, b: np.clip(np.round(x / s) + z, -(2 ** (b - 1)), 2 ** (b - 1) - 1),  # codes
        lambda x, s, z, b: np.round(x / s) * s,  # no clipping
        lambda x, s, z, b: (np.clip(np.floor(x / s) + z, -(2 ** (b - 1)), 2 ** b) - z) * s,
        lambda x, s, z, b: np.clip(np.round(x / s), -(2 ** (b - 1)), 2 ** (b - 1) - 1) * s,  # no z
        lambda x, s, z, b: (np.clip(np.round(x / s) + z, 0, 2 ** b - 1) - z) * s,  # unsigned
        lambda x, s, z, b: x,  # identity
        lambda x, s, z, b: float(np.mean(x)),
    ]),
    checks.check_lloyd_step: (lloyd_step, [
        _lloyd_empty_nan, _lloyd_in_place, _lloyd_median, _lloyd_index_of_floor,
        lambda v, c: np.argmin(np.abs(v[:, None] - c[None, :]), axis=1),   # the assignments
        lambda v, c: c.copy(),                                              # no update
        lambda v, c: np.sort(v)[:: max(1, len(v) // len(c))][: len(c)],
    ]),
    checks.check_kmeans_storage_bytes: (kmeans_storage_bytes, [
        lambda n, k: math.ceil(n * math.ceil(math.log2(k)) / 8),            # no codebook
        lambda n, k: math.ceil(n * k / 8) + 4 * k,                          # k bits per index
        lambda n, k: math.ceil(n * math.log2(k) / 8) + 4 * k,               # fractional bits
        lambda n, k: n * math.ceil(math.log2(k)) / 8 + 4 * k,               # no whole bytes
        lambda n, k: 4 * n,                                                 # float32
        lambda n, k: math.ceil(n * 8 / 8) + 4 * k,                          # always 8 bits
    ]),
    checks.check_lowest_bits: (lowest_bits, [
        lambda a, b, t=0.5: min(k for k, v in a.items() if v >= b - t),       # pp read as fraction
        lambda a, b, t=0.5: max(k for k, v in a.items() if v >= b - t / 100) if any(
            v >= b - t / 100 for v in a.values()) else None,                   # the largest
        _first_in_dict_order,
        lambda a, b, t=0.5: min(a),                                            # ignores accuracy
        lambda a, b, t=0.5: max(v for v in a.values() if v >= b - t / 100) if any(
            v >= b - t / 100 for v in a.values()) else None,                   # returns accuracy
        lambda a, b, t=0.5: min(a, key=lambda k: abs(a[k] - b)),              # the most accurate
    ]),
}


@pytest.mark.parametrize("check", CASES, ids=lambda c: c.__name__)
def test_accepts_the_solution(check, capsys):
    solution, _ = CASES[check]
    check(solution)
    assert "✅" in capsys.readouterr().out


@pytest.mark.parametrize("check,index", [(c, i) for c in CASES for i in range(len(CASES[c][1]))],
                         ids=lambda v: getattr(v, "__name__", str(v)))
def test_rejects_a_wrong_answer_with_a_hint(check, index):
    wrong = CASES[check][1][index]
    with pytest.raises(AssertionError, match="Hint"):
        check(wrong)


@pytest.mark.parametrize("check", CASES, ids=lambda c: c.__name__)
def test_unattempted_exercise_is_reported_as_not_attempted(check):
    def placeholder(*args, **kwargs):
        raise NotImplementedError()

    with pytest.raises(checks.NotAttemptedError):
        check(placeholder)
    with pytest.raises(checks.NotAttemptedError):
        check(None)
    with pytest.raises(checks.NotAttemptedError):
        check(lambda *args: None)


def test_the_solutions_agree_with_the_helpers():
    from helpers import quantization as Q

    for rmin, rmax, bits in [(-0.3, 0.9, 8), (0.2, 1.0, 4), (-2.0, -0.5, 3)]:
        _, scale, zero_point = Q.linear_quantize(np.array([rmin, rmax]), bits)
        assert np.isclose(scale_zero_point(rmin, rmax, bits)[0], scale)
        assert scale_zero_point(rmin, rmax, bits)[1] == zero_point
    x = np.random.default_rng(0).normal(size=200)
    q, scale, zero_point = Q.linear_quantize(x, 4)
    assert np.allclose(quantize_dequantize(x, scale, zero_point, 4),
                       Q.dequantize(q, scale, zero_point))
    codebook, _, _ = Q.kmeans_quantize(x, 4, max_iter=0)
    assert np.allclose(Q.kmeans_quantize(x, 4, max_iter=1)[0], np.sort(lloyd_step(x, codebook)))
    assert kmeans_storage_bytes(100_352, 16) == Q.storage_bytes(100_352, 4, n_floats=16)
