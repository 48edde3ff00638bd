"""Exercise checks of notebook 01_background (Background)."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from ._common import _as_int, call_answer, passed, require_answer

_CONV_CASES = [  # (input_shape, filters, kernel_size, strides, padding, use_bias)
    ((28, 28, 1), 8, (3, 3), (1, 1), "same", False),
    ((28, 28, 1), 16, (3, 3), (1, 1), "valid", True),
    ((13, 13, 16), 32, (3, 3), (1, 1), "valid", True),
    ((32, 32, 3), 64, (5, 5), (2, 2), "same", True),
    ((15, 15, 8), 12, (1, 1), (2, 2), "same", False),
    ((7, 9, 5), 4, (3, 2), (2, 3), "valid", True),
    ((10, 6, 3), 7, (4, 4), (3, 3), "valid", False),
    ((224, 224, 3), 32, (3, 3), (2, 2), "same", False),
]
"""Shapes the check tries: notebook 04's first convolution, notebook 02's two, strides of 2 and 3,
odd sizes, non-square kernels and strides, 'same' and 'valid' padding, with and without bias."""


def _positions(size: int, kernel: int, stride: int, padding: str, *, rule: str = "right") -> int:
    """Output positions along one axis (rule="right"), or what a typical mistake gives instead."""
    if rule == "input":
        return size
    if rule == "no_stride":
        return size if padding == "same" else size - kernel + 1
    if rule == "swapped":
        padding = "valid" if padding == "same" else "same"
    if rule == "floor":
        return size // stride if padding == "same" else (size - kernel) // stride
    return -(-size // stride) if padding == "same" else (size - kernel) // stride + 1


def _conv_cost(input_shape, filters, kernel_size, strides, padding, use_bias, *,
               rule: str = "right") -> tuple[int, int]:
    """Reference (parameters, multiply-adds) of a Conv2D layer, or a typical mistake (`rule`)."""
    (height, width, channels), (kh, kw), (sh, sw) = input_shape, kernel_size, strides
    weights = kh * kw * channels * filters
    positions = _positions(height, kh, sh, padding, rule=rule) * _positions(width, kw, sw, padding, rule=rule)
    return weights + (filters if use_bias else 0), positions * weights


def _conv_params_hint(got: int, case: tuple) -> str:
    """What a wrong parameter count most likely forgot or added."""
    input_shape, filters, (kh, kw), _, _, use_bias = case
    weights, channels = kh * kw * input_shape[2] * filters, input_shape[2]
    bias = filters if use_bias else 0
    positions = _conv_cost(*case)[1] // weights
    if use_bias and got == weights:
        return "it counts the kernel only. Hint: with use_bias=True each filter also learns one more number."
    if not use_bias and got == weights + filters:
        return "it counts a bias although use_bias=False. Hint: without a bias the layer stores only its kernel."
    if got == weights + channels or (use_bias and got == weights + channels * filters):
        return ("the biases are counted per input channel. Hint: a bias is added once to each output value of "
                "a filter, so how many are there?")
    if got in (kh * kw * filters + bias, kh * kw * channels + bias):
        return ("one of the kernel's four axes is missing. Hint: each filter spans the window's height and "
                "width *and every input channel*, and there is one such filter per output channel.")
    if got in (positions * weights + bias, positions * (weights + bias)):
        return ("it counts a separate copy of the weights for every output position. Hint: a convolution "
                "slides the *same* filters over the image (weight sharing): the kernel is stored once.")
    return ("it is not right. Hint: count the entries of the kernel (its shape is kernel height × kernel "
            "width × input channels × filters) and, if use_bias, of the bias vector.")


def _conv_macs_hint(got: int, case: tuple) -> str:
    """What a wrong multiply-add count most likely got wrong: the output positions, or the bias."""
    _, filters, _, strides, padding, use_bias = case
    params, macs = _conv_cost(*case)
    positions = macs // (params - (filters if use_bias else 0))
    if got == macs + positions * filters or got == positions * params:
        return ("it counts the bias as multiply-adds. Hint: a multiply-add is one product added to a sum; "
                "the bias only starts the sum, it multiplies nothing.")
    if got == 2 * macs:
        return ("that counts multiplications and additions separately (FLOPs). Hint: one multiply-add is "
                "one multiplication *and* its addition, counted once.")
    if got == _conv_cost(*case, rule="swapped")[1]:
        return (f"the padding is counted the other way round. Hint: padding={padding!r}: "
                + ("the window must lie entirely inside the image." if padding == "valid" else
                   "zeros are added around the image so that, at stride 1, the output keeps the "
                   "input's height and width."))
    if got == _conv_cost(*case, rule="input")[1]:
        return ("it uses the input's height and width. Hint: the layer computes one value per filter at "
                f"each *output* position; with strides={strides} and padding={padding!r}, how many "
                "positions does the window take?")
    if got in (_conv_cost(*case, rule="no_stride")[1], _conv_cost(*case, rule="floor")[1]):
        return (f"the number of window positions along an axis is off (strides={strides}, "
                f"padding={padding!r}). Hint: the window moves by the stride; draw a row of 5 pixels and "
                "count where a 3-pixel window can sit, at stride 1 and at stride 2, with and without "
                "padding.")
    input_shape, _, (kh, kw), _, _, _ = case
    if got in (positions * kh * kw * filters, positions * kh * kw * input_shape[2]):
        return ("an axis is missing. Hint: at each output position every filter multiplies its whole "
                "window (kernel height × kernel width × input channels) with the input.")
    return ("it is not right. Hint: at each output position, each filter multiplies every weight of "
            "its window once with an input value.")


def _as_pair(value, name: str, call: str) -> tuple[int, int]:
    """The learner's (parameters, multiply-adds), as two whole numbers."""
    require_answer(value, name)
    if not isinstance(value, tuple | list) or len(value) != 2:
        raise AssertionError(f"{name}: {call} returned {value!r}, not a pair. Hint: return "
                             "(parameters, multiply_adds), two whole numbers.")
    return (_as_int(value[0], name, f"the parameters of {call}"),
            _as_int(value[1], name, f"the multiply-adds of {call}"))


