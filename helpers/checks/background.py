"""Exercise checks of notebook 01_background (Background)."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from ._common import _as_int, call_answer, passed, require_answer


def check_dense_param_count(dense_param_count: Callable[[int, int], int]) -> None:
    """Exercise 1.1: parameters of a Dense layer with n_inputs inputs and n_units units."""
    name = "Exercise 1.1 (dense_param_count)"
    for n_in, n_out in [(784, 128), (128, 10), (3, 2), (1, 1), (50, 7)]:
        got = _as_int(call_answer(dense_param_count, name, n_in, n_out), name,
                      f"dense_param_count({n_in}, {n_out})")
        want = n_in * n_out + n_out
        if got == n_in * n_out:
            raise AssertionError(f"{name}: dense_param_count({n_in}, {n_out}) = {got} counts the "
                                 "kernel only. Hint: each unit also learns one more number.")
        if got != want:
            raise AssertionError(f"{name}: dense_param_count({n_in}, {n_out}) returned {got}, which "
                                 "is not right. Hint: a Dense layer computes y = xW + b; count the "
                                 "entries of W and of b.")
    passed(name, "A Dense layer holds n_inputs × n_units weights plus n_units biases.")


def check_float32_bytes(float32_bytes: Callable[[int], int]) -> None:
    """Exercise 1.2: bytes needed to store n float32 parameters, without any file overhead."""
    name = "Exercise 1.2 (float32_bytes)"
    for n in [1, 10, 101_770, 0]:
        got = _as_int(call_answer(float32_bytes, name, n), name, f"float32_bytes({n})")
        if got == 32 * n and n:
            raise AssertionError(f"{name}: float32_bytes({n}) = {got} looks like bits, not bytes. "
                                 "Hint: there are 8 bits in a byte.")
        if got != 4 * n:
            raise AssertionError(f"{name}: float32_bytes({n}) returned {got}. Hint: float32 "
                                 "means 32 bits per number.")
    passed(name, "Every float32 parameter costs 4 bytes; the .h5 file adds a little metadata.")


def check_bytes_at_bits(bytes_at_bits: Callable[[int, int], float]) -> None:
    """Exercise 1.3: bytes for n parameters stored with `bits` bits each (ignoring metadata)."""
    name = "Exercise 1.3 (bytes_at_bits)"
    for n, bits in [(101_770, 32), (101_770, 8), (8, 1), (3, 4), (1000, 2)]:
        got = call_answer(bytes_at_bits, name, n, bits)
        require_answer(got, name)
        if not isinstance(got, int | float | np.integer | np.floating) or isinstance(got, bool):
            raise AssertionError(f"{name}: bytes_at_bits({n}, {bits}) should return a number, "
                                 f"got {type(got).__name__}. Hint: return the arithmetic result.")
        want = n * bits / 8
        if np.isclose(got, n * bits):
            raise AssertionError(f"{name}: bytes_at_bits({n}, {bits}) = {got} is in bits. Hint: "
                                 "divide by the number of bits in a byte.")
        if not np.isclose(got, want):
            raise AssertionError(f"{name}: bytes_at_bits({n}, {bits}) returned {got}. Hint: total "
                                 "bits = parameters × bits per parameter.")
    passed(name, "8-bit storage is 4× smaller than float32, 4-bit 8× smaller: the promise of "
                 "quantization (notebook 03).")
