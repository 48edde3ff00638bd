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


def _payload(widths: list[int], bits: int, *, bias_bits: int = 32, per_tensor: bool = True,
             round_up: bool = True) -> float:
    """Reference payload, and the typical mistakes as variants of it."""
    layers = list(zip(widths[:-1], widths[1:]))
    kernel_bits = [n_in * n_out * bits for n_in, n_out in layers]
    biases = sum(n_out for _, n_out in layers) * bias_bits / 8
    if not round_up:
        return sum(kernel_bits) / 8 + biases
    if per_tensor:
        return sum(-(-k // 8) for k in kernel_bits) + biases
    return -(-sum(kernel_bits) // 8) + biases


def check_payload_bytes(payload_bytes: Callable[[list[int], int], int]) -> None:
    """Exercise 1.2: bytes of an MLP's kernels packed at `bits` bits (each kernel rounded up to
    whole bytes) plus its biases at 32 bits, from the layer widths [n_0, n_1, ..., n_L]."""
    name = "Exercise 1.2 (payload_bytes)"
    cases = [([784, 128, 10], 32), ([784, 128, 10], 8), ([3, 3, 3], 3), ([5, 2], 1),
             ([2, 4, 4, 1], 8), ([784, 128, 10], 4), ([7, 3, 5], 5), ([10, 1], 32)]
    for widths, bits in cases:
        call = f"payload_bytes({widths}, {bits})"
        got = require_answer(call_answer(payload_bytes, name, list(widths), bits), name)
        if isinstance(got, float | np.floating) and not float(got).is_integer():
            raise AssertionError(f"{name}: {call} returned {got}, a fraction of a byte. Hint: a "
                                 "file stores whole bytes: round each kernel's bits *up* to whole "
                                 "bytes (a leftover bit still needs a byte).")
        got = _as_int(got, name, call)
        want = _payload(widths, bits)
        if got == want:
            continue
        layers = list(zip(widths[:-1], widths[1:]))
        kernels_only = _payload(widths, bits, bias_bits=0)
        if got == kernels_only:
            hint = ("it counts the kernels only. Hint: every layer also stores one bias per unit, "
                    "kept at 32 bits.")
        elif got == _payload(widths, bits, bias_bits=bits) or \
                got == sum(-(-(n_in * n_out + n_out) * bits // 8) for n_in, n_out in layers):
            hint = ("it stores the biases at `bits` bits too. Hint: only the kernels are packed; "
                    "biases stay at 32 bits (4 bytes each).")
        elif got == 8 * want or got == 8 * kernels_only + (want - kernels_only):
            hint = "that looks like bits, not bytes. Hint: there are 8 bits in a byte."
        elif got in (int(_payload(widths, bits, round_up=False)),
                     _payload(widths, bits, per_tensor=False)):
            hint = ("the rounding is not right. Hint: each kernel is its own tensor, rounded up "
                    "to whole bytes separately (a leftover bit still takes a whole byte).")
        elif len(layers) > 1 and got == _payload(widths[:2], bits):
            hint = ("it counts only the first layer. Hint: widths [n_0, n_1, ..., n_L] describe L "
                    "layers; layer i maps n_(i-1) inputs to n_i units.")
        elif bits < 8 and got == sum(n_in * n_out for n_in, n_out in layers) + \
                (want - kernels_only):
            hint = ("it gives every weight a whole byte. Hint: packed means the bits of all the "
                    "kernel's weights are laid end to end, then rounded up once per kernel.")
        else:
            hint = ("it is not right. Hint: for each layer add its kernel (n_in × n_out weights at "
                    "`bits` bits, rounded up to whole bytes) and its n_out biases at 32 bits.")
        raise AssertionError(f"{name}: {call} returned {got}: {hint}")
    passed(name, "At 32 bits it is 4 bytes per parameter; at 8 bits the kernels shrink 4×, the few "
                 "biases do not.")