def check_conv2d_cost(conv2d_cost: Callable[..., tuple[int, int]]) -> None:
    """Exercise 1.1: (parameters, multiply-adds per image) of a Keras Conv2D layer, from its
    input_shape (height, width, channels), filters, kernel_size, strides, padding and use_bias."""
    name = "Exercise 1.1 (conv2d_cost)"
    for case in _CONV_CASES:
        keys = ("input_shape", "filters", "kernel_size", "strides", "padding", "use_bias")
        kwargs = dict(zip(keys, case, strict=True))
        call = "conv2d_cost(" + ", ".join(f"{k}={v!r}" for k, v in kwargs.items()) + ")"
        params, macs = _as_pair(call_answer(conv2d_cost, name, **kwargs), name, call)
        want_params, want_macs = _conv_cost(*case)
        if (params, macs) == (want_macs, want_params):
            raise AssertionError(f"{name}: {call} returned ({params}, {macs}): the two numbers are swapped. "
                                 "Hint: return (parameters, multiply_adds) in that order.")
        if params != want_params:
            raise AssertionError(f"{name}: {call} gives {params} parameters: {_conv_params_hint(params, case)}")
        if macs != want_macs:
            raise AssertionError(f"{name}: {call} gives {macs} multiply-adds: {_conv_macs_hint(macs, case)}")
    passed(name, "The kernel is stored once and reused at every output position: parameters do not depend "
                 "on the image size, multiply-adds grow with the number of output positions.")


def _payload(widths: list[int], bits: int, *, bias_bits: int = 32, per_tensor: bool = True,
             round_up: bool = True) -> float:
    """Reference payload, and the typical mistakes as variants of it."""
    layers = list(zip(widths[:-1], widths[1:], strict=True))
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
        layers = list(zip(widths[:-1], widths[1:], strict=True))
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
